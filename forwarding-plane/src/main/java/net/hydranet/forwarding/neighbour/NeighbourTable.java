package net.hydranet.forwarding.neighbour;

import java.nio.ByteBuffer;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.collections.Int2IntHashMap;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * IPv4 → MAC for next hops (RFC 826, RFC 1122 §2.3.2), with a bounded queue of frames waiting for
 * an ARP reply. Fixed capacity, allocation-free after construction, used by the forwarding thread
 * only.
 *
 * <p>States: STATIC (from config, never expires), REACHABLE (learned, usable until its lifetime
 * ends; used past that, it is still used while a refresh request goes out, as Linux's STALE state
 * does, so a refresh loses no packet), INCOMPLETE (a request is out; frames wait). An INCOMPLETE
 * entry that stays unanswered after the configured retries is removed and its frames dropped.
 */
public final class NeighbourTable {
  public static final int NOT_FOUND = -1;

  static final byte FREE = 0;
  static final byte INCOMPLETE = 1;
  static final byte REACHABLE = 2;
  static final byte STATIC = 3;

  /** Result of {@link #resolve}: the MAC is known, send now. */
  public static final int RESOLVED = 0;

  /** Result of {@link #resolve}: the frame was queued; an ARP request may be due. */
  public static final int QUEUED = 1;

  /** Result of {@link #resolve}: no room to queue the frame; it is dropped. */
  public static final int QUEUE_FULL = 2;

  private final Int2IntHashMap index;
  private final int capacity;
  private final int[] address;
  private final long[] mac;
  private final int[] interfaceIndex;
  private final byte[] state;
  private final long[] expiresAt;
  private final long[] nextRequestAt;
  private final int[] requestsLeft;
  private final int[] queueHead;
  private final int[] queueTail;
  private final int[] queueLength;
  private final int[] freeEntries;
  private int freeEntryCount;

  private final int perNeighbourLimit;
  private final int retries;
  private final long retryNanos;
  private final long lifetimeNanos;

  // The pending-frame pool: fixed slots in one direct buffer, chained per neighbour.
  private final UnsafeBuffer pool;
  private final int poolSlotSize;
  private final int[] pendingLength;
  private final int[] pendingNext;
  private final int[] freePending;
  private int freePendingCount;

  private long nextDeadline = Long.MAX_VALUE;
  private long resolvedMac;
  private RemovalListener removalListener;

  public NeighbourTable(
      int capacity,
      int poolFrames,
      int poolSlotSize,
      int perNeighbourLimit,
      int retries,
      long retryNanos,
      long lifetimeNanos) {
    this.capacity = capacity;
    this.index = new Int2IntHashMap(capacity * 2, 0.5f, NOT_FOUND);
    this.address = new int[capacity];
    this.mac = new long[capacity];
    this.interfaceIndex = new int[capacity];
    this.state = new byte[capacity];
    this.expiresAt = new long[capacity];
    this.nextRequestAt = new long[capacity];
    this.requestsLeft = new int[capacity];
    this.queueHead = new int[capacity];
    this.queueTail = new int[capacity];
    this.queueLength = new int[capacity];
    this.freeEntries = new int[capacity];
    for (int i = 0; i < capacity; i++) {
      freeEntries[i] = capacity - 1 - i;
    }
    this.freeEntryCount = capacity;
    this.perNeighbourLimit = perNeighbourLimit;
    this.retries = retries;
    this.retryNanos = retryNanos;
    this.lifetimeNanos = lifetimeNanos;

    this.poolSlotSize = poolSlotSize;
    ByteBuffer memory = BufferUtil.allocateDirectAligned(poolFrames * poolSlotSize, 64);
    this.pool = new UnsafeBuffer(memory);
    this.pendingLength = new int[poolFrames];
    this.pendingNext = new int[poolFrames];
    this.freePending = new int[poolFrames];
    for (int i = 0; i < poolFrames; i++) {
      freePending[i] = poolFrames - 1 - i;
    }
    this.freePendingCount = poolFrames;
  }

  /** Adds or replaces a static entry (config): never expires, never re-requested. */
  public boolean putStatic(int ip, long macAddress, int ifIndex) {
    int entry = entryFor(ip, ifIndex);
    if (entry == NOT_FOUND) {
      return false;
    }
    state[entry] = STATIC;
    mac[entry] = macAddress;
    return true;
  }

  /** Removes an entry, dropping any frames it held; returns how many were dropped. */
  public int remove(int ip) {
    int entry = index.get(ip);
    if (entry == NOT_FOUND) {
      return 0;
    }
    int dropped = releaseQueue(entry);
    index.remove(ip);
    state[entry] = FREE;
    freeEntries[freeEntryCount++] = entry;
    if (removalListener != null) {
      removalListener.removed(ip);
    }
    return dropped;
  }

  /**
   * Is told of every key that leaves the table, removed or expired: for a table keyed by handles of
   * wider addresses ({@link Ipv6NeighbourTable}) to free the handle. Set once, before use.
   */
  public void removalListener(RemovalListener listener) {
    this.removalListener = listener;
  }

