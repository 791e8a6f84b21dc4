package net.hydranet.forwarding;

import com.lmax.disruptor.WaitStrategy;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;
import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.io.FrameWait;
import net.hydranet.forwarding.io.TxPort;
import net.hydranet.forwarding.neighbour.Ipv6NeighbourTable;
import net.hydranet.forwarding.neighbour.NeighbourTable;
import net.hydranet.forwarding.pipeline.ForwardingPath;
import net.hydranet.forwarding.pipeline.FrameSlot;
import net.hydranet.forwarding.pipeline.Pipeline;
import net.hydranet.forwarding.table.Ipv6HostServers;
import net.hydranet.forwarding.table.Ipv6RouteTable;
import net.hydranet.forwarding.table.Maglev;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.table.RouteTable;
import net.hydranet.forwarding.wire.Ipv6Header;
import org.agrona.concurrent.ManyToOneConcurrentArrayQueue;

/**
 * The forwarding plane's public face: its tables, counters and pipelines, and the small
 * single-writer API the control plane and the CLI use to change them.
 *
 * <p>Every change ({@link #addRedirect}, {@link #removeRedirect}, {@link #setWeight}, {@link
 * #addRoute}, {@link #addNeighbour}) is a command offered to a queue that the forwarding thread
 * drains at the start of each ring batch and on idle ticks, so the forwarding thread is the only
 * writer of its tables and a lookup never sees a half-made change (Aeron's ReceiverProxy idiom).
 * Before {@link #start}, commands apply at once.
 *
 * <p>Redirect changes build the service's Maglev lookup table here, on the caller's thread, from a
 * control-side copy of each service's host servers and weights; the command only installs it, so
 * the forwarding thread never pays for a build.
 *
 * <p><b>More than one pipeline</b> ({@link ForwardingContext#pipelines}): each pipeline has its own
 * {@link ForwardingPath} (connection table, fragment state, neighbour table, transmit ports), its
 * own counters and ring and threads, and its own replica of the redirector and route tables. The
 * tables are shared by replication, not by reference: a change is one command per pipeline, offered
 * to every pipeline's queue under one lock, so each pipeline applies the same changes in the same
 * order, each replica keeps exactly one writer (its pipeline's thread) and a lookup stays a plain
 * read with no fence per packet. The Maglev lookup tables, the large part, are built once and
 * shared immutable. Pipelines may apply a change a few microseconds apart; as each direction of a
 * flow always meets the same pipeline (PACKET_FANOUT hashes per flow; fed by interface, a direction
 * enters by one interface), each flow still sees every change once, in order. The counters of every
 * pipeline read as one ({@link #counters()}, {@link Counters#sum}); commands are counted once, by
 * pipeline 0. Neighbours are each pipeline's own, but an ARP or neighbour discovery frame reaches
 * one pipeline (it carries no flow, or enters by another pipeline's interface): what it said is
 * written to every other pipeline's ring buffer and applied by each with its commands, by the rules
 * of its own table (an advertisement updates only a neighbour that pipeline asked for), releasing
 * the frames it held for it ({@link NeighbourRelay}).
 */
public final class ForwardingPlane implements AutoCloseable {
  private static final int COMMAND_QUEUE = 4_096;

  private final ForwardingContext context;
  private final Lane[] lanes;
  private final Counters counters;
  // Held while a command is offered to every pipeline, so all queues receive the same order.
  private final Object commandOrder = new Object();
  private volatile boolean started;

  /** The control side's copy of one service's host servers and weights, for rebuilding. */
  private record Shadow(int[] hostServers, int[] weights) {
    /** The slot of {@code hostServer} in {@code shadow} (the last if repeated), or -1. */
    static int slotOf(Shadow shadow, int hostServer) {
      int i = -1;
      if (shadow != null) {
        for (int j = 0; j < shadow.hostServers.length; j++) {
          if (shadow.hostServers[j] == hostServer) {
            i = j;
          }
        }
      }
      return i;
    }

