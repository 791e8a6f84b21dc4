package net.hydranet.hydraweb.manager;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The manager against an in-memory host server running real replicas, and a fake nginx. */
class ReplicaManagerTest {
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
    hostServer = new InMemoryHostServer(Files.createDirectories(tmp.resolve("hs")), 700);
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

  private ManagerConfig.Builder config() throws Exception {
    Path jar = Files.write(tmp.resolve("hydraweb.jar"), new byte[] {'P', 'K'});
    Path sig = Files.write(tmp.resolve("hydraweb.jar.sig"), new byte[64]);
    return ManagerConfig.builder()
        .managerAddress(InetAddress.getByName("198.18.2.10"))
        .docroot(docroot)
        .webServer(nginx.base())
        .hostServer(new InetSocketAddress("198.18.1.20", 6227), null)
        .bundle(jar, sig)
        .drainMillis(500);
  }

  private static PlacementPolicy.Settings always() {
    return new PlacementPolicy.Settings(1e9, Duration.ZERO, 0, Duration.ZERO, Duration.ZERO, 1, 1);
  }

  private HttpResponse<String> get(String name, String path) throws Exception {
    int port = hostServer.replica(name).server.localAddress().getPort();
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(10))
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

  /** What the manager timed: fetches, and PUTs and DELETEs until ACKed, in nanoseconds. */
  private static final class RecordedTimings implements ReplicaManager.Timings {
    final List<Long> fetches = new CopyOnWriteArrayList<>();
    final List<Long> puts = new CopyOnWriteArrayList<>();
    final List<Long> deletes = new CopyOnWriteArrayList<>();

    @Override
    public void originFetch(long nanos) {
      fetches.add(nanos);
    }

    @Override
    public void push(boolean put, long nanos) {
      (put ? puts : deletes).add(nanos);
    }
  }

  private final RecordedTimings timings = new RecordedTimings();

  private String startWithOneReplica(ManagerConfig.Builder b) throws Exception {
    manager =
        new ReplicaManager(
            b.placement(always()).build(), hostServer, LoadSource.NONE, System::currentTimeMillis);
    manager.timings(timings);
    manager.start();
    await("an installed replica", () -> !manager.replicaNames().isEmpty());
    String name = manager.replicaNames().get(0);
    assertEquals("hydraweb-1", name);
    await("pre-heat", () -> manager.isPreheated(name));
    return name;
  }

