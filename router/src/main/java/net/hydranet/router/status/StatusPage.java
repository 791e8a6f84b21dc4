package net.hydranet.router.status;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import net.hydranet.control.agent.RedirectorAgent;
import net.hydranet.control.rib.Rib;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.router.metrics.PlaneSnapshot;
import net.hydranet.router.metrics.Sampler;

/**
 * The redirector's status page, {@code /status} on the metrics address: the live table with where
 * each entry came from and its flows per host server, the peers and their state, drops by reason,
 * and a plot of the last minutes of packets and drops. One server-side rendered HTML page with an
 * inline SVG and no script; it reloads itself every {@link #REFRESH_SECONDS} s. Read-only: it only
 * reads the sampler's latest snapshot and the control plane's view.
 */
public final class StatusPage {
  public static final int REFRESH_SECONDS = 2;
  private static final int WIDTH = 600;
  private static final int HEIGHT = 120;

  private final Sampler sampler;
  private final Supplier<RedirectorAgent> agent;
  private final String name;

  public StatusPage(Sampler sampler, Supplier<RedirectorAgent> agent, String name) {
    this.sampler = sampler;
    this.agent = agent;
    this.name = name;
  }

  public String render() {
    PlaneSnapshot p = sampler.latest();
    RedirectorAgent a = agent.get();
    RedirectorAgent.Snapshot control = null;
    String controlError = null;
    if (a != null) {
      try {
        control = a.snapshot();
      } catch (Exception e) {
        controlError = String.valueOf(e.getMessage());
      }
    }
    StringBuilder h = new StringBuilder(8192);
    h.append("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta http-equiv=\"refresh\" content=\"")
        .append(REFRESH_SECONDS)
        .append("\"><title>HydraNet redirector ")
        .append(esc(name))
        .append("</title><style>")
        .append("body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}")
        .append("table{border-collapse:collapse;margin:.5em 0 1.5em}")
        .append("th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}")
        .append("td.n{text-align:right;font-variant-numeric:tabular-nums}")
        .append("th{background:#f2f2f2}h2{font-size:1.1em;margin:1em 0 .2em}")
        .append(".muted{color:#777}</style></head><body>\n");
    h.append("<h1>HydraNet redirector ").append(esc(name)).append("</h1>\n");
    if (p == null) {
      return h.append("<p>no sample yet</p></body></html>\n").toString();
    }
    h.append("<p class=\"muted\" id=\"taken\">sampled at ")
        .append(Instant.ofEpochMilli(p.takenMillis()))
        .append("; received <span id=\"rx\">")
        .append(p.counters().getOrDefault("rx_frames", 0L))
        .append("</span> frames, redirected <span id=\"redirected\">")
        .append(p.counters().getOrDefault("redirected", 0L))
        .append("</span>, live flows <span id=\"flows\">")
        .append(p.flows())
        .append("</span> IPv4, <span id=\"flows6\">")
        .append(p.flows6())
        .append("</span> IPv6</p>\n");
    plot(h, sampler.points());
    table(h, p, control, a != null);
    peers(h, control, a != null, controlError);
    drops(h, p);
    return h.append("</body></html>\n").toString();
  }

  private static void table(
      StringBuilder h, PlaneSnapshot p, RedirectorAgent.Snapshot control, boolean controlOn) {
    h.append("<h2>Redirector table</h2>\n<table id=\"table\"><tr><th>service</th>")
        .append("<th>host server</th><th>source</th><th>weight</th><th>packets</th>")
        .append("<th>bytes</th><th>live flows</th></tr>\n");
    if (p.services().isEmpty()) {
      h.append("<tr><td colspan=\"7\" class=\"muted\">empty: all traffic goes to the origins")
          .append("</td></tr>\n");
    }
    for (PlaneSnapshot.Service s : p.services()) {
      List<Rib.Candidate> candidates =
          control == null ? List.of() : control.table().getOrDefault(s.key(), List.of());
      for (PlaneSnapshot.Target t : s.targets()) {
        h.append("<tr class=\"entry\"><td>")
            .append(esc(s.label()))
            .append("</td><td>")
            .append(esc(t.address()))
            .append("</td><td>")
            .append(esc(source(candidates, t.hostServer(), controlOn)))
            .append("</td><td class=\"n\">")
            .append(t.weight())
            .append("</td><td class=\"n packets\">")
            .append(t.packets())
            .append("</td><td class=\"n\">")
            .append(t.bytes())
            .append("</td><td class=\"n\">")
            .append(t.flows() < 0 ? "" : Integer.toString(t.flows()))
            .append("</td></tr>\n");
      }
    }
    h.append("</table>\n");
    if (p.walkedFlows()) {
      h.append("<h2>Flows per target</h2>\n<table id=\"flows-per-target\">")
          .append("<tr><th>target</th><th>family</th><th>live flows</th></tr>\n");
      p.flowsPerTarget()
          .forEach(
              (t, n) -> flowRow(h, t == 0 ? "origin" : Ipv4Header.formatAddress(t), "IPv4", n));
      p.flowsPerTarget6().forEach((t, n) -> flowRow(h, t, "IPv6", n));
      h.append("</table>\n");
    }
  }

  private static void flowRow(StringBuilder h, String target, String family, int flows) {
    h.append("<tr><td>")
        .append(esc(target))
        .append("</td><td>")
        .append(family)
        .append("</td><td class=\"n\">")
        .append(flows)
        .append("</td></tr>\n");
  }

