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
import net.hydranet.forwarding.pipeline.ForwardingPath;
import net.hydranet.forwarding.table.FlowTable;
import net.hydranet.forwarding.table.Ipv6HostServers;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import org.agrona.collections.Int2IntCounterMap;
import org.agrona.collections.Long2LongCounterMap;
import org.agrona.collections.LongHashSet;

/**
 * The forwarding plane's table, counters and (optionally) live flows per target, read on the
 * forwarding threads as queued commands (the live flows in a census of many short ones, so they are
 * as of the census's few milliseconds to a few hundred, not one moment): the views of {@code
 * hydranet ctl}, the status page and the per-host-server meters all read this copy rather than the
 * thread's own arrays.
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
   * Slots one census step looks at, at most: 64K slots are 2 MiB of records, well under a
   * millisecond of the forwarding thread (BENCHMARKS.md, "The census off the data path").
   */
  public static final int STEP_SLOTS = 1 << 16;

  /** Live flows one census step counts, at most: each costs a table lookup and a count. */
  public static final int STEP_FLOWS = 1 << 13;

  /** How long {@link #take} waits for the forwarding threads without a census. */
  private static final long TAKE_NANOS = 2_000_000_000L;

  /**
   * How long {@link #take} waits with a census: a step per round trip, and an idle forwarding
   * thread takes its commands at its next tick (a millisecond), so a full 1M-flow table's census of
   * about 130 steps takes a few hundred milliseconds at most.
   */
  private static final long CENSUS_NANOS = 10_000_000_000L;

  /**
   * Takes a snapshot; with {@code flows}, counts the connection tables' live flows too (a census,
   * below; keep it to seconds apart, not per request; the packets' path does no work for it).
   *
   * <p>The census walks each pipeline's IPv4 and IPv6 tables in steps of at most {@link
   * #STEP_SLOTS} slots or {@link #STEP_FLOWS} live flows, each a command of its own on that
   * pipeline's forwarding thread, the next one queued only when the last is done: packets are
   * forwarded between the steps. One command that walked a whole 1M-flow table held the thread for
   * milliseconds; a packet arriving then waited that long. Flows that an insert or removal moves
   * along their probe chain while the census runs may be missed or counted twice.
   *
   * <p>An IPv6 flow's entry keeps its protocol, destination port and target but not its destination
   * address (the key's first word is a keyed hash of both addresses: {@code RedirectLookup6}). So
   * its flows per target are exact, and a flow pinned to a host server counts for the one IPv6
   * service of its protocol and port that has that host server; when several IPv6 services of one
   * port share a host server, their flows on it cannot be told apart and those targets' flows read
   * -1 (unknown), never a guess. With several pipelines each counts its own tables on its own
   * thread, and pipeline 0 adds the parts to its reading of the table.
   *
   * @throws TimeoutException when a forwarding thread did not answer in time (2 s; 10 s for a
   *     census)
   */
  public static PlaneSnapshot take(ForwardingPlane plane, boolean flows)
      throws InterruptedException, ExecutionException, TimeoutException {
    long deadline = System.nanoTime() + (flows ? CENSUS_NANOS : TAKE_NANOS);
    Census census = census(plane, flows);
    List<Integer> busy = new ArrayList<>();
    for (int i = 0; i < plane.pipelines(); i++) {
      busy.add(i);
    }
    while (!busy.isEmpty()) {
      List<CompletableFuture<Boolean>> steps = new ArrayList<>();
      for (int lane : busy) {
        CompletableFuture<Boolean> step = new CompletableFuture<>();
        plane.snapshot(lane, p -> complete(step, () -> census.step(p, lane)));
        steps.add(step);
      }
      List<Integer> still = new ArrayList<>();
      for (int i = 0; i < steps.size(); i++) {
        if (steps.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
          still.add(busy.get(i));
        }
      }
      busy = still;
    }
    CompletableFuture<PlaneSnapshot> f = new CompletableFuture<>();
    plane.snapshot(0, p -> complete(f, () -> census.finish(p)));
    return f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  /** Completes {@code f} with what {@code work} returns, or with what it threw. */
  private static <T> void complete(CompletableFuture<T> f, java.util.function.Supplier<T> work) {
    try {
      f.complete(work.get());
    } catch (RuntimeException e) {
      f.completeExceptionally(e);
    }
  }

  /**
   * The read itself, every census step at once; only on the forwarding thread of a plane with one
   * pipeline, or on a plane that is not running.
   */
  public static PlaneSnapshot read(ForwardingPlane p, boolean flows) {
    Census census = census(p, flows);
    for (int i = 0; i < p.pipelines(); i++) {
      while (census.step(p, i)) {
        // the next step of pipeline i
      }
    }
    return census.finish(p);
  }

  /** A census of {@code plane}'s connection tables (or, without {@code flows}, of their sizes). */
  public static Census census(ForwardingPlane plane, boolean flows) {
    return new Census(plane.pipelines(), flows);
  }

  /**
   * One snapshot in the making: each pipeline's tables counted in {@link #step}s on that pipeline's
   * forwarding thread, then {@link #finish}ed on pipeline 0's. What a step counts goes into
   * primitive counting maps (Agrona's), so a step allocates nothing per flow.
   */
  public static final class Census {
    private final boolean flows;
    private final Walk[] walks;
    // Per pipeline: the table being walked (0 IPv4, 1 IPv6, 2 done) and its next slot.
    private final int[] table;
    private final int[] next;
    private final List<Map<Long, List<Integer>>> services6;

    Census(int pipelines, boolean flows) {
      this.flows = flows;
      this.walks = new Walk[pipelines];
      this.table = new int[pipelines];
      this.next = new int[pipelines];
      this.services6 = new ArrayList<>(Collections.nCopies(pipelines, null));
      for (int i = 0; i < pipelines; i++) {
        walks[i] = new Walk();
      }
    }

    /**
     * One step for pipeline {@code lane}, on its forwarding thread (or on a plane not running): at
     * most {@link #STEP_SLOTS} slots or {@link #STEP_FLOWS} live flows of one of its tables.
     *
     * @return whether this pipeline has more to count
     */
    public boolean step(ForwardingPlane p, int lane) {
      Walk w = walks[lane];
      ForwardingPath path = p.path(lane);
      if (flows && table[lane] == 0) {
        RedirectorTable redirects = p.redirects(lane);
        boolean done =
            slice(
                lane,
                path.flows(),
                path.now(),
                (destination, protocol, port, target) -> {
                  w.byTarget.incrementAndGet(target);
                  int s = redirects.lookup(destination, protocol, port);
                  if (s != RedirectorTable.NOT_FOUND && target != 0) {
                    w.byServiceTarget.incrementAndGet(serviceTarget(s, target));
                  }
                });
        if (done) {
          table[lane] = 1;
        }
        return true;
      }
      if (flows && table[lane] == 1) {
        if (services6.get(lane) == null) {
          services6.set(lane, ipv6Services(p.redirects(lane)));
        }
        Map<Long, List<Integer>> byPortTarget = services6.get(lane);
        boolean done =
            slice(
                lane,
                path.ipv6().flows(),
                path.now(),
                (addressHash, protocol, port, target) -> {
                  w.byTarget6.incrementAndGet(target);
                  if (target != 0) {
                    List<Integer> s =
                        byPortTarget.getOrDefault(portTarget(protocol, port, target), List.of());
                    if (s.size() == 1) {
                      w.byServiceTarget.incrementAndGet(serviceTarget(s.get(0), target));
                    }
                    for (int i = 0; s.size() > 1 && i < s.size(); i++) {
                      w.unknown.add(serviceTarget(s.get(i), target));
                    }
                  }
                });
        if (!done) {
          return true;
        }
      }
      table[lane] = 2;
      w.flows = path.flows().size();
      w.flows6 = path.ipv6().flows().size();
      w.evicted = path.flows().evicted();
      return false;
    }

    /** One slice of {@code t} from this pipeline's next slot on; true when {@code t} is done. */
    private boolean slice(int lane, FlowTable t, long now, FlowTable.LiveFlowVisitor visitor) {
      next[lane] =
          t.forEachLiveFlow(
              now, next[lane], Math.min(t.slots(), next[lane] + STEP_SLOTS), STEP_FLOWS, visitor);
      if (next[lane] < t.slots()) {
        return false;
      }
      next[lane] = 0;
      return true;
    }

    /**
     * The snapshot, once every pipeline's steps are done: on pipeline 0's forwarding thread (or on
     * a plane not running), which reads the table.
     */
    public PlaneSnapshot finish(ForwardingPlane p) {
      Walk all = new Walk();
      for (int i = 0; i < walks.length; i++) {
        if (table[i] != 2) {
          throw new IllegalStateException("pipeline " + i + " is not counted yet");
        }
        all.add(walks[i]);
      }
      return compose(p, all, flows);
    }
  }

  /** What connection tables hold, per target and per (service index, target). */
  private static final class Walk {
    final Int2IntCounterMap byTarget = new Int2IntCounterMap(0);
    final Long2LongCounterMap byServiceTarget = new Long2LongCounterMap(0);
    final Int2IntCounterMap byTarget6 = new Int2IntCounterMap(0);
    final LongHashSet unknown = new LongHashSet();
    int flows;
    int flows6;
    long evicted;

    void add(Walk other) {
      other.byTarget.forEach(byTarget::addAndGet);
      other.byServiceTarget.forEach(byServiceTarget::addAndGet);
      other.byTarget6.forEach(byTarget6::addAndGet);
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
    Map<Integer, Integer> byTarget = new TreeMap<>(Integer::compareUnsigned);
    walk.byTarget.forEach(byTarget::put);
    Map<Integer, Integer> sorted6 = new TreeMap<>(Integer::compareUnsigned);
    walk.byTarget6.forEach(sorted6::put);
    Map<String, Integer> byTarget6 = new java.util.LinkedHashMap<>();
    sorted6.forEach((t, n) -> byTarget6.put(t == 0 ? "origin" : hostServerText(p, t), n));
    return new PlaneSnapshot(
        System.currentTimeMillis(),
        List.copyOf(services),
        Collections.unmodifiableMap(counters),
        Collections.unmodifiableMap(byTarget),
        walk.flows,
        walk.evicted,
        Collections.unmodifiableMap(byTarget6),
        walk.flows6);
  }

  private static int flowsOf(Walk walk, long serviceTarget) {
    return walk.unknown.contains(serviceTarget)
        ? -1
        : (int) walk.byServiceTarget.get(serviceTarget);
  }
}
