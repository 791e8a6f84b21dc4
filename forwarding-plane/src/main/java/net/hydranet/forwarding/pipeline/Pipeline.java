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
   * How long a pipeline finds no frame before its receive thread waits longer between ticks ({@link
   * #QUIET_TICK_MILLIS}): a second, so every timer keeps its millisecond while traffic flows and
   * for a second after it (ARP's retry is a second by default).
   */
  public static final long QUIET_AFTER_NANOS = 1_000_000_000L;

  /**
   * The tick of a quiet pipeline, in its {@link FrameWait}: a tick a millisecond cost an idle
   * redirector 22–30 µs of CPU each on the 2596 MHz VM, its two receive threads 4–5 % of a core for
   * no frame (BENCHMARKS.md, "The census off the data path, and a quiet idle tick"). A frame ends
   * the wait at once, and so does a command ({@link #wake}); what a tick does (expire flows, retry
   * ARP, age fragments) may come this much later on a router that forwards nothing.
   */
  public static final int QUIET_TICK_MILLIS = 100;

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
  private final ByteBuffer slotMemory;
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
    this.slotMemory = memory;
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
  /**
   * Ends the receive thread's wait in its {@link FrameWait} early, from any thread: a command is
   * queued for it. Without a wait, or before {@link #deepIdle}, nothing to do.
   */
  public void wake() {
    final FrameWait wait = deepWait;
    if (wait != null) {
      wait.wake();
    }
  }

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
    // A quiet receive thread may be in a 100 ms wait: end it now.
    wake();
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
    if (deepWait != null && (receiveThread == null || !receiveThread.isAlive())) {
      deepWait.close();
    }
  }

  private void receiveLoop() {
    new Receiver().run();
  }

  /**
   * The receive thread's loop and its state, as named steps. One round looks at every source the
   * last wait named ({@link #round}): up to {@link #ROUND_FRAMES} from each, read in batches
   * straight into free ring slots ({@link FrameSource#pollBatch}: one native call per batch for a
   * live capture); each batch either runs here (the forwarding thread has nothing left and the
   * inline budget allows) or is claimed and published in one go. After a round: a tick when due,
   * else a wait ({@link #afterRound}).
   *
   * <p>The batch's slots: the thread always holds one claimed slot, {@code sequence} (for a tick,
   * an inline frame or the END marker); the slots after it that the ring reports free ({@code
   * remainingCapacity}) are written before they are claimed, which is safe with one producer: no
   * consumer reads a slot before it is published, and no other producer can claim it. A published
   * batch then claims exactly as many slots as it filled ({@code next(k)}: the last becomes the new
   * held slot) and publishes the range.
   */
  private final class Receiver {
    private final FrameSource.Batch batch =
        new FrameSource.Batch(
            slotMemory,
            ring.getBufferSize(),
            FrameSlot.SLOT_SIZE,
            FrameSlot.HEADROOM,
            FrameSlot.frameCapacity(),
            ROUND_FRAMES);
    private final boolean[] done = new boolean[sources.length];
    private int remaining = sources.length;
    // Idle: spin briefly, then yield, then park up to 20 µs — an idle router must not burn a
    // core the traffic needs (two cores here), and 20 µs bounds the latency it adds to the first
    // packet after a pause.
    private final IdleStrategy idle = new BackoffIdleStrategy(64, 16, 1_000, 20_000);
    private long lastEvent = System.nanoTime();
    private long lastFrame = lastEvent;
    // The replayed clock: the last frame's capture time.
    private long frameTime;
    private long sequence;
    private long inline;
    private int inlineLeft = inlineBurst;
    private boolean unflushed;
    // Which sources to look at in the next round: after a wait, only those the kernel said have
    // frames (every look at an empty capture is a poll(2) inside libpcap).
    private long mask = FrameWait.ALL;
    // This round: whether any frame came, and which sources filled their ROUND_FRAMES.
    private boolean received;
    private long busy;

    void run() {
      sequence = ring.next();
      try {
        while (running && remaining > 0) {
          round();
          afterRound();
        }
      } catch (RuntimeException e) {
        // A source failed (a corrupt capture, a NIC gone): stop receiving and say why.
        receiveError = e;
      } finally {
        publishEnd();
      }
    }

    /** Up to {@link #ROUND_FRAMES} from each source the mask names; their frames leave together. */
    private void round() {
      received = false;
      busy = 0;
      for (int i = 0; i < sources.length; i++) {
        if (done[i] || (i < Long.SIZE && (mask & (1L << i)) == 0)) {
          continue;
        }
        if (drain(i) == ROUND_FRAMES) {
          busy |= i < Long.SIZE ? 1L << i : FrameWait.ALL;
        }
      }
      flushInline();
    }

    /** Reads source {@code i} in batches until it has nothing more now or gave its share. */
    private int drain(int i) {
      int n = 0;
      while (n < ROUND_FRAMES) {
        final boolean here = inlineLeft > 0 && forwardingIdle();
        final int max = batchRoom(ROUND_FRAMES - n, here);
        batch.startAt(sequence);
        final int k = sources[i].pollBatch(batch, max);
        if (batch.ended()) {
          done[i] = true;
          remaining--;
        }
        if (k > 0) {
          received = true;
          n += k;
          if (here) {
            runBatchInline(k);
          } else {
            publishBatch(k);
          }
        }
        if (batch.failure() != null) {
          // The frames before the failure are on their way; now the source's failure stops us.
          throw batch.failure();
        }
        if (k < max || done[i]) {
          // The source had no more: looking again now would be an empty read (a poll(2)).
          break;
        }
      }
      return n;
    }

    /**
     * How many frames the next batch may take: inline, the budget left and every free slot from the
     * held one on; published, the free slots after the held one, so that claiming them never waits
     * — but at least one, which waits for the forwarding thread when the ring is full.
     */
    private int batchRoom(int wanted, boolean here) {
      final long free = ring.remainingCapacity();
      if (here) {
        return (int) Math.min(Math.min(wanted, inlineLeft), free + 1);
      }
      return (int) Math.max(1, Math.min(wanted, free));
    }

    /** The forwarding thread has done everything published: a frame may run here instead. */
    private boolean forwardingIdle() {
      return ring.getMinimumGatingSequence() == sequence - 1;
    }

    /**
     * Runs the batch's frames on this thread from their slots, none published: the forwarding
     * thread cannot reach them, since it waits for the held slot. Flushed when the round is over,
     * so a round's frames leave in one batch.
     */
    private void runBatchInline(int k) {
      final long now = System.nanoTime();
      for (int j = 0; j < k; j++) {
        final FrameSlot slot = fill(sequence + j, j, now);
        inlineLeft--;
        runInline(slot, false);
        unflushed = true;
        inlineFrames = ++inline;
      }
    }

    /** Hands the batch to the forwarding thread: claims as many slots as it filled, publishes. */
    private void publishBatch(int k) {
      // The path changes threads: what ran here leaves first.
      flushInline();
      final long now = System.nanoTime();
      for (int j = 0; j < k; j++) {
        fill(sequence + j, j, now);
      }
      final long held = ring.next(k);
      ring.publish(sequence, sequence + k - 1);
      sequence = held;
    }

    private FrameSlot fill(long slotSequence, int j, long now) {
      final FrameSlot slot = ring.get(slotSequence);
      slot.kind = FrameSlot.KIND_FRAME;
      slot.offset = FrameSlot.HEADROOM;
      slot.length = batch.length(j);
      slot.ingress = batch.ingress(j);
      if (clock == Clock.LIVE) {
        slot.timestampNanos = now;
      } else {
        frameTime = batch.timestampNanos(j);
        slot.timestampNanos = frameTime;
      }
      return slot;
    }

    private void flushInline() {
      if (unflushed) {
        Pipeline.this.flushInline();
        unflushed = false;
      }
    }

    /** After a round: look again at once, publish a tick when due, or wait for frames. */
    private void afterRound() {
      final long now = System.nanoTime();
      if (received) {
        idle.reset();
        lastEvent = now;
        lastFrame = now;
      }
      if (busy != 0) {
        // A source may hold more: the next round takes it again, with whatever else has a
        // frame now (one poll(2) without waiting, not one empty read per source).
        mask = deepWait == null ? FrameWait.ALL : busy | deepWait.ready(0);
        return;
      }
      if (deepWait == null) {
        mask = FrameWait.ALL;
        if (received) {
          return;
        }
      }
      // Every source looked at came back empty: the burst is over, the next frame may run
      // here again.
      inlineLeft = inlineBurst;
      if (now - lastEvent >= TICK_NANOS || (deepWait != null && deepWait.takeWake())) {
        // Due, or woken for a command: the tick drains the commands.
        tick(now);
        lastEvent = now;
      } else if (deepWait != null && now - lastFrame >= deepIdleNanos) {
        // Sleep until a frame or a command comes, or until the next tick is due; then look only
        // where the kernel says a frame is.
        mask = deepWait.ready(now - lastFrame >= QUIET_AFTER_NANOS ? QUIET_TICK_MILLIS : 1);
      } else {
        idle.idle();
        mask = FrameWait.ALL;
      }
    }

    /** A tick in the held slot, for the timers: run here if the forwarding thread is idle. */
    private void tick(long now) {
      final FrameSlot slot = ring.get(sequence);
      slot.kind = FrameSlot.KIND_TICK;
      slot.timestampNanos = clock == Clock.LIVE ? now : frameTime;
      if (inlineBurst > 0 && forwardingIdle()) {
        // Idle timers too: an idle router need not wake its forwarding thread every tick.
        runInline(slot, true);
      } else {
        ring.publish(sequence);
        sequence = ring.next();
      }
    }

    /**
     * Always publishes the held slot, as the end marker: the forwarding thread drains and stops.
     */
    private void publishEnd() {
      final FrameSlot slot = ring.get(sequence);
      slot.kind = FrameSlot.KIND_END;
      slot.timestampNanos = clock == Clock.LIVE ? System.nanoTime() : frameTime;
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
