package net.hydranet.harness.live;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.lab.netns.ExecResult;
import net.hydranet.lab.netns.WebNetwork;
import net.hydranet.lab.netns.WebReplicas;

/**
 * The steps {@link HydraWebIT} and {@link HydraWebIpv6IT} share, for a client of one family on a
 * {@link WebNetwork}: the jars they need, a request from the client ({@code curl} or {@code curl
 * -6}) and what it must show, the install and the pushed page with their timings printed, and the
 * hits the manager reports.
 */
final class HydraWebSteps {
  private final WebNetwork net;
  private final boolean ipv6;

  HydraWebSteps(WebNetwork net, boolean ipv6) {
    this.net = net;
    this.ipv6 = ipv6;
  }

  /**
   * {@code java -jar lab/target/hydranet-lab.jar}, or the test is skipped (not root, not built).
   */
  static List<String> labCommand() {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    Path jar = RedirectorUnderTest.repositoryRoot().resolve("lab/target/hydranet-lab.jar");
    assumeTrue(
        Files.exists(jar), "lab/target/hydranet-lab.jar (hydranet wan) is built by mvn package");
    String java = ProcessHandle.current().info().command().orElse("java");
    return List.of(java, "-jar", jar.toString());
  }

  /** hydraweb/target/hydraweb.jar, or the test is skipped. */
  static Path hydrawebJar() {
    Path hydraweb = RedirectorUnderTest.repositoryRoot().resolve("hydraweb/target/hydraweb.jar");
    assumeTrue(Files.exists(hydraweb), "hydraweb/target/hydraweb.jar is built by mvn package");
    return hydraweb;
  }

  /** The client's request for {@code path}, of this family. */
  ExecResult curl(String path, double maxSeconds) {
    return ipv6 ? net.curl6(path, maxSeconds) : net.curl(path, maxSeconds);
  }

  /** Requests {@code path}: it must succeed, from {@code server}, with {@code text} in it. */
  ExecResult assertServed(String path, String server, String text) {
    ExecResult r = curl(path, 5);
    assertTrue(r.ok(), r.describe());
    assertTrue(r.stdout().contains("Server: " + server), r.stdout());
    assertTrue(r.stdout().contains(text), r.stdout());
    return r;
  }

  /** Has the manager install web-1 ({@link WebReplicas#install}), printing how long it took. */
  void install(WebReplicas replicas, String answering) throws Exception {
    Instant asked = Instant.now();
    replicas.install();
    System.out.printf(
        "install asked -> %s: %d ms%n",
        answering, Duration.between(asked, Instant.now()).toMillis());
  }

  /** The origin's access rule for /private/: the replica answers 403 itself. */
  void assertAccessRuleAtTheReplica() {
    ExecResult r = curl("/private/report.html", 5);
    assertTrue(r.stdout().startsWith("HTTP/1.1 403"), r.stdout());
    assertTrue(r.stdout().contains("Server: HydraWeb"), r.stdout());
  }

  /**
   * Changes page-001 on the origin, waits for {@code what} (the replica serving the new version),
   * prints how long it took ("new version {@code served}") and checks the replica serves it.
   */
  void pushChangedPage(String what, String served) throws Exception {
    Path page = net.site().resolve("page-001.html");
    Files.writeString(page, WebNetwork.page(1001, 1200));
    Files.setLastModifiedTime(page, FileTime.from(Instant.now().plusSeconds(2)));
    Instant changed = Instant.now();
    net.await(what, () -> curl("/page-001.html", 2).stdout().contains("page 1001"));
    System.out.printf(
        "page changed on the origin -> new version %s: %d ms%n",
        served, Duration.between(changed, Instant.now()).toMillis());
    ExecResult r = curl("/page-001.html", 2);
    assertTrue(r.stdout().contains("Server: HydraWeb"), r.stdout());
  }

  /** A path's hits in the manager's report ("PATH HITS" lines), or 0. */
  long hits(String path) {
    for (String line : net.ctl("manager", "hits").split("\n")) {
      String[] w = line.trim().split("\\s+");
      if (w.length >= 2 && w[0].equals(path)) {
        return Long.parseLong(w[w.length - 1]);
      }
    }
    return 0;
  }
}
