package net.hydranet.router.status;

import java.io.PrintStream;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.router.metrics.PlaneSnapshot;

/** Prints the redirector table and the counters in a form a person reads at a glance. */
public final class Summary {
  private Summary() {}

  public static void print(PrintStream out, ForwardingPlane plane) {
    RedirectorTable table = plane.redirects();
    out.println("redirector table (" + table.size() + " services):");
    // Every service in the table, whether the config file or the control plane put it there.
    table.forEach(
        service -> {
          StringBuilder servers = new StringBuilder();
          for (int i = 0; i < table.hostServerCount(service); i++) {
            int host = table.hostServer(service, i);
            servers
                .append(i == 0 ? "" : ", ")
                .append(hostServer(plane, host))
                .append(" w=")
                .append(table.weight(service, i));
          }
          out.printf(
              "  %s:%d/%s -> %s   packets=%d bytes=%d%n",
              table.family(service) == 6
                  ? "["
                      + Ipv6Header.formatAddress(
                          table.addressHigh(service), table.addressLow(service))
                      + "]"
                  : Ipv4Header.formatAddress(table.address(service)),
              table.port(service),
              table.protocol(service) == Ipv4Header.PROTOCOL_TCP ? "tcp" : "udp",
              servers,
              plane.servicePackets(service),
              plane.serviceBytes(service));
        });
    Counters c = plane.counters();
    out.println("counters (non-zero):");
    for (int i = 0; i < Counter.count(); i++) {
      long v = c.get(i);
      if (v != 0) {
        out.printf("  %-32s %d%n", Counter.of(i).metricName(), v);
      }
    }
    out.printf(
        "accounting: rx_frames=%d = outcomes %d (forwarded %d + redirected %d + local %d + dropped %d)%n",
        c.get(Counter.RX_FRAMES),
        c.outcomes(),
        c.get(Counter.FORWARDED),
        c.get(Counter.REDIRECTED),
        c.get(Counter.DELIVERED_LOCAL),
        c.drops());
    if (plane.pipelines() > 1) {
      // How the fanout spread the frames and flows: every pipeline's own counters.
      out.println("pipelines (" + plane.pipelines() + "):");
      for (int i = 0; i < plane.pipelines(); i++) {
        Counters p = plane.counters(i);
        out.printf(
            "  pipeline %d: rx_frames=%d forwarded=%d redirected=%d flows_created=%d%n",
            i,
            p.get(Counter.RX_FRAMES),
            p.get(Counter.FORWARDED),
            p.get(Counter.REDIRECTED),
            p.get(Counter.FLOWS_CREATED));
      }
    }
  }

  /** An IPv4 host server's address, or an IPv6 host server's (named by its id in the table). */
  private static String hostServer(ForwardingPlane plane, int host) {
    return PlaneSnapshot.hostServerText(plane, host);
  }
}
