package net.hydranet.hydraweb.manager;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;
import net.hydranet.hydraweb.channel.AppCodec;
import net.hydranet.hydraweb.channel.AppMessage;
import net.hydranet.replica.ProtocolException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HydraWeb's replica manager, beside the origin's web server: installs replicas on host servers as
 * its {@link PlacementPolicy} decides from the origin's load, pre-heats them with the docroot's
 * objects, keeps them hot (a changed file is pushed, a removed one deleted), answers their misses
 * from the origin's web server, meters their hits, and removes them with a drain.
 *
 * <p>Pushes are reconciled, not fired and forgotten: every 200 ms, for each replica that has spoken
 * (READY, or a HITS answering a probe), what the docroot holds is compared with what that replica
 * has ACKed, and what differs is sent (at most 64 unacknowledged at a time; an unanswered one is
 * re-sent after 2 s, backing off to 30 s). So a replica whose channel is not up yet, a dropped APP,
 * or a reconnection costs a delay, never a lost update. The ACK of a PUT is the consistency point
 * (REPLICAS.md): {@link #ackedVersion} and {@link #ackedAtMillis} record it.
 *
 * <p>Threads: "hydraweb-manager" scans and pushes; "hydraweb-placement" samples the load, decides,
 * and runs the blocking INSTALL and REMOVE; a small pool fetches misses; the links' own threads
 * deliver replies, which only update state under the replica's lock.
 */
public final class ReplicaManager implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReplicaManager.class);

  static final long TICK_MS = 200;
  static final long HITS_EVERY_MS = 1_000;
  static final long PROBE_EVERY_MS = 1_000;
  static final long PLACEMENT_EVERY_MS = 1_000;
  static final int WINDOW = 64;
  static final long RETRY_FIRST_MS = 2_000;
  static final long RETRY_MAX_MS = 30_000;
  static final Duration INSTALL_TIMEOUT = Duration.ofSeconds(60);
  static final int FETCH_THREADS = 4;
  static final int FETCH_QUEUE = 256;

  /** Paths metered per replica: a replica (confined, but not trusted) cannot grow it further. */
  static final int MAX_METERED_PATHS = 100_000;

  private enum State {
    WAITING,
    READY,
    REMOVING
  }

  private enum Kind {
    PUT,
    DELETE,
    RULES,
    SLOT,
  }

  private record Push(
      long id, String key, Kind kind, String path, long version, long sentAt, long sentNanos) {}

  /**
   * Where the manager reports how long its own work took (the router binds it to Micrometer timers;
   * this module uses nothing but the JDK). Called on the manager's threads, never on a replica's.
   */
  public interface Timings {
    Timings NONE =
        new Timings() {
          @Override
          public void originFetch(long nanos) {}

          @Override
          public void push(boolean put, long nanos) {}
        };

    /** One fetch of a miss from the origin's web server, whatever it answered. */
    void originFetch(long nanos);

    /**
     * A PUT ({@code put}) or DELETE from planned (the file read, the message made for sending) to
     * ACKed, whatever the result; a re-sent one from its last sending.
     */
    void push(boolean put, long nanos);
  }

  /** One replica we installed; every field guarded by the object's lock. */
  private static final class Replica {
    final String name;
    final int host;
    final long installedAt;
    State state = State.WAITING;
    long readyAt;
    long preheatedAt = -1;
    long lastProbe = Long.MIN_VALUE / 2;
    long lastHits;
    String version = "?";
    final Map<String, Long> acked = new HashMap<>();
    final Map<String, Long> ackedAt = new HashMap<>();
    final Map<Long, Push> inflight = new HashMap<>();
    final Map<String, Push> inflightByKey = new HashMap<>();
    final Map<String, Integer> attempts = new HashMap<>();
    final Set<String> extra = new HashSet<>(); // docroot paths it caches from misses: kept hot
    boolean rulesDone;
    final Set<String> slotsDone = new HashSet<>();
    final Map<String, long[]> hits = new TreeMap<>(); // path → {last reported, total}
    long misses;
    long requests;
    long missesSeen;
    long requestsSeen;
    final LatencyTotals hitLatency = new LatencyTotals();
    final LatencyTotals missLatency = new LatencyTotals();

    Replica(String name, int host, long installedAt) {
      this.name = name;
      this.host = host;
      this.installedAt = installedAt;
    }

    void reset(long now) {
      state = State.READY;
      readyAt = now;
      preheatedAt = -1;
      acked.clear();
      ackedAt.clear();
      inflight.clear();
      inflightByKey.clear();
      attempts.clear();
      rulesDone = false;
      slotsDone.clear();
    }
  }

  private final ManagerConfig config;
  private final HostServerLink.Factory linkFactory;
  private final LoadSource load;
  private final LongSupplier clock;
  private final Docroot docroot;
  private final OriginFetcher fetcher;
  private final PlacementPolicy policy;
  private final HostServerLink[] links;
  private final long[] nextConnectAt;
  private final long[] connectBackoff;
  private final long[] installBackoff; // placement thread only
  private final long[] noInstallBefore; // placement thread only; nanoTime
  private final Map<String, Replica> replicas = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  private final AtomicLongArray counters = new AtomicLongArray(ManagerCounter.values().length);
  private final Set<String> loggedCauses = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService scheduler;
  private final ScheduledExecutorService placement;
  private final ThreadPoolExecutor fetchPool;
  private final HostServerLink.Listener listener;

  /** Misses being fetched, by "replica path": the miss ids waiting for that one fetch. */
  private final Map<String, List<Long>> fetching = new HashMap<>();

  private byte[] jar;
  private byte[] signature;
  private int nameCounter;
  private volatile double lastLoad = Double.NaN;
  private volatile Timings timings = Timings.NONE;
  private volatile boolean closed;

  /** The real thing: replica management connections and nginx's stub_status. */
  public static ReplicaManager create(ManagerConfig config) {
    if (config.originKey() == null) {
      throw new IllegalArgumentException("originKey missing");
    }
    for (ManagerConfig.HostServer h : config.hostServers()) {
      if (h.key() == null) {
        throw new IllegalArgumentException("host server " + h + " has no public key");
      }
    }
    return new ReplicaManager(
        config,
        ReplicaClientLink.factory(config.managerAddress(), config.originKey()),
        config.loadStatus() == null ? LoadSource.NONE : new NginxStubStatus(config.loadStatus()),
        System::currentTimeMillis);
  }

  public ReplicaManager(
      ManagerConfig config,
      HostServerLink.Factory linkFactory,
      LoadSource load,
      LongSupplier clockMillis) {
    this.config = config;
    this.linkFactory = linkFactory;
    this.load = load;
    this.clock = clockMillis;
    this.docroot =
        new Docroot(
            config.docroot(),
            config.preheat(),
            config.templates(),
            config.preheatBytes(),
            config.maxObjectBytes());
    this.fetcher =
        new OriginFetcher(config.webServer(), config.fetchTimeout(), config.maxObjectBytes());
    List<String> hosts = new ArrayList<>();
    config.hostServers().forEach(h -> hosts.add(h.toString()));
    this.policy = new PlacementPolicy(config.placement(), hosts);
    int n = config.hostServers().size();
    this.links = new HostServerLink[n];
    this.nextConnectAt = new long[n];
    this.connectBackoff = new long[n];
    this.installBackoff = new long[n];
    this.noInstallBefore = new long[n];
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> thread(r, "hydraweb-manager"));
    this.placement =
        Executors.newSingleThreadScheduledExecutor(r -> thread(r, "hydraweb-placement"));
    this.fetchPool =
        new ThreadPoolExecutor(
            FETCH_THREADS,
            FETCH_THREADS,
            30,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(FETCH_QUEUE),
            r -> thread(r, "hydraweb-fetch"));
    this.listener =
        new HostServerLink.Listener() {
          @Override
          public void onApp(String replica, byte[] payload) {
            ReplicaManager.this.onApp(replica, payload);
          }

          @Override
          public void onEvent(String replica, String state, String text) {
            ReplicaManager.this.onEvent(replica, state, text);
          }
        };
  }

  private static Thread thread(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** Reads the bundle, scans the docroot, and starts the duty cycles. */
  public synchronized ReplicaManager start() throws IOException {
    jar = Files.readAllBytes(config.bundleJar());
    signature = net.hydranet.replica.Bundle.readSignature(config.bundleSignature());
    docroot.scan();
    LOG.info(
        "replica manager for {} started: docroot {} ({} paths, {} to pre-heat, {} templates),"
            + " web server {}, {} host server(s) {}, placement {}",
        config.managerAddress().getHostAddress(),
        docroot.root(),
        docroot.all().size(),
        docroot.preheat().size(),
        docroot.templateCount(),
        config.webServer(),
        config.hostServers().size(),
        config.hostServers(),
        config.placement());
    scheduler.scheduleWithFixedDelay(this::tick, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
    placement.scheduleWithFixedDelay(
        this::placementTick, 0, PLACEMENT_EVERY_MS, TimeUnit.MILLISECONDS);
    return this;
  }

  // ---- the manager's duty cycle: scan, reconcile, poll hits ----

  private void tick() {
    try {
      long now = clock.getAsLong();
      try {
        int changes = docroot.scan();
        count(ManagerCounter.SCANS);
        if (changes > 0) {
          counters.addAndGet(ManagerCounter.CHANGES_DETECTED.ordinal(), changes);
        }
      } catch (IOException e) {
        logOnce("docroot scan failed", e);
      }
      for (Replica r : replicas.values()) {
        sync(r, now);
      }
    } catch (RuntimeException e) {
      logOnce("manager tick failed", e);
    }
  }

  private void sync(Replica r, long now) {
    List<byte[]> out = new ArrayList<>();
    synchronized (r) {
      if (r.state == State.WAITING) {
        if (now - r.lastProbe >= PROBE_EVERY_MS) {
          r.lastProbe = now;
          out.add(AppCodec.encode(new AppMessage.HitsQuery(ids.incrementAndGet())));
        }
      } else if (r.state == State.READY) {
        plan(r, now, out);
        if (now - r.lastHits >= HITS_EVERY_MS) {
          r.lastHits = now;
          out.add(AppCodec.encode(new AppMessage.HitsQuery(ids.incrementAndGet())));
          count(ManagerCounter.HITS_POLLS);
        }
      }
    }
    send(r, out);
  }

  /** What {@code r} lacks, as messages; under r's lock. */
  private void plan(Replica r, long now, List<byte[]> out) {
    for (Push p : new ArrayList<>(r.inflight.values())) {
      int attempt = r.attempts.getOrDefault(p.key(), 0);
      long delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS << Math.min(attempt, 10));
      if (now - p.sentAt() >= delay) {
        r.inflight.remove(p.id());
        r.inflightByKey.remove(p.key());
        r.attempts.put(p.key(), attempt + 1);
        count(ManagerCounter.RETRIES);
      }
    }
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
    for (Docroot.FileState fs : wanted.values()) {
      if (r.inflight.size() >= WINDOW) {
        break;
      }
      Long have = r.acked.get(fs.path());
      String key = "P" + fs.path();
      if ((have != null && have == fs.version()) || r.inflightByKey.containsKey(key)) {
        continue;
      }
      byte[] body;
      try {
        body = docroot.read(fs);
      } catch (IOException e) {
        count(ManagerCounter.READ_ERRORS);
        logOnce("cannot read " + fs.file(), e);
        continue;
      }
      if (body == null) {
        continue; // changed since the scan: the next scan has its new version
      }
      AppMessage.Content c =
          new AppMessage.Content(
              fs.path(),
              contentType(fs.path()),
              fs.mtimeMillis(),
              fs.version(),
              body,
              fs.template());
      out.add(push(r, now, Kind.PUT, key, fs.path(), fs.version(), new AppMessage.Put(0, c)));
      count(ManagerCounter.PUTS_SENT);
      planned++;
    }
    for (String path : new ArrayList<>(r.acked.keySet())) {
      String key = "P" + path;
      if (r.inflight.size() >= WINDOW) {
        break;
      }
      if (!wanted.containsKey(path) && !r.inflightByKey.containsKey(key)) {
        out.add(push(r, now, Kind.DELETE, key, path, 0, new AppMessage.Delete(0, path)));
        count(ManagerCounter.DELETES_SENT);
        planned++;
      }
    }
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

  /** The docroot paths {@code r} should hold: the pre-heat set and what it cached from misses. */
  private Map<String, Docroot.FileState> wanted(Replica r) {
    Map<String, Docroot.FileState> pre = docroot.preheat();
    if (r.extra.isEmpty()) {
      return pre;
    }
    Map<String, Docroot.FileState> w = new TreeMap<>(pre);
    for (String p : new ArrayList<>(r.extra)) {
      Docroot.FileState fs = docroot.get(p);
      if (fs != null && fs.size() <= config.maxObjectBytes()) {
        w.put(p, fs);
      } else if (!r.acked.containsKey(p)) {
        r.extra.remove(p);
      }
    }
    return w;
  }

  private byte[] push(
      Replica r, long now, Kind kind, String key, String path, long version, AppMessage m) {
    long id = ids.incrementAndGet();
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

  private void send(Replica r, List<byte[]> payloads) {
    if (payloads.isEmpty()) {
      return;
    }
    HostServerLink link = openLink(r.host);
    if (link == null) {
      counters.addAndGet(ManagerCounter.SEND_FAILURES.ordinal(), payloads.size());
      return; // re-sent when the link is back and the replica has spoken again
    }
    for (byte[] p : payloads) {
      try {
        link.sendApp(r.name, p);
      } catch (IOException e) {
        count(ManagerCounter.SEND_FAILURES);
        logOnce("sending to " + r.name + " failed", e);
        return;
      }
    }
  }

  // ---- what replicas say ----

  private void onApp(String name, byte[] payload) {
    Replica r = replicas.get(name);
    if (r == null) {
      return; // removed, or a READY racing its INSTALL's OK: the probe catches up
    }
    AppMessage m;
    try {
      m = AppCodec.decode(payload);
    } catch (ProtocolException e) {
      count(ManagerCounter.MALFORMED);
      logOnce("malformed message from " + name, e);
      return;
    }
    long now = clock.getAsLong();
    if (m instanceof AppMessage.Ack a) {
      onAck(r, a, now);
    } else if (m instanceof AppMessage.Miss miss) {
      onMiss(r, miss);
    } else if (m instanceof AppMessage.Hits h) {
      onHits(r, h, now);
    } else if (m instanceof AppMessage.Ready ready) {
      synchronized (r) {
        if (r.state != State.REMOVING) {
          r.reset(now);
          r.version = ready.version();
        }
      }
      LOG.info(
          "{} ready (replica {}): pushing {} objects", name, ready.version(), wanted(r).size());
    } else {
      count(ManagerCounter.MALFORMED);
      logOnce("unexpected message from " + name, new ProtocolException(m.toString()));
    }
  }

  private void onAck(Replica r, AppMessage.Ack a, long now) {
    long ackedNanos = System.nanoTime();
    Push p;
    synchronized (r) {
      p = r.inflight.remove(a.id());
      if (p == null) {
        count(ManagerCounter.ACKS_LATE);
        return;
      }
      r.inflightByKey.remove(p.key());
      r.attempts.remove(p.key());
      switch (a.result()) {
        case AppMessage.STORED -> count(ManagerCounter.ACKS_STORED);
        case AppMessage.STALE -> count(ManagerCounter.ACKS_STALE);
        case AppMessage.TOO_LARGE -> count(ManagerCounter.ACKS_TOO_LARGE);
        default -> count(ManagerCounter.ACKS_ERROR);
      }
      if (a.result() != AppMessage.STORED) {
        logOnce(
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
      timings.push(p.kind() == Kind.PUT, ackedNanos - p.sentNanos());
    }
  }

  private void onHits(Replica r, AppMessage.Hits h, long now) {
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
                  if (r.hits.size() >= MAX_METERED_PATHS) {
                    count(ManagerCounter.HITS_UNMETERED);
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

  private void onMiss(Replica r, AppMessage.Miss miss) {
    count(ManagerCounter.MISSES);
    String key = r.name + " " + miss.path();
    synchronized (fetching) {
      List<Long> waiting = fetching.get(key);
      if (waiting != null && waiting.size() < 10_000) {
        waiting.add(miss.missId()); // a flash crowd on one object costs the origin one fetch
        count(ManagerCounter.MISSES_COALESCED);
        return;
      }
      List<Long> ids = new ArrayList<>();
      ids.add(miss.missId());
      fetching.put(key, ids);
    }
    try {
      fetchPool.execute(() -> answer(r, key, miss.path()));
    } catch (RejectedExecutionException e) {
      count(ManagerCounter.FETCHES_REJECTED);
      List<Long> ids;
      synchronized (fetching) {
        ids = fetching.remove(key);
      }
      List<byte[]> out = new ArrayList<>();
      for (long id : ids) {
        out.add(AppCodec.encode(new AppMessage.Answer(id, 503, null, false)));
      }
      send(r, out);
    }
  }

  private void answer(Replica r, String key, String path) {
    List<Long> ids;
    try {
      long started = System.nanoTime();
      OriginFetcher.Result f = fetcher.fetch(path);
      timings.originFetch(System.nanoTime() - started);
      synchronized (fetching) {
        ids = fetching.remove(key);
      }
      List<byte[]> out = new ArrayList<>();
      for (long id : ids) {
        out.add(AppCodec.encode(answerOf(r, new AppMessage.Miss(id, path, false), f)));
      }
      send(r, out);
    } catch (RuntimeException e) {
      synchronized (fetching) {
        fetching.remove(key);
      }
      throw e;
    }
  }

  private AppMessage.Answer answerOf(Replica r, AppMessage.Miss miss, OriginFetcher.Result f) {
    AppMessage.Answer a;
    if (f.status() == 200) {
      count(ManagerCounter.ANSWERS_200);
      Docroot.FileState fs = docroot.get(miss.path());
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
      count(f.status() == 404 ? ManagerCounter.ANSWERS_404 : ManagerCounter.ANSWERS_ERROR);
      a = new AppMessage.Answer(miss.missId(), f.status(), null, false);
    }
    return a;
  }

  private void onEvent(String name, String state, String text) {
    LOG.info("host server event: {} {} {}", name, state, text);
    if (state.equals("exited") || state.equals("killed")) {
      Replica r = replicas.get(name);
      if (r != null) {
        boolean expected;
        synchronized (r) {
          expected = r.state == State.REMOVING;
        }
        if (!expected) {
          replicas.remove(name);
          count(ManagerCounter.REPLICAS_LOST);
          LOG.atWarn()
              .addKeyValue("action", "lost")
              .addKeyValue("replica", name)
              .addKeyValue("state", state)
              .addKeyValue("detail", text)
              .log("{} lost: {} ({}); placement may install another", name, state, text);
        }
      }
    }
  }

  // ---- placement: load, decisions, INSTALL, REMOVE (one thread) ----

  private long servedBefore = -1;
  private long servedAtNanos;

  /** Requests/s the replicas answered from their caches since the last tick (placement thread). */
  private double replicaServedRate() {
    long served = 0;
    for (Replica r : replicas.values()) {
      synchronized (r) {
        served += Math.max(0, r.requests - r.misses);
      }
    }
    long now = System.nanoTime();
    double rate = 0;
    if (servedBefore >= 0 && now > servedAtNanos && served >= servedBefore) {
      rate = (served - servedBefore) * 1e9 / (now - servedAtNanos);
    }
    servedBefore = served;
    servedAtNanos = now;
    return rate;
  }

  private void placementTick() {
    if (closed) {
      return;
    }
    try {
      double rate;
      try {
        rate = load.requestsPerSecond();
      } catch (IOException e) {
        logOnce("load source failed", e);
        rate = Double.NaN;
      }
      // The service's demand is what reaches the origin plus what its replicas answer themselves
      // (a replica's misses reach the origin and are in its count already): judged on the origin's
      // count alone, a replica that takes the load away looks like the load going away, and is
      // removed in the middle of the crowd it was installed for (seen in demo web).
      rate = rate + replicaServedRate();
      lastLoad = rate;
      reconnectLinks();
      List<PlacementPolicy.Running> running = new ArrayList<>();
      for (Replica r : replicas.values()) {
        synchronized (r) {
          if (r.state != State.REMOVING) {
            running.add(new PlacementPolicy.Running(r.name, r.host, r.installedAt));
          }
        }
      }
      PlacementPolicy.Decision d = policy.decide(clock.getAsLong(), rate, running, nextName());
      switch (d.action()) {
        case INSTALL -> {
          int h = d.hostIndex();
          if (System.nanoTime() - noInstallBefore[h] >= 0) {
            logDecision(d);
            if (installNow(h, d.replica())) {
              installBackoff[h] = 0;
            } else {
              // A refused bundle would be refused again: do not upload it every second.
              installBackoff[h] = Math.min(300_000, Math.max(5_000, installBackoff[h] * 2));
              noInstallBefore[h] = System.nanoTime() + installBackoff[h] * 1_000_000L;
              LOG.atWarn()
                  .addKeyValue("action", "backoff")
                  .addKeyValue("host", config.hostServers().get(h).toString())
                  .addKeyValue("backoff_s", installBackoff[h] / 1000)
                  .log(
                      "no install on {} for {} s",
                      config.hostServers().get(h),
                      installBackoff[h] / 1000);
            }
          }
        }
        case REMOVE -> {
          logDecision(d);
          removeNow(d.replica());
        }
        case NONE -> {
          // nothing to do
        }
      }
    } catch (RuntimeException e) {
      logOnce("placement failed", e);
    }
  }

  /**
   * A placement decision as one line: the reason in words, and as keys action (install, remove),
   * replica, host, reason (PlacementPolicy's cause), rps (the demand it was judged on), threshold
   * and for_s (how long the demand stayed past it).
   */
  private void logDecision(PlacementPolicy.Decision d) {
    var event =
        LOG.atInfo()
            .addKeyValue("action", d.action().name().toLowerCase(Locale.ROOT))
            .addKeyValue("replica", d.replica())
            .addKeyValue("host", config.hostServers().get(d.hostIndex()).toString())
            .addKeyValue("reason", d.cause());
    if (Double.isFinite(d.load())) {
      event = event.addKeyValue("rps", Math.round(d.load() * 10) / 10.0);
    }
    if (Double.isFinite(d.threshold())) {
      event = event.addKeyValue("threshold", d.threshold());
    }
    if (d.sustainedMillis() > 0) {
      event = event.addKeyValue("for_s", d.sustainedMillis() / 1000.0);
    }
    event.log(d.reason());
  }

  /** The outcome of an install or remove: action, replica, host, result and the reply's text. */
  private static void logOutcome(
      boolean warn, String action, String name, Object host, String result, String detail) {
    (warn ? LOG.atWarn() : LOG.atInfo())
        .addKeyValue("action", action)
        .addKeyValue("replica", name)
        .addKeyValue("host", String.valueOf(host))
        .addKeyValue("result", result)
        .addKeyValue("detail", detail)
        .log("{} of {} on {}: {}: {}", action, name, host, result, detail);
  }

  private String nextName() {
    String n;
    int i = nameCounter;
    do {
      n = config.namePrefix() + "-" + ++i;
    } while (replicas.containsKey(n));
    return n;
  }

  /** Installs {@code name} on host server {@code host}; on the placement thread. */
  private boolean installNow(int host, String name) {
    HostServerLink link = connect(host);
    if (link == null) {
      count(ManagerCounter.INSTALL_FAILURES);
      logOutcome(
          true,
          "install",
          name,
          config.hostServers().get(host),
          "failed",
          "host server unreachable");
      return false;
    }
    nameCounter++;
    Replica r = new Replica(name, host, clock.getAsLong());
    replicas.put(name, r); // before INSTALL: its READY may come before the OK
    HostServerLink.Reply reply;
    try {
      reply = link.install(name, jar, signature, INSTALL_TIMEOUT);
    } catch (IOException e) {
      reply = new HostServerLink.Reply(false, e.getMessage());
    }
    if (!reply.ok()) {
      replicas.remove(name);
      count(ManagerCounter.INSTALL_FAILURES);
      logOutcome(true, "install", name, config.hostServers().get(host), "failed", reply.text());
      return false;
    }
    count(ManagerCounter.INSTALLS);
    logOutcome(false, "install", name, config.hostServers().get(host), "ok", reply.text());
    return true;
  }

  /** Removes {@code name} with the configured drain; on the placement thread. */
  private boolean removeNow(String name) {
    Replica r = replicas.get(name);
    if (r == null) {
      return false;
    }
    synchronized (r) {
      r.state = State.REMOVING;
    }
    HostServerLink link = connect(r.host);
    HostServerLink.Reply reply;
    if (link == null) {
      reply = new HostServerLink.Reply(false, "host server unreachable");
    } else {
      try {
        reply =
            link.remove(
                name,
                config.drainMillis(),
                Duration.ofMillis(config.drainMillis()).plusSeconds(30));
      } catch (IOException e) {
        reply = new HostServerLink.Reply(false, e.getMessage());
      }
    }
    replicas.remove(name);
    if (!reply.ok()) {
      count(ManagerCounter.REMOVE_FAILURES);
      logOutcome(true, "remove", name, config.hostServers().get(r.host), "failed", reply.text());
      return false;
    }
    count(ManagerCounter.REMOVES);
    logOutcome(false, "remove", name, config.hostServers().get(r.host), "ok", reply.text());
    return true;
  }

  // ---- links ----

  /** True while the manager holds an authenticated connection to host server {@code host}. */
  public boolean isConnected(int host) {
    return openLink(host) != null;
  }

  private synchronized HostServerLink openLink(int host) {
    HostServerLink l = links[host];
    return l != null && l.isOpen() ? l : null;
  }

  /** The link to {@code host}, connecting if needed (with backoff); null if unreachable. */
  private HostServerLink connect(int host) {
    HostServerLink l = openLink(host);
    if (l != null) {
      return l;
    }
    long now = System.nanoTime();
    synchronized (this) {
      if (now - nextConnectAt[host] < 0) {
        return null;
      }
    }
    ManagerConfig.HostServer hs = config.hostServers().get(host);
    try {
      l = linkFactory.connect(hs, listener);
    } catch (IOException e) {
      synchronized (this) {
        connectBackoff[host] = Math.min(30_000, Math.max(500, connectBackoff[host] * 2));
        nextConnectAt[host] = now + connectBackoff[host] * 1_000_000L;
      }
      logOnce("cannot connect to host server " + hs, e);
      return null;
    }
    synchronized (this) {
      HostServerLink old = links[host];
      links[host] = l;
      connectBackoff[host] = 0;
      if (old != null) {
        old.close();
      }
    }
    LOG.info("connected to host server {}", hs);
    return l;
  }

  /** Reconnects to host servers that run our replicas; those replicas wait for a probe again. */
  private void reconnectLinks() {
    for (int h = 0; h < links.length; h++) {
      boolean used = false;
      for (Replica r : replicas.values()) {
        used |= r.host == h;
      }
      if (!used || openLink(h) != null) {
        continue;
      }
      for (Replica r : replicas.values()) {
        synchronized (r) {
          if (r.host == h && r.state == State.READY) {
            r.state = State.WAITING;
          }
        }
      }
      HostServerLink l = connect(h);
      if (l != null) {
        forgetLost(h, l);
      }
    }
  }

  /**
   * After a reconnection: replicas the host server no longer runs (their EVENT was lost with the
   * connection) are forgotten, so placement can install again.
   */
  private void forgetLost(int h, HostServerLink l) {
    Set<String> alive = new HashSet<>();
    try {
      for (HostServerLink.Status s : l.status("", Duration.ofSeconds(10))) {
        if (!s.state().equals("exited") && !s.state().equals("killed")) {
          alive.add(s.name());
        }
      }
    } catch (IOException e) {
      logOnce("status from " + config.hostServers().get(h) + " failed", e);
      return;
    }
    for (Replica r : new ArrayList<>(replicas.values())) {
      if (r.host == h && !alive.contains(r.name)) {
        replicas.remove(r.name);
        count(ManagerCounter.REPLICAS_LOST);
        LOG.warn(
            "{} is gone from {} (not in its status after a reconnection)",
            r.name,
            config.hostServers().get(h));
      }
    }
  }

  // ---- for the CLI, ctl and tests ----

  /** Installs a replica on host server {@code hostIndex} now; its name, or null on failure. */
  public String install(int hostIndex) throws IOException {
    if (hostIndex < 0 || hostIndex >= links.length) {
      throw new IllegalArgumentException("no host server " + hostIndex);
    }
    return onPlacementThread(
        () -> {
          String name = nextName();
          LOG.atInfo()
              .addKeyValue("action", "install")
              .addKeyValue("replica", name)
              .addKeyValue("host", config.hostServers().get(hostIndex).toString())
              .addKeyValue("reason", "operator")
              .log(
                  "installing {} on {}: asked by the operator",
                  name,
                  config.hostServers().get(hostIndex));
          return installNow(hostIndex, name) ? name : null;
        },
        INSTALL_TIMEOUT.plusSeconds(10));
  }

  /** Removes {@code name} now (with the drain); true if the host server said OK. */
  public boolean remove(String name) throws IOException {
    Boolean ok =
        onPlacementThread(
            () -> {
              LOG.atInfo()
                  .addKeyValue("action", "remove")
                  .addKeyValue("replica", name)
                  .addKeyValue("reason", "operator")
                  .log("removing {}: asked by the operator", name);
              return removeNow(name);
            },
            Duration.ofMillis(config.drainMillis()).plusSeconds(40));
    return ok != null && ok;
  }

  private <T> T onPlacementThread(java.util.concurrent.Callable<T> task, Duration timeout)
      throws IOException {
    try {
      return placement.submit(task).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
      throw new IOException("placement did not finish: " + e, e);
    }
  }

  /** Where to report fetch and push times from now on. */
  public void timings(Timings t) {
    timings = java.util.Objects.requireNonNull(t, "timings");
  }

  /** Names of the replicas this manager runs. */
  public List<String> replicaNames() {
    return new ArrayList<>(new TreeMap<>(replicas).keySet());
  }

  /** True once {@code name} has ACKed everything it should hold. */
  public boolean isPreheated(String name) {
    Replica r = replicas.get(name);
    if (r == null) {
      return false;
    }
    synchronized (r) {
      return r.state == State.READY && r.preheatedAt >= 0;
    }
  }

  /** The version of {@code path} that {@code name} has ACKed, or -1. */
  public long ackedVersion(String name, String path) {
    Replica r = replicas.get(name);
    if (r == null) {
      return -1;
    }
    synchronized (r) {
      return r.acked.getOrDefault(path, -1L);
    }
  }

  /** When {@code name} ACKed its version of {@code path} (the manager's clock), or -1. */
  public long ackedAtMillis(String name, String path) {
    Replica r = replicas.get(name);
    if (r == null) {
      return -1;
    }
    synchronized (r) {
      return r.ackedAt.getOrDefault(path, -1L);
    }
  }

  /** The docroot's current version of {@code path}, or -1. */
  public long docrootVersion(String path) {
    Docroot.FileState fs = docroot.get(path);
    return fs == null ? -1 : fs.version();
  }

  /** Hits per path served by {@code name} since it was installed. */
  public Map<String, Long> hits(String name) {
    Replica r = replicas.get(name);
    Map<String, Long> m = new LinkedHashMap<>();
    if (r != null) {
      synchronized (r) {
        r.hits.forEach((p, c) -> m.put(p, c[1]));
      }
    }
    return m;
  }

  /**
   * One replica's figures as it reports them (summed across its restarts of the count): hits on
   * metered paths, misses and requests, and the service time of its hits and of its misses (null
   * until its first report).
   */
  public record ReplicaFigures(
      String name,
      String hostServer,
      long hits,
      long misses,
      long requests,
      AppMessage.Latency hitLatency,
      AppMessage.Latency missLatency) {}

  /** The hits a replica reported, over every path; the caller holds its lock. */
  private static long totalHits(Replica r) {
    long hits = 0;
    for (long[] c : r.hits.values()) {
      hits += c[1];
    }
    return hits;
  }

  /** Every replica this manager runs, with its figures; the set is bounded by the placement. */
  public List<ReplicaFigures> replicaFigures() {
    List<ReplicaFigures> out = new ArrayList<>();
    for (String name : replicaNames()) {
      Replica r = replicas.get(name);
      if (r == null) {
        continue;
      }
      synchronized (r) {
        long hits = totalHits(r);
        out.add(
            new ReplicaFigures(
                name,
                config.hostServers().get(r.host).toString(),
                hits,
                r.misses,
                r.requests,
                r.hitLatency.snapshot(),
                r.missLatency.snapshot()));
      }
    }
    return out;
  }

  /** Host servers this manager has a replica management connection to. */
  public int hostServersConnected() {
    int n = 0;
    for (int i = 0; i < config.hostServers().size(); i++) {
      n += isConnected(i) ? 1 : 0;
    }
    return n;
  }

  /** The last load sample, requests/s (NaN when unknown). */
  public double load() {
    return lastLoad;
  }

  public long counter(ManagerCounter c) {
    return counters.get(c.ordinal());
  }

  public Map<ManagerCounter, Long> counters() {
    Map<ManagerCounter, Long> m = new EnumMap<>(ManagerCounter.class);
    for (ManagerCounter c : ManagerCounter.values()) {
      m.put(c, counter(c));
    }
    return m;
  }

  /** A text table of the replicas, their state and hits, for {@code hydranet manager status}. */
  public String snapshot() {
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT,
            "origin %s  load %s req/s  docroot %d paths (%d pre-heated, %d templates)%n",
            config.managerAddress().getHostAddress(),
            Double.isNaN(lastLoad) ? "?" : String.format(Locale.ROOT, "%.0f", lastLoad),
            docroot.all().size(),
            docroot.preheat().size(),
            docroot.templateCount()));
    b.append(
        String.format(
            Locale.ROOT,
            "%-20s %-16s %-9s %8s %8s %10s %10s %10s%n",
            "REPLICA",
            "HOST SERVER",
            "STATE",
            "ACKED",
            "PENDING",
            "HITS",
            "MISSES",
            "REQUESTS"));
    List<String> names = replicaNames();
    for (String name : names) {
      Replica r = replicas.get(name);
      if (r == null) {
        continue;
      }
      synchronized (r) {
        long hits = totalHits(r);
        String state =
            r.state == State.READY ? (r.preheatedAt >= 0 ? "hot" : "heating") : r.state.name();
        b.append(
            String.format(
                Locale.ROOT,
                "%-20s %-16s %-9s %8d %8d %10d %10d %10d%n",
                name,
                config.hostServers().get(r.host),
                state.toLowerCase(Locale.ROOT),
                r.acked.size(),
                r.inflight.size(),
                hits,
                r.misses,
                r.requests));
      }
    }
    for (String name : names) {
      Map<String, Long> h = hits(name);
      if (h.isEmpty()) {
        continue;
      }
      b.append(String.format(Locale.ROOT, "%nhits on %s:%n", name));
      h.entrySet().stream()
          .sorted((x, y) -> Long.compare(y.getValue(), x.getValue()))
          .limit(20)
          .forEach(
              e -> b.append(String.format(Locale.ROOT, "%10d  %s%n", e.getValue(), e.getKey())));
    }
    return b.toString();
  }

  /**
   * Stops the duty cycles; removes the replicas it installed if the config says so (each with its
   * drain, one after the other), and closes the links.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    scheduler.shutdownNow();
    if (config.removeOnClose()) {
      for (String name : replicaNames()) {
        try {
          placement
              .submit(() -> removeNow(name))
              .get(config.drainMillis() + 40_000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        } catch (ExecutionException | TimeoutException | RejectedExecutionException e) {
          LOG.warn("remove of {} on close failed: {}", name, e.toString());
        }
      }
    }
    placement.shutdownNow();
    fetchPool.shutdownNow();
    try {
      scheduler.awaitTermination(2, TimeUnit.SECONDS);
      placement.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (this) {
      for (int i = 0; i < links.length; i++) {
        if (links[i] != null) {
          links[i].close();
          links[i] = null;
        }
      }
    }
    LOG.info("replica manager stopped; counters {}", nonZero());
  }

  private Map<ManagerCounter, Long> nonZero() {
    Map<ManagerCounter, Long> m = counters();
    m.values().removeIf(v -> v == 0);
    return m;
  }

  private void count(ManagerCounter c) {
    counters.incrementAndGet(c.ordinal());
  }

  private void logOnce(String what, Exception e) {
    String cause = what + ": " + e;
    if (loggedCauses.size() < 256 && loggedCauses.add(cause)) {
      LOG.warn("{} (logged once)", cause);
    }
  }

  static String contentType(String path) {
    return net.hydranet.hydraweb.HydraWebMain.contentType(path.endsWith("/") ? "index.html" : path);
  }
}
