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
import net.hydranet.forwarding.neighbour.NeighbourTable;
import net.hydranet.forwarding.pipeline.ForwardingPath;
import net.hydranet.forwarding.pipeline.FrameSlot;
import net.hydranet.forwarding.pipeline.Pipeline;
import net.hydranet.forwarding.table.Maglev;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.table.RouteTable;
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
  private volatile Pipeline pipeline;

  /**
   * Guards the change from running commands on the caller's thread (before {@link #start}) to
   * queueing them for the forwarding thread, so that a control thread writing the table while the
   * plane starts never writes it beside the forwarding thread.
   */
  private final Object startLock = new Object();

  /** The control side's copy of one service's host servers and weights, for rebuilding. */
  private record Shadow(int[] hostServers, int[] weights) {}

  private final Map<Long, Shadow> shadows = new HashMap<>();

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
    Pipeline p =
        new Pipeline(
            context.ringSize(), sources, path, this::drainCommands, counters, clock, wait, inline);
    if (frameWait != null) {
      p.deepIdle(frameWait, Pipeline.DEEP_IDLE_NANOS);
    }
    synchronized (startLock) {
      // Every command run so far happens-before the forwarding thread starts; later ones queue.
      p.start();
      pipeline = p;
    }
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
   * The control plane declared {@code hostServer} dead (its hold time expired): the flows pinned to
   * it are released at their next packet — UDP flows move to the consistent hash's choice, TCP
   * flows are counted lost and go where the table says now (RedirectLookup). The control plane
   * calls it just before the table writes that take the host server out of its services.
   */
  public void hostServerDead(int hostServer) {
    command(() -> path.hostServerDead(hostServer));
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
      synchronized (startLock) {
        if (pipeline == null) {
          runCommand(command);
          return;
        }
      }
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
