package net.hydranet.hostserver;

import java.util.HashSet;
import java.util.Set;
import net.hydranet.forwarding.table.Ipv6KeyMap;
import org.agrona.collections.Int2IntHashMap;
import org.agrona.collections.LongHashSet;

/**
 * The paper's virtual-host table (§4.1): which origin addresses live on this host server, and which
 * of their TCP and UDP ports a replica has bound. Written by the forwarding thread only (changes
 * are queued commands), so lookups never see a half-made change.
 *
 * <p>IPv6 origins (issue 21) have a map of their own, keyed by the 128-bit address: the data path's
 * lookup is one probe of a fixed {@link Ipv6KeyMap}, allocation-free; their ports are only listed,
 * never looked up per packet, so a plain set holds them.
 */
public final class VirtualHostTable {
  /** The most IPv6 virtual hosts one host server holds (the map is fixed). */
  public static final int MAX_IPV6_VIRTUAL_HOSTS = 1024;

  private final Int2IntHashMap origins = new Int2IntHashMap(64, 0.5f, 0);
  private final LongHashSet ports = new LongHashSet(1024);
  private final Ipv6KeyMap origins6 = new Ipv6KeyMap(MAX_IPV6_VIRTUAL_HOSTS);
  private final Set<Port6> ports6 = new HashSet<>();

  private record Port6(long high, long low, int protocol, int port) {}

  /** Installs a virtual host for {@code origin}. */
  public void addVirtualHost(int origin) {
    origins.put(origin, origins.get(origin) + 1);
  }

  /** Removes a virtual host and every port it had. */
  public void removeVirtualHost(int origin) {
    origins.remove(origin);
    ports.removeIf(k -> (int) (k >>> 24) == origin);
  }

  public boolean isVirtualHost(int address) {
    return origins.containsKey(address);
  }

  public void bind(int origin, int protocol, int port) {
    ports.add(key(origin, protocol, port));
  }

  public void unbind(int origin, int protocol, int port) {
    ports.remove(key(origin, protocol, port));
  }

  public boolean isBound(int origin, int protocol, int port) {
    return ports.contains(key(origin, protocol, port));
  }

  /**
   * Installs a virtual host for the IPv6 {@code origin}.
   *
   * @return false if the table already holds {@link #MAX_IPV6_VIRTUAL_HOSTS} others
   */
  public boolean addVirtualHost6(long high, long low) {
    int n = origins6.get(high, low, 0);
    if (n == Ipv6KeyMap.MISSING && origins6.size() == origins6.capacity()) {
      return false;
    }
    origins6.put(high, low, 0, n == Ipv6KeyMap.MISSING ? 1 : n + 1);
    return true;
  }

  /** Removes an IPv6 virtual host and every port it had. */
  public void removeVirtualHost6(long high, long low) {
    origins6.remove(high, low, 0);
    ports6.removeIf(p -> p.high() == high && p.low() == low);
  }

  /** One probe, allocation-free: the data path's question. */
  public boolean isVirtualHost6(long high, long low) {
    return origins6.get(high, low, 0) != Ipv6KeyMap.MISSING;
  }

  public void bind6(long high, long low, int protocol, int port) {
    ports6.add(new Port6(high, low, protocol, port));
  }

  public void unbind6(long high, long low, int protocol, int port) {
    ports6.remove(new Port6(high, low, protocol, port));
  }

  public boolean isBound6(long high, long low, int protocol, int port) {
    return ports6.contains(new Port6(high, low, protocol, port));
  }

  /** Virtual hosts of both families. */
  public int virtualHosts() {
    return origins.size() + origins6.size();
  }

  /** Bound ports of both families. */
  public int boundPorts() {
    return ports.size() + ports6.size();
  }

  private static long key(int address, int protocol, int port) {
    return ((address & 0xFFFFFFFFL) << 24) | ((long) protocol << 16) | port;
  }
}
