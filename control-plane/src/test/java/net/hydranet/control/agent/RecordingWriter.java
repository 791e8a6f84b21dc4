package net.hydranet.control.agent;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import net.hydranet.control.rib.TableWriter;
import net.hydranet.control.wire.Entry;

/** A table writer that records the current table, for tests. */
final class RecordingWriter implements TableWriter {
  final Map<Long, String> table = new ConcurrentHashMap<>();

  @Override
  public void put(int origin, int protocol, int port, int[] hostServers, int[] weights) {
    table.put(
        Entry.service(origin, protocol, port),
        Arrays.toString(hostServers) + Arrays.toString(weights));
  }

  @Override
  public void remove(int origin, int protocol, int port) {
    table.remove(Entry.service(origin, protocol, port));
  }

  String get(int origin, int protocol, int port) {
    return table.get(Entry.service(origin, protocol, port));
  }
}
