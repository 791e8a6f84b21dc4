package net.hydranet.forwarding;

import com.lmax.disruptor.WaitStrategy;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Consumer;
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
 * The forwarding plane's public face: its tables, counters and pipeline, and the small
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
 */
public final class ForwardingPlane implements AutoCloseable {
  private static final int COMMAND_QUEUE = 4_096;

  private final ForwardingContext context;
  private final Counters counters = new Counters();
  private final RedirectorTable redirects;
  private final RouteTable routes;
  private final NeighbourTable neighbours;
  private final ForwardingPath path;
  private final ManyToOneConcurrentArrayQueue<Runnable> commands =
      new ManyToOneConcurrentArrayQueue<>(COMMAND_QUEUE);
  private final Consumer<Runnable> runCommand = this::runCommand;
  private Pipeline pipeline;

  /** The control side's copy of one service's host servers and weights, for rebuilding. */
  private record Shadow(int[] hostServers, int[] weights) {}

  private final Map<Long, Shadow> shadows = new HashMap<>();

  /** An IPv6 service's key in the control side's copy. */
  private record Service6(long high, long low, int protocol, int port) {}

  private final Map<Service6, Shadow> shadows6 = new HashMap<>();

  /** An IPv6 host server's address, for the ids handed out (under {@code shadows}' lock). */
  private record HostServer6(long high, long low) {}

  private final Map<HostServer6, Integer> hostServerIds = new HashMap<>();

  public ForwardingPlane(ForwardingContext context, TxPort[] ports) {
    this.context = context.conclude();
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
    int inline = clock == Pipeline.Clock.LIVE ? context.inlineBurst() : 0;
    pipeline =
        new Pipeline(
            context.ringSize(), sources, path, this::drainCommands, counters, clock, wait, inline);
    if (frameWait != null) {
      pipeline.deepIdle(frameWait, Pipeline.DEEP_IDLE_NANOS);
    }
    pipeline.start();
    return this;
  }

  public Pipeline pipeline() {
    return pipeline;
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
      command(() -> redirects.put(address, protocol, port, servers, w, servers.length, lookup));
    }
  }

  public void removeRedirect(int address, int protocol, int port) {
    synchronized (shadows) {
      shadows.remove(RedirectorTable.key(address, protocol, port));
      command(() -> redirects.remove(address, protocol, port));
    }
  }

  /**
   * Sets one host server's weight; 0 drains it: flows pinned to it stay, new flows go elsewhere.
   * The service's table is rebuilt here from the control-side copy and installed whole.
   */
  public void setWeight(int address, int protocol, int port, int hostServer, int weight) {
    synchronized (shadows) {
      Shadow shadow = shadows.get(RedirectorTable.key(address, protocol, port));
      int i = -1;
      if (shadow != null) {
        for (int j = 0; j < shadow.hostServers().length; j++) {
          if (shadow.hostServers()[j] == hostServer) {
            i = j;
          }
        }
      }
      if (i < 0 || weight < 0) {
        // Unknown service or host server, or a bad weight: the table says why.
        command(() -> redirects.setWeight(address, protocol, port, hostServer, weight));
        return;
      }
      int[] servers = shadow.hostServers();
      int[] w = shadow.weights().clone();
      w[i] = weight;
      byte[] lookup = buildLookup(servers, w);
      shadows.put(RedirectorTable.key(address, protocol, port), new Shadow(servers, w));
      command(() -> redirects.put(address, protocol, port, servers, w, servers.length, lookup));
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
      command(() -> redirects.put6(high, low, protocol, port, servers, w, servers.length, lookup));
    }
  }

  /** Removes an IPv6 service. */
  public void removeRedirect6(long high, long low, int protocol, int port) {
    synchronized (shadows) {
      shadows6.remove(new Service6(high, low, protocol, port));
      command(() -> redirects.remove6(high, low, protocol, port));
    }
  }

  /** Sets one host server's weight of an IPv6 service, as {@link #setWeight}. */
  public void setWeight6(long high, long low, int protocol, int port, int hostServer, int weight) {
    synchronized (shadows) {
      Service6 key = new Service6(high, low, protocol, port);
      Shadow shadow = shadows6.get(key);
      int i = -1;
      if (shadow != null) {
        for (int j = 0; j < shadow.hostServers().length; j++) {
          if (shadow.hostServers()[j] == hostServer) {
            i = j;
          }
        }
      }
      if (i < 0 || weight < 0) {
        command(() -> redirects.setWeight6(high, low, protocol, port, hostServer, weight));
        return;
      }
      int[] servers = shadow.hostServers();
      int[] w = shadow.weights().clone();
      w[i] = weight;
      byte[] lookup = buildLookup(servers, w);
      shadows6.put(key, new Shadow(servers, w));
      command(() -> redirects.put6(high, low, protocol, port, servers, w, servers.length, lookup));
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
      command(() -> path.ipv6().hostServers().put(id, high, low));
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
        () ->
            path.ipv6()
                .routes()
                .add(prefixHigh, prefixLow, length, nextHopHigh, nextHopLow, interfaceIndex));
  }

  /** Adds a static IPv6 neighbour, which makes replay deterministic. */
  public void addNeighbour6(long high, long low, long mac, int interfaceIndex) {
    command(() -> path.ipv6().neighbours().putStatic(high, low, mac, interfaceIndex));
  }

  /** The IPv6 route table; read it only from the forwarding thread or after the pipeline ended. */
  public Ipv6RouteTable routes6() {
    return path.ipv6().routes();
  }

  /** The IPv6 neighbour table; as {@link #routes6()}. */
  public Ipv6NeighbourTable neighbours6() {
    return path.ipv6().neighbours();
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
    command(() -> routes.add(prefix, length, nextHop, interfaceIndex));
  }

  /** Adds a static neighbour, which makes replay deterministic. */
  public void addNeighbour(int address, long mac, int interfaceIndex) {
    command(() -> neighbours.putStatic(address, mac, interfaceIndex));
  }

  /** Runs {@code reader} on the forwarding thread (or now, before start), e.g. for a snapshot. */
  public void snapshot(Consumer<ForwardingPlane> reader) {
    command(() -> reader.accept(this));
  }

  private void command(Runnable command) {
    if (pipeline == null) {
      runCommand(command);
      return;
    }
    while (!commands.offer(command)) {
      Thread.onSpinWait();
    }
  }

  private void runCommand(Runnable command) {
    try {
      command.run();
      counters.increment(Counter.COMMANDS_APPLIED);
    } catch (RuntimeException e) {
      // A table full or a bad argument: count it; the control plane reads the counter.
      counters.increment(Counter.COMMANDS_FAILED);
      lastCommandError = e.getMessage();
    }
  }

  private volatile String lastCommandError;

  /** The message of the last command that failed, or null. */
  public String lastCommandError() {
    return lastCommandError;
  }

  private void drainCommands() {
    commands.drain(runCommand, COMMAND_QUEUE);
  }

  public ForwardingContext context() {
    return context;
  }

  public Counters counters() {
    return counters;
  }

  /** The redirector table; read it only from the forwarding thread or after the pipeline ended. */
  public RedirectorTable redirects() {
    return redirects;
  }

  public RouteTable routes() {
    return routes;
  }

  public NeighbourTable neighbours() {
    return neighbours;
  }

  /** The element chain, for benchmarks and tests that drive it without threads. */
  public ForwardingPath path() {
    return path;
  }

  @Override
  public void close() {
    if (pipeline != null) {
      pipeline.close();
    }
  }
}
