package net.hydranet.forwarding.table;

import net.hydranet.forwarding.wire.Ipv6Header;

/**
 * The redirector table: maps a replicated service (IPv4 or IPv6 destination, protocol, port) to a
 * service index whose host servers, weights and counters live in the flat preallocated arrays of
 * {@link ServiceRecords}. This class is the single writer's part: how a put, a removal or a weight
 * change rewrites those arrays.
 *
 * <p><b>Why a lookup never sees a torn update.</b> The only writer is the forwarding thread itself:
 * other threads never call {@link #put}, {@link #remove} or {@link #setWeight}; they queue a
 * command, and the forwarding thread applies queued control-plane commands between packets. So a
 * {@link #lookup} or {@link #select} never runs concurrently with an update, and the arrays need no
 * locks, fences or versioning. The per-service counters are the one exception: a metrics thread may
 * read them at any time, see {@link #count}.
 *
 * <p>A rejected change throws {@link IllegalStateException} and leaves the table unchanged, so the
 * command handler can count it and carry on.
 */
public final class RedirectorTable extends ServiceLookup {

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
    super(capacity, maxHostServers, maglevSize);
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
      final int slot = freeSlots6[--freeSlot6Count];
      service = newService(IPV6 | ((long) slot << 24) | tag);
      addressHighs[slot] = high;
      addressLows[slot] = low;
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
      service = newService(key);
      index.put(key, service);
      addresses.put(address, addresses.get(address) + 1);
    }
    writeRecord(service, added, hostServers, weights, count, lookup);
    return service;
  }

  /** Takes a free service index (the newest freed first) for {@code key}, its counters at 0. */
  private int newService(long key) {
    final int service = freeCount > 0 ? freeServices[--freeCount] : highWater++;
    keys[service] = key;
    counters.putLongOrdered(service << COUNTER_SHIFT, 0L);
    counters.putLongOrdered((service << COUNTER_SHIFT) + BYTES_OFFSET, 0L);
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
}
