package net.hydranet.hostserver;

import org.agrona.collections.Int2IntHashMap;
import org.agrona.collections.LongHashSet;

/**
 * The paper's virtual-host table (§4.1): which origin addresses live on this host server, and which
 * of their TCP and UDP ports a replica has bound. Written by the forwarding thread only (changes
 * are queued commands), so lookups never see a half-made change.
 */
public final class VirtualHostTable {
  private final Int2IntHashMap origins = new Int2IntHashMap(64, 0.5f, 0);
  private final LongHashSet ports = new LongHashSet(1024);

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

  public int virtualHosts() {
    return origins.size();
  }

  public int boundPorts() {
    return ports.size();
  }

  private static long key(int address, int protocol, int port) {
    return ((address & 0xFFFFFFFFL) << 24) | ((long) protocol << 16) | port;
  }
}
