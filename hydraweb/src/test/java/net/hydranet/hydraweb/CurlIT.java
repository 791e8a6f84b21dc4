package net.hydranet.hydraweb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The replica as a real client sees it: curl against a server on 127.0.0.1. */
class CurlIT {
  private static HydraWebServer server;
  private static String base;
  private static final byte[] PAGE = new byte[1200];
  private static final long MODIFIED = 1_700_000_000L;

  @TempDir static Path dir;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(
        new ProcessBuilder("curl", "--version").start().waitFor() == 0,
        "curl is needed (apt-get install curl; .ci/run installs it)");
    new Random(1998).nextBytes(PAGE);
    Path site = Files.createDirectories(dir.resolve("site"));
    Files.write(site.resolve("page.html"), PAGE);
    Files.setLastModifiedTime(
        site.resolve("page.html"), java.nio.file.attribute.FileTime.fromMillis(MODIFIED * 1000));
    Files.writeString(site.resolve("index.html"), "home\n");
    server = new HydraWebServer(new HydraWebServer.Config()).start();
    assertEquals(2, HydraWebMain.preload(server.cache(), dir.resolve("site")));
    base = "http://127.0.0.1:" + server.localAddress().getPort();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private record Result(int exit, byte[] out, String err) {
    String text() {
      return new String(out, StandardCharsets.UTF_8);
    }
  }

  private static Result curl(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "10"));
    cmd.addAll(Arrays.asList(args));
    Path err = Files.createTempFile(dir, "curl", ".err");
    Process p = new ProcessBuilder(cmd).redirectError(err.toFile()).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(15, TimeUnit.SECONDS));
    return new Result(p.exitValue(), out, Files.readString(err));
  }

  @Test
  void shouldReuseOneConnectionForSeveralRequests() throws Exception {
    long before = server.counter(ServerCounter.CONNECTIONS_ACCEPTED);
    Result r = curl("-v", base + "/page.html", base + "/sub/../index.html", base + "/page.html");
    assertEquals(0, r.exit(), r.err());
    assertTrue(r.err().contains("Re-using existing connection"), r.err());
    assertEquals(1, server.counter(ServerCounter.CONNECTIONS_ACCEPTED) - before);
    byte[] expected = new byte[2400 + 5];
    System.arraycopy(PAGE, 0, expected, 0, 1200);
    System.arraycopy("home\n".getBytes(StandardCharsets.US_ASCII), 0, expected, 1200, 5);
    System.arraycopy(PAGE, 0, expected, 1205, 1200);
    assertArrayEquals(expected, r.out()); // curl resolves "/sub/../" itself
  }

  @Test
  void shouldAnswerHeadWithHeadersOnly() throws Exception {
    Result r = curl("-I", base + "/page.html");
    assertEquals(0, r.exit(), r.err());
    String h = r.text();
    assertTrue(h.startsWith("HTTP/1.1 200 OK\r\n"), h);
    assertTrue(h.contains("\r\nContent-Length: 1200\r\n"), h);
    assertTrue(h.contains("\r\nLast-Modified: Tue, 14 Nov 2023 22:13:20 GMT\r\n"), h);
    assertTrue(h.endsWith("\r\n\r\n"), h);
  }

  @Test
  void shouldServeARange() throws Exception {
    Result r = curl("-r", "100-199", "-w", "%{http_code}", "-o", "-", base + "/page.html");
    assertEquals(0, r.exit(), r.err());
    byte[] out = r.out();
    assertArrayEquals(Arrays.copyOfRange(PAGE, 100, 200), Arrays.copyOf(out, out.length - 3));
    assertEquals("206", new String(out, out.length - 3, 3, StandardCharsets.US_ASCII));
    Result bad = curl("-r", "5000-", "-w", "%{http_code}", "-o", "/dev/null", base + "/page.html");
    assertEquals("416", bad.text());
  }

  @Test
  void shouldAnswerConditionalRequestsWith304() throws Exception {
    String etag = server.cache().get("/page.html").etag();
    Result r =
        curl(
            "-H",
            "If-None-Match: " + etag,
            "-w",
            "%{http_code}",
            "-o",
            "/dev/null",
            base + "/page.html");
    assertEquals("304", r.text(), r.err());
    // -z DATE sends If-Modified-Since
    Result m =
        curl(
            "-z",
            "Tue, 14 Nov 2023 22:13:20 GMT",
            "-w",
            "%{http_code}",
            "-o",
            "/dev/null",
            base + "/page.html");
    assertEquals("304", m.text(), m.err());
    Result older =
        curl(
            "-z",
            "Mon, 13 Nov 2023 22:13:20 GMT",
            "-w",
            "%{http_code}",
            "-o",
            "/dev/null",
            base + "/page.html");
    assertEquals("200", older.text(), older.err());
  }

  @Test
  void shouldServeTheDirectoryIndexAndA404() throws Exception {
    assertEquals("home\n", curl(base + "/").text());
    Result r = curl("-w", "%{http_code}", "-o", "/dev/null", base + "/missing");
    assertEquals("404", r.text());
  }
}
