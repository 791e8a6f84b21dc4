package net.hydranet.router.cli;

import java.io.PrintStream;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.router.config.RedirectorConfig;

/** Prints the redirector table and the counters in a form a person reads at a glance. */
final class Summary {
  private Summary() {}

  static void print(PrintStream out, ForwardingPlane plane, RedirectorConfig cfg) {
    RedirectorTable table = plane.redirects();
    out.println("redirector table (" + table.size() + " services):");
    for (RedirectorConfig.Redirect r : cfg.redirects()) {
      int service = table.lookup(r.address(), r.protocol(), r.port());
      StringBuilder servers = new StringBuilder();
      for (int i = 0; i < r.hostServers().length; i++) {
        servers
            .append(i == 0 ? "" : ", ")
            .append(Ipv4Header.formatAddress(r.hostServers()[i]))
            .append(" w=")
            .append(r.weights()[i]);
      }
      out.printf(
          "  %s:%d/%s -> %s   packets=%d bytes=%d%n",
          Ipv4Header.formatAddress(r.address()),
          r.port(),
          r.protocol() == Ipv4Header.PROTOCOL_TCP ? "tcp" : "udp",
          servers,
          service < 0 ? 0 : table.packets(service),
          service < 0 ? 0 : table.bytes(service));
    }
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
  }
}
