package net.hydranet.lab.netns;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * What the namespace networks ({@link PaperNetwork}, {@link ControlNetwork}) share: bounded waits,
 * the logs of the processes they started, a static web server for origins and replicas, and the
 * command line of this same hydranet.
 */
final class Daemons {
  private Daemons() {}

  /** Waits for {@code condition}, polling every {@code pollMillis}, at most {@code limit}. */
  static void await(String what, BooleanSupplier condition, Duration limit, long pollMillis)
      throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return;
      }
      Thread.sleep(pollMillis);
    }
    throw new IllegalStateException("timed out waiting for " + what);
  }

  /** Every process log kept in {@code work}, for a failure report. */
  static String logs(Path work) {
    StringBuilder sb = new StringBuilder();
    try (var files = Files.list(work)) {
      for (Path log : files.filter(p -> p.toString().endsWith(".log")).sorted().toList()) {
        sb.append("== log ").append(log.getFileName()).append('\n');
        sb.append(Files.readString(log, StandardCharsets.UTF_8));
      }
    } catch (IOException e) {
      sb.append("(cannot list logs: ").append(e.getMessage()).append(")\n");
    }
    return sb.toString();
  }

  /**
   * A static HTTP/1.1 (keep-alive) web server from Python's standard library, minus the one thing
   * http.server does that we cannot have here: HTTPServer.server_bind asks DNS for the name of its
   * own address. Arguments: ADDRESS PORT DIRECTORY.
   */
  static Path webServer(Path work) throws IOException {
    Path file = work.resolve("webserver.py");
    Files.writeString(
        file,
        String.join(
            "\n",
            "import functools, http.server, socketserver, sys",
            "class Server(http.server.ThreadingHTTPServer):",
            "    def server_bind(self):",
            "        socketserver.TCPServer.server_bind(self)",
            "        self.server_name, self.server_port = self.server_address[:2]",
            "class Handler(http.server.SimpleHTTPRequestHandler):",
            "    protocol_version = 'HTTP/1.1'",
            "    def log_message(self, *args):",
            "        pass",
            "handler = functools.partial(Handler, directory=sys.argv[3])",
            "Server((sys.argv[1], int(sys.argv[2])), handler).serve_forever()",
            ""));
    return file;
  }

  /** A directory {@code work/site-NAME} whose index.html is {@code index}. */
  static Path site(Path work, String name, String index) throws IOException {
    Path dir = work.resolve("site-" + name);
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("index.html"), index);
    return dir;
  }

  /** A file's text, or "" if it is missing or unreadable (a status file being replaced). */
  static String read(Path file) {
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      return "";
    }
  }

  /** {@code hydranet ctl WHAT} against a daemon's socket; why not, if it does not answer. */
  static String ctl(Path socket, String daemon, String what) {
    try {
      return net.hydranet.control.ctl.CtlServer.request(socket, what);
    } catch (IOException e) {
      return "(no answer from " + daemon + ": " + e + ")";
    }
  }

  /** A counter's value from {@code hydranet ctl counters} output ("NAME VALUE" lines), or 0. */
  static long counter(String counters, String name) {
    for (String line : counters.split("\n")) {
      String[] w = line.trim().split("\\s+");
      if (w.length == 2 && w[0].equals(name)) {
        return Long.parseLong(w[1]);
      }
    }
    return 0;
  }

  /** {@code hydranet} (how to run it) followed by {@code more}. */
  static String[] args(List<String> hydranet, String... more) {
    List<String> all = new ArrayList<>(hydranet);
    all.addAll(List.of(more));
    return all.toArray(new String[0]);
  }
}
