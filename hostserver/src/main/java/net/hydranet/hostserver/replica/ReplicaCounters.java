package net.hydranet.hostserver.replica;

import java.util.concurrent.atomic.AtomicLongArray;
import net.hydranet.replica.Refusal;

/** The replica service's counters and its refusals by reason; read by metrics at scrape time. */
public final class ReplicaCounters {
  private final AtomicLongArray counts = new AtomicLongArray(ReplicaCounter.values().length);
  private final AtomicLongArray refusals = new AtomicLongArray(Refusal.values().length);

  void add(ReplicaCounter c) {
    counts.incrementAndGet(c.ordinal());
  }

  void refused(Refusal r) {
    refusals.incrementAndGet(r.ordinal());
  }

  public long get(ReplicaCounter c) {
    return counts.get(c.ordinal());
  }

  public long refusals(Refusal r) {
    return refusals.get(r.ordinal());
  }
}
