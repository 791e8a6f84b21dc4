package net.hydranet.harness.live;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A TCP connection open to the origin goes on, to the origin, after a replica of that very service
 * is installed and the redirector told; a new connection then reaches the replica.
 */
class SurvivesInstallIT {
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

  @Test
  @Timeout(150)
  void shouldKeepAConnectionToTheOriginWhenAReplicaIsInstalled() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    Path jar = RedirectorUnderTest.repositoryRoot().resolve("router/target/hydranet.jar");
    assumeTrue(Files.exists(jar), "router/target/hydranet.jar is built by mvn package");
    String javaBin = ProcessHandle.current().info().command().orElse("java");
    try (PaperNetwork net = new PaperNetwork("hnsv", List.of(javaBin, "-jar", jar.toString()))) {
      net.start();
      Path work = net.workDir();
      Files.writeString(work.resolve("origin9000.py"), server("origin", ORIGIN));
      Files.writeString(work.resolve("replica9000.py"), server("replica", ORIGIN));
      net.topology().spawn("origin", "python3", work.resolve("origin9000.py").toString());
      Thread.sleep(500);

      // A long-lived connection from the client: each line on stdin goes out, each answer back.
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

        to.println("after");
        assertEquals("origin:after", from.readLine(), "the open connection stays on the origin");

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
