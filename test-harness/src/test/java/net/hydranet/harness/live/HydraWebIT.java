package net.hydranet.harness.live;

import static net.hydranet.router.netns.WebNetwork.ORIGIN;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.router.netns.ExecResult;
import net.hydranet.router.netns.WebNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * HydraWeb end to end in namespaces ({@link WebNetwork}): the origin's replica manager installs a
 * signed replica on the host server, the redirector learns it with no static entry, and clients are
 * served by it.
 */
@TestMethodOrder(OrderAnnotation.class)
@Timeout(120)
class HydraWebIT {
  private static WebNetwork net;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    Path jar = RedirectorUnderTest.repositoryRoot().resolve("router/target/hydranet.jar");
    assumeTrue(Files.exists(jar), "router/target/hydranet.jar is built by mvn package");
    String java = ProcessHandle.current().info().command().orElse("java");
    net = new WebNetwork("hnweb", List.of(java, "-jar", jar.toString()), 10);
    net.start("");
  }

  @AfterAll
  static void stop() {
    if (net != null) {
      net.close();
    }
  }

  @Test
  @Order(1)
  void theOriginsNginxAnswersThroughTheRedirectorAcrossTheWan() {
    ExecResult r = net.curl("/page-007.html", 5);
    assertTrue(r.ok(), r.describe());
    assertTrue(r.stdout().contains("Server: nginx"), r.stdout());
    assertTrue(r.stdout().contains("page 007"), r.stdout());
    ExecResult nostore = net.curl("/nostore/page.html", 5);
    assertTrue(nostore.stdout().contains("Cache-Control: no-store"), nostore.stdout());
    System.out.println("origin " + ORIGIN + " answers through r1");
  }
}
