package net.hydranet.hydraweb.manager;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * One replica the manager installed, as the manager knows it: its state, what it has ACKed, what is
 * in flight to it, and what it reported. Every field is guarded by the object's lock; whichever
 * thread holds it (the push cycle, placement, a link's reader, a fetch, a reader of figures) does
 * no I/O while it does.
 */
final class ManagedReplica {
  enum State {
    WAITING,
    READY,
    REMOVING
  }

  enum Kind {
    PUT,
    DELETE,
    RULES,
    SLOT,
  }

  record Push(
      long id, String key, Kind kind, String path, long version, long sentAt, long sentNanos) {}

  final String name;
  final int host;
  final long installedAt;
  State state = State.WAITING;
  long readyAt;
  long preheatedAt = -1;
  long lastProbe = Long.MIN_VALUE / 2;
  long lastHits;
  String version = "?";
  final Map<String, Long> acked = new HashMap<>();
  final Map<String, Long> ackedAt = new HashMap<>();
  final Map<Long, Push> inflight = new HashMap<>();
  final Map<String, Push> inflightByKey = new HashMap<>();
  final Map<String, Integer> attempts = new HashMap<>();
  final Set<String> extra = new HashSet<>(); // docroot paths it caches from misses: kept hot
  boolean rulesDone;
  final Set<String> slotsDone = new HashSet<>();
  final Map<String, long[]> hits = new TreeMap<>(); // path → {last reported, total}
  long misses;
  long requests;
  long missesSeen;
  long requestsSeen;
  final LatencyTotals hitLatency = new LatencyTotals();
  final LatencyTotals missLatency = new LatencyTotals();

  ManagedReplica(String name, int host, long installedAt) {
    this.name = name;
    this.host = host;
    this.installedAt = installedAt;
  }

  void reset(long now) {
    state = State.READY;
    readyAt = now;
    preheatedAt = -1;
    acked.clear();
    ackedAt.clear();
    inflight.clear();
    inflightByKey.clear();
    attempts.clear();
    rulesDone = false;
    slotsDone.clear();
  }

  /** The hits it reported, over every path; the caller holds its lock. */
  long totalHits() {
    long total = 0;
    for (long[] c : hits.values()) {
      total += c[1];
    }
    return total;
  }
}