    /** This copy with the weight of host server {@code i} changed. */
    Shadow withWeight(int i, int weight) {
      int[] w = weights.clone();
      w[i] = weight;
      return new Shadow(hostServers, w);
    }
  }

  private final Map<Long, Shadow> shadows = new HashMap<>();

  /** An IPv6 service's key in the control side's copy. */
  private record Service6(long high, long low, int protocol, int port) {}

  private final Map<Service6, Shadow> shadows6 = new HashMap<>();

  /** An IPv6 host server's address, for the ids handed out (under {@code shadows}' lock). */
  private record HostServer6(long high, long low) {}

  private final Map<HostServer6, Integer> hostServerIds = new HashMap<>();

  /** One pipeline's own state: written only by the thread that runs its path. */
  private final class Lane {
    final int index;
    final Counters counters = new Counters();
    final RedirectorTable redirects;
    final RouteTable routes;
    final NeighbourTable neighbours;
    final ForwardingPath path;
    final ManyToOneConcurrentArrayQueue<Runnable> commands =
        new ManyToOneConcurrentArrayQueue<>(COMMAND_QUEUE);
    final Consumer<Runnable> run = this::run;
    final NeighbourRelay relay;
    Pipeline pipeline;

    Lane(int index, TxPort[] ports) {
      this.index = index;
      if (ports.length != context.interfaces().size()) {
        throw new IllegalArgumentException("one port per interface is needed");
      }
      this.redirects =
          new RedirectorTable(
              context.redirectCapacity(), context.maxHostServers(), context.maglevTableSize());
      this.routes = new RouteTable(context.routeCapacity());
      this.neighbours =
          new NeighbourTable(
              context.neighbourCapacity(),
              context.arpQueueFrames(),
              FrameSlot.MAX_FRAME + 64,
              context.arpQueuePerNeighbour(),
              context.arpRetries(),
              context.arpRetryNanos(),
              context.neighbourLifetimeNanos());
      for (RouterInterface i : context.interfaces()) {
        routes.add(i.network(), i.prefixLength(), 0, i.index());
      }
      this.path = new ForwardingPath(context, counters, redirects, routes, neighbours, ports);
      this.relay = new NeighbourRelay(neighbours, path.ipv6().neighbours(), path.egress());
    }

    void run(Runnable command) {
      try {
        command.run();
        if (index == 0) {
          counters.increment(Counter.COMMANDS_APPLIED);
        }
      } catch (RuntimeException e) {
        // A table full or a bad argument: count it; the control plane reads the counter. Every
        // pipeline applies the same commands, so pipeline 0 speaks for all.
        if (index == 0) {
          counters.increment(Counter.COMMANDS_FAILED);
          lastCommandError = e.getMessage();
        }
      }
    }

    void drain() {
      commands.drain(run, COMMAND_QUEUE);
      if (lanes.length > 1) {
        relay.drain();
      }
    }
  }

  /** One pipeline over {@code ports}, one per interface. */
  public ForwardingPlane(ForwardingContext context, TxPort[] ports) {
    this(context, new TxPort[][] {ports});
  }

  /**
   * {@code ports.length} pipelines, each with its own transmit ports (one per interface); the
   * context's {@link ForwardingContext#pipelines} must say as many.
   */
  public ForwardingPlane(ForwardingContext context, TxPort[][] ports) {
    this.context = context.conclude();
    if (ports.length != context.pipelines()) {
      throw new IllegalArgumentException(
          "ports for " + ports.length + " pipelines, the context says " + context.pipelines());
    }
    this.lanes = new Lane[ports.length];
    Counters[] parts = new Counters[ports.length];
    for (int i = 0; i < lanes.length; i++) {
      lanes[i] = new Lane(i, ports[i]);
      parts[i] = lanes[i].counters;
    }
    if (lanes.length > 1) {
      NeighbourRelay[] relays = new NeighbourRelay[lanes.length];
      for (int i = 0; i < lanes.length; i++) {
        relays[i] = lanes[i].relay;
      }
      for (NeighbourRelay r : relays) {
        r.join(relays);
      }
    }
    this.counters = lanes.length == 1 ? lanes[0].counters : Counters.sum(parts);
  }

