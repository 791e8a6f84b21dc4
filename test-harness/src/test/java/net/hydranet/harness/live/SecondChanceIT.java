package net.hydranet.harness.live;

import static net.hydranet.lab.netns.NamespaceNetwork.counterIn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.lab.netns.PaperNetwork;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The second chance live (hostserver/SECOND-CHANCE.md): a connection open to the origin, pinned
 * there by the redirector's connection table while a replica of the same service is installed,
 * survives the redirector's SIGKILL and restart. The restarted redirector has forgotten the pin and
 * tunnels the connection's next segment to the host server by the consistent hash; the host server
 * finds no socket for it in the virtual host (sock_diag) and passes it back to the redirector,
 * which forwards it to the origin without redirecting it again and pins the flow to the origin for
 * the segments after it. In both tunnels: IP-in-IP (no list: the minimal second chance) and GUE (a
 * list of one hop, the redirector).
 */
class SecondChanceIT {
  @ParameterizedTest
  @ValueSource(strings = {"ipip", "gue"})
  @Timeout(400)
  void shouldKeepAConnectionToTheOriginThroughARedirectorRestart(String encapsulation)
      throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    Path jar = RedirectorUnderTest.repositoryRoot().resolve("router/target/hydranet.jar");
    assumeTrue(Files.exists(jar), "router/target/hydranet.jar is built by mvn package");
    String javaBin = ProcessHandle.current().info().command().orElse("java");
    try (PaperNetwork net =
        new PaperNetwork("hng6", List.of(javaBin, "-jar", jar.toString()), Duration.ofSeconds(120))
            .encapsulation(encapsulation)) {
      net.start();
      try (LineConnection conn = LineConnection.openToOrigin(net)) {
        conn.installReplica(net);

        net.restartRedirector();
        for (int i = 0; i < 3; i++) {
          assertEquals(
              "origin:after-restart-" + i,
              conn.ask("after-restart-" + i),
              "passed on by the host server, back to the origin\n"
                  + net.hostServerStatus()
                  + net.logs());
        }
        String counter =
            encapsulation.equals("gue") ? "passed_on_origin" : "passed_on_origin_no_list";
        // The first segment after the restart takes the detour; the redirector then pins the flow
        // to the origin, and the rest go there directly.
        net.await(
            "the host server's status to count a pass-on (" + counter + ")",
            () -> counterIn(net.hostServerStatus(), counter) >= 1);
        net.await(
            "the redirector's status to count tunnelled_to_origin and the re-pin",
            () ->
                counterIn(net.redirectorStatus(), "tunnelled_to_origin") >= 1
                    && counterIn(net.redirectorStatus(), "flows_repinned_to_origin") >= 1);
        System.out.printf(
            "hng6 %s: host server %s %d, socket checks %d, cache hits %d; redirector"
                + " tunnelled_to_origin %d, flows_repinned_to_origin %d%n",
            encapsulation,
            counter,
            counterIn(net.hostServerStatus(), counter),
            counterIn(net.hostServerStatus(), "second_chance_socket_checks"),
            counterIn(net.hostServerStatus(), "second_chance_cache_hits"),
            counterIn(net.redirectorStatus(), "tunnelled_to_origin"),
            counterIn(net.redirectorStatus(), "flows_repinned_to_origin"));

        assertEquals(
            "replica:new", LineConnection.fresh(net), "a new connection goes to the replica");
        assertEquals("origin:still", conn.ask("still"));
      }
    }
  }
}
