package net.hydranet.hydraweb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** A replica being removed finishes what it is answering and drops only idle connections. */
class DrainTest {
  @Test
  void shouldFinishInFlightResponsesAndCloseIdleConnections() throws Exception {
    HydraWebServer server = new HydraWebServer(new HydraWebServer.Config().threads(2)).start();
    byte[] page = "hello".getBytes(StandardCharsets.US_ASCII);
    server.cache().put(WebObject.of("/page.html", page, "text/html", 784111777L, 1));
    AtomicReference<Miss> pending = new AtomicReference<>();
    CountDownLatch missed = new CountDownLatch(1);
    server.setMissHandler(
        m -> {
          pending.set(m);
          missed.countDown();
        });
    int port = server.localAddress().getPort();
    RawClient busy = new RawClient(server.localAddress());
    try (RawClient idle = new RawClient(server.localAddress())) {
      assertEquals(200, idle.send(RawClient.get("/page.html")).read().status());
      busy.send(RawClient.get("/slow.html"));
      assertTrue(missed.await(5, TimeUnit.SECONDS));

      long start = System.nanoTime();
      CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() -> server.drain(5000));
      // The idle keep-alive connection is closed without a response.
      assertTrue(idle.closedByServer());
      // Nobody new gets in.
      Thread.sleep(200);
      assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close());
      // The request in progress is still answered, and told the connection closes.
      pending.get().serve(WebObject.of("/slow.html", page, "text/plain", 784111777L, 1));
      RawClient.Response r = busy.read();
      assertEquals(200, r.status());
      assertArrayEquals(page, r.body());
      assertEquals("close", r.header("Connection"));
      busy.close(); // as a client does on Connection: close; until then the server lingers
      assertTrue(drained.get(5, TimeUnit.SECONDS), "drained within the time");
      assertTrue(System.nanoTime() - start < 3_000_000_000L);
    } finally {
      busy.close();
      server.close();
    }
  }
}
