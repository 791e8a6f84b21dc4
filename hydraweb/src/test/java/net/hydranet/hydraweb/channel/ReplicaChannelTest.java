package net.hydranet.hydraweb.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.hydranet.hydraweb.HydraWebServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The replica's channel against a real server on loopback and a fake manager on a Unix socket. */
class ReplicaChannelTest {
  @TempDir Path dir;

  private HydraWebServer server;
  private ReplicaChannel channel;
  private FakeManager manager;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void start() throws Exception {
    server = new HydraWebServer(new HydraWebServer.Config().missTimeoutMillis(1500)).start();
    Path sock = dir.resolve("channel.sock");
    manager = new FakeManager(sock);
    channel = new ReplicaChannel(server, new ReplicaChannel.Config(sock, 20, 200, 64)).start();
    manager.accept();
  }

  @AfterEach
  void stop() throws Exception {
    channel.close();
    server.close();
    manager.close();
  }

  private HttpResponse<String> get(String path) throws Exception {
    HttpRequest r =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.localAddress().getPort() + path))
            .timeout(Duration.ofSeconds(10))
            .build();
    return http.send(r, HttpResponse.BodyHandlers.ofString());
  }

  private static AppMessage.Content page(String path, long version, String text) {
    return new AppMessage.Content(
        path, "text/html", 1_700_000_000_000L, version, text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void shouldServeAPreheatedObjectAndTheNewVersionOnceAcked() throws Exception {
    manager.send(new AppMessage.Put(1, page("/index.html", 10, "one")));
    assertEquals(new AppMessage.Ack(1, AppMessage.STORED), manager.receive());
    assertEquals("one", get("/index.html").body());

    manager.send(new AppMessage.Put(2, page("/index.html", 11, "two")));
    assertEquals(new AppMessage.Ack(2, AppMessage.STORED), manager.receive());
    assertEquals("two", get("/index.html").body(), "after the ACK the new version is served");

    manager.send(new AppMessage.Put(3, page("/index.html", 9, "old")));
    assertEquals(new AppMessage.Ack(3, AppMessage.STALE), manager.receive());
    assertEquals("two", get("/index.html").body());

    manager.send(new AppMessage.Delete(4, "/index.html"));
    assertEquals(new AppMessage.Ack(4, AppMessage.STORED), manager.receive());
    CompletableFuture<HttpResponse<String>> r = CompletableFuture.supplyAsync(this::quietGet);
    AppMessage.Miss miss = (AppMessage.Miss) manager.receive();
    assertEquals("/index.html", miss.path());
    manager.send(new AppMessage.Answer(miss.missId(), 404, null, false));
    assertEquals(404, r.get(10, TimeUnit.SECONDS).statusCode());
  }

  private HttpResponse<String> quietGet() {
    try {
      return get("/index.html");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void shouldSendAMissToTheManagerAndServeAndKeepItsAnswer() throws Exception {
    CompletableFuture<HttpResponse<String>> r = CompletableFuture.supplyAsync(this::quietGet);
    AppMessage.Miss miss = (AppMessage.Miss) manager.receive();
    assertEquals(new AppMessage.Miss(miss.missId(), "/index.html", false), miss);
    manager.send(
        new AppMessage.Answer(miss.missId(), 200, page("/index.html", 5, "fetched"), true));
    HttpResponse<String> resp = r.get(10, TimeUnit.SECONDS);
    assertEquals(200, resp.statusCode());
    assertEquals("fetched", resp.body());
    assertEquals("fetched", get("/index.html").body(), "kept: the second request is a hit");
    assertEquals(1, server.cache().hits("/index.html"));
  }

  @Test
  void shouldAnswer504WhenTheManagerIsSilentAnd503WhenTheChannelIsDown() throws Exception {
    CompletableFuture<HttpResponse<String>> r = CompletableFuture.supplyAsync(this::quietGet);
    assertInstanceOf(AppMessage.Miss.class, manager.receive());
    assertEquals(504, r.get(10, TimeUnit.SECONDS).statusCode());

    manager.send(new AppMessage.Put(1, page("/hit.html", 1, "hit")));
    manager.receive();
    manager.down();
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (channel.isConnected() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    long t0 = System.nanoTime();
    assertEquals(503, get("/nowhere").statusCode());
    assertTrue(System.nanoTime() - t0 < 1_000_000_000L, "503 comes at once");
    assertEquals("hit", get("/hit.html").body(), "hits are served while the channel is down");

    manager.listen();
    manager.accept(); // it reconnects and says READY again
    manager.send(new AppMessage.HitsQuery(7));
    AppMessage.Hits h = (AppMessage.Hits) manager.receive();
    assertEquals(7, h.id());
    assertEquals(1L, h.hits().get("/hit.html"));
    assertEquals(2, h.misses());
    assertEquals(3, h.requests());
    // The hit, and both misses: the one answered 504 after waiting for the manager, the one
    // answered 503 at once.
    assertEquals(1, h.hitLatency().count());
    assertEquals(2, h.missLatency().count());
    assertEquals(19, h.missLatency().bounds());
    assertEquals(1_000_000_000L, h.missLatency().boundNanos(15));
    assertEquals(1, h.missLatency().cumulative(15), "one miss waited for the 1.5 s timeout");
    assertTrue(h.missLatency().sumNanos() >= 1_500_000_000L, h.missLatency().toString());
  }

  @Test
  void shouldApplyRulesAndSlotsAndSurviveGarbage() throws Exception {
    manager.sendRaw(new byte[] {99, 1, 2});
    manager.sendRaw(new byte[0]);
    manager.send(new AppMessage.Put(1, page("/private/a.html", 1, "secret")));
    assertEquals(new AppMessage.Ack(1, AppMessage.STORED), manager.receive());
    assertEquals(200, get("/private/a.html").statusCode());
    manager.send(new AppMessage.Rules(2, "deny 127.0.0.0/8 /private/\n"));
    assertEquals(new AppMessage.Ack(2, AppMessage.STORED), manager.receive());
    assertEquals(403, get("/private/a.html").statusCode());
    manager.send(new AppMessage.Rules(3, "nonsense here"));
    assertEquals(new AppMessage.Ack(3, AppMessage.ERROR), manager.receive());
    assertEquals(403, get("/private/a.html").statusCode(), "bad rules leave the old ones");
    manager.send(new AppMessage.Slot(4, "banner", List.of("x", "y")));
    assertEquals(new AppMessage.Ack(4, AppMessage.STORED), manager.receive());
    manager.send(new AppMessage.Put(5, new AppMessage.Content("/big", "a", 0, 1, new byte[0])));
    assertEquals(new AppMessage.Ack(5, AppMessage.STORED), manager.receive());
    assertEquals(2, channel.counter(ReplicaChannel.Counter.MALFORMED));
  }

  private static AppMessage.Content template(String path, long version, String text) {
    return new AppMessage.Content(
        path,
        "text/html",
        1_700_000_000_000L,
        version,
        text.getBytes(StandardCharsets.UTF_8),
        true);
  }

  @Test
  void shouldRenderAPushedTemplateWithRotatingSlotsAndItsNewTextOnceAcked() throws Exception {
    manager.send(new AppMessage.Slot(1, "banner", List.of("red", "blue")));
    assertEquals(new AppMessage.Ack(1, AppMessage.STORED), manager.receive());
    manager.send(new AppMessage.Put(2, template("/offer.html", 10, "<p>{{banner}}</p>")));
    assertEquals(new AppMessage.Ack(2, AppMessage.STORED), manager.receive());
    assertTrue(server.cache().get("/offer.html").isTemplate());
    HttpResponse<String> first = get("/offer.html");
    assertEquals("<p>red</p>", first.body());
    assertTrue(first.headers().firstValue("ETag").isEmpty(), "a template has no strong ETag");
    assertEquals("no-store", first.headers().firstValue("Cache-Control").orElse(""));
    assertEquals("<p>blue</p>", get("/offer.html").body());

    manager.send(new AppMessage.Put(3, template("/offer.html", 11, "<b>{{banner}}</b>")));
    assertEquals(new AppMessage.Ack(3, AppMessage.STORED), manager.receive());
    assertEquals("<b>red</b>", get("/offer.html").body(), "after the ACK the new text");

    // The same text pushed as a static object is served as it is.
    manager.send(new AppMessage.Put(4, page("/offer.html", 12, "<b>{{banner}}</b>")));
    assertEquals(new AppMessage.Ack(4, AppMessage.STORED), manager.receive());
    assertEquals("<b>{{banner}}</b>", get("/offer.html").body());
  }

  @Test
  void shouldServeAndKeepATemplateAnsweredForAMiss() throws Exception {
    manager.send(new AppMessage.Slot(1, "banner", List.of("one", "two")));
    assertEquals(new AppMessage.Ack(1, AppMessage.STORED), manager.receive());
    CompletableFuture<HttpResponse<String>> r = CompletableFuture.supplyAsync(this::quietGet);
    AppMessage.Miss miss = (AppMessage.Miss) manager.receive();
    manager.send(
        new AppMessage.Answer(
            miss.missId(), 200, template("/index.html", 5, "[{{banner}}]"), true));
    assertEquals("[one]", r.get(10, TimeUnit.SECONDS).body());
    assertEquals("[two]", get("/index.html").body(), "kept as a template: a hit, rendered again");
  }

  @Test
  void shouldDropAPutWithUnknownFlagsAndKeepWhatItHad() throws Exception {
    manager.send(new AppMessage.Put(1, page("/a.html", 1, "static")));
    assertEquals(new AppMessage.Ack(1, AppMessage.STORED), manager.receive());
    byte[] wire = AppCodec.encode(new AppMessage.Put(2, template("/a.html", 2, "{{x}}")));
    wire[1 + 8] = (byte) 0x81; // template and a flag from the future
    manager.sendRaw(wire);
    manager.send(new AppMessage.HitsQuery(3));
    assertInstanceOf(AppMessage.Hits.class, manager.receive(), "no ACK for the refused PUT");
    assertEquals(1, channel.counter(ReplicaChannel.Counter.MALFORMED));
    assertEquals("static", get("/a.html").body());
    assertTrue(channel.isConnected(), "a malformed message does not cost the channel");
  }
}
