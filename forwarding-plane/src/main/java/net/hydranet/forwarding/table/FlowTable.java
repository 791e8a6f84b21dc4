package net.hydranet.forwarding.table;

import java.util.Arrays;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;

/**
 * The connection table: which target — 0 for the origin, else a host server's address — each
 * 5-tuple flow was given when it began, consulted before the consistent hash so that a flow stays
 * where it started while the host-server set changes (Katran's LRU map, IPVS's connection table).
 *
 * <p><b>Layout.</b> Entries live in flat arrays indexed by entry number: the key as two longs
 * ({@code source << 32 | destination}, {@code protocol << 32 | sourcePort << 16 |
 * destinationPort}), the target, an expiry deadline, a closing flag, and {@code prev}/{@code next}
 * links of a doubly-linked recency list whose head is the most recently used. An open-addressing
 * index of twice the capacity (linear probing, backward-shift deletion, so no tombstones) maps a
 * key's hash to its entry. About 45 bytes a flow: 1M flows take 45 MiB, all allocated here.
 *
 * <p><b>Bounded and allocation-free.</b> {@link #insert} into a full table evicts the least
 * recently used entry (the list's tail) and counts it; lookups of an entry past its deadline forget
 * it and count it expired; {@link #expire} pops expired entries from the tail a few at a time on
 * idle ticks. Nothing here allocates after construction. Forwarding thread only.
 *
 * <p><b>Capacity 0</b> is a table that is off: it finds nothing and records nothing, so every
 * packet follows the consistent hash alone (stateless, like a redirector just restarted) — the
 * baseline the connection table's cost is measured against.
 */
public final class FlowTable {
  /** What {@link #find} returns for an unknown or expired flow. */
  public static final int NOT_FOUND = -1;

  private static final int EMPTY = -1;

  private final int capacity;
  private final int[] index;
  private final int mask;
  private final long[] keyHi;
  private final long[] keyLo;
  private final int[] target;
  private final long[] deadline;
  private final boolean[] closing;
  private final int[] prev;
  private final int[] next;
  private int head = EMPTY;
  private int tail = EMPTY;
  private int freeHead;
  private int size;

  private final Counters counters;
  private long created;
  private long expired;
  private long evicted;

  /** A table of {@code capacity} flows that counts what it does into {@code counters}. */
  public FlowTable(int capacity, Counters counters) {
    this.counters = counters;
    if (capacity < 0 || capacity > 1 << 28) {
      throw new IllegalArgumentException("flow capacity must be in [0, 2^28], was " + capacity);
    }
    this.capacity = capacity;
    int slots = capacity == 0 ? 2 : Integer.highestOneBit(capacity * 2 - 1) << 1;
    this.index = new int[Math.max(slots, 2)];
    Arrays.fill(index, EMPTY);
    this.mask = index.length - 1;
    this.keyHi = new long[capacity];
    this.keyLo = new long[capacity];
    this.target = new int[capacity];
    this.deadline = new long[capacity];
    this.closing = new boolean[capacity];
    this.prev = new int[capacity];
    this.next = new int[capacity];
    for (int i = 0; i < capacity; i++) {
      next[i] = i + 1 < capacity ? i + 1 : EMPTY;
    }
    this.freeHead = 0;
  }

  /** The first half of a flow key. */
  public static long keyHi(int source, int destination) {
    return ((long) source << 32) | (destination & 0xFFFFFFFFL);
  }

  /** The second half of a flow key. */
  public static long keyLo(int protocol, int sourcePort, int destinationPort) {
    return ((long) (protocol & 0xFF) << 32)
        | ((sourcePort & 0xFFFFL) << 16)
        | (destinationPort & 0xFFFFL);
  }

  private int home(long hi, long lo) {
    // murmur3's fmix64 over both halves: the key's varying bits (often only the source's, in the
    // high half) must reach the low bits the mask keeps, or probe chains grow long.
    long h = hi * 0x9E3779B97F4A7C15L + lo;
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return (int) h & mask;
  }

  /**
   * The entry of a flow, or {@link #NOT_FOUND}; an entry whose deadline passed is removed and
   * counted expired. Does not refresh it: see {@link #touch}.
   */
  public int find(long hi, long lo, long now) {
    int slot = home(hi, lo);
    while (true) {
      int e = index[slot];
      if (e == EMPTY) {
        return NOT_FOUND;
      }
      if (keyHi[e] == hi && keyLo[e] == lo) {
        if (now - deadline[e] > 0) {
          remove(e);
          expired++;
          counters.increment(Counter.FLOWS_EXPIRED);
          return NOT_FOUND;
        }
        return e;
      }
      slot = (slot + 1) & mask;
    }
  }

