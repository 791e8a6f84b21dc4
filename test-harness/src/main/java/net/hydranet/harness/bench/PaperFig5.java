package net.hydranet.harness.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import net.hydranet.replica.Resources;
import net.hydranet.router.netns.ExecResult;
import net.hydranet.router.netns.WebNetwork;
import net.hydranet.router.netns.WebReplicas;

/**
 * The paper's figure 5, reproduced: 1200-byte pages fetched by a real HTTP load tool (ApacheBench,
 * a new connection per request as 1998's browsers did) across a WAN of 390 ms round trip, with no
 * replica, from a local replica's cache (hits), and through the replica to the origin's manager
 * (misses: a page the origin marks no-store). A local nginx on the host server is the reference a
 * hit is held against: the same client, the same LAN, no redirector in between.
 *
 * <p>Usage: {@code java -cp benchmarks.jar net.hydranet.harness.bench.PaperFig5 HYDRANET_JAR OUT
 * [REQUESTS] [CONCURRENCY] [ONE_WAY_MS] [PAIRS] [CPUS]}. Writes OUT/results.md, OUT/fig5.png and
 * OUT/raw/.
 */
public final class PaperFig5 {
  private PaperFig5() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println(
          "usage: PaperFig5 HYDRANET_JAR OUT [REQUESTS=2000] [CONCURRENCY=10] [ONE_WAY_MS=195]"
              + " [PAIRS=500] [CPUS=1.0]");
      System.exit(2);
    }
    Path jar = Path.of(args[0]).toAbsolutePath();
    Path out = Path.of(args[1]).toAbsolutePath();
    int requests = args.length > 2 ? Integer.parseInt(args[2]) : 2000;
    int concurrency = args.length > 3 ? Integer.parseInt(args[3]) : 10;
    int oneWay = args.length > 4 ? Integer.parseInt(args[4]) : 195;
    int pairs = args.length > 5 ? Integer.parseInt(args[5]) : 500;
    String cpus = args.length > 6 ? args[6] : "1.0";
    Path raw = out.resolve("raw");
    Path hydraweb = jar.getParent().getParent().getParent().resolve("hydraweb/target/hydraweb.jar");
    Files.createDirectories(raw);
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> hydranet = List.of(java, "-jar", jar.toString());
    StringBuilder md = new StringBuilder();
    Instant started = Instant.now();
    md.append("# Paper figure 5: HydraWeb across a ")
        .append(2 * oneWay)
        .append(" ms WAN\n\n")
        .append(
            String.format(
                Locale.ROOT,
                "%s; %d requests per series, %d concurrent (ab, a new connection per request);"
                    + " 1200-byte pages; WAN %d ms each way (hydranet wan); the replica's bundle"
                    + " asks for %s CPU.%n%n",
                started,
                requests,
                concurrency,
                oneWay,
                cpus));
    LatencyHistogram h = new LatencyHistogram();
    try (WebNetwork net = new WebNetwork("hnf5", hydranet, oneWay)) {
      WebReplicas replicas =
          new WebReplicas(net, hydraweb)
              .asking(new Resources(256L << 20, Resources.parseCpus(cpus), 128, 1024));
      net.start(replicas.hostServerConfig());
      // Every series warms its path first (ARP, the JIT of both daemons) with a short run.
      String origin = "http://" + WebNetwork.ORIGIN;
      String local = "http://" + WebNetwork.HS1 + ":" + WebNetwork.LOCAL_PORT;
      ab(net, raw, "warm-local", local + "/page-001.html", 200, concurrency);
      h.add(
          "local nginx (no redirector)",
          ab(net, raw, "local", local + "/page-000.html", requests, concurrency));
      ab(net, raw, "warm-origin", origin + "/page-001.html", 2 * concurrency, concurrency);
      h.add(
          "no replica (origin across the WAN)",
          ab(net, raw, "no-replica", origin + "/page-000.html", requests, concurrency));
      replicas.startManager(false);
      Instant asked = Instant.now();
      replicas.install();
      Duration installed = Duration.between(asked, Instant.now());
      md.append(
          String.format(
              Locale.ROOT,
              "Replica installed by the manager and learned by the redirector in %d ms"
                  + " (signed bundle over the WAN, JVM start, pre-heat, announce).%n%n",
              installed.toMillis()));
      ab(net, raw, "warm-hit", origin + "/page-001.html", 200, concurrency);
      h.add("replica hit", ab(net, raw, "hit", origin + "/page-000.html", requests, concurrency));
      ab(net, raw, "warm-miss", origin + "/nostore/page.html", 2 * concurrency, concurrency);
      h.add(
          "replica miss (via the manager)",
          ab(net, raw, "miss", origin + "/nostore/page.html", requests, concurrency));
      md.append("## Latency (ms)\n\n").append(h.table()).append('\n');
      h.png(
          out.resolve("fig5.png"),
          "HydraWeb, paper figure 5: "
              + 2 * oneWay
              + " ms WAN, "
              + requests
              + " requests per series");
      md.append("![figure 5](fig5.png)\n\n");

      // The 1 ms target, measured finely: curl's microsecond timer, local and hit alternating.
      double[][] paired =
          pairs(net, raw, local + "/page-000.html", origin + "/page-000.html", pairs);
      double localMedian = median(paired[0]);
      double hitMedian = median(paired[1]);
      double noReplica =
          LatencyHistogram.percentile(h.sorted("no replica (origin across the WAN)"), 50);
      double miss = LatencyHistogram.percentile(h.sorted("replica miss (via the manager)"), 50);
      md.append("## Targets\n\n")
          .append(
              String.format(
                  Locale.ROOT,
                  "- A hit costs at most 1 ms over a direct request to a local web server: %d"
                      + " alternating curl pairs, median %.3f ms (hit) vs %.3f ms (local nginx):"
                      + " **%+.3f ms** (%s).%n",
                  pairs,
                  hitMedian,
                  localMedian,
                  hitMedian - localMedian,
                  hitMedian - localMedian <= 1.0 ? "met" : "missed"))
          .append(
              String.format(
                  Locale.ROOT,
                  "- A miss costs at most one origin round trip (%d ms) over no replica: median"
                      + " %.1f ms (miss) vs %.1f ms (no replica): **%+.1f ms** (%s). The paper:"
                      + " 2.2 s vs 1.5 s, +700 ms.%n%n",
                  2 * oneWay,
                  miss,
                  noReplica,
                  miss - noReplica,
                  miss - noReplica <= 2 * oneWay ? "met" : "missed"));
      md.append("## Manager\n\n```\n")
          .append(net.ctl("manager", "status"))
          .append("\n")
          .append(net.ctl("manager", "hits"))
          .append("```\n\n## Redirector table\n\n```\n")
          .append(net.ctl("r1", "table"))
          .append("```\n");
      if (Files.exists(net.work().resolve("wan.status"))) {
        md.append("\n## WAN counters\n\n```\n")
            .append(Files.readString(net.work().resolve("wan.status")))
            .append("```\n");
      }
    }
    Files.writeString(out.resolve("results.md"), md.toString());
    System.out.println(md);
  }

  /** Runs ab in the client's namespace; returns each request's total time in ms. */
  static double[] ab(WebNetwork net, Path raw, String name, String url, int n, int c)
      throws IOException {
    Path g = raw.resolve(name + ".tsv");
    ExecResult r =
        net.topology()
            .exec(
                "client",
                Duration.ofMinutes(30),
                "ab",
                "-q",
                "-n",
                Integer.toString(n),
                "-c",
                Integer.toString(c),
                "-s",
                "30",
                "-g",
                g.toString(),
                url);
    Files.writeString(raw.resolve(name + ".ab.txt"), r.stdout() + r.stderr());
    if (!r.ok() || !r.stdout().contains("Failed requests:        0")) {
      throw new IllegalStateException("ab " + name + " failed:\n" + r.describe());
    }
    List<String> lines = Files.readAllLines(g);
    List<Double> times = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split("\t");
      times.add(Double.parseDouble(f[4]));
    }
    System.out.printf(
        Locale.ROOT,
        "%s: %d requests, median %.1f ms%n",
        name,
        times.size(),
        median(times.stream().mapToDouble(Double::doubleValue).toArray()));
    return times.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /** {@code pairs} × (GET a, GET b) with curl, alternating; times in ms, µs resolution. */
  static double[][] pairs(WebNetwork net, Path raw, String a, String b, int pairs)
      throws IOException {
    String script =
        "for i in $(seq "
            + pairs
            + "); do "
            + "curl -s -o /dev/null -w 'a %{time_total}\\n' "
            + a
            + "; "
            + "curl -s -o /dev/null -w 'b %{time_total}\\n' "
            + b
            + "; done";
    ExecResult r = net.topology().exec("client", Duration.ofMinutes(10), "sh", "-c", script);
    Files.writeString(raw.resolve("pairs.txt"), r.stdout());
    List<Double> as = new ArrayList<>();
    List<Double> bs = new ArrayList<>();
    for (String line : r.stdout().split("\n")) {
      String[] f = line.trim().split(" ");
      if (f.length == 2) {
        (f[0].equals("a") ? as : bs).add(Double.parseDouble(f[1]) * 1000);
      }
    }
    if (as.size() != pairs || bs.size() != pairs) {
      throw new IllegalStateException(
          "curl pairs: " + as.size() + "/" + bs.size() + "\n" + r.describe());
    }
    return new double[][] {
      as.stream().mapToDouble(Double::doubleValue).toArray(),
      bs.stream().mapToDouble(Double::doubleValue).toArray()
    };
  }

  static double median(double[] v) {
    double[] s = v.clone();
    java.util.Arrays.sort(s);
    return LatencyHistogram.percentile(s, 50);
  }
}
