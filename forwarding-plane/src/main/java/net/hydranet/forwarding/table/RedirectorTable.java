package net.hydranet.forwarding.table;

import java.util.Arrays;
import net.hydranet.forwarding.wire.Ipv6Header;
import org.agrona.BitUtil;
import org.agrona.BufferUtil;
import org.agrona.collections.Int2IntHashMap;
import org.agrona.collections.Long2LongHashMap;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The redirector table: maps a replicated service (IPv4 destination, protocol, port) to a service
 * index whose host servers, weights and counters live in flat preallocated arrays.
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
 * so {@link #select} reads one or two cache lines after the map probe instead of one per array
 * (rough loop timing, not JMH: 1M services, random keys, lookup + select fell from 200-270 ns with
 * four separate arrays to 100-160 ns, nearly all of it cache misses). Freed service indices go on a
 * free list and are reused, newest first.
 *
 * <p><b>Why a lookup never sees a torn update.</b> The only writer is the forwarding thread itself:
 * other threads never call {@link #put}, {@link #remove} or {@link #setWeight}; they queue a
 * command, and the forwarding thread applies queued control-plane commands between packets. So a
 * {@link #lookup} or {@link #select} never runs concurrently with an update, and the arrays need no
 * locks, fences or versioning. The per-service counters are the one exception: a metrics thread may
 * read them at any time, see {@link #count}.
 *
 * <p><b>Memory</b> (see {@link #footprintBytes()}): per service {@code 8 × maxHostServers + 36}
 * bytes of records, key, free list and counters, plus 32 to 64 bytes of map slots: 2M services with
 * 8 host servers take 264 MiB, 1M take 127 MiB. Each service in use adds its Maglev lookup table,
 * one byte per entry ({@link Maglev#DEFAULT_SIZE} = 4,093: 4 KiB; 65,536 services, 256 MiB), built
 * by the control side only for services put through the forwarding plane, so a sparse table pays
 * only for what it holds ({@link #lookupBytes()}).
 *
 * <p>A rejected change throws {@link IllegalStateException} and leaves the table unchanged, so the
 * command handler can count it and carry on.
 */
public final class RedirectorTable {
  /** What {@link #lookup} returns for a key that is not in the table. */
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

  private static final long FREE = -1L;

  /**
   * Marks an IPv6 service's entry in {@code keys}: its protocol and port stay in the low 24 bits as
   * for IPv4, its address is in {@code addressHighs}/{@code addressLows}. No IPv4 key reaches bit
   * 60 (the address ends at bit 55), so the two kinds never meet.
   */
  private static final long IPV6 = 1L << 60;

  private static final int COUNTER_SHIFT = 4; // 16 bytes per service: packets, then bytes
  private static final int BYTES_OFFSET = 8;
  private static final float LOAD_FACTOR = 0.5f;
  // Offsets in a service's record; host server i is at HOSTS + 2i, its weight at HOSTS + 2i + 1.
  private static final int COUNT = 0;
  private static final int TOTAL_WEIGHT = 1;
  private static final int HOSTS = 2;

  private final int capacity;
  private final int maxHostServers;
  private final Long2LongHashMap index;
  private final long[] keys;
  private final int recordLength;
  private final int[] records;
  private final UnsafeBuffer counters;
  // Per (service < targetCounted, host-server slot): packets, then bytes; 16 bytes a slot.
  private final int targetCounted;
  private final UnsafeBuffer targetCounters;
  // Scratch for put: the counters each new slot carries over from the same host's old slot.
  private final long[] carry;
  private final int[] freeServices;
  private final int maglevSize;
  // Per service: its Maglev lookup table of host-server slot indices, built off the hot path.
  private final byte[][] lookups;
  // Address → number of services on it: the addresses whose TCP flows the connection table tracks.
  private final Int2IntHashMap addresses;
  // IPv6 services (control-plane/IPV6.md §3): a second index into the same service records, keyed
  // by (address high, address low, protocol << 16 | port); and IPv6 address → services on it.
  private final int capacity6;
  private final Ipv6KeyMap index6;
  private final Ipv6KeyMap addresses6;
  // An IPv6 service's address, in a slot of its own (16 bytes per IPv6 service, none per IPv4
  // one): the slot number is in its key, bits 24 and up.
  private final long[] addressHighs;
  private final long[] addressLows;
  private final int[] freeSlots6;
  private int freeSlot6Count;
  private int freeCount;
  private int highWater;

  /**
   * A table for up to {@code capacity} services of up to {@code maxHostServers} host servers each;
   * all memory is allocated here.
   */
  public RedirectorTable(int capacity, int maxHostServers) {
    this(capacity, maxHostServers, Maglev.DEFAULT_SIZE);
  }

  /**
   * As {@link #RedirectorTable(int, int)}, with Maglev lookup tables of {@code maglevSize} entries
   * (a prime) per service.
   */
  public RedirectorTable(int capacity, int maxHostServers, int maglevSize) {
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

  /**
   * IPv6 services a table holds at most (fewer when the table is smaller): their index costs 48
   * bytes a service in two {@link Ipv6KeyMap}s, allocated up front like everything here.
   */
  public static final int DEFAULT_IPV6_CAPACITY = 1 << 16;

  /** The address family of a service: 4 or 6. */
  public int family(int service) {
    return (keys[service] & IPV6) != 0 ? 6 : 4;
  }

  /** The high 64 bits of an IPv6 service's address (0 for an IPv4 service). */
  public long addressHigh(int service) {
    final long key = keys[service];
    return (key & IPV6) != 0 ? addressHighs[slot6(key)] : 0;
  }

  /** The low 64 bits of an IPv6 service's address (0 for an IPv4 service). */
  public long addressLow(int service) {
    final long key = keys[service];
    return (key & IPV6) != 0 ? addressLows[slot6(key)] : 0;
  }

  private static int slot6(long key) {
    return (int) (key >>> 24) & 0xFF_FFFF;
  }

  /**
   * The service index for an IPv6 destination, or {@link #NOT_FOUND}: one probe of three compares.
   * Allocation-free.
   */
  public int lookup6(long high, long low, int protocol, int port) {
    if (!inRange(protocol, port)) {
      return NOT_FOUND;
    }
    return index6.get(high, low, (protocol << 16) | port);
  }

  /** True when some service has this IPv6 address. Allocation-free. */
  public boolean isServiceAddress6(long high, long low) {
    return addresses6.get(high, low, 0) != Ipv6KeyMap.MISSING;
  }

  /**
   * Adds an IPv6 service, or replaces the host-server set of an existing one: everything as {@link
   * #put(int, int, int, int[], int[], int, byte[])}, the host servers included (IPv4 addresses of
   * host servers, reached by IPv6-in-IPv4; or ids of IPv6 host servers, see {@code
   * ForwardingPlane#ipv6HostServer}). IPv4 and IPv6 services share the capacity and the index
   * space. Forwarding thread only.
   *
   * @throws IllegalStateException as {@code put}, and when the address is not a global unicast one
   *     (unspecified, loopback, link-local, multicast) or the IPv6 index is full
   */
  public int put6(
      long high,
      long low,
      int protocol,
      int port,
      int[] hostServers,
      int[] weights,
      int count,
      byte[] lookup) {
    if (Ipv6Header.isUnspecified(high, low)
        || Ipv6Header.isLoopback(high, low)
        || Ipv6Header.isLinkLocal(high)
        || Ipv6Header.isMulticast(high)) {
      throw new IllegalStateException(
          Ipv6Header.formatAddress(high, low) + " is not a global unicast address");
    }
    checkPut(protocol, port, hostServers, weights, count, lookup);
    final int tag = (protocol << 16) | port;
    int service = index6.get(high, low, tag);
    final boolean added = service == Ipv6KeyMap.MISSING;
    if (added) {
      if (size() == capacity) {
        throw new IllegalStateException("redirector table is full: capacity " + capacity);
      }
      if (index6.size() == capacity6) {
        throw new IllegalStateException("IPv6 services are full: capacity " + capacity6);
      }
      service = freeCount > 0 ? freeServices[--freeCount] : highWater++;
      final int slot = freeSlots6[--freeSlot6Count];
      keys[service] = IPV6 | ((long) slot << 24) | tag;
      addressHighs[slot] = high;
      addressLows[slot] = low;
      counters.putLongOrdered(service << COUNTER_SHIFT, 0L);
      counters.putLongOrdered((service << COUNTER_SHIFT) + BYTES_OFFSET, 0L);
      index6.put(high, low, tag, service);
      int onAddress = addresses6.get(high, low, 0);
      addresses6.put(high, low, 0, onAddress == Ipv6KeyMap.MISSING ? 1 : onAddress + 1);
    }
    writeRecord(service, added, hostServers, weights, count, lookup);
    return service;
  }

  /** Removes an IPv6 service and frees its index for reuse. Forwarding thread only. */
  public boolean remove6(long high, long low, int protocol, int port) {
    if (!inRange(protocol, port)) {
      return false;
    }
    final int service = index6.remove(high, low, (protocol << 16) | port);
    if (service == Ipv6KeyMap.MISSING) {
      return false;
    }
    final int left = addresses6.get(high, low, 0) - 1;
    if (left == 0) {
      addresses6.remove(high, low, 0);
    } else {
      addresses6.put(high, low, 0, left);
    }
    freeSlots6[freeSlot6Count++] = slot6(keys[service]);
    free(service);
    return true;
  }

  /**
   * Sets the weight of one host server of an IPv6 service; as {@link #setWeight(int, int, int, int,
   * int)}.
   */
  public boolean setWeight6(
      long high, long low, int protocol, int port, int hostServer, int weight) {
    if (weight < 0) {
      throw new IllegalStateException("weight " + weight + " < 0");
    }
    final int service = lookup6(high, low, protocol, port);
    return service != NOT_FOUND && setWeight(service, hostServer, weight);
  }

  /** The packed key: address in bits 55..24, protocol in 23..16, port in 15..0. */
  public static long key(int address, int protocol, int port) {
    return ((address & 0xFFFFFFFFL) << 24) | ((protocol & 0xFFL) << 16) | (port & 0xFFFFL);
  }

  /** The service index for a destination, or {@link #NOT_FOUND}. Allocation-free. */
  public int lookup(int address, int protocol, int port) {
    if (!inRange(protocol, port)) {
      return NOT_FOUND;
    }
    return (int) index.get(key(address, protocol, port));
  }

  /**
   * Protocol in [0, 255], port in [0, 65535]: {@link #key} masks them, so (a, 256, p) would alias
   * (a, 0, p) in lookup, remove and setWeight (found by TableFuzzTest). One compare on the hot
   * path.
   */
  private static boolean inRange(int protocol, int port) {
    return ((protocol >>> 8) | (port >>> 16)) == 0;
  }

  /**
   * Chooses a host server for a flow: by the service's Maglev lookup table when it has one (every
   * service the forwarding plane installs does), the same for the same hash and the same
   * host-server set and weights on every redirector; otherwise (a table filled directly, as unit
   * tests and tools do) by weight intervals, still the same for the same hash but not minimally
   * disruptive. Host servers of weight 0 (draining) are never chosen. No allocation.
   *
   * <p>Intervals: {@code hash × total >>> 32} maps the hash onto {@code [0, total)} without a
   * division; the chosen host server is the one whose weight interval holds that point.
   *
   * @return the host server's address, or 0 when every weight is 0.
   */
  public int select(int service, int flowHash) {
    final int[] records = this.records;
    final int record = service * recordLength;
    final byte[] lookup = lookups[service];
    if (lookup != null) {
      final int slot = lookup[Maglev.entry(flowHash, lookup.length)];
      return slot < 0 ? 0 : records[record + HOSTS + 2 * slot];
    }
    final int total = records[record + TOTAL_WEIGHT];
    if (total == 0) {
      return 0;
    }
    int point = (int) (((flowHash & 0xFFFFFFFFL) * total) >>> 32);
    final int end = record + HOSTS + 2 * records[record + COUNT];
    for (int i = record + HOSTS; i < end; i += 2) {
      point -= records[i + 1];
      if (point < 0) {
        return records[i];
      }
    }
    return 0; // unreachable: the total weight is the sum of the weights
  }

  /** True when the service chooses by a Maglev lookup table. */
  public boolean hasLookup(int service) {
    return lookups[service] != null;
  }

  /**
   * True when some service has this address: the origins whose flows the connection table pins,
   * whatever their port. Allocation-free.
   */
  public boolean isServiceAddress(int address) {
    return addresses.get(address) != 0;
  }

  /** True when {@code hostServer} is in the service's set, draining or not. Allocation-free. */
  public boolean hasHostServer(int service, int hostServer) {
    final int record = service * recordLength;
    final int end = record + HOSTS + 2 * records[record + COUNT];
    for (int i = record + HOSTS; i < end; i += 2) {
      if (records[i] == hostServer) {
        return true;
      }
    }
    return false;
  }

  /** Entries of each service's Maglev lookup table. */
  public int maglevSize() {
    return maglevSize;
  }

  public int hostServerCount(int service) {
    return records[service * recordLength + COUNT];
  }

  /** Host server {@code i} of {@code service}, {@code 0 <= i < hostServerCount(service)}. */
  public int hostServer(int service, int i) {
    return records[service * recordLength + HOSTS + 2 * i];
  }

  /** Weight of host server {@code i} of {@code service}; 0 means draining. */
  public int weight(int service, int i) {
    return records[service * recordLength + HOSTS + 2 * i + 1];
  }

  /** The IPv4 address of an IPv4 service; 0 for an IPv6 service (see {@link #family}). */
  public int address(int service) {
    return (keys[service] & IPV6) != 0 ? 0 : (int) (keys[service] >>> 24);
  }

  public int protocol(int service) {
    return (int) (keys[service] >>> 16) & 0xFF;
  }

  public int port(int service) {
    return (int) keys[service] & 0xFFFF;
  }

  /**
   * Counts one packet of {@code bytes} bytes. Only the forwarding thread calls this, so the plain
   * load inside {@code addLongOrdered} is current; the store is a release store ({@code
   * putLongOrdered}, Agrona 1.x's name for it) because the metrics thread reads the counter
   * concurrently with {@link #packets}: the JLS (§17.7) lets a plain long write tear, and a release
   * store publishes the value without a full fence (on x86 it is an ordinary store). Packets and
   * bytes are two stores, so a reader may briefly see one packet without its bytes.
   */
  public void count(int service, int bytes) {
    final int offset = service << COUNTER_SHIFT;
    counters.addLongOrdered(offset, 1);
    counters.addLongOrdered(offset + BYTES_OFFSET, bytes);
  }

  /**
   * Counts one packet of {@code bytes} bytes for {@code service} and, when the service is among the
   * first {@link #TARGET_COUNTED_SERVICES}, for the host server it went to. The forwarding path
   * calls this once per redirected packet, after the send. The host server's slot is found by a
   * scan of the service's record, the one or two cache lines {@link #select} has just read; a host
   * server no longer in the record (a flow pinned to it) is counted for the service only.
   */
  public void count(int service, int hostServer, int bytes) {
    count(service, bytes);
    if (service >= targetCounted) {
      return;
    }
    final int record = service * recordLength;
    final int end = record + HOSTS + 2 * records[record + COUNT];
    for (int i = record + HOSTS, slot = 0; i < end; i += 2, slot++) {
      if (records[i] == hostServer) {
        final int offset = (service * maxHostServers + slot) << COUNTER_SHIFT;
        targetCounters.addLongOrdered(offset, 1);
        targetCounters.addLongOrdered(offset + BYTES_OFFSET, bytes);
        return;
      }
    }
  }

  /**
   * Packets counted for host server {@code slot} (as in {@link #hostServer}) of {@code service}; 0
   * past {@link #TARGET_COUNTED_SERVICES}. Safe to call from any thread.
   */
  public long packets(int service, int slot) {
    return service < targetCounted
        ? targetCounters.getLongVolatile((service * maxHostServers + slot) << COUNTER_SHIFT)
        : 0;
  }

  /**
   * Bytes counted for host server {@code slot} of {@code service}; see {@link #packets(int, int)}.
   */
  public long bytes(int service, int slot) {
    return service < targetCounted
        ? targetCounters.getLongVolatile(
            ((service * maxHostServers + slot) << COUNTER_SHIFT) + BYTES_OFFSET)
        : 0;
  }

  /** Whether {@link #count(int, int, int)} counts {@code service} per host server. */
  public boolean countsHostServers(int service) {
    return service < targetCounted;
  }

  /** Packets counted for {@code service}; safe to call from any thread. */
  public long packets(int service) {
    return counters.getLongVolatile(service << COUNTER_SHIFT);
  }

  /** Bytes counted for {@code service}; safe to call from any thread. */
  public long bytes(int service) {
    return counters.getLongVolatile((service << COUNTER_SHIFT) + BYTES_OFFSET);
  }

  /**
   * Adds a service, or replaces the host-server set of an existing one (keeping its index and
   * counters). Forwarding thread only.
   *
   * @return the service index.
   * @throws IllegalStateException when the table is full, {@code count} exceeds {@code
   *     maxHostServers}, a weight is negative, the weights sum past {@link Integer#MAX_VALUE}, a
   *     host server is 0 or repeated, or protocol or port is out of range.
   */
  public int put(int address, int protocol, int port, int[] hostServers, int[] weights, int count) {
    return put(address, protocol, port, hostServers, weights, count, null);
  }

  /**
   * As {@link #put(int, int, int, int[], int[], int)} with a Maglev lookup table already built by
   * {@link Maglev#build} for these host servers, weights and {@link #maglevSize()}, so that the
   * forwarding thread only installs it; {@code null} leaves the service choosing by weight
   * intervals (see {@link #select}).
   */
  public int put(
      int address,
      int protocol,
      int port,
      int[] hostServers,
      int[] weights,
      int count,
      byte[] lookup) {
    checkPut(protocol, port, hostServers, weights, count, lookup);
    final long key = key(address, protocol, port);
    int service = (int) index.get(key);
    final boolean added = service == NOT_FOUND;
    if (added) {
      if (size() == capacity) {
        throw new IllegalStateException("redirector table is full: capacity " + capacity);
      }
      service = freeCount > 0 ? freeServices[--freeCount] : highWater++;
      keys[service] = key;
      counters.putLongOrdered(service << COUNTER_SHIFT, 0L);
      counters.putLongOrdered((service << COUNTER_SHIFT) + BYTES_OFFSET, 0L);
      index.put(key, service);
      addresses.put(address, addresses.get(address) + 1);
    }
    writeRecord(service, added, hostServers, weights, count, lookup);
    return service;
  }

  /** The checks every put makes before it changes anything. */
  private void checkPut(
      int protocol, int port, int[] hostServers, int[] weights, int count, byte[] lookup) {
    if (protocol < 0 || protocol > 0xFF || port < 0 || port > 0xFFFF) {
      throw new IllegalStateException(
          "protocol must be in [0, 255] and port in [0, 65535], were " + protocol + ", " + port);
    }
    if (count < 0 || count > maxHostServers) {
      throw new IllegalStateException(
          "host server count " + count + " is outside [0, maxHostServers=" + maxHostServers + "]");
    }
    if (hostServers.length < count || weights.length < count) {
      throw new IllegalStateException("fewer host servers or weights than count " + count);
    }
    long total = 0;
    for (int i = 0; i < count; i++) {
      if (weights[i] < 0) {
        throw new IllegalStateException("weight " + weights[i] + " of host server " + i + " < 0");
      }
      if (hostServers[i] == 0) {
        throw new IllegalStateException("host server " + i + " is 0.0.0.0");
      }
      for (int j = 0; j < i; j++) {
        if (hostServers[j] == hostServers[i]) {
          throw new IllegalStateException("host server " + i + " repeats host server " + j);
        }
      }
      total += weights[i];
    }
    if (total > Integer.MAX_VALUE) {
      throw new IllegalStateException("weights sum to " + total + " > " + Integer.MAX_VALUE);
    }
    if (lookup != null && lookup.length != maglevSize) {
      throw new IllegalStateException(
          "lookup table has " + lookup.length + " entries, not " + maglevSize);
    }
  }

  private void writeRecord(
      int service, boolean added, int[] hostServers, int[] weights, int count, byte[] lookup) {
    carryTargetCounters(service, added, hostServers, count);
    final int record = service * recordLength;
    long total = 0;
    for (int i = 0; i < count; i++) {
      total += weights[i];
    }
    records[record + COUNT] = count;
    records[record + TOTAL_WEIGHT] = (int) total;
    for (int i = 0; i < count; i++) {
      records[record + HOSTS + 2 * i] = hostServers[i];
      records[record + HOSTS + 2 * i + 1] = weights[i];
    }
    lookups[service] = lookup;
  }

  /**
   * Before a put rewrites the service's record: each host server keeps its per-host counters
   * wherever its slot moves; a host server new to the service, or a new service, starts at 0.
   */
  private void carryTargetCounters(int service, boolean added, int[] hostServers, int count) {
    if (service >= targetCounted) {
      return;
    }
    final int record = service * recordLength;
    final int oldCount = added ? 0 : records[record + COUNT];
    for (int i = 0; i < count; i++) {
      carry[2 * i] = 0;
      carry[2 * i + 1] = 0;
      for (int j = 0; j < oldCount; j++) {
        if (records[record + HOSTS + 2 * j] == hostServers[i]) {
          carry[2 * i] = packets(service, j);
          carry[2 * i + 1] = bytes(service, j);
        }
      }
    }
    final int base = (service * maxHostServers) << COUNTER_SHIFT;
    for (int i = 0; i < maxHostServers; i++) {
      final int offset = base + (i << COUNTER_SHIFT);
      targetCounters.putLongOrdered(offset, i < count ? carry[2 * i] : 0L);
      targetCounters.putLongOrdered(offset + BYTES_OFFSET, i < count ? carry[2 * i + 1] : 0L);
    }
  }

  /** Removes a service and frees its index for reuse. Forwarding thread only. */
  public boolean remove(int address, int protocol, int port) {
    if (!inRange(protocol, port)) {
      return false;
    }
    final int service = (int) index.remove(key(address, protocol, port));
    if (service == NOT_FOUND) {
      return false;
    }
    final int left = addresses.get(address) - 1;
    if (left == 0) {
      addresses.remove(address);
    } else {
      addresses.put(address, left);
    }
    free(service);
    return true;
  }

  private void free(int service) {
    keys[service] = FREE;
    records[service * recordLength + COUNT] = 0;
    records[service * recordLength + TOTAL_WEIGHT] = 0;
    lookups[service] = null;
    freeServices[freeCount++] = service;
  }

  /**
   * Sets the weight of one host server of a service; 0 drains it. Forwarding thread only. A service
   * with a Maglev table has it rebuilt here (it allocates): the forwarding plane instead rebuilds
   * off the forwarding thread and installs the result with {@link #put(int, int, int, int[], int[],
   * int, byte[])}.
   *
   * @return false when the service or the host server is not in the table.
   * @throws IllegalStateException when the weight is negative or the weights would sum past {@link
   *     Integer#MAX_VALUE}.
   */
  public boolean setWeight(int address, int protocol, int port, int hostServer, int weight) {
    if (weight < 0) {
      throw new IllegalStateException("weight " + weight + " < 0");
    }
    final int service = lookup(address, protocol, port);
    return service != NOT_FOUND && setWeight(service, hostServer, weight);
  }

  private boolean setWeight(int service, int hostServer, int weight) {
    final int record = service * recordLength;
    final int end = record + HOSTS + 2 * records[record + COUNT];
    for (int i = record + HOSTS; i < end; i += 2) {
      if (records[i] == hostServer) {
        final long total = (long) records[record + TOTAL_WEIGHT] - records[i + 1] + weight;
        if (total > Integer.MAX_VALUE) {
          throw new IllegalStateException("weights would sum to " + total);
        }
        records[i + 1] = weight;
        records[record + TOTAL_WEIGHT] = (int) total;
        if (lookups[service] != null) {
          rebuild(service);
        }
        return true;
      }
    }
    return false;
  }

  private void rebuild(int service) {
    final int record = service * recordLength;
    final int count = records[record + COUNT];
    final int[] hosts = new int[count];
    final int[] weights = new int[count];
    for (int i = 0; i < count; i++) {
      hosts[i] = records[record + HOSTS + 2 * i];
      weights[i] = records[record + HOSTS + 2 * i + 1];
    }
    lookups[service] = Maglev.build(hosts, weights, count, maglevSize);
  }

  /** Number of services in the table, of both families. */
  public int size() {
    return index.size() + index6.size();
  }

  /** Number of IPv6 services in the table. */
  public int size6() {
    return index6.size();
  }

  public int capacity() {
    return capacity;
  }

  public int maxHostServers() {
    return maxHostServers;
  }

  /** Visits every service in use, in index order; for snapshots, off the hot path. */
  public void forEach(ServiceVisitor visitor) {
    final int highWater = this.highWater;
    for (int service = 0; service < highWater; service++) {
      if (keys[service] != FREE) {
        visitor.visit(service);
      }
    }
  }

  /** Bytes held by this table's arrays and buffers, computed from their sizes. */
  public long footprintBytes() {
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
  public long lookupBytes() {
    long sum = 0;
    for (byte[] lookup : lookups) {
      sum += lookup == null ? 0 : lookup.length;
    }
    return sum;
  }
}