  /**
   * Starts the pipeline over {@code sources}; live ({@link Pipeline.Clock#LIVE}) the receive thread
   * runs frames itself while the forwarding thread is idle, up to the context's {@code
   * inlineBurst}.
   */
  public ForwardingPlane start(FrameSource[] sources, Pipeline.Clock clock, WaitStrategy wait) {
    return start(sources, clock, wait, null);
  }

  /**
   * @param frameWait where the receive thread sleeps when long idle ({@link Pipeline#deepIdle});
   *     null to keep polling
   */
  public ForwardingPlane start(
      FrameSource[] sources, Pipeline.Clock clock, WaitStrategy wait, FrameWait frameWait) {
    if (lanes.length != 1) {
      throw new IllegalStateException(lanes.length + " pipelines need sources each");
    }
    return start(new FrameSource[][] {sources}, clock, () -> wait, new FrameWait[] {frameWait});
  }

  /**
   * Starts every pipeline: pipeline {@code i} receives from {@code sources[i]} (its own captures,
   * one per interface, in the same fanout groups) and waits in {@code frameWaits[i]} when idle
   * (null, or a null element, to keep polling).
   *
   * @param waits a new wait strategy per pipeline (they hold per-ring state)
   */
  public ForwardingPlane start(
      FrameSource[][] sources,
      Pipeline.Clock clock,
      Supplier<WaitStrategy> waits,
      FrameWait[] frameWaits) {
    if (sources.length != lanes.length) {
      throw new IllegalArgumentException(
          "sources for " + sources.length + " pipelines, the plane has " + lanes.length);
    }
    int inline = clock == Pipeline.Clock.LIVE ? context.inlineBurst() : 0;
    synchronized (commandOrder) {
      for (Lane lane : lanes) {
        lane.pipeline =
            new Pipeline(
                context.ringSize(),
                sources[lane.index],
                lane.path,
                lane::drain,
                lane.counters,
                clock,
                waits.get(),
                inline);
        FrameWait frameWait = frameWaits == null ? null : frameWaits[lane.index];
        if (frameWait != null) {
          lane.pipeline.deepIdle(frameWait, Pipeline.DEEP_IDLE_NANOS);
        }
      }
      started = true;
    }
    for (Lane lane : lanes) {
      lane.pipeline.start();
    }
    return this;
  }

  /** How many pipelines forward: {@link ForwardingContext#pipelines}. */
  public int pipelines() {
    return lanes.length;
  }

  /** Pipeline 0's threads and ring (the only one, unless the context asks for more). */
  public Pipeline pipeline() {
    return lanes[0].pipeline;
  }

  /** Pipeline {@code i}'s threads and ring; null before {@link #start}. */
  public Pipeline pipeline(int i) {
    return lanes[i].pipeline;
  }

  /**
   * Waits until every pipeline ended (replay: its sources reached their end), or until {@code
   * timeoutMillis} in all.
   */
  public boolean awaitEnd(long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
    for (Lane lane : lanes) {
      long left = Math.max(0, (deadline - System.nanoTime()) / 1_000_000L);
      if (!lane.pipeline.awaitEnd(left)) {
        return false;
      }
    }
    return true;
  }

  /** Why a pipeline's receive thread stopped early (the first found), or null. */
  public RuntimeException receiveError() {
    for (Lane lane : lanes) {
      RuntimeException e = lane.pipeline == null ? null : lane.pipeline.receiveError();
      if (e != null) {
        return e;
      }
    }
    return null;
  }

  /**
   * Redirects (address, protocol, port) to the host servers, with weights; replaces the set of an
   * existing service. The Maglev table is built here, off the forwarding thread.
   */
  public void addRedirect(int address, int protocol, int port, int[] hostServers, int[] weights) {
    int[] servers = hostServers.clone();
    int[] w = weights.clone();
    byte[] lookup = buildLookup(servers, w);
    synchronized (shadows) {
      shadows.put(RedirectorTable.key(address, protocol, port), new Shadow(servers, w));
      command(l -> l.redirects.put(address, protocol, port, servers, w, servers.length, lookup));
    }
  }

