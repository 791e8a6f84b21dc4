package net.hydranet.control.agent;

import java.util.List;
import java.util.Map;
import java.util.function.IntUnaryOperator;
import net.hydranet.control.rib.Rib;
import net.hydranet.control.wire.Addresses;
import net.hydranet.control.wire.Service;

/** Text for {@code hydranet ctl}: the table with where each entry came from, peers, counters. */
final class View {
  private View() {}

  static String render(
      String what, Rib rib, ControlCounters counters, long now, IntUnaryOperator reads) {
    StringBuilder sb = new StringBuilder();
    switch (what) {
      case "table" -> table(sb, rib);
      case "peers" -> peers(sb, rib, now, reads);
      case "counters" -> counters(sb, counters);
      default -> {
        table(sb, rib);
        sb.append('\n');
        peers(sb, rib, now, reads);
        sb.append('\n');
        counters(sb, counters);
      }
    }
    return sb.toString();
  }

  private static void table(StringBuilder sb, Rib rib) {
    sb.append("redirector table (service -> host server: distance, source, weight, load)\n");
    Map<Service, List<Rib.Candidate>> view = rib.view();
    if (view.isEmpty()) {
      sb.append("  (empty: all traffic goes to the origins)\n");
    }
    for (var e : view.entrySet()) {
      sb.append("  ").append(e.getKey()).append('\n');
      for (Rib.Candidate c : e.getValue()) {
        String source =
            c.via() == -1
                ? "static (config file)"
                : c.via() == 0
                    ? "announced directly"
                    : "via redirector " + Addresses.format(c.via());
        sb.append(
            String.format(
                "    %s %-15s distance %-3d %-32s weight %-4d load %-3d%n",
                c.selected() ? "*" : " ",
                c.hostServerText(),
                c.distance(),
                source,
                c.weight(),
                c.load()));
      }
    }
    sb.append("  (* = receives new flows)\n");
  }

  private static void peers(StringBuilder sb, Rib rib, long now, IntUnaryOperator reads) {
    sb.append("host servers heard directly\n");
    Map<Integer, String> hs = rib.hostServers(now);
    if (hs.isEmpty()) {
      sb.append("  (none)\n");
    }
    hs.forEach(
        (a, d) -> sb.append(String.format("  %-15s %s%s%n", Addresses.format(a), d, v(a, reads))));
    sb.append("peer redirectors\n");
    Map<Integer, String> peers = rib.peers(now);
    if (peers.isEmpty()) {
      sb.append("  (none)\n");
    }
    peers.forEach(
        (a, d) -> sb.append(String.format("  %-15s %s%s%n", Addresses.format(a), d, v(a, reads))));
  }

  /** ", reads v2": the protocol version the node said it reads (IPV6.md §2), if it did. */
  private static String v(int node, IntUnaryOperator reads) {
    int v = reads.applyAsInt(node);
    return v == 0 ? "" : ", reads v" + v;
  }

  static void counters(StringBuilder sb, ControlCounters counters) {
    sb.append("control-plane counters\n");
    for (ControlCounter c : ControlCounter.values()) {
      long v = counters.get(c);
      if (v != 0) {
        sb.append(String.format("  %-28s %d%n", c.metricName(), v));
      }
    }
  }
}
