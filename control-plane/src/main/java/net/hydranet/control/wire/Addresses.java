package net.hydranet.control.wire;

/** IPv4 addresses as ints and IPv6 addresses as two longs, for logs and config. */
public final class Addresses {
  private Addresses() {}

  public static String format(int a) {
    return (a >>> 24) + "." + ((a >>> 16) & 0xff) + "." + ((a >>> 8) & 0xff) + "." + (a & 0xff);
  }

  /** Parses dotted quad; throws IllegalArgumentException with the text otherwise. */
  public static int parse(String s) {
    String[] p = s.strip().split("\\.", -1);
    if (p.length != 4) {
      throw new IllegalArgumentException("'" + s + "' is not an IPv4 address");
    }
    int a = 0;
    for (String part : p) {
      if (part.isEmpty() || part.length() > 3 || !part.chars().allMatch(Character::isDigit)) {
        throw new IllegalArgumentException("'" + s + "' is not an IPv4 address");
      }
      int v = Integer.parseInt(part);
      if (v > 255) {
        throw new IllegalArgumentException("'" + s + "' is not an IPv4 address");
      }
      a = (a << 8) | v;
    }
    return a;
  }

  /**
   * Parses an IPv6 address in any RFC 4291 §2.2 text form without a zone or an embedded dotted quad
   * (which no origin of ours needs); throws IllegalArgumentException naming the text.
   *
   * @return {high, low}
   */
  public static long[] parseIpv6(String s) {
    String t = s.strip();
    IllegalArgumentException bad =
        new IllegalArgumentException("'" + s + "' is not an IPv6 address");
    if (t.isEmpty() || t.indexOf(':') < 0 || !t.matches("[0-9A-Fa-f:]+")) {
      throw bad;
    }
    int gap = t.indexOf("::");
    if (gap >= 0 && t.indexOf("::", gap + 1) >= 0) {
      throw bad;
    }
    String[] head;
    String[] tail;
    if (gap >= 0) {
      String h = t.substring(0, gap);
      String l = t.substring(gap + 2);
      head = h.isEmpty() ? new String[0] : h.split(":", -1);
      tail = l.isEmpty() ? new String[0] : l.split(":", -1);
      if (head.length + tail.length > 7) {
        throw bad;
      }
    } else {
      head = t.split(":", -1);
      tail = new String[0];
      if (head.length != 8) {
        throw bad;
      }
    }
    int[] groups = new int[8];
    for (int i = 0; i < head.length; i++) {
      groups[i] = group(head[i], bad);
    }
    for (int i = 0; i < tail.length; i++) {
      groups[8 - tail.length + i] = group(tail[i], bad);
    }
    long high = 0;
    long low = 0;
    for (int i = 0; i < 4; i++) {
      high = high << 16 | groups[i];
      low = low << 16 | groups[i + 4];
    }
    return new long[] {high, low};
  }

  private static int group(String g, IllegalArgumentException bad) {
    if (g.isEmpty() || g.length() > 4) {
      throw bad;
    }
    return Integer.parseInt(g, 16);
  }

  /** RFC 5952's text form: lower case, no leading zeros, the longest run of 2+ zero groups "::". */
  public static String formatIpv6(long high, long low) {
    int[] g = new int[8];
    for (int i = 0; i < 4; i++) {
      g[i] = (int) (high >>> (48 - 16 * i)) & 0xffff;
      g[i + 4] = (int) (low >>> (48 - 16 * i)) & 0xffff;
    }
    int best = -1;
    int bestLength = 1; // RFC 5952 §4.2.2: a single zero group is not shortened
    for (int i = 0; i < 8; ) {
      if (g[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && g[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        best = i;
        bestLength = j - i;
      }
      i = j;
    }
    StringBuilder sb = new StringBuilder(39);
    for (int i = 0; i < 8; i++) {
      if (i == best) {
        sb.append("::");
        i += bestLength - 1;
        continue;
      }
      if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
        sb.append(':');
      }
      sb.append(Integer.toHexString(g[i]));
    }
    return sb.toString();
  }

  /**
   * An address an IPv6 service may have: not in {@code ::/8} (unspecified, loopback, the
   * IPv4-mapped and -compatible forms), not link-local ({@code fe80::/10}), not multicast.
   */
  public static boolean unicastIpv6(long high, long low) {
    int first = (int) (high >>> 56) & 0xff;
    return first != 0 && first != 0xff && (high >>> 54) != (0xfe80L >>> 6);
  }

  public static String protocol(int p) {
    return p == 6 ? "tcp" : p == 17 ? "udp" : Integer.toString(p);
  }
}