  /**
   * Records a new flow (the caller found none) with {@code target}, live until {@code now +
   * timeout}; evicts the least recently used flow when full. A table of capacity 0 records nothing
   * and returns {@link #NOT_FOUND}.
   */
  public int insert(long hi, long lo, int flowTarget, long now, long timeout) {
    if (capacity == 0) {
      return NOT_FOUND;
    }
    if (size == capacity) {
      remove(tail);
      evicted++;
      counters.increment(Counter.FLOWS_EVICTED);
    }
    int e = freeHead;
    freeHead = next[e];
    keyHi[e] = hi;
    keyLo[e] = lo;
    target[e] = flowTarget;
    closing[e] = false;
    deadline[e] = now + timeout;
    int slot = home(hi, lo);
    while (index[slot] != EMPTY) {
      slot = (slot + 1) & mask;
    }
    index[slot] = e;
    linkHead(e);
    size++;
    created++;
    counters.increment(Counter.FLOWS_CREATED);
    return e;
  }

  /** Marks a use: the flow becomes the most recent, live until {@code now + timeout}. */
  public void touch(int e, long now, long timeout) {
    deadline[e] = now + timeout;
    if (head != e) {
      unlink(e);
      linkHead(e);
    }
  }

  public int target(int e) {
    return target[e];
  }

  public void target(int e, int flowTarget) {
    target[e] = flowTarget;
  }

  /** True once a FIN or RST was seen: a new SYN of the same 5-tuple starts a new flow. */
  public boolean closing(int e) {
    return closing[e];
  }

  public void closing(int e, boolean value) {
    closing[e] = value;
  }

  /** Forgets a flow. */
  public void remove(int e) {
    int slot = home(keyHi[e], keyLo[e]);
    while (index[slot] != e) {
      slot = (slot + 1) & mask;
    }
    // Backward-shift deletion (Knuth 6.4, Algorithm R): keep every probe chain unbroken.
    int hole = slot;
    int j = slot;
    while (true) {
      j = (j + 1) & mask;
      int moved = index[j];
      if (moved == EMPTY) {
        break;
      }
      int k = home(keyHi[moved], keyLo[moved]);
      boolean between = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j);
      if (!between) {
        index[hole] = moved;
        hole = j;
      }
    }
    index[hole] = EMPTY;
    unlink(e);
    next[e] = freeHead;
    freeHead = e;
    size--;
  }

  /**
   * Forgets up to {@code max} flows past their deadline from the least recently used end, for idle
   * ticks; stops at the first live one, so the cost is bounded whatever the table holds.
   *
   * @return how many were forgotten
   */
  public int expire(long now, int max) {
    int n = 0;
    while (n < max && tail != EMPTY && now - deadline[tail] > 0) {
      remove(tail);
      expired++;
      counters.increment(Counter.FLOWS_EXPIRED);
      n++;
    }
    return n;
  }

  private void linkHead(int e) {
    prev[e] = EMPTY;
    next[e] = head;
    if (head != EMPTY) {
      prev[head] = e;
    }
    head = e;
    if (tail == EMPTY) {
      tail = e;
    }
  }

  private void unlink(int e) {
    int p = prev[e];
    int n = next[e];
    if (p != EMPTY) {
      next[p] = n;
    } else {
      head = n;
    }
    if (n != EMPTY) {
      prev[n] = p;
    } else {
      tail = p;
    }
  }

  public int size() {
    return size;
  }

  public int capacity() {
    return capacity;
  }

  /** Flows recorded since construction. */
  public long created() {
    return created;
  }

  /** Flows forgotten because their idle deadline passed. */
  public long expired() {
    return expired;
  }

  /** Flows forgotten because the table was full (least recently used first). */
  public long evicted() {
    return evicted;
  }

  /** Bytes held by this table's arrays, fixed at construction. */
  public long footprintBytes() {
    return (long) index.length * Integer.BYTES
        + (long) capacity * (2L * Long.BYTES + Integer.BYTES + Long.BYTES + 1 + 2L * Integer.BYTES);
  }
}
