package net.hydranet.forwarding.table;

/**
 * The per-packet read side of the redirector table: the service lookups of both families, the
 * host-server choice and the counting, each a few loads from {@link ServiceRecords}' arrays, with
 * no lock, fence or allocation (why none is needed: {@link RedirectorTable}, the single writer).
 * Every method is final and reads the table's own fields, as it did before the table was split.
 */
public abstract class ServiceLookup extends ServiceRecords {
  ServiceLookup(int capacity, int maxHostServers, int maglevSize) {
    super(capacity, maxHostServers, maglevSize);
  }

  /** The service index for a destination, or {@link #NOT_FOUND}. Allocation-free. */
  public final int lookup(int address, int protocol, int port) {
    if (!inRange(protocol, port)) {
      return NOT_FOUND;
    }
    return (int) index.get(key(address, protocol, port));
  }

  /**
   * The service index for an IPv6 destination, or {@link #NOT_FOUND}: one probe of three compares.
   * Allocation-free.
   */
  public final int lookup6(long high, long low, int protocol, int port) {
    if (!inRange(protocol, port)) {
      return NOT_FOUND;
    }
    return index6.get(high, low, (protocol << 16) | port);
  }

  /** True when some service has this IPv6 address. Allocation-free. */
  public final boolean isServiceAddress6(long high, long low) {
    return addresses6.get(high, low, 0) != Ipv6KeyMap.MISSING;
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
  public final int select(int service, int flowHash) {
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

  /**
   * True when some service has this address: the origins whose flows the connection table pins,
   * whatever their port. Allocation-free.
   */
  public final boolean isServiceAddress(int address) {
    return addresses.get(address) != 0;
  }

  /** True when {@code hostServer} is in the service's set, draining or not. Allocation-free. */
  public final boolean hasHostServer(int service, int hostServer) {
    final int record = service * recordLength;
    final int end = record + HOSTS + 2 * records[record + COUNT];
    for (int i = record + HOSTS; i < end; i += 2) {
      if (records[i] == hostServer) {
        return true;
      }
    }
    return false;
  }

  /**
   * Counts one packet of {@code bytes} bytes. Only the forwarding thread calls this, so the plain
   * load inside {@code addLongOrdered} is current; the store is a release store ({@code
   * putLongOrdered}, Agrona 1.x's name for it) because the metrics thread reads the counter
   * concurrently with {@link #packets}: the JLS (§17.7) lets a plain long write tear, and a release
   * store publishes the value without a full fence (on x86 it is an ordinary store). Packets and
   * bytes are two stores, so a reader may briefly see one packet without its bytes.
   */
  public final void count(int service, int bytes) {
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
  public final void count(int service, int hostServer, int bytes) {
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
}
