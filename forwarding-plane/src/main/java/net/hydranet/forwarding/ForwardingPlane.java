package net.hydranet.forwarding;

import com.lmax.disruptor.WaitStrategy;
import java.util.function.Consumer;
import net.hydranet.forwarding.config.ForwardingContext;
import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.io.TxPort;
import net.hydranet.forwarding.neighbour.NeighbourTable;
import net.hydranet.forwarding.pipeline.ForwardingPath;
import net.hydranet.forwarding.pipeline.FrameSlot;
import net.hydranet.forwarding.pipeline.Pipeline;
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

  public ForwardingPlane(ForwardingContext context, TxPort[] ports) {
    this.context = context.conclude();
    if (ports.length != context.interfaces().size()) {
      throw new IllegalArgumentException("one port per interface is needed");
    }
    this.redirects = new RedirectorTable(context.redirectCapacity(), context.maxHostServers());
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

  /** Starts the pipeline over {@code sources}. */
  public ForwardingPlane start(FrameSource[] sources, Pipeline.Clock clock, WaitStrategy wait) {
    pipeline =
        new Pipeline(context.ringSize(), sources, path, this::drainCommands, counters, clock, wait);
    pipeline.start();
    return this;
  }

  public Pipeline pipeline() {
    return pipeline;
  }

  /** Redirects (address, protocol, port) to the host servers, with weights. */
  public void addRedirect(int address, int protocol, int port, int[] hostServers, int[] weights) {
    int[] servers = hostServers.clone();
    int[] w = weights.clone();
    command(() -> redirects.put(address, protocol, port, servers, w, servers.length));
  }

  public void removeRedirect(int address, int protocol, int port) {
    command(() -> redirects.remove(address, protocol, port));
  }

  /** Sets one host server's weight; 0 drains it. */
  public void setWeight(int address, int protocol, int port, int hostServer, int weight) {
    command(() -> redirects.setWeight(address, protocol, port, hostServer, weight));
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
