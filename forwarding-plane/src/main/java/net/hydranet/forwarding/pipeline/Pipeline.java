package net.hydranet.forwarding.pipeline;

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.WaitStrategy;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.io.FrameWait;
import org.agrona.BufferUtil;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.IdleStrategy;

/**
 * The data path's threads: a receive thread polls the frame sources straight into preallocated ring
 * slots and publishes them; one forwarding thread takes them in batches, applies queued commands,
 * runs each frame through a {@link FrameProcessor}, and flushes the ports at the end of every
 * batch.
 *
 * <p>Two stages, not more: with two cores shared by the router and the traffic it forwards, a third
 * thread (a separate transmit stage) would only add a cross-core hand-off per frame; receive is the
 * one stage that must not wait on processing, so it alone gets its own thread.
 *
 * <p>When idle, not even two: a frame that finds the forwarding thread with nothing left to do is
 * run by the receive thread itself ({@code inlineBurst} frames in a row at most, then the ring
 * takes over again), the way NAPI runs a quiet interface's packets straight from the interrupt and
 * polls only under load. A hand-off costs a thread wake-up, 40–150 µs on the VMs measured
 * (BENCHMARKS.md, "Where a hit's time goes"), far more than the frame's own work; under load the
 * forwarding thread is awake anyway and the hand-off is cheap. It is safe without a lock because
 * only the receive thread publishes: once the forwarding thread's sequence has reached the last
 * published slot it cannot touch the path again until the next publish, and the Disruptor's
 * sequences (a release store after each batch, an acquire load here; the cursor's release on
 * publish, the forwarding thread's acquire in waitFor) order everything one thread wrote to the
 * path before the other reads it.
 */
public final class Pipeline implements AutoCloseable {
  /** How long the receive thread may find nothing before it publishes a tick, for the timers. */
  public static final long TICK_NANOS = 1_000_000L;

  /**
   * How long the receive thread finds nothing before it sleeps in the kernel ({@link #deepIdle}):
   * not at all. Every empty look at a live capture is a {@code poll(2)} inside {@code
   * pcap_next_ex}, and so is every spin of a back-off; on the VMs measured a system call is the
   * dearest thing a frame pays (BENCHMARKS.md, "CPU per frame"), so as soon as a round over the
   * captures finds nothing the thread sleeps in one {@code poll(2)} until a frame comes, as a C
   * libpcap loop does. The wake-up's latency batches the frames that arrive meanwhile.
   */
  public static final long DEEP_IDLE_NANOS = 0L;

  /**
   * How many frames the receive thread takes from one source before it looks at the next: the
   * frames run on this thread in one round leave in one flush (one system call with a transmit
   * ring), and no source waits behind a busy one for longer than this many frames.
   */
  static final int ROUND_FRAMES = 32;

  /**
   * How many frames of a ring batch the forwarding thread hands to {@link FrameProcessor#prefetch}
   * before it processes them (VPP's vector, in slices): enough for the connection table's misses to
   * overlap, and no more than {@code FlowTable.PREFETCH_MAX}. A batch of one frame is processed at
   * once, without look-ahead; nothing ever waits for a batch to fill.
   */
  public static final int LOOK_AHEAD = 16;

  private final Disruptor<FrameSlot> disruptor;
  private final RingBuffer<FrameSlot> ring;
  private final FrameSource[] sources;
  private final FrameProcessor path;
  private final Runnable commandDrain;
  private final Clock clock;
  private final Counters counters;
  private final int inlineBurst;
  private final CountDownLatch ended = new CountDownLatch(1);
  private volatile boolean running = true;
  private volatile RuntimeException receiveError;
  private Thread receiveThread;
  private FrameWait deepWait;
  private long deepIdleNanos;
  // Written by the receive thread only; metrics read it slightly stale.
  private volatile long inlineFrames;

  /** Where time comes from: the wall clock live, the capture's timestamps in replay. */
  public enum Clock {
    LIVE,
    FRAME
  }

