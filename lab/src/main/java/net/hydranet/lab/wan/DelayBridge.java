package net.hydranet.lab.wan;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.io.TxPort;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cable with latency between two links: every frame received on side a leaves on side b after the
 * a→b {@link DelayLine}, and the other way round. No header is read or changed — it is a wire, not
 * a router.
 *
 * <p>One thread for both directions, not one each: per frame the work is a copy in and a {@code
 * send(2)} out (microseconds), against delays of milliseconds, so a second thread would buy no
 * timeliness while taking the second of our two cores from the endpoints whose traffic it carries.
 * It also keeps each line single-threaded with no hand-off: the thread that receives on a side is
 * the one that fills that side's line and empties it on the far side.
 *
 * <p>The duty cycle ({@link #doWork}) first sends what is due, then receives a bounded batch from
 * each side; when it did nothing it spins, yields, then parks for at most {@link #MAX_PARK_NANOS}
 * or until the next departure, whichever is sooner. That bound is also the most a frame can wait in
 * libpcap's ring before its delay starts counting.
 */
public final class DelayBridge implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DelayBridge.class);

  /** Longest idle park: bounds both the added latency and an idle bridge's wake-ups (20 k/s). */
  public static final long MAX_PARK_NANOS = 50_000;

  /** Frames taken from one side per cycle, so a flood on one side cannot starve departures. */
  static final int BATCH = 64;

  private static final int SPINS = 64;
  private static final int YIELDS = 16;

  private final FrameSource sourceA;
  private final FrameSource sourceB;
  private final TxPort portA;
  private final TxPort portB;
  private final DelayLine aToB;
  private final DelayLine bToA;
  private final UnsafeBuffer scratch;
  private final FrameSource.FrameMeta meta = new FrameSource.FrameMeta();
  private final LongSupplier clock;
  private final Thread thread;
  private volatile boolean running = true;
  private volatile boolean ended;
  private long cycleErrors;
  private int idleCycles;

  /**
   * @param sourceA frames received on side a (they go to {@code portB})
   * @param portA where frames from side b leave, on side a
   * @param maxFrame the longest frame a source may hand over (its snaplen)
   * @param clock monotonic nanoseconds: {@code System::nanoTime} live, a fake one in tests
   */
  public DelayBridge(
      FrameSource sourceA,
      TxPort portA,
      FrameSource sourceB,
      TxPort portB,
      DelayLine aToB,
      DelayLine bToA,
      int maxFrame,
      LongSupplier clock) {
    this.sourceA = sourceA;
    this.portA = portA;
    this.sourceB = sourceB;
    this.portB = portB;
    this.aToB = aToB;
    this.bToA = bToA;
    this.scratch = new UnsafeBuffer(ByteBuffer.allocateDirect(maxFrame));
    this.clock = clock;
    this.thread = new Thread(this::run, "hydranet-wan");
    this.thread.setDaemon(true);
  }

  /**
   * One cycle: departures first, then up to {@link #BATCH} frames from each side into its line.
   *
   * @return frames moved (sent or received); 0 means idle
   */
  public int doWork() {
    final long now = clock.getAsLong();
    int work = aToB.release(now, portB) + bToA.release(now, portA);
    work += receive(sourceA, aToB);
    work += receive(sourceB, bToA);
    return work;
  }

  private int receive(FrameSource source, DelayLine line) {
    int n = 0;
    while (n < BATCH) {
      final int length = source.poll(scratch, 0, scratch.capacity(), meta);
      if (length <= 0) {
        break;
      }
      // Held or dropped, the line counts it; either way the frame is consumed.
      line.offer(scratch, 0, length, clock.getAsLong());
      n++;
    }
    return n;
  }

  /** Starts the bridge's thread. */
  public void start() {
    thread.start();
  }

  private void run() {
    try {
      while (running) {
        int work;
        try {
          work = doWork();
        } catch (RuntimeException e) {
          // A bug, never bad input (the lines count those): count it, say it once, go on.
          if (cycleErrors++ == 0) {
            LOG.error("wan cycle failed (further failures only counted)", e);
          }
          work = 0;
        }
        idle(work);
      }
    } finally {
      ended = true;
    }
  }

  private void idle(int work) {
    if (work > 0) {
      idleCycles = 0;
      return;
    }
    idleCycles++;
    if (idleCycles <= SPINS) {
      Thread.onSpinWait();
    } else if (idleCycles <= SPINS + YIELDS) {
      Thread.yield();
    } else {
      final long untilDeparture =
          Math.min(aToB.nextDeparture(), bToA.nextDeparture()) - clock.getAsLong();
      LockSupport.parkNanos(Math.max(1, Math.min(MAX_PARK_NANOS, untilDeparture)));
    }
  }

  /** Waits up to {@code millis} for the thread to end; true when it has. */
  public boolean awaitEnd(long millis) throws InterruptedException {
    thread.join(millis);
    return ended;
  }

  /** Cycles that threw: bugs, counted. */
  public long cycleErrors() {
    return cycleErrors;
  }

  public DelayLine aToB() {
    return aToB;
  }

  public DelayLine bToA() {
    return bToA;
  }

  /**
   * Stops the thread; frames still in the lines are not sent (the cable is cut). Does not close the
   * sources or ports, which belong to the caller.
   */
  @Override
  public void close() {
    running = false;
    if (thread.isAlive() && thread != Thread.currentThread()) {
      try {
        thread.join(TimeUnit.SECONDS.toMillis(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
