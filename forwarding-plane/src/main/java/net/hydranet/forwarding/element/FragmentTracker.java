package net.hydranet.forwarding.element;

import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6FragmentHeader;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Makes the fragments of a datagram follow its first fragment, without reassembling: the first
 * fragment carries the ports, so the redirector decides there (origin or a host server) and records
 * the decision under (source, destination, IP id, protocol) — for IPv6 (source, destination,
 * identification), RFC 8200 §4.5, in a tracker of its own — and non-first fragments look it up. A
 * non-first fragment that comes before its first is held in a bounded buffer until the first
 * arrives, then released behind it; if the first never comes, it is dropped when the context times
 * out.
 *
 * <p>Bounded whatever arrives (the hostile cases of RFC 1858 and of teardrop): a fixed number of
 * contexts, each with a bitmap of the 8-byte blocks seen, so an overlapping fragment is dropped
 * (RFC 5722's rule, applied to IPv4 as Linux does) without freeing the context; at most {@link
 * #MAX_FRAGMENTS} fragments per datagram and {@link #MAX_HELD_PER_DATAGRAM} held, so a flood of one
 * id costs one context and a few held slots, never another datagram's state; a full context table
 * evicts its oldest. Lookup is a scan of the contexts — fine for the few hundred we keep, and
 * fragments are rare on the wire. Nothing here allocates after construction.
 */
public final class FragmentTracker {
  /** {@link #other}: the datagram's decision is known, see {@link #target} and {@link #service}. */
  public static final int FOLLOW = 0;

  /** {@link #other}: held until the first fragment arrives. */
  public static final int HELD = 1;

  /** {@link #first} or {@link #other}: dropped (overlap, too many, no room); counted. */
  public static final int DROPPED = 2;

  /** Fragments one datagram may have: a 64 KiB datagram over a 576-byte MTU needs 118. */
  public static final int MAX_FRAGMENTS = 128;

  /** Early fragments held for one datagram. */
  public static final int MAX_HELD_PER_DATAGRAM = 16;

  private static final int BLOCK_WORDS = 8192 / 64; // 8-byte blocks of a 64 KiB datagram
  private static final int HEADROOM = 64;

  /** Receives held fragments when their first fragment's decision is known. */
  @FunctionalInterface
  public interface ReleaseSink {
    void release(MutableDirectBuffer buffer, int ipOffset, int target, int service);
  }

  /**
   * Receives held IPv6 fragments: the packet at {@code ip}, its fragment header at {@code
   * fragment}, its fragment data from {@code upper} for {@code upperLength} bytes.
   */
  @FunctionalInterface
  public interface ReleaseSink6 {
    void release(
        MutableDirectBuffer buffer,
        int ip,
        int upper,
        int upperLength,
        int fragment,
        int target,
        int service);
  }

  private final Counters counters;
  private final int contexts;
  private final long timeoutNanos;
  // The datagram's key: IPv4 (source << 32 | destination, 0, 0, 0, id << 8 | protocol); IPv6
  // (source high, source low, destination high, destination low, identification).
  private final long[] key0;
  private final long[] key1;
  private final long[] key2;
  private final long[] key3;
  private final int[] key4;
  private final boolean[] used;
  private final long[] createdAt;
  private final boolean[] decided;
  private final int[] target;
  private final int[] service;
  private final int[] fragments;
  private final int[] heldCount;
  private final long[] blocks;
  private final int slots;
  private final int slotSize;
  private final UnsafeBuffer memory;
  private final int[] heldBy;
  private final long[] heldSequence;
  // An IPv6 held fragment's layout, relative to its packet: fragment header, data, data length.
  private final int[] heldFragment;
  private final int[] heldUpper;
  private final int[] heldUpperLength;
  private long sequence;
  private int held;
  private int lastContext = -1;

  /**
   * @param contexts datagrams whose decision is remembered at once
   * @param slots early fragments held at once, over all datagrams
   * @param maxDatagram the largest fragment held, in bytes of IP datagram
   */
  public FragmentTracker(
      Counters counters, int contexts, int slots, int maxDatagram, long timeoutNanos) {
    this.counters = counters;
    this.contexts = contexts;
    this.timeoutNanos = timeoutNanos;
    this.key0 = new long[contexts];
    this.key1 = new long[contexts];
    this.key2 = new long[contexts];
    this.key3 = new long[contexts];
    this.key4 = new int[contexts];
    this.used = new boolean[contexts];
    this.createdAt = new long[contexts];
    this.decided = new boolean[contexts];
    this.target = new int[contexts];
    this.service = new int[contexts];
    this.fragments = new int[contexts];
    this.heldCount = new int[contexts];
    this.blocks = new long[contexts * BLOCK_WORDS];
    this.slots = slots;
    this.slotSize = (HEADROOM + maxDatagram + 63) & ~63;
    this.memory = new UnsafeBuffer(BufferUtil.allocateDirectAligned(slots * slotSize, 64));
    this.heldBy = new int[slots];
    java.util.Arrays.fill(heldBy, -1);
    this.heldSequence = new long[slots];
    this.heldFragment = new int[slots];
    this.heldUpper = new int[slots];
    this.heldUpperLength = new int[slots];
  }

  /**
   * Records the decision of a first fragment (offset 0, more-fragments set).
   *
   * @return the context, to pass to {@link #release} once the first fragment is sent, or -1 when it
   *     repeats or overlaps what was seen (then drop it: counted here)
   */
  public int first(DirectBuffer buffer, int ip, long now, int decision, int serviceIndex) {
    expire(now);
    int c = findOrAllocate4(buffer, ip, now);
    if (!mark(c, Ipv4Header.fragmentOffset(buffer, ip), data4(buffer, ip))) {
      return -1;
    }
    return decide(c, decision, serviceIndex);
  }

  /**
   * {@link #first} for an IPv6 first fragment (offset 0, M set), described by {@code packet}:
   * addresses, fragment header, upper layer.
   */
  public int first6(
      DirectBuffer buffer, PacketContext packet, long now, int decision, int serviceIndex) {
    expire(now);
    int c = findOrAllocate6(buffer, packet, now);
    if (!mark(c, 0, data6(packet))) {
      return -1;
    }
    return decide(c, decision, serviceIndex);
  }

  private int decide(int c, int decision, int serviceIndex) {
    decided[c] = true;
    target[c] = decision;
    service[c] = serviceIndex;
    return c;
  }

  /**
   * Offers a non-first fragment.
   *
   * @return {@link #FOLLOW} (then {@link #target()} and {@link #service()}), {@link #HELD} or
   *     {@link #DROPPED}
   */
  public int other(DirectBuffer buffer, int ip, long now) {
    expire(now);
    int c = findOrAllocate4(buffer, ip, now);
    if (!mark(c, Ipv4Header.fragmentOffset(buffer, ip), data4(buffer, ip))) {
      return DROPPED;
    }
    if (decided[c]) {
      return follow(c);
    }
    int slot = hold(c, buffer, ip, Ipv4Header.totalLength(buffer, ip));
    return slot < 0 ? DROPPED : HELD;
  }

  /** {@link #other} for an IPv6 non-first fragment described by {@code packet}. */
  public int other6(DirectBuffer buffer, PacketContext packet, long now) {
    expire(now);
    int c = findOrAllocate6(buffer, packet, now);
    int fragment = packet.fragment6;
    if (!mark(c, Ipv6FragmentHeader.fragmentOffset(buffer, fragment), data6(packet))) {
      return DROPPED;
    }
    if (decided[c]) {
      return follow(c);
    }
    int ip = packet.l3;
    int slot = hold(c, buffer, ip, packet.upper + packet.upperLength - ip);
    if (slot < 0) {
      return DROPPED;
    }
    heldFragment[slot] = fragment - ip;
    heldUpper[slot] = packet.upper - ip;
    heldUpperLength[slot] = packet.upperLength;
    return HELD;
  }

  private int follow(int c) {
    lastContext = c;
    counters.increment(Counter.FRAGMENTS_MATCHED);
    return FOLLOW;
  }

  /** Copies the datagram into a free slot for context {@code c}: the slot, or -1 (counted). */
  private int hold(int c, DirectBuffer buffer, int ip, int length) {
    int slot = freeSlot();
    if (heldCount[c] >= MAX_HELD_PER_DATAGRAM || slot < 0 || HEADROOM + length > slotSize) {
      counters.increment(Counter.FRAGMENTS_DROPPED);
      return -1;
    }
    memory.putBytes(slot * slotSize + HEADROOM, buffer, ip, length);
    heldBy[slot] = c;
    heldSequence[slot] = sequence++;
    heldCount[c]++;
    held++;
    counters.increment(Counter.FRAGMENTS_HELD);
    return slot;
  }

  /** The decision a {@link #FOLLOW} fragment follows: 0 for the origin, else a host server. */
  public int target() {
    return target[lastContext];
  }

  /** The service index of the {@link #FOLLOW} fragment's datagram, or -1. */
  public int service() {
    return service[lastContext];
  }

  /** Hands every fragment held for context {@code c} to {@code sink}, in arrival order. */
  public void release(int c, ReleaseSink sink) {
    while (heldCount[c] > 0) {
      int oldest = takeOldest(c);
      sink.release(memory, oldest * slotSize + HEADROOM, target[c], service[c]);
    }
  }

  /** {@link #release} for a context of {@link #first6}: each held IPv6 fragment with its layout. */
  public void release6(int c, ReleaseSink6 sink) {
    while (heldCount[c] > 0) {
      int oldest = takeOldest(c);
      int ip = oldest * slotSize + HEADROOM;
      sink.release(
          memory,
          ip,
          ip + heldUpper[oldest],
          heldUpperLength[oldest],
          ip + heldFragment[oldest],
          target[c],
          service[c]);
    }
  }

  /** Frees the oldest slot held for {@code c} (counted matched) and returns it. */
  private int takeOldest(int c) {
    int oldest = -1;
    for (int s = 0; s < slots; s++) {
      if (heldBy[s] == c && (oldest < 0 || heldSequence[s] < heldSequence[oldest])) {
        oldest = s;
      }
    }
    heldBy[oldest] = -1;
    heldCount[c]--;
    held--;
    counters.increment(Counter.FRAGMENTS_MATCHED);
    return oldest;
  }

  /** Frees contexts (and drops their held fragments) older than the timeout. */
  public void expire(long now) {
    for (int c = 0; c < contexts; c++) {
      if (used[c] && now - createdAt[c] > timeoutNanos) {
        free(c);
      }
    }
  }

  /** Fragments held now, waiting for their first: bounded by the slot count. */
  public int held() {
    return held;
  }

  /** Contexts in use: bounded by construction. */
  public int inUse() {
    int n = 0;
    for (boolean u : used) {
      if (u) {
        n++;
      }
    }
    return n;
  }

  /** Bytes this tracker holds, fixed at construction whatever arrives. */
  public long memoryBytes() {
    return (long) slots * slotSize + blocks.length * 8L + contexts * 72L + slots * 24L;
  }

  private int findOrAllocate4(DirectBuffer buffer, int ip, long now) {
    long addresses =
        ((long) Ipv4Header.source(buffer, ip) << 32)
            | (Ipv4Header.destination(buffer, ip) & 0xFFFF_FFFFL);
    int idProtocol = (Ipv4Header.id(buffer, ip) << 8) | Ipv4Header.protocol(buffer, ip);
    return findOrAllocate(addresses, 0, 0, 0, idProtocol, now);
  }

  private int findOrAllocate6(DirectBuffer buffer, PacketContext packet, long now) {
    return findOrAllocate(
        packet.source6High,
        packet.source6Low,
        packet.destination6High,
        packet.destination6Low,
        Ipv6FragmentHeader.identification(buffer, packet.fragment6),
        now);
  }

  /** Fragment data bytes of an IPv4 fragment. */
  private static int data4(DirectBuffer buffer, int ip) {
    return Ipv4Header.totalLength(buffer, ip) - Ipv4Header.headerLength(buffer, ip);
  }

  /** Fragment data bytes of an IPv6 fragment: the packet after its fragment header. */
  private static int data6(PacketContext packet) {
    return packet.upper + packet.upperLength - (packet.fragment6 + Ipv6FragmentHeader.LENGTH);
  }

  private int findOrAllocate(long k0, long k1, long k2, long k3, int k4, long now) {
    int oldest = -1;
    int free = -1;
    for (int c = 0; c < contexts; c++) {
      if (!used[c]) {
        if (free < 0) {
          free = c;
        }
      } else if (key4[c] == k4
          && key0[c] == k0
          && key1[c] == k1
          && key2[c] == k2
          && key3[c] == k3) {
        return c;
      } else if (oldest < 0 || createdAt[c] < createdAt[oldest]) {
        oldest = c;
      }
    }
    int c = free >= 0 ? free : oldest;
    if (free < 0) {
      free(c);
    }
    used[c] = true;
    key0[c] = k0;
    key1[c] = k1;
    key2[c] = k2;
    key3[c] = k3;
    key4[c] = k4;
    createdAt[c] = now;
    decided[c] = false;
    target[c] = 0;
    service[c] = -1;
    fragments[c] = 0;
    heldCount[c] = 0;
    java.util.Arrays.fill(blocks, c * BLOCK_WORDS, (c + 1) * BLOCK_WORDS, 0L);
    return c;
  }

  /** Marks a fragment's blocks as seen; false (counted) when it overlaps or is one too many. */
  private boolean mark(int c, int offset, int data) {
    if (data <= 0 || ++fragments[c] > MAX_FRAGMENTS) {
      counters.increment(Counter.FRAGMENTS_DROPPED);
      return false;
    }
    int firstBlock = offset >>> 3;
    int lastBlock = Math.min((offset + data - 1) >>> 3, BLOCK_WORDS * 64 - 1);
    int base = c * BLOCK_WORDS;
    for (int b = firstBlock; b <= lastBlock; b++) {
      if ((blocks[base + (b >>> 6)] & (1L << (b & 63))) != 0) {
        counters.increment(Counter.FRAGMENTS_DROPPED);
        return false;
      }
    }
    for (int b = firstBlock; b <= lastBlock; b++) {
      blocks[base + (b >>> 6)] |= 1L << (b & 63);
    }
    return true;
  }

  private int freeSlot() {
    for (int s = 0; s < slots; s++) {
      if (heldBy[s] < 0) {
        return s;
      }
    }
    return -1;
  }

  private void free(int c) {
    if (heldCount[c] > 0) {
      for (int s = 0; s < slots; s++) {
        if (heldBy[s] == c) {
          heldBy[s] = -1;
          held--;
          counters.increment(Counter.FRAGMENTS_TIMED_OUT);
          counters.increment(Counter.DROP_FRAGMENT_UNMATCHED);
        }
      }
      heldCount[c] = 0;
    }
    used[c] = false;
  }
}
