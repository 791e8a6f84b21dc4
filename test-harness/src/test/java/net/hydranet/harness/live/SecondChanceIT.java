package net.hydranet.harness.live;

import static net.hydranet.lab.netns.NamespaceNetwork.counterIn;
import static net.hydranet.lab.netns.PaperNetwork.ORIGIN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
  /** A line server that answers "NAME:line" for every line, until the peer closes. */
  private static String server(String name, String address) {
    return String.join(
        "\n",
        "import socket, threading",
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
        "s.bind(('" + address + "', 9000)); s.listen(16)",
        "def serve(c):",
        "    f = c.makefile('rw')",
        "    for line in f:",
        "        f.write('" + name + ":' + line); f.flush()",
        "while True:",
        "    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()",
        "");
  }

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
      Path work = net.workDir();
      Files.writeString(work.resolve("origin9000.py"), server("origin", ORIGIN));
      Files.writeString(work.resolve("replica9000.py"), server("replica", ORIGIN));
      net.topology().spawn("origin", "python3", work.resolve("origin9000.py").toString());
      Thread.sleep(500);

      String client =
          "import socket, sys\n"
              + "c = socket.create_connection(('"
              + ORIGIN
              + "', 9000), timeout=10); f = c.makefile('rw')\n"
              + "for line in sys.stdin:\n"
              + "    f.write(line); f.flush(); print(f.readline().strip(), flush=True)\n";
      Process conn =
          new ProcessBuilder(
                  "ip",
                  "netns",
                  "exec",
                  net.topology().nsName("client"),
                  "python3",
                  "-u",
                  "-c",
                  client)
              .start();
      PrintWriter to =
          new PrintWriter(
              new OutputStreamWriter(conn.getOutputStream(), StandardCharsets.UTF_8), true);
      BufferedReader from =
          new BufferedReader(new InputStreamReader(conn.getInputStream(), StandardCharsets.UTF_8));
      try {
        to.println("before");
        assertEquals("origin:before", from.readLine());

        net.installReplica("tcp 9000", "python3", work.resolve("replica9000.py").toString());
        net.redirect(9000, "tcp");
        to.println("pinned");
        assertEquals("origin:pinned", from.readLine(), "pinned to the origin by the table");

        net.restartRedirector();
        for (int i = 0; i < 3; i++) {
          to.println("after-restart-" + i);
          assertEquals(
              "origin:after-restart-" + i,
              from.readLine(),
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

        var fresh =
            net.topology()
                .exec(
                    "client",
                    Duration.ofSeconds(10),
                    "python3",
                    "-c",
                    "import socket; c = socket.create_connection(('"
                        + ORIGIN
                        + "', 9000), timeout=5);"
                        + " f = c.makefile('rw'); f.write('new\\n'); f.flush(); print(f.readline().strip())");
        assertEquals("replica:new", fresh.stdout().strip(), "a new connection goes to the replica");

        to.println("still");
        assertEquals("origin:still", from.readLine());
      } finally {
        conn.destroy();
        conn.waitFor(3, TimeUnit.SECONDS);
      }
    }
  }
}
