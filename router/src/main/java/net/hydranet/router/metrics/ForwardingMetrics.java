package net.hydranet.router.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToLongFunction;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.io.live.LivePcapSource;
import net.hydranet.forwarding.pipeline.Pipeline;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.wire.Ipv4Header;

/**
 * The redirector's meters, all read at scrape time from the single-writer counters: outcomes and
 * drops as one metric each with a bounded label ({@code outcome}, {@code reason}), the rest one
 * metric per counter, per-interface pcap figures, ring occupancy and per-service traffic (one label
 * value per configured service, never per client).
 */
public final class ForwardingMetrics {
  private static final String PREFIX = "hydranet.redirector.";
  private static final String RELEASED_DEAD_HOST = "flows_released_dead_host";

  private final MeterRegistry registry;
  private final ForwardingPlane plane;

  /**
   * Per service: its meters and the index they read. Micrometer holds a function counter's state
   * object only weakly, so the index must be held here, or the first GC turns the series into a
   * frozen 0 (seen once the flow table made the heap large enough to collect early).
   */
  private final Map<String, ServiceMeters> services = new HashMap<>();

  private record ServiceMeters(AtomicInteger index, List<Meter> meters) {}

  /** Each interface's captures, one per pipeline: the state its meters read. */
  private final List<List<LivePcapSource>> captures = new ArrayList<>();

  public ForwardingMetrics(MeterRegistry registry, ForwardingPlane plane) {
    this.registry = registry;
    this.plane = plane;
    Counters counters = plane.counters();
    for (int i = 0; i < Counter.count(); i++) {
      Counter c = Counter.of(i);
      int id = c.id();
      switch (c.kind()) {
        case TOTAL ->
            FunctionCounter.builder(PREFIX + "received.packets", counters, x -> x.get(id))
                .description("frames received on every interface")
                .register(registry);
        case OUTCOME ->
            FunctionCounter.builder(PREFIX + "packets", counters, x -> x.get(id))
                .tag("outcome", c.metricName())
                .description("received frames by outcome: forwarded, redirected, delivered_local")
                .register(registry);
        case DROP ->
            FunctionCounter.builder(PREFIX + "dropped.packets", counters, x -> x.get(id))
                .tag("reason", c.metricName().substring("drop_".length()))
                .description("received frames dropped, by reason")
                .register(registry);
        case WORK -> {
          String name = c.metricName();
          FunctionCounter.Builder<Counters> b;
          if (name.startsWith(RELEASED_DEAD_HOST)) {
            b =
                FunctionCounter.builder(
                        PREFIX + RELEASED_DEAD_HOST.replace('_', '.'), counters, x -> x.get(id))
                    .tag("proto", name.substring(RELEASED_DEAD_HOST.length() + 1))
                    .description(
                        "flows pinned to a host server declared dead and released: tcp are"
                            + " connections lost, udp moved to another host server");
          } else {
            b = FunctionCounter.builder(PREFIX + name.replace('_', '.'), counters, x -> x.get(id));
          }
          if (name.endsWith("_bytes")) {
            b.baseUnit("bytes");
          }
          b.register(registry);
        }
      }
    }
  }

