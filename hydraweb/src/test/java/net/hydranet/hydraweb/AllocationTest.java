package net.hydranet.hydraweb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The claim that a hit allocates nothing on the event loop, measured. */
class AllocationTest {
  @Test
  void shouldAllocateAlmostNothingPerHitOnTheEventLoop() throws Exception {
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    try (HydraWebServer server = new HydraWebServer(new HydraWebServer.Config()).start()) {
      byte[] page = new byte[1200];
      server.cache().put(WebObject.of("/page.html", page, "text/html", 784111777L, 1));
      server.cache().put(WebObject.of("/other.html", page, "text/html", 784111777L, 1));
      long loop = server.loopThreads().get(0).getId();
      try (Socket s = new Socket("127.0.0.1", server.localAddress().getPort())) {
        s.setTcpNoDelay(true);
        OutputStream out = s.getOutputStream();
        InputStream in = s.getInputStream();
        byte[] request =
            ("GET /page.html HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"x\"\r\n\r\n"
                    + "GET /other.html HTTP/1.1\r\nHost: a\r\nRange: bytes=0-99\r\n\r\n"
                    + "GET /page.html HTTP/1.1\r\nHost: a\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII);
        int responseBytes = exchange(out, in, request, -1);
        for (int i = 0; i < 20_000; i++) { // warm up: JIT, the JDK's temporary direct buffers
          exchange(out, in, request, responseBytes);
        }
        long before = mx.getThreadAllocatedBytes(loop);
        int n = 20_000;
        for (int i = 0; i < n; i++) {
          exchange(out, in, request, responseBytes);
        }
        long perRequest = (mx.getThreadAllocatedBytes(loop) - before) / (3L * n);
        // Selector wake-ups may allocate a little; a String per request would be 48+ bytes.
        assertTrue(perRequest < 16, perRequest + " bytes allocated per request on the loop");
      }
      assertEquals(0, server.cache().stats().misses());
    }
  }

  /**
   * Sends three pipelined requests (304, 206, 200) and reads the responses (their total length,
   * once known).
   */
  private static int exchange(OutputStream out, InputStream in, byte[] request, int expected)
      throws IOException {
    out.write(request);
    if (expected > 0) {
      byte[] b = in.readNBytes(expected);
      if (b.length != expected) {
        throw new IOException("short read");
      }
      return expected;
    }
    // First time: read the responses by their Content-Length.
    int total = 0;
    for (int r = 0; r < 3; r++) {
      StringBuilder head = new StringBuilder();
      while (!head.toString().endsWith("\r\n\r\n")) {
        head.append((char) in.read());
      }
      String h = head.toString();
      int i = h.indexOf("Content-Length: ") + 16;
      int len = Integer.parseInt(h.substring(i, h.indexOf('\r', i)));
      in.readNBytes(len);
      total += h.length() + len;
    }
    return total;
  }
}