  /**
   * @param inlineBurst how many frames in a row the receive thread may run itself while the
   *     forwarding thread is idle; 0 hands every frame over (replay, and tests of the ring itself)
   */
  public Pipeline(
      int ringSize,
      FrameSource[] sources,
      FrameProcessor path,
      Runnable commandDrain,
      Counters counters,
      Clock clock,
      WaitStrategy waitStrategy,
      int inlineBurst) {
    if (inlineBurst < 0) {
      throw new IllegalArgumentException("inlineBurst " + inlineBurst + " is negative");
    }
    this.inlineBurst = inlineBurst;
    this.sources = sources;
    this.path = path;
    this.commandDrain = commandDrain;
    this.clock = clock;
    this.counters = counters;
    ByteBuffer memory = BufferUtil.allocateDirectAligned(ringSize * FrameSlot.SLOT_SIZE, 64);
    AtomicInteger next = new AtomicInteger();
    this.disruptor =
        new Disruptor<>(
            () -> new FrameSlot(memory, next.getAndIncrement()),
            ringSize,
            r -> {
              Thread t = new Thread(r, "hydranet-forwarding");
              t.setDaemon(true);
              return t;
            },
            ProducerType.SINGLE,
            waitStrategy == null ? new BlockingWaitStrategy() : waitStrategy);
    disruptor.handleEventsWith(new Handler());
    this.ring = disruptor.start();
  }

  /**
   * Lets the receive thread, once it has found no frame for {@code afterNanos}, wait in {@code
   * wait} (the kernel) until one comes, waking for each tick. Parking 20 µs at a time costs an idle
   * daemon about a sixth of a core on the VMs measured (BENCHMARKS.md); this costs nothing but the
   * first frame's wake-up. Before {@link #start}.
   */
  public Pipeline deepIdle(FrameWait wait, long afterNanos) {
    if (receiveThread != null) {
      throw new IllegalStateException("started");
    }
    this.deepWait = wait;
    this.deepIdleNanos = afterNanos;
    return this;
  }

  /** Starts the receive thread. */
  public Pipeline start() {
    receiveThread = new Thread(this::receiveLoop, "hydranet-receive");
    receiveThread.setDaemon(true);
    receiveThread.start();
    return this;
  }

