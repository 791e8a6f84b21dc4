package net.hydranet.harness.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import net.hydranet.lab.netns.ExecResult;
import net.hydranet.lab.netns.WebNetwork;
import net.hydranet.lab.netns.WebReplicas;
import net.hydranet.replica.Resources;

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

  /** The command line: where hydranet's jar is, where the results go, and the series' sizes. */
  private record Options(
      Path jar, Path out, int requests, int concurrency, int oneWay, int pairs, String cpus) {
    static Options parse(String[] args) {
      return new Options(
          Path.of(args[0]).toAbsolutePath(),
          Path.of(args[1]).toAbsolutePath(),
          args.length > 2 ? Integer.parseInt(args[2]) : 2000,
          args.length > 3 ? Integer.parseInt(args[3]) : 10,
          args.length > 4 ? Integer.parseInt(args[4]) : 195,
          args.length > 5 ? Integer.parseInt(args[5]) : 500,
          args.length > 6 ? args[6] : "1.0");
    }

    /** hydraweb's jar, beside the lab's in the source tree. */
    Path hydraweb() {
      return jar.getParent().getParent().getParent().resolve("hydraweb/target/hydraweb.jar");
    }
  }

  private static final String LOCAL = "local nginx (no redirector)";
  private static final String NO_REPLICA = "no replica (origin across the WAN)";
  private static final String HIT = "replica hit";
  private static final String MISS = "replica miss (via the manager)";

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println(
          "usage: PaperFig5 HYDRANET_JAR OUT [REQUESTS=2000] [CONCURRENCY=10] [ONE_WAY_MS=195]"
              + " [PAIRS=500] [CPUS=1.0]");
      System.exit(2);
    }
    Options o = Options.parse(args);
    Path raw = o.out().resolve("raw");
    Files.createDirectories(raw);
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> hydranet = List.of(java, "-jar", o.jar().toString());
    StringBuilder md = new StringBuilder(header(o, Instant.now()));
    LatencyHistogram h = new LatencyHistogram();
    try (WebNetwork net = new WebNetwork("hnf5", hydranet, o.oneWay())) {
      WebReplicas replicas =
          new WebReplicas(net, o.hydraweb())
              .asking(new Resources(256L << 20, Resources.parseCpus(o.cpus()), 128, 1024));
      net.start(replicas.hostServerConfig());
      md.append(series(net, replicas, o, raw, h));
      md.append("## Latency (ms)\n\n").append(h.table()).append('\n');
      h.png(
          o.out().resolve("fig5.png"),
          "HydraWeb, paper figure 5: "
              + 2 * o.oneWay()
              + " ms WAN, "
              + o.requests()
              + " requests per series");
      md.append("![figure 5](fig5.png)\n\n");
      md.append(targets(net, o, raw, h));
      md.append(state(net));
    }
    Files.writeString(o.out().resolve("results.md"), md.toString());
    System.out.println(md);
  }

  /** The results' title and what was run. */
  private static String header(Options o, Instant started) {
    return "# Paper figure 5: HydraWeb across a "
        + 2 * o.oneWay()
        + " ms WAN\n\n"
        + String.format(
            Locale.ROOT,
            "%s; %d requests per series, %d concurrent (ab, a new connection per request);"
                + " 1200-byte pages; WAN %d ms each way (hydranet wan); the replica's bundle"
                + " asks for %s CPU.%n%n",
            started,
            o.requests(),
            o.concurrency(),
            o.oneWay(),
            o.cpus());
  }

  /**
   * The four series into {@code h}: local nginx and no replica, then the replica installed, its
   * hits and misses. Every series warms its path first (ARP, the JIT of both daemons) with a short
   * run.
   *
   * @return the line that says how long the replica took to install
   */
  private static String series(
      WebNetwork net, WebReplicas replicas, Options o, Path raw, LatencyHistogram h)
      throws IOException, InterruptedException {
    String origin = "http://" + WebNetwork.ORIGIN;
    String local = "http://" + WebNetwork.HS1 + ":" + WebNetwork.LOCAL_PORT;
    int n = o.requests();
    int c = o.concurrency();
    ab(net, raw, "warm-local", local + "/page-001.html", 200, c);
    h.add(LOCAL, ab(net, raw, "local", local + "/page-000.html", n, c));
    ab(net, raw, "warm-origin", origin + "/page-001.html", 2 * c, c);
    h.add(NO_REPLICA, ab(net, raw, "no-replica", origin + "/page-000.html", n, c));
    replicas.startManager(false);
    Instant asked = Instant.now();
    replicas.install();
    Duration installed = Duration.between(asked, Instant.now());
    ab(net, raw, "warm-hit", origin + "/page-001.html", 200, c);
    h.add(HIT, ab(net, raw, "hit", origin + "/page-000.html", n, c));
    ab(net, raw, "warm-miss", origin + "/nostore/page.html", 2 * c, c);
    h.add(MISS, ab(net, raw, "miss", origin + "/nostore/page.html", n, c));
    return String.format(
        Locale.ROOT,
        "Replica installed by the manager and learned by the redirector in %d ms"
            + " (signed bundle over the WAN, JVM start, pre-heat, announce).%n%n",
        installed.toMillis());
  }

  /**
   * The paper's two targets: a hit within 1 ms of a local web server, measured finely (curl's
   * microsecond timer, local and hit alternating), and a miss within one origin round trip of no
   * replica.
   */
  private static String targets(WebNetwork net, Options o, Path raw, LatencyHistogram h)
      throws IOException {
    String origin = "http://" + WebNetwork.ORIGIN;
    String local = "http://" + WebNetwork.HS1 + ":" + WebNetwork.LOCAL_PORT;
    double[][] paired =
        pairs(net, raw, local + "/page-000.html", origin + "/page-000.html", o.pairs());
    double localMedian = median(paired[0]);
    double hitMedian = median(paired[1]);
    double noReplica = LatencyHistogram.percentile(h.sorted(NO_REPLICA), 50);
    double miss = LatencyHistogram.percentile(h.sorted(MISS), 50);
    int roundTrip = 2 * o.oneWay();
    return "## Targets\n\n"
        + String.format(
            Locale.ROOT,
            "- A hit costs at most 1 ms over a direct request to a local web server: %d"
                + " alternating curl pairs, median %.3f ms (hit) vs %.3f ms (local nginx):"
                + " **%+.3f ms** (%s).%n",
            o.pairs(),
            hitMedian,
            localMedian,
            hitMedian - localMedian,
            hitMedian - localMedian <= 1.0 ? "met" : "missed")
        + String.format(
            Locale.ROOT,
            "- A miss costs at most one origin round trip (%d ms) over no replica: median"
                + " %.1f ms (miss) vs %.1f ms (no replica): **%+.1f ms** (%s). The paper:"
                + " 2.2 s vs 1.5 s, +700 ms.%n%n",
            roundTrip,
            miss,
            noReplica,
            miss - noReplica,
            miss - noReplica <= roundTrip ? "met" : "missed");
  }

  /** The manager's and the redirector's state at the end, and the WAN's counters. */
  private static String state(WebNetwork net) throws IOException {
    StringBuilder md = new StringBuilder();
    md.append("## Manager\n\n```\n")
        .append(net.ctl("manager", "status"))
        .append("\n")
        .append(net.ctl("manager", "hits"))
        .append("```\n\n## Redirector table\n\n```\n")
        .append(net.ctl("r1", "table"))
        .append("```\n");
    if (Files.exists(net.workDir().resolve("wan.status"))) {
      md.append("\n## WAN counters\n\n```\n")
          .append(Files.readString(net.workDir().resolve("wan.status")))
          .append("```\n");
    }
    return md.toString();
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
