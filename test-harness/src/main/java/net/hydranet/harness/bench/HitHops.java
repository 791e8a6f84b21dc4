package net.hydranet.harness.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import net.hydranet.replica.Resources;
import net.hydranet.router.netns.ExecResult;
import net.hydranet.router.netns.WebNetwork;
import net.hydranet.router.netns.WebReplicas;

/**
 * Where a replica hit's time goes, hop by hop: the fig5 network with a replica installed, tcpdump
 * (nanosecond stamps, one kernel clock for every namespace) on the client, on the redirector's
 * client-side link, on the host server's link and on the virtual host's link, while curl alternates
 * a hit and a request to the host server's local nginx. Each client → server packet is matched
 * across the captures by (ports, flags, sequence, length) and the time between capture points
 * reported per kind of packet (SYN, the request, pure ACKs), with each server's time from the
 * request's arrival to its first byte of answer.
 *
 * <pre>
 * test-harness/bench/paper-fig5/hops.sh          # PAIRS (200)
 * </pre>
 */
public final class HitHops {
  private static final String ORIGIN = WebNetwork.ORIGIN;

  private HitHops() {}

  /** A captured TCP segment: where, when, and the fields that identify it across captures. */
  record Segment(double t, boolean tunnelled, String src, String dst, String key, int len) {}

  public static void main(String[] args) throws Exception {
    Path jar = Path.of(args[0]).toAbsolutePath();
    Path out = Path.of(args[1]).toAbsolutePath();
    int pairs = args.length > 2 ? Integer.parseInt(args[2]) : 200;
    // "nodump": the same pairs with no capture running, to see what the captures themselves cost.
    boolean dump = !(args.length > 3 && args[3].equals("nodump"));
    Path hydraweb = jar.getParent().getParent().getParent().resolve("hydraweb/target/hydraweb.jar");
    Files.createDirectories(out);
    String java = ProcessHandle.current().info().command().orElse("java");
    StringBuilder md = new StringBuilder("# Where a hit's time goes\n\n");
    try (WebNetwork net = new WebNetwork("hnhh", List.of(java, "-jar", jar.toString()), 195)) {
      WebReplicas replicas =
          new WebReplicas(net, hydraweb)
              .asking(new Resources(256L << 20, Resources.parseCpus("1.0"), 128, 1024));
      net.start(replicas.hostServerConfig());
      replicas.startManager(false);
      replicas.install();
      String local = "http://" + WebNetwork.HS1 + ":" + WebNetwork.LOCAL_PORT + "/page-000.html";
      String hit = "http://" + ORIGIN + "/page-000.html";
      // Warm both servers and every daemon's JIT as paper-fig5's ab series do before its pairs:
      // a replica that served a few hundred requests still runs much of its hit path interpreted.
      PaperFig5.ab(net, out, "warm-local", local, 3000, 4);
      PaperFig5.ab(net, out, "warm-hit", hit, 3000, 4);
      String vh = virtualHostLink(net);
      String filter = "tcp port 80 or tcp port " + WebNetwork.LOCAL_PORT + " or ip proto 4";
      String[][] points = {
        {"client", "eth0"}, {"r1", "client0"}, {"hs1", "eth0"}, {"hs1", vh},
      };
      List<Process> dumps = new ArrayList<>();
      for (String[] p : dump ? points : new String[0][]) {
        dumps.add(
            net.topology()
                .spawn(
                    p[0],
                    "tcpdump",
                    "-i",
                    p[1],
                    "-U",
                    "--time-stamp-precision=nano",
                    "-w",
                    out.resolve(p[0] + "-" + p[1] + ".pcap").toString(),
                    filter));
      }
      Thread.sleep(2000); // tcpdump up on every link
      double[][] paired = PaperFig5.pairs(net, out, local, hit, pairs);
      Thread.sleep(500);
      for (Process d : dumps) {
        d.destroy();
        d.waitFor();
      }
      md.append(
          String.format(
              Locale.ROOT,
              "%d curl pairs: median %.3f ms local nginx, %.3f ms hit: %+.3f ms%n%n",
              pairs,
              PaperFig5.median(paired[0]),
              PaperFig5.median(paired[1]),
              PaperFig5.median(paired[1]) - PaperFig5.median(paired[0])));
      if (dump) {
        List<List<Segment>> caps = new ArrayList<>();
        for (String[] p : points) {
          caps.add(read(out.resolve(p[0] + "-" + p[1] + ".pcap")));
        }
        md.append(table(caps.get(0), caps.get(1), caps.get(2), caps.get(3)));
      }
    }
    Files.writeString(out.resolve("hops.md"), md.toString());
    System.out.println(md);
  }

  private static String virtualHostLink(WebNetwork net) {
    ExecResult r = net.topology().exec("hs1", "ip", "-br", "link");
    for (String line : r.stdout().split("\n")) {
      String name = line.split("\\s+")[0];
      if (name.startsWith("hv")) {
        return name.replaceAll("@.*", "");
      }
    }
    throw new IllegalStateException("no virtual host link in hs1:\n" + r.describe());
  }