  /**
   * Is told of every neighbour learned from an ARP message ({@link #learn}), with the message's own
   * arguments: with several forwarding pipelines, ARP reaches one of them, and the others learn
   * through {@link #learnRelayed}. Set once, before use.
   */
  public void learnListener(LearnListener listener) {
    this.learnListener = listener;
  }

  private LearnListener learnListener;

  /**
   * Finds the MAC for {@code ip}; when unknown, copies the frame into the queue.
   *
   * <p>After {@link #RESOLVED}, {@link #resolvedMac()} holds the MAC. After {@link #QUEUED}, {@link
   * #requestDue(long)} says whether the caller should send an ARP request now (first use, or a
   * refresh of an old entry: then the frame is not queued but {@link #RESOLVED} is returned).
   */
  public int resolve(
      int ip, int ifIndex, DirectBuffer frame, int offset, int length, long timestampNanos) {
    int entry = index.get(ip);
    requestDueEntry = NOT_FOUND;
    if (entry != NOT_FOUND) {
      byte s = state[entry];
      if (s == STATIC) {
        resolvedMac = mac[entry];
        return RESOLVED;
      }
      if (s == REACHABLE) {
        resolvedMac = mac[entry];
        if (timestampNanos >= expiresAt[entry] && requestsLeft[entry] == 0) {
          // Past its lifetime: keep using it, and refresh it.
          startRequests(entry, timestampNanos);
        }
        return RESOLVED;
      }
    } else {
      entry = entryFor(ip, ifIndex);
      if (entry == NOT_FOUND) {
        return QUEUE_FULL;
      }
      state[entry] = INCOMPLETE;
      startRequests(entry, timestampNanos);
    }
    return enqueue(entry, frame, offset, length) ? QUEUED : QUEUE_FULL;
  }

  private int requestDueEntry = NOT_FOUND;

  private void startRequests(int entry, long now) {
    requestsLeft[entry] = retries;
    nextRequestAt[entry] = now;
    requestDueEntry = entry;
  }

  /** The MAC found by the last {@link #resolve} that returned {@link #RESOLVED}. */
  public long resolvedMac() {
    return resolvedMac;
  }

  /**
   * True when the last {@link #resolve} started a resolution: the caller sends an ARP request for
   * that address now (and {@link #noteRequestSent} records it).
   */
  public boolean requestDue() {
    return requestDueEntry != NOT_FOUND;
  }

  /** Records that a request for {@code ip} went out at {@code now}. */
  public void noteRequestSent(int ip, long now) {
    int entry = index.get(ip);
    if (entry == NOT_FOUND) {
      return;
    }
    requestsLeft[entry]--;
    nextRequestAt[entry] = now + retryNanos;
    nextDeadline = Math.min(nextDeadline, nextRequestAt[entry]);
  }

  /**
   * Learns {@code ip} at {@code macAddress} from an ARP message (RFC 826's merge step): updates an
   * existing entry, or creates one when {@code create} (the message was addressed to us). Frames
   * that waited for this neighbour are handed to {@code sink}, in order.
   *
   * @return the number of frames released
   */
  public int learn(
      int ip, long macAddress, int ifIndex, boolean create, long now, PendingSink sink) {
    return learn(ip, macAddress, ifIndex, create, now, lifetimeNanos, sink);
  }

  /**
   * {@link #learn(int, long, int, boolean, long, PendingSink)} with the entry's lifetime given: 0
   * makes it usable but due for a refresh on its next use (neighbour discovery's STALE state, RFC
   * 4861 §7.3.2, for an address learned without proof of two-way reachability).
   */
  public int learn(
      int ip,
      long macAddress,
      int ifIndex,
      boolean create,
      long now,
      long lifetimeNanos,
      PendingSink sink) {
    if (learnListener != null) {
      learnListener.learned(ip, macAddress, ifIndex, create);
    }
    return apply(ip, macAddress, ifIndex, create, now, lifetimeNanos, sink);
  }

  /**
   * What another table's {@link #learn} was told ({@link #learnListener}), applied here alike and
   * told to no listener; frames that waited for this neighbour go to {@code sink}.
   *
   * @return the number of frames released
   */
  public int learnRelayed(
      int ip, long macAddress, int ifIndex, boolean create, long now, PendingSink sink) {
    return apply(ip, macAddress, ifIndex, create, now, lifetimeNanos, sink);
  }

