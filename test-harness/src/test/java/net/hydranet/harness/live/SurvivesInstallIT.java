package net.hydranet.harness.live;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.lab.netns.PaperNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A TCP connection open to the origin goes on, to the origin, after a replica of that very service
 * is installed and the redirector told; a new connection then reaches the replica.
 */
class SurvivesInstallIT {
  @Test
  @Timeout(150)
  void shouldKeepAConnectionToTheOriginWhenAReplicaIsInstalled() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    Path jar = RedirectorUnderTest.repositoryRoot().resolve("router/target/hydranet.jar");
    assumeTrue(Files.exists(jar), "router/target/hydranet.jar is built by mvn package");
    String javaBin = ProcessHandle.current().info().command().orElse("java");
    try (PaperNetwork net = new PaperNetwork("hnsv", List.of(javaBin, "-jar", jar.toString()))) {
      net.start();
      try (LineConnection conn = LineConnection.openToOrigin(net)) {
        conn.installReplica(net);
        assertEquals(
            "replica:new", LineConnection.fresh(net), "a new connection goes to the replica");
        assertEquals("origin:still", conn.ask("still"));
      }
    }
  }
}
