package net.hydranet.hydraweb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RequestParserTest {
  private static final int LINE = 256;
  private static final int HEAD = 1024;
  private final RequestParser parser = new RequestParser(LINE, HEAD);
  private final HttpRequest req = new HttpRequest(LINE);

  private int parse(String s) {
    byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
    req.reset();
    return parser.parse(b, 0, b.length, req);
  }

  private static String value(HttpRequest r, int start, int end) {
    return new String(r.buf, start, end - start, StandardCharsets.ISO_8859_1);
  }

  @Test
  void shouldParseAGetWithItsHeaders() {
    String s =
        "GET /a/b.html?x=1 HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\", W/\"y\"\r\n"
            + "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\nRange:  bytes=0-9 \r\n"
            + "If-Range: \"x\"\r\nConnection: keep-alive, close\r\nX-Other: whatever\r\n\r\n";
    assertEquals(s.length(), parse(s));
    assertEquals(HttpRequest.GET, req.method);
    assertTrue(req.http11);
    assertEquals("/a/b.html", req.path.toString());
    assertEquals("\"x\", W/\"y\"", value(req, req.ifNoneMatchStart[0], req.ifNoneMatchEnd[0]));
    assertEquals(
        "Sun, 06 Nov 1994 08:49:37 GMT",
        value(req, req.ifModifiedSinceStart, req.ifModifiedSinceEnd));
    assertEquals("bytes=0-9", value(req, req.rangeStart, req.rangeEnd));
    assertEquals("\"x\"", value(req, req.ifRangeStart, req.ifRangeEnd));
    assertFalse(req.keepAlive());
  }

  @Test
  void shouldParseHeadHttp10AndBareLineFeeds() {
    assertEquals(19, parse("\r\nHEAD / HTTP/1.0\n\n  extra"));
    assertEquals(HttpRequest.HEAD, req.method);
    assertFalse(req.http11);
    assertFalse(req.keepAlive());
    assertTrue(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") > 0);
    assertTrue(req.keepAlive());
  }

  @Test
  void shouldDecodeTheTarget() {
    assertTrue(parse("GET /a%20b/%C3%A9?q=%00 HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
    assertEquals("/a b/é", req.path.toString());
    assertTrue(parse("GET http://example.com:8080/x/y?z HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
    assertEquals("/x/y", req.path.toString());
    assertTrue(parse("GET HTTP://example.com HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
    assertEquals("/", req.path.toString());
    assertTrue(parse("GET /a/..b/.c HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
    assertEquals("/a/..b/.c", req.path.toString());
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "no Host in 1.1                 | GET / HTTP/1.1\\r\\n\\r\\n                              | 400",
        "two Hosts                      | GET / HTTP/1.1\\r\\nHost: a\\r\\nHost: b\\r\\n\\r\\n     | 400",
        "space before colon             | GET / HTTP/1.1\\r\\nHost : a\\r\\n\\r\\n                 | 400",
        "obs-fold                       | GET / HTTP/1.1\\r\\nHost: a\\r\\n  folded\\r\\n\\r\\n     | 400",
        "no colon                       | GET / HTTP/1.1\\r\\nHost a\\r\\n\\r\\n                   | 400",
        "NUL in a value                 | GET / HTTP/1.1\\r\\nHost: a\\u0000b\\r\\n\\r\\n          | 400",
        "bare CR in a value             | GET / HTTP/1.1\\r\\nHost: a\\rb\\r\\n\\r\\n              | 400",
        "two spaces in request line     | GET  / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n                 | 400",
        "no version                     | GET /\\r\\nHost: a\\r\\n\\r\\n                           | 400",
        "lower-case version             | GET / http/1.1\\r\\nHost: a\\r\\n\\r\\n                  | 400",
        "version with junk              | GET / HTTP/1.1x\\r\\nHost: a\\r\\n\\r\\n                 | 400",
        "HTTP/2.0                       | GET / HTTP/2.0\\r\\nHost: a\\r\\n\\r\\n                  | 505",
        "control byte in target         | GET /a\\u0001b HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n          | 400",
        "non-ASCII in target            | GET /é HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n                 | 400",
        "encoded NUL                    | GET /a%00 HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n              | 400",
        "bad escape                     | GET /a%zz HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n              | 400",
        "truncated escape               | GET /a%2 HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n               | 400",
        "dot-dot segment                | GET /a/../b HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n            | 400",
        "encoded dot-dot                | GET /a/%2e%2E HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n          | 400",
        "dot segment                    | GET /./b HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n               | 400",
        "asterisk for GET               | GET * HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n                  | 400",
        "relative target                | GET a/b HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n                | 400",
        "other scheme                   | GET ftp://x/ HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n           | 400",
        "body by Content-Length         | GET / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 5\\r\\n\\r\\n | 413",
        "chunked body                   | GET / HTTP/1.1\\r\\nHost: a\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n | 413",
        "bad Content-Length             | GET / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 1x\\r\\n\\r\\n | 400",
        "conflicting Content-Lengths    | GET / HTTP/1.1\\r\\nHost: a\\r\\nContent-Length: 0\\r\\nContent-Length: 1\\r\\n\\r\\n | 400",
        "method is not a token          | G(T / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n                  | 400",
        "five blank lines first         | \\r\\n\\r\\n\\r\\nGET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n    | 400",
      })
  void shouldRefuseWhatIsNotARequestWeAnswer(String why, String raw, int status) {
    assertEquals(-status, parse(unescape(raw.strip())), why);
  }

  @Test
  void shouldAnswer414ForALongRequestLineBeforeItEnds() {
    String target = "/" + "a".repeat(LINE);
    String s = "GET " + target;
    assertEquals(-414, parse(s));
    assertEquals(-414, parse("GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n"));
    // just under the limit is fine
    String ok = "GET /" + "a".repeat(LINE - 14) + " HTTP/1.1";
    assertEquals(LINE, ok.length());
    assertTrue(parse(ok + "\r\nHost: a\r\n\r\n") > 0);
  }

  @Test
  void shouldAnswer431WhenTheHeadFillsItsBuffer() {
    StringBuilder s = new StringBuilder("GET / HTTP/1.1\r\nHost: a\r\n");
    while (s.length() < HEAD) {
      s.append("X-Pad: ").append("p".repeat(50)).append("\r\n");
    }
    byte[] b = Arrays.copyOf(s.toString().getBytes(StandardCharsets.US_ASCII), HEAD);
    req.reset();
    assertEquals(-431, parser.parse(b, 0, b.length, req));
  }

  @Test
  void shouldGiveTheSameAnswerByteByByteAsAtOnce() {
    String s =
        "GET /x HTTP/1.1\r\nHost: h\r\nRange: bytes=1-2\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n";
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    req.reset();
    int from = 0;
    int n = 0;
    for (int to = 1; to <= b.length; to++) {
      int r = parser.parse(b, from, to, req);
      if (r == RequestParser.NEED_MORE) {
        continue;
      }
      assertTrue(r > 0);
      n++;
      assertEquals(n == 1 ? "/x" : "/y", req.path.toString());
      from += r;
      req.reset();
    }
    assertEquals(2, n);
    assertEquals(b.length, from);
  }

  @Test
  void shouldScanEachByteOnceWhenFedSlowly() {
    // A slowloris head, one byte at a time: never more than the fixed buffer, and the scan
    // resumes where it stopped (the parser keeps no growing state of its own).
    byte[] b = new byte[HEAD];
    byte[] prefix = "GET / HTTP/1.1\r\nHost: a\r\nX: ".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(prefix, 0, b, 0, prefix.length);
    Arrays.fill(b, prefix.length, b.length, (byte) 'x');
    req.reset();
    for (int to = 1; to < b.length; to++) {
      assertEquals(RequestParser.NEED_MORE, parser.parse(b, 0, to, req));
      assertEquals(to, req.scanned);
    }
    assertEquals(-431, parser.parse(b, 0, b.length, req));
  }

  @Test
  void shouldParseOtherMethodsForA405() {
    assertTrue(parse("POST /x HTTP/1.1\r\nHost: a\r\n\r\n") > 0);
    assertEquals(HttpRequest.OTHER, req.method);
    assertTrue(parse("get /x HTTP/1.1\r\nHost: a\r\n\r\n") > 0); // methods are case-sensitive
    assertEquals(HttpRequest.OTHER, req.method);
    assertEquals(-413, parse("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab"));
  }

  @Test
  void shouldKeepOnlyEightIfNoneMatchFields() {
    String s = "GET / HTTP/1.1\r\nHost: a\r\n" + "If-None-Match: \"a\"\r\n".repeat(12) + "\r\n";
    assertTrue(parse(s) > 0);
    assertEquals(HttpRequest.MAX_IF_NONE_MATCH, req.ifNoneMatchCount);
  }

  private static String unescape(String s) {
    return s.replace("\\r", "\r")
        .replace("\\n", "\n")
        .replace("\\u0000", "\0")
        .replace("\\u0001", "\u0001");
  }
}
