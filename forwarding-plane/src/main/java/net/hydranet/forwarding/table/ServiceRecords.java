package net.hydranet.forwarding.table;

import java.util.Arrays;
import org.agrona.BitUtil;
import org.agrona.BufferUtil;
import org.agrona.collections.Int2IntHashMap;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The memory of the {@link RedirectorTable}: its flat preallocated arrays, their layout, and the
 * read-only views of one service that snapshots for metrics and {@code hydranet ctl} use, off the
 * hot path.
 *
 * <p><b>Layout.</b> The key is packed into one {@code long} by {@link #key(int, int, int)}, and an
 * Agrona {@link Long2LongHashMap} (open addressing, linear probing, key and value side by side in
 * one {@code long[]}, so a probe touches one cache line) maps it to the service index. We use
 * Agrona's map rather than our own open addressing because its layout is the one we would write
 * (not measured against a hand-written one); it is presized at load factor 0.5 so it never rehashes
 * and probe chains stay short.
 *
 * <p>Service {@code s} owns one record of {@code 2 + 2 × maxHostServers} ints in {@code records}:
 *
 * <pre>
 * | count | total weight | host 0 | weight 0 | host 1 | weight 1 | ... |
 * </pre>
 *
 * so {@link ServiceLookup#select} reads one or two cache lines after the map probe instead of one
 * per array (rough loop timing, not JMH: 1M services, random keys, lookup + select fell from
 * 200-270 ns with four separate arrays to 100-160 ns, nearly all of it cache misses). Freed service
 * indices go on a free list and are reused, newest first.
 *
 * <p><b>Memory</b> (see {@link #footprintBytes()}): per service {@code 8 × maxHostServers + 36}
 * bytes of records, key, free list and counters, plus 32 to 64 bytes of map slots: 2M services with
 * 8 host servers take 264 MiB, 1M take 127 MiB. Each service in use adds its Maglev lookup table,
 * one byte per entry ({@link Maglev#DEFAULT_SIZE} = 4,093: 4 KiB; 65,536 services, 256 MiB), built
 * by the control side only for services put through the forwarding plane, so a sparse table pays
 * only for what it holds ({@link #lookupBytes()}).
 *
 * <p>The table is one object split by job into a chain of classes — these arrays, then {@link
 * ServiceLookup} (the per-packet read side), then {@link RedirectorTable} (the single writer) — and
 * not into objects that hold each other, so that a lookup loads the same fields from the same
 * object as it did when it was one class: no extra object hop, no interface call on the hot path.
 */
public abstract class ServiceRecords {
  /** What a lookup returns for a key that is not in the table. */
  public static final int NOT_FOUND = -1;

  /** Largest capacity: keeps the counters' direct buffer and the map's array within int indices. */
  public static final int MAX_CAPACITY = 1 << 26;

  /**
   * Services whose host servers are also counted one by one (IPVS's per-real-server stats): the
   * first this many service indices, which is every service of a table this small or smaller. More
   * (service, host server) series than 4,096 × {@code maxHostServers} would be more than a
   * Prometheus should scrape from one redirector; the per-service counters cover every service.
   */
  public static final int TARGET_COUNTED_SERVICES = 4_096;

  /**
   * IPv6 services a table holds at most (fewer when the table is smaller): their index costs 48
   * bytes a service in two {@link Ipv6KeyMap}s, allocated up front like everything here.
   */
  public static final int DEFAULT_IPV6_CAPACITY = 1 << 16;

  static final long FREE = -1L;

  /**
   * Marks an IPv6 service's entry in {@code keys}: its protocol and port stay in the low 24 bits as
   * for IPv4, its address is in {@code addressHighs}/{@code addressLows}. No IPv4 key reaches bit
   * 60 (the address ends at bit 55), so the two kinds never meet.
   */
  static final long IPV6 = 1L << 60;

  static final int COUNTER_SHIFT = 4; // 16 bytes per service: packets, then bytes
  static final int BYTES_OFFSET = 8;
  private static final float LOAD_FACTOR = 0.5f;
  // Offsets in a service's record; host server i is at HOSTS + 2i, its weight at HOSTS + 2i + 1.
  static final int COUNT = 0;
  static final int TOTAL_WEIGHT = 1;
  static final int HOSTS = 2;

  final int capacity;
  final int maxHostServers;
  final Long2LongHashMap index;
  final long[] keys;
  final int recordLength;
  final int[] records;
  final UnsafeBuffer counters;
  // Per (service < targetCounted, host-server slot): packets, then bytes; 16 bytes a slot.
  final int targetCounted;
  final UnsafeBuffer targetCounters;
  // Scratch for put: the counters each new slot carries over from the same host's old slot.
  final long[] carry;
  final int[] freeServices;
  final int maglevSize;
  // Per service: its Maglev lookup table of host-server slot indices, built off the hot path.
  final byte[][] lookups;
  // Address → number of services on it: the addresses whose TCP flows the connection table tracks.
  final Int2IntHashMap addresses;
  // IPv6 services (control-plane/IPV6.md §3): a second index into the same service records, keyed
  // by (address high, address low, protocol << 16 | port); and IPv6 address → services on it.
  final int capacity6;
  final Ipv6KeyMap index6;
  final Ipv6KeyMap addresses6;
  // An IPv6 service's address, in a slot of its own (16 bytes per IPv6 service, none per IPv4
  // one): the slot number is in its key, bits 24 and up.
  final long[] addressHighs;
  final long[] addressLows;
  final int[] freeSlots6;
  int freeSlot6Count;
  int freeCount;
  int highWater;

  /** Checks the sizes and allocates all memory; see {@link RedirectorTable#RedirectorTable}. */
  ServiceRecords(int capacity, int maxHostServers, int maglevSize) {
    if (!Maglev.isPrime(maglevSize)) {
      throw new IllegalArgumentException("maglevSize must be a prime, was " + maglevSize);
    }
    if (maxHostServers > Maglev.MAX_HOST_SERVERS) {
      throw new IllegalArgumentException(
          "maxHostServers must be at most " + Maglev.MAX_HOST_SERVERS + ", was " + maxHostServers);
    }
    if (capacity < 1 || capacity > MAX_CAPACITY) {
      throw new IllegalArgumentException(
          "capacity must be in [1, " + MAX_CAPACITY + "], was " + capacity);
    }
    if (maxHostServers < 1
        || (long) capacity * (HOSTS + 2L * maxHostServers) > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "maxHostServers must be >= 1 and capacity × (2 + 2 × maxHostServers) must fit an array,"
              + " was "
              + maxHostServers);
    }
    this.capacity = capacity;
    this.maxHostServers = maxHostServers;
    this.index = new Long2LongHashMap((int) (capacity / LOAD_FACTOR), LOAD_FACTOR, NOT_FOUND);
    this.keys = new long[capacity];
    Arrays.fill(keys, FREE);
    this.recordLength = HOSTS + 2 * maxHostServers;
    this.records = new int[capacity * recordLength];
    this.counters =
        new UnsafeBuffer(
            BufferUtil.allocateDirectAligned(capacity << COUNTER_SHIFT, BitUtil.CACHE_LINE_LENGTH));
    this.targetCounted = Math.min(capacity, TARGET_COUNTED_SERVICES);
    this.targetCounters =
        new UnsafeBuffer(
            BufferUtil.allocateDirectAligned(
                (targetCounted * maxHostServers) << COUNTER_SHIFT, BitUtil.CACHE_LINE_LENGTH));
    this.carry = new long[2 * maxHostServers];
    this.freeServices = new int[capacity];
    this.maglevSize = maglevSize;
    this.lookups = new byte[capacity][];
    this.addresses = new Int2IntHashMap(Math.min(capacity, 1 << 16) * 2, LOAD_FACTOR, 0);
    this.capacity6 = Math.min(capacity, DEFAULT_IPV6_CAPACITY);
    this.index6 = new Ipv6KeyMap(capacity6);
    this.addresses6 = new Ipv6KeyMap(capacity6);
    this.addressHighs = new long[capacity6];
    this.addressLows = new long[capacity6];
    this.freeSlots6 = new int[capacity6];
    for (int i = 0; i < capacity6; i++) {
      freeSlots6[i] = capacity6 - 1 - i;
    }
    this.freeSlot6Count = capacity6;
  }

  /** The packed key: address in bits 55..24, protocol in 23..16, port in 15..0. */
  public static long key(int address, int protocol, int port) {
    return ((address & 0xFFFFFFFFL) << 24) | ((protocol & 0xFFL) << 16) | (port & 0xFFFFL);
  }

  /**
   * Protocol in [0, 255], port in [0, 65535]: {@link #key} masks them, so (a, 256, p) would alias
   * (a, 0, p) in lookup, remove and setWeight (found by TableFuzzTest). One compare on the hot
   * path.
   */
  static boolean inRange(int protocol, int port) {
    return ((protocol >>> 8) | (port >>> 16)) == 0;
  }

  static int slot6(long key) {
    return (int) (key >>> 24) & 0xFF_FFFF;
  }

  /** The address family of a service: 4 or 6. */
  public final int family(int service) {
    return (keys[service] & IPV6) != 0 ? 6 : 4;
  }

  /** The high 64 bits of an IPv6 service's address (0 for an IPv4 service). */
  public final long addressHigh(int service) {
    final long key = keys[service];
    return (key & IPV6) != 0 ? addressHighs[slot6(key)] : 0;
  }

  /** The low 64 bits of an IPv6 service's address (0 for an IPv4 service). */
  public final long addressLow(int service) {
    final long key = keys[service];
    return (key & IPV6) != 0 ? addressLows[slot6(key)] : 0;
  }

  /** The IPv4 address of an IPv4 service; 0 for an IPv6 service (see {@link #family}). */
  public final int address(int service) {
    return (keys[service] & IPV6) != 0 ? 0 : (int) (keys[service] >>> 24);
  }

  public final int protocol(int service) {
    return (int) (keys[service] >>> 16) & 0xFF;
  }

  public final int port(int service) {
    return (int) keys[service] & 0xFFFF;
  }

  /** True when the service chooses by a Maglev lookup table. */
  public final boolean hasLookup(int service) {
    return lookups[service] != null;
  }

  /** Entries of each service's Maglev lookup table. */
  public final int maglevSize() {
    return maglevSize;
  }

  public final int hostServerCount(int service) {
    return records[service * recordLength + COUNT];
  }

  /** Host server {@code i} of {@code service}, {@code 0 <= i < hostServerCount(service)}. */
  public final int hostServer(int service, int i) {
    return records[service * recordLength + HOSTS + 2 * i];
  }

  /** Weight of host server {@code i} of {@code service}; 0 means draining. */
  public final int weight(int service, int i) {
    return records[service * recordLength + HOSTS + 2 * i + 1];
  }

  /**
   * Packets counted for host server {@code slot} (as in {@link #hostServer}) of {@code service}; 0
   * past {@link #TARGET_COUNTED_SERVICES}. Safe to call from any thread.
   */
  public final long packets(int service, int slot) {
    return service < targetCounted
        ? targetCounters.getLongVolatile((service * maxHostServers + slot) << COUNTER_SHIFT)
        : 0;
  }

  /**
   * Bytes counted for host server {@code slot} of {@code service}; see {@link #packets(int, int)}.
   */
  public final long bytes(int service, int slot) {
    return service < targetCounted
        ? targetCounters.getLongVolatile(
            ((service * maxHostServers + slot) << COUNTER_SHIFT) + BYTES_OFFSET)
        : 0;
  }

  /** Whether {@link ServiceLookup#count(int, int, int)} counts {@code service} per host server. */
  public final boolean countsHostServers(int service) {
    return service < targetCounted;
  }

  /** Packets counted for {@code service}; safe to call from any thread. */
  public final long packets(int service) {
    return counters.getLongVolatile(service << COUNTER_SHIFT);
  }

  /** Bytes counted for {@code service}; safe to call from any thread. */
  public final long bytes(int service) {
    return counters.getLongVolatile((service << COUNTER_SHIFT) + BYTES_OFFSET);
  }

  /** Number of services in the table, of both families. */
  public final int size() {
    return index.size() + index6.size();
  }

  /** Number of IPv6 services in the table. */
  public final int size6() {
    return index6.size();
  }

  public final int capacity() {
    return capacity;
  }

  public final int maxHostServers() {
    return maxHostServers;
  }

  /** Visits every service in use, in index order; for snapshots, off the hot path. */
  public final void forEach(ServiceVisitor visitor) {
    final int highWater = this.highWater;
    for (int service = 0; service < highWater; service++) {
      if (keys[service] != FREE) {
        visitor.visit(service);
      }
    }
  }

  /** Bytes held by this table's arrays and buffers, computed from their sizes. */
  public final long footprintBytes() {
    return (long) index.capacity() * 2 * Long.BYTES
        + (long) keys.length * Long.BYTES
        + ((long) records.length + freeServices.length) * Integer.BYTES
        + counters.capacity()
        + targetCounters.capacity()
        + (long) carry.length * Long.BYTES
        + (long) lookups.length * 8
        + 2L * index6.footprintBytes()
        + (long) capacity6 * (2 * Long.BYTES + Integer.BYTES);
  }

  /** Bytes of the Maglev lookup tables installed now: {@link #maglevSize()} per service. */
  public final long lookupBytes() {
    long sum = 0;
    for (byte[] lookup : lookups) {
      sum += lookup == null ? 0 : lookup.length;
    }
    return sum;
  }
}
