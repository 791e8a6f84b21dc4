package net.hydranet.control.agent;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import net.hydranet.control.rib.TableWriter;
import net.hydranet.control.wire.Service;

/** A table writer that records the current table, for tests: both families. */
final class RecordingWriter implements TableWriter {
  final Map<Service, String> table = new ConcurrentHashMap<>();

  @Override
  public void put(int origin, int protocol, int port, int[] hostServers, int[] weights) {
    table.put(
        Service.ipv4(origin, protocol, port),
        Arrays.toString(hostServers) + Arrays.toString(weights));
  }

  @Override
  public void remove(int origin, int protocol, int port) {
    table.remove(Service.ipv4(origin, protocol, port));
  }

  @Override
  public void putIpv6(
      long high, long low, int protocol, int port, int[] hostServers, int[] weights) {
    table.put(
        Service.ipv6(high, low, protocol, port),
        Arrays.toString(hostServers) + Arrays.toString(weights));
  }

  @Override
  public void removeIpv6(long high, long low, int protocol, int port) {
    table.remove(Service.ipv6(high, low, protocol, port));
  }

  String get(int origin, int protocol, int port) {
    return table.get(Service.ipv4(origin, protocol, port));
  }

  String get(Service service) {
    return table.get(service);
  }
}