  public void removeRedirect(int address, int protocol, int port) {
    synchronized (shadows) {
      shadows.remove(RedirectorTable.key(address, protocol, port));
      command(l -> l.redirects.remove(address, protocol, port));
    }
  }

  /**
   * The control plane declared {@code hostServer} dead (its hold time expired): the flows pinned to
   * it are released at their next packet, in every pipeline — UDP flows move to the consistent
   * hash's choice, TCP flows are counted lost and go where the table says now (RedirectLookup). The
   * control plane calls it just before the table writes that take the host server out of its
   * services.
   */
  public void hostServerDead(int hostServer) {
    command(l -> l.path.hostServerDead(hostServer));
  }

  /**
   * Sets one host server's weight; 0 drains it: flows pinned to it stay, new flows go elsewhere.
   * The service's table is rebuilt here from the control-side copy and installed whole.
   */
  public void setWeight(int address, int protocol, int port, int hostServer, int weight) {
    synchronized (shadows) {
      Shadow shadow = shadows.get(RedirectorTable.key(address, protocol, port));
      int i = Shadow.slotOf(shadow, hostServer);
      if (i < 0 || weight < 0) {
        // Unknown service or host server, or a bad weight: the table says why.
        command(l -> l.redirects.setWeight(address, protocol, port, hostServer, weight));
        return;
      }
      Shadow changed = shadow.withWeight(i, weight);
      int[] servers = changed.hostServers();
      int[] w = changed.weights();
      byte[] lookup = buildLookup(servers, w);
      shadows.put(RedirectorTable.key(address, protocol, port), changed);
      command(l -> l.redirects.put(address, protocol, port, servers, w, servers.length, lookup));
    }
  }

  // ---- IPv6 (issue 21; control-plane/IPV6.md) ----

  /**
   * Redirects the IPv6 service access point (address, protocol, port) to host servers, with
   * weights; replaces the set of an existing service. A service of either family lives in the one
   * redirector table with the same host-server records, Maglev tables and counters; an IPv6 one is
   * indexed by its 128-bit address ({@link RedirectorTable#lookup6}).
   *
   * <p>Each host server is either an IPv4 address — the IPv6 packets reach it in IPv4, protocol 41
   * (RFC 4213), the design's default — or an id from {@link #ipv6HostServer} for a host server
   * reached in IPv6-in-IPv6 (RFC 2473). The Maglev table is built here, off the forwarding thread.
   *
   * @param high the service address's high 64 bits (a global unicast address)
   * @param low its low 64 bits
   */
  public void addRedirect6(
      long high, long low, int protocol, int port, int[] hostServers, int[] weights) {
    int[] servers = hostServers.clone();
    int[] w = weights.clone();
    byte[] lookup = buildLookup(servers, w);
    synchronized (shadows) {
      shadows6.put(new Service6(high, low, protocol, port), new Shadow(servers, w));
      command(l -> l.redirects.put6(high, low, protocol, port, servers, w, servers.length, lookup));
    }
  }

  /** Removes an IPv6 service. */
  public void removeRedirect6(long high, long low, int protocol, int port) {
    synchronized (shadows) {
      shadows6.remove(new Service6(high, low, protocol, port));
      command(l -> l.redirects.remove6(high, low, protocol, port));
    }
  }

  /** Sets one host server's weight of an IPv6 service, as {@link #setWeight}. */
  public void setWeight6(long high, long low, int protocol, int port, int hostServer, int weight) {
    synchronized (shadows) {
      Service6 key = new Service6(high, low, protocol, port);
      Shadow shadow = shadows6.get(key);
      int i = Shadow.slotOf(shadow, hostServer);
      if (i < 0 || weight < 0) {
        command(l -> l.redirects.setWeight6(high, low, protocol, port, hostServer, weight));
        return;
      }
      Shadow changed = shadow.withWeight(i, weight);
      int[] servers = changed.hostServers();
      int[] w = changed.weights();
      byte[] lookup = buildLookup(servers, w);
      shadows6.put(key, changed);
      command(l -> l.redirects.put6(high, low, protocol, port, servers, w, servers.length, lookup));
    }
  }

