package net.hydranet.harness.live;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.hostserver.VirtualHostDirectory;

/**
 * The shell steps the IPv6 system tests share ({@link HostServerIpv6IT}, {@link RedirectorIpv6IT},
 * {@link Ipv6ClientsIT}, {@link HydraWebIpv6IT}): commands with a bounded wait, in a namespace or
 * spawned there, links, waiting for a condition, reading what real clients report (a route's path
 * MTU, iperf3's rate), and the removal of what a run left.
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

  /** Runs {@code argv} for at most 30 seconds. */
  static Result run(String... argv) throws IOException, InterruptedException {
    // The output goes to a file, not a pipe read to its end: reading first would wait for as long
    // as the command runs, and the bound would never apply.
    Path out = Files.createTempFile("ipv6shell", ".out");
    try {
      Process p =
          new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(out.toFile()).start();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
        return new Result(-1, read(out) + " (timed out)");
      }
      return new Result(p.exitValue(), read(out));
    } finally {
      Files.deleteIfExists(out);
    }
  }

  /** {@code curl -6 -s -S ARGS} in {@code ns}: its exit status, and the body or the error. */
  static Result curl6(String ns, String... args) throws IOException, InterruptedException {
    List<String> argv =
        new ArrayList<>(List.of("ip", "netns", "exec", ns, "curl", "-6", "-s", "-S"));
    argv.addAll(List.of(args));
    return run(argv.toArray(new String[0]));
  }

  /** Whether {@code tool} is on the PATH (for an {@code assumeTrue}). */
  static boolean onPath(String tool) throws IOException, InterruptedException {
    return run("sh", "-c", "command -v " + tool).exit == 0;
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
   * A veth pair from {@code a} in {@code nsA} to {@code b} in {@code nsB}, both ends with {@code
   * mtu}, up, and with their offloads off: a pcap router between them must see frames as they are
   * on the wire (no GRO-merged frames, finished checksums; shared notes, "Pitfalls seen").
   */
  static void veth(String nsA, String a, String nsB, String b, int mtu) throws Exception {
    sh(
        "ip link add "
            + a
            + " netns "
            + nsA
            + " mtu "
            + mtu
            + " type veth peer name "
            + b
            + " netns "
            + nsB
            + " mtu "
            + mtu);
    for (String[] end : new String[][] {{nsA, a}, {nsB, b}}) {
      in(end[0], "ethtool -K " + end[1] + " gro off gso off tso off tx off");
      in(end[0], "ip link set " + end[1] + " up");
    }
  }

  /**
   * Whether a redirector in {@code ns} has put in its kernel-side transit drop (TransitDrop's
   * nftables table), the last of its start-up steps.
   */
  static boolean transitTable(String ns) {
    try {
      return run("ip", "netns", "exec", ns, "nft", "list", "table", "netdev", "hydranet_transit")
              .exit
          == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * Waits up to {@code seconds} for {@code condition}; fails with {@code logs} if it never holds.
   */
  static void await(String what, BooleanSupplier condition, long seconds, Supplier<String> logs)
      throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting for " + what + logs.get());
      }
      Thread.sleep(100);
    }
  }

  /** Stops the processes a test started: SIGTERM, then SIGKILL after 15 s. */
  static void stop(List<Process> processes) throws InterruptedException {
    for (Process p : processes) {
      p.destroy();
    }
    for (Process p : processes) {
      if (!p.waitFor(15, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
  }

  private static final Pattern ROUTE_MTU = Pattern.compile("\\bmtu (\\d+)");

  /**
   * The path MTU the kernel of {@code ns} holds for {@code destination} ({@code ip -6 route get}: a
   * route exception learned from a Packet Too Big), or -1 when it holds none.
   */
  static int routeMtu(String ns, String destination) throws Exception {
    Result r = run("ip", "netns", "exec", ns, "ip", "-6", "route", "get", destination);
    if (r.exit != 0) {
      throw new IllegalStateException("ip -6 route get " + destination + ": " + r.output);
    }
    Matcher m = ROUTE_MTU.matcher(r.output);
    return m.find() ? Integer.parseInt(m.group(1)) : -1;
  }

  /** The sender's retransmitted segments from {@code iperf3 -J}'s report of a TCP test. */
  static long iperf3Retransmits(String json) throws IOException {
    return new ObjectMapper()
        .readTree(json)
        .path("end")
        .path("sum_sent")
        .path("retransmits")
        .asLong();
  }

  /** The receiver's rate in Mb/s from {@code iperf3 -J}'s report of a TCP test. */
  static double iperf3ReceivedMbps(String json) throws IOException {
    JsonNode end = new ObjectMapper().readTree(json).path("end").path("sum_received");
    if (!end.has("bits_per_second")) {
      throw new IllegalStateException("no end.sum_received in iperf3's report: " + json);
    }
    return end.path("bits_per_second").asDouble() / 1e6;
  }

  /**
   * Removes what a run left: the test's namespaces (their links go with them), and the namespaces
   * of a {@code hydranet vhost} of the origin 2001:2::10 whose process is gone (one killed with the
   * JVM).
   */
  static void cleanup(List<String> namespaces) throws Exception {
    cleanup(namespaces, "2001:2::10");
  }

  /** As {@link #cleanup(List)}, for the virtual hosts of {@code origin}. */
  static void cleanup(List<String> namespaces, String origin) throws Exception {
    for (String ns : namespaces) {
      run("ip", "netns", "del", ns);
    }
    removeStaleVhosts(origin);
  }

  /**
   * Removes the namespaces of {@code hydranet vhost}s of the IPv6 {@code origin} whose process is
   * gone (one killed with the JVM that ran the test): a namespace per process, named by the
   * origin's 32 hex digits and the pid ({@code VirtualHostDirectory.namespace6}).
   */
  static void removeStaleVhosts(String origin) throws Exception {
    long[] a = Ipv6Header.parseAddress(origin);
    String stale = VirtualHostDirectory.namespace6(a[0], a[1], 0);
    String prefix = stale.substring(0, stale.length() - 1);
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
