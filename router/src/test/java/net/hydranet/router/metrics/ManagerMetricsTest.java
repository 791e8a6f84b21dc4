package net.hydranet.router.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.hydranet.hydraweb.channel.AppCodec;
import net.hydranet.hydraweb.channel.AppMessage;
import net.hydranet.hydraweb.manager.HostServerLink;
import net.hydranet.hydraweb.manager.ManagerConfig;
import net.hydranet.hydraweb.manager.ReplicaManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real replica manager against a scripted host server link: after an install, a pre-heat, a miss
 * and the replica's hit reports, a scrape of {@code /metrics} shows each under its name and value.
 */
class ManagerMetricsTest {
  private static final Pattern SERIES =
      Pattern.compile("(?m)^(hydranet_[a-z_]+)(?:\\{([^}]*)\\})? (\\S+)$");

  /** Hits: 2 within 10 µs, 1 more within 20 µs; 3.5 µs + 2 × 4 µs + 15 µs in all. */
  private static final AppMessage.Latency HIT_LATENCY =
      new AppMessage.Latency(new long[] {10_000, 20_000}, new long[] {2, 3}, 3, 26_500);

  /** Misses: none within 1 ms, 2 within 5 ms. */
  private static final AppMessage.Latency MISS_LATENCY =
      new AppMessage.Latency(new long[] {1_000_000, 5_000_000}, new long[] {0, 2}, 2, 7_000_000);

  @TempDir Path tmp;
  private final ExecutorService replicaThread = Executors.newSingleThreadExecutor();
  private HttpServer origin;
  private ReplicaManager manager;
  private MetricsEndpoint endpoint;

  @AfterEach
  void tearDown() {
    if (endpoint != null) {
      endpoint.close();
    }
    if (manager != null) {
      manager.close();
    }
    if (origin != null) {
      origin.stop(0);
    }
    replicaThread.shutdownNow();
  }

  /**
   * A host server whose one replica acknowledges every push and reports 3 hits on /a.html, 2 misses
   * and 5 requests whenever it is asked.
   */
  private final class ScriptedLink implements HostServerLink {
    private final Listener listener;

    ScriptedLink(Listener listener) {
      this.listener = listener;
    }

    @Override
    public Reply install(String name, byte[] jar, byte[] signature, Duration timeout) {
      return new Reply(true, "installed");
    }

    @Override
    public Reply remove(String name, long drainMillis, Duration timeout) {
      return new Reply(true, "removed");
    }

    @Override
    public List<Status> status(String name, Duration timeout) {
      return List.of();
    }

    @Override
    public void sendApp(String replica, byte[] payload) throws IOException {
      AppMessage m;
      try {
        m = AppCodec.decode(payload);
      } catch (Exception e) {
        throw new IOException(e);
      }
      AppMessage reply = null;
      if (m instanceof AppMessage.HitsQuery q) {
        reply = new AppMessage.Hits(q.id(), Map.of("/a.html", 3L), 2, 5, HIT_LATENCY, MISS_LATENCY);
      } else if (m instanceof AppMessage.Put p) {
        reply = new AppMessage.Ack(p.id(), AppMessage.STORED);
      } else if (m instanceof AppMessage.Delete d) {
        reply = new AppMessage.Ack(d.id(), AppMessage.STORED);
      }
      if (reply != null) {
        byte[] bytes = AppCodec.encode(reply);
        replicaThread.execute(() -> listener.onApp(replica, bytes));
      }
    }

    void miss(String replica, long id, String path) {
      byte[] bytes = AppCodec.encode(new AppMessage.Miss(id, path, false));
      replicaThread.execute(() -> listener.onApp(replica, bytes));
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }

