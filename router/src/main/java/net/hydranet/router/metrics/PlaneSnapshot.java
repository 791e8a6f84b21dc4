package net.hydranet.router.metrics;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.table.Ipv6HostServers;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;

/**
 * The forwarding plane's table, counters and (optionally) live flows per target as of one moment,
 * read on the forwarding thread as a queued command: the views of {@code hydranet ctl}, the status
 * page and the per-host-server meters all read this copy rather than the thread's own arrays.
 *
 * @param services every service in the table, in index order
 * @param counters every counter of {@link Counter}, by metric name, zero or not
 * @param flowsPerTarget live connection-table flows by target (0 = the origin), unsigned order;
 *     empty when not asked for
 * @param flows live flows in the connection table
 * @param evictedFlows flows forgotten because the table was full
 */
public record PlaneSnapshot(
    long takenMillis,
    List<Service> services,
    Map<String, Long> counters,
    Map<Integer, Integer> flowsPerTarget,
    int flows,
    long evictedFlows) {

  /**
   * One service and its host servers: an IPv4 one ({@code family} 4) by {@code address}, an IPv6
   * one ({@code family} 6) by {@code addressHigh}/{@code addressLow}, its {@code address} 0.
   */
  public record Service(
      int family,
      int address,
      long addressHigh,
      long addressLow,
      int protocol,
      int port,
      long packets,
      long bytes,
      List<Target> targets) {
    /** "198.18.2.10:80/tcp" or "[2001:2:0:2::10]:80/tcp", as ctl and the control plane write it. */
    public String label() {
      return family == 6
          ? ForwardingMetrics.label6(addressHigh, addressLow, protocol, port)
          : ForwardingMetrics.label(address, protocol, port);
    }

    /** "198.18.2.10" or "2001:2:0:2::10". */
    public String addressText() {
      return family == 6
          ? Ipv6Header.formatAddress(addressHigh, addressLow)
          : Ipv4Header.formatAddress(address);
    }

    /** The control plane's name of this service (its table's key). */
    public net.hydranet.control.wire.Service key() {
      return family == 6
          ? net.hydranet.control.wire.Service.ipv6(addressHigh, addressLow, protocol, port)
          : net.hydranet.control.wire.Service.ipv4(address, protocol, port);
    }

    /** The same service with other figures and targets. */
    public Service with(long packets, long bytes, List<Target> targets) {
      return new Service(
          family, address, addressHigh, addressLow, protocol, port, packets, bytes, targets);
    }
  }

  /**
   * One host server of a service, its address as text (an IPv4 host server's, or the IPv6 address
   * of the one that {@code hostServer} names by id, reached in IPv6-in-IPv6), its weight, what was
   * sent to it and its live flows (-1 when the snapshot did not walk the connection table).
   */
  public record Target(
      int hostServer, String address, int weight, long packets, long bytes, int flows) {
    /** The same host server with another count of live flows. */
    public Target withFlows(int liveFlows) {
      return new Target(hostServer, address, weight, packets, bytes, liveFlows);
    }
  }

  /** A host-server slot's value as text; for an IPv6 host server's id, on a forwarding thread. */
  public static String hostServerText(ForwardingPlane p, int hostServer) {
    if (!ForwardingPlane.isIpv6HostServer(hostServer)) {
      return Ipv4Header.formatAddress(hostServer);
    }
    Ipv6HostServers hosts = p.path().ipv6().hostServers();
    return Ipv6Header.formatAddress(hosts.high(hostServer), hosts.low(hostServer));
  }

  /**
   * Takes a snapshot; with {@code flows}, walks the connection table too (one pass over its live
   * entries, on the forwarding thread: keep it to seconds apart, not per request). With several
   * pipelines each walks its own table on its own thread, and pipeline 0 adds the parts to its
   * reading of the table.
   *
   * @throws TimeoutException when a forwarding thread did not answer within 2 s
   */
  public static PlaneSnapshot take(ForwardingPlane plane, boolean flows)
      throws InterruptedException, ExecutionException, TimeoutException {
    if (plane.pipelines() == 1) {
      CompletableFuture<PlaneSnapshot> f = new CompletableFuture<>();
      plane.snapshot(p -> f.complete(read(p, flows)));
      return f.get(2, TimeUnit.SECONDS);
    }
    long deadline = System.nanoTime() + 2_000_000_000L;
    List<CompletableFuture<Walk>> parts = new ArrayList<>();
    for (int i = 0; i < plane.pipelines(); i++) {
      int lane = i;
      CompletableFuture<Walk> part = new CompletableFuture<>();
      plane.snapshot(lane, p -> part.complete(walk(p, lane, flows)));
      parts.add(part);
    }
    Walk all = new Walk();
    for (CompletableFuture<Walk> part : parts) {
      all.add(part.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
    }
    CompletableFuture<PlaneSnapshot> f = new CompletableFuture<>();
    plane.snapshot(0, p -> f.complete(compose(p, all, flows)));
    return f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  /** The read itself; only on the forwarding thread, or on a plane that is not running. */
  public static PlaneSnapshot read(ForwardingPlane p, boolean flows) {
    Walk all = new Walk();
    for (int i = 0; i < p.pipelines(); i++) {
      all.add(walk(p, i, flows));
    }
    return compose(p, all, flows);
  }

  /** What connection tables hold, per target and per (service index, target). */
  private static final class Walk {
    final Map<Integer, Integer> byTarget = new TreeMap<>(Integer::compareUnsigned);
    final Map<Long, Integer> byServiceTarget = new HashMap<>();
    int flows;
    long evicted;

    void add(Walk other) {
      other.byTarget.forEach((k, v) -> byTarget.merge(k, v, Integer::sum));
      other.byServiceTarget.forEach((k, v) -> byServiceTarget.merge(k, v, Integer::sum));
      flows += other.flows;
      evicted += other.evicted;
    }
  }

  /**
   * Pipeline {@code lane}'s connection table, on its forwarding thread. Services are keyed by their
   * index, which is the same in every pipeline's replica of the table (the same commands, in the
   * same order).
   */
  private static Walk walk(ForwardingPlane p, int lane, boolean flows) {
    Walk w = new Walk();
    RedirectorTable table = p.redirects(lane);
    if (flows) {
      p.path(lane)
          .flows()
          .forEachLiveFlow(
              System.nanoTime(),
              (destination, protocol, port, target) -> {
                w.byTarget.merge(target, 1, Integer::sum);
                int s = table.lookup(destination, protocol, port);
                if (s != RedirectorTable.NOT_FOUND && target != 0) {
                  w.byServiceTarget.merge(
                      ((long) s << 32) | (target & 0xFFFFFFFFL), 1, Integer::sum);
                }
              });
    }
    w.flows = p.path(lane).flows().size();
    w.evicted = p.path(lane).flows().evicted();
    return w;
  }

  /**
   * The table (pipeline 0's replica, on its forwarding thread) with what every pipeline sent per
   * service and host server, the counters of all, and the connection tables' {@code walk}.
   */
  private static PlaneSnapshot compose(ForwardingPlane p, Walk walk, boolean flows) {
    RedirectorTable table = p.redirects();
    List<Service> services = new ArrayList<>();
    table.forEach(
        s -> {
          List<Target> targets = new ArrayList<>();
          for (int i = 0; i < table.hostServerCount(s); i++) {
            targets.add(
                new Target(
                    table.hostServer(s, i),
                    hostServerText(p, table.hostServer(s, i)),
                    table.weight(s, i),
                    p.targetPackets(s, i),
                    p.targetBytes(s, i),
                    flows
                        ? walk.byServiceTarget.getOrDefault(
                            ((long) s << 32) | (table.hostServer(s, i) & 0xFFFFFFFFL), 0)
                        : -1));
          }
          services.add(
              new Service(
                  table.family(s),
                  table.address(s),
                  table.addressHigh(s),
                  table.addressLow(s),
                  table.protocol(s),
                  table.port(s),
                  p.servicePackets(s),
                  p.serviceBytes(s),
                  List.copyOf(targets)));
        });
    Map<String, Long> counters = new TreeMap<>();
    Counters c = p.counters();
    for (int i = 0; i < Counter.count(); i++) {
      counters.put(Counter.of(i).metricName(), c.get(i));
    }
    return new PlaneSnapshot(
        System.currentTimeMillis(),
        List.copyOf(services),
        Collections.unmodifiableMap(counters),
        Collections.unmodifiableMap(walk.byTarget),
        walk.flows,
        walk.evicted);
  }
}
