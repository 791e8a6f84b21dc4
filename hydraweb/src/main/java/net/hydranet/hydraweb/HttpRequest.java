package net.hydranet.hydraweb;

/**
 * One parsed request head, reused by its connection for every request: the method, version, decoded
 * path and, as offsets into the connection's input bytes, the header values the server acts on.
 * Also the parser's scanning state while a head is incomplete, relative to its first byte so the
 * input buffer may be compacted between reads.
 */
final class HttpRequest {
  static final int GET = 1;
  static final int HEAD = 2;
  static final int OTHER = 3;
  static final int MAX_IF_NONE_MATCH = 8;

  // Scanning state (relative to the first unconsumed byte).
  int scanned;
  int lineStart = -1; // -1: still skipping blank lines before the request line
  int requestLineEnd = -1;
  int leading; // blank-line bytes skipped before the request line

  // Result, valid after a complete parse.
  byte[] buf;
  int headLength; // bytes consumed, leading blank lines included
  int method;
  boolean http11;
  boolean connectionClose;
  boolean connectionKeepAlive;
  int hostCount;
  final PathKey path;
  int ifNoneMatchCount;
  final int[] ifNoneMatchStart = new int[MAX_IF_NONE_MATCH];
  final int[] ifNoneMatchEnd = new int[MAX_IF_NONE_MATCH];
  int ifModifiedSinceStart = -1;
  int ifModifiedSinceEnd;
  int rangeStart = -1;
  int rangeEnd;
  boolean rangeRepeated;
  int ifRangeStart = -1;
  int ifRangeEnd;
  long contentLength = -1;
  boolean transferEncoding;

  HttpRequest(int maxPathBytes) {
    path = PathKey.scratch(maxPathBytes);
  }

  boolean keepAlive() {
    return http11 ? !connectionClose : connectionKeepAlive && !connectionClose;
  }

  boolean isHead() {
    return method == HEAD;
  }

  void reset() {
    scanned = 0;
    lineStart = -1;
    requestLineEnd = -1;
    leading = 0;
    headLength = 0;
    method = 0;
    http11 = false;
    connectionClose = false;
    connectionKeepAlive = false;
    hostCount = 0;
    ifNoneMatchCount = 0;
    ifModifiedSinceStart = -1;
    rangeStart = -1;
    rangeRepeated = false;
    ifRangeStart = -1;
    contentLength = -1;
    transferEncoding = false;
  }
}