  @Test
  void shouldPreheatAnswerMissesKeepHotAndDelete() throws Exception {
    String name = startWithOneReplica(config().preheat("*.html"));
    assertTrue(hostServer.dropped.get() > 0, "APPs before the channel was up were dropped");
    assertEquals("home", get(name, "/").body());
    assertEquals("A", get(name, "/a.html").body());
    assertEquals(0, nginx.fetches.get(), "pre-heated objects never reach the origin");
    assertEquals(List.of(), timings.fetches);
    // Every PUT ACKed is timed once (a re-sent one from its last sending; its first ACK is late).
    await(
        "every PUT timed",
        () ->
            timings.puts.size()
                == manager.counter(ManagerCounter.PUTS_SENT)
                    - manager.counter(ManagerCounter.RETRIES));
    assertTrue(timings.puts.size() >= 3, "" + timings.puts);

    // Not pre-heated: a miss, fetched from the origin's web server, kept, and then kept hot.
    assertEquals("B", get(name, "/sub/b.html").body());
    assertEquals(1, nginx.fetches.get());
    assertEquals("B", get(name, "/sub/b.html").body());
    assertEquals(1, nginx.fetches.get(), "the answer was cached");
    assertEquals(1, timings.fetches.size());
    assertTrue(timings.fetches.get(0) > 0);
    await("/sub/b.html tracked", () -> manager.ackedVersion(name, "/sub/b.html") > 0);

    // A change: once ACKed, the replica serves the new version.
    long before = manager.ackedVersion(name, "/a.html");
    write("a.html", "A2");
    Files.setLastModifiedTime(
        docroot.resolve("a.html"), FileTime.fromMillis(System.currentTimeMillis() + 5000));
    await("a.html v2 ACKed", () -> manager.ackedVersion(name, "/a.html") > before);
    assertEquals(manager.docrootVersion("/a.html"), manager.ackedVersion(name, "/a.html"));
    assertEquals("A2", get(name, "/a.html").body());
    long bBefore = manager.ackedVersion(name, "/sub/b.html");
    write("sub/b.html", "B2");
    Files.setLastModifiedTime(
        docroot.resolve("sub/b.html"), FileTime.fromMillis(System.currentTimeMillis() + 5000));
    await("b.html v2 ACKed", () -> manager.ackedVersion(name, "/sub/b.html") > bBefore);
    assertEquals("B2", get(name, "/sub/b.html").body());

    // A removal: DELETEd; the next request misses and the origin says 404.
    Files.delete(docroot.resolve("a.html"));
    await("a.html deleted", () -> manager.ackedVersion(name, "/a.html") < 0);
    await("the DELETE timed", () -> timings.deletes.size() == 1);
    assertTrue(
        timings.puts.stream().allMatch(n -> n > 0 && n < 15_000_000_000L), "" + timings.puts);
    assertEquals(404, get(name, "/a.html").statusCode());
    assertEquals(404, get(name, "/nowhere.html").statusCode());

    // Hit metering.
    await("hits metered", () -> manager.hits(name).getOrDefault("/", 0L) >= 1);
    String table = manager.snapshot();
    assertTrue(table.contains("hydraweb-1") && table.contains("hot"), table);
    assertTrue(manager.counter(ManagerCounter.MISSES) >= 3);

    // The figures a scrape reads: this replica's hits, misses and requests as it reported them.
    await(
        "misses metered",
        () ->
            manager.replicaFigures().size() == 1 && manager.replicaFigures().get(0).misses() >= 3);
    ReplicaManager.ReplicaFigures f = manager.replicaFigures().get(0);
    assertEquals(name, f.name());
    assertEquals("198.18.1.20", f.hostServer());
    assertTrue(f.hits() >= 1, f.toString());
    assertTrue(f.requests() >= f.hits() + f.misses(), f.toString());
    // Their service times: the real replica's histograms, as it reported them.
    assertTrue(f.hitLatency().count() >= 1, f.toString());
    assertTrue(f.missLatency().count() >= 3, f.toString());
    assertEquals(19, f.hitLatency().bounds());
    assertEquals(f.missLatency().count(), f.missLatency().cumulative(18), "all within 10 s");
    assertEquals(1, manager.hostServersConnected());
  }

  @Test
  void shouldPushAccessRulesAndSlots() throws Exception {
    write("private/x.html", "secret");
    String name =
        startWithOneReplica(
            config().accessRules("deny 127.0.0.0/8 /private/\n").slot("banner", List.of("a")));
    assertEquals(403, get(name, "/private/x.html").statusCode());
    assertEquals(200, get(name, "/a.html").statusCode());
  }

  @Test
  void shouldPushTemplatesRenderedWithRotatingSlotsAndKeepThemHot() throws Exception {
    write("offer.shtml", "<p>{{banner}}</p>");
    write("sub/deep.shtml", "deep {{banner}}");
    write("ads/x.html", "ad {{banner}}");
    write("plain.html", "{{banner}}");
    List<String> banners = List.of("red", "blue");
    String name =
        startWithOneReplica(
            config()
                .preheat("**/*.shtml")
                .preheat("plain.html")
                .template("**/*.shtml")
                .template("/ads/**")
                .slot("banner", banners));
    // Pushed as templates: two requests, two banners from the pushed values; no strong ETag.
    HttpResponse<String> first = get(name, "/offer.shtml");
    HttpResponse<String> second = get(name, "/offer.shtml");
    assertTrue(first.headers().firstValue("ETag").isEmpty(), first.headers().toString());
    assertEquals("text/html; charset=utf-8", first.headers().firstValue("Content-Type").get());
    String b1 = between(first.body(), "<p>", "</p>");
    String b2 = between(second.body(), "<p>", "</p>");
    assertTrue(banners.contains(b1) && banners.contains(b2), b1 + " " + b2);
    assertNotEquals(b1, b2, "the slot's values rotate per response");
    assertTrue(banners.contains(get(name, "/sub/deep.shtml").body().substring(5)), "**/ at depth");
    // Not a template: served as the origin wrote it.
    assertEquals("{{banner}}", get(name, "/plain.html").body());
    assertEquals(0, nginx.fetches.get());

    // A template that was not pushed: the miss is answered as a template, then kept hot.
    assertTrue(banners.contains(get(name, "/ads/x.html").body().substring(3)));
    assertEquals(1, nginx.fetches.get());
    await("/ads/x.html pushed", () -> manager.ackedVersion(name, "/ads/x.html") > 0);
    assertTrue(banners.contains(get(name, "/ads/x.html").body().substring(3)));
    assertEquals(1, nginx.fetches.get(), "kept: a hit");

    // The origin edits the template: once the push is ACKed the new text is rendered.
    long before = manager.ackedVersion(name, "/offer.shtml");
    write("offer.shtml", "<b>{{banner}}</b>");
    Files.setLastModifiedTime(
        docroot.resolve("offer.shtml"), FileTime.fromMillis(System.currentTimeMillis() + 5000));
    await("offer.shtml v2 ACKed", () -> manager.ackedVersion(name, "/offer.shtml") > before);
    assertEquals(
        manager.docrootVersion("/offer.shtml"), manager.ackedVersion(name, "/offer.shtml"));
    assertTrue(banners.contains(between(get(name, "/offer.shtml").body(), "<b>", "</b>")));
    assertTrue(manager.snapshot().contains("3 templates"), manager.snapshot());
  }

