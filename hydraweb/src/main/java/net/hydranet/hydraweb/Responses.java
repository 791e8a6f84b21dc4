package net.hydranet.hydraweb;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** The fixed bytes of responses, encoded once: status lines, connection lines, error responses. */
final class Responses {
  static final String SERVER = "HydraWeb";

  static final byte[] STATUS_200 = ascii("HTTP/1.1 200 OK\r\n");
  static final byte[] STATUS_206 = ascii("HTTP/1.1 206 Partial Content\r\n");
  static final byte[] STATUS_304 = ascii("HTTP/1.1 304 Not Modified\r\n");
  static final byte[] STATUS_416 = ascii("HTTP/1.1 416 Range Not Satisfiable\r\n");
  static final byte[] CONNECTION_CLOSE = ascii("Connection: close\r\n");
  static final byte[] CONNECTION_KEEP_ALIVE = ascii("Connection: keep-alive\r\n");
  static final byte[] DATE_PREFIX = ascii("Date: ");
  static final byte[] CRLF = ascii("\r\n");
  static final byte[] CONTENT_LENGTH = ascii("Content-Length: ");
  static final byte[] CONTENT_RANGE = ascii("Content-Range: bytes ");
  static final byte[] SERVER_LINE = ascii("Server: " + SERVER + "\r\n");
  static final byte[] NO_CONTENT = ascii("Content-Length: 0\r\n\r\n");

  /** An error response's status line, header lines after Date/Connection, and body. */
  record Error(int status, byte[] statusLine, byte[] headers, byte[] body) {}

  private static final Error[] ERRORS = new Error[600];

  static {
    error(400, "Bad Request", "");
    error(403, "Forbidden", "");
    error(404, "Not Found", "");
    error(405, "Method Not Allowed", "Allow: GET, HEAD\r\n");
    error(413, "Content Too Large", "");
    error(414, "URI Too Long", "");
    error(431, "Request Header Fields Too Large", "");
    error(500, "Internal Server Error", "");
    error(502, "Bad Gateway", "");
    error(503, "Service Unavailable", "");
    error(504, "Gateway Timeout", "");
    error(505, "HTTP Version Not Supported", "");
  }

  private static void error(int status, String reason, String extra) {
    byte[] body = ascii(status + " " + reason + "\n");
    ERRORS[status] =
        new Error(
            status,
            ascii("HTTP/1.1 " + status + " " + reason + "\r\n"),
            ascii(
                "Server: "
                    + SERVER
                    + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
                    + body.length
                    + "\r\n"
                    + extra
                    + "\r\n"),
            body);
  }

  static Error error(int status) {
    Error e = status > 0 && status < ERRORS.length ? ERRORS[status] : null;
    return e != null ? e : ERRORS[500];
  }

  /** Statuses after which the connection closes: the request's framing cannot be trusted. */
  static boolean closes(int status) {
    return status == 400 || status == 413 || status == 414 || status == 431 || status == 505;
  }

  private Responses() {}

  /** Writes {@code v} (≥ 0) in decimal. */
  static void putDecimal(ByteBuffer out, long v) {
    if (v < 10) {
      out.put((byte) ('0' + v));
      return;
    }
    int digits = 0;
    for (long t = v; t > 0; t /= 10) {
      digits++;
    }
    int end = out.position() + digits;
    for (int i = end - 1; i >= out.position(); i--) {
      out.put(i, (byte) ('0' + v % 10));
      v /= 10;
    }
    out.position(end);
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