  /** Where a table entry came from: the control plane's candidate for it, or the config file. */
  private static String source(List<Rib.Candidate> candidates, int hostServer, boolean controlOn) {
    if (!controlOn) {
      return "static (config file)";
    }
    for (Rib.Candidate c : candidates) {
      if (c.hostServer() == hostServer) {
        String via =
            c.via() == -1
                ? "static (config file)"
                : c.via() == 0
                    ? "announced directly"
                    : "via redirector " + Ipv4Header.formatAddress(c.via());
        return via + ", distance " + c.distance();
      }
    }
    return "?";
  }

  private static void peers(
      StringBuilder h, RedirectorAgent.Snapshot control, boolean controlOn, String error) {
    h.append("<h2>Peers</h2>\n");
    if (!controlOn) {
      h.append("<p class=\"muted\">the control plane is off (no --control)</p>\n");
      return;
    }
    if (control == null) {
      h.append("<p>control plane did not answer: ").append(esc(error)).append("</p>\n");
      return;
    }
    h.append("<table id=\"peers\"><tr><th>kind</th><th>address</th><th>state</th></tr>\n");
    peerRows(h, "host server", control.hostServers());
    peerRows(h, "redirector", control.peers());
    if (control.hostServers().isEmpty() && control.peers().isEmpty()) {
      h.append("<tr><td colspan=\"3\" class=\"muted\">none heard</td></tr>\n");
    }
    h.append("</table>\n");
  }

  private static void peerRows(StringBuilder h, String kind, Map<Integer, String> peers) {
    peers.forEach(
        (a, state) ->
            h.append("<tr><td>")
                .append(kind)
                .append("</td><td>")
                .append(Ipv4Header.formatAddress(a))
                .append("</td><td>")
                .append(esc(state))
                .append("</td></tr>\n"));
  }

  private static void drops(StringBuilder h, PlaneSnapshot p) {
    h.append("<h2>Drops by reason</h2>\n<table id=\"drops\">")
        .append("<tr><th>reason</th><th>packets</th></tr>\n");
    boolean any = false;
    for (Map.Entry<String, Long> e : p.counters().entrySet()) {
      if (e.getKey().startsWith("drop_") && e.getValue() != 0) {
        any = true;
        h.append("<tr><td>")
            .append(esc(e.getKey().substring("drop_".length())))
            .append("</td><td class=\"n\">")
            .append(e.getValue())
            .append("</td></tr>\n");
      }
    }
    if (!any) {
      h.append("<tr><td colspan=\"2\" class=\"muted\">none</td></tr>\n");
    }
    h.append("</table>\n");
  }

  /** Packets received and dropped per second over the ring, as two polylines. */
  private static void plot(StringBuilder h, List<Sampler.Point> points) {
    h.append("<h2>Last ")
        .append(Math.max(1, points.isEmpty() ? 0 : duration(points) / 60))
        .append(" minute(s): packets/s received (blue) and dropped (red)</h2>\n");
    int n = points.size() - 1;
    double[] rx = new double[Math.max(n, 0)];
    double[] drop = new double[Math.max(n, 0)];
    double max = 1;
    for (int i = 0; i < n; i++) {
      Sampler.Point a = points.get(i);
      Sampler.Point b = points.get(i + 1);
      double seconds = Math.max(1, b.millis() - a.millis()) / 1000.0;
      rx[i] = Math.max(0, b.received() - a.received()) / seconds;
      drop[i] = Math.max(0, b.dropped() - a.dropped()) / seconds;
      max = Math.max(max, Math.max(rx[i], drop[i]));
    }
    h.append("<svg id=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"")
        .append(WIDTH + 60)
        .append("\" height=\"")
        .append(HEIGHT + 20)
        .append("\" role=\"img\" aria-label=\"packets and drops per second\">")
        .append("<rect x=\"50\" y=\"0\" width=\"")
        .append(WIDTH)
        .append("\" height=\"")
        .append(HEIGHT)
        .append("\" fill=\"#fafafa\" stroke=\"#ccc\"/>")
        .append("<text x=\"46\" y=\"12\" font-size=\"11\" text-anchor=\"end\">")
        .append(String.format("%.0f", max))
        .append("</text><text x=\"46\" y=\"")
        .append(HEIGHT)
        .append("\" font-size=\"11\" text-anchor=\"end\">0</text>");
    polyline(h, rx, max, "#1f6fd1", "rx-line");
    polyline(h, drop, max, "#d62728", "drop-line");
    h.append("</svg>\n");
  }

  private static long duration(List<Sampler.Point> points) {
    return (points.get(points.size() - 1).millis() - points.get(0).millis()) / 1000;
  }

  private static void polyline(
      StringBuilder h, double[] values, double max, String color, String id) {
    h.append("<polyline id=\"").append(id).append("\" fill=\"none\" stroke=\"").append(color);
    h.append("\" stroke-width=\"1.5\" points=\"");
    int slots = Sampler.CAPACITY - 1;
    int offset = slots - values.length; // newest on the right
    for (int i = 0; i < values.length; i++) {
      double x = 50 + (offset + i) * (double) WIDTH / Math.max(1, slots - 1);
      double y = HEIGHT - values[i] / max * (HEIGHT - 4);
      h.append(String.format(java.util.Locale.ROOT, "%.1f,%.1f ", x, y));
    }
    h.append("\"/>");
  }

  private static String esc(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }
}
