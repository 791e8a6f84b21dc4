package net.hydranet.forwarding.element;

import net.hydranet.forwarding.wire.Ipv4Header;
import org.agrona.BufferUtil;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Reassembles IPv4 fragments (RFC 791 §3.2, "Reassembly") in bounded memory: a fixed number of
 * contexts keyed by (source, destination, id, protocol), each with a buffer of at most {@code
 * maxDatagram} bytes and a bitmap of the 8-byte blocks received.
 *
 * <p>Hostile input cannot grow it: a datagram longer than the bound, a fragment that overlaps one
 * already held (RFC 5722's rule, applied to IPv4 as Linux does since the teardrop attacks), or more
 * fragments than a datagram can have, each discards the context and is counted; a context that does
 * not complete within its timeout is freed; when every context is busy the oldest is evicted — a
 * flood of one id costs one context, never the others.
 */
public final class IpReassembler {
  /** Result of {@link #offer}: the fragment was held; nothing to deliver yet. */
  public static final int HELD = 0;

  /** Result of {@link #offer}: the datagram is complete at {@link #buffer()}. */
  public static final int COMPLETE = 1;

  /** Result of {@link #offer}: the fragment (and its context) was dropped and counted. */
  public static final int DROPPED = 2;

  private static final int BUFFER_OFFSET = 64;

  private final int contexts;
  private final int maxDatagram;
  private final long timeoutNanos;
  private final int maxFragments;
  private final UnsafeBuffer memory;
  private final int slotSize;
  private final int[] source;
  private final int[] destination;
  private final int[] id;
  private final int[] protocol;
  private final boolean[] used;
  private final long[] createdAt;
  private final int[] totalDataLength;
  private final int[] receivedBytes;
  private final int[] fragments;
  private final int[] headerLength;
  private final long[] blocks;
  private final int blockWords;
  private final UnsafeBuffer result;
  private final Stats stats = new Stats();

  /** What the reassembler did, for the caller's counters. */
  public static final class Stats {
    public long held;
    public long completed;
    public long timedOut;
    public long overlaps;
    public long tooLarge;
    public long tooMany;
    public long evicted;
  }

  public IpReassembler(int contexts, int maxDatagram, long timeoutNanos) {
    this.contexts = contexts;
    this.maxDatagram = maxDatagram;
    this.timeoutNanos = timeoutNanos;
    this.maxFragments = (maxDatagram + 7) / 8;
    this.slotSize = (BUFFER_OFFSET + maxDatagram + 63) & ~63;
    this.memory = new UnsafeBuffer(BufferUtil.allocateDirectAligned(contexts * slotSize, 64));
    this.source = new int[contexts];
    this.destination = new int[contexts];
    this.id = new int[contexts];
    this.protocol = new int[contexts];
    this.used = new boolean[contexts];
    this.createdAt = new long[contexts];
    this.totalDataLength = new int[contexts];
    this.receivedBytes = new int[contexts];
    this.fragments = new int[contexts];
    this.headerLength = new int[contexts];
    this.blockWords = (maxFragments + 63) / 64;
    this.blocks = new long[contexts * blockWords];
    this.result = new UnsafeBuffer(0, 0);
  }

  public Stats stats() {
    return stats;
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

  /** Bytes of buffer held, fixed at construction whatever arrives. */
  public long memoryBytes() {
    return (long) contexts * slotSize + blocks.length * 8L;
  }

  /**
   * Offers one fragment (a valid IPv4 header at {@code offset}, checked by the caller).
   *
   * @return {@link #HELD}, {@link #COMPLETE} (then {@link #buffer()}, {@link #offset()} and the
   *     datagram's total length in its header) or {@link #DROPPED}
   */
  public int offer(DirectBuffer buffer, int offset, long now) {
    expire(now);
    int src = Ipv4Header.source(buffer, offset);
    int dst = Ipv4Header.destination(buffer, offset);
    int ident = Ipv4Header.id(buffer, offset);
    int proto = Ipv4Header.protocol(buffer, offset);
    int ihl = Ipv4Header.headerLength(buffer, offset);
    int total = Ipv4Header.totalLength(buffer, offset);
    int dataLength = total - ihl;
    int fragmentOffset = Ipv4Header.fragmentOffset(buffer, offset);
    boolean more = (Ipv4Header.flagsFragment(buffer, offset) & Ipv4Header.FLAG_MF) != 0;
    int c = find(src, dst, ident, proto);
    if ((more && (dataLength & 7) != 0) || dataLength <= 0) {
      // RFC 791: every fragment but the last carries a multiple of 8 bytes.
      if (c >= 0) {
        free(c);
      }
      stats.tooMany++;
      return DROPPED;
    }
    if (fragmentOffset + dataLength + Ipv4Header.MAX_LENGTH > maxDatagram) {
      if (c >= 0) {
        free(c);
      }
      stats.tooLarge++;
      return DROPPED;
    }
    if (c < 0) {
      c = allocate(now);
      source[c] = src;
      destination[c] = dst;
      id[c] = ident;
      protocol[c] = proto;
    }
    int firstBlock = fragmentOffset >>> 3;
    int lastBlock = (fragmentOffset + dataLength - 1) >>> 3;
    int base = c * blockWords;
    for (int b = firstBlock; b <= lastBlock; b++) {
      if ((blocks[base + (b >>> 6)] & (1L << (b & 63))) != 0) {
        free(c);
        stats.overlaps++;
        return DROPPED;
      }
    }
    if (!more) {
      if (totalDataLength[c] >= 0) {
        free(c);
        stats.overlaps++;
        return DROPPED;
      }
      totalDataLength[c] = fragmentOffset + dataLength;
    } else if (totalDataLength[c] >= 0 && fragmentOffset + dataLength > totalDataLength[c]) {
      free(c);
      stats.overlaps++;
      return DROPPED;
    }
    if (++fragments[c] > maxFragments) {
      free(c);
      stats.tooMany++;
      return DROPPED;
    }
    for (int b = firstBlock; b <= lastBlock; b++) {
      blocks[base + (b >>> 6)] |= 1L << (b & 63);
    }
    int slot = c * slotSize + BUFFER_OFFSET + Ipv4Header.MAX_LENGTH;
    memory.putBytes(slot + fragmentOffset, buffer, offset + ihl, dataLength);
    if (fragmentOffset == 0) {
      headerLength[c] = ihl;
      memory.putBytes(slot - ihl, buffer, offset, ihl);
    }
    receivedBytes[c] += dataLength;
    if (totalDataLength[c] >= 0 && receivedBytes[c] == totalDataLength[c] && headerLength[c] > 0) {
      int start = slot - headerLength[c];
      int length = headerLength[c] + totalDataLength[c];
      Ipv4Header.totalLength(memory, start, length);
      Ipv4Header.flagsFragment(memory, start, 0);
      Ipv4Header.updateChecksum(memory, start);
      result.wrap(memory, start, length);
      free(c);
      stats.completed++;
      return COMPLETE;
    }
    stats.held++;
    return HELD;
  }

  /** The completed datagram after {@link #COMPLETE}; valid until the next offer. */
  public UnsafeBuffer buffer() {
    return result;
  }

  private int find(int src, int dst, int ident, int proto) {
    for (int c = 0; c < contexts; c++) {
      if (used[c]
          && id[c] == ident
          && source[c] == src
          && destination[c] == dst
          && protocol[c] == proto) {
        return c;
      }
    }
    return -1;
  }

  private int allocate(long now) {
    int oldest = 0;
    for (int c = 0; c < contexts; c++) {
      if (!used[c]) {
        return reset(c, now);
      }
      if (createdAt[c] < createdAt[oldest]) {
        oldest = c;
      }
    }
    stats.evicted++;
    return reset(oldest, now);
  }

  private int reset(int c, long now) {
    used[c] = true;
    createdAt[c] = now;
    totalDataLength[c] = -1;
    receivedBytes[c] = 0;
    fragments[c] = 0;
    headerLength[c] = 0;
    for (int w = 0; w < blockWords; w++) {
      blocks[c * blockWords + w] = 0;
    }
    return c;
  }

  private void free(int c) {
    used[c] = false;
  }

  private void expire(long now) {
    for (int c = 0; c < contexts; c++) {
      if (used[c] && now - createdAt[c] > timeoutNanos) {
        free(c);
        stats.timedOut++;
      }
    }
  }
}
