package net.hydranet.forwarding.table;

import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import org.agrona.UnsafeAccess;

/**
 * The connection table: which target — 0 for the origin, else a host server's address — each
 * 5-tuple flow was given when it began, consulted before the consistent hash so that a flow stays
 * where it started while the host-server set changes (Katran's LRU map, IPVS's connection table).
 *
 * <p><b>Layout.</b> An open-addressing table (linear probing, backward-shift deletion, so no
 * tombstones) of twice the capacity in slots, each slot a 32-byte record held in place — no index
 * to follow — in one {@code long[]}:
 *
 * <pre>
 *   word 0  source << 32 | destination
 *   word 1  OCCUPIED (bit 63) | CLOSING (bit 62) | protocol << 32 | source port << 16 | dest. port
 *   word 2  deadline (nanoseconds)
 *   word 3  moved (the clock >> 20, about ms, when last moved to the list's head) << 32 | target
 * </pre>
 *
 * and, beside it, the {@code prev}/{@code next} slot numbers of a doubly-linked recency list whose
 * head is the most recently used. Records start 32-byte aligned within the array, so a record never
 * spans two cache lines when the array itself is line-aligned (G1 allocates arrays this large at a
 * region boundary). A hit then reads one record line and one link line, both addressed by the hash
 * alone, so the two misses overlap, and writes the links of its list neighbours (stores, which do
 * not stall the lookup). With the key in a separate index, as before, a hit at 1M flows cost about
 * nine dependent misses. 40 bytes a flow: 1M flows take 80 MiB, all allocated here. The look-ahead
 * ({@link #loadPrefetched}) reads a flow's home line and the next, which hold 95.6 % of the flows
 * found at half load (the probe of the other 4.4 % goes further).
 *
 * <p><b>Recency to within {@code recencyNanos}.</b> A hit refreshes the deadline every time but
 * moves the flow to the head of the list only if it was last moved at least {@code recencyNanos}
 * ago: the list is then ordered by that time, so eviction is least recently used to within that
 * much, and a busy flow's hits touch its own record only — not its neighbours' links, two more
 * cache-cold lines. With 0 (the two-argument constructor) every hit moves: exact LRU.
 *
 * <p><b>Bounded and allocation-free.</b> {@link #insert} into a full table evicts the least
 * recently used entry (the list's tail) and counts it; lookups of an entry past its deadline forget
 * it and count it expired; {@link #expire} pops expired entries from the tail a few at a time on
 * idle ticks. Nothing here allocates after construction. Forwarding thread only.
 *
 * <p><b>Entry numbers</b> ({@link #find}, {@link #insert}) are slot numbers: valid until the next
 * {@link #insert} or {@link #remove}, which may move entries along their probe chains.
 *
 * <p><b>Capacity 0</b> is a table that is off: it finds nothing and records nothing, so every
 * packet follows the consistent hash alone (stateless, like a redirector just restarted) — the
 * baseline the connection table's cost is measured against.
 */
public final class FlowTable {
  /** What {@link #find} returns for an unknown or expired flow. */
  public static final int NOT_FOUND = -1;

  private static final int EMPTY = -1;
  private static final long OCCUPIED = 1L << 63;
  private static final long CLOSING = 1L << 62;
  private static final long KEY_LO = (1L << 40) - 1;
  private static final int WORDS = 4;

  /** Longs before slot 0's record, so that records start 32-byte aligned after the array header. */
  private static final int PAD =
      ((32 - UnsafeAccess.UNSAFE.arrayBaseOffset(long[].class) % 32) % 32) / Long.BYTES;

  private static final int MOVED_SHIFT = 20;

  /** Flows one look-ahead pass notes at most ({@link #prefetch}); later notes are ignored. */
  public static final int PREFETCH_MAX = 32;

  private final int capacity;
  private final int recencyUnits;
  private final int mask;
  private final long[] records;
  private final int[] links;
  private int head = EMPTY;
  private int tail = EMPTY;
  private int size;

  private final Counters counters;
  private final int[] prefetched = new int[PREFETCH_MAX];
  private int prefetchCount;
  private long prefetchSink;
  private long created;
  private long expired;
  private long evicted;

