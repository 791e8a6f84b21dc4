package net.hydranet.router.status;

import java.io.PrintStream;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.router.metrics.PlaneSnapshot;

/** Prints the redirector table and the counters in a form a person reads at a glance. */
public final class Summary {
  private Summary() {}

  /**
   * Prints {@code plane}'s table and counters; reads the table, so only on its forwarding thread or
   * on a plane that is not running.
   */
  public static void print(PrintStream out, ForwardingPlane plane) {
    print(out, PlaneSnapshot.read(plane, false), plane);
  }

  /**
   * Prints the table as {@code snapshot} holds it and {@code plane}'s counters, which any thread
   * may read: what a thread that is not the forwarding thread prints ({@code --status}).
   */
  public static void print(PrintStream out, PlaneSnapshot snapshot, ForwardingPlane plane) {
    out.println("redirector table (" + snapshot.services().size() + " services):");
    // Every service in the table, whether the config file or the control plane put it there.
    for (PlaneSnapshot.Service service : snapshot.services()) {
      StringBuilder servers = new StringBuilder();
      for (int i = 0; i < service.targets().size(); i++) {
        PlaneSnapshot.Target target = service.targets().get(i);
        servers
            .append(i == 0 ? "" : ", ")
            .append(target.address())
            .append(" w=")
            .append(target.weight());
      }
      out.printf(
          "  %s:%d/%s -> %s   packets=%d bytes=%d%n",
          service.family() == 6 ? "[" + service.addressText() + "]" : service.addressText(),
          service.port(),
          service.protocol() == Ipv4Header.PROTOCOL_TCP ? "tcp" : "udp",
          servers,
          service.packets(),
          service.bytes());
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
}