  /**
   * Per-interface pcap figures; kernel drops are read with pcap_stats at scrape time. With several
   * pipelines an interface has one capture per pipeline: its series are their sums.
   */
  public ForwardingMetrics interfaces(List<LivePcapSource> sources) {
    Map<String, List<LivePcapSource>> byName = new LinkedHashMap<>();
    for (LivePcapSource s : sources) {
      byName.computeIfAbsent(s.interfaceName(), n -> new ArrayList<>()).add(s);
    }
    for (Map.Entry<String, List<LivePcapSource>> e : byName.entrySet()) {
      String name = e.getKey();
      List<LivePcapSource> s = List.copyOf(e.getValue());
      // Micrometer holds a function counter's state only weakly: the list must live here.
      captures.add(s);
      FunctionCounter.builder(
              PREFIX + "interface.received.packets", s, x -> sum(x, LivePcapSource::framesReceived))
          .tag("interface", name)
          .register(registry);
      FunctionCounter.builder(
              PREFIX + "interface.received", s, x -> sum(x, LivePcapSource::bytesReceived))
          .tag("interface", name)
          .baseUnit("bytes")
          .register(registry);
      FunctionCounter.builder(
              PREFIX + "interface.sent.packets", s, x -> sum(x, c -> c.txPort().framesSent()))
          .tag("interface", name)
          .register(registry);
      FunctionCounter.builder(
              PREFIX + "interface.sent", s, x -> sum(x, c -> c.txPort().bytesSent()))
          .tag("interface", name)
          .baseUnit("bytes")
          .register(registry);
      FunctionCounter.builder(
              PREFIX + "interface.send.failures", s, x -> sum(x, c -> c.txPort().sendFailures()))
          .tag("interface", name)
          .register(registry);
      FunctionCounter.builder(
              PREFIX + "pcap.kernel.drops", s, x -> sum(x, c -> Math.max(0, c.kernelDrops())))
          .tag("interface", name)
          .description("frames the kernel dropped before pcap could take them (ring full)")
          .register(registry);
    }
    return this;
  }

  private static double sum(List<LivePcapSource> sources, ToLongFunction<LivePcapSource> f) {
    long total = 0;
    for (LivePcapSource s : sources) {
      total += f.applyAsLong(s);
    }
    return total;
  }

  /** Ring occupancy: slots in use and the ring's size. */
  public ForwardingMetrics ring(Pipeline pipeline) {
    Gauge.builder(PREFIX + "ring.used.slots", pipeline, Pipeline::usedSlots)
        .description("ring slots holding frames not yet processed")
        .register(registry);
    Gauge.builder(PREFIX + "ring.slots", pipeline, Pipeline::slots).register(registry);
    FunctionCounter.builder(PREFIX + "pipeline.inline.frames", pipeline, Pipeline::inlineFrames)
        .description("frames the receive thread ran itself because the forwarding thread was idle")
        .register(registry);
    Gauge.builder(PREFIX + "services", plane, p -> p.redirects().size())
        .description("entries in the redirector table")
        .register(registry);
    return this;
  }

  /**
   * Ring occupancy summed over every pipeline (the series {@link #ring} registers for one), and per
   * pipeline ({@code pipeline} label): frames received, flows created, slots in use and frames run
   * on the receive thread, so an operator sees whether the fanout spreads the load.
   */
  public ForwardingMetrics rings(ForwardingPlane plane) {
    Gauge.builder(PREFIX + "ring.used.slots", plane, p -> sumPipelines(p, Pipeline::usedSlots))
        .description("ring slots holding frames not yet processed")
        .register(registry);
    Gauge.builder(PREFIX + "ring.slots", plane, p -> sumPipelines(p, Pipeline::slots))
        .register(registry);
    FunctionCounter.builder(
            PREFIX + "pipeline.inline.frames", plane, p -> sumPipelines(p, Pipeline::inlineFrames))
        .description("frames the receive thread ran itself because the forwarding thread was idle")
        .register(registry);
    Gauge.builder(PREFIX + "services", plane, p -> p.redirects().size())
        .description("entries in the redirector table")
        .register(registry);
    for (int i = 0; i < plane.pipelines(); i++) {
      int index = i;
      String label = Integer.toString(i);
      Counters c = plane.counters(i);
      FunctionCounter.builder(
              PREFIX + "pipeline.received.packets", c, x -> x.get(Counter.RX_FRAMES))
          .tag("pipeline", label)
          .description("frames received by one forwarding pipeline")
          .register(registry);
      FunctionCounter.builder(
              PREFIX + "pipeline.flows.created", c, x -> x.get(Counter.FLOWS_CREATED))
          .tag("pipeline", label)
          .description("flows recorded in one pipeline's connection table")
          .register(registry);
      Gauge.builder(
              PREFIX + "pipeline.ring.used.slots",
              plane,
              p -> p.pipeline(index) == null ? 0 : p.pipeline(index).usedSlots())
          .tag("pipeline", label)
          .register(registry);
    }
    return this;
  }

