package net.hydranet.harness.live;

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
import net.hydranet.lab.netns.EcmpNetwork.RouteChange;
import net.hydranet.lab.netns.ExecResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three redirectors behind ECMP with BIRD 2 ({@link EcmpNetwork}): new flows spread over all three;
 * a redirector killed with SIGKILL is withdrawn from the upstream's multipath route within a
 * second, through its liveness link alone; a fourth one started is added and receives new flows;
 * one stopped with SIGTERM withdraws before it drains; and keep-alive connections open across all
 * three events, to the origin (port 8080) and to the replicas (port 80, Maglev over two host
 * servers), are counted broken or not per event and path. The figures are printed for
 * BENCHMARKS/README.
 */
class EcmpIT {
  private static final int FLOWS = 300;
  private static final int KEEPALIVE = 10;

  @Test
  @Timeout(900)
  void shouldSpreadFlowsWithdrawAKilledRedirectorAndAddAFourth() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "needs root for namespaces");
    assumeTrue(
        EcmpNetwork.bird().isPresent(),
        "BIRD 2 is not installed (apt-get install bird2; bin/setup)");
    Path jar = RedirectorUnderTest.repositoryRoot().resolve("router/target/hydranet.jar");
    assumeTrue(Files.exists(jar), "router/target/hydranet.jar is built by mvn package");
    String java = ProcessHandle.current().info().command().orElse("java");
    // Seven JVMs start at once on a shared 2-core machine: C1 only and the serial collector
    // halve their start-up CPU; nothing measured here depends on the data path's speed.
    List<String> hydranet =
        List.of(java, "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", jar.toString());
    try (EcmpNetwork net = new EcmpNetwork("hng7", hydranet)) {
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

    // 1. New flows spread: each short connection is one flow created on the redirector it
    //    hashed to.
    Map<Integer, Long> shares = newFlows(net, List.of(1, 2, 3), FLOWS, "three redirectors");
    for (int n = 1; n <= 3; n++) {
      assertTrue(
          shares.get(n) >= FLOWS * 15 / 100,
          redirector(n) + " got " + shares.get(n) + " of " + FLOWS + " new flows: " + shares);
    }

    // 2. Keep-alive connections on both paths, through whichever redirector each hashed to.
    Path stop = net.workDir().resolve("stop-keepalive");
    Map<Integer, Long> before = flowsCreated(net, List.of(1, 2, 3));
    Process origin = net.keepAlive(8080, KEEPALIVE, stop);
    Process replica = net.keepAlive(80, KEEPALIVE, stop);
    net.await(
        "every keep-alive connection to answer",
        () -> opened(net, origin) == KEEPALIVE && opened(net, replica) == KEEPALIVE);
    Map<Integer, Long> carried = delta(before, flowsCreated(net, List.of(1, 2, 3)));
    System.out.println(
        "ECMP: " + 2 * KEEPALIVE + " keep-alive connections by redirector: " + carried);
    assertTrue(
        carried.get(2) > 0,
        "no keep-alive connection hashed to r2, the one killed: the event would test nothing");

    // 3. SIGKILL r2: its BIRD withdraws as its liveness link goes with the process.
    Process monitor = net.monitorRoutes();
    Thread.sleep(300); // the monitor subscribes
    long killed = net.killRedirector(2);
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
    Thread.sleep(3000); // rehashed connections go on (a lost segment is retransmitted)
    int originBrokenByKill = broken(net, origin);
    int replicaBrokenByKill = broken(net, replica);
    System.out.printf(
        "ECMP: broken by the kill of r2 (it carried %d of %d): origin path %d of %d, replica path"
            + " %d of %d%n",
        carried.get(2),
        2 * KEEPALIVE,
        originBrokenByKill,
        KEEPALIVE,
        replicaBrokenByKill,
        KEEPALIVE);

    // 4. A fourth redirector: started, announced, and given new flows.
    long added = System.currentTimeMillis();
    net.startRedirector(4);
    net.await("the upstream to add r4", () -> net.nexthops().contains(upstreamAddress(4)));
    long routed = firstChangeWith(net, monitor, added, upstreamAddress(4));
    System.out.printf(
        "ECMP: r4 started: in the upstream's route %d ms after its JVM was started; next hops"
            + " %s%n",
        routed - added, net.nexthops());
    Thread.sleep(3000);
    int originBrokenByAdd = broken(net, origin) - originBrokenByKill;
    int replicaBrokenByAdd = broken(net, replica) - replicaBrokenByKill;
    System.out.printf(
        "ECMP: broken by adding r4: origin path %d of %d, replica path %d of %d%n",
        originBrokenByAdd,
        KEEPALIVE - originBrokenByKill,
        replicaBrokenByAdd,
        KEEPALIVE - replicaBrokenByKill);

    Map<Integer, Long> after = newFlows(net, List.of(1, 3, 4), FLOWS, "r1, r3 and the new r4");
    assertTrue(after.get(4) >= FLOWS * 15 / 100, "r4 got " + after.get(4) + " new flows: " + after);

    // 5. SIGTERM r3: it withdraws first and forwards a moment more, so nothing is lost.
    long terminated = net.terminateRedirector(3);
    net.await("the upstream to drop r3", () -> !net.nexthops().contains(upstreamAddress(3)));
    Thread.sleep(200);
    long drained = firstChangeWithout(net, monitor, terminated, upstreamAddress(3));
    System.out.printf(
        "ECMP: r3 stopped (SIGTERM): withdrawn %d ms later; next hops now %s%n",
        drained - terminated, net.nexthops());
    assertTrue(drained - terminated <= 1000, "withdrawal took " + (drained - terminated) + " ms");
    Thread.sleep(3000);
    int originBrokenByTerm = broken(net, origin) - originBrokenByKill - originBrokenByAdd;
    int replicaBrokenByTerm = broken(net, replica) - replicaBrokenByKill - replicaBrokenByAdd;
    System.out.printf(
        "ECMP: broken by stopping r3: origin path %d, replica path %d%n",
        originBrokenByTerm, replicaBrokenByTerm);

    Files.writeString(stop, "");
    assertTrue(origin.waitFor(10, TimeUnit.SECONDS) && replica.waitFor(10, TimeUnit.SECONDS));
    String originLog = net.processLog(origin);
    String replicaLog = net.processLog(replica);
    System.out.println("ECMP: origin-path client: " + summary(originLog));
    System.out.println("ECMP: replica-path client: " + summary(replicaLog));
    // What the target is, said plainly; the figures above are the report.
    assertEquals(0, broken(net, origin), "origin path broken:\n" + originLog);
    assertEquals(0, broken(net, replica), "replica path broken:\n" + replicaLog);
    assertTrue(originLog.contains("CHANGED 0"), "a connection changed its server:\n" + originLog);
    assertTrue(replicaLog.contains("CHANGED 0"), "a connection changed its server:\n" + replicaLog);
  }

  /**
   * Runs {@code count} short connections and returns, per running redirector, how many flows it
   * created meanwhile; every connection must be answered, and by a server the table allows.
   */
  private static Map<Integer, Long> newFlows(
      EcmpNetwork net, List<Integer> running, int count, String what) throws Exception {
    Map<Integer, Long> before = flowsCreated(net, running);
    ExecResult r = net.shortConnections(80, count);
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
              redirector(e.getKey()), e.getValue(), 100.0 * e.getValue() / count));
    }
    System.out.printf("ECMP: %d new flows over %s:%s; answered by %s%n", count, what, sb, servers);
    long sum = share.values().stream().mapToLong(Long::longValue).sum();
    assertEquals(
        count, sum, "one flow created per connection, on exactly one redirector: " + share);
    int answered = servers.getOrDefault("REPLICA hs1", 0) + servers.getOrDefault("REPLICA hs2", 0);
    assertEquals(count, answered, "every connection answered by a replica: " + servers);
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

  private static int opened(EcmpNetwork net, Process p) {
    return (int) lines(net, p, "OPEN");
  }

  private static int broken(EcmpNetwork net, Process p) {
    return (int) lines(net, p, "BROKEN");
  }

  private static String summary(String log) {
    List<String> out = new ArrayList<>();
    for (String l : log.split("\n")) {
      if (l.startsWith("ALIVE") || l.startsWith("CHANGED") || l.startsWith("BROKEN")) {
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
