package net.hydranet.lab.cli;

import static net.hydranet.lab.netns.ControlNetwork.HS1;
import static net.hydranet.lab.netns.ControlNetwork.HS2;
import static net.hydranet.lab.netns.NamespaceNetwork.counterIn;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import net.hydranet.lab.netns.ControlNetwork;
import net.hydranet.lab.netns.ExecResult;
import net.hydranet.router.error.UserError;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hydranet demo}: the whole path on one machine, in the {@link ControlNetwork}: a client's
 * HTTP request answered by the origin, then by replicas on host servers that the redirectors learn
 * over the control plane, the nearer first, the farther after the nearer is killed; with the
 * tables, the path each request took and the counters.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    subcommands = DemoWebCommand.class,
    description = {
      "Builds a demo network in namespaces (names start with 'hnd-'; needs root), shows a",
      "client's HTTP request answered by the origin, then by replicas on host servers that the",
      "redirectors learn over the HYDRANET routing protocol (no static entry anywhere): the",
      "nearer replica first, the farther one after the nearer host server is killed. Prints",
      "the tables (with where each entry came from), paths and counters, and cleans up.",
      "",
      "  client .1.10 -+                          core 198.18.2.0/24",
      "  hs1    .1.20 -+- lan - client0 [r1] core0 -+- origin .2.10 (:80)",
      "                   .1.1              .2.1    +- core0 [r2] far0 -- hs2 .3.20",
      "                                                 .2.2     .3.1",
      "",
      "HydraWeb's flash-crowd demo: hydranet demo web.",
      "",
      "Example:",
      "  bin/hydranet demo"
    })
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--keep-logs", description = "print the daemons' logs at the end")
  boolean keepLogs;

  private PrintStream out;
  private ControlNetwork net;

  @Override
  public Integer call() throws Exception {
    out = System.out;
    if (!"root".equals(System.getProperty("user.name"))) {
      throw new UserError("demo: needs root (it creates network namespaces)");
    }
    step("building the topology (namespaces hnd-*), and an Ed25519 key for every node");
    try (ControlNetwork network = new ControlNetwork("hnd", launcher())) {
      net = network;
      step(
          "starting the origin's web server, two redirectors and two host servers,"
              + " all with --control");
      net.start(500);
      out.println("   r1 hears hs1 directly and r2 as its peer; r2 hears hs2 directly");
      out.print(indent(net.ctl("r1", "peers")));

      step("request 1: no replica anywhere, so the redirector's table is empty");
      request("ORIGIN");

      step("installing a replica on hs1: hydranet vhost --origin " + ControlNetwork.ORIGIN);
      net.installWebReplica("hs1", ControlNetwork.ORIGIN, "REPLICA on hs1 " + HS1 + "\n");
      net.await("r2 to learn it through r1", () -> net.ctl("r2", "table").contains(HS1));
      out.println("   hs1 announced it (signed); r1 installed it and told r2:");
      out.print(indent(net.ctl("r1", "table")));
      out.print(indent(net.ctl("r2", "table")));
      net.await("the replica to answer", () -> net.curl(2).stdout().contains("hs1"));
      step("request 2: the same URL, now tunnelled to the replica on hs1");
      request("hs1");

      step("installing a second replica, on hs2 behind r2 (one hop further from the client)");
      net.installWebReplica("hs2", ControlNetwork.ORIGIN, "REPLICA on hs2 " + HS2 + "\n");
      net.await("r1 to learn hs2 through r2", () -> net.ctl("r1", "table").contains(HS2));
      out.println("   r1 keeps new flows on the nearer hs1; hs2 is kept at weight 0:");
      out.print(indent(net.ctl("r1", "table")));
      step("request 3: still the nearer replica");
      request("hs1");

      restartUnderAnOpenConnection();

      step("killing hs1's host server (SIGKILL: no goodbye); its hold time is 500 ms");
      Process probe = net.probeUntil("REPLICA on hs2 " + HS2);
      net.await("the probe to start", () -> net.processLog(probe).contains("READY"));
      long killed = System.currentTimeMillis();
      net.kill("hs1");
      probe.waitFor(25, java.util.concurrent.TimeUnit.SECONDS);
      String served = net.processLog(probe);
      if (!served.contains("SERVED")) {
        throw new IllegalStateException("no client reached hs2 after the kill: " + served);
      }
      out.printf(
          "   a probe opening a fresh connection every 10 ms was first answered by hs2"
              + " %d ms after the kill%n",
          Long.parseLong(served.substring(served.indexOf("SERVED") + 7).strip()) - killed);
      step("request 4: failed over to the remaining replica");
      request("hs2");

      step("r1: hydranet ctl all");
      out.print(indent(net.ctl("r1", "all")));
      step("r1: hydranet ctl status (the forwarding plane)");
      out.print(indent(net.ctl("r1", "status")));
      step("hs2: hydranet ctl all");
      out.print(indent(net.ctl("hs2", "all")));
      if (keepLogs) {
        out.print(net.logs());
      }
      step("cleaning up");
      return 0;
    } catch (RuntimeException | InterruptedException e) {
      if (net != null) {
        out.print(net.logs());
      }
      throw new UserError("demo failed: " + e.getMessage());
    }
  }

  /**
   * SIGKILL r1 and start it again while a client holds a keep-alive connection to the replica on
   * hs1: the restarted r1 forwards only once it has learned the table again, so the connection's
   * packets in the gap are retransmitted rather than sent to the origin, and it goes on.
   */
  private void restartUnderAnOpenConnection() throws IOException, InterruptedException {
    step("restarting r1 (SIGKILL, then start) under a connection kept open to hs1's replica");
    Path stop = net.workDir().resolve("demo-stop-restart");
    Process kept = net.keepAliveClient(stop, 20);
    net.await("the open connection to reach hs1", () -> okLines(kept) >= 3);
    long before = okLines(kept);
    long killed = System.nanoTime();
    net.kill("r1");
    net.startRedirector("r1");
    // Its operator socket opens once it forwards, after it has learned the table again.
    net.await("r1 to answer again", () -> !net.ctl("r1", "status").startsWith("(no answer"));
    long back = (System.nanoTime() - killed) / 1_000_000;
    net.await("the open connection to carry requests again", () -> okLines(kept) >= before + 5);
    Files.writeString(stop, "stop");
    kept.waitFor(25, java.util.concurrent.TimeUnit.SECONDS);
    String log = net.processLog(kept);
    if (log.contains("ERROR")) {
      throw new IllegalStateException("the connection kept open to hs1 broke: " + log);
    }
    String learned =
        net.logsOf("r1")
            .lines()
            .filter(l -> l.contains("forwarding starts"))
            .map(l -> l.substring(l.indexOf("msg=") + 4))
            .findFirst()
            .orElse("");
    out.printf(
        "   r1 was back %d ms after the kill (its JVM's start included); it said: %s%n",
        back, learned);
    out.printf(
        "   the open connection: %d requests answered by hs1 before the kill, %d after, 0 errors"
            + " (the packets sent while r1 was down were retransmitted by TCP)%n",
        before, okLines(kept) - before);
  }

  private long okLines(Process p) {
    return net.processLog(p).lines().filter(l -> l.startsWith("OK")).count();
  }

  private void request(String expected) throws InterruptedException {
    String before = net.ctl("r1", "status");
    ExecResult r = net.curl(3);
    Thread.sleep(300);
    String after = net.ctl("r1", "status");
    long forwarded = counterIn(after, "forwarded") - counterIn(before, "forwarded");
    long redirected = counterIn(after, "redirected") - counterIn(before, "redirected");
    out.println(
        "   client$ curl http://"
            + ControlNetwork.ORIGIN
            + "/  ->  "
            + (r.ok() ? r.stdout().strip() : "FAILED " + r.describe()));
    out.println(
        "   path: "
            + (redirected > 0
                ? "client -> r1 ("
                    + redirected
                    + " packets tunnelled, IP-in-IP) -> host server -> replica;"
                    + " replies straight back to the client"
                : "client -> r1 (" + forwarded + " packets forwarded) -> origin"));
    if (!r.ok() || !r.stdout().contains(expected)) {
      throw new IllegalStateException(
          "request answered by '" + r.stdout().strip() + "', expected " + expected);
    }
  }

  private void step(String text) {
    out.println("== " + text);
  }

  /** Each line of {@code text} indented by three spaces, as the demos print what they quote. */
  static String indent(String text) {
    StringBuilder sb = new StringBuilder();
    for (String line : text.split("\n")) {
      sb.append("   ").append(line).append('\n');
    }
    return sb.toString();
  }

  /** How to start this same hydranet: the running java with the running jar. */
  static List<String> launcher() {
    String java = ProcessHandle.current().info().command().orElse("java");
    Path jar;
    try {
      jar = Path.of(DemoCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (java.net.URISyntaxException e) {
      throw new UserError("demo: cannot locate the hydranet jar");
    }
    if (!jar.toString().endsWith(".jar")) {
      throw new UserError("demo: run it from the hydranet jar (bin/hydranet demo)");
    }
    return List.of(java, "-jar", jar.toString());
  }
}
