package net.hydranet.hydraweb;

import java.nio.charset.StandardCharsets;

/**
 * HTTP dates in the IMF-fixdate form of RFC 9110 §5.6.7 ("Sun, 06 Nov 1994 08:49:37 GMT"), written
 * and read as ASCII bytes without allocating, because the server writes one per response.
 */
public final class HttpDate {
  /** Every IMF-fixdate is this long. */
  public static final int LENGTH = 29;

  private static final byte[] DAYS = "ThuFriSatSunMonTueWed".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] MONTHS =
      "JanFebMarAprMayJunJulAugSepOctNovDec".getBytes(StandardCharsets.US_ASCII);

  private HttpDate() {}

  /** Writes {@code epochSeconds} (not before 1970) as IMF-fixdate at {@code dst[offset]}. */
  public static void format(long epochSeconds, byte[] dst, int offset) {
    long days = Math.floorDiv(epochSeconds, 86_400L);
    int secOfDay = (int) Math.floorMod(epochSeconds, 86_400L);
    int dow = (int) Math.floorMod(days, 7L); // 1970-01-01 was a Thursday: index 0 of DAYS
    // Civil-from-days (H. Hinnant's algorithm), proleptic Gregorian.
    long z = days + 719_468L;
    long era = Math.floorDiv(z, 146_097L);
    long doe = z - era * 146_097L;
    long yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    int day = (int) (doy - (153 * mp + 2) / 5 + 1);
    int month = (int) (mp < 10 ? mp + 3 : mp - 9);
    long year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    int p = offset;
    dst[p++] = DAYS[dow * 3];
    dst[p++] = DAYS[dow * 3 + 1];
    dst[p++] = DAYS[dow * 3 + 2];
    dst[p++] = ',';
    dst[p++] = ' ';
    p = two(day, dst, p);
    dst[p++] = ' ';
    dst[p++] = MONTHS[(month - 1) * 3];
    dst[p++] = MONTHS[(month - 1) * 3 + 1];
    dst[p++] = MONTHS[(month - 1) * 3 + 2];
    dst[p++] = ' ';
    p = two((int) (year / 100 % 100), dst, p);
    p = two((int) (year % 100), dst, p);
    dst[p++] = ' ';
    p = two(secOfDay / 3600, dst, p);
    dst[p++] = ':';
    p = two(secOfDay / 60 % 60, dst, p);
    dst[p++] = ':';
    p = two(secOfDay % 60, dst, p);
    dst[p++] = ' ';
    dst[p++] = 'G';
    dst[p++] = 'M';
    dst[p] = 'T';
  }

  /** The IMF-fixdate of {@code epochSeconds} as a new array. */
  public static byte[] format(long epochSeconds) {
    byte[] b = new byte[LENGTH];
    format(epochSeconds, b, 0);
    return b;
  }

  /**
   * Reads an IMF-fixdate at {@code b[offset..offset+length)}; -1 if it is not one. The obsolete RFC
   * 850 and asctime forms are not read: a caller that cannot read a date ignores the condition,
   * which can only turn a 304 into a full 200 (RFC 9110 §13.1.3 allows ignoring an invalid date).
   */
  public static long parse(byte[] b, int offset, int length) {
    if (length != LENGTH
        || b[offset + 3] != ','
        || b[offset + 4] != ' '
        || b[offset + 7] != ' '
        || b[offset + 11] != ' '
        || b[offset + 16] != ' '
        || b[offset + 19] != ':'
        || b[offset + 22] != ':'
        || b[offset + 25] != ' '
        || b[offset + 26] != 'G'
        || b[offset + 27] != 'M'
        || b[offset + 28] != 'T') {
      return -1;
    }
    int day = digits(b, offset + 5, 2);
    int month = month(b, offset + 8);
    int year = digits(b, offset + 12, 4);
    int hour = digits(b, offset + 17, 2);
    int minute = digits(b, offset + 20, 2);
    int second = digits(b, offset + 23, 2);
    // second 60: a leap second is a valid time of day (RFC 9110 §5.6.7).
    if (day < 1 || day > 31 || month < 0 || year < 1970 || (hour | minute | second) < 0) {
      return -1;
    }
    if (hour > 23 || minute > 59 || second > 60) {
      return -1;
    }
    long days = daysFromCivil(year, month + 1, day);
    return days * 86_400L + hour * 3600L + minute * 60L + second;
  }

  private static long daysFromCivil(long y, int m, int d) {
    y -= m <= 2 ? 1 : 0;
    long era = Math.floorDiv(y, 400L);
    long yoe = y - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146_097L + doe - 719_468L;
  }

  private static int month(byte[] b, int p) {
    for (int i = 0; i < 12; i++) {
      if (MONTHS[i * 3] == b[p] && MONTHS[i * 3 + 1] == b[p + 1] && MONTHS[i * 3 + 2] == b[p + 2]) {
        return i;
      }
    }
    return -1;
  }

  private static int digits(byte[] b, int p, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) {
      int c = b[p + i] - '0';
      if (c < 0 || c > 9) {
        return -10_000; // any field check then fails
      }
      v = v * 10 + c;
    }
    return v;
  }

  private static int two(int v, byte[] dst, int p) {
    dst[p] = (byte) ('0' + v / 10);
    dst[p + 1] = (byte) ('0' + v % 10);
    return p + 2;
  }
}