  private static double sumPipelines(ForwardingPlane plane, ToLongFunction<Pipeline> f) {
    long total = 0;
    for (int i = 0; i < plane.pipelines(); i++) {
      Pipeline p = plane.pipeline(i);
      if (p != null) {
        total += f.applyAsLong(p);
      }
    }
    return total;
  }

  /**
   * Makes the per-service meters match the configured services. A service's index is read on the
   * forwarding thread (a snapshot command) and kept; its counters are then read directly, which is
   * safe from any thread (ordered stores, volatile reads).
   */
  public ForwardingMetrics services(List<int[]> configured) {
    Map<String, int[]> wanted = new HashMap<>();
    for (int[] s : configured) {
      wanted.put(label(s[0], s[1], s[2]), s);
    }
    for (String gone : new ArrayList<>(services.keySet())) {
      if (!wanted.containsKey(gone)) {
        services.remove(gone).meters().forEach(registry::remove);
      }
    }
    for (Map.Entry<String, int[]> e : wanted.entrySet()) {
      if (services.containsKey(e.getKey())) {
        continue;
      }
      int[] s = e.getValue();
      AtomicInteger index = new AtomicInteger(RedirectorTable.NOT_FOUND);
      plane.snapshot(p -> index.set(p.redirects().lookup(s[0], s[1], s[2])));
      List<Meter> meters = new ArrayList<>();
      meters.add(
          FunctionCounter.builder(
                  PREFIX + "service.packets",
                  index,
                  x -> x.get() < 0 ? 0 : plane.servicePackets(x.get()))
              .tag("service", e.getKey())
              .description("packets tunnelled for a replicated service")
              .register(registry));
      meters.add(
          FunctionCounter.builder(
                  PREFIX + "service", index, x -> x.get() < 0 ? 0 : plane.serviceBytes(x.get()))
              .tag("service", e.getKey())
              .baseUnit("bytes")
              .register(registry));
      services.put(e.getKey(), new ServiceMeters(index, meters));
    }
    return this;
  }

  private final Map<String, ServiceMeters> services6 = new HashMap<>();

  /**
   * As {@link #services}, for IPv6 services, each {high, low, protocol, port}: the same two series
   * with the label {@code [2001:2::10]:80/tcp} (the control plane's and ctl's form).
   */
  public ForwardingMetrics services6(List<long[]> configured) {
    Map<String, long[]> wanted = new HashMap<>();
    for (long[] s : configured) {
      wanted.put(label6(s[0], s[1], (int) s[2], (int) s[3]), s);
    }
    for (String gone : new ArrayList<>(services6.keySet())) {
      if (!wanted.containsKey(gone)) {
        services6.remove(gone).meters().forEach(registry::remove);
      }
    }
    for (Map.Entry<String, long[]> e : wanted.entrySet()) {
      if (services6.containsKey(e.getKey())) {
        continue;
      }
      long[] s = e.getValue();
      AtomicInteger index = new AtomicInteger(RedirectorTable.NOT_FOUND);
      plane.snapshot(p -> index.set(p.redirects().lookup6(s[0], s[1], (int) s[2], (int) s[3])));
      RedirectorTable table = plane.redirects();
      List<Meter> meters = new ArrayList<>();
      meters.add(
          FunctionCounter.builder(
                  PREFIX + "service.packets", index, x -> x.get() < 0 ? 0 : table.packets(x.get()))
              .tag("service", e.getKey())
              .description("packets tunnelled for a replicated service")
              .register(registry));
      meters.add(
          FunctionCounter.builder(
                  PREFIX + "service", index, x -> x.get() < 0 ? 0 : table.bytes(x.get()))
              .tag("service", e.getKey())
              .baseUnit("bytes")
              .register(registry));
      services6.put(e.getKey(), new ServiceMeters(index, meters));
    }
    return this;
  }

  /** {@code [2001:2::10]:80/tcp}. */
  public static String label6(long high, long low, int protocol, int port) {
    return "["
        + net.hydranet.forwarding.wire.Ipv6Header.formatAddress(high, low)
        + "]:"
        + port
        + (protocol == Ipv4Header.PROTOCOL_TCP ? "/tcp" : "/udp");
  }

