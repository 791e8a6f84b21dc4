package net.hydranet.lab.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import net.hydranet.lab.netns.ExecResult;
import net.hydranet.lab.netns.WebNetwork;
import net.hydranet.lab.netns.WebReplicas;
import net.hydranet.router.error.UserError;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code hydranet demo web}: a flash crowd diffused by a HydraWeb replica. The origin (a real
 * nginx) sits across a WAN; a crowd of clients behind the redirector drives its load over the
 * manager's threshold; the manager installs a signed replica on the client's host server, the
 * redirector learns it, and the crowd is served locally; when the crowd is gone the replica is
 * removed again.
 */
@Command(
    name = "web",
    mixinStandardHelpOptions = true,
    description = {
      "HydraWeb's demo (namespaces 'hndw-'; needs root): a flash crowd at an origin across a",
      "WAN makes its replica manager install a replica near the clients, which then serves",
      "them from its pre-heated cache; the replica is removed when the crowd leaves.",
      "",
      "  client .1.10 -+",
      "  hs1    .1.20 -+- lan - [r1] -- wan (RTT 2 x --one-way-ms) -- origin .2.10",
      "                                                      nginx + hydranet manager",
      "",
      "Example:",
      "  bin/hydranet demo web"
    })
public final class DemoWebCommand implements Callable<Integer> {
  @Option(
      names = "--one-way-ms",
      defaultValue = "100",
      description = "the WAN's one-way delay (${DEFAULT-VALUE})")
  int oneWayMillis;

  @Option(
      names = "--crowd-seconds",
      defaultValue = "45",
      description = "how long the crowd lasts (${DEFAULT-VALUE})")
  int crowdSeconds;

  @Option(names = "--keep-logs", description = "print the daemons' logs at the end")
  boolean keepLogs;

  private PrintStream out;

  @Override
  public Integer call() throws Exception {
    out = System.out;
    if (!"root".equals(System.getProperty("user.name"))) {
      throw new UserError("demo web: needs root (it creates network namespaces)");
    }
    List<String> launcher = DemoCommand.launcher();
    Path hydraweb = hydrawebJar(Path.of(launcher.get(2)).toAbsolutePath());
    step("building the topology (namespaces hndw-*): WAN " + 2 * oneWayMillis + " ms round trip");
    WebNetwork net = new WebNetwork("hndw", launcher, oneWayMillis);
    try (net) {
      WebReplicas replicas = new WebReplicas(net, hydraweb);
      step("starting the WAN, the origin's nginx, the redirector r1 and the host server hs1");
      net.start(replicas.hostServerConfig());
      out.println("   hs1 grants the origin " + WebReplicas.GRANT + " per replica");
      step(
          "starting HydraWeb's replica manager on the origin: install above 20 req/s for 2 s,"
              + " remove below 5 req/s for 8 s");
      replicas.startManager(true);
      request(net, "before the crowd: the origin answers across the WAN");
      out.print(DemoCommand.indent(net.ctl("r1", "table")));

      step(
          "a flash crowd: ab, 20 clients, a new connection per request, for "
              + crowdSeconds
              + " s");
      Path tsv = net.workDir().resolve("crowd.tsv");
      long start = System.currentTimeMillis();
      CompletableFuture<ExecResult> crowd =
          CompletableFuture.supplyAsync(
              () ->
                  net.topology()
                      .exec(
                          "client",
                          Duration.ofSeconds(crowdSeconds + 60),
                          "ab",
                          "-q",
                          "-t",
                          Integer.toString(crowdSeconds),
                          "-n",
                          "10000000",
                          "-c",
                          "20",
                          "-s",
                          "10",
                          "-g",
                          tsv.toString(),
                          "http://" + WebNetwork.ORIGIN + "/page-000.html"));
      net.await(
          "the manager to install a replica",
          () -> net.ctl("r1", "table").contains(WebNetwork.HS1));
      out.printf(
          "   %.1f s into the crowd the redirector learned the replica:%n",
          (System.currentTimeMillis() - start) / 1000.0);
      out.print(DemoCommand.indent(net.ctl("r1", "table")));
      ExecResult ab = crowd.join();
      if (!java.nio.file.Files.exists(tsv)) {
        // ab stops early and writes no -g file on a socket error or a 10 s timeout: say so.
        throw new IllegalStateException("the crowd's ab ended early:\n" + ab.describe());
      }
      out.print(DemoCommand.indent(summary(ab.stdout())));
      out.print(DemoCommand.indent(timeline(tsv)));
      step("the manager (replicas, pushes acknowledged, hits reported by the replica)");
      out.print(DemoCommand.indent(net.ctl("manager", "status")));
      step("the host server: the replica, confined (its own user, namespaces, cgroups)");
      out.print(DemoCommand.indent(net.ctl("hs1", "replicas")));
      request(net, "after the crowd, still from the replica's cache");
      template(net);

      step("the crowd is gone: below 5 req/s for 8 s, the manager drains and removes the replica");
      long quiet = System.currentTimeMillis();
      net.await(
          "the replica to be removed", () -> !net.ctl("r1", "table").contains(WebNetwork.HS1));
      out.printf(
          "   removed %.1f s after the crowd ended%n",
          (System.currentTimeMillis() - quiet) / 1000.0);
      request(net, "the origin answers again");
      if (keepLogs) {
        out.print(net.logs());
      }
      step("cleaning up");
      return 0;
    } catch (RuntimeException | InterruptedException | IOException e) {
      out.print(net.logs());
      throw new UserError("demo web failed: " + e.getMessage());
    }
  }

