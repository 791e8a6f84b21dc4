package net.hydranet.hydraweb.manager;

import static net.hydranet.hydraweb.manager.ManagerState.LOG;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.hydranet.hydraweb.channel.AppCodec;
import net.hydranet.hydraweb.channel.AppMessage;
import net.hydranet.hydraweb.manager.ManagedReplica.Kind;
import net.hydranet.hydraweb.manager.ManagedReplica.Push;
import net.hydranet.hydraweb.manager.ManagedReplica.State;

/**
 * Pre-heat and push reconciliation: every {@link ReplicaManager#TICK_MS}, on the "hydraweb-manager"
 * thread, the docroot is scanned and each replica that has spoken is sent what it lacks compared
 * with what it ACKed (a window of {@link ReplicaManager#WINDOW} in flight, re-sent after {@link
 * ReplicaManager#RETRY_FIRST_MS} backing off to {@link ReplicaManager#RETRY_MAX_MS}); a replica
 * still silent is probed. ACKs and READY arrive on the links' threads and only update the replica
 * under its lock.
 */
final class PushReconciler {
  private final ManagerState state;
  private final HostServerLinks links;

  PushReconciler(ManagerState state, HostServerLinks links) {
    this.state = state;
    this.links = links;
  }

  /** One cycle: scan, then reconcile every replica. */
  void tick() {
    try {
      long now = state.clock.getAsLong();
      try {
        int changes = state.docroot.scan();
        state.count(ManagerCounter.SCANS);
        if (changes > 0) {
          state.count(ManagerCounter.CHANGES_DETECTED, changes);
        }
      } catch (IOException e) {
        state.logOnce("docroot scan failed", e);
      }
      for (ManagedReplica r : state.replicas.values()) {
        sync(r, now);
      }
    } catch (RuntimeException e) {
      state.logOnce("manager tick failed", e);
    }
  }

  private void sync(ManagedReplica r, long now) {
    List<byte[]> out = new ArrayList<>();
    synchronized (r) {
      if (r.state == State.WAITING) {
        if (now - r.lastProbe >= ReplicaManager.PROBE_EVERY_MS) {
          r.lastProbe = now;
          out.add(AppCodec.encode(new AppMessage.HitsQuery(state.ids.incrementAndGet())));
        }
      } else if (r.state == State.READY) {
        plan(r, now, out);
        if (now - r.lastHits >= ReplicaManager.HITS_EVERY_MS) {
          r.lastHits = now;
          out.add(AppCodec.encode(new AppMessage.HitsQuery(state.ids.incrementAndGet())));
          state.count(ManagerCounter.HITS_POLLS);
        }
      }
    }
    links.send(r, out);
  }

  /** What {@code r} lacks, as messages; under r's lock. */
  private void plan(ManagedReplica r, long now, List<byte[]> out) {
    retryOverdue(r, now);
    ManagerConfig config = state.config;
    int planned = 0;
    if (config.accessRules() != null && !r.rulesDone && !r.inflightByKey.containsKey("R")) {
      out.add(
          push(r, now, Kind.RULES, "R", null, 0, new AppMessage.Rules(0, config.accessRules())));
      planned++;
    }
    for (Map.Entry<String, List<String>> s : config.slots().entrySet()) {
      String key = "S" + s.getKey();
      if (!r.slotsDone.contains(s.getKey()) && !r.inflightByKey.containsKey(key)) {
        out.add(
            push(
                r,
                now,
                Kind.SLOT,
                key,
                s.getKey(),
                0,
                new AppMessage.Slot(0, s.getKey(), s.getValue())));
        planned++;
      }
    }
    Map<String, Docroot.FileState> wanted = wanted(r);
    planned += planPuts(r, now, wanted, out);
    planned += planDeletes(r, now, wanted, out);
    if (planned == 0 && r.inflight.isEmpty() && r.preheatedAt < 0) {
      r.preheatedAt = now;
      long bytes = 0;
      for (Docroot.FileState fs : wanted.values()) {
        bytes += fs.size();
      }
      LOG.info(
          "{} pre-heated: {} objects ({} bytes) ACKed in {} ms",
          r.name,
          r.acked.size(),
          bytes,
          now - r.readyAt);
    }
  }

  /** Takes pushes unanswered past their backoff out of flight, so they are planned again. */
  private void retryOverdue(ManagedReplica r, long now) {
    for (Push p : new ArrayList<>(r.inflight.values())) {
      int attempt = r.attempts.getOrDefault(p.key(), 0);
      long delay =
          Math.min(
              ReplicaManager.RETRY_MAX_MS, ReplicaManager.RETRY_FIRST_MS << Math.min(attempt, 10));
      if (now - p.sentAt() >= delay) {
        r.inflight.remove(p.id());
        r.inflightByKey.remove(p.key());
        r.attempts.put(p.key(), attempt + 1);
        state.count(ManagerCounter.RETRIES);
      }
    }
  }

