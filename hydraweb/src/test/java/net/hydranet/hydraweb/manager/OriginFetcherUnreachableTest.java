package net.hydranet.hydraweb.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The origin's web server unreachable in each way a fetch can see it, on loopback: nothing
 * listening (refused: 502), a listener whose accept queue is full (the kernel drops the SYN, as a
 * blackholed address does: connect timeout, 504), and one that accepts but never answers (504) —
 * each within the fetch timeout, and each saying why.
 */
class OriginFetcherUnreachableTest {
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
  private static final Duration TIMEOUT = Duration.ofMillis(600);

  private static OriginFetcher fetcher(int port) {
    return new OriginFetcher(URI.create("http://127.0.0.1:" + port), TIMEOUT, 1 << 20);
  }

  private static long millisSince(long start) {
    return (System.nanoTime() - start) / 1_000_000L;
  }

  @Test
  void shouldAnswer502AtOnceWhenTheOriginRefuses() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, LOOPBACK)) {
      port = s.getLocalPort(); // closed again: nothing listens there now
    }
    long start = System.nanoTime();
    OriginFetcher.Result r = fetcher(port).fetch("/a.html");
    assertEquals(502, r.status());
    assertEquals("connection refused", r.unreachable());
    assertTrue(millisSince(start) < TIMEOUT.toMillis(), "refused at once: " + millisSince(start));
    assertEquals("connection refused", fetcher(port).probe().unreachable());
  }

  @Test
  void shouldAnswer504WhenTheConnectionIsNeverAccepted() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, LOOPBACK)) {
      List<Socket> filling = new ArrayList<>();
      try {
        // Fill the accept queue until a connect times out: later SYNs are dropped, like a
        // blackholed address's.
        for (int i = 0; i < 16; i++) {
          Socket c = new Socket();
          filling.add(c);
          try {
            c.connect(new InetSocketAddress(LOOPBACK, s.getLocalPort()), 200);
          } catch (SocketTimeoutException full) {
            break;
          }
        }
        long start = System.nanoTime();
        OriginFetcher.Result r = fetcher(s.getLocalPort()).fetch("/a.html");
        long took = millisSince(start);
        assertEquals(504, r.status());
        assertEquals("connect timed out", r.unreachable());
        assertTrue(took < TIMEOUT.toMillis() + 1_000, "within the timeout: " + took + " ms");
      } finally {
        for (Socket c : filling) {
          c.close();
        }
      }
    }
  }

  @Test
  void shouldAnswer504WhenTheOriginAcceptsButNeverAnswers() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 50, LOOPBACK)) {
      // The kernel completes the handshake and takes the request; nobody ever reads it.
      long start = System.nanoTime();
      OriginFetcher.Result r = fetcher(s.getLocalPort()).fetch("/a.html");
      long took = millisSince(start);
      assertEquals(504, r.status());
      assertEquals("no answer within 600 ms", r.unreachable());
      assertTrue(
          took >= TIMEOUT.toMillis() - 50 && took < TIMEOUT.toMillis() + 1_000,
          "after the timeout: " + took + " ms");
    }
  }

  @Test
  void shouldCountAnyAnswerAsContact(@TempDir Path docroot) throws Exception {
    try (FakeNginx nginx = new FakeNginx(docroot)) {
      // A cold first exchange can take longer than the short timeout above on a busy machine.
      OriginFetcher f = new OriginFetcher(nginx.base(), Duration.ofSeconds(10), 1 << 20);
      OriginFetcher.Result missing = f.fetch("/nothing-here.html");
      assertEquals(404, missing.status());
      assertNull(missing.unreachable(), "a 404 is an answer");
      assertNull(f.probe().unreachable());
    }
  }
}
