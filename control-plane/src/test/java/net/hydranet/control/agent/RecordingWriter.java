package net.hydranet.control.agent;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import net.hydranet.control.rib.TableWriter;
import net.hydranet.control.wire.Service;

/** A table writer that records the current table, for tests: both families. */
final class RecordingWriter implements TableWriter {
  final Map<Service, String> table = new ConcurrentHashMap<>();

  /** Every call in order: "put SERVICE", "remove SERVICE", "dead HOST-SERVER" (numbers). */
  final List<String> calls = new CopyOnWriteArrayList<>();

  @Override
  public void put(int origin, int protocol, int port, int[] hostServers, int[] weights) {
    table.put(
        Service.ipv4(origin, protocol, port),
        Arrays.toString(hostServers) + Arrays.toString(weights));
    calls.add("put " + Service.ipv4(origin, protocol, port));
  }

  @Override
  public void remove(int origin, int protocol, int port) {
    table.remove(Service.ipv4(origin, protocol, port));
    calls.add("remove " + Service.ipv4(origin, protocol, port));
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

  @Override
  public void hostServerDead(int hostServer) {
    calls.add("dead " + hostServer);
  }

  String get(int origin, int protocol, int port) {
    return table.get(Service.ipv4(origin, protocol, port));
  }

  String get(Service service) {
    return table.get(service);
  }
}
