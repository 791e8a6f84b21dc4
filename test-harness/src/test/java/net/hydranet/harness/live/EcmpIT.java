package net.hydranet.harness.live;

import static net.hydranet.lab.netns.EcmpNetwork.FAR;
import static net.hydranet.lab.netns.EcmpNetwork.HS1;
import static net.hydranet.lab.netns.EcmpNetwork.HS2;
import static net.hydranet.lab.netns.EcmpNetwork.HTTP;
import static net.hydranet.lab.netns.EcmpNetwork.NEAR;
import static net.hydranet.lab.netns.EcmpNetwork.body;
import static net.hydranet.lab.netns.EcmpNetwork.redirector;
import static net.hydranet.lab.netns.EcmpNetwork.upstreamAddress;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.lab.netns.EcmpNetwork;
import net.hydranet.lab.netns.EcmpNetwork.Replica;
import net.hydranet.lab.netns.EcmpNetwork.RouteChange;
import net.hydranet.lab.netns.ExecResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three redirectors behind ECMP with BIRD 2 ({@link EcmpNetwork}), with real clients on three
 * paths: keep-alive HTTP connections and an iperf3 stream that live at the origin (opened before
 * any replica), at the far replica (opened while it was the only one) and at the near replica
 * (opened once it came, the far one draining). Then the redirectors change under them: one of the
 * three is killed with SIGKILL (withdrawn from the upstream's multipath route within a second,
 * through its liveness link alone), a fourth is started and added, and one is stopped with SIGTERM.
 * A connection that rehashes to another redirector survives by the same consistent choice there, or
 * by the host servers' second chance (hostserver/SECOND-CHANCE.md): the near replica passes on what
 * it holds no socket for, to the far one, and that one to the redirector for the origin. Broken
 * connections are counted per event and path and printed as a table, with the withdrawal time and
 * each redirector's share of new flows; the target, asserted, is none broken.
 */
class EcmpIT {
  private static final int FLOWS = 200;
  private static final int KEEPALIVE = 8;
  private static final int REQUEST_TIMEOUT_SECONDS = 15;
  private static final int IPERF_MBITS = 10;
  private static final long SETTLE_MILLIS = 4000;

  /** The clients of one path: where they live, and what they are. */
  private record ClientPath(
      String name, String server, Process keepAlive, Process iperf, Map<Integer, Long> carried) {}

  /** One change of the redirectors, and when it was made (epoch ms). */
  private record Event(String name, long at) {}

  /** The redirectors tunnel to both host servers in GUE with a hop list. */
  @Test
  @Timeout(900)
  void shouldKeepEveryConnectionOfEveryPathWhileRedirectorsComeAndGo() throws Exception {
    keepEveryConnection(true);
  }

  /**
   * The same in IP-in-IP, the default: every path's connections must survive too. IP-in-IP carries
   * no hop list, so the near host server passes what it holds no socket for back to the redirector
   * that sent it, and that redirector walks the candidates itself (SECOND-CHANCE.md): on to the far
   * replica's host server, which holds the far path's connections and passes the origin's back
   * again, then to the origin.
   */
  @Test
  @Timeout(900)
  void shouldKeepEveryConnectionOfEveryPathInIpInIp() throws Exception {
    keepEveryConnection(false);
  }

  private void keepEveryConnection(boolean gue) throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    assumeTrue(
        EcmpNetwork.bird().isPresent(),
        "BIRD 2 is not installed (apt-get install bird2; bin/setup)");
    assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/iperf3")), "iperf3 is not installed (bin/setup)");
    Path jar = RedirectorUnderTest.repositoryRoot().resolve("router/target/hydranet.jar");
    assumeTrue(Files.exists(jar), "router/target/hydranet.jar is built by mvn package");
    String java = ProcessHandle.current().info().command().orElse("java");
    // Seven JVMs start at once on a shared 2-core machine: C1 only and the serial collector
    // halve their start-up CPU; nothing measured here depends on the data path's speed.
    List<String> hydranet =
        List.of(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", jar.toString());
    try (EcmpNetwork net = new EcmpNetwork("h9g", hydranet)) {
      if (!gue) {
        net.ipInIp();
      }
      System.out.println("ECMP: encapsulation " + (gue ? "gue" : "ipip"));
      try {
        run(net);
      } catch (AssertionError | RuntimeException e) {
        System.out.println(net.logs());
        throw e;
      }
    }
  }

