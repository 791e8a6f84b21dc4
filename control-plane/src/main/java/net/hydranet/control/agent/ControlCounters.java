package net.hydranet.control.agent;

import java.util.concurrent.atomic.AtomicLongArray;
import net.hydranet.control.wire.Malformed;

/** Counters written by the control thread, read by metrics and {@code hydranet ctl}. */
public final class ControlCounters {
  private final AtomicLongArray values = new AtomicLongArray(ControlCounter.values().length);

  public void increment(ControlCounter c) {
    values.incrementAndGet(c.ordinal());
  }

  public void add(ControlCounter c, long n) {
    values.addAndGet(c.ordinal(), n);
  }

  public void refused(Malformed reason) {
    increment(ControlCounter.valueOf("REFUSED_" + reason.name()));
  }

  public long get(ControlCounter c) {
    return values.get(c.ordinal());
  }

  public long refusedTotal() {
    long sum = 0;
    for (ControlCounter c : ControlCounter.values()) {
      if (c.name().startsWith("REFUSED_")) {
        sum += get(c);
      }
    }
    return sum;
  }
}