  private int apply(
      int ip,
      long macAddress,
      int ifIndex,
      boolean create,
      long now,
      long lifetimeNanos,
      PendingSink sink) {
    int entry = index.get(ip);
    if (entry == NOT_FOUND) {
      if (!create) {
        return 0;
      }
      entry = entryFor(ip, ifIndex);
      if (entry == NOT_FOUND) {
        return 0;
      }
    }
    if (state[entry] == STATIC) {
      return 0;
    }
    state[entry] = REACHABLE;
    mac[entry] = macAddress;
    interfaceIndex[entry] = ifIndex;
    expiresAt[entry] = now + lifetimeNanos;
    requestsLeft[entry] = 0;
    int released = 0;
    int p = queueHead[entry];
    while (queueLength[entry] > 0) {
      int next = pendingNext[p];
      sink.send(pool, p * poolSlotSize, pendingLength[p], ifIndex, macAddress);
      freePending[freePendingCount++] = p;
      queueLength[entry]--;
      released++;
      p = next;
    }
    return released;
  }

  /**
   * Runs the timers: re-sends due requests through {@code requests}, and removes entries whose
   * retries ran out (their frames are dropped). Cheap when nothing is due.
   *
   * @return frames dropped because their neighbour never answered
   */
  public int poll(long now, RequestSink requests) {
    if (now < nextDeadline) {
      return 0;
    }
    nextDeadline = Long.MAX_VALUE;
    int dropped = 0;
    for (int entry = 0; entry < capacity; entry++) {
      byte s = state[entry];
      if ((s != INCOMPLETE && s != REACHABLE) || requestsLeft[entry] < 0) {
        continue;
      }
      if (s == REACHABLE && requestsLeft[entry] == 0) {
        continue;
      }
      if (now >= nextRequestAt[entry]) {
        if (requestsLeft[entry] > 0) {
          requests.request(address[entry], interfaceIndex[entry]);
          requestsLeft[entry]--;
          nextRequestAt[entry] = now + retryNanos;
        } else {
          // Retries exhausted: forget the neighbour and what waited for it.
          int ip = address[entry];
          dropped += remove(ip);
          continue;
        }
      }
      nextDeadline = Math.min(nextDeadline, nextRequestAt[entry]);
    }
    return dropped;
  }

  /** Looks up without side effects: the MAC, or -1 when not usable. For tests and snapshots. */
  public long macOf(int ip) {
    int entry = index.get(ip);
    if (entry == NOT_FOUND || (state[entry] != STATIC && state[entry] != REACHABLE)) {
      return -1;
    }
    return mac[entry];
  }

  /** Frames waiting over all neighbours. */
  public int pendingFrames() {
    return pendingLength.length - freePendingCount;
  }

  public int size() {
    return capacity - freeEntryCount;
  }

  /** Visits every usable entry, for snapshots off the hot path. */
  public void forEach(EntryVisitor visitor) {
    for (int entry = 0; entry < capacity; entry++) {
      if (state[entry] == STATIC || state[entry] == REACHABLE) {
        visitor.visit(address[entry], mac[entry], interfaceIndex[entry], state[entry] == STATIC);
      }
    }
  }

  private int entryFor(int ip, int ifIndex) {
    int entry = index.get(ip);
    if (entry == NOT_FOUND) {
      if (freeEntryCount == 0) {
        return NOT_FOUND;
      }
      entry = freeEntries[--freeEntryCount];
      index.put(ip, entry);
      address[entry] = ip;
      queueLength[entry] = 0;
      requestsLeft[entry] = 0;
    }
    interfaceIndex[entry] = ifIndex;
    return entry;
  }

  private boolean enqueue(int entry, DirectBuffer frame, int offset, int length) {
    if (queueLength[entry] >= perNeighbourLimit || freePendingCount == 0) {
      return false;
    }
    if (length > poolSlotSize) {
      return false;
    }
    int p = freePending[--freePendingCount];
    pool.putBytes(p * poolSlotSize, frame, offset, length);
    pendingLength[p] = length;
    pendingNext[p] = -1;
    if (queueLength[entry] == 0) {
      queueHead[entry] = p;
    } else {
      pendingNext[queueTail[entry]] = p;
    }
    queueTail[entry] = p;
    queueLength[entry]++;
    return true;
  }

  private int releaseQueue(int entry) {
    int dropped = queueLength[entry];
    int p = queueHead[entry];
    while (queueLength[entry] > 0) {
      int next = pendingNext[p];
      freePending[freePendingCount++] = p;
      queueLength[entry]--;
      p = next;
    }
    return dropped;
  }

  /** Receives frames released by an ARP reply; the link header's destination is still blank. */
  @FunctionalInterface
  public interface PendingSink {
    void send(MutableDirectBuffer buffer, int offset, int length, int ifIndex, long mac);
  }

  /** Sends an ARP request for a neighbour. */
  @FunctionalInterface
  public interface RequestSink {
    void request(int ip, int ifIndex);
  }

  /** Told of a neighbour learned from an ARP message. */
  @FunctionalInterface
  public interface LearnListener {
    void learned(int ip, long mac, int ifIndex, boolean create);
  }

  /** Told of a key that left the table. */
  @FunctionalInterface
  public interface RemovalListener {
    void removed(int key);
  }

  /** Visits a table entry. */
  @FunctionalInterface
  public interface EntryVisitor {
    void visit(int ip, long mac, int ifIndex, boolean isStatic);
  }
}
