package net.hydranet.forwarding.counter;

import java.nio.ByteBuffer;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Allocation-free counters: one writer (the forwarding thread), any number of readers.
 *
 * <p>Each counter is a 64-bit slot, 128 bytes apart so no two share a cache line (the writer's
 * lines are then never invalidated by a scraping reader's). The writer uses plain reads and a
 * release store — the single-writer counter idiom of Aeron's {@code AtomicCounter.incrementOrdered}
 * — so a reader on another thread with {@link #get} sees a value at least as new as any it saw
 * before and never a torn one, at the cost of a plain store on x86.
 *
 * <p>With several forwarding pipelines each has its own block (one writer each); {@link #sum} is
 * the block the metrics and views read, whose {@link #get} adds the pipelines' values at read time.
 */
public final class Counters {
  private static final int STRIDE = 128;
  private static final Counters[] NONE = new Counters[0];

  private final UnsafeBuffer values;
  private final int slots;
  private final Counters[] parts;

  /** A slot for every {@link Counter}. */
  public Counters() {
    this(Counter.count());
  }

  /** A counter block of {@code slots} slots, for per-interface figures and the like. */
  public Counters(int slots) {
    this(slots, NONE);
  }

  private Counters(int slots, Counters[] parts) {
    this.slots = slots;
    this.parts = parts;
    ByteBuffer memory = BufferUtil.allocateDirectAligned(slots * STRIDE, STRIDE);
    this.values = new UnsafeBuffer(memory);
  }

  /**
   * A block whose {@link #get} is its own value plus every part's (read from any thread, as each
   * part is): the pipelines' counters as one. Its own slots start at 0 and stay there unless
   * someone adds to the sum itself.
   */
  public static Counters sum(Counters... parts) {
    int slots = parts.length == 0 ? Counter.count() : parts[0].slots;
    for (Counters p : parts) {
      if (p.slots != slots) {
        throw new IllegalArgumentException("parts of " + p.slots + " and " + slots + " slots");
      }
    }
    return new Counters(slots, parts.clone());
  }

  public int slots() {
    return slots;
  }

  public void increment(Counter counter) {
    add(counter.id(), 1);
  }

  public void add(Counter counter, long delta) {
    add(counter.id(), delta);
  }

  /** Single-writer increment of slot {@code id}. */
  public void add(int id, long delta) {
    int index = id * STRIDE;
    values.putLongOrdered(index, values.getLong(index) + delta);
  }

  public long get(Counter counter) {
    return get(counter.id());
  }

  /** Reads slot {@code id} from any thread; a {@link #sum} adds its parts' values. */
  public long get(int id) {
    long value = values.getLongVolatile(id * STRIDE);
    for (Counters part : parts) {
      value += part.get(id);
    }
    return value;
  }

  /** Sum of all outcome and drop counters: equals {@code rx_frames} when every frame is counted. */
  public long outcomes() {
    long sum = 0;
    for (int i = 0; i < Counter.count(); i++) {
      Counter.Kind kind = Counter.of(i).kind();
      if (kind == Counter.Kind.OUTCOME || kind == Counter.Kind.DROP) {
        sum += get(i);
      }
    }
    return sum;
  }

  /** Sum of drop counters. */
  public long drops() {
    long sum = 0;
    for (int i = 0; i < Counter.count(); i++) {
      if (Counter.of(i).kind() == Counter.Kind.DROP) {
        sum += get(i);
      }
    }
    return sum;
  }
}
