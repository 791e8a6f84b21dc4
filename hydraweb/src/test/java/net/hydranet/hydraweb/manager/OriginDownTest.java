package net.hydranet.hydraweb.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The origin's web server fails under a running replica (issue 20, item 5; the paper, section 5:
 * the caches take over): the replica keeps serving what it holds, misses get a clear 502 or 504
 * within the fetch timeout — at once while the origin is known down — and the manager's view and
 * counters say the origin is down, and since when. The manager runs against an in-memory host
 * server with real replicas, and a fake nginx that is stopped, or a socket that never answers.
 */
class OriginDownTest {
  @TempDir Path tmp;

  private Path docroot;
  private FakeNginx nginx;
  private InMemoryHostServer hostServer;
  private ReplicaManager manager;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void setUp() throws Exception {
    docroot = Files.createDirectories(tmp.resolve("www"));
    write("index.html", "home");
    write("a.html", "A");
    write("sub/b.html", "B");
    nginx = new FakeNginx(docroot);
    hostServer = new InMemoryHostServer(Files.createDirectories(tmp.resolve("hs")), 0);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (manager != null) {
      manager.close();
    }
    hostServer.closeAll();
    nginx.close();
  }

  private void write(String rel, String text) throws Exception {
    Path f = docroot.resolve(rel);
    Files.createDirectories(f.getParent());
    Files.writeString(f, text);
  }

  private String start(URI webServer, Duration fetchTimeout, Duration probe) throws Exception {
    Path jar = Files.write(tmp.resolve("hydraweb.jar"), new byte[] {'P', 'K'});
    Path sig = Files.write(tmp.resolve("hydraweb.jar.sig"), new byte[64]);
    ManagerConfig config =
        ManagerConfig.builder()
            .managerAddress(InetAddress.getByName("198.18.2.10"))
            .docroot(docroot)
            .webServer(webServer)
            .hostServer(new InetSocketAddress("198.18.1.20", 6227), null)
            .bundle(jar, sig)
            .drainMillis(100)
            .preheat("index.html")
            .fetchTimeout(fetchTimeout)
            .originProbeInterval(probe)
            .placement(
                new PlacementPolicy.Settings(
                    1e9, Duration.ZERO, 0, Duration.ZERO, Duration.ZERO, 1, 1))
            .build();
    manager = new ReplicaManager(config, hostServer, LoadSource.NONE, System::currentTimeMillis);
    manager.start();
    await("an installed replica", () -> !manager.replicaNames().isEmpty());
    String name = manager.replicaNames().get(0);
    await("pre-heat", () -> manager.isPreheated(name));
    return name;
  }

  private HttpResponse<String> get(String name, String path) throws Exception {
    int port = hostServer.replica(name).server.localAddress().getPort();
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(20))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + 15_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  private static long millisSince(long start) {
    return (System.nanoTime() - start) / 1_000_000L;
  }

  @Test
  void shouldServeWhatItHoldsAndAnswerMisses502WhileTheOriginRefuses() throws Exception {
    String name = start(nginx.base(), Duration.ofSeconds(5), Duration.ofSeconds(5));
    assertEquals("A", get(name, "/a.html").body(), "a miss answered, and kept");
    await("the origin up", () -> manager.origin().state().equals("up"));
    long lastContact = manager.origin().lastContactMillis();

    nginx.close(); // nothing listens on its port any more: connection refused

    assertEquals("home", get(name, "/").body(), "pre-heated: served");
    assertEquals("A", get(name, "/a.html").body(), "kept from the miss: served");
    long start = System.nanoTime();
    HttpResponse<String> miss = get(name, "/sub/b.html");
    long took = millisSince(start);
    assertEquals(502, miss.statusCode());
    assertTrue(took < 2_000, "a refused origin is a 502 at once, took " + took + " ms");

    ReplicaManager.OriginStatus o = manager.origin();
    assertTrue(o.down(), o.toString());
    // Refused; or, had the client's kept-alive connection been used first, the reset it met.
    assertTrue(o.failure() != null && !o.failure().isBlank(), o.toString());
    assertEquals(502, o.status());
    assertEquals(lastContact, o.lastContactMillis(), "the last answer is remembered");
    assertTrue(manager.snapshot().contains("DOWN"), manager.snapshot());
    assertTrue(manager.snapshot().contains(o.failure()), manager.snapshot());
    assertEquals(1, manager.counter(ManagerCounter.ORIGIN_DOWN_EVENTS));

    // Within the retry interval, the next miss does not even try.
    start = System.nanoTime();
    assertEquals(502, get(name, "/sub/b.html").statusCode());
    assertTrue(millisSince(start) < 2_000);
    assertTrue(manager.counter(ManagerCounter.ANSWERS_ORIGIN_DOWN) >= 1);
    assertEquals("A", get(name, "/a.html").body(), "and the cache still serves");
  }

  @Test
  void shouldAnswerMisses504WithinTheFetchTimeoutWhenTheOriginNeverAnswers() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      URI webServer = URI.create("http://127.0.0.1:" + silent.getLocalPort());
      String name = start(webServer, Duration.ofMillis(800), Duration.ofSeconds(5));

      assertEquals("home", get(name, "/").body(), "pre-heated: served without the origin");
      long start = System.nanoTime();
      HttpResponse<String> miss = get(name, "/a.html");
      long took = millisSince(start);
      assertEquals(504, miss.statusCode());
      assertTrue(took < 800 + 2_000, "bounded by the fetch timeout, took " + took + " ms");

      await("the origin down", () -> manager.origin().down());
      ReplicaManager.OriginStatus o = manager.origin();
      assertEquals(504, o.status());
      assertEquals("no answer within 800 ms", o.failure());
      assertEquals(-1, o.lastContactMillis(), "never answered");
      assertTrue(manager.snapshot().contains("DOWN"), manager.snapshot());
    }
  }

  @Test
  void shouldProbeASilentOriginAndSeeItComeBack() throws Exception {
    String name = start(nginx.base(), Duration.ofSeconds(2), Duration.ofMillis(300));
    // No miss at all: the probe alone finds the origin up.
    await("the probe's contact", () -> manager.origin().state().equals("up"));
    assertTrue(manager.counter(ManagerCounter.ORIGIN_PROBES) >= 1);
    int port = nginx.base().getPort();
    nginx.close();
    await("the probe sees it down", () -> manager.origin().down());
    // Back on the same port.
    nginx = new FakeNginx(docroot, port);
    await("the probe sees it back", () -> manager.origin().state().equals("up"));
    assertEquals(1, manager.counter(ManagerCounter.ORIGIN_UP_EVENTS));
    assertEquals("B", get(name, "/sub/b.html").body(), "misses reach the origin again");
  }
}
