package net.hydranet.router.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import net.hydranet.router.netns.ExecResult;
import net.hydranet.router.netns.PaperNetwork;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hydranet demo}: the whole path on one machine, in the {@link PaperNetwork}: a client's
 * HTTP request answered by the origin, then by a replica on a host server once the redirector's
 * table says so, with the table, the path each request took and the counters.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = {
      "Builds a demo network in namespaces (names start with 'hnd-'; needs root), shows a",
      "client's HTTP request answered by the origin, then by a replica on a host server once",
      "the redirector's table says so, prints tables, paths and counters, and cleans up.",
      "",
      "  client 198.18.1.10 -+                                 +- origin 198.18.2.10 (:80, :8080)",
      "                      +- lan - client0 [redirector] core0",
      "  host server .1.20 --+",
      "    +- virtual host 198.18.2.10 (the replica)",
      "",
      "Example:",
      "  bin/hydranet demo"
    })
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--keep-logs", description = "print the daemons' logs at the end")
  boolean keepLogs;

  private PrintStream out;
  private PaperNetwork net;

  @Override
  public Integer call() throws Exception {
    out = System.out;
    if (!"root".equals(System.getProperty("user.name"))) {
      throw new UserError("demo: needs root (it creates network namespaces)");
    }
    step("building the topology (namespaces hnd-*)");
    try (PaperNetwork network = new PaperNetwork("hnd", launcher())) {
      net = network;
      step(
          "starting the origin's web servers, the redirector (hydranet redirector) and the host server");
      net.start();

      step("request 1: no replica installed, the redirector's table is empty");
      request(80);

      step(
          "installing a replica: hydranet vhost --origin "
              + PaperNetwork.ORIGIN
              + " on the host server");
      net.installWebReplica(
          "served by the REPLICA on host server " + PaperNetwork.HOST_SERVER + "\n");
      out.println(
          "   the host server announces "
              + PaperNetwork.ORIGIN
              + ":80/tcp (logged until the control plane exists)");
      step(
          "adding "
              + PaperNetwork.ORIGIN
              + ":80/tcp -> "
              + PaperNetwork.HOST_SERVER
              + " to the redirector's table");
      net.redirect(80, "tcp");
      net.await(
          "the replica to answer through the redirector",
          () -> net.curl(80).stdout().contains("REPLICA"));

      step("request 2: the same URL, now redirected");
      request(80);
      step("request 3: another port of the same origin (the paper's client B)");
      request(8080);

      Thread.sleep(1_200);
      step("redirector status");
      out.print(indent(net.redirectorStatus()));
      step("host server status");
      out.print(indent(net.hostServerStatus()));
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

  private void request(int port) throws InterruptedException {
    Thread.sleep(1_200);
    long forwarded = PaperNetwork.counter(net.redirectorStatus(), "forwarded");
    long redirected = PaperNetwork.counter(net.redirectorStatus(), "redirected");
    long injected = PaperNetwork.counter(net.hostServerStatus(), "injected");
    ExecResult r = net.curl(port);
    Thread.sleep(1_200);
    long df = PaperNetwork.counter(net.redirectorStatus(), "forwarded") - forwarded;
    long dr = PaperNetwork.counter(net.redirectorStatus(), "redirected") - redirected;
    long di = PaperNetwork.counter(net.hostServerStatus(), "injected") - injected;
    out.println(
        "   client$ curl http://"
            + PaperNetwork.ORIGIN
            + ":"
            + port
            + "/  ->  "
            + (r.ok() ? r.stdout().strip() : "FAILED " + r.describe()));
    out.println(
        "   path: "
            + (dr > 0
                ? "client -> redirector ("
                    + dr
                    + " packets tunnelled, IP-in-IP) -> host server ("
                    + di
                    + " injected) -> replica; replies straight to the client"
                : "client -> redirector (" + df + " packets forwarded) -> origin"));
    if (!r.ok()) {
      throw new IllegalStateException("the request to port " + port + " failed: " + r.describe());
    }
  }

  private void step(String text) {
    out.println("== " + text);
  }

  private static String indent(String text) {
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