  /** A PUT of each wanted file whose version {@code r} has not ACKed, within the window. */
  private int planPuts(
      ManagedReplica r, long now, Map<String, Docroot.FileState> wanted, List<byte[]> out) {
    int planned = 0;
    for (Docroot.FileState fs : wanted.values()) {
      if (r.inflight.size() >= ReplicaManager.WINDOW) {
        break;
      }
      Long have = r.acked.get(fs.path());
      String key = "P" + fs.path();
      if ((have != null && have == fs.version()) || r.inflightByKey.containsKey(key)) {
        continue;
      }
      byte[] body;
      try {
        body = state.docroot.read(fs);
      } catch (IOException e) {
        state.count(ManagerCounter.READ_ERRORS);
        state.logOnce("cannot read " + fs.file(), e);
        continue;
      }
      if (body == null) {
        continue; // changed since the scan: the next scan has its new version
      }
      AppMessage.Content c =
          new AppMessage.Content(
              fs.path(),
              ReplicaManager.contentType(fs.path()),
              fs.mtimeMillis(),
              fs.version(),
              body,
              fs.template());
      out.add(push(r, now, Kind.PUT, key, fs.path(), fs.version(), new AppMessage.Put(0, c)));
      state.count(ManagerCounter.PUTS_SENT);
      planned++;
    }
    return planned;
  }

  /** A DELETE of each path {@code r} ACKed that it should no longer hold, within the window. */
  private int planDeletes(
      ManagedReplica r, long now, Map<String, Docroot.FileState> wanted, List<byte[]> out) {
    int planned = 0;
    for (String path : new ArrayList<>(r.acked.keySet())) {
      String key = "P" + path;
      if (r.inflight.size() >= ReplicaManager.WINDOW) {
        break;
      }
      if (!wanted.containsKey(path) && !r.inflightByKey.containsKey(key)) {
        out.add(push(r, now, Kind.DELETE, key, path, 0, new AppMessage.Delete(0, path)));
        state.count(ManagerCounter.DELETES_SENT);
        planned++;
      }
    }
    return planned;
  }

  /** The docroot paths {@code r} should hold: the pre-heat set and what it cached from misses. */
  Map<String, Docroot.FileState> wanted(ManagedReplica r) {
    Map<String, Docroot.FileState> pre = state.docroot.preheat();
    if (r.extra.isEmpty()) {
      return pre;
    }
    Map<String, Docroot.FileState> w = new TreeMap<>(pre);
    for (String p : new ArrayList<>(r.extra)) {
      Docroot.FileState fs = state.docroot.get(p);
      if (fs != null && fs.size() <= state.config.maxObjectBytes()) {
        w.put(p, fs);
      } else if (!r.acked.containsKey(p)) {
        r.extra.remove(p);
      }
    }
    return w;
  }

  private byte[] push(
      ManagedReplica r, long now, Kind kind, String key, String path, long version, AppMessage m) {
    long id = state.ids.incrementAndGet();
    Push p = new Push(id, key, kind, path, version, now, System.nanoTime());
    r.inflight.put(id, p);
    r.inflightByKey.put(key, p);
    AppMessage withId;
    if (m instanceof AppMessage.Put put) {
      withId = new AppMessage.Put(id, put.content());
    } else if (m instanceof AppMessage.Delete d) {
      withId = new AppMessage.Delete(id, d.path());
    } else if (m instanceof AppMessage.Rules rules) {
      withId = new AppMessage.Rules(id, rules.rules());
    } else {
      AppMessage.Slot s = (AppMessage.Slot) m;
      withId = new AppMessage.Slot(id, s.name(), s.values());
    }
    return AppCodec.encode(withId);
  }

  /** READY: the replica (re)started empty; everything is pushed again. On a link's thread. */
  void onReady(ManagedReplica r, AppMessage.Ready ready, long now) {
    synchronized (r) {
      if (r.state != State.REMOVING) {
        r.reset(now);
        r.version = ready.version();
      }
    }
    LOG.info(
        "{} ready (replica {}): pushing {} objects", r.name, ready.version(), wanted(r).size());
  }

  /** An ACK settles its push: the version is recorded whatever the result. On a link's thread. */
  void onAck(ManagedReplica r, AppMessage.Ack a, long now) {
    long ackedNanos = System.nanoTime();
    Push p;
    synchronized (r) {
      p = r.inflight.remove(a.id());
      if (p == null) {
        state.count(ManagerCounter.ACKS_LATE);
        return;
      }
      r.inflightByKey.remove(p.key());
      r.attempts.remove(p.key());
      switch (a.result()) {
        case AppMessage.STORED -> state.count(ManagerCounter.ACKS_STORED);
        case AppMessage.STALE -> state.count(ManagerCounter.ACKS_STALE);
        case AppMessage.TOO_LARGE -> state.count(ManagerCounter.ACKS_TOO_LARGE);
        default -> state.count(ManagerCounter.ACKS_ERROR);
      }
      if (a.result() != AppMessage.STORED) {
        state.logOnce(
            r.name + " refused " + p.kind() + " " + (p.path() == null ? "" : p.path()),
            new IOException("ACK result " + a.result()));
      }
      switch (p.kind()) {
        case PUT -> {
          // Whatever the result, this version is settled: stale, too large or refused would only
          // be refused again. A newer version is pushed when the file changes.
          r.acked.put(p.path(), p.version());
          r.ackedAt.put(p.path(), now);
        }
        case DELETE -> {
          r.acked.remove(p.path());
          r.ackedAt.remove(p.path());
          r.extra.remove(p.path());
        }
        case RULES -> r.rulesDone = true;
        case SLOT -> r.slotsDone.add(p.path());
      }
    }
    if (p.kind() == Kind.PUT || p.kind() == Kind.DELETE) {
      state.timings.push(p.kind() == Kind.PUT, ackedNanos - p.sentNanos());
    }
  }
}
