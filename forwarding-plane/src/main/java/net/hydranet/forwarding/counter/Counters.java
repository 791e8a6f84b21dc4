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
 */
public final class Counters {
  private static final int STRIDE = 128;

  private final UnsafeBuffer values;
  private final int slots;

  /** A slot for every {@link Counter}. */
  public Counters() {
    this(Counter.count());
  }

  /** A counter block of {@code slots} slots, for per-interface figures and the like. */
  public Counters(int slots) {
    this.slots = slots;
    ByteBuffer memory = BufferUtil.allocateDirectAligned(slots * STRIDE, STRIDE);
    this.values = new UnsafeBuffer(memory);
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

  /** Reads slot {@code id} from any thread. */
  public long get(int id) {
    return values.getLongVolatile(id * STRIDE);
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