  private static void run(EcmpNetwork net) throws Exception {
    long t = System.nanoTime();
    net.start(3);
    System.out.printf(
        "ECMP: three redirectors announced and routed %.1f s after start%n",
        (System.nanoTime() - t) / 1e9);
    List<Integer> running = new ArrayList<>(List.of(1, 2, 3));

    // 1. Connections that live at the origin, the far replica and the near one, in the order a
    //    control plane would make it so.
    Path stop = net.workDir().resolve("stop-clients");
    ClientPath origin = open(net, "origin", "origin", running, stop);
    net.serve(List.of(new Replica(HS2, 1)));
    net.await("new flows to go to the far replica", () -> answeredBy(net, FAR));
    ClientPath far = open(net, "far replica", FAR, running, stop);
    net.serve(List.of(new Replica(HS1, 1), new Replica(HS2, 0)));
    net.await("new flows to go to the near replica", () -> answeredBy(net, NEAR));
    ClientPath near = open(net, "near replica", NEAR, running, stop);
    List<ClientPath> paths = List.of(origin, near, far);
    long onR2 = paths.stream().mapToLong(p -> p.carried().get(2)).sum();
    assertTrue(
        onR2 > 0, "no connection hashed to r2, the one killed: the event would test nothing");

    // 2. New flows spread over the three, and every one goes to the near replica.
    Map<Integer, Long> shares = newFlows(net, running, "three redirectors");
    for (int n : running) {
      assertTrue(
          shares.get(n) >= FLOWS * 15 / 100,
          redirector(n) + " got " + shares.get(n) + " of " + FLOWS + " new flows: " + shares);
    }

    List<Event> events = new ArrayList<>();
    Map<String, Map<String, Integer>> streamBroken = new LinkedHashMap<>();
    Map<String, Integer> streamsDown = new LinkedHashMap<>();

    // 3. SIGKILL r2: its BIRD withdraws as its liveness link goes with the process.
    Process monitor = net.monitorRoutes();
    Thread.sleep(300); // the monitor subscribes
    long killed = net.killRedirector(2);
    running.remove(Integer.valueOf(2));
    events.add(new Event("r2 killed (SIGKILL)", killed));
    net.await("the upstream to drop r2", () -> !net.nexthops().contains(upstreamAddress(2)));
    Thread.sleep(200);
    long withdrawn = firstChangeWithout(net, monitor, killed, upstreamAddress(2));
    System.out.printf(
        "ECMP: r2 killed (SIGKILL): withdrawn from the upstream's route %d ms later; next hops"
            + " now %s%n",
        withdrawn - killed, net.nexthops());
    assertTrue(withdrawn - killed <= 1000, "withdrawal took " + (withdrawn - killed) + " ms");
    assertEquals(
        List.of(upstreamAddress(1), upstreamAddress(3)), net.nexthops().stream().sorted().toList());
    Thread.sleep(SETTLE_MILLIS);
    streamBroken.put(events.get(0).name(), streamsBroken(net, paths, streamsDown));

    // 4. A fourth redirector: started, announced, and given new flows.
    long added = System.currentTimeMillis();
    net.startRedirector(4);
    running.add(4);
    net.await("the upstream to add r4", () -> net.nexthops().contains(upstreamAddress(4)));
    long routed = firstChangeWith(net, monitor, added, upstreamAddress(4));
    events.add(new Event("r4 added", routed));
    System.out.printf(
        "ECMP: r4 started: in the upstream's route %d ms after its JVM was started; next hops"
            + " %s%n",
        routed - added, net.nexthops());
    Thread.sleep(SETTLE_MILLIS);
    streamBroken.put(events.get(1).name(), streamsBroken(net, paths, streamsDown));
    Map<Integer, Long> after = newFlows(net, running, "r1, r3 and the new r4");
    assertTrue(after.get(4) >= FLOWS * 15 / 100, "r4 got " + after.get(4) + " new flows: " + after);

    // 5. SIGTERM r3: it withdraws first and forwards a moment more.
    long terminated = net.terminateRedirector(3);
    running.remove(Integer.valueOf(3));
    events.add(new Event("r3 stopped (SIGTERM)", terminated));
    net.await("the upstream to drop r3", () -> !net.nexthops().contains(upstreamAddress(3)));
    Thread.sleep(200);
    long drained = firstChangeWithout(net, monitor, terminated, upstreamAddress(3));
    System.out.printf(
        "ECMP: r3 stopped (SIGTERM): withdrawn %d ms later; next hops now %s%n",
        drained - terminated, net.nexthops());
    // The 1 s is for a redirector killed; a stopped one withdraws from a JVM shutdown hook
    // and forwards 500 ms more after, so nothing waits on it: 1003 ms was seen at a load of 35.
    assertTrue(drained - terminated <= 2000, "withdrawal took " + (drained - terminated) + " ms");
    Thread.sleep(SETTLE_MILLIS);
    streamBroken.put(events.get(2).name(), streamsBroken(net, paths, streamsDown));

    // 6. The clients stop; every break is put down to the last event before it.
    Files.writeString(stop, "");
    for (ClientPath p : paths) {
      assertTrue(
          p.keepAlive().waitFor(REQUEST_TIMEOUT_SECONDS + 10, TimeUnit.SECONDS),
          p.name() + ": the keep-alive client did not end");
    }
    Map<String, Map<String, Integer>> table = new LinkedHashMap<>();
    table.put("before the events", new LinkedHashMap<>());
    for (Event e : events) {
      table.put(e.name(), new LinkedHashMap<>(streamBroken.get(e.name())));
    }
    for (ClientPath p : paths) {
      for (long[] b : brokenAt(net.processLog(p.keepAlive()))) {
        table.get(eventOf(events, b[0])).merge(p.name(), 1, Integer::sum);
      }
    }
    int total = KEEPALIVE + 1;
    printTable(table, paths, total);
    for (ClientPath p : paths) {
      EcmpNetwork.Stream s = EcmpNetwork.iperfStream(net.processLog(p.iperf()));
      System.out.printf(
          "ECMP: %s: iperf3 %d one-second intervals, longest without data %d s%s; keep-alive"
              + " client: %s%n",
          p.name(),
          s.mbps().size(),
          s.longestStall(),
          s.error().isEmpty() ? "" : ", " + s.error(),
          summary(net.processLog(p.keepAlive())));
      p.iperf().destroy();
    }
    System.out.printf(
        "ECMP: pass-ons: near replica's host server %s; far's %s; forwarded to the origin by r1"
            + " %d, r4 %d; walked on to the next candidate by r1 %d, r4 %d%n",
        passOns(net, NEAR),
        passOns(net, FAR),
        net.counter(redirector(1), "tunnelled_to_origin"),
        net.counter(redirector(4), "tunnelled_to_origin"),
        net.counter(redirector(1), "passed_back_to_next_candidate"),
        net.counter(redirector(4), "passed_back_to_next_candidate"));

    // What the target is, said plainly; the table above is the report.
    for (ClientPath p : paths) {
      String log = net.processLog(p.keepAlive());
      for (var row : table.entrySet()) {
        assertEquals(
            0,
            row.getValue().getOrDefault(p.name(), 0),
            p.name() + " path broken at " + row.getKey() + ":\n" + log);
      }
      assertTrue(
          log.contains("CHANGED 0"), p.name() + ": a connection changed its server:\n" + log);
      assertTrue(
          log.contains("SERVED " + KEEPALIVE + " " + body(p.server()).strip()),
          p.name() + ": not every connection served by " + p.server() + ":\n" + log);
    }
  }

