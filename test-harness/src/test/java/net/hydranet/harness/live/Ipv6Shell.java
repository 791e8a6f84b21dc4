package net.hydranet.harness.live;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The shell steps the IPv6 system tests share ({@link HostServerIpv6IT}, {@link RedirectorIpv6IT},
 * {@link HydraWebIpv6IT}): commands with a bounded wait, in a namespace or spawned there, and the
 * removal of what a run left.
 */
final class Ipv6Shell {
  private Ipv6Shell() {}

  /** A command's exit status and its output (stdout and stderr). */
  static final class Result {
    final int exit;
    final String output;

    Result(int exit, String output) {
      this.exit = exit;
      this.output = output;
    }
  }

  static Result run(String... argv) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return new Result(-1, out + " (timed out)");
    }
    return new Result(p.exitValue(), out);
  }

  static void sh(String command) throws Exception {
    Result r = run("sh", "-c", command);
    if (r.exit != 0) {
      throw new IllegalStateException(command + ": " + r.output);
    }
  }

  static void in(String ns, String command) throws Exception {
    sh("ip netns exec " + ns + " " + command);
  }

  static Process spawn(String ns, String command, Path log) throws IOException {
    return new ProcessBuilder("sh", "-c", "exec ip netns exec " + ns + " " + command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  /**
   * Removes what a run left: the test's namespaces (their links go with them), and the namespaces
   * of a {@code hydranet vhost} of the origin 2001:2::10 whose process is gone (one killed with the
   * JVM).
   */
  static void cleanup(List<String> namespaces) throws Exception {
    for (String ns : namespaces) {
      run("ip", "netns", "del", ns);
    }
    removeStaleVhosts("2001:2::10");
  }

  /**
   * Removes the namespaces of {@code hydranet vhost}s of the IPv6 {@code origin} whose process is
   * gone (one killed with the JVM that ran the test): a namespace per process, named by the
   * origin's 32 hex digits and the pid ({@code VirtualHostDirectory.namespace6}).
   */
  static void removeStaleVhosts(String origin) throws Exception {
    long[] a = net.hydranet.forwarding.wire.Ipv6Header.parseAddress(origin);
    String prefix = String.format("hydranet-vh6-%016x%016x-", a[0], a[1]);
    Path netns = Path.of("/run/netns");
    if (Files.isDirectory(netns)) {
      try (var names = Files.list(netns)) {
        for (Path n : names.toList()) {
          String name = n.getFileName().toString();
          if (name.startsWith(prefix)
              && ProcessHandle.of(Long.parseLong(name.substring(prefix.length()))).isEmpty()) {
            run("ip", "netns", "del", name);
          }
        }
      }
    }
  }

  static String read(Path p) {
    try {
      return Files.exists(p) ? Files.readString(p) : "";
    } catch (IOException e) {
      return "";
    }
  }

  /** A counter's value from a status file's "name value" lines, or 0. */
  static long counter(String status, String name) {
    for (String line : status.split("\n")) {
      String[] w = line.strip().split("\\s+");
      if (w.length == 2 && w[0].equals(name)) {
        return Long.parseLong(w[1]);
      }
    }
    return 0;
  }
}
