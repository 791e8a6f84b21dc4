package net.hydranet.hostserver.replica;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.hydranet.replica.OriginAddress;
import net.hydranet.replica.ReplicaSession;
import net.hydranet.replica.ReplicaStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host server's side of replica management (REPLICAS.md): a TCP server on the control address
 * alone that authenticates origins' managers, installs their signed bundles as confined replicas,
 * reports on them, relays application messages between manager and replica, and removes them.
 *
 * <p>Its parts, each with the threads it runs on: {@link ManagerListener} (the acceptor thread, and
 * a reader thread per connection: at most {@link Context#maxConnections} in all, {@link
 * Context#maxPerOrigin} per origin) admits and authenticates managers and hands each request to
 * {@link Installer}, {@link Remover} (one thread per removal in progress), {@link StatusReport} or
 * {@link AppRelay} (also on each replica channel's reader thread); {@link ReplicaTable} is the one
 * shared state, under its own lock, and {@link Managers} the authenticated connections. Everything
 * a connection sends that breaks the protocol closes that connection alone and is counted; nothing
 * a manager sends can stop the service or touch another origin's replicas.
 */
public final class ReplicaService implements AutoCloseable {
  /** One logger for every part, so the service's log reads as before it had parts. */
  static final Logger LOG = LoggerFactory.getLogger(ReplicaService.class);

  /** Tells the routing protocol to send no new flows to an origin's services here. */
  public interface Drainer {
    /**
     * Announce {@code ports} ("tcp/80") of {@code origin} (IPv4 or IPv6) at weight 0 from now on.
     */
    void drain(InetAddress origin, List<String> ports);

    /** The replica is gone: its ports may be announced normally again when bound again. */
    default void drained(InetAddress origin, List<String> ports) {}

    Drainer NONE = (origin, ports) -> {};
  }

  /** The service's settings, with defaults; {@link #conclude} says which field is wrong. */
  public static final class Context {
    int address;
    InetAddress address6;
    int port = ReplicaSession.PORT;
    PrivateKey key;
    Path stateDir;
    List<Origin> origins = List.of();
    Launcher launcher = Launcher.direct();
    Drainer drainer = Drainer.NONE;
    Path cgroupRoot = Path.of("/sys/fs/cgroup");
    String cgroupParent = "hydranet";
    int firstUid = 61_000;
    int slots = 1000;
    int maxConnections = 64;
    int maxPerOrigin = 8;
    int maxHandshakes = 32;
    int maxHandshakesPerSource = 4;
    int helloTimeoutMillis = 5000;
    int maxFrameBytes = 64 << 20;
    long killWaitMillis = 5000;
    long logBytes = ReplicaLog.DEFAULT_MAX_BYTES;

    /**
     * The control address: the only IPv4 address the service listens on (when an origin's manager
     * is IPv4), and its HELLO address there.
     */
    public Context address(int a) {
      address = a;
      return this;
    }

    /**
     * The IPv6 address the service listens on (when an origin's manager is IPv6), and its HELLO
     * address there; null: none, and no origin's manager may be IPv6.
     */
    public Context address6(InetAddress a) {
      address6 = a;
      return this;
    }

    /** 0 for any free port (tests). */
    public Context port(int p) {
      port = p;
      return this;
    }

    public Context key(PrivateKey k) {
      key = k;
      return this;
    }

    public Context stateDir(Path p) {
      stateDir = p;
      return this;
    }

    public Context origins(List<Origin> o) {
      origins = List.copyOf(o);
      return this;
    }

    public Context launcher(Launcher l) {
      launcher = l;
      return this;
    }

    public Context drainer(Drainer d) {
      drainer = d;
      return this;
    }

    public Context cgroupRoot(Path p) {
      cgroupRoot = p;
      return this;
    }

    public Context cgroupParent(String p) {
      cgroupParent = p;
      return this;
    }

    public Context firstUid(int u) {
      firstUid = u;
      return this;
    }

    /** The most a replica's output may take on disk (its log and the rotated one together). */
    public Context logBytes(long b) {
      logBytes = b;
      return this;
    }

    public Context killWaitMillis(long m) {
      killWaitMillis = m;
      return this;
    }

    /** The whole HELLO must have arrived this long after the connection was accepted. */
    public Context helloTimeoutMillis(int m) {
      helloTimeoutMillis = m;
      return this;
    }

    /** Connections in their HELLO at once, in all. */
    public Context maxHandshakes(int n) {
      maxHandshakes = n;
      return this;
    }

    /**
     * Connections in their HELLO at once from one manager's address; one more evicts the oldest.
     */
    public Context maxHandshakesPerSource(int n) {
      maxHandshakesPerSource = n;
      return this;
    }

    public Context conclude() {
      if (key == null) {
        throw new IllegalArgumentException("replicas: key: the host server's private key is unset");
      }
      if (stateDir == null) {
        throw new IllegalArgumentException("replicas: stateDir is unset");
      }
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("replicas: port " + port + " outside 0..65535");
      }
      if (origins.isEmpty()) {
        throw new IllegalArgumentException("replicas: origins: none configured");
      }
      Map<InetAddress, Origin> seen = new HashMap<>();
      for (Origin o : origins) {
        if (seen.put(o.manager(), o) != null) {
          throw new IllegalArgumentException(
              "replicas: origins: manager " + format(o.manager()) + " is listed twice");
        }
      }
      checkFamilies();
      if (!cgroupParent.matches("[A-Za-z0-9_.-]+")) {
        throw new IllegalArgumentException("replicas: cgroupParent: not a plain name");
      }
      if (firstUid < 1000) {
        throw new IllegalArgumentException("replicas: firstUid below 1000");
      }
      if (helloTimeoutMillis < 1 || maxHandshakes < 1 || maxHandshakesPerSource < 1) {
        throw new IllegalArgumentException(
            "replicas: helloTimeoutMillis, maxHandshakes and maxHandshakesPerSource must be ≥ 1");
      }
      if (logBytes < 1024) {
        throw new IllegalArgumentException("replicas: logBytes below 1024");
      }
      return this;
    }

    /**
     * Each family the managers use has an address to listen on, and none is listened on for nobody:
     * an IPv6 manager needs {@code address6} (global unicast), and {@code address6} an IPv6
     * manager.
     */
    private void checkFamilies() {
      boolean v4 = origins.stream().anyMatch(o -> o.manager() instanceof Inet4Address);
      boolean v6 = origins.stream().anyMatch(o -> o.manager() instanceof Inet6Address);
      if (v4 && address == 0) {
        throw new IllegalArgumentException(
            "replicas: an origin's manager is IPv4 but the service has no IPv4 address");
      }
      if (address6 != null) {
        if (!(address6 instanceof Inet6Address)
            || address6.isAnyLocalAddress()
            || address6.isLinkLocalAddress()
            || address6.isMulticastAddress()) {
          throw new IllegalArgumentException(
              "replicas: address6 "
                  + address6.getHostAddress()
                  + " is not an IPv6 unicast address the service can bind to alone");
        }
        if (!v6) {
          throw new IllegalArgumentException(
              "replicas: address6 "
                  + format(address6)
                  + " is set but no origin's manager is IPv6: nothing would connect to it");
        }
      }
      if (v6 && address6 == null) {
        Origin o =
            origins.stream().filter(x -> x.manager() instanceof Inet6Address).findFirst().get();
        throw new IllegalArgumentException(
            "replicas: origin manager "
                + format(o.manager())
                + " is IPv6, so the service needs address6 (its IPv6 address) to listen on");
      }
    }
  }

  private final Context ctx;
  private final ReplicaCounters counters = new ReplicaCounters();
  private final ReplicaFiles files;
  private final ReplicaTable table;
  private final Remover remover;
  private final StatusReport status;
  private final ManagerListener listener;
  private ParentGroup parentGroup;

  public ReplicaService(Context context) {
    this.ctx = context.conclude();
    files = new ReplicaFiles(ctx.stateDir.resolve("replicas"));
    table = new ReplicaTable(ctx.slots);
    Managers managers = new Managers();
    AppRelay relay = new AppRelay(table, managers, counters);
    remover = new Remover(ctx, counters, table, files);
    Installer installer = new Installer(ctx, counters, table, files, managers, relay, remover);
    status = new StatusReport(table);
    listener =
        new ManagerListener(
            ctx,
            counters,
            managers,
            new ManagerConnection.Handlers(
                installer::install, remover::remove, status::status, relay::app));
  }

  /** Binds the control address and starts accepting. */
  public ReplicaService start() throws IOException {
    Path root = replicasDir();
    Files.createDirectories(root);
    Path configured = ctx.cgroupRoot;
    ctx.cgroupRoot = Confinement.visibleRoot(configured, ctx.stateDir.resolve("cgroup"));
    if (!ctx.cgroupRoot.equals(configured)) {
      LOG.info("replica service: cgroup v1 controllers mounted at {}", ctx.cgroupRoot);
    }
    // Traversable by the replicas' users (each needs its own directory), listable by none.
    Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwx--x--x"));
    remover.removeLeftovers();
    parentGroup = new ParentGroup(ctx.cgroupRoot, Confinement.ownCgroup(), ctx.cgroupParent);
    for (Path g : parentGroup.removeLeftovers()) {
      LOG.info("replica service: empty cgroup {} left from an earlier run removed", g);
    }
    listener.start();
    LOG.info(
        "replica service on {} port {}/tcp for {} origin(s)",
        listener.addressesText(),
        listener.port(),
        ctx.origins.size());
    return this;
  }

  public int port() {
    return listener.port();
  }

  public ReplicaCounters counters() {
    return counters;
  }

  Path replicasDir() {
    return files.root();
  }

  /** Every installed replica's status, for {@code hydranet ctl replicas}. */
  public List<ReplicaStatus> statuses() {
    return status.statuses();
  }

  /** The origin (dotted) each replica serves as, by name, for {@code hydranet ctl replicas}. */
  public Map<String, String> origins() {
    return status.origins();
  }

  @Override
  public void close() {
    listener.close();
  }

  /**
   * Stops every replica now (no drain) and deletes their state, and the parent cgroup when it is
   * empty then (ParentGroup): the host server is leaving.
   */
  public void removeAll() {
    remover.removeAll();
    if (parentGroup != null) {
      for (Path g : parentGroup.removeOnStop()) {
        LOG.info("replica service: cgroup {} removed", g);
      }
    }
  }

  static void deleteTree(Path dir) throws IOException {
    ReplicaFiles.deleteTree(dir);
  }

  static String format(int a) {
    return ((a >>> 24) & 255)
        + "."
        + ((a >>> 16) & 255)
        + "."
        + ((a >>> 8) & 255)
        + "."
        + (a & 255);
  }

  /** A bundle's origin of either family, as logs and views write it. */
  static String format(InetAddress a) {
    return OriginAddress.text(a);
  }

  static InetAddress inet(int a) throws IOException {
    return InetAddress.getByAddress(
        new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a});
  }
}