  /** Reads a capture through tshark's field output: one segment per TCP packet. */
  static List<Segment> read(Path pcap) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(
                "tshark",
                "-r",
                pcap.toString(),
                "-T",
                "fields",
                "-E",
                "separator=/t",
                "-e",
                "frame.time_epoch",
                "-e",
                "ip.proto",
                "-e",
                "ip.src",
                "-e",
                "ip.dst",
                "-e",
                "tcp.srcport",
                "-e",
                "tcp.dstport",
                "-e",
                "tcp.flags",
                "-e",
                "tcp.len",
                "-e",
                "tcp.seq_raw")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    String text =
        new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    p.waitFor();
    List<Segment> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      String[] f = line.split("\t");
      if (f.length < 9 || f[4].isEmpty()) {
        continue;
      }
      String[] src = f[2].split(",");
      String[] dst = f[3].split(",");
      out.add(
          new Segment(
              Double.parseDouble(f[0]),
              f[1].startsWith("4,"),
              src[src.length - 1],
              dst[dst.length - 1],
              f[4] + "/" + f[5] + "/" + f[6] + "/" + f[8] + "/" + f[7],
              Integer.parseInt(f[7])));
    }
    return out;
  }

  private static String table(
      List<Segment> client, List<Segment> r1, List<Segment> hs1, List<Segment> vh) {
    Map<String, Double> cOut = times(client, s -> s.dst().equals(ORIGIN) && !s.tunnelled());
    Map<String, Double> r1In = times(r1, s -> s.dst().equals(ORIGIN) && !s.tunnelled());
    Map<String, Double> r1Out = times(r1, Segment::tunnelled);
    Map<String, Double> hsIn = times(hs1, Segment::tunnelled);
    Map<String, Double> vhIn = times(vh, s -> s.dst().equals(ORIGIN));
    StringBuilder t = new StringBuilder();
    t.append("| client → server packet | hop | n | median µs | p10 | p90 |\n")
        .append("|---|---|---:|---:|---:|---:|\n");
    String[][] kinds = {{"SYN", "0x0002"}, {"request", "data"}, {"pure ACK", "0x0010"}};
    for (String[] k : kinds) {
      java.util.function.Predicate<String> kind =
          key -> {
            String[] f = key.split("/");
            return k[1].equals("data")
                ? Integer.parseInt(f[4]) > 0
                : f[2].equals(k[1]) && f[4].equals("0");
          };
      row(t, k[0], "client → redirector (wire)", cOut, r1In, kind);
      row(t, k[0], "**redirector** (pcap in → tunnel out)", r1In, r1Out, kind);
      row(t, k[0], "redirector → host server (wire)", r1Out, hsIn, kind);
      row(t, k[0], "**host server** (pcap in → TUN → virtual host link)", hsIn, vhIn, kind);
      row(t, k[0], "client → virtual host, total", cOut, vhIn, kind);
    }
    t.append('\n')
        .append(serverTime("replica (HydraWeb)", vh, ORIGIN, 80))
        .append(serverTime("local nginx", hs1, WebNetwork.HS1, WebNetwork.LOCAL_PORT));
    return t.toString();
  }

  private static Map<String, Double> times(
      List<Segment> segments, java.util.function.Predicate<Segment> which) {
    Map<String, Double> m = new HashMap<>();
    for (Segment s : segments) {
      if (which.test(s)) {
        m.putIfAbsent(s.key(), s.t());
      }
    }
    return m;
  }

  private static void row(
      StringBuilder t,
      String kind,
      String hop,
      Map<String, Double> from,
      Map<String, Double> to,
      java.util.function.Predicate<String> which) {
    double[] d =
        from.entrySet().stream()
            .filter(e -> which.test(e.getKey()) && to.containsKey(e.getKey()))
            .mapToDouble(e -> (to.get(e.getKey()) - e.getValue()) * 1e6)
            .sorted()
            .toArray();
    if (d.length == 0) {
      return;
    }
    t.append(
        String.format(
            Locale.ROOT,
            "| %s | %s | %d | %.1f | %.1f | %.1f |%n",
            kind,
            hop,
            d.length,
            d[d.length / 2],
            d[d.length / 10],
            d[9 * d.length / 10]));
  }

  /** Request's first segment in → first segment of answer out, per connection, at one capture. */
  private static String serverTime(String name, List<Segment> cap, String server, int port) {
    Map<String, Double> request = new HashMap<>();
    Map<String, Double> answer = new HashMap<>();
    for (Segment s : cap) {
      String[] f = s.key().split("/");
      if (s.len() == 0 || s.tunnelled()) {
        continue;
      }
      if (s.dst().equals(server) && f[1].equals(Integer.toString(port))) {
        request.putIfAbsent(f[0], s.t());
      } else if (s.src().equals(server) && f[0].equals(Integer.toString(port))) {
        answer.putIfAbsent(f[1], s.t());
      }
    }
    double[] d =
        request.entrySet().stream()
            .filter(e -> answer.containsKey(e.getKey()))
            .mapToDouble(e -> (answer.get(e.getKey()) - e.getValue()) * 1e6)
            .sorted()
            .toArray();
    if (d.length == 0) {
      return "- " + name + ": no request/answer pairs captured\n";
    }
    return String.format(
        Locale.ROOT,
        "- %s: request in → first byte of answer out, median %.1f µs (p10 %.1f, p90 %.1f, n %d)%n",
        name,
        d[d.length / 2],
        d[d.length / 10],
        d[9 * d.length / 10],
        d.length);
  }
}
