package net.hydranet.forwarding.table;

/**
 * Host servers reached by IPv6-in-IPv6 (RFC 2473), named in the redirector table's host-server
 * slots by an id instead of an IPv4 address: the table, its Maglev tables and the connection table
 * keep one 32-bit host-server field for both kinds.
 *
 * <p>An id is in 0.0.0.0/8 ("this network", RFC 1122 §3.2.1.3), which is never a unicast
 * destination and so never an IPv4 host server: ids run from 1 to {@link #CAPACITY}. The control
 * side hands ids out ({@code ForwardingPlane#ipv6HostServer}) and a command installs each here
 * before any service names it; the forwarding thread reads the address of an id with {@link #high}
 * and {@link #low}. Ids are never reused, so a flow pinned to one always means the same host
 * server.
 */
public final class Ipv6HostServers {
  /** IPv6 host servers a redirector knows at most. */
  public static final int CAPACITY = 4_096;

  private final long[] highs = new long[CAPACITY + 1];
  private final long[] lows = new long[CAPACITY + 1];

  /** True when {@code hostServer} (a slot's value) is an IPv6 host server's id. */
  public static boolean isId(int hostServer) {
    return hostServer != 0 && (hostServer >>> 24) == 0;
  }

  /** Installs an id's address. Forwarding thread only. */
  public void put(int id, long high, long low) {
    if (id < 1 || id > CAPACITY) {
      throw new IllegalStateException("IPv6 host server id " + id + " outside 1.." + CAPACITY);
    }
    highs[id] = high;
    lows[id] = low;
  }

  /** True when the id has an address installed. */
  public boolean has(int id) {
    return id >= 1 && id <= CAPACITY && (highs[id] != 0 || lows[id] != 0);
  }

  public long high(int id) {
    return highs[id];
  }

  public long low(int id) {
    return lows[id];
  }
}