  /** hydraweb.jar beside the hydranet jar (a distribution) or in the source tree's hydraweb/. */
  static Path hydrawebJar(Path hydranetJar) {
    Path beside = hydranetJar.resolveSibling("hydraweb.jar");
    if (Files.exists(beside)) {
      return beside;
    }
    Path tree = hydranetJar.getParent();
    for (int i = 0; i < 2 && tree != null; i++) {
      tree = tree.getParent();
    }
    Path built = tree == null ? beside : tree.resolve("hydraweb/target/hydraweb.jar");
    if (!Files.exists(built)) {
      throw new UserError(
          "demo web: no hydraweb.jar beside "
              + hydranetJar
              + " nor at "
              + built
              + " (mvn -B -q package -DskipTests)");
    }
    return built;
  }

  private void request(WebNetwork net, String what) {
    long t0 = System.nanoTime();
    ExecResult r = net.curl("/page-000.html", 5);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    String server = "?";
    for (String line : r.stdout().split("\r?\n")) {
      if (line.startsWith("Server: ")) {
        server = line.substring(8).strip();
      }
    }
    step(what);
    out.printf(
        "   client$ curl http://%s/page-000.html -> %s, Server: %s (%d ms with curl's start)%n",
        WebNetwork.ORIGIN,
        r.stdout().isEmpty() ? "FAILED" : r.stdout().lines().findFirst().orElse(""),
        server,
        ms);
  }

  /** The origin's template page twice: the replica renders each with the next banner. */
  private void template(WebNetwork net) {
    step("a template the origin pushed: the replica fills its banner slot per response");
    for (int i = 0; i < 2; i++) {
      ExecResult r = net.curl(WebNetwork.TEMPLATE_PAGE, 5);
      String body =
          r.stdout().lines().filter(l -> l.contains("banner")).findFirst().orElse("FAILED");
      out.printf(
          "   client$ curl http://%s%s -> %s%n",
          WebNetwork.ORIGIN, WebNetwork.TEMPLATE_PAGE, body.strip());
    }
  }

  private static String summary(String ab) {
    StringBuilder sb = new StringBuilder();
    for (String line : ab.split("\n")) {
      if (line.startsWith("Complete requests")
          || line.startsWith("Failed requests")
          || line.startsWith("Requests per second")
          || line.startsWith("Non-2xx")) {
        sb.append(line.strip()).append('\n');
      }
    }
    return sb.toString();
  }

  /** Requests completed and their median latency, second by second, from ab's -g file. */
  private static String timeline(Path tsv) throws IOException {
    TreeMap<Long, List<Double>> bySecond = new TreeMap<>();
    List<String> lines = Files.readAllLines(tsv);
    long first = Long.MAX_VALUE;
    List<long[]> rows = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split("\t");
      long startSecond = Long.parseLong(f[1]);
      long ttime = Long.parseLong(f[4]);
      first = Math.min(first, startSecond);
      rows.add(new long[] {startSecond, ttime});
    }
    for (long[] r : rows) {
      bySecond.computeIfAbsent(r[0] - first, k -> new ArrayList<>()).add((double) r[1]);
    }
    StringBuilder sb = new StringBuilder("second  requests  median ms\n");
    for (var e : bySecond.entrySet()) {
      List<Double> v = e.getValue();
      v.sort(null);
      sb.append(
          String.format(
              Locale.ROOT, "%6d  %8d  %9.0f%n", e.getKey(), v.size(), v.get(v.size() / 2)));
    }
    return sb.toString();
  }

  private void step(String text) {
    out.println("== " + text);
  }
}
