package net.hydranet.harness.live;

import static net.hydranet.lab.netns.ControlNetwork.HS1;
import static net.hydranet.lab.netns.ControlNetwork.HS2;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.lab.netns.ControlNetwork;
import net.hydranet.lab.netns.ExecResult;
import net.hydranet.lab.netns.NamespaceNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hitless by design (issue 20), shown with real clients: on {@link ControlNetwork} (r1 near the
 * client, hs1 beside it, hs2 behind r2; both redirectors tunnel to both host servers in IP-in-IP,
 * the default, in {@link #ipInIp}, and in the second-chance tunnel, GUE with a hop list, in {@link
 * #gue}), kept-alive HTTP/1.1 connections and an iperf3 upload per path — to the origin, to the
 * near replica (hs1), to the far one (hs2); iperf3 writes 128 KiB blocks, so its segments from the
 * client are full-size, as large as the redirector's MSS clamp lets them be — go through each event
 * an operator causes, and the test counts the connections each event broke:
 *
 * <ol>
 *   <li>a replica installed on hs1 ({@code hydranet replica install}, the replica service's signed
 *       bundle): the origin's connections stay there, pinned;
 *   <li>a farther replica added on hs2: new flows stay at hs1;
 *   <li>hs1's replica drained and removed ({@code hydranet replica remove --drain-ms}): its
 *       connections are served through the drain and finish in it, as a drain means; new flows go
 *       to hs2, and the far path's clients start there;
 *   <li>a replica installed on hs1 again: new flows go to it, the far path's stay at hs2;
 *   <li>r1 killed with SIGKILL and started again; 6. r1 stopped with SIGTERM and started again. The
 *       new r1 has no pins: it sends every flow to hs1 by the hash, and hs1 passes what it holds no
 *       socket for on — the far path's segments to hs2, the origin's through hs2 back to r1, which
 *       forwards them to the origin (hostserver/SECOND-CHANCE.md). In IP-in-IP hs1 has no list: it
 *       passes them back to r1 in IP-in-IP, and r1 walks the candidates itself — on to hs2, which
 *       holds the far path's and passes the origin's back again, then to the origin — and pins each
 *       flow where it went.
 * </ol>
 *
 * A connection counts as broken if its request fails (reset, timeout, closed), if it is answered by
 * another server than before, or if it makes no progress within {@link #SETTLE} of the event; an
 * iperf3 stream (its control and data connections) if its client exits or reports no data for that
 * long. The table of event × path → broken/total is printed, and every cell must be 0. The ECMP
 * events (a redirector of three killed, a fourth added) are {@code EcmpIT}'s.
 */
@Timeout(420)
class HitlessIT {
  /** Kept-alive HTTP connections per path, besides its iperf3 stream. */
  private static final int CONNECTIONS = 4;

  private static final int IPERF_MBPS = 2;
  private static final long DRAIN_MILLIS = 8_000;

  /**
   * How long every connection of a path has, after an event, to answer again: a restarted JVM on
   * two shared cores and TCP's retransmission back-off after it.
   */
  private static final Duration SETTLE = Duration.ofSeconds(60);

  private static final List<String> PATHS = List.of("origin", "near", "far");
  private static final Pattern INTERVAL =
      Pattern.compile(
          "^\\[\\s*\\d+]\\s+[\\d.]+-[\\d.]+\\s+sec\\s+([\\d.]+)\\s+\\w?Bytes", Pattern.MULTILINE);

  private ControlNetwork net;
  private final Map<String, Map<String, String>> table = new LinkedHashMap<>();
  private final List<String> findings = new ArrayList<>();

  /** One path's clients: kept-alive HTTP connections and an iperf3 stream. */
  private final class Clients {
    final String path;
    final String server;
    final Path status;
    final Path stop;
    final Process http;
    final Process iperf;
    boolean stopped;

    Clients(String path, String server) throws IOException, InterruptedException {
      this.path = path;
      this.server = server;
      String tag = path + "-" + server.replaceAll("[^A-Za-z0-9]", "");
      this.status = net.workDir().resolve("conns-" + tag + ".status");
      this.stop = net.workDir().resolve("conns-" + tag + ".stop");
      this.http = net.keepAliveConnections(CONNECTIONS, status, stop, (int) SETTLE.toSeconds());
      this.iperf = net.iperf3Client(IPERF_MBPS, 600);
      try {
        net.await(
            "the " + path + " path's connections to be answered by " + server,
            () -> {
              List<String[]> c = connections();
              return c.size() == CONNECTIONS
                  && c.stream().allMatch(l -> l[3].equals("up") || l[3].startsWith("broken"))
                  && (intervals() >= 2 || !iperf.isAlive());
            });
      } catch (IllegalStateException e) {
        throw new IllegalStateException(
            e.getMessage() + "\n" + read(status) + net.processLog(iperf) + net.processLog(http), e);
      }
      assertTrue(intervals() >= 2, path + " path: iperf3\n" + net.processLog(iperf));
      List<String[]> c = connections();
      for (String[] l : c) {
        assertEquals(server, l[1], path + " path: connection " + l[0] + " answered by " + l[1]);
        assertEquals("up", l[3], path + " path: connection " + l[0] + " " + l[3]);
      }
    }

    private static String read(Path file) {
      try {
        return Files.exists(file) ? Files.readString(file) : "(no " + file + ")\n";
      } catch (IOException e) {
        return e.toString();
      }
    }

    /** "INDEX SERVER ANSWERS STATE" per connection, from the client's status file. */
    List<String[]> connections() {
      List<String[]> out = new ArrayList<>();
      try {
        if (Files.exists(status)) {
          for (String line : Files.readAllLines(status)) {
            String[] w = line.strip().split(" ", 4);
            if (w.length == 4) {
              out.add(w);
            }
          }
        }
      } catch (IOException e) {
        // being replaced: read again at the next poll
      }
      return out;
    }

    /** Seconds of the iperf3 stream with data in them so far. */
    int intervals() {
      Matcher m = INTERVAL.matcher(net.processLog(iperf));
      int n = 0;
      while (m.find()) {
        if (Double.parseDouble(m.group(1)) > 0) {
          n++;
        }
      }
      return n;
    }

    /** Why the iperf3 stream is broken, or null: its client ended, or said so. */
    String iperfBroken() {
      String log = net.processLog(iperf);
      if (log.contains("iperf3: error")) {
        return log.substring(log.indexOf("iperf3: error")).lines().findFirst().orElse("");
      }
      if (!stopped && !iperf.isAlive()) {
        return "client exited " + iperf.exitValue();
      }
      return null;
    }

    /** Ends the path's connections as a client that is done would, and the iperf3 stream. */
    void finish() throws IOException, InterruptedException {
      stopped = true;
      Files.writeString(stop, "stop");
      iperf.destroy();
      http.waitFor(SETTLE.toSeconds() + 5, TimeUnit.SECONDS);
      iperf.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** What one path looked like before an event. */
  private record Before(Clients clients, Map<String, Integer> answers, int intervals) {}

  interface Step {
    void run() throws Exception;
  }

  /**
   * Runs {@code step} with the {@code paths} open through it, waits until each of their connections
   * has answered again (or {@link #SETTLE} passed), and records broken/total per path.
   */
  private void event(String name, Step step, Clients... paths) throws Exception {
    List<Before> before = new ArrayList<>();
    for (Clients c : paths) {
      Map<String, Integer> answers = new LinkedHashMap<>();
      for (String[] l : c.connections()) {
        if (l[3].equals("up")) {
          answers.put(l[0], Integer.parseInt(l[2]));
        }
      }
      before.add(new Before(c, answers, c.iperfBroken() == null ? c.intervals() : -1));
    }
    long start = System.nanoTime();
    try {
      step.run();
    } finally {
      long stepMillis = (System.nanoTime() - start) / 1_000_000;
      long deadline = System.nanoTime() + SETTLE.toNanos();
      while (System.nanoTime() < deadline && !before.stream().allMatch(HitlessIT::settled)) {
        Thread.sleep(200);
      }
      Map<String, String> row = new LinkedHashMap<>();
      for (Before b : before) {
        int broken = 0;
        int total = b.answers().size() + (b.intervals() >= 0 ? 1 : 0);
        Map<String, String[]> now = byIndex(b.clients().connections());
        for (var e : b.answers().entrySet()) {
          String[] l = now.get(e.getKey());
          String state = l == null ? "gone" : l[3];
          boolean ok =
              state.equals("closed")
                  || (state.equals("up") && Integer.parseInt(l[2]) > e.getValue());
          if (!ok) {
            broken++;
            finding(name, b.clients().path, "connection " + e.getKey() + " " + state);
          }
        }
        if (b.intervals() >= 0) {
          String why = b.clients().iperfBroken();
          if (why == null && !b.clients().stopped && b.clients().intervals() <= b.intervals()) {
            why = "no data for " + SETTLE.toSeconds() + " s";
          }
          if (why != null) {
            broken++;
            finding(name, b.clients().path, "iperf3 " + why);
          }
        }
        row.put(b.clients().path, broken + "/" + total);
      }
      table.put(name + " (" + stepMillis + " ms)", row);
    }
  }

  private void finding(String event, String path, String what) {
    findings.add(event + ": " + path + " " + what);
  }

  /** Every connection open before has answered again or ended; the iperf3 stream moved on. */
  private static boolean settled(Before b) {
    Map<String, String[]> now = byIndex(b.clients().connections());
    for (var e : b.answers().entrySet()) {
      String[] l = now.get(e.getKey());
      if (l != null && l[3].equals("up") && Integer.parseInt(l[2]) < e.getValue() + 2) {
        return false;
      }
    }
    return b.intervals() < 0
        || b.clients().stopped
        || b.clients().iperfBroken() != null
        || b.clients().intervals() >= b.intervals() + 2;
  }

  private static Map<String, String[]> byIndex(List<String[]> lines) {
    Map<String, String[]> m = new LinkedHashMap<>();
    for (String[] l : lines) {
      m.put(l[0], l);
    }
    return m;
  }

  /** The first line of a fresh request's answer: which server a new flow reaches. */
  private String newFlowServer() {
    ExecResult r = net.curl(2);
    return r.ok() ? r.stdout().strip() : "";
  }

  private void awaitNewFlowsAt(String server) throws InterruptedException {
    net.await("new flows to reach " + server, () -> newFlowServer().equals(server));
  }

  private String printTable() {
    StringBuilder sb = new StringBuilder("hitless: broken/total per event and path\n");
    sb.append(String.format("  %-58s %-8s %-8s %-8s%n", "event", "origin", "near", "far"));
    for (var e : table.entrySet()) {
      sb.append(String.format("  %-58s", e.getKey()));
      for (String p : PATHS) {
        sb.append(String.format(" %-8s", e.getValue().getOrDefault(p, "-")));
      }
      sb.append('\n');
    }
    for (String f : findings) {
      sb.append("  broken: ").append(f).append('\n');
    }
    return sb.toString();
  }

  private String counters() {
    return String.format(
        "hitless: hs1 passed_on_hop_1 %d, passed_on_origin %d, passed_on_origin_no_list %d,"
            + " drop_pass_on_failed %d, socket checks %d; hs2 passed_on_hop_1 %d,"
            + " passed_on_origin %d, passed_on_origin_no_list %d; r1 gue_encapsulated %d,"
            + " tunnelled_to_origin %d, flows_repinned_to_origin %d,"
            + " passed_back_to_next_candidate %d, flows_repinned_to_next_candidate %d,"
            + " drop_tunnel_refused %d",
        hs("hs1", "passed_on_hop_1"),
        hs("hs1", "passed_on_origin"),
        hs("hs1", "passed_on_origin_no_list"),
        hs("hs1", "drop_pass_on_failed"),
        hs("hs1", "second_chance_socket_checks"),
        hs("hs2", "passed_on_hop_1"),
        hs("hs2", "passed_on_origin"),
        hs("hs2", "passed_on_origin_no_list"),
        r1("gue_encapsulated"),
        r1("tunnelled_to_origin"),
        r1("flows_repinned_to_origin"),
        r1("passed_back_to_next_candidate"),
        r1("flows_repinned_to_next_candidate"),
        r1("drop_tunnel_refused"));
  }

  /** A counter of a host server's status (since its start). */
  private long hs(String hs, String counter) {
    return NamespaceNetwork.counterIn(net.ctl(hs, "status"), counter);
  }

  /** A counter of r1's status (its forwarding plane's, since its last start). */
  private long r1(String counter) {
    return NamespaceNetwork.counterIn(net.ctl("r1", "status"), counter);
  }

  /** Restarts r1 (a SIGKILL, or a SIGTERM and its exit) and waits until it forwards to both. */
  private void restartR1(boolean kill) throws Exception {
    if (kill) {
      net.kill("r1");
    } else {
      Process r1 = net.terminate("r1");
      assertTrue(r1.waitFor(30, TimeUnit.SECONDS), "r1 did not exit on SIGTERM");
      Files.deleteIfExists(net.ctlPath("r1"));
    }
    net.startRedirector("r1");
    net.await(
        "the restarted r1 to learn both replicas",
        () -> {
          String t = net.ctl("r1", "table");
          return t.contains(HS1) && t.contains(HS2);
        });
    awaitNewFlowsAt("REPLICA near-2");
  }

  /** IP-in-IP (RFC 2003) to both host servers, the default. */
  @Test
  void ipInIp() throws Exception {
    noEstablishedConnectionBreaksThroughReplicaAndRedirectorEvents(false);
  }

  /** The second-chance tunnel (GUE with a hop list) to both host servers. */
  @Test
  void gue() throws Exception {
    noEstablishedConnectionBreaksThroughReplicaAndRedirectorEvents(true);
  }

  private void noEstablishedConnectionBreaksThroughReplicaAndRedirectorEvents(boolean gue)
      throws Exception {
    table.clear();
    findings.clear();
    System.out.println("hitless: encapsulation " + (gue ? "gue" : "ipip"));
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    Path jar = RedirectorUnderTest.repositoryRoot().resolve("router/target/hydranet.jar");
    assumeTrue(Files.exists(jar), "router/target/hydranet.jar is built by mvn package");
    String java = ProcessHandle.current().info().command().orElse("java");
    ControlNetwork built =
        new ControlNetwork("h9f", List.of(java, "-jar", jar.toString()), Duration.ofSeconds(90))
            .replicaService();
    try (ControlNetwork n = gue ? built.secondChanceTunnel() : built) {
      net = n;
      net.start(1000);
      net.iperf3Server();
      List<Clients> open = new ArrayList<>();
      try {
        Clients origin = new Clients("origin", "ORIGIN_" + ControlNetwork.ORIGIN);
        open.add(origin);

        event(
            "a replica installed (hs1, near)",
            () -> {
              net.installReplica("hs1", "near-1");
              awaitNewFlowsAt("REPLICA near-1");
            },
            origin);
        Clients near1 = new Clients("near", "REPLICA_near-1");
        open.add(near1);

        event(
            "a farther replica added (hs2)",
            () -> {
              net.installReplica("hs2", "far-1");
              net.await("r1 to learn hs2 through r2", () -> net.ctl("r1", "table").contains(HS2));
              assertEquals("REPLICA near-1", newFlowServer(), "the nearer replica keeps new flows");
            },
            origin,
            near1);

        event(
            "hs1's replica drained and removed",
            () -> {
              Process remove = net.removeReplica("hs1", "near-1", DRAIN_MILLIS);
              net.await(
                  "r1 to give hs1 weight 0",
                  () ->
                      net.ctl("r1", "table")
                          .matches("(?s).*  " + HS1.replace(".", "\\.") + " .*weight 0 .*"));
              awaitNewFlowsAt("REPLICA far-1");
              // A drain is for the connections open to the replica to finish there: they are
              // served through it, then their clients are done.
              Before during = new Before(near1, Map.of(), near1.intervals());
              int answered =
                  near1.connections().stream().mapToInt(l -> Integer.parseInt(l[2])).sum();
              net.await(
                  "the near path to be served during the drain",
                  () ->
                      near1.connections().stream().mapToInt(l -> Integer.parseInt(l[2])).sum()
                              >= answered + 2 * CONNECTIONS
                          && settled(during));
              near1.finish();
              assertTrue(
                  remove.waitFor(DRAIN_MILLIS / 1000 + 60, TimeUnit.SECONDS), "remove hangs");
              assertTrue(
                  net.processLog(remove).lines().anyMatch(l -> l.startsWith("OK")),
                  "hydranet replica remove: " + net.processLog(remove));
              net.await("r1 to withdraw hs1", () -> !net.ctl("r1", "table").contains(HS1));
            },
            origin,
            near1);
        open.remove(near1);
        Clients far = new Clients("far", "REPLICA_far-1");
        open.add(far);

        event(
            "a replica installed again (hs1, near)",
            () -> {
              net.installReplica("hs1", "near-2");
              awaitNewFlowsAt("REPLICA near-2");
            },
            origin,
            far);
        Clients near2 = new Clients("near", "REPLICA_near-2");
        open.add(near2);

        event("r1 restarted after SIGKILL", () -> restartR1(true), origin, near2, far);
        System.out.println(counters());
        event("r1 restarted after SIGTERM", () -> restartR1(false), origin, near2, far);
        System.out.println(counters());
      } finally {
        System.out.print(printTable());
        for (Clients c : open) {
          c.finish();
        }
      }
      assertTrue(findings.isEmpty(), printTable() + net.logsOf("r1", "hs1", "hs2"));
      if (gue) {
        // The far path survived the restarts through the chain, not by luck: hs1 passed its
        // segments on to hs2 (hop 1).
        assertTrue(hs("hs1", "passed_on_hop_1") >= 1, counters() + "\n" + net.ctl("hs1", "status"));
      } else {
        // The origin and far paths survived them through hs1 passing their segments back to r1,
        // and r1 walking them on to hs2 (the far path's stays there, the origin's comes back).
        assertTrue(
            hs("hs1", "passed_on_origin_no_list") >= 1,
            counters() + "\n" + net.ctl("hs1", "status"));
        assertTrue(
            r1("passed_back_to_next_candidate") >= 1 && r1("flows_repinned_to_next_candidate") >= 1,
            counters() + "\n" + net.ctl("r1", "status"));
      }
    }
  }
}
