package net.hydranet.hydraweb;

/**
 * Reads HTTP/1.1 request heads (RFC 9112 §2–§5) from bytes that arrive in pieces, into a reused
 * {@link HttpRequest}, without allocating and within fixed limits: a request line longer than
 * {@code maxRequestLine} is 414, a head longer than {@code maxHead} is 431, whatever else is not a
 * request this server can answer is 400 (or 505 for another major version, 413 for a body, 405 for
 * another method). Bytes already scanned are not scanned again when more arrive, so feeding a head
 * byte by byte costs linear time.
 */
final class RequestParser {
  /** {@link #parse} found no complete head yet. */
  static final int NEED_MORE = 0;

  private static final byte CR = '\r';
  private static final byte LF = '\n';
  private static final boolean[] TOKEN = new boolean[256];

  static {
    for (int c = '0'; c <= '9'; c++) {
      TOKEN[c] = true;
    }
    for (int c = 'a'; c <= 'z'; c++) {
      TOKEN[c] = true;
      TOKEN[c - 32] = true;
    }
    for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
      TOKEN[c] = true;
    }
  }

  private final int maxRequestLine;
  private final int maxHead;

  RequestParser(int maxRequestLine, int maxHead) {
    this.maxRequestLine = maxRequestLine;
    this.maxHead = maxHead;
  }

  /**
   * Parses the head starting at {@code b[from]}, with bytes up to {@code to}. Returns {@link
   * #NEED_MORE}, the head's length in bytes (then {@code r} holds it), or a negated status code.
   */
  int parse(byte[] b, int from, int to, HttpRequest r) {
    int p = from + r.scanned;
    if (r.lineStart < 0) { // RFC 9112 §2.2: ignore at least one empty line before a request
      while (p < to && (b[p] == CR || b[p] == LF)) {
        p++;
      }
      r.leading = p - from;
      if (r.leading > 4) {
        return -400;
      }
      if (p == to) {
        r.scanned = p - from;
        return NEED_MORE;
      }
      r.lineStart = r.leading;
    }
    int lineStart = from + r.lineStart;
    while (p < to) {
      if (b[p] == LF) {
        int lineEnd = p > lineStart && b[p - 1] == CR ? p - 1 : p;
        if (r.requestLineEnd < 0) {
          r.requestLineEnd = p - from;
        } else if (lineEnd == lineStart) {
          return complete(b, from, p + 1 - from, r);
        }
        lineStart = p + 1;
      }
      p++;
    }
    r.scanned = p - from;
    r.lineStart = lineStart - from;
    // The request line's limit excludes its CRLF; while it has not ended, a CR may be pending. The
    // count is exact, so the verdict does not depend on how the bytes arrive: with a head limit
    // equal to the line limit, a line of one byte too many used to be 431 when it arrived in
    // pieces and 414 when it arrived whole (RequestFuzzTest).
    if (r.requestLineEnd < 0
        ? pendingLineLength(b, from, p, r) > maxRequestLine
        : requestLineLength(b, from, r) > maxRequestLine) {
      return -414;
    }
    if (p - from >= maxHead) {
      return -431;
    }
    return NEED_MORE;
  }

  private int complete(byte[] b, int from, int length, HttpRequest r) {
    r.buf = b;
    r.headLength = length;
    int start = from + r.leading;
    int rlEnd = from + r.requestLineEnd; // the LF
    if (requestLineLength(b, from, r) > maxRequestLine) {
      return -414;
    }
    if (length > maxHead) {
      return -431;
    }
    int lineEnd = rlEnd > start && b[rlEnd - 1] == CR ? rlEnd - 1 : rlEnd;
    // request-line = method SP request-target SP HTTP-version
    int p = start;
    while (p < lineEnd && TOKEN[b[p] & 0xff]) {
      p++;
    }
    int methodEnd = p;
    if (methodEnd == start || p == lineEnd || b[p] != ' ') {
      return -400;
    }
    r.method = method(b, start, methodEnd - start);
    int targetStart = ++p;
    while (p < lineEnd && b[p] > 0x20 && b[p] < 0x7f) {
      p++;
    }
    int targetEnd = p;
    if (targetEnd == targetStart || p == lineEnd || b[p] != ' ') {
      return -400;
    }
    int status = version(b, p + 1, lineEnd, r);
    if (status != 0) {
      return -status;
    }
    status = headers(b, rlEnd + 1, from + length, r);
    if (status != 0) {
      return -status;
    }
    if (r.http11 && r.hostCount == 0) { // RFC 9112 §3.2: MUST respond 400
      return -400;
    }
    if (r.transferEncoding || r.contentLength > 0) {
      return -413; // no method we answer takes content; we cannot skip what we will not frame
    }
    status = target(b, targetStart, targetEnd, r.path);
    return status != 0 ? -status : length;
  }

  /** The unfinished request line's length so far, without a CR that may begin its CRLF. */
  private static int pendingLineLength(byte[] b, int from, int p, HttpRequest r) {
    int n = p - from - r.leading;
    return n > 0 && b[p - 1] == CR ? n - 1 : n;
  }

  private static int requestLineLength(byte[] b, int from, HttpRequest r) {
    int lf = from + r.requestLineEnd;
    int start = from + r.leading;
    return (lf > start && b[lf - 1] == CR ? lf - 1 : lf) - start;
  }

  private static int method(byte[] b, int p, int n) {
    if (n == 3 && b[p] == 'G' && b[p + 1] == 'E' && b[p + 2] == 'T') {
      return HttpRequest.GET;
    }
    if (n == 4 && b[p] == 'H' && b[p + 1] == 'E' && b[p + 2] == 'A' && b[p + 3] == 'D') {
      return HttpRequest.HEAD;
    }
    return HttpRequest.OTHER;
  }

  /** HTTP-version = "HTTP/" DIGIT "." DIGIT, then the line ends. */
  private static int version(byte[] b, int p, int end, HttpRequest r) {
    if (end - p != 8
        || b[p] != 'H'
        || b[p + 1] != 'T'
        || b[p + 2] != 'T'
        || b[p + 3] != 'P'
        || b[p + 4] != '/'
        || !digit(b[p + 5])
        || b[p + 6] != '.'
        || !digit(b[p + 7])) {
      return 400;
    }
    if (b[p + 5] != '1') {
      return 505;
    }
    r.http11 = b[p + 7] != '0'; // 1.x with x ≥ 1 speaks at least 1.1 (RFC 9110 §2.5)
    return 0;
  }

  private static boolean digit(byte c) {
    return c >= '0' && c <= '9';
  }

  private static int headers(byte[] b, int p, int end, HttpRequest r) {
    while (p < end) {
      int lf = p;
      while (b[lf] != LF) {
        lf++;
      }
      int lineEnd = lf > p && b[lf - 1] == CR ? lf - 1 : lf;
      if (lineEnd == p) {
        return 0; // the blank line ending the head
      }
      if (b[p] == ' ' || b[p] == '\t') {
        return 400; // obs-fold (RFC 9112 §5.2)
      }
      int colon = p;
      while (colon < lineEnd && TOKEN[b[colon] & 0xff]) {
        colon++;
      }
      if (colon == p || colon == lineEnd || b[colon] != ':') {
        return 400; // no name, a bad name byte, or whitespace before the colon (§5.1)
      }
      int v = colon + 1;
      int ve = lineEnd;
      while (v < ve && (b[v] == ' ' || b[v] == '\t')) {
        v++;
      }
      while (ve > v && (b[ve - 1] == ' ' || b[ve - 1] == '\t')) {
        ve--;
      }
      for (int i = v; i < ve; i++) {
        int c = b[i] & 0xff;
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
          return 400; // CTLs, a bare CR or NUL included (RFC 9110 §5.5)
        }
      }
      int s = field(b, p, colon - p, v, ve, r);
      if (s != 0) {
        return s;
      }
      p = lf + 1;
    }
    return 0;
  }

  private static int field(byte[] b, int n, int nameLength, int v, int ve, HttpRequest r) {
    switch (nameLength) {
      case 4 -> {
        if (named(b, n, "host")) {
          if (++r.hostCount > 1) {
            return 400; // RFC 9112 §3.2: more than one Host is 400
          }
        }
      }
      case 5 -> {
        if (named(b, n, "range")) {
          r.rangeRepeated = r.rangeStart >= 0;
          r.rangeStart = v;
          r.rangeEnd = ve;
        }
      }
      case 8 -> {
        if (named(b, n, "if-range")) {
          r.ifRangeStart = v;
          r.ifRangeEnd = ve;
        }
      }
      case 10 -> {
        if (named(b, n, "connection")) {
          connection(b, v, ve, r);
        }
      }
      case 13 -> {
        if (named(b, n, "if-none-match") && r.ifNoneMatchCount < HttpRequest.MAX_IF_NONE_MATCH) {
          // Beyond the limit the condition is dropped: a 200 in place of a 304 is always right.
          r.ifNoneMatchStart[r.ifNoneMatchCount] = v;
          r.ifNoneMatchEnd[r.ifNoneMatchCount++] = ve;
        }
      }
      case 14 -> {
        if (named(b, n, "content-length")) {
          long len = number(b, v, ve);
          if (len < 0 || (r.contentLength >= 0 && r.contentLength != len)) {
            return 400; // RFC 9112 §6.3: an invalid Content-Length is unrecoverable
          }
          r.contentLength = len;
        }
      }
      case 17 -> {
        if (named(b, n, "if-modified-since")) {
          r.ifModifiedSinceStart = v;
          r.ifModifiedSinceEnd = ve;
        } else if (named(b, n, "transfer-encoding")) {
          r.transferEncoding = true;
        }
      }
      default -> {}
    }
    return 0;
  }

  private static void connection(byte[] b, int p, int end, HttpRequest r) {
    while (p < end) {
      while (p < end && (b[p] == ',' || b[p] == ' ' || b[p] == '\t')) {
        p++;
      }
      int t = p;
      while (p < end && b[p] != ',' && b[p] != ' ' && b[p] != '\t') {
        p++;
      }
      if (p - t == 5 && named(b, t, "close")) {
        r.connectionClose = true;
      } else if (p - t == 10 && named(b, t, "keep-alive")) {
        r.connectionKeepAlive = true;
      }
    }
  }

  /** Case-insensitive: {@code lower} is lower case and as long as the name. */
  private static boolean named(byte[] b, int p, String lower) {
    for (int i = 0; i < lower.length(); i++) {
      int c = b[p + i];
      if (c >= 'A' && c <= 'Z') {
        c += 32;
      }
      if (c != lower.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** Decimal digits only, at most 18; -1 otherwise. */
  static long number(byte[] b, int p, int end) {
    if (p == end || end - p > 18) {
      return -1;
    }
    long v = 0;
    for (int i = p; i < end; i++) {
      if (!digit(b[i])) {
        return -1;
      }
      v = v * 10 + (b[i] - '0');
    }
    return v;
  }

  /**
   * Decodes the target's path into {@code path}: origin-form "/…" or absolute-form
   * "http://authority/…" (RFC 9112 §3.2), percent-decoded, query dropped. A NUL, a bad escape or a
   * "." or ".." segment is 400: the path names a cache key, and such paths name nothing an origin
   * would push.
   */
  private static int target(byte[] b, int p, int end, PathKey path) {
    if (b[p] != '/') {
      int s = schemeEnd(b, p, end);
      if (s < 0) {
        return 400;
      }
      p = s;
      while (p < end && b[p] != '/' && b[p] != '?') {
        p++;
      }
      if (p == end || b[p] == '?') {
        byte[] d = path.array();
        d[0] = '/';
        path.setLength(1);
        return 0;
      }
    }
    byte[] d = path.array();
    int n = 0;
    for (; p < end && b[p] != '?' && b[p] != '#'; p++) {
      byte c = b[p];
      if (c == '%') {
        if (p + 2 >= end) {
          return 400;
        }
        int hi = hex(b[p + 1]);
        int lo = hex(b[p + 2]);
        if (hi < 0 || lo < 0 || (hi | lo) == 0) {
          return 400;
        }
        c = (byte) (hi << 4 | lo);
        p += 2;
      }
      d[n++] = c;
    }
    // Dot segments, after decoding: "/." or "/.." followed by "/" or the end.
    for (int i = 0; i < n; i++) {
      if (d[i] == '/' && i + 1 < n && d[i + 1] == '.') {
        int j = i + 2;
        if (j < n && d[j] == '.') {
          j++;
        }
        if (j == n || d[j] == '/') {
          return 400;
        }
      }
    }
    path.setLength(n);
    return 0;
  }

  /** After "http://" or "https://" (any case), else -1. */
  private static int schemeEnd(byte[] b, int p, int end) {
    int n = end - p;
    if (n > 7 && named(b, p, "http://")) {
      return p + 7;
    }
    if (n > 8 && named(b, p, "https://")) {
      return p + 8;
    }
    return -1;
  }

  private static int hex(byte c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
      return c - 'A' + 10;
    }
    return -1;
  }
}