  /**
   * Opens a path's clients — {@link #KEEPALIVE} keep-alive connections and an iperf3 stream — and
   * waits until every connection is answered by {@code server} and the stream flows; returns them
   * with the flows each redirector created meanwhile.
   */
  private static ClientPath open(
      EcmpNetwork net, String name, String server, List<Integer> running, Path stop)
      throws Exception {
    Map<Integer, Long> before = flowsCreated(net, running);
    Process keepAlive = net.keepAlive(HTTP, KEEPALIVE, REQUEST_TIMEOUT_SECONDS, stop);
    Process iperf = net.iperf(IPERF_MBITS, 300);
    net.await(
        name + ": every keep-alive connection to answer and the iperf3 stream to flow",
        () ->
            lines(net, keepAlive, "OPEN") == KEEPALIVE
                && EcmpNetwork.iperfStream(net.processLog(iperf)).flowing(1));
    Map<Integer, Long> carried = delta(before, flowsCreated(net, running));
    long right =
        net.processLog(keepAlive)
            .lines()
            .filter(l -> l.startsWith("OPEN ") && l.endsWith(body(server).strip()))
            .count();
    System.out.printf(
        "ECMP: %s path: %d keep-alive connections and an iperf3 stream (its control and data"
            + " connections) open, flows by redirector %s%n",
        name, KEEPALIVE, carried);
    assertEquals(
        KEEPALIVE,
        right,
        name + ": every connection answered by " + server + "\n" + net.processLog(keepAlive));
    return new ClientPath(name, server, keepAlive, iperf, carried);
  }

