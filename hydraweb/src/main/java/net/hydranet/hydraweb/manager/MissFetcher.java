package net.hydranet.hydraweb.manager;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import net.hydranet.hydraweb.channel.AppCodec;
import net.hydranet.hydraweb.channel.AppMessage;

/**
 * Answers replicas' misses from the origin's web server: a MISS (on a link's thread) only joins or
 * starts a fetch; a pool of {@link ReplicaManager#FETCH_THREADS} "hydraweb-fetch" threads, with a
 * bounded queue, fetches and answers every miss waiting for that object at once (a flash crowd on
 * one object costs the origin one fetch). A full queue answers 503 at once.
 *
 * <p>Every fetch tells {@link OriginHealth} whether the origin answered. While it is down, a miss
 * is answered at once with 502 or 504 (the last failure's), one miss per retry interval being let
 * through to try again; and when nothing has been heard from the origin for a probe interval, the
 * manager's tick has the pool probe it ({@link #probeIfDue}), so the view says "down" even when no
 * miss comes, and "up" again as soon as it answers.
 */
final class MissFetcher {
  private final ManagerState state;
  private final HostServerLinks links;
  private final OriginFetcher fetcher;
  private final ThreadPoolExecutor pool;
  private final OriginHealth health;
  private final long probeMillis;
  private final AtomicBoolean probing = new AtomicBoolean();

  /** Misses being fetched, by "replica path": the miss ids waiting for that one fetch. */
  private final Map<String, List<Long>> fetching = new HashMap<>();

  MissFetcher(ManagerState state, HostServerLinks links) {
    this.state = state;
    this.links = links;
    ManagerConfig config = state.config;
    this.fetcher =
        new OriginFetcher(config.webServer(), config.fetchTimeout(), config.maxObjectBytes());
    this.probeMillis = config.originProbeInterval().toMillis();
    this.health = new OriginHealth(probeMillis);
    this.pool =
        new ThreadPoolExecutor(
            ReplicaManager.FETCH_THREADS,
            ReplicaManager.FETCH_THREADS,
            30,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(ReplicaManager.FETCH_QUEUE),
            r -> ReplicaManager.thread(r, "hydraweb-fetch"));
  }

  /** A MISS from {@code r}; never blocks. */
  void onMiss(ManagedReplica r, AppMessage.Miss miss) {
    state.count(ManagerCounter.MISSES);
    String key = r.name + " " + miss.path();
    int down;
    synchronized (fetching) {
      List<Long> waiting = fetching.get(key);
      if (waiting != null && waiting.size() < 10_000) {
        waiting.add(miss.missId()); // a flash crowd on one object costs the origin one fetch
        state.count(ManagerCounter.MISSES_COALESCED);
        return;
      }
      down = health.failFast(state.clock.getAsLong());
      if (down == 0) {
        List<Long> ids = new ArrayList<>();
        ids.add(miss.missId());
        fetching.put(key, ids);
      }
    }
    if (down != 0) {
      // The origin is down: say so now rather than after a timeout per miss.
      state.count(ManagerCounter.ANSWERS_ORIGIN_DOWN);
      links.send(
          r, List.of(AppCodec.encode(new AppMessage.Answer(miss.missId(), down, null, false))));
      return;
    }
    try {
      pool.execute(() -> answer(r, key, miss.path()));
    } catch (RejectedExecutionException e) {
      state.count(ManagerCounter.FETCHES_REJECTED);
      List<Long> ids;
      synchronized (fetching) {
        ids = fetching.remove(key);
      }
      List<byte[]> out = new ArrayList<>();
      for (long id : ids) {
        out.add(AppCodec.encode(new AppMessage.Answer(id, 503, null, false)));
      }
      links.send(r, out);
    }
  }

  private void answer(ManagedReplica r, String key, String path) {
    List<Long> ids;
    try {
      long started = System.nanoTime();
      OriginFetcher.Result f = fetcher.fetch(path);
      state.timings.originFetch(System.nanoTime() - started);
      follow(f);
      synchronized (fetching) {
        ids = fetching.remove(key);
      }
      List<byte[]> out = new ArrayList<>();
      for (long id : ids) {
        out.add(AppCodec.encode(answerOf(r, new AppMessage.Miss(id, path, false), f)));
      }
      links.send(r, out);
    } catch (RuntimeException e) {
      synchronized (fetching) {
        fetching.remove(key);
      }
      throw e;
    }
  }

