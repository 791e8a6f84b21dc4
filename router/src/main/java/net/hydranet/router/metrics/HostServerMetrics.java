package net.hydranet.router.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.io.live.LivePcapSource;
import net.hydranet.hostserver.HostServerCounter;
import net.hydranet.hostserver.VirtualHostTable;

/**
 * The host server's meters, read at scrape time: drops by reason, pass-ons by hop and reason, the
 * rest one metric each.
 */
public final class HostServerMetrics {
  private static final String PREFIX = "hydranet.hostserver.";

  private HostServerMetrics() {}

  /** Binds the meters; {@code source} and {@code tun} may be null (no live I/O, in tests). */
  public static void bind(
      MeterRegistry registry,
      Counters counters,
      VirtualHostTable table,
      LivePcapSource source,
      net.hydranet.forwarding.io.live.TunDevice tun) {
    for (int i = 0; i < HostServerCounter.count(); i++) {
      HostServerCounter c = HostServerCounter.of(i);
      int id = c.id();
      String name = c.metricName();
      if (c.passOnHop() != null) {
        // The second chance: one series per hop and reason (SECOND-CHANCE.md).
        FunctionCounter.builder(PREFIX + "passed.on.packets", counters, x -> x.get(id))
            .tag("hop", c.passOnHop())
            .tag("reason", c.passOnReason())
            .register(registry);
      } else if (name.startsWith("drop_")) {
        FunctionCounter.builder(PREFIX + "dropped.packets", counters, x -> x.get(id))
            .tag("reason", name.substring("drop_".length()))
            .register(registry);
      } else {
        FunctionCounter.Builder<Counters> b =
            FunctionCounter.builder(PREFIX + name.replace('_', '.'), counters, x -> x.get(id));
        if (name.endsWith("_bytes")) {
          b.baseUnit("bytes");
        }
        b.register(registry);
      }
    }
    Gauge.builder(PREFIX + "virtual.hosts", table, VirtualHostTable::virtualHosts)
        .register(registry);
    Gauge.builder(PREFIX + "bound.ports", table, VirtualHostTable::boundPorts).register(registry);
    if (source != null) {
      FunctionCounter.builder(
              PREFIX + "pcap.kernel.drops", source, x -> Math.max(0, x.kernelDrops()))
          .tag("interface", source.interfaceName())
          .register(registry);
    }
    if (tun != null) {
      FunctionCounter.builder(PREFIX + "tun.write.failures", tun, x -> x.writeFailures())
          .register(registry);
    }
  }
}