  /**
   * The id that names the host server at IPv6 address {@code (high, low)} in a host-server list of
   * {@link #addRedirect6}: its packets go to it in IPv6-in-IPv6. The same address always gets the
   * same id; ids are in 0.0.0.0/8, never an IPv4 host server ({@link Ipv6HostServers}).
   *
   * @throws IllegalStateException when {@link Ipv6HostServers#CAPACITY} ids are in use, or the
   *     address is not a global unicast one
   */
  public int ipv6HostServer(long high, long low) {
    if (Ipv6Header.isUnspecified(high, low)
        || Ipv6Header.isLoopback(high, low)
        || Ipv6Header.isLinkLocal(high)
        || Ipv6Header.isMulticast(high)) {
      throw new IllegalStateException(
          "host server "
              + Ipv6Header.formatAddress(high, low)
              + " is not a global unicast address");
    }
    synchronized (shadows) {
      Integer known = hostServerIds.get(new HostServer6(high, low));
      if (known != null) {
        return known;
      }
      int id = hostServerIds.size() + 1;
      if (id > Ipv6HostServers.CAPACITY) {
        throw new IllegalStateException(
            "more than " + Ipv6HostServers.CAPACITY + " IPv6 host servers");
      }
      hostServerIds.put(new HostServer6(high, low), id);
      // Queued before any redirect that names the id, and commands run in order.
      command(l -> l.path.ipv6().hostServers().put(id, high, low));
      return id;
    }
  }

  /** True when a host-server slot's value is an IPv6 host server's id (else an IPv4 address). */
  public static boolean isIpv6HostServer(int hostServer) {
    return Ipv6HostServers.isId(hostServer);
  }

  /**
   * Adds an IPv6 route; a next hop of :: (both halves 0) means the destination is on the link.
   * Connected routes come from the interfaces' IPv6 addresses.
   */
  public void addRoute6(
      long prefixHigh,
      long prefixLow,
      int length,
      long nextHopHigh,
      long nextHopLow,
      int interfaceIndex) {
    command(
        l ->
            l.path
                .ipv6()
                .routes()
                .add(prefixHigh, prefixLow, length, nextHopHigh, nextHopLow, interfaceIndex));
  }

  /** Adds a static IPv6 neighbour, which makes replay deterministic. */
  public void addNeighbour6(long high, long low, long mac, int interfaceIndex) {
    command(l -> l.path.ipv6().neighbours().putStatic(high, low, mac, interfaceIndex));
  }

  /** The IPv6 route table; read it only from the forwarding thread or after the pipeline ended. */
  public Ipv6RouteTable routes6() {
    return lanes[0].path.ipv6().routes();
  }

  /** The IPv6 neighbour table; as {@link #routes6()}. */
  public Ipv6NeighbourTable neighbours6() {
    return lanes[0].path.ipv6().neighbours();
  }

  /** The lookup table, or null to let the table reject bad input with its own message. */
  private byte[] buildLookup(int[] servers, int[] weights) {
    if (servers.length != weights.length || servers.length > context.maxHostServers()) {
      return null;
    }
    for (int w : weights) {
      if (w < 0) {
        return null;
      }
    }
    return Maglev.build(servers, weights, servers.length, context.maglevTableSize());
  }

  /**
   * Adds a route; {@code nextHop} 0 means the destination is on the link.
   *
   * @param interfaceIndex the egress interface
   */
  public void addRoute(int prefix, int length, int nextHop, int interfaceIndex) {
    command(l -> l.routes.add(prefix, length, nextHop, interfaceIndex));
  }

  /** Adds a static neighbour, which makes replay deterministic. */
  public void addNeighbour(int address, long mac, int interfaceIndex) {
    command(l -> l.neighbours.putStatic(address, mac, interfaceIndex));
  }

