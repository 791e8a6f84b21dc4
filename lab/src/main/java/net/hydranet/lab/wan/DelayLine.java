package net.hydranet.lab.wan;

import java.util.SplittableRandom;
import net.hydranet.forwarding.element.Verdict;
import net.hydranet.forwarding.io.TxPort;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Holds each frame until its departure time and then sends it: one direction of an emulated
 * long-distance link (Click's {@code DelayUnqueue}, made a bounded line of slots).
 *
 * <p>A frame offered at {@code now} departs at {@code now + delay}, plus a uniform jitter in {@code
 * [-jitter, +jitter]} when one is configured. Frames always leave in the order they came: a
 * jittered departure earlier than the previous frame's is moved up to it. That is a choice, and the
 * only one offered: a cable does not reorder, TCP treats reordering as loss, and a test that
 * measures the delay must not see it mixed with reordering. The price is that jitter is not
 * symmetric for frames closer together than the jitter: their delays skew towards the later edge.
 *
 * <p>Memory is fixed at construction: {@code capacity} slots of {@code slotBytes} each in one
 * direct buffer, a departure time and a length per slot. A frame that finds the line full, or that
 * is longer than a slot, is dropped and counted; so is a frame chosen for random loss (Bernoulli,
 * probability {@code loss}, from a seeded generator so a run can be repeated). Nothing here
 * allocates after construction.
 *
 * <p>Single-threaded: {@link #offer} and {@link #release} belong to one thread. Time is whatever
 * the caller passes as {@code now}, in nanoseconds of one monotonic clock (tests pass a fake one).
 */
public final class DelayLine {
  private final long delayNanos;
  private final long jitterNanos;
  private final double loss;
  private final SplittableRandom random;
  private final int capacity;
  private final int mask;
  private final int slotBytes;
  private final UnsafeBuffer memory;
  private final long[] departure;
  private final int[] length;
  private final Stats stats = new Stats();

  // Sequence numbers, not indexes: head == tail is empty, tail − head == capacity is full.
  private long head;
  private long tail;
  private long lastDeparture = Long.MIN_VALUE;

  /** What the line did, for the caller's counters. Written by the owning thread only. */
  public static final class Stats {
    /** Frames accepted into the line. */
    public long held;

    /** Frames handed to the port (whether or not the port took them). */
    public long departed;

    public long droppedFull;
    public long droppedTooLong;
    public long droppedLoss;

    /** Frames the port refused at departure (counted here, not retried: the line moves on). */
    public long sendFailures;

    /** Frames whose jittered departure was moved later to keep the order. */
    public long heldForOrder;
  }

  public DelayLine(Context context) {
    context.conclude();
    this.delayNanos = context.delayNanos;
    this.jitterNanos = context.jitterNanos;
    this.loss = context.loss;
    this.random = new SplittableRandom(context.seed);
    this.capacity = context.capacity;
    this.mask = capacity - 1;
    this.slotBytes = context.slotBytes;
    this.memory = new UnsafeBuffer(BufferUtil.allocateDirectAligned(capacity * slotBytes, 64));
    this.departure = new long[capacity];
    this.length = new int[capacity];
  }

  /**
   * Takes a copy of one frame, to depart after the delay.
   *
   * @return {@link Verdict#DONE} when the frame is held, {@link Verdict#DROP} when it was dropped
   *     (line full, frame longer than a slot, or random loss) and counted
   */
  public int offer(DirectBuffer buffer, int offset, int frameLength, long now) {
    if (frameLength > slotBytes || frameLength < 0) {
      stats.droppedTooLong++;
      return Verdict.DROP;
    }
    // Loss is decided before the fullness check so the random sequence, and with it a seeded
    // run's losses, does not depend on how full the line happened to be.
    if (loss > 0 && random.nextDouble() < loss) {
      stats.droppedLoss++;
      return Verdict.DROP;
    }
    if (tail - head == capacity) {
      stats.droppedFull++;
      return Verdict.DROP;
    }
    long leave = now + delayNanos;
    if (jitterNanos > 0) {
      leave += random.nextLong(-jitterNanos, jitterNanos + 1);
      if (leave < lastDeparture) {
        leave = lastDeparture;
        stats.heldForOrder++;
      }
    }
    // Without jitter, now only grows, so departures are already in order.
    lastDeparture = leave;
    final int index = (int) tail & mask;
    memory.putBytes(index * slotBytes, buffer, offset, frameLength);
    departure[index] = leave;
    length[index] = frameLength;
    tail++;
    stats.held++;
    return Verdict.DONE;
  }

  /**
   * Sends, in order, every frame whose departure time has come.
   *
   * @return how many frames departed
   */
  public int release(long now, TxPort port) {
    int sent = 0;
    while (head != tail) {
      final int index = (int) head & mask;
      final long leave = departure[index];
      if (leave - now > 0) {
        break;
      }
      if (!port.send(memory, index * slotBytes, length[index], leave)) {
        stats.sendFailures++;
      }
      head++;
      stats.departed++;
      sent++;
    }
    if (sent > 0) {
      port.flush();
    }
    return sent;
  }

  /** When the next frame departs, or {@link Long#MAX_VALUE} when the line is empty. */
  public long nextDeparture() {
    return head == tail ? Long.MAX_VALUE : departure[(int) head & mask];
  }

  /** Frames held now. */
  public int size() {
    return (int) (tail - head);
  }

  public int capacity() {
    return capacity;
  }

  /** Bytes of frame memory, fixed at construction. */
  public long memoryBytes() {
    return (long) capacity * slotBytes;
  }

  public Stats stats() {
    return stats;
  }

  /** How to build a line; every default sits beside its setter. */
  public static final class Context {
    /** Enough for 195 ms at 42 000 frames a second (≈ 500 Mb/s of 1500-byte frames). */
    public static final int DEFAULT_CAPACITY = 8192;

    /** An untagged or 802.1Q-tagged frame on a 1500-byte MTU, rounded up to 64. */
    public static final int DEFAULT_SLOT_BYTES = 1536;

    public static final long DEFAULT_SEED = 1;

    long delayNanos;
    long jitterNanos;
    double loss;
    long seed = DEFAULT_SEED;
    int capacity = DEFAULT_CAPACITY;
    int slotBytes = DEFAULT_SLOT_BYTES;

    /** One-way delay every frame gets, in nanoseconds. */
    public Context delayNanos(long delayNanos) {
      this.delayNanos = delayNanos;
      return this;
    }

    /** Each frame's delay varies uniformly by up to ± this, without reordering (see class doc). */
    public Context jitterNanos(long jitterNanos) {
      this.jitterNanos = jitterNanos;
      return this;
    }

    /** Probability in [0, 1) that a frame is dropped on entry; 0 (none) by default. */
    public Context loss(double loss) {
      this.loss = loss;
      return this;
    }

    /** Seed of the generator behind jitter and loss, so a run can be repeated. */
    public Context seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Frames the line can hold at once, a power of two; more are dropped and counted. */
    public Context capacity(int capacity) {
      this.capacity = capacity;
      return this;
    }

    /** The longest frame a slot holds; longer frames are dropped and counted. */
    public Context slotBytes(int slotBytes) {
      this.slotBytes = slotBytes;
      return this;
    }

    /** Validates; names the field that is wrong. */
    public Context conclude() {
      if (delayNanos < 0) {
        throw new IllegalArgumentException("delay " + delayNanos + " ns is negative");
      }
      if (jitterNanos < 0 || jitterNanos > delayNanos) {
        throw new IllegalArgumentException(
            "jitter " + jitterNanos + " ns not in [0, delay " + delayNanos + " ns]");
      }
      if (!(loss >= 0 && loss < 1)) {
        throw new IllegalArgumentException("loss " + loss + " not in [0, 1)");
      }
      if (capacity < 1 || capacity > (1 << 20) || Integer.bitCount(capacity) != 1) {
        throw new IllegalArgumentException(
            "capacity " + capacity + " is not a power of two in [1, 1048576]");
      }
      if (slotBytes < 64 || slotBytes > 65_536) {
        throw new IllegalArgumentException("slotBytes " + slotBytes + " not in [64, 65536]");
      }
      if ((long) capacity * slotBytes > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(
            "capacity " + capacity + " × slotBytes " + slotBytes + " exceeds 2 GiB");
      }
      return this;
    }
  }
}