  @Test
  void shouldExportTheManagersCountersAndEachReplicasFigures() throws Exception {
    Path www = Files.createDirectories(tmp.resolve("www"));
    Files.writeString(www.resolve("index.html"), "home");
    Files.writeString(www.resolve("a.html"), "A");
    Files.createDirectories(www.resolve("sub"));
    Files.writeString(www.resolve("sub/b.html"), "B");
    origin = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    origin.createContext(
        "/",
        x -> {
          byte[] body = "B".getBytes(StandardCharsets.US_ASCII);
          x.sendResponseHeaders(200, body.length);
          x.getResponseBody().write(body);
          x.close();
        });
    origin.start();
    ManagerConfig config =
        ManagerConfig.builder()
            .managerAddress(InetAddress.getByName("198.18.2.100"))
            .docroot(www)
            .webServer(URI.create("http://127.0.0.1:" + origin.getAddress().getPort()))
            .hostServer(new InetSocketAddress("198.18.1.20", 6227), null)
            .bundle(
                Files.write(tmp.resolve("b.jar"), new byte[] {'P', 'K'}),
                Files.write(tmp.resolve("b.jar.sig"), new byte[64]))
            .preheat("*.html")
            .namePrefix("web")
            .drainMillis(100)
            .build();
    ScriptedLink[] link = new ScriptedLink[1];
    manager =
        new ReplicaManager(
                config,
                (hs, listener) -> link[0] = new ScriptedLink(listener),
                () -> 42.0,
                System::currentTimeMillis)
            .start();
    endpoint = MetricsEndpoint.start("127.0.0.1:0");
    ManagerMetrics.bind(endpoint.registry(), manager);

    String name = manager.install(0);
    assertEquals("web-1", name);
    await("the pre-heat", () -> manager.isPreheated(name));
    // /, /index.html and /a.html pushed and acknowledged; /sub/ is not pre-heated.
    assertEquals(3, value("hydranet_manager_pushes_sent_total", "kind=\"put\""));
    assertEquals(3, value("hydranet_manager_acks_total", "result=\"stored\""));
    assertNotNull(link[0]);
    link[0].miss(name, 7, "/sub/b.html");
    await(
        "the miss answered",
        () -> value("hydranet_manager_miss_answers_total", "status=\"200\"") == 1);
    String replica = "replica=\"web-1\",host_server=\"198.18.1.20\"";
    await("hits reported", () -> value("hydranet_hydraweb_replica_hits_total", replica) == 3);

    String text = scrapeOverHttp();
    assertEquals(1, value(text, "hydranet_manager_installs_total", ""));
    // The answered miss is cached, and from then on kept hot: pushed too.
    assertTrue(value(text, "hydranet_manager_pushes_sent_total", "kind=\"put\"") >= 3, text);
    assertEquals(0, value(text, "hydranet_manager_pushes_sent_total", "kind=\"delete\""));
    assertEquals(1, value(text, "hydranet_manager_misses_total", ""));
    assertEquals(0, value(text, "hydranet_manager_miss_answers_total", "status=\"error\""));
    assertEquals(2, value(text, "hydranet_hydraweb_replica_misses_total", replica));
    assertEquals(5, value(text, "hydranet_hydraweb_replica_requests_total", replica));
    assertEquals(1, value(text, "hydranet_manager_replicas", ""));
    assertEquals(1, value(text, "hydranet_manager_host_servers_connected", ""));
    await(
        "a load sample", () -> value("hydranet_manager_origin_load_requests_per_second", "") == 42);

    // Bounded labels only: never a client address, a path or a replica's own figure as a label.
    Set<String> allowed = Set.of("result", "status", "kind", "replica", "host_server");
    Matcher m = SERIES.matcher(text);
    int series = 0;
    while (m.find()) {
      series++;
      if (m.group(2) != null) {
        for (String pair : m.group(2).split(",")) {
          String label = pair.substring(0, pair.indexOf('='));
          assertTrue(allowed.contains(label), "label " + label + " on " + m.group());
        }
      }
    }
    assertTrue(series >= 30, "series: " + series);

    // A removed replica's series go with it.
    assertTrue(manager.remove(name));
    assertEquals(-1, value(endpoint.scrape(), "hydranet_hydraweb_replica_hits_total", replica));
    assertEquals(1, value(endpoint.scrape(), "hydranet_manager_removes_total", ""));
  }

  private String scrapeOverHttp() throws Exception {
    InetSocketAddress a = endpoint.address();
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.getPort() + "/metrics"))
                    .timeout(Duration.ofSeconds(10))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    return r.body();
  }

  private double value(String name, String labels) {
    return value(endpoint.scrape(), name, labels);
  }

  /** The value of the series {@code name{labels}} in a scrape, or -1 when it is absent. */
  static double value(String scrape, String name, String labels) {
    Matcher m = SERIES.matcher(scrape);
    while (m.find()) {
      String l = m.group(2) == null ? "" : m.group(2).replaceAll(",$", "");
      if (m.group(1).equals(name) && l.equals(labels)) {
        return Double.parseDouble(m.group(3));
      }
    }
    return -1;
  }

  private void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + 15_000_000_000L;
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "timed out waiting for " + what + "\n" + manager.snapshot() + endpoint.scrape());
      }
      Thread.sleep(20);
    }
  }
}
