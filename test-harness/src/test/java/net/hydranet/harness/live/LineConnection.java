package net.hydranet.harness.live;

import static net.hydranet.lab.netns.PaperNetwork.ORIGIN;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import net.hydranet.lab.netns.PaperNetwork;

/**
 * What {@link SurvivesInstallIT} and {@link SecondChanceIT} share on a {@link PaperNetwork}: a line
 * server on the origin's port 9000 (it answers "origin:LINE" for every line), a client's long-lived
 * connection to it opened before any replica exists, and then the same server as a replica on the
 * host server ("replica:LINE"), redirected to while the connection stays open.
 */
final class LineConnection implements AutoCloseable {
  static final int PORT = 9000;

  private final Process process;
  private final PrintWriter to;
  private final BufferedReader from;

  private LineConnection(Process process) {
    this.process = process;
    this.to =
        new PrintWriter(
            new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true);
    this.from =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
  }

  /** A line server that answers "NAME:line" for every line, until the peer closes. */
  private static String server(String name) {
    return String.join(
        "\n",
        "import socket, threading",
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
        "s.bind(('" + ORIGIN + "', " + PORT + ")); s.listen(16)",
        "def serve(c):",
        "    f = c.makefile('rw')",
        "    for line in f:",
        "        f.write('" + name + ":' + line); f.flush()",
        "while True:",
        "    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()",
        "");
  }

  /**
   * Starts the origin's line server and opens the client's connection to it; its first line is
   * answered by the origin.
   */
  static LineConnection openToOrigin(PaperNetwork net) throws IOException, InterruptedException {
    Path work = net.workDir();
    Files.writeString(work.resolve("origin9000.py"), server("origin"));
    Files.writeString(work.resolve("replica9000.py"), server("replica"));
    net.topology().spawn("origin", "python3", work.resolve("origin9000.py").toString());
    Thread.sleep(500);
    String client =
        "import socket, sys\n"
            + "c = socket.create_connection(('"
            + ORIGIN
            + "', "
            + PORT
            + "), timeout=10); f = c.makefile('rw')\n"
            + "for line in sys.stdin:\n"
            + "    f.write(line); f.flush(); print(f.readline().strip(), flush=True)\n";
    LineConnection c =
        new LineConnection(
            new ProcessBuilder(
                    "ip",
                    "netns",
                    "exec",
                    net.topology().nsName("client"),
                    "python3",
                    "-u",
                    "-c",
                    client)
                .start());
    try {
      assertEquals("origin:before", c.ask("before"));
    } catch (IOException | RuntimeException | Error e) {
      c.close();
      throw e;
    }
    return c;
  }

  /**
   * Installs the line server as a replica on the host server and redirects the service to it; the
   * open connection is still answered by the origin (pinned by the redirector's table).
   */
  void installReplica(PaperNetwork net) throws IOException, InterruptedException {
    net.installReplica(
        "tcp " + PORT, "python3", net.workDir().resolve("replica9000.py").toString());
    net.redirect(PORT, "tcp");
    assertEquals("origin:pinned", ask("pinned"), "the open connection stays on the origin");
  }

  /** Sends {@code line} on the open connection; the answer. */
  String ask(String line) throws IOException {
    to.println(line);
    return from.readLine();
  }

  /** A new connection's answer to "new": which server a new flow reaches. */
  static String fresh(PaperNetwork net) {
    return net.topology()
        .exec(
            "client",
            Duration.ofSeconds(10),
            "python3",
            "-c",
            "import socket; c = socket.create_connection(('"
                + ORIGIN
                + "', "
                + PORT
                + "), timeout=5);"
                + " f = c.makefile('rw'); f.write('new\\n'); f.flush(); print(f.readline().strip())")
        .stdout()
        .strip();
  }

  @Override
  public void close() {
    process.destroy();
    try {
      process.waitFor(3, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
