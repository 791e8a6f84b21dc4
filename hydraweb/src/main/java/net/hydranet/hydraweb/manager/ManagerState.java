package net.hydranet.hydraweb.manager;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the manager's parts share: the config, the clock, the docroot as last scanned, the replicas
 * by name (a concurrent map of objects each guarded by its own lock), message ids, the counters,
 * where timings go, and the once-per-cause warning log.
 */
final class ManagerState {
  /** One logger for every part, so the manager's log reads as before it had parts. */
  static final Logger LOG = LoggerFactory.getLogger(ReplicaManager.class);

  final ManagerConfig config;
  final LongSupplier clock;
  final Docroot docroot;
  final Map<String, ManagedReplica> replicas = new ConcurrentHashMap<>();
  final AtomicLong ids = new AtomicLong();
  private final AtomicLongArray counters = new AtomicLongArray(ManagerCounter.values().length);
  private final Set<String> loggedCauses = ConcurrentHashMap.newKeySet();
  volatile ReplicaManager.Timings timings = ReplicaManager.Timings.NONE;

  ManagerState(ManagerConfig config, LongSupplier clock) {
    this.config = config;
    this.clock = clock;
    this.docroot =
        new Docroot(
            config.docroot(),
            config.preheat(),
            config.templates(),
            config.preheatBytes(),
            config.maxObjectBytes());
  }

  void count(ManagerCounter c) {
    counters.incrementAndGet(c.ordinal());
  }

  void count(ManagerCounter c, long n) {
    counters.addAndGet(c.ordinal(), n);
  }

  long counter(ManagerCounter c) {
    return counters.get(c.ordinal());
  }

  void logOnce(String what, Exception e) {
    String cause = what + ": " + e;
    if (loggedCauses.size() < 256 && loggedCauses.add(cause)) {
      LOG.warn("{} (logged once)", cause);
    }
  }

  /** Host server {@code host} as the config names it. */
  ManagerConfig.HostServer hostServer(int host) {
    return config.hostServers().get(host);
  }
}