  private static boolean answeredBy(EcmpNetwork net, String server) {
    return net.curl(HTTP).stdout().equals(body(server));
  }

  /**
   * The paths whose iperf3 stream is newly down at this checkpoint: after an event, a stream has
   * until its send timeout to flow again (two intervals with data) or to end.
   */
  private static Map<String, Integer> streamsBroken(
      EcmpNetwork net, List<ClientPath> paths, Map<String, Integer> down)
      throws InterruptedException {
    Map<String, Integer> out = new LinkedHashMap<>();
    for (ClientPath p : paths) {
      if (down.containsKey(p.name())) {
        continue;
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(25);
      boolean flowing = false;
      while (System.nanoTime() < deadline) {
        flowing =
            p.iperf().isAlive() && EcmpNetwork.iperfStream(net.processLog(p.iperf())).flowing(2);
        if (flowing || !p.iperf().isAlive()) {
          break;
        }
        Thread.sleep(250);
      }
      if (!flowing) {
        down.put(p.name(), 1);
        out.put(p.name(), 1);
      }
    }
    return out;
  }

  private static void printTable(
      Map<String, Map<String, Integer>> table, List<ClientPath> paths, int total) {
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            "ECMP: broken connections by event and path (broken/open; a path has %d keep-alive"
                + " HTTP connections and an iperf3 stream)%n",
            KEEPALIVE));
    sb.append(String.format("  %-22s", "event"));
    for (ClientPath p : paths) {
      sb.append(String.format(" %-14s", p.name()));
    }
    sb.append(String.format("%n"));
    Map<String, Integer> remaining = new TreeMap<>();
    for (ClientPath p : paths) {
      remaining.put(p.name(), total);
    }
    for (var row : table.entrySet()) {
      sb.append(String.format("  %-22s", row.getKey()));
      for (ClientPath p : paths) {
        int broken = row.getValue().getOrDefault(p.name(), 0);
        sb.append(String.format(" %-14s", broken + "/" + remaining.get(p.name())));
        remaining.merge(p.name(), -broken, Integer::sum);
      }
      sb.append(String.format("%n"));
    }
    long onR2 = 0;
    sb.append("  flows each path had on r1/r2/r3 when opened:");
    for (ClientPath p : paths) {
      sb.append(' ').append(p.name()).append(' ').append(p.carried().values());
      onR2 += p.carried().get(2);
    }
    sb.append(String.format(" (%d on r2)%n", onR2));
    System.out.print(sb);
  }

  /** Each "BROKEN i LAST_OK FAILED ERROR" line: its connection's last answer and its failure. */
  private static List<long[]> brokenAt(String log) {
    List<long[]> out = new ArrayList<>();
    for (String l : log.split("\n")) {
      String[] w = l.split(" ", 5);
      if (w.length >= 4 && w[0].equals("BROKEN")) {
        out.add(new long[] {Long.parseLong(w[2]), Long.parseLong(w[3])});
      }
    }
    return out;
  }

  /**
   * The event a break is put down to: the last one made before the connection's last answer (plus
   * half a second: a request is sent every 100 ms), or none.
   */
  private static String eventOf(List<Event> events, long lastAnswer) {
    String out = "before the events";
    for (Event e : events) {
      if (e.at() <= lastAnswer + 500) {
        out = e.name();
      }
    }
    return out;
  }

  /** A host server's pass-ons so far, from its {@code ctl status} (non-zero counters). */
  private static String passOns(EcmpNetwork net, String hs) {
    String status = net.ctl(hs, "status");
    return String.format(
        "to hop 1 %d, hop 2 %d, to the origin %d, back in IP-in-IP %d",
        EcmpNetwork.counterIn(status, "passed_on_hop_1"),
        EcmpNetwork.counterIn(status, "passed_on_hop_2"),
        EcmpNetwork.counterIn(status, "passed_on_origin"),
        EcmpNetwork.counterIn(status, "passed_on_origin_no_list"));
  }

  /**
   * Runs {@link #FLOWS} short connections and returns, per running redirector, how many flows it
   * created meanwhile; every connection must be answered by the near replica, the one the table
   * gives new flows on every redirector.
   */
  private static Map<Integer, Long> newFlows(EcmpNetwork net, List<Integer> running, String what)
      throws Exception {
    Map<Integer, Long> before = flowsCreated(net, running);
    ExecResult r = net.shortConnections(HTTP, FLOWS);
    Map<Integer, Long> share = delta(before, flowsCreated(net, running));
    Map<String, Integer> servers = new TreeMap<>();
    for (String line : r.stdout().split("\n")) {
      if (!line.isBlank()) {
        servers.merge(line.strip(), 1, Integer::sum);
      }
    }
    StringBuilder sb = new StringBuilder();
    for (var e : share.entrySet()) {
      sb.append(
          String.format(
              " %s %d (%.0f %%)",
              redirector(e.getKey()), e.getValue(), 100.0 * e.getValue() / FLOWS));
    }
    System.out.printf("ECMP: %d new flows over %s:%s; answered by %s%n", FLOWS, what, sb, servers);
    // At least one flow per connection; more when a route change moved the open connections of
    // the paths meanwhile (their next packet is a new flow on the redirector they moved to).
    long sum = share.values().stream().mapToLong(Long::longValue).sum();
    assertTrue(sum >= FLOWS, "a flow created per connection, on some redirector: " + share);
    assertEquals(
        FLOWS,
        servers.getOrDefault(body(NEAR).strip(), 0),
        "every new connection answered by the near replica: " + servers);
    return share;
  }

  private static Map<Integer, Long> flowsCreated(EcmpNetwork net, List<Integer> running) {
    Map<Integer, Long> out = new LinkedHashMap<>();
    for (int n : running) {
      out.put(n, net.counter(redirector(n), "flows_created"));
    }
    return out;
  }

  private static Map<Integer, Long> delta(Map<Integer, Long> before, Map<Integer, Long> after) {
    Map<Integer, Long> out = new LinkedHashMap<>();
    after.forEach((n, v) -> out.put(n, v - before.getOrDefault(n, 0L)));
    return out;
  }

  private static long lines(EcmpNetwork net, Process p, String word) {
    return net.processLog(p).lines().filter(l -> l.startsWith(word + " ")).count();
  }

  private static String summary(String log) {
    List<String> out = new ArrayList<>();
    for (String l : log.split("\n")) {
      if (l.startsWith("ALIVE") || l.startsWith("CHANGED") || l.startsWith("SERVED")) {
        out.add(l);
      }
    }
    return String.join("; ", out);
  }

  /** When the upstream's kernel first had the origin's route without {@code nexthop}. */
  private static long firstChangeWithout(
      EcmpNetwork net, Process monitor, long after, String nexthop) {
    for (RouteChange c : net.routeChanges(monitor)) {
      if (c.epochMillis() >= after - 5 && !c.deleted() && !c.nexthops().contains(nexthop)) {
        return c.epochMillis();
      }
    }
    throw new AssertionError("no route change without " + nexthop + ": " + net.processLog(monitor));
  }

  /** When the upstream's kernel first had the origin's route with {@code nexthop}. */
  private static long firstChangeWith(
      EcmpNetwork net, Process monitor, long after, String nexthop) {
    for (RouteChange c : net.routeChanges(monitor)) {
      if (c.epochMillis() >= after - 5 && !c.deleted() && c.nexthops().contains(nexthop)) {
        return c.epochMillis();
      }
    }
    throw new AssertionError("no route change with " + nexthop + ": " + net.processLog(monitor));
  }
}