  /**
   * Waits until every source reached its end and the forwarding thread finished the last frame
   * (replay), or until {@code timeoutMillis}.
   *
   * @return true if the pipeline ended
   */
  public boolean awaitEnd(long timeoutMillis) throws InterruptedException {
    return ended.await(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  /** Slots published and not yet processed: ring occupancy, for metrics. */
  public long usedSlots() {
    return ring.getBufferSize() - ring.remainingCapacity();
  }

  public int slots() {
    return ring.getBufferSize();
  }

  /** Frames the receive thread ran itself because the forwarding thread was idle. */
  public long inlineFrames() {
    return inlineFrames;
  }

  /** Why the receive thread stopped early, or null. */
  public RuntimeException receiveError() {
    return receiveError;
  }

  /** Stops receiving, lets the forwarding thread drain what is in the ring, and stops it. */
  @Override
  public void close() {
    running = false;
    if (receiveThread != null) {
      try {
        receiveThread.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      ended.await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    disruptor.halt();
  }

  /**
   * The receive thread: rounds over the sources until every one has ended or the pipeline closes,
   * each round followed at once by the next while frames come, and by the idle decision when every
   * source looked at came back empty.
   */
  private void receiveLoop() {
    Receiver rx = new Receiver();
    try {
      while (running && rx.remaining > 0) {
        rx.takeRound();
        long now = rx.endRound();
        if (rx.nextRoundAtOnce()) {
          continue;
        }
        rx.endBurst(now);
      }
    } catch (RuntimeException e) {
      // A source failed (a corrupt capture, a NIC gone): stop receiving and say why.
      receiveError = e;
    } finally {
      // Always publish the claimed slot, as the end marker: the forwarding thread drains and stops.
      rx.publishEnd();
    }
  }

  /**
   * The receive thread's state between the steps of {@link Pipeline#receiveLoop}: made once when
   * the thread starts, read and written by that thread alone (other threads see only {@code
   * inlineFrames} and the ring's sequences). Nothing here allocates per frame.
   */
  private final class Receiver {
    private final FrameSource.FrameMeta meta = new FrameSource.FrameMeta();
    private final boolean[] done = new boolean[sources.length];

    /** Sources not yet at their end. */
    int remaining = sources.length;

    /** When the last frame or tick came or went: the next tick is due {@code TICK_NANOS} later. */
    private long lastEvent = System.nanoTime();

    /** When the last frame came: the deep idle starts {@code deepIdleNanos} after it. */
    private long lastFrame = lastEvent;

    /** The slot claimed for the next frame or tick. */
    private long sequence = ring.next();

    private long inline = 0;

    /** Frames this burst may still run here rather than hand over. */
    private int inlineLeft = inlineBurst;

    /** Frames ran here whose ports are not flushed yet. */
    private boolean unflushed = false;

    // Idle: spin briefly, then yield, then park up to 20 µs — an idle router must not burn a
    // core the traffic needs (two cores here), and 20 µs bounds the latency it adds to the first
    // packet after a pause.
    private final IdleStrategy idle = new BackoffIdleStrategy(64, 16, 1_000, 20_000);

    // Which sources to look at in the next round: after a wait, only those the kernel said
    // have frames (every look at an empty capture is a poll(2) inside pcap_next_ex).
    private long mask = FrameWait.ALL;

    /** Whether this round took a frame. */
    private boolean received;

    /** The sources that gave a full round's frames this round (may hold more). */
    private long busy;

    /** Takes up to {@link Pipeline#ROUND_FRAMES} from each source to look at, in turn. */
    void takeRound() {
      received = false;
      busy = 0;
      for (int i = 0; i < sources.length; i++) {
        if (done[i] || (i < Long.SIZE && (mask & (1L << i)) == 0)) {
          continue;
        }
        if (takeFrom(i) == ROUND_FRAMES) {
          busy |= i < Long.SIZE ? 1L << i : FrameWait.ALL;
        }
      }
    }

    /**
     * Up to ROUND_FRAMES from source {@code i}: a round's frames are flushed together. Returns how
     * many it gave; marks the source done at its end.
     */
    private int takeFrom(int i) {
      int n = 0;
      for (; n < ROUND_FRAMES; n++) {
        FrameSlot slot = ring.get(sequence);
        int length =
            sources[i].poll(slot.buffer, FrameSlot.HEADROOM, FrameSlot.frameCapacity(), meta);
        if (length <= 0) {
          if (length == FrameSource.END) {
            done[i] = true;
            remaining--;
          }
          break;
        }
        slot.kind = FrameSlot.KIND_FRAME;
        slot.offset = FrameSlot.HEADROOM;
        slot.length = length;
        slot.ingress = meta.ingress;
        slot.timestampNanos = clock == Clock.LIVE ? System.nanoTime() : meta.timestampNanos;
        runHereOrPublish(slot);
        received = true;
      }
      return n;
    }

    /**
     * The frame in the claimed slot: run here while the forwarding thread idles, else published.
     */
    private void runHereOrPublish(FrameSlot slot) {
      if (inlineLeft > 0 && ring.getMinimumGatingSequence() == sequence - 1) {
        // The forwarding thread has done everything published: run the frame here and
        // keep the slot for the next one. The ports are flushed once the round is over,
        // so a round's frames leave in one batch.
        inlineLeft--;
        runInline(slot, false);
        unflushed = true;
        inlineFrames = ++inline;
      } else {
        if (unflushed) {
          // The path changes threads: what ran here leaves first.
          flushInline();
          unflushed = false;
        }
        ring.publish(sequence);
        sequence = ring.next();
      }
    }

    /** Flushes what the round ran here and notes when a frame last came; returns the time. */
    long endRound() {
      if (unflushed) {
        flushInline();
        unflushed = false;
      }
      long now = System.nanoTime();
      if (received) {
        idle.reset();
        lastEvent = now;
        lastFrame = now;
      }
      return now;
    }

    /** Whether the next round starts at once, and over which sources ({@link #mask}). */
    boolean nextRoundAtOnce() {
      if (busy != 0) {
        // A source may hold more: the next round takes it again, with whatever else has a
        // frame now (one poll(2) without waiting, not one empty read per source).
        mask = deepWait == null ? FrameWait.ALL : busy | deepWait.ready(0);
        return true;
      }
      if (deepWait == null) {
        mask = FrameWait.ALL;
        return received;
      }
      return false;
    }

    /**
     * Every source looked at came back empty: the burst is over, the next frame may run here again.
     * A tick if one is due; else a sleep in the kernel until a frame comes, or a back-off.
     */
    void endBurst(long now) {
      inlineLeft = inlineBurst;
      if (now - lastEvent >= TICK_NANOS) {
        tick(now);
        lastEvent = now;
      } else if (deepWait != null && now - lastFrame >= deepIdleNanos) {
        // Sleep until a frame comes, or until the next tick is due; then look only where
        // the kernel says a frame is.
        mask = deepWait.ready(1);
      } else {
        idle.idle();
        mask = FrameWait.ALL;
      }
    }

    /** A tick for the timers: run here while the forwarding thread is idle, else published. */
    private void tick(long now) {
      FrameSlot slot = ring.get(sequence);
      slot.kind = FrameSlot.KIND_TICK;
      slot.timestampNanos = clock == Clock.LIVE ? now : meta.timestampNanos;
      if (inlineBurst > 0 && ring.getMinimumGatingSequence() == sequence - 1) {
        // Idle timers too: an idle router need not wake its forwarding thread every tick.
        runInline(slot, true);
      } else {
        ring.publish(sequence);
        sequence = ring.next();
      }
    }

    /** Publishes the claimed slot as the end marker. */
    void publishEnd() {
      FrameSlot slot = ring.get(sequence);
      slot.kind = FrameSlot.KIND_END;
      slot.timestampNanos = clock == Clock.LIVE ? System.nanoTime() : meta.timestampNanos;
      ring.publish(sequence);
    }
  }

  /**
   * One frame or tick on the receive thread, as {@link Handler} would run it; {@code flush} ends
   * the batch, otherwise the caller flushes once its round is over ({@link #flushInline}).
   */
  private void runInline(FrameSlot slot, boolean flush) {
    commandDrain.run();
    try {
      path.tick(slot.timestampNanos);
      if (slot.kind == FrameSlot.KIND_FRAME) {
        path.process(slot.buffer, slot.offset, slot.length, slot.ingress);
      }
      if (flush) {
        path.flush();
      }
    } catch (RuntimeException e) {
      // A bug, never bad input: count it and keep receiving (the receive loop treats an
      // exception as its source failing).
      counters.increment(Counter.DROP_ERROR);
    }
  }

  private void flushInline() {
    try {
      path.flush();
    } catch (RuntimeException e) {
      counters.increment(Counter.DROP_ERROR);
    }
  }

  /**
   * The forwarding thread's consumer. A batch is what the receive thread had published when this
   * thread looked: up to {@link #LOOK_AHEAD} of its slots at a time are looked ahead at — pass one,
   * {@link FrameProcessor#prefetch} for each frame and one {@link FrameProcessor#loadPrefetched} —
   * then processed one by one as they come (pass two, the per-packet path unchanged). The slots
   * ahead are published (the batch ends at the sequence the barrier returned), and only this thread
   * reads them until it has processed them.
   */
  private final class Handler implements EventHandler<FrameSlot> {
    /** Slots of the current batch not yet looked ahead at. */
    private long batchLeft;

    /** Slots of the current look-ahead window not yet processed. */
    private int windowLeft;

    @Override
    public void onBatchStart(long batchSize, long queueDepth) {
      commandDrain.run();
      batchLeft = batchSize;
      windowLeft = 0;
    }

    @Override
    public void onEvent(FrameSlot slot, long sequence, boolean endOfBatch) {
      int window = 0;
      if (windowLeft == 0) {
        window = (int) Math.min(batchLeft, LOOK_AHEAD);
        batchLeft -= window;
        windowLeft = window;
      }
      windowLeft--;
      try {
        if (window > 1) {
          // A bug here, never bad input, costs this frame, as one in process would.
          lookAhead(sequence, window);
        }
        path.tick(slot.timestampNanos);
        if (slot.kind == FrameSlot.KIND_FRAME) {
          path.process(slot.buffer, slot.offset, slot.length, slot.ingress);
        } else if (slot.kind == FrameSlot.KIND_END) {
          commandDrain.run();
          path.flush();
          ended.countDown();
        }
      } catch (RuntimeException e) {
        // A bug, never bad input (that is a counted verdict): count it and keep forwarding.
        counters.increment(Counter.DROP_ERROR);
      }
      if (endOfBatch) {
        path.flush();
      }
    }

    private void lookAhead(long from, int window) {
      for (long s = from; s < from + window; s++) {
        FrameSlot ahead = ring.get(s);
        if (ahead.kind == FrameSlot.KIND_FRAME) {
          path.prefetch(ahead.buffer, ahead.offset, ahead.length);
        }
      }
      path.loadPrefetched();
    }
  }
}
