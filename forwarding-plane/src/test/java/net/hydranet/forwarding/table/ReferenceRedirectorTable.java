package net.hydranet.forwarding.table;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The redirector table's oracle: the same semantics as {@link RedirectorTable} with a HashMap and
 * objects, kept as simple as possible. Service ids are never reused, so tests compare what a lookup
 * finds, not the index it returns.
 */
final class ReferenceRedirectorTable {
  static final int NOT_FOUND = -1;

  record Key(int address, int protocol, int port) {}

  static final class Service {
    final Key key;
    final List<Integer> hostServers = new ArrayList<>();
    final List<Integer> weights = new ArrayList<>();
    long packets;
    long bytes;

    Service(Key key) {
      this.key = key;
    }
  }

  private final int capacity;
  private final int maxHostServers;
  private final Map<Key, Integer> ids = new HashMap<>();
  private final Map<Integer, Service> services = new HashMap<>();
  private int nextId;

  ReferenceRedirectorTable(int capacity, int maxHostServers) {
    this.capacity = capacity;
    this.maxHostServers = maxHostServers;
  }

  int lookup(int address, int protocol, int port) {
    return ids.getOrDefault(new Key(address, protocol, port), NOT_FOUND);
  }

  int select(int service, int flowHash) {
    final Service s = services.get(service);
    long total = 0;
    for (int w : s.weights) {
      total += w;
    }
    if (total == 0) {
      return 0;
    }
    final long point = (Integer.toUnsignedLong(flowHash) * total) >>> 32;
    long end = 0;
    for (int i = 0; i < s.weights.size(); i++) {
      end += s.weights.get(i);
      if (point < end) {
        return s.hostServers.get(i);
      }
    }
    throw new AssertionError("point beyond total weight");
  }

  int hostServerCount(int service) {
    return services.get(service).hostServers.size();
  }

  int hostServer(int service, int i) {
    return services.get(service).hostServers.get(i);
  }

  int weight(int service, int i) {
    return services.get(service).weights.get(i);
  }

  int address(int service) {
    return services.get(service).key.address();
  }

  int protocol(int service) {
    return services.get(service).key.protocol();
  }

  int port(int service) {
    return services.get(service).key.port();
  }

  void count(int service, int bytes) {
    services.get(service).packets++;
    services.get(service).bytes += bytes;
  }

  long packets(int service) {
    return services.get(service).packets;
  }

  long bytes(int service) {
    return services.get(service).bytes;
  }

  int put(int address, int protocol, int port, int[] hostServers, int[] weights, int count) {
    if (protocol < 0 || protocol > 255 || port < 0 || port > 65535) {
      throw new IllegalStateException("protocol or port out of range");
    }
    if (count < 0 || count > maxHostServers) {
      throw new IllegalStateException("count out of range");
    }
    if (hostServers.length < count || weights.length < count) {
      throw new IllegalStateException("arrays shorter than count");
    }
    long total = 0;
    List<Integer> seen = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      if (weights[i] < 0 || hostServers[i] == 0 || seen.contains(hostServers[i])) {
        throw new IllegalStateException("bad host server or weight");
      }
      seen.add(hostServers[i]);
      total += weights[i];
    }
    if (total > Integer.MAX_VALUE) {
      throw new IllegalStateException("weights too large");
    }
    final Key key = new Key(address, protocol, port);
    Integer id = ids.get(key);
    if (id == null) {
      if (ids.size() == capacity) {
        throw new IllegalStateException("full");
      }
      id = nextId++;
      ids.put(key, id);
      services.put(id, new Service(key));
    }
    final Service s = services.get(id);
    s.hostServers.clear();
    s.weights.clear();
    for (int i = 0; i < count; i++) {
      s.hostServers.add(hostServers[i]);
      s.weights.add(weights[i]);
    }
    return id;
  }

  boolean remove(int address, int protocol, int port) {
    final Integer id = ids.remove(new Key(address, protocol, port));
    if (id == null) {
      return false;
    }
    services.remove(id);
    return true;
  }

  boolean setWeight(int address, int protocol, int port, int hostServer, int weight) {
    if (weight < 0) {
      throw new IllegalStateException("negative weight");
    }
    final Integer id = ids.get(new Key(address, protocol, port));
    if (id == null) {
      return false;
    }
    final Service s = services.get(id);
    final int i = s.hostServers.indexOf(hostServer);
    if (i < 0) {
      return false;
    }
    long total = weight;
    for (int j = 0; j < s.weights.size(); j++) {
      total += j == i ? 0 : s.weights.get(j);
    }
    if (total > Integer.MAX_VALUE) {
      throw new IllegalStateException("weights too large");
    }
    s.weights.set(i, weight);
    return true;
  }

  int size() {
    return ids.size();
  }
}
