package net.hydranet.hydraweb;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The replica's bounded cache of {@link WebObject}s, filled by the origin's replica manager and
 * read by the event loops.
 *
 * <p><b>Consistency.</b> Every response is built from the one object that a single {@link
 * ConcurrentHashMap} lookup returned, and objects are immutable, so a response never mixes two
 * versions. {@link #put} and {@link #remove} change the mapping in one step; once either returns,
 * every lookup that starts afterwards, on any thread, sees the change (the map's happens-before
 * edge). Responses whose lookup ran before that point may still be in flight with the old version —
 * including one waiting for a slow client to read it — but no response looked up afterwards serves
 * it. So "after the replica acknowledges a push, no new response serves the old version" holds if
 * the acknowledgement is sent after {@code put} returns.
 *
 * <p><b>Bounds and eviction.</b> At most {@code capacityBytes} (each object's {@link
 * WebObject#footprint()}) and {@code capacityEntries} objects. Eviction is CLOCK: an object hit
 * since the hand last passed it gets a second chance. Hits only bump a counter, so a hit takes no
 * lock; writers ({@code put}, {@code remove}, eviction) take one lock.
 *
 * <p><b>Metering.</b> Hits are counted per path (kept across versions of the path, dropped with it)
 * for the origin's hit metering, and in total. Misses are counted in total and per path for the
 * first {@code missPaths} distinct paths that missed (so a client asking for random paths cannot
 * grow the table); misses of further paths are counted as unmetered.
 */
public final class ObjectCache {
  /** What {@link #put} did. */
  public enum PutResult {
    /** The path was not cached; now it is. */
    STORED,
    /** An older or equal version was replaced. */
    REPLACED,
    /** The cache holds a newer version; the object was not stored. */
    STALE,
    /** The object alone is larger than the cache; not stored. */
    TOO_LARGE
  }

  /** Distinct paths whose misses are counted one by one, by default. */
  public static final int DEFAULT_MISS_PATHS = 1024;

  /** Totals, read together. */
  public record Stats(
      long hits,
      long misses,
      long missesUnmetered,
      long entries,
      long bytes,
      long stored,
      long replaced,
      long removed,
      long evicted,
      long staleRefused) {}

  /** Hit counter of one path; survives replacement of the path's object. */
  static final class Meter {
    final LongAdder hits = new LongAdder();
  }

  /** A cached object; {@code prev}, {@code next}, {@code seenHits} are guarded by the lock. */
  static final class Entry {
    final WebObject object;
    final Meter meter;
    Entry prev;
    Entry next;
    long seenHits;

    Entry(WebObject object, Meter meter) {
      this.object = object;
      this.meter = meter;
      this.seenHits = meter.hits.sum();
    }
  }

  private final long capacityBytes;
  private final int capacityEntries;
  private final ConcurrentHashMap<PathKey, Entry> map;
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder missesUnmetered = new LongAdder();
  private final int missPaths;
  private final ConcurrentHashMap<PathKey, LongAdder> missMeters = new ConcurrentHashMap<>();
  private final Object lock = new Object();
  // Guarded by lock: the CLOCK ring (circular, doubly linked) and the totals below.
  private Entry hand;
  private long bytes;
  private int entries;
  private long stored;
  private long replaced;
  private long removed;
  private long evicted;
  private long staleRefused;

  public ObjectCache(long capacityBytes, int capacityEntries) {
    this(capacityBytes, capacityEntries, DEFAULT_MISS_PATHS);
  }

  public ObjectCache(long capacityBytes, int capacityEntries, int missPaths) {
    if (capacityBytes <= 0 || capacityEntries <= 0 || missPaths < 0) {
      throw new IllegalArgumentException(
          "cache capacity must be positive: "
              + capacityBytes
              + " B, "
              + capacityEntries
              + " objects, "
              + missPaths
              + " metered miss paths");
    }
    this.missPaths = missPaths;
    this.capacityBytes = capacityBytes;
    this.capacityEntries = capacityEntries;
    this.map = new ConcurrentHashMap<>(Math.min(capacityEntries, 1 << 16));
  }

  /**
   * Stores {@code object} under its path, replacing an older or equal version atomically (see the
   * class comment), evicting others if needed. A newer cached version is kept ({@link
   * PutResult#STALE}), so a delayed push cannot roll a path back; {@link #remove} first to force.
   */
  public PutResult put(WebObject object) {
    long size = object.footprint();
    synchronized (lock) {
      if (size > capacityBytes) {
        return PutResult.TOO_LARGE;
      }
      Entry old = map.get(object.key());
      if (old != null && object.version() < old.object.version()) {
        staleRefused++;
        return PutResult.STALE;
      }
      Meter meter = old != null ? old.meter : new Meter();
      if (old != null) {
        unlink(old);
      }
      while (bytes + size > capacityBytes || entries + 1 > capacityEntries) {
        evictOne();
      }
      Entry e = new Entry(object, meter);
      link(e);
      map.put(object.key(), e); // the linearization point: lookups from here on see `object`
      if (old != null) {
        replaced++;
        return PutResult.REPLACED;
      }
      stored++;
      return PutResult.STORED;
    }
  }

  /** Drops {@code path}; true if it was cached. After it returns no new lookup finds it. */
  public boolean remove(String path) {
    synchronized (lock) {
      Entry e = map.remove(PathKey.of(path));
      if (e == null) {
        return false;
      }
      unlink(e);
      removed++;
      return true;
    }
  }

  /** The cached object for {@code path}, or null; not counted as a hit or miss. */
  public WebObject get(String path) {
    Entry e = map.get(PathKey.of(path));
    return e == null ? null : e.object;
  }

  /** The serving path's lookup: counts a hit (per path and total) or a miss. */
  WebObject lookup(PathKey path) {
    Entry e = map.get(path);
    if (e == null) {
      countMiss(path);
      return null;
    }
    e.meter.hits.increment();
    hits.increment();
    return e.object;
  }

  private void countMiss(PathKey path) {
    misses.increment();
    LongAdder m = missMeters.get(path);
    if (m == null) {
      if (missMeters.size() >= missPaths) {
        missesUnmetered.increment();
        return;
      }
      // Only a path's first miss allocates (its key); racing loops may pass the bound by at most
      // their number.
      m = missMeters.computeIfAbsent(path.freeze(), k -> new LongAdder());
    }
    m.increment();
  }

  /** Misses of {@code path} since it was first metered; 0 when not metered. */
  public long misses(String path) {
    LongAdder m = missMeters.get(PathKey.of(path));
    return m == null ? 0 : m.sum();
  }

  /** Misses per metered path: what clients asked for that the replica did not hold. */
  public Map<String, Long> missCounts() {
    Map<String, Long> m = new LinkedHashMap<>();
    missMeters.forEach((k, v) -> m.put(k.toString(), v.sum()));
    return m;
  }

  /** Hits of the path's cached object (all its versions); 0 when not cached. */
  public long hits(String path) {
    Entry e = map.get(PathKey.of(path));
    return e == null ? 0 : e.meter.hits.sum();
  }

  /** Hits per cached path, for the origin's hit metering. */
  public Map<String, Long> hitCounts() {
    Map<String, Long> m = new LinkedHashMap<>();
    for (Entry e : map.values()) {
      m.put(e.object.path(), e.meter.hits.sum());
    }
    return m;
  }

  public Stats stats() {
    synchronized (lock) {
      return new Stats(
          hits.sum(),
          misses.sum(),
          missesUnmetered.sum(),
          entries,
          bytes,
          stored,
          replaced,
          removed,
          evicted,
          staleRefused);
    }
  }

  public long capacityBytes() {
    return capacityBytes;
  }

  public int capacityEntries() {
    return capacityEntries;
  }

  private void evictOne() {
    // Terminates: a full turn clears every second chance, so the second turn finds a victim.
    while (true) {
      Entry e = hand;
      long h = e.meter.hits.sum();
      if (h != e.seenHits) {
        e.seenHits = h;
        hand = e.next;
        continue;
      }
      map.remove(e.object.key(), e);
      unlink(e);
      evicted++;
      return;
    }
  }

  private void link(Entry e) {
    // New entries go just behind the hand: the last the hand reaches.
    if (hand == null) {
      e.prev = e;
      e.next = e;
      hand = e;
    } else {
      e.next = hand;
      e.prev = hand.prev;
      hand.prev.next = e;
      hand.prev = e;
    }
    bytes += e.object.footprint();
    entries++;
  }

  private void unlink(Entry e) {
    if (e.next == e) {
      hand = null;
    } else {
      e.prev.next = e.next;
      e.next.prev = e.prev;
      if (hand == e) {
        hand = e.next;
      }
    }
    e.prev = null;
    e.next = null;
    bytes -= e.object.footprint();
    entries--;
  }
}