  /**
   * Per service and host server, shaped like node_exporter's IPVS collector (labels address, port,
   * protocol, host_server, and family {@code ipv4}/{@code ipv6}; one series per table entry, never
   * per client): weight, packets and bytes sent, and live flows in the connection table; plus the
   * live flows in all, one series per family's connection table. Read from the sampler's latest
   * snapshot, so up to a sample period old; flows up to {@link Sampler#FLOW_EVERY} periods old. An
   * IPv6 target's live flows read NaN while they cannot be told apart from another IPv6 service's
   * ({@link PlaneSnapshot#take}).
   */
  public ForwardingMetrics targets(Sampler sampler) {
    Gauge.builder(
            PREFIX + "active.flows",
            sampler,
            s -> s.latest() == null ? Double.NaN : s.latest().flows())
        .tag("family", "ipv4")
        .description("live flows in the connection table of each address family")
        .register(registry);
    Gauge.builder(
            PREFIX + "active.flows",
            sampler,
            s -> s.latest() == null ? Double.NaN : s.latest().flows6())
        .tag("family", "ipv6")
        .description("live flows in the connection table of each address family")
        .register(registry);
    sampler.onFlows(this::syncTargets);
    return this;
  }

  private record TargetMeters(AtomicReference<PlaneSnapshot.Target> now, List<Meter> meters) {}

  private final Map<String, TargetMeters> targets = new HashMap<>();

  private synchronized void syncTargets(PlaneSnapshot snapshot) {
    Map<String, PlaneSnapshot.Target> now = new HashMap<>();
    Map<String, Tags> tags = new HashMap<>();
    for (PlaneSnapshot.Service s : snapshot.services()) {
      for (PlaneSnapshot.Target t : s.targets()) {
        String key = s.label() + ">" + t.hostServer();
        now.put(key, t);
        tags.put(
            key,
            Tags.of(
                "address", s.addressText(),
                "port", Integer.toString(s.port()),
                "protocol", s.protocol() == Ipv4Header.PROTOCOL_TCP ? "tcp" : "udp",
                "host_server", t.address(),
                "family", s.family() == 6 ? "ipv6" : "ipv4"));
      }
    }
    for (String gone : new ArrayList<>(targets.keySet())) {
      if (!now.containsKey(gone)) {
        targets.remove(gone).meters().forEach(registry::remove);
      }
    }
    for (Map.Entry<String, PlaneSnapshot.Target> e : now.entrySet()) {
      TargetMeters m = targets.get(e.getKey());
      if (m != null) {
        m.now().set(e.getValue());
        continue;
      }
      AtomicReference<PlaneSnapshot.Target> ref = new AtomicReference<>(e.getValue());
      Tags t = tags.get(e.getKey());
      List<Meter> meters = new ArrayList<>();
      meters.add(
          Gauge.builder(PREFIX + "target.weight", ref, x -> x.get().weight())
              .tags(t)
              .description("a host server's weight in a service (0: drained)")
              .register(registry));
      meters.add(
          FunctionCounter.builder(PREFIX + "target.packets", ref, x -> x.get().packets())
              .tags(t)
              .description("packets tunnelled to a host server for a service")
              .register(registry));
      meters.add(
          FunctionCounter.builder(PREFIX + "target", ref, x -> x.get().bytes())
              .tags(t)
              .baseUnit("bytes")
              .register(registry));
      meters.add(
          Gauge.builder(
                  PREFIX + "target.active.flows",
                  ref,
                  x -> x.get().flows() < 0 ? Double.NaN : x.get().flows())
              .tags(t)
              .description("live flows of a service pinned to a host server")
              .register(registry));
      targets.put(e.getKey(), new TargetMeters(ref, meters));
    }
  }

  /** "198.18.2.10:80/tcp". */
  public static String label(int address, int protocol, int port) {
    return Ipv4Header.formatAddress(address)
        + ":"
        + port
        + (protocol == Ipv4Header.PROTOCOL_TCP ? "/tcp" : "/udp");
  }
}
