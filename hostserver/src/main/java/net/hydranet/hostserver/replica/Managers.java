package net.hydranet.hostserver.replica;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The authenticated manager connections, by origin: reader threads add and remove their own; any
 * thread asks for an origin's newest one (EVENTs, relayed APP payloads).
 */
final class Managers {
  private final Object lock = new Object();
  // Guarded by lock.
  private final Map<Origin, List<ManagerConnection>> connections = new HashMap<>();

  /** Adds {@code c} unless its origin has {@code limit} already; returns how many it had. */
  int add(ManagerConnection c, int limit) {
    synchronized (lock) {
      List<ManagerConnection> list = connections.computeIfAbsent(c.origin, o -> new ArrayList<>());
      int had = list.size();
      if (had < limit) {
        list.add(c);
      }
      return had;
    }
  }

  void remove(ManagerConnection c) {
    synchronized (lock) {
      List<ManagerConnection> list = connections.get(c.origin);
      if (list != null) {
        list.remove(c);
      }
    }
  }

  /** The origin's most recent manager connection, or null. */
  ManagerConnection of(Origin o) {
    synchronized (lock) {
      List<ManagerConnection> list = connections.get(o);
      return list == null || list.isEmpty() ? null : list.get(list.size() - 1);
    }
  }

  List<ManagerConnection> all() {
    List<ManagerConnection> all = new ArrayList<>();
    synchronized (lock) {
      connections.values().forEach(all::addAll);
    }
    return all;
  }
}
