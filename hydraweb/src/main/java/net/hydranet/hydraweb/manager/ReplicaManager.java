package net.hydranet.hydraweb.manager;

import static net.hydranet.hydraweb.manager.ManagerState.LOG;

import java.io.IOException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import net.hydranet.hydraweb.channel.AppCodec;
import net.hydranet.hydraweb.channel.AppMessage;
import net.hydranet.hydraweb.manager.ManagedReplica.State;
import net.hydranet.replica.ProtocolException;

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
 * <p>Its parts, each with its thread: {@link PushReconciler} ("hydraweb-manager": scan and push),
 * {@link Placement} ("hydraweb-placement": load, decisions, the blocking INSTALL and REMOVE),
 * {@link MissFetcher} (a pool of "hydraweb-fetch" threads), {@link HitMeter} and the ACK and READY
 * handling (the links' own threads, which only update state under the replica's lock), {@link
 * HostServerLinks} (the links, any thread) and {@link ManagerView} (read-only, any thread). What
 * they share is {@link ManagerState}; each {@link ManagedReplica} is guarded by its own lock.
 */
public final class ReplicaManager implements AutoCloseable {
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

  private final ManagerState state;
  private final HostServerLinks links;
  private final PushReconciler pushes;
  private final MissFetcher misses;
  private final HitMeter hits;
  private final Placement placement;
  private final ManagerView view;
  private final ScheduledExecutorService scheduler;
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
        ReplicaClientLink.factory(
            config.managerAddress(), config.managerAddress6(), config.originKey()),
        config.loadStatus() == null ? LoadSource.NONE : new NginxStubStatus(config.loadStatus()),
        System::currentTimeMillis);
  }

  public ReplicaManager(
      ManagerConfig config,
      HostServerLink.Factory linkFactory,
      LoadSource load,
      LongSupplier clockMillis) {
    this.state = new ManagerState(config, clockMillis);
    this.links =
        new HostServerLinks(
            state,
            linkFactory,
            new HostServerLink.Listener() {
              @Override
              public void onApp(String replica, byte[] payload) {
                ReplicaManager.this.onApp(replica, payload);
              }

              @Override
              public void onEvent(String replica, String st, String text) {
                ReplicaManager.this.onEvent(replica, st, text);
              }
            });
    this.pushes = new PushReconciler(state, links);
    this.misses = new MissFetcher(state, links);
    this.hits = new HitMeter(state);
    this.placement = new Placement(state, links, load);
    this.view = new ManagerView(state, links, placement, misses);
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> thread(r, "hydraweb-manager"));
  }

  static Thread thread(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** Reads the bundle, scans the docroot, and starts the duty cycles. */
  public synchronized ReplicaManager start() throws IOException {
    placement.readBundle();
    Docroot docroot = state.docroot;
    docroot.scan();
    ManagerConfig config = state.config;
    LOG.info(
        "replica manager for {} started: docroot {} ({} paths, {} to pre-heat, {} templates),"
            + " web server {}, {} host server(s) {}, placement {}",
        config.managerAddressesText(),
        docroot.root(),
        docroot.all().size(),
        docroot.preheat().size(),
        docroot.templateCount(),
        config.webServer(),
        config.hostServers().size(),
        config.hostServers(),
        config.placement());
    scheduler.scheduleWithFixedDelay(pushes::tick, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
    scheduler.scheduleWithFixedDelay(
        misses::probeIfDue, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS); // never blocks: on the pool
    placement.start();
    return this;
  }

  // ---- what replicas say, on the links' threads ----

  private void onApp(String name, byte[] payload) {
    ManagedReplica r = state.replicas.get(name);
    if (r == null) {
      return; // removed, or a READY racing its INSTALL's OK: the probe catches up
    }
    AppMessage m;
    try {
      m = AppCodec.decode(payload);
    } catch (ProtocolException e) {
      state.count(ManagerCounter.MALFORMED);
      state.logOnce("malformed message from " + name, e);
      return;
    }
    long now = state.clock.getAsLong();
    if (m instanceof AppMessage.Ack a) {
      pushes.onAck(r, a, now);
    } else if (m instanceof AppMessage.Miss miss) {
      misses.onMiss(r, miss);
    } else if (m instanceof AppMessage.Hits h) {
      hits.onHits(r, h, now);
    } else if (m instanceof AppMessage.Ready ready) {
      pushes.onReady(r, ready, now);
    } else {
      state.count(ManagerCounter.MALFORMED);
      state.logOnce("unexpected message from " + name, new ProtocolException(m.toString()));
    }
  }

  /** A replica exited or was killed without our asking: forget it, so placement may install. */
  private void onEvent(String name, String st, String text) {
    LOG.info("host server event: {} {} {}", name, st, text);
    if (st.equals("exited") || st.equals("killed")) {
      ManagedReplica r = state.replicas.get(name);
      if (r != null) {
        boolean expected;
        synchronized (r) {
          expected = r.state == State.REMOVING;
        }
        if (!expected) {
          state.replicas.remove(name);
          state.count(ManagerCounter.REPLICAS_LOST);
          LOG.atWarn()
              .addKeyValue("action", "lost")
              .addKeyValue("replica", name)
              .addKeyValue("state", st)
              .addKeyValue("detail", text)
              .log("{} lost: {} ({}); placement may install another", name, st, text);
        }
      }
    }
  }

  // ---- for the CLI, ctl and tests ----

  /** True while the manager holds an authenticated connection to host server {@code host}. */
  public boolean isConnected(int host) {
    return view.isConnected(host);
  }

  /** Installs a replica on host server {@code hostIndex} now; its name, or null on failure. */
  public String install(int hostIndex) throws IOException {
    if (hostIndex < 0 || hostIndex >= links.size()) {
      throw new IllegalArgumentException("no host server " + hostIndex);
    }
    return placement.install(hostIndex);
  }

  /** Removes {@code name} now (with the drain); true if the host server said OK. */
  public boolean remove(String name) throws IOException {
    return placement.remove(name);
  }

  /** Where to report fetch and push times from now on. */
  public void timings(Timings t) {
    state.timings = Objects.requireNonNull(t, "timings");
  }

  /** Names of the replicas this manager runs. */
  public List<String> replicaNames() {
    return view.replicaNames();
  }

  /** True once {@code name} has ACKed everything it should hold. */
  public boolean isPreheated(String name) {
    return view.isPreheated(name);
  }

  /** The version of {@code path} that {@code name} has ACKed, or -1. */
  public long ackedVersion(String name, String path) {
    return view.ackedVersion(name, path);
  }

  /** When {@code name} ACKed its version of {@code path} (the manager's clock), or -1. */
  public long ackedAtMillis(String name, String path) {
    return view.ackedAtMillis(name, path);
  }

  /** The docroot's current version of {@code path}, or -1. */
  public long docrootVersion(String path) {
    return view.docrootVersion(path);
  }

  /** Hits per path served by {@code name} since it was installed. */
  public Map<String, Long> hits(String name) {
    return view.hits(name);
  }

  /** Every replica this manager runs, with its figures; the set is bounded by the placement. */
  public List<ReplicaFigures> replicaFigures() {
    return view.replicaFigures();
  }

  /** Host servers this manager has a replica management connection to. */
  public int hostServersConnected() {
    return view.hostServersConnected();
  }

  /**
   * The origin's web server as the manager last saw it.
   *
   * @param state "unknown" (not contacted yet), "up" or "down"
   * @param lastContactMillis when it last answered (the manager's clock), or -1
   * @param downSinceMillis since when it is down, or -1
   * @param status what misses are answered while it is down (502 or 504), else 0
   * @param failure why it is down, in words, or null
   */
  public record OriginStatus(
      String state, long lastContactMillis, long downSinceMillis, int status, String failure) {
    public boolean down() {
      return state.equals("down");
    }
  }

  /** What the manager knows of its origin's web server now (any thread). */
  public OriginStatus origin() {
    return view.origin();
  }

  /** The last load sample, requests/s (NaN when unknown). */
  public double load() {
    return placement.load();
  }

  public long counter(ManagerCounter c) {
    return state.counter(c);
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
    return view.snapshot();
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
    placement.stopDeciding();
    scheduler.shutdownNow();
    if (state.config.removeOnClose()) {
      placement.removeAll(replicaNames());
    }
    placement.shutdownNow();
    misses.close();
    try {
      scheduler.awaitTermination(2, TimeUnit.SECONDS);
      placement.awaitTermination(2);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    links.closeAll();
    LOG.info("replica manager stopped; counters {}", nonZero());
  }

  private Map<ManagerCounter, Long> nonZero() {
    Map<ManagerCounter, Long> m = counters();
    m.values().removeIf(v -> v == 0);
    return m;
  }

  static String contentType(String path) {
    return net.hydranet.hydraweb.HydraWebMain.contentType(path.endsWith("/") ? "index.html" : path);
  }
}
