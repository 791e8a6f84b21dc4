package net.hydranet.control.agent;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import net.hydranet.control.rib.TableWriter;
import net.hydranet.control.wire.Entry;

/** A table writer that records the current table, for tests. */
final class RecordingWriter implements TableWriter {
  final Map<Long, String> table = new ConcurrentHashMap<>();

  /** Every call in order: "put SERVICE", "remove SERVICE", "dead HOST-SERVER" (numbers). */
  final List<String> calls = new CopyOnWriteArrayList<>();

  @Override
  public void put(int origin, int protocol, int port, int[] hostServers, int[] weights) {
    table.put(
        Entry.service(origin, protocol, port),
        Arrays.toString(hostServers) + Arrays.toString(weights));
    calls.add("put " + Entry.service(origin, protocol, port));
  }

  @Override
  public void remove(int origin, int protocol, int port) {
    table.remove(Entry.service(origin, protocol, port));
    calls.add("remove " + Entry.service(origin, protocol, port));
  }

  @Override
  public void hostServerDead(int hostServer) {
    calls.add("dead " + hostServer);
  }

  String get(int origin, int protocol, int port) {
    return table.get(Entry.service(origin, protocol, port));
  }
}