  /**
   * A table of {@code capacity} flows, exact LRU, that counts what it does into {@code counters}.
   */
  public FlowTable(int capacity, Counters counters) {
    this(capacity, 0, counters);
  }

  /**
   * A table of {@code capacity} flows whose recency order is kept to within {@code recencyNanos}
   * (at most 2^50 ns, about 13 days), that counts what it does into {@code counters}.
   */
  public FlowTable(int capacity, long recencyNanos, Counters counters) {
    this.counters = counters;
    if (capacity < 0 || capacity > 1 << 28) {
      throw new IllegalArgumentException("flow capacity must be in [0, 2^28], was " + capacity);
    }
    if (recencyNanos < 0 || recencyNanos > 1L << 50) {
      throw new IllegalArgumentException("recency must be in [0, 2^50] ns, was " + recencyNanos);
    }
    this.capacity = capacity;
    this.recencyUnits = (int) (recencyNanos >>> MOVED_SHIFT);
    int slots = capacity == 0 ? 2 : Math.max(Integer.highestOneBit(capacity * 2 - 1) << 1, 2);
    this.mask = slots - 1;
    this.records = new long[PAD + slots * WORDS];
    this.links = new int[slots * 2];
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

  private static int record(int slot) {
    return PAD + slot * WORDS;
  }

  /**
   * The entry of a flow, or {@link #NOT_FOUND}; an entry whose deadline passed is removed and
   * counted expired. Does not refresh it: see {@link #touch}.
   */
  public int find(long hi, long lo, long now) {
    long tagged = lo | OCCUPIED;
    int slot = home(hi, lo);
    while (true) {
      int r = record(slot);
      long word = records[r + 1];
      if (word == 0) {
        return NOT_FOUND;
      }
      if ((word & ~CLOSING) == tagged && records[r] == hi) {
        if (now - records[r + 2] > 0) {
          remove(slot);
          expired++;
          counters.increment(Counter.FLOWS_EXPIRED);
          return NOT_FOUND;
        }
        return slot;
      }
      slot = (slot + 1) & mask;
    }
  }

  /**
   * Look-ahead, pass one: notes the slot where {@link #find} or {@link #insert} of this flow will
   * start, for {@link #loadPrefetched}. Changes nothing a lookup sees. A table of capacity 0 notes
   * nothing.
   */
  public void prefetch(long hi, long lo) {
    if (capacity != 0 && prefetchCount < PREFETCH_MAX) {
      prefetched[prefetchCount++] = home(hi, lo);
    }
  }

  /**
   * Look-ahead, end of pass one: reads, for every flow noted since the last call, the line of its
   * home slot and the line after it, all back to back, so that their cache misses overlap instead
   * of each packet waiting for its own (VPP's prefetch loops; Java has no prefetch instruction, so
   * it is a plain read, summed into a field so the compiler keeps it). At 1M flows a record is a
   * cache-cold line, a miss of about 200 ns here; read one at a time, each stalls its packet.
   *
   * <p>Why two lines: a line holds two records, and in a full table (half the slots taken) a linear
   * probe goes past its home line for about 18 % of the flows found (the home slot the second of
   * its line and taken by another flow, or both taken), 4.4 % past the next one too (simulated with
   * this hash: {@code test-harness/bench/mlp/lines-past-home.py}). Reading the home line alone left
   * those flows a miss of their own in pass two. The next line is read whatever the home line holds
   * — deciding from it would wait for it — and the two reads have no order between them: pass one
   * costs the same with two lines a flow as with one (FlowTableParts {@code ahead/16}, 23 ns a
   * flow; BENCHMARKS.md, "Where the look-ahead's time goes"). Changes nothing a lookup sees.
   *
   * @return how many flows' lines were read
   */
  public int loadPrefetched() {
    int n = prefetchCount;
    long sum = 0;
    for (int i = 0; i < n; i++) {
      int slot = prefetched[i];
      sum += records[record(slot) + 1] + records[record((slot + 2) & mask) + 1];
    }
    prefetchCount = 0;
    prefetchSink ^= sum;
    return n;
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
    int slot = home(hi, lo);
    while (records[record(slot) + 1] != 0) {
      slot = (slot + 1) & mask;
    }
    int r = record(slot);
    records[r] = hi;
    records[r + 1] = (lo & KEY_LO) | OCCUPIED;
    records[r + 2] = now + timeout;
    records[r + 3] = ((now >>> MOVED_SHIFT) << 32) | (flowTarget & 0xFFFFFFFFL);
    linkHead(slot);
    size++;
    created++;
    counters.increment(Counter.FLOWS_CREATED);
    return slot;
  }

  /**
   * Marks a use: the flow is live until {@code now + timeout}, and becomes the most recent unless
   * it did less than the recency granularity ago.
   */
  public void touch(int e, long now, long timeout) {
    int r = record(e);
    records[r + 2] = now + timeout;
    if (head != e) {
      long word = records[r + 3];
      int moved = (int) (now >>> MOVED_SHIFT);
      // Wraps after 2^31 units (about 26 days); a flow idle that long at worst misses one move.
      if (recencyUnits == 0 || moved - (int) (word >>> 32) >= recencyUnits) {
        records[r + 3] = ((long) moved << 32) | (word & 0xFFFFFFFFL);
        unlink(e);
        linkHead(e);
      }
    }
  }

  /** When the flow expires unless used again: the time of its last use plus the timeout given. */
  public long deadline(int e) {
    return records[record(e) + 2];
  }

  public int target(int e) {
    return (int) records[record(e) + 3];
  }

  public void target(int e, int flowTarget) {
    int r = record(e) + 3;
    records[r] = (records[r] & 0xFFFFFFFF00000000L) | (flowTarget & 0xFFFFFFFFL);
  }

  /** True once a FIN or RST was seen: a new SYN of the same 5-tuple starts a new flow. */
  public boolean closing(int e) {
    return (records[record(e) + 1] & CLOSING) != 0;
  }

  public void closing(int e, boolean value) {
    int r = record(e) + 1;
    records[r] = value ? records[r] | CLOSING : records[r] & ~CLOSING;
  }

  /**
   * Calls {@code visitor} with the target of every live flow (0 for the origin). Walks every slot:
   * for the operator's view ({@code hydranet ctl flows}), never on the hot path.
   */
  public void forEachLiveTarget(long now, java.util.function.IntConsumer visitor) {
    if (capacity == 0) {
      return;
    }
    for (int e = 0; e <= mask; e++) {
      int r = record(e);
      if ((records[r + 1] & OCCUPIED) != 0 && records[r + 2] - now > 0) {
        visitor.accept((int) records[r + 3]);
      }
    }
  }

  /** One live flow's service side and target, for {@link #forEachLiveFlow}. */
  @FunctionalInterface
  public interface LiveFlowVisitor {
    void visit(int destination, int protocol, int destinationPort, int target);
  }

  /**
   * Calls {@code visitor} with the destination, protocol, destination port and target of every live
   * flow: the per-service, per-host-server flow counts of the metrics and the status page. Walks
   * every slot like {@link #forEachLiveTarget}; never on the hot path.
   */
  public void forEachLiveFlow(long now, LiveFlowVisitor visitor) {
    forEachLiveFlow(now, 0, slots(), Integer.MAX_VALUE, visitor);
  }

  /**
   * The same for the slots from {@code from} on, up to {@code to} or until {@code maxFlows} live
   * flows were visited, whichever comes first: a census in slices, each short enough not to hold
   * the forwarding thread (a whole walk of a 1M-flow table takes milliseconds). Between slices
   * inserts and removals may move a flow along its probe chain, across the slice boundary, so a
   * census in slices may miss or count twice the few flows that moved while it ran.
   *
   * @return the slot to start the next slice at; {@code to} when the range is done
   */
  public int forEachLiveFlow(long now, int from, int to, int maxFlows, LiveFlowVisitor visitor) {
    if (from < 0 || to > slots() || from > to) {
      throw new IllegalArgumentException(
          "slots " + from + ".." + to + " of a table of " + slots() + " slots");
    }
    int visited = 0;
    for (int e = from; e < to; e++) {
      if (visited == maxFlows) {
        return e;
      }
      int r = record(e);
      long lo = records[r + 1];
      if ((lo & OCCUPIED) != 0 && records[r + 2] - now > 0) {
        visitor.visit(
            (int) records[r],
            (int) ((lo >>> 32) & 0xFF),
            (int) (lo & 0xFFFF),
            (int) records[r + 3]);
        visited++;
      }
    }
    return to;
  }

  /** Slots in the table (twice the capacity, rounded up to a power of two; 0 when off). */
  public int slots() {
    return capacity == 0 ? 0 : mask + 1;
  }

  /** Forgets a flow. */
  public void remove(int e) {
    unlink(e);
    // Backward-shift deletion (Knuth 6.4, Algorithm R): keep every probe chain unbroken.
    int hole = e;
    int j = e;
    while (true) {
      j = (j + 1) & mask;
      int r = record(j);
      long word = records[r + 1];
      if (word == 0) {
        break;
      }
      int k = home(records[r], word & KEY_LO);
      boolean between = hole <= j ? (hole < k && k <= j) : (hole < k || k <= j);
      if (!between) {
        move(j, hole);
        hole = j;
      }
    }
    int r = record(hole);
    records[r] = 0;
    records[r + 1] = 0;
    records[r + 2] = 0;
    records[r + 3] = 0;
    size--;
  }

  /** Moves a live entry to an empty slot, with its place in the recency list. */
  private void move(int from, int to) {
    int f = record(from);
    int t = record(to);
    records[t] = records[f];
    records[t + 1] = records[f + 1];
    records[t + 2] = records[f + 2];
    records[t + 3] = records[f + 3];
    int p = links[2 * from];
    int n = links[2 * from + 1];
    links[2 * to] = p;
    links[2 * to + 1] = n;
    if (p != EMPTY) {
      links[2 * p + 1] = to;
    } else {
      head = to;
    }
    if (n != EMPTY) {
      links[2 * n] = to;
    } else {
      tail = to;
    }
  }

  /** Flows a sweep may forget for each millisecond since the last ({@link #sweepBudget}). */
  public static final int SWEEP_PER_MILLI = 64;

  /**
   * How many expired flows a tick's sweep ({@link #expire}) may forget, {@code elapsedNanos} after
   * the last: {@link #SWEEP_PER_MILLI} a millisecond, at least that many and at most a hundred
   * milliseconds' worth. A pipeline ticks every millisecond while frames come and every 100 ms when
   * quiet (Pipeline.QUIET_TICK_MILLIS), so the table is swept as fast either way.
   */
  public static int sweepBudget(long elapsedNanos) {
    long millis = Math.max(1, Math.min(100, elapsedNanos / 1_000_000L));
    return (int) millis * SWEEP_PER_MILLI;
  }

  /**
   * Forgets up to {@code max} flows past their deadline from the least recently used end, for idle
   * ticks; stops at the first live one, so the cost is bounded whatever the table holds.
   *
   * @return how many were forgotten
   */
  public int expire(long now, int max) {
    int n = 0;
    while (n < max && tail != EMPTY && now - records[record(tail) + 2] > 0) {
      remove(tail);
      expired++;
      counters.increment(Counter.FLOWS_EXPIRED);
      n++;
    }
    return n;
  }

  private void linkHead(int e) {
    links[2 * e] = EMPTY;
    links[2 * e + 1] = head;
    if (head != EMPTY) {
      links[2 * head] = e;
    }
    head = e;
    if (tail == EMPTY) {
      tail = e;
    }
  }

  private void unlink(int e) {
    int p = links[2 * e];
    int n = links[2 * e + 1];
    if (p != EMPTY) {
      links[2 * p + 1] = n;
    } else {
      head = n;
    }
    if (n != EMPTY) {
      links[2 * n] = p;
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

  /** Flows forgotten because the table was full (least recently used first, to within recency). */
  public long evicted() {
    return evicted;
  }

  /** Bytes held by this table's arrays, fixed at construction. */
  public long footprintBytes() {
    return (long) records.length * Long.BYTES + (long) links.length * Integer.BYTES;
  }
}