  /** The text between {@code open} and {@code close}, which {@code s} must be made of. */
  private static String between(String s, String open, String close) {
    assertTrue(s.startsWith(open) && s.endsWith(close), s);
    return s.substring(open.length(), s.length() - close.length());
  }

  @Test
  void shouldNameAWrongTemplateGlobOrSlot() throws Exception {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> config().template("[a-").build());
    assertTrue(e.getMessage().startsWith("templates[0]: '[a-' is not a glob"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> config().template(" ").build());
    assertTrue(e.getMessage().startsWith("templates[0]:"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> config().slot("ban ner", List.of("x")).build());
    assertTrue(e.getMessage().contains("'ban ner' is not a slot name"), e.getMessage());
  }

  @Test
  void shouldTakeAnIpv6WebServerAndSayWhereIpv4IsNeeded() throws Exception {
    ManagerConfig c = config().webServer(URI.create("http://[2001:2:0:2::10]:80")).build();
    assertEquals("[2001:2:0:2::10]", c.webServer().getHost());
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> config().webServer(URI.create("http://2001:2:0:2::10:80")).build());
    assertTrue(e.getMessage().contains("goes in brackets"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> config().managerAddress(InetAddress.getByName("2001:2:0:2::100")).build());
    assertTrue(e.getMessage().contains("IPv4"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                config()
                    .hostServer(
                        new InetSocketAddress(InetAddress.getByName("2001:2:0:1::20"), 6227), null)
                    .build());
    assertTrue(
        e.getMessage().startsWith("host server 2001:2:0:1::20 is IPv6: the manager needs an IPv6"),
        e.getMessage());
    ManagerConfig both =
        config()
            .managerAddress6(InetAddress.getByName("2001:2:0:2::100"))
            .hostServer(new InetSocketAddress(InetAddress.getByName("2001:2:0:1::20"), 6227), null)
            .build();
    assertEquals(
        InetAddress.getByName("2001:2:0:2::100"),
        both.managerAddressFor(both.hostServers().get(1).address()));
  }

  @Test
  void shouldInstallOnLoadAndRemoveWithADrainWhenItFalls() throws Exception {
    nginx.requestsPerRead = 1000; // one status read a second: about 1000 req/s
    manager =
        new ReplicaManager(
                config()
                    .loadStatus(nginx.status())
                    .placement(
                        new PlacementPolicy.Settings(
                            200,
                            Duration.ofSeconds(1),
                            50,
                            Duration.ofSeconds(1),
                            Duration.ZERO,
                            0,
                            1))
                    .build(),
                hostServer,
                new NginxStubStatus(nginx.status()),
                System::currentTimeMillis)
            .start();
    await("installed under load", () -> !manager.replicaNames().isEmpty());
    String name = manager.replicaNames().get(0);
    await("pre-heat", () -> manager.isPreheated(name));
    assertNotNull(hostServer.replica(name));
    assertTrue(manager.load() > 200, "load " + manager.load());

    nginx.requestsPerRead = 0;
    await("removed when idle", () -> manager.replicaNames().isEmpty());
    assertEquals(List.of(name), hostServer.removed);
    assertEquals(1, manager.counter(ManagerCounter.INSTALLS));
    assertEquals(1, manager.counter(ManagerCounter.REMOVES));
  }

  /**
   * Found in demo web: once the replica serves the crowd, the origin's own count falls to nothing;
   * judged on it alone the replica was removed in the middle of the crowd. The demand is the
   * origin's count plus what the replicas answer themselves.
   */
  @Test
  void shouldKeepAReplicaThatServesTheLoadTheOriginNoLongerSees() throws Exception {
    nginx.requestsPerRead = 1000;
    manager =
        new ReplicaManager(
                config()
                    .loadStatus(nginx.status())
                    .placement(
                        new PlacementPolicy.Settings(
                            200,
                            Duration.ofSeconds(1),
                            50,
                            Duration.ofSeconds(1),
                            Duration.ZERO,
                            0,
                            1))
                    .build(),
                hostServer,
                new NginxStubStatus(nginx.status()),
                System::currentTimeMillis)
            .start();
    await("installed under load", () -> !manager.replicaNames().isEmpty());
    String name = manager.replicaNames().get(0);
    await("pre-heat", () -> manager.isPreheated(name));
    nginx.requestsPerRead = 0; // the crowd now goes to the replica
    long until = System.nanoTime() + 4_000_000_000L;
    int served = 0;
    while (System.nanoTime() < until) {
      assertEquals(200, get(name, "/a.html").statusCode());
      served++;
      Thread.sleep(2);
    }
    assertTrue(served > 4 * 50, "the client made " + served + " requests in 4 s");
    assertEquals(List.of(name), manager.replicaNames(), "kept while it serves the crowd");
    assertTrue(manager.load() > 50, "the demand counts the replica's answers: " + manager.load());
    await("removed once the crowd is gone", () -> manager.replicaNames().isEmpty());
  }

  @Test
  void shouldBackOffWhenTheHostServerRefusesTheBundle() throws Exception {
    HostServerLink.Factory refusing =
        (hs, l) ->
            new HostServerLink() {
              @Override
              public Reply install(String name, byte[] jar, byte[] sig, Duration t) {
                return new Reply(false, "REFUSED (BAD_SIGNATURE) does not verify");
              }

              @Override
              public Reply remove(String name, long drainMillis, Duration t) {
                return new Reply(false, "REFUSED (NO_SUCH_REPLICA)");
              }

              @Override
              public List<Status> status(String name, Duration t) {
                return List.of();
              }

              @Override
              public void sendApp(String replica, byte[] payload) {}

              @Override
              public boolean isOpen() {
                return true;
              }

              @Override
              public void close() {}
            };
    manager =
        new ReplicaManager(
                config().placement(always()).build(),
                refusing,
                LoadSource.NONE,
                System::currentTimeMillis)
            .start();
    Thread.sleep(3000);
    assertEquals(1, manager.counter(ManagerCounter.INSTALL_FAILURES), "one try, then 5 s pause");
    assertEquals(List.of(), manager.replicaNames());
  }

  @Test
  void shouldFetchOnceForAFlashCrowdOnAMissingObject() throws Exception {
    String name = startWithOneReplica(config().preheat("index.html"));
    nginx.delayMillis = 500;
    int port = hostServer.replica(name).server.localAddress().getPort();
    List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> crowd =
        new java.util.ArrayList<>();
    for (int i = 0; i < 20; i++) {
      crowd.add(
          http.sendAsync(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/a.html"))
                  .timeout(Duration.ofSeconds(10))
                  .build(),
              HttpResponse.BodyHandlers.ofString()));
    }
    for (var f : crowd) {
      assertEquals("A", f.get(10, java.util.concurrent.TimeUnit.SECONDS).body());
    }
    assertEquals(1, nginx.fetches.get(), "one fetch for the crowd");
    assertTrue(manager.counter(ManagerCounter.MISSES_COALESCED) > 0);
  }
}
