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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.hydranet.hydraweb.LatencyHistogram;
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

    await(
        "latency reported",
        () ->
            value(
                    "hydranet_hydraweb_replica_request_duration_seconds_count",
                    replica + ",result=\"miss\"")
                == 2);

    String text = scrapeOverHttp();
    // The replica's histograms, as real Prometheus histograms: its bounds in seconds.
    Map<String, Histogram> h = histograms(text, DURATION);
    assertEquals(Set.of("web-1/hit", "web-1/miss"), h.keySet(), text);
    assertEquals(List.of(1e-5, 2e-5, Double.POSITIVE_INFINITY), h.get("web-1/hit").le());
    assertEquals(List.of(2.0, 3.0, 3.0), h.get("web-1/hit").counts());
    assertEquals(3, h.get("web-1/hit").count());
    assertEquals(26.5e-6, h.get("web-1/hit").sum(), 1e-12);
    assertEquals(List.of(0.001, 0.005, Double.POSITIVE_INFINITY), h.get("web-1/miss").le());
    assertEquals(List.of(0.0, 2.0, 2.0), h.get("web-1/miss").counts());
    assertEquals(0.007, h.get("web-1/miss").sum(), 1e-12);
    assertTrue(
        text.contains("# TYPE " + DURATION + " histogram"), "declared a histogram:\n" + text);
    // The manager's own times: the miss's fetch, and each PUT until ACKed, in the same buckets.
    assertEquals(1, value(text, "hydranet_manager_origin_fetch_duration_seconds_count", ""));
    double puts = value(text, "hydranet_manager_push_duration_seconds_count", "kind=\"put\"");
    assertTrue(puts >= 3, text);
    assertEquals(
        puts,
        value(text, "hydranet_manager_push_duration_seconds_bucket", "kind=\"put\",le=\"10.0\""),
        "every push within 10 s");
    assertEquals(0, value(text, "hydranet_manager_push_duration_seconds_count", "kind=\"delete\""));
    assertEquals(
        20,
        text.lines()
            .filter(l -> l.startsWith("hydranet_manager_origin_fetch_duration_seconds_bucket{"))
            .count(),
        "19 bounds and +Inf");
    assertEquals(1, value(text, "hydranet_manager_installs_total", ""));
    // The answered miss is cached, and from then on kept hot: pushed too.
    assertTrue(value(text, "hydranet_manager_pushes_sent_total", "kind=\"put\"") >= 3, text);
    assertEquals(0, value(text, "hydranet_manager_pushes_sent_total", "kind=\"delete\""));
    assertEquals(1, value(text, "hydranet_manager_misses_total", ""));
    assertEquals(0, value(text, "hydranet_manager_miss_answers_total", "status=\"error\""));
    // The origin answered the miss: up, and when.
    assertEquals(1, value(text, "hydranet_manager_origin_up", ""));
    double contact = value(text, "hydranet_manager_origin_last_contact_timestamp_seconds", "");
    assertTrue(Math.abs(contact - System.currentTimeMillis() / 1000.0) < 60, text);
    assertEquals(0, value(text, "hydranet_manager_miss_answers_total", "status=\"origin_down\""));
    assertEquals(2, value(text, "hydranet_hydraweb_replica_misses_total", replica));
    assertEquals(5, value(text, "hydranet_hydraweb_replica_requests_total", replica));
    assertEquals(1, value(text, "hydranet_manager_replicas", ""));
    assertEquals(1, value(text, "hydranet_manager_host_servers_connected", ""));
    await(
        "a load sample", () -> value("hydranet_manager_origin_load_requests_per_second", "") == 42);

    // Bounded labels only: never a client address, a path or a replica's own figure as a label.
    // hydranet_build_info's version, revision and java_version are one series per process.
    Set<String> allowed =
        Set.of(
            "result",
            "status",
            "kind",
            "replica",
            "host_server",
            "le",
            "version",
            "revision",
            "java_version");
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

  @Test
  void shouldExportEachReplicasLatencyAsAValidPrometheusHistogram() throws Exception {
    long[] bounds = LatencyHistogram.boundsNanos();
    long[] hits = new long[bounds.length];
    long[] misses = new long[bounds.length];
    for (int i = 0; i < bounds.length; i++) {
      hits[i] = 100 + 10L * i; // 100 at or under 10 µs, 10 more in each bucket above
      misses[i] = i < 10 ? 0 : 1 + i;
    }
    AppMessage.Latency hit = new AppMessage.Latency(bounds, hits, hits[18] + 4, 3_000_000_000L);
    AppMessage.Latency miss = new AppMessage.Latency(bounds, misses, misses[18], 900_000_000_000L);
    List<ReplicaManager.ReplicaFigures> figures =
        List.of(
            new ReplicaManager.ReplicaFigures("web-1", "198.18.1.20", 1, 2, 3, hit, miss),
            new ReplicaManager.ReplicaFigures("web-2", "198.18.1.21", 0, 0, 0, null, null));
    endpoint = MetricsEndpoint.start("127.0.0.1:0");
    ManagerMetrics.register(
        endpoint.registry(), new ManagerMetrics.ReplicaCollector(() -> figures));
    String text = scrapeOverHttp();

    Map<String, Histogram> h = histograms(text, DURATION);
    assertEquals(Set.of("web-1/hit", "web-1/miss"), h.keySet(), "web-2 has not reported yet");
    for (Map.Entry<String, Histogram> e : h.entrySet()) {
      Histogram x = e.getValue();
      assertEquals(20, x.le().size(), e.getKey());
      for (int i = 0; i < 19; i++) {
        assertEquals(bounds[i] / 1e9, x.le().get(i), bounds[i] * 1e-15, e.getKey());
      }
      assertEquals(Double.POSITIVE_INFINITY, x.le().get(19));
      for (int i = 1; i < 20; i++) {
        assertTrue(x.counts().get(i) >= x.counts().get(i - 1), e.getKey() + " falls at " + i);
      }
      assertEquals(x.count(), x.counts().get(19), e.getKey() + ": +Inf equals the count");
    }
    assertEquals(284, h.get("web-1/hit").count(), "280 within 10 s and 4 above");
    assertEquals(3.0, h.get("web-1/hit").sum(), 1e-9);
    assertEquals(10 + 1, h.get("web-1/miss").counts().get(10), "le 0.02: " + h.get("web-1/miss"));
    assertEquals(900.0, h.get("web-1/miss").sum(), 1e-6);
    promtoolAccepts(text);
  }

  /**
   * {@code promtool check metrics} lints our part of the exposition (names, units, histogram
   * suffixes); Micrometer's JVM meters have findings of their own and are left out.
   */
  private void promtoolAccepts(String text) throws Exception {
    StringBuilder ours = new StringBuilder();
    text.lines()
        .filter(l -> l.replaceFirst("^# (HELP|TYPE) ", "").startsWith("hydranet_"))
        .forEach(l -> ours.append(l).append('\n'));
    assertTrue(ours.toString().contains(DURATION + "_bucket"), ours.toString());
    Process p =
        new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
    p.getOutputStream().write(ours.toString().getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "promtool timed out");
    assertEquals(0, p.exitValue(), "promtool check metrics:\n" + out);
  }

  private static final String DURATION = "hydranet_hydraweb_replica_request_duration_seconds";

  /** One replica's histogram for one result, read back from a scrape. */
  record Histogram(List<Double> le, List<Double> counts, double count, double sum) {}

  private static final Pattern HISTOGRAM_SAMPLE =
      Pattern.compile(
          "(?m)^(hydranet_[a-z_]+?)(_bucket|_count|_sum)\\{replica=\"([^\"]+)\","
              + "host_server=\"[^\"]+\",result=\"([a-z]+)\",(?:le=\"([^\"]+)\",)?\\} (\\S+)$");

  /** Every histogram named {@code name} in a scrape, by "replica/result", buckets in order. */
  static Map<String, Histogram> histograms(String scrape, String name) {
    Map<String, TreeMap<Double, Double>> buckets = new TreeMap<>();
    Map<String, Double> counts = new TreeMap<>();
    Map<String, Double> sums = new TreeMap<>();
    Matcher m = HISTOGRAM_SAMPLE.matcher(scrape);
    while (m.find()) {
      if (!m.group(1).equals(name)) {
        continue;
      }
      String key = m.group(3) + "/" + m.group(4);
      double v = Double.parseDouble(m.group(6));
      switch (m.group(2)) {
        case "_bucket" -> {
          double le =
              m.group(5).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(m.group(5));
          assertEquals(
              null,
              buckets.computeIfAbsent(key, k -> new TreeMap<>()).put(le, v),
              "le " + le + " twice for " + key);
        }
        case "_count" -> counts.put(key, v);
        default -> sums.put(key, v);
      }
    }
    Map<String, Histogram> out = new TreeMap<>();
    buckets.forEach(
        (key, b) -> {
          assertTrue(counts.containsKey(key) && sums.containsKey(key), key + " lacks count or sum");
          out.put(
              key,
              new Histogram(
                  new ArrayList<>(b.keySet()),
                  new ArrayList<>(b.values()),
                  counts.get(key),
                  sums.get(key)));
        });
    assertEquals(counts.keySet(), out.keySet(), "a count without buckets");
    return out;
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
