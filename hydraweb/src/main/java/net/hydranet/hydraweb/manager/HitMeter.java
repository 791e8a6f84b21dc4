package net.hydranet.hydraweb.manager;

import static net.hydranet.hydraweb.manager.ManagerState.LOG;

import java.util.Map;
import net.hydranet.hydraweb.channel.AppMessage;
import net.hydranet.hydraweb.manager.ManagedReplica.State;

/**
 * Hit metering: each HITS a replica sends (every second, asked by the push cycle) is added to its
 * totals, counted across the replica's restarts of its own counts, within {@link
 * ReplicaManager#MAX_METERED_PATHS} paths; the first HITS of a replica still waiting for its
 * channel also wakes it. On a link's thread, under the replica's lock.
 */
final class HitMeter {
  private final ManagerState state;

  HitMeter(ManagerState state) {
    this.state = state;
  }

  void onHits(ManagedReplica r, AppMessage.Hits h, long now) {
    boolean woke = false;
    synchronized (r) {
      if (r.state == State.WAITING) {
        r.reset(now); // it answered a probe: its channel is up
        woke = true;
      }
      for (Map.Entry<String, long[]> e : r.hits.entrySet()) {
        if (!h.hits().containsKey(e.getKey())) {
          e.getValue()[0] = 0; // evicted or deleted: its meter starts again from 0
        }
      }
      h.hits()
          .forEach(
              (path, n) -> {
                long[] c = r.hits.get(path);
                if (c == null) {
                  if (r.hits.size() >= ReplicaManager.MAX_METERED_PATHS) {
                    state.count(ManagerCounter.HITS_UNMETERED);
                    return;
                  }
                  c = new long[2];
                  r.hits.put(path, c);
                }
                c[1] += n >= c[0] ? n - c[0] : n;
                c[0] = n;
              });
      r.misses += h.misses() >= r.missesSeen ? h.misses() - r.missesSeen : h.misses();
      r.missesSeen = h.misses();
      r.requests += h.requests() >= r.requestsSeen ? h.requests() - r.requestsSeen : h.requests();
      r.requestsSeen = h.requests();
      r.hitLatency.add(h.hitLatency());
      r.missLatency.add(h.missLatency());
    }
    if (woke) {
      LOG.info("{} answered a probe: its channel is up, pushing", r.name);
    }
  }
}
