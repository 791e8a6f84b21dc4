package net.hydranet.router.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import net.hydranet.forwarding.ForwardingPlane;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Samples the forwarding plane once a second on a thread of its own: keeps the latest {@link
 * PlaneSnapshot} (the connection table walked every {@link #FLOW_EVERY} samples, since a walk costs
 * the forwarding thread about a millisecond per 100k slots) and a ring of the last {@link
 * #CAPACITY} samples of received, redirected and dropped packets, which the status page plots. The
 * per-host-server meters read the latest snapshot, so they lag by up to a second.
 */
public final class Sampler implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Sampler.class);

  /** Samples kept: five minutes at one a second. */
  public static final int CAPACITY = 300;

  /** Every this many samples, the connection table is walked for flows per target. */
  public static final int FLOW_EVERY = 5;

  /** One point of the plot: totals since start at {@code millis}. */
  public record Point(long millis, long received, long redirected, long dropped) {}

  private final ForwardingPlane plane;
  private final long periodMillis;
  private final Point[] ring = new Point[CAPACITY];
  private final List<Consumer<PlaneSnapshot>> listeners = new ArrayList<>();
  private final Thread thread;
  private int next;
  private int count;
  private volatile PlaneSnapshot latest;
  private volatile boolean running = true;

  public Sampler(ForwardingPlane plane, long periodMillis) {
    this.plane = plane;
    this.periodMillis = periodMillis;
    this.thread = new Thread(this::loop, "hydranet-sampler");
    thread.setDaemon(true);
  }

  /** Called with each snapshot, on the sampler's thread. */
  public synchronized Sampler onFlows(Consumer<PlaneSnapshot> listener) {
    listeners.add(listener);
    return this;
  }

  public Sampler start() {
    sample(true);
    thread.start();
    return this;
  }

  private void loop() {
    long n = 0;
    while (running) {
      try {
        TimeUnit.MILLISECONDS.sleep(periodMillis);
        sample(++n % FLOW_EVERY == 0);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        LOG.debug("sample failed: {}", e.toString());
      }
    }
  }

  /** Takes one sample now; {@code flows} walks the connection table too. */
  void sample(boolean flows) {
    PlaneSnapshot s;
    try {
      s = PlaneSnapshot.take(plane, flows);
    } catch (Exception e) {
      LOG.debug("no snapshot: {}", e.toString());
      return;
    }
    PlaneSnapshot previous = latest;
    if (!flows && previous != null) {
      // Keep the last walk's flow counts until the next walk.
      s = withFlows(s, previous);
    }
    latest = s;
    long dropped = 0;
    for (var e : s.counters().entrySet()) {
      if (e.getKey().startsWith("drop_")) {
        dropped += e.getValue();
      }
    }
    synchronized (this) {
      ring[next] =
          new Point(
              s.takenMillis(),
              s.counters().getOrDefault("rx_frames", 0L),
              s.counters().getOrDefault("redirected", 0L),
              dropped);
      next = (next + 1) % CAPACITY;
      count = Math.min(count + 1, CAPACITY);
      for (Consumer<PlaneSnapshot> l : listeners) {
        l.accept(s);
      }
    }
  }

  private static PlaneSnapshot withFlows(PlaneSnapshot s, PlaneSnapshot walked) {
    java.util.Map<String, Integer> flows = new java.util.HashMap<>();
    for (PlaneSnapshot.Service v : walked.services()) {
      for (PlaneSnapshot.Target t : v.targets()) {
        flows.put(key(v, t), t.flows());
      }
    }
    List<PlaneSnapshot.Service> services = new ArrayList<>();
    for (PlaneSnapshot.Service v : s.services()) {
      List<PlaneSnapshot.Target> targets = new ArrayList<>();
      for (PlaneSnapshot.Target t : v.targets()) {
        targets.add(t.withFlows(flows.getOrDefault(key(v, t), walked.walkedFlows() ? 0 : -1)));
      }
      services.add(v.with(v.packets(), v.bytes(), List.copyOf(targets)));
    }
    return new PlaneSnapshot(
        s.takenMillis(),
        List.copyOf(services),
        s.counters(),
        walked.flowsPerTarget(),
        s.flows(),
        s.evictedFlows(),
        walked.flowsPerTarget6(),
        s.flows6());
  }

  private static String key(PlaneSnapshot.Service v, PlaneSnapshot.Target t) {
    return v.label() + ">" + t.hostServer();
  }

  /** The latest snapshot; null before the first. */
  public PlaneSnapshot latest() {
    return latest;
  }

  /** The ring's samples, oldest first. */
  public synchronized List<Point> points() {
    List<Point> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(ring[(next - count + i + CAPACITY) % CAPACITY]);
    }
    return out;
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}
