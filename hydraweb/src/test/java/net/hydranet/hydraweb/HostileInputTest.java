package net.hydranet.hydraweb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Mutated and random requests: the parser never throws, the server keeps serving. */
class HostileInputTest {
  private static final String[] SEEDS = {
    "GET /a/b.html?x=1 HTTP/1.1\r\nHost: h\r\nRange: bytes=1-5\r\nIf-None-Match: \"x\"\r\n\r\n",
    "HEAD http://h:80/%41%42 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
        + "If-Range: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\n\r\n",
  };
  private static final Set<Integer> STATUSES = Set.of(400, 413, 414, 431, 505);

  @Test
  void shouldParseMutatedRequestsWithoutThrowing() {
    Random rnd = new Random(42);
    RequestParser parser = new RequestParser(128, 512);
    HttpRequest req = new HttpRequest(128);
    byte[] alphabet =
        " \r\n:%/.-=,\"\tGETHOSbytes0123456789\u0000\u007f\u00ff"
            .getBytes(StandardCharsets.ISO_8859_1);
    for (int i = 0; i < 300_000; i++) {
      byte[] b = SEEDS[rnd.nextInt(SEEDS.length)].getBytes(StandardCharsets.ISO_8859_1);
      b = java.util.Arrays.copyOf(b, Math.min(512, b.length + rnd.nextInt(8)));
      int mutations = 1 + rnd.nextInt(6);
      for (int m = 0; m < mutations; m++) {
        int at = rnd.nextInt(b.length);
        b[at] = rnd.nextBoolean() ? alphabet[rnd.nextInt(alphabet.length)] : (byte) rnd.nextInt();
      }
      // fed in two pieces, as a network would
      int cut = rnd.nextInt(b.length + 1);
      req.reset();
      int r = parser.parse(b, 0, cut, req);
      if (r == RequestParser.NEED_MORE) {
        r = parser.parse(b, 0, b.length, req);
      }
      assertTrue(
          r >= 0 || STATUSES.contains(-r),
          "status " + -r + " for " + new String(b, 0, b.length, StandardCharsets.ISO_8859_1));
      if (r > 0) {
        assertTrue(r <= b.length);
        assertTrue(req.path.length() >= 1 && req.path.byteAt(0) == '/');
        if (req.rangeStart >= 0) {
          Ranges.parse(req.buf, req.rangeStart, req.rangeEnd, 1000);
        }
        for (int k = 0; k < req.ifNoneMatchCount; k++) {
          Ranges.etagListMatches(
              req.buf, req.ifNoneMatchStart[k], req.ifNoneMatchEnd[k], new byte[] {'"', '"'});
        }
        if (req.ifModifiedSinceStart >= 0) {
          HttpDate.parse(
              req.buf, req.ifModifiedSinceStart, req.ifModifiedSinceEnd - req.ifModifiedSinceStart);
        }
      }
    }
  }

  @Test
  void shouldKeepServingWhileClientsSendGarbage() throws Exception {
    try (HydraWebServer server =
        new HydraWebServer(new HydraWebServer.Config().threads(2).headerTimeoutMillis(300))
            .start()) {
      byte[] page = "ok".getBytes(StandardCharsets.US_ASCII);
      server.cache().put(WebObject.of("/ok", page, "text/plain", 0, 1));
      Random rnd = new Random(7);
      for (int i = 0; i < 200; i++) {
        try (Socket s = new Socket("127.0.0.1", server.localAddress().getPort())) {
          OutputStream out = s.getOutputStream();
          byte[] junk = new byte[rnd.nextInt(20_000)];
          rnd.nextBytes(junk);
          if (rnd.nextBoolean()) { // a plausible start, then junk
            out.write("GET /ok HTTP/1.1\r\nHost: a\r\n".getBytes(StandardCharsets.US_ASCII));
          }
          out.write(junk);
          out.flush();
        } catch (IOException e) {
          // the server may close on us mid-write
        }
      }
      try (RawClient c = new RawClient(server.localAddress())) {
        assertArrayEquals(page, c.send(RawClient.get("/ok")).read().body());
      }
      for (int i = 0; i < 50 && server.connections() > 1; i++) {
        Thread.sleep(100);
      }
      assertTrue(server.connections() <= 1, server.connections() + " connections left open");
      for (Thread loop : server.loopThreads()) {
        assertTrue(loop.isAlive(), loop.getName());
      }
    }
  }
}
