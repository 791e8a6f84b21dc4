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
 * @param flowsPerTarget6 live flows of the IPv6 connection table by target as text ("origin", an
 *     IPv4 host server reached in IPv6-in-IPv4, an IPv6 one reached in IPv6-in-IPv6), the origin
 *     first; empty when not asked for (or no IPv6 flow is live)
 * @param flows6 live flows in the IPv6 connection table
 */
public record PlaneSnapshot(
    long takenMillis,
    List<Service> services,
    Map<String, Long> counters,
    Map<Integer, Integer> flowsPerTarget,
    int flows,
    long evictedFlows,
    Map<String, Integer> flowsPerTarget6,
    int flows6) {

  /** An IPv4-only snapshot (no IPv6 flows). */
  public PlaneSnapshot(
      long takenMillis,
      List<Service> services,
      Map<String, Long> counters,
      Map<Integer, Integer> flowsPerTarget,
      int flows,
      long evictedFlows) {
    this(takenMillis, services, counters, flowsPerTarget, flows, evictedFlows, Map.of(), 0);
  }

  /** Whether the snapshot walked the connection tables (and some flow was live in one). */
  public boolean walkedFlows() {
    return !flowsPerTarget.isEmpty() || !flowsPerTarget6.isEmpty();
  }

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
   * sent to it and its live flows (-1 when the snapshot did not walk the connection table, or, for
   * an IPv6 service, when the flows of this host server cannot be told apart from another IPv6
   * service's: see {@link #take}).
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
   * Takes a snapshot; with {@code flows}, walks the connection tables too (one pass over the live
   * entries of the IPv4 table and one of the IPv6 table, on the forwarding thread: keep it to
   * seconds apart, not per request; the packets' path does no work for it).
   *
   * <p>An IPv6 flow's entry keeps its protocol, destination port and target but not its destination
   * address (the key's first word is a keyed hash of both addresses: {@code RedirectLookup6}). So
   * its flows per target are exact, and a flow pinned to a host server counts for the one IPv6
   * service of its protocol and port that has that host server; when several IPv6 services of one
   * port share a host server, their flows on it cannot be told apart and those targets' flows read
   * -1 (unknown), never a guess. With several pipelines each walks its own table on its own thread,
   * and pipeline 0 adds the parts to its reading of the table.
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
    final Map<Integer, Integer> byTarget6 = new TreeMap<>(Integer::compareUnsigned);
    final java.util.Set<Long> unknown = new java.util.HashSet<>();
    int flows;
    int flows6;
    long evicted;

    void add(Walk other) {
      other.byTarget.forEach((k, v) -> byTarget.merge(k, v, Integer::sum));
      other.byServiceTarget.forEach((k, v) -> byServiceTarget.merge(k, v, Integer::sum));
      other.byTarget6.forEach((k, v) -> byTarget6.merge(k, v, Integer::sum));
      unknown.addAll(other.unknown);
      flows += other.flows;
      flows6 += other.flows6;
      evicted += other.evicted;
    }
  }

  /** The key of a (service, target) pair in a {@link Walk}. */
  private static long serviceTarget(int service, int target) {
    return ((long) service << 32) | (target & 0xFFFFFFFFL);
  }

  /**
   * The IPv6 services by (protocol, port, host server): those an IPv6 flow pinned to that host
   * server may belong to (one, or several when they share the port and the host server).
   */
  private static Map<Long, List<Integer>> ipv6Services(RedirectorTable table) {
    Map<Long, List<Integer>> out = new HashMap<>();
    table.forEach(
        s -> {
          if (table.family(s) == 6) {
            for (int i = 0; i < table.hostServerCount(s); i++) {
              out.computeIfAbsent(
                      portTarget(table.protocol(s), table.port(s), table.hostServer(s, i)),
                      k -> new ArrayList<>(1))
                  .add(s);
            }
          }
        });
    return out;
  }

  private static long portTarget(int protocol, int port, int target) {
    return ((long) ((protocol & 0xFF) << 16 | (port & 0xFFFF)) << 32) | (target & 0xFFFFFFFFL);
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
                  w.byServiceTarget.merge(serviceTarget(s, target), 1, Integer::sum);
                }
              });
      Map<Long, List<Integer>> services6 = ipv6Services(table);
      p.path(lane)
          .ipv6()
          .flows()
          .forEachLiveFlow(
              System.nanoTime(),
              (addressHash, protocol, port, target) -> {
                w.byTarget6.merge(target, 1, Integer::sum);
                if (target != 0) {
                  List<Integer> s =
                      services6.getOrDefault(portTarget(protocol, port, target), List.of());
                  if (s.size() == 1) {
                    w.byServiceTarget.merge(serviceTarget(s.get(0), target), 1, Integer::sum);
                  }
                  for (int i = 0; s.size() > 1 && i < s.size(); i++) {
                    w.unknown.add(serviceTarget(s.get(i), target));
                  }
                }
              });
    }
    w.flows = p.path(lane).flows().size();
    w.flows6 = p.path(lane).ipv6().flows().size();
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
                    flows ? flowsOf(walk, serviceTarget(s, table.hostServer(s, i))) : -1));
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
    Map<String, Integer> byTarget6 = new java.util.LinkedHashMap<>();
    walk.byTarget6.forEach((t, n) -> byTarget6.put(t == 0 ? "origin" : hostServerText(p, t), n));
    return new PlaneSnapshot(
        System.currentTimeMillis(),
        List.copyOf(services),
        Collections.unmodifiableMap(counters),
        Collections.unmodifiableMap(walk.byTarget),
        walk.flows,
        walk.evicted,
        Collections.unmodifiableMap(byTarget6),
        walk.flows6);
  }

  private static int flowsOf(Walk walk, long serviceTarget) {
    return walk.unknown.contains(serviceTarget)
        ? -1
        : walk.byServiceTarget.getOrDefault(serviceTarget, 0);
  }
}