  /**
   * Runs {@code reader} on pipeline 0's forwarding thread (or now, before start), e.g. for a
   * snapshot: it may read the tables ({@link #redirects()}, {@link #routes()}, which every pipeline
   * replicates) and {@link #path()}; the counters of all pipelines are safe to read anywhere. What
   * is each pipeline's own (its connection table) is read with {@link #snapshot(int, Consumer)}.
   */
  public void snapshot(Consumer<ForwardingPlane> reader) {
    snapshot(0, reader);
  }

  /** Runs {@code reader} on pipeline {@code i}'s forwarding thread (or now, before start). */
  public void snapshot(int i, Consumer<ForwardingPlane> reader) {
    Lane lane = lanes[i];
    synchronized (commandOrder) {
      offer(lane, () -> reader.accept(this));
    }
  }

  /** The same change, for every pipeline, in one order across all of them. */
  private void command(Consumer<Lane> change) {
    synchronized (commandOrder) {
      for (Lane lane : lanes) {
        offer(lane, () -> change.accept(lane));
      }
    }
  }

  private void offer(Lane lane, Runnable command) {
    if (!started) {
      lane.run(command);
      return;
    }
    while (!lane.commands.offer(command)) {
      Thread.onSpinWait();
    }
    // An idle pipeline sleeps up to Pipeline.QUIET_TICK_MILLIS between ticks: wake it.
    lane.pipeline.wake();
  }

  private volatile String lastCommandError;

  /** The message of the last command that failed, or null. */
  public String lastCommandError() {
    return lastCommandError;
  }

  public ForwardingContext context() {
    return context;
  }

  /** Every pipeline's counters as one; safe to read from any thread. */
  public Counters counters() {
    return counters;
  }

  /** Pipeline {@code i}'s own counters (safe to read from any thread). */
  public Counters counters(int i) {
    return lanes[i].counters;
  }

  /**
   * The redirector table of pipeline 0, which every pipeline replicates (same services at the same
   * indices); read it only from pipeline 0's forwarding thread or after the pipelines ended. What
   * each pipeline sent per service is {@link #servicePackets} and the like.
   */
  public RedirectorTable redirects() {
    return lanes[0].redirects;
  }

  /** Pipeline {@code i}'s replica of the redirector table (its forwarding thread only). */
  public RedirectorTable redirects(int i) {
    return lanes[i].redirects;
  }

  /** Packets tunnelled for service {@code service} by every pipeline; any thread. */
  public long servicePackets(int service) {
    long sum = 0;
    for (Lane lane : lanes) {
      sum += lane.redirects.packets(service);
    }
    return sum;
  }

  /** Inner bytes tunnelled for service {@code service} by every pipeline; any thread. */
  public long serviceBytes(int service) {
    long sum = 0;
    for (Lane lane : lanes) {
      sum += lane.redirects.bytes(service);
    }
    return sum;
  }

  /** Packets sent to host server slot {@code slot} of {@code service} by every pipeline. */
  public long targetPackets(int service, int slot) {
    long sum = 0;
    for (Lane lane : lanes) {
      sum += lane.redirects.packets(service, slot);
    }
    return sum;
  }

  /** Inner bytes sent to host server slot {@code slot} of {@code service} by every pipeline. */
  public long targetBytes(int service, int slot) {
    long sum = 0;
    for (Lane lane : lanes) {
      sum += lane.redirects.bytes(service, slot);
    }
    return sum;
  }

  public RouteTable routes() {
    return lanes[0].routes;
  }

  public NeighbourTable neighbours() {
    return lanes[0].neighbours;
  }

  /** Pipeline 0's element chain, for benchmarks and tests that drive it without threads. */
  public ForwardingPath path() {
    return lanes[0].path;
  }

  /** Pipeline {@code i}'s element chain (its connection table; its forwarding thread only). */
  public ForwardingPath path(int i) {
    return lanes[i].path;
  }

  @Override
  public void close() {
    for (Lane lane : lanes) {
      if (lane.pipeline != null) {
        lane.pipeline.close();
      }
    }
  }
}