  private AppMessage.Answer answerOf(
      ManagedReplica r, AppMessage.Miss miss, OriginFetcher.Result f) {
    AppMessage.Answer a;
    if (f.status() == 200) {
      state.count(ManagerCounter.ANSWERS_200);
      Docroot.FileState fs = state.docroot.get(miss.path());
      // Keep it only if we can keep it hot: a docroot file whose changes we see and push, and
      // what nginx sent is that file as scanned (a cache in nginx, or a change since the scan,
      // would otherwise be labelled with a version it is not).
      // And never what the origin says no shared cache may keep (no-store, no-cache, private).
      boolean keep =
          f.cacheable() && fs != null && fs.mtimeMillis() / 1000 == f.lastModifiedMillis() / 1000;
      long version = fs != null ? fs.version() : f.lastModifiedMillis();
      // A template file's text, as the web server sends it, is rendered by the replica like the
      // pushed one: the same page whichever way it reached the replica.
      boolean template = fs != null && fs.template();
      a =
          new AppMessage.Answer(
              miss.missId(),
              200,
              new AppMessage.Content(
                  miss.path(),
                  f.contentType(),
                  f.lastModifiedMillis(),
                  version,
                  f.body(),
                  template),
              keep);
      if (fs != null && f.cacheable()) {
        synchronized (r) {
          r.extra.add(miss.path()); // kept or not, it is asked for: push it, and keep it hot
        }
      }
    } else {
      state.count(f.status() == 404 ? ManagerCounter.ANSWERS_404 : ManagerCounter.ANSWERS_ERROR);
      a = new AppMessage.Answer(miss.missId(), f.status(), null, false);
    }
    return a;
  }

  /** Tells {@link OriginHealth} what an exchange with the origin showed; logs each change. */
  private void follow(OriginFetcher.Result f) {
    long now = state.clock.getAsLong();
    if (f.status() == 503 && f.unreachable() == null) {
      return; // interrupted (the manager stopping): nothing learnt
    }
    if (f.unreachable() == null) {
      OriginHealth.Snapshot before = health.snapshot();
      if (health.reached(now)) {
        state.count(ManagerCounter.ORIGIN_UP_EVENTS);
        ManagerState.LOG
            .atInfo()
            .addKeyValue("origin", "up")
            .addKeyValue("web_server", state.config.webServer())
            .addKeyValue("down_ms", now - before.downSinceMillis())
            .log(
                "origin web server {} answers again after {} ms down",
                state.config.webServer(),
                now - before.downSinceMillis());
      }
    } else if (health.failed(now, f.status(), f.unreachable())) {
      state.count(ManagerCounter.ORIGIN_DOWN_EVENTS);
      ManagerState.LOG
          .atWarn()
          .addKeyValue("origin", "down")
          .addKeyValue("web_server", state.config.webServer())
          .addKeyValue("detail", f.unreachable())
          .log(
              "origin web server {} is down ({}): replicas serve what they hold; misses are"
                  + " answered {}",
              state.config.webServer(),
              f.unreachable(),
              f.status());
    }
  }

  /**
   * From the manager's tick: when nothing was heard from the origin for the probe interval, one
   * probe on the pool (never two at once; none when the pool is busy: misses are contact enough).
   */
  void probeIfDue() {
    if (!health.probeDue(state.clock.getAsLong(), probeMillis)
        || !probing.compareAndSet(false, true)) {
      return;
    }
    try {
      pool.execute(
          () -> {
            try {
              state.count(ManagerCounter.ORIGIN_PROBES);
              follow(fetcher.probe());
            } finally {
              probing.set(false);
            }
          });
    } catch (RejectedExecutionException e) {
      probing.set(false);
    }
  }

  /** What is known of the origin's web server now. */
  OriginHealth.Snapshot origin() {
    return health.snapshot();
  }

  void close() {
    pool.shutdownNow();
  }
}
