package net.hydranet.hydraweb;

/**
 * Reading the Range header (RFC 9110 §14.1.2) and entity-tag lists (§8.8.3, §13.1.2) in place. One
 * range is served as a 206; a list of ranges is ignored (the full 200 is always allowed, §14.2), as
 * is anything that does not parse.
 */
final class Ranges {
  static final int SATISFIABLE = 0;
  static final int IGNORE = -1;
  static final int UNSATISFIABLE = -2;

  private Ranges() {}

  /**
   * The range in {@code b[s..e)} for a representation of {@code length} bytes: {@link #IGNORE},
   * {@link #UNSATISFIABLE}, or first and last byte packed (read with {@link #first}, {@link
   * #last}). Bodies are arrays, so both fit in an int.
   */
  static long parse(byte[] b, int s, int e, long length) {
    if (e - s < 7 || !bytesUnit(b, s)) {
      return IGNORE;
    }
    int p = s + 6;
    for (int i = p; i < e; i++) {
      if (b[i] == ',') {
        return IGNORE;
      }
    }
    long first;
    long last;
    if (b[p] == '-') {
      long suffix = RequestParser.number(b, p + 1, e);
      if (suffix < 0) {
        return IGNORE;
      }
      if (suffix == 0 || length == 0) {
        return UNSATISFIABLE;
      }
      first = Math.max(0, length - suffix);
      last = length - 1;
    } else {
      int dash = p;
      while (dash < e && b[dash] != '-') {
        dash++;
      }
      if (dash == e) {
        return IGNORE;
      }
      first = RequestParser.number(b, p, dash);
      last = dash + 1 == e ? Long.MAX_VALUE : RequestParser.number(b, dash + 1, e);
      if (first < 0 || last < 0 || last < first) {
        return IGNORE;
      }
      if (first >= length) {
        return UNSATISFIABLE;
      }
      last = Math.min(last, length - 1);
    }
    return first << 32 | last;
  }

  static long first(long range) {
    return range >>> 32;
  }

  static long last(long range) {
    return range & 0xffffffffL;
  }

  private static boolean bytesUnit(byte[] b, int p) {
    return (b[p] | 0x20) == 'b'
        && (b[p + 1] | 0x20) == 'y'
        && (b[p + 2] | 0x20) == 't'
        && (b[p + 3] | 0x20) == 'e'
        && (b[p + 4] | 0x20) == 's'
        && b[p + 5] == '=';
  }

  /**
   * True when the If-None-Match list in {@code b[s..e)} is "*" or holds {@code etag} (quoted),
   * compared weakly (a W/ prefix is ignored). A malformed list matches nothing.
   */
  static boolean etagListMatches(byte[] b, int s, int e, byte[] etag) {
    int p = s;
    while (p < e) {
      while (p < e && (b[p] == ',' || b[p] == ' ' || b[p] == '\t')) {
        p++;
      }
      if (p == e) {
        return false;
      }
      if (b[p] == '*') {
        return true;
      }
      if (b[p] == 'W' && p + 1 < e && b[p + 1] == '/') {
        p += 2;
      }
      if (p == e || b[p] != '"') {
        return false;
      }
      int q = p + 1;
      while (q < e && b[q] != '"') {
        q++;
      }
      if (q == e) {
        return false;
      }
      if (q + 1 - p == etag.length && java.util.Arrays.equals(b, p, q + 1, etag, 0, etag.length)) {
        return true;
      }
      p = q + 1;
    }
    return false;
  }
}
