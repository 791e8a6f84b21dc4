package net.hydranet.hostserver.replica;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import net.hydranet.replica.Body;
import net.hydranet.replica.Bundle;
import net.hydranet.replica.Frame;
import net.hydranet.replica.ProtocolException;
import net.hydranet.replica.Refusal;
import net.hydranet.replica.ReplicaSession;
import net.hydranet.replica.ReplicaStatus;
import net.hydranet.replica.RmType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host server's side of replica management (REPLICAS.md): a TCP server on the control address
 * alone that authenticates origins' managers, installs their signed bundles as confined replicas,
 * reports on them, relays application messages between manager and replica, and removes them.
 *
 * <p>Threads: one accepts, one reads each connection (at most {@link Context#maxConnections} in
 * all, {@link Context#maxPerOrigin} per origin), one reads each replica's channel, one per removal
 * in progress. Everything a connection sends that breaks the protocol closes that connection alone
 * and is counted; nothing a manager sends can stop the service or touch another origin's replicas.
 */
public final class ReplicaService implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ReplicaService.class);
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,31}");

  /** Tells the routing protocol to send no new flows to an origin's services here. */
  public interface Drainer {
    /** Announce {@code ports} ("tcp/80") of {@code origin} at weight 0 from now on. */
    void drain(int origin, List<String> ports);

    /** The replica is gone: its ports may be announced normally again when bound again. */
    default void drained(int origin, List<String> ports) {}

    Drainer NONE = (origin, ports) -> {};
  }

  /** The service's settings, with defaults; {@link #conclude} says which field is wrong. */
  public static final class Context {
    int address;
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
    int helloTimeoutMillis = 5000;
    int maxFrameBytes = 64 << 20;
    long killWaitMillis = 5000;
    long logBytes = ReplicaLog.DEFAULT_MAX_BYTES;

    /** The control address: the only address the service listens on, and its HELLO address. */
    public Context address(int a) {
      address = a;
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

    public Context helloTimeoutMillis(int m) {
      helloTimeoutMillis = m;
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
      Map<Integer, Origin> seen = new HashMap<>();
      for (Origin o : origins) {
        if (seen.put(o.manager(), o) != null) {
          throw new IllegalArgumentException(
              "replicas: origins: manager " + format(o.manager()) + " is listed twice");
        }
      }
      if (!cgroupParent.matches("[A-Za-z0-9_.-]+")) {
        throw new IllegalArgumentException("replicas: cgroupParent: not a plain name");
      }
      if (firstUid < 1000) {
        throw new IllegalArgumentException("replicas: firstUid below 1000");
      }
      if (logBytes < 1024) {
        throw new IllegalArgumentException("replicas: logBytes below 1024");
      }
      return this;
    }
  }

  private final Context ctx;
  private final ReplicaCounters counters = new ReplicaCounters();
  private final Map<Integer, Origin> byManager = new HashMap<>();
  private final Object lock = new Object();
  // Guarded by lock.
  private final Map<String, Replica> replicas = new TreeMap<>();
  private final boolean[] slotsUsed;
  private final Map<Origin, List<Connection>> connections = new HashMap<>();
  private int connectionCount;
  private ServerSocket listener;
  private Thread acceptor;
  private volatile boolean open = true;

  public ReplicaService(Context context) {
    this.ctx = context.conclude();
    for (Origin o : ctx.origins) {
      byManager.put(o.manager(), o);
    }
    slotsUsed = new boolean[ctx.slots];
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
    removeLeftovers(root);
    listener = new ServerSocket();
    listener.setReuseAddress(true);
    listener.bind(new InetSocketAddress(inet(ctx.address), ctx.port), 64);
    acceptor = new Thread(this::accept, "hydranet-replica-accept");
    acceptor.setDaemon(true);
    acceptor.start();
    LOG.info(
        "replica service on {}:{}/tcp for {} origin(s)",
        format(ctx.address),
        listener.getLocalPort(),
        ctx.origins.size());
    return this;
  }

  /**
   * Removes what this host server left when it last ended without removing its replicas (killed,
   * crashed, the machine's power): each replica directory in its state directory, with its logs,
   * the cgroups of that name and the processes still in them — a replica still serving would
   * otherwise answer for an origin with nobody managing it, and its slot and uid would be taken
   * twice. Nothing is adopted: an origin's manager installs again as its load says. Only names in
   * this host server's own state directory are touched, never another host server's groups.
   */
  private void removeLeftovers(Path root) throws IOException {
    List<Path> dirs;
    try (Stream<Path> s = Files.list(root)) {
      dirs = s.filter(Files::isDirectory).sorted().toList();
    }
    for (Path dir : dirs) {
      String name = dir.getFileName().toString();
      Confinement groups = Confinement.leftover(ctx.cgroupRoot, ctx.cgroupParent, name);
      int killed = groups.signalAll(true);
      String left;
      try {
        left = groups.removeGroups(ctx.killWaitMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted removing replica " + name + " left from before");
      }
      deleteTree(dir);
      Files.deleteIfExists(logFile(name));
      Files.deleteIfExists(previousLog(name));
      counters.add(ReplicaCounter.LEFTOVERS_REMOVED);
      LOG.atWarn()
          .addKeyValue("replica", name)
          .addKeyValue("killed", killed)
          .addKeyValue("left", left)
          .log(
              "replica {} left from an earlier run removed ({} processes killed){}",
              name,
              killed,
              left.isEmpty() ? "" : "; could not remove: " + left);
    }
  }

  public int port() {
    return listener.getLocalPort();
  }

  public ReplicaCounters counters() {
    return counters;
  }

  Path replicasDir() {
    return ctx.stateDir.resolve("replicas");
  }

  private void accept() {
    while (open) {
      Socket s;
      try {
        s = listener.accept();
      } catch (IOException e) {
        if (open) {
          LOG.warn("replica service: accept: {}", e.getMessage());
        }
        continue;
      }
      synchronized (lock) {
        if (connectionCount >= ctx.maxConnections) {
          counters.add(ReplicaCounter.CONNECTIONS_OVER_LIMIT);
          closeQuietly(s);
          continue;
        }
        connectionCount++;
      }
      counters.add(ReplicaCounter.CONNECTIONS);
      Thread t =
          new Thread(() -> serve(s), "hydranet-replica-" + s.getInetAddress().getHostAddress());
      t.setDaemon(true);
      t.start();
    }
  }

  /** One manager connection: handshake, then requests until it ends. */
  private void serve(Socket socket) {
    Connection c = null;
    try {
      socket.setSoTimeout(ctx.helloTimeoutMillis);
      socket.setTcpNoDelay(true);
      ReplicaSession session;
      try {
        session =
            ReplicaSession.open(
                socket,
                ReplicaSession.ROLE_HOST_SERVER,
                ctx.address,
                ctx.key,
                this::managerKey,
                ctx.maxFrameBytes);
      } catch (IOException e) {
        counters.add(ReplicaCounter.HANDSHAKE_FAILURES);
        LOG.info(
            "replica service: refused {}: {}",
            socket.getInetAddress().getHostAddress(),
            e.toString());
        return;
      }
      Origin origin = byManager.get(session.peerAddress());
      c = new Connection(session, origin);
      synchronized (lock) {
        List<Connection> list = connections.computeIfAbsent(origin, o -> new ArrayList<>());
        if (list.size() >= ctx.maxPerOrigin) {
          counters.add(ReplicaCounter.CONNECTIONS_OVER_LIMIT);
          LOG.info(
              "replica service: manager {} already has {} connections",
              format(origin.manager()),
              list.size());
          c = null;
          return;
        }
        list.add(c);
      }
      socket.setSoTimeout(0);
      LOG.info("replica service: manager {} connected", format(origin.manager()));
      c.run();
    } catch (IOException | RuntimeException e) {
      counters.add(ReplicaCounter.PROTOCOL_ERRORS);
      LOG.warn(
          "replica service: connection from {}: {}",
          socket.getInetAddress().getHostAddress(),
          e.toString());
    } finally {
      closeQuietly(socket);
      synchronized (lock) {
        connectionCount--;
        if (c != null) {
          connections.getOrDefault(c.origin, new ArrayList<>()).remove(c);
        }
      }
    }
  }

  private java.security.PublicKey managerKey(int address, int role, InetAddress remote)
      throws ProtocolException {
    if (role != ReplicaSession.ROLE_MANAGER) {
      throw new ProtocolException("role " + role + " is not a manager");
    }
    Origin o = byManager.get(address);
    if (o == null) {
      throw new ProtocolException(format(address) + " is no origin's manager here");
    }
    if (!(remote instanceof java.net.Inet4Address) || toInt(remote) != address) {
      throw new ProtocolException(
          "says it is " + format(address) + " but connects from " + remote.getHostAddress());
    }
    return o.key();
  }

  /** An authenticated manager connection of one origin. */
  private final class Connection {
    final ReplicaSession session;
    final Origin origin;

    Connection(ReplicaSession session, Origin origin) {
      this.session = session;
      this.origin = origin;
    }

    void run() throws IOException {
      while (open) {
        Frame f;
        try {
          f = session.receive();
        } catch (EOFException | SocketException e) {
          LOG.info("replica service: manager {} disconnected", format(origin.manager()));
          return;
        } catch (ProtocolException e) {
          counters.add(ReplicaCounter.PROTOCOL_ERRORS);
          LOG.warn("replica service: manager {}: {}", format(origin.manager()), e.getMessage());
          return;
        }
        try {
          switch (f.type()) {
            case INSTALL -> install(this, f);
            case REMOVE -> remove(this, f);
            case STATUS -> status(this, f);
            case APP -> app(this, f);
            default -> throw new ProtocolException("a manager does not send " + f.type());
          }
        } catch (ProtocolException e) {
          // A body that lies about its lengths: refuse, and end the connection as the spec says.
          counters.add(ReplicaCounter.PROTOCOL_ERRORS);
          LOG.warn("replica service: manager {}: {}", format(origin.manager()), e.getMessage());
          refuse(this, f.sequence(), Refusal.MALFORMED, e.getMessage());
          return;
        }
      }
    }

    void send(RmType type, byte[] body) {
      try {
        session.send(type, body);
      } catch (IOException e) {
        LOG.info("replica service: to manager {}: {}", format(origin.manager()), e.getMessage());
        closeQuietly(session);
      }
    }
  }

  private void refuse(Connection c, long seq, Refusal why, String text) {
    refuse(c, seq, why, null, text);
  }

  /**
   * Refuses request {@code seq}; {@code field} names what was wrong (a manifest attribute, a
   * resource, "name"), or is null. Logged with reason (the refusal's name, as in {@code hydranet
   * ctl replicas} and the metrics), code (the REFUSED frame's), field and manager as keys; at info,
   * but NO_CHANNEL at debug: the manager probes a starting replica every second until its channel
   * is up, and each probe is refused so (counted all the same).
   */
  private void refuse(Connection c, long seq, Refusal why, String field, String text) {
    counters.refused(why);
    var event =
        (why == Refusal.NO_CHANNEL ? LOG.atDebug() : LOG.atInfo())
            .addKeyValue("reason", why.name().toLowerCase(Locale.ROOT))
            .addKeyValue("code", why.code);
    if (field != null) {
      event = event.addKeyValue("field", field);
    }
    event
        .addKeyValue("manager", format(c.origin.manager()))
        .log("replica service: refused a request: {}", text);
    c.send(RmType.REFUSED, new Body.Writer().u64(seq).u8(why.code).str(clip(text)).toByteArray());
  }

  private static void ok(Connection c, long seq, String text) {
    c.send(RmType.OK, new Body.Writer().u64(seq).str(clip(text)).toByteArray());
  }

  private static String clip(String s) {
    return s.length() > 1000 ? s.substring(0, 1000) : s;
  }

  // ---- INSTALL ----

  private void install(Connection c, Frame f) throws ProtocolException {
    Body.Reader r = f.reader();
    String name = r.str();
    byte[] signature = r.raw(ReplicaSession.SIGNATURE);
    byte[] jar = r.bytes();
    r.end();
    Origin origin = c.origin;
    if (!NAME.matcher(name).matches()) {
      refuse(
          c,
          f.sequence(),
          Refusal.MALFORMED,
          "name",
          "name '" + name + "' is not [a-z0-9][a-z0-9-]{0,31}");
      return;
    }
    Bundle bundle;
    try {
      bundle = Bundle.open(jar, signature, origin.key());
    } catch (Bundle.BundleException e) {
      refuse(c, f.sequence(), e.refusal(), e.field(), e.getMessage());
      return;
    }
    if (!origin.authorises(bundle.origin())) {
      refuse(
          c,
          f.sequence(),
          Refusal.WRONG_ORIGIN,
          "HydraNet-Origin",
          "HydraNet-Origin "
              + format(bundle.origin())
              + " is outside "
              + format(origin.prefix())
              + "/"
              + origin.length());
      return;
    }
    String over = bundle.resources().exceeding(origin.grant());
    if (over != null) {
      // "memory 2g > granted 512m": the resource is the first word.
      refuse(c, f.sequence(), Refusal.EXCEEDS_GRANT, over.split(" ", 2)[0], over);
      return;
    }
    Replica replica;
    synchronized (lock) {
      long mine = replicas.values().stream().filter(x -> x.origin == origin).count();
      if (mine >= origin.maxReplicas()) {
        refuse(
            c,
            f.sequence(),
            Refusal.TOO_MANY_REPLICAS,
            "origin runs " + mine + " of its " + origin.maxReplicas() + " replicas here");
        return;
      }
      if (replicas.containsKey(name)) {
        refuse(c, f.sequence(), Refusal.NAME_IN_USE, "name", "'" + name + "' is installed");
        return;
      }
      // One virtual host per address: a second would fail in 'hydranet vhost' (its veth exists).
      for (Replica x : replicas.values()) {
        Process p = x.process;
        if (x.bundle.origin() == bundle.origin() && (p == null || p.isAlive())) {
          refuse(
              c,
              f.sequence(),
              Refusal.START_FAILED,
              "HydraNet-Origin",
              "virtual host " + format(bundle.origin()) + " is replica '" + x.name + "' here");
          return;
        }
      }
      int slot = -1;
      for (int i = 0; i < slotsUsed.length; i++) {
        if (!slotsUsed[i]) {
          slot = i;
          break;
        }
      }
      if (slot < 0) {
        refuse(c, f.sequence(), Refusal.TOO_MANY_REPLICAS, "host server has no free slot");
        return;
      }
      slotsUsed[slot] = true;
      int uid = ctx.firstUid + slot;
      Path dir = replicasDir().resolve(name);
      replica =
          new Replica(
              name,
              origin,
              bundle,
              slot,
              uid,
              dir,
              new Confinement(
                  ctx.cgroupRoot, ctx.cgroupParent, name, uid, dir, bundle.resources()));
      replicas.put(name, replica);
    }
    try {
      Replica started = start(replica);
      counters.add(ReplicaCounter.INSTALLS);
      LOG.atInfo()
          .addKeyValue("replica", name)
          .addKeyValue("manager", format(origin.manager()))
          .addKeyValue("origin", format(bundle.origin()))
          .addKeyValue("uid", started.uid)
          .addKeyValue("pid", started.process.pid())
          .log("replica {} installed: {}", name, bundle);
      ok(c, f.sequence(), "started pid " + started.process.pid() + " uid " + started.uid);
    } catch (IOException | RuntimeException e) {
      LOG.atWarn()
          .addKeyValue("replica", name)
          .log("replica {}: start failed: {}", name, e.toString());
      destroy(replica);
      synchronized (lock) {
        replicas.remove(name);
        slotsUsed[replica.slot] = false;
      }
      refuse(c, f.sequence(), Refusal.START_FAILED, e.toString());
    }
  }

  /** Writes the jar, makes the groups and the channel, starts the process. */
  private Replica start(Replica r) throws IOException {
    deleteTree(r.dir);
    Files.createDirectory(
        r.dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    ReplicaChannel.chown(r.dir, r.uid);
    Path jar = r.dir.resolve("bundle.jar");
    Files.write(jar, r.bundle.jar());
    Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("r--------"));
    ReplicaChannel.chown(jar, r.uid);
    r.confinement.createGroups();
    Path sock = r.dir.resolve("channel.sock");
    ReplicaChannel channel = ReplicaChannel.open(r.name, sock, r.uid, counters);
    r.channel = channel;
    channel.start(payload -> toManager(r, payload));
    List<String> argv =
        r.confinement.argv(
            Confinement.javaCommand(
                r.bundle.mainClass(), r.bundle.arguments(), r.bundle.resources()),
            sock);
    // The output is the host server's to read: root-only, like the replicas' own directories,
    // and bounded, since the replica decides how much it writes.
    Path log = logFile(r.name);
    Files.deleteIfExists(log);
    Files.deleteIfExists(previousLog(r.name));
    Files.createFile(
        log, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Process p = ctx.launcher.launch(format(r.bundle.origin()), argv);
    r.log = ReplicaLog.follow(r.name, p.getInputStream(), log, ctx.logBytes);
    r.process = p;
    r.state = "running";
    p.onExit().thenRun(() -> exited(r));
    return r;
  }

  private Path logFile(String name) {
    return replicasDir().resolve(name + ".log");
  }

  private Path previousLog(String name) {
    return replicasDir().resolve(name + ".log.1");
  }

  private void exited(Replica r) {
    int code = r.process.exitValue();
    int oom = r.confinement.oomKills();
    String state;
    String text;
    if (oom > 0) {
      state = "killed";
      text = "memory limit (" + oom + " oom kill" + (oom == 1 ? "" : "s") + ")";
    } else if (code > 128 && code < 160) {
      state = "killed";
      text = "signal " + (code - 128);
    } else {
      state = "exited";
      text = "exit code " + code;
    }
    r.state = state;
    r.text = text;
    ReplicaChannel ch = r.channel;
    if (ch != null) {
      ch.close();
    }
    // What is left in the groups (a child that outlived the replica's init) goes with it.
    r.confinement.signalAll(true);
    if (r.removing) {
      return;
    }
    try {
      r.log.awaitEnd(1000); // its last words, for the line below
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    counters.add(state.equals("killed") ? ReplicaCounter.KILLS : ReplicaCounter.EXITS);
    LOG.atWarn()
        .addKeyValue("replica", r.name)
        .addKeyValue("state", state)
        .addKeyValue("detail", text)
        .addKeyValue("output", tail(logFile(r.name)))
        .log("replica {} {}: {}", r.name, state, text);
    Connection c = managerOf(r.origin);
    if (c != null) {
      c.send(RmType.EVENT, new Body.Writer().str(r.name).str(state).str(text).toByteArray());
    }
  }

  /** The end of a replica's output, on one line, for the log. */
  private static String tail(Path log) {
    try (var f = new java.io.RandomAccessFile(log.toFile(), "r")) {
      long n = Math.min(f.length(), 400);
      byte[] b = new byte[(int) n];
      f.seek(f.length() - n);
      f.readFully(b);
      return new String(b, java.nio.charset.StandardCharsets.UTF_8).replaceAll("\\s+", " ").strip();
    } catch (IOException e) {
      return "(no output)";
    }
  }

  // ---- REMOVE ----

  private void remove(Connection c, Frame f) throws ProtocolException {
    Body.Reader r = f.reader();
    String name = r.str();
    long drain = r.u32();
    r.end();
    Replica replica;
    synchronized (lock) {
      replica = replicas.get(name);
      if (replica == null || replica.origin != c.origin || replica.removing) {
        replica = null;
      } else {
        replica.removing = true;
      }
    }
    if (replica == null) {
      refuse(c, f.sequence(), Refusal.NO_SUCH_REPLICA, "no replica '" + name + "' of this origin");
      return;
    }
    Replica target = replica;
    long drainMillis = Math.min(drain, 600_000);
    Thread t =
        new Thread(
            () -> {
              try {
                removeNow(target, drainMillis);
                counters.add(ReplicaCounter.REMOVES);
                ok(c, f.sequence(), "removed " + name);
              } catch (RuntimeException | InterruptedException e) {
                LOG.warn("replica {}: removal failed: {}", name, e.toString());
                refuse(c, f.sequence(), Refusal.MALFORMED, "removal failed: " + e.getMessage());
              }
            },
            "hydranet-replica-remove-" + name);
    t.setDaemon(true);
    t.start();
  }

  private void removeNow(Replica r, long drainMillis) throws InterruptedException {
    Process p = r.process;
    if (p != null && p.isAlive()) {
      r.state = "draining";
      ctx.drainer.drain(r.bundle.origin(), r.bundle.ports());
      LOG.info("replica {}: draining for {} ms", r.name, drainMillis);
      Thread.sleep(drainMillis);
      r.confinement.signalAll(false);
      p.destroy();
      if (!p.waitFor(ctx.killWaitMillis, TimeUnit.MILLISECONDS)) {
        r.confinement.signalAll(true);
        p.destroyForcibly();
        p.waitFor(ctx.killWaitMillis, TimeUnit.MILLISECONDS);
        LOG.warn("replica {}: killed after {} ms", r.name, ctx.killWaitMillis);
        ctx.launcher.killed(format(r.bundle.origin()), p);
      }
      ctx.drainer.drained(r.bundle.origin(), r.bundle.ports());
    }
    destroy(r);
    synchronized (lock) {
      replicas.remove(r.name);
      slotsUsed[r.slot] = false;
    }
    LOG.atInfo().addKeyValue("replica", r.name).log("replica {} removed", r.name);
  }

  /** Deletes the replica's channel, groups, directory and log. */
  private void destroy(Replica r) {
    ReplicaChannel ch = r.channel;
    if (ch != null) {
      ch.close();
    }
    try {
      String left = r.confinement.removeGroups(ctx.killWaitMillis);
      if (!left.isEmpty()) {
        LOG.warn("replica {}: groups left behind: {}", r.name, left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      deleteTree(r.dir);
      Files.deleteIfExists(logFile(r.name));
      Files.deleteIfExists(previousLog(r.name));
    } catch (IOException e) {
      LOG.warn("replica {}: cannot delete {}: {}", r.name, r.dir, e.getMessage());
    }
  }

  // ---- STATUS ----

  private void status(Connection c, Frame f) throws ProtocolException {
    Body.Reader r = f.reader();
    String name = r.str();
    r.end();
    List<ReplicaStatus> out = new ArrayList<>();
    for (Replica x : snapshot()) {
      if (x.origin == c.origin && (name.isEmpty() || x.name.equals(name))) {
        out.add(statusOf(x));
      }
    }
    if (!name.isEmpty() && out.isEmpty()) {
      refuse(c, f.sequence(), Refusal.NO_SUCH_REPLICA, "no replica '" + name + "' of this origin");
      return;
    }
    Body.Writer w = new Body.Writer().u64(f.sequence()).u16(out.size());
    for (ReplicaStatus s : out) {
      s.encode(w);
    }
    c.send(RmType.STATUS_REPLY, w.toByteArray());
  }

  private List<Replica> snapshot() {
    synchronized (lock) {
      return new ArrayList<>(replicas.values());
    }
  }

  private static ReplicaStatus statusOf(Replica r) {
    Confinement.Usage u = r.confinement.usage();
    Process p = r.process;
    return new ReplicaStatus(
        r.name,
        r.state,
        p == null ? 0 : (int) p.pid(),
        u.memoryBytes(),
        u.memoryLimit(),
        u.cpuNanos(),
        u.pids(),
        u.failcnt(),
        u.oomKills(),
        r.ports());
  }

  /** Every installed replica's status, for {@code hydranet ctl replicas}. */
  public List<ReplicaStatus> statuses() {
    List<ReplicaStatus> out = new ArrayList<>();
    for (Replica r : snapshot()) {
      out.add(statusOf(r));
    }
    return out;
  }

  /** The origin (dotted) each replica serves as, by name, for {@code hydranet ctl replicas}. */
  public Map<String, String> origins() {
    Map<String, String> out = new TreeMap<>();
    for (Replica r : snapshot()) {
      out.put(r.name, format(r.bundle.origin()) + " (manager " + format(r.origin.manager()) + ")");
    }
    return out;
  }

  // ---- APP ----

  private void app(Connection c, Frame f) throws ProtocolException {
    Body.Reader r = f.reader();
    String name = r.str();
    byte[] payload = r.bytes();
    r.end();
    Replica replica;
    synchronized (lock) {
      replica = replicas.get(name);
    }
    ReplicaChannel channel = replica == null ? null : replica.channel;
    if (replica == null || replica.origin != c.origin || channel == null) {
      refuse(c, f.sequence(), Refusal.NO_SUCH_REPLICA, "no replica '" + name + "' of this origin");
      return;
    }
    if (payload.length > ReplicaChannel.MAX_PAYLOAD) {
      refuse(
          c,
          f.sequence(),
          Refusal.MALFORMED,
          "payload",
          "payload of " + payload.length + " bytes (limit 16 MiB)");
      return;
    }
    boolean sent;
    try {
      sent = channel.send(payload);
    } catch (IOException e) {
      counters.add(ReplicaCounter.CHANNEL_ERRORS);
      sent = false;
    }
    if (!sent) {
      counters.add(ReplicaCounter.APP_DROPPED);
      refuse(c, f.sequence(), Refusal.NO_CHANNEL, "replica '" + name + "' has no channel open");
      return;
    }
    counters.add(ReplicaCounter.APP_TO_REPLICA);
  }

  private void toManager(Replica r, byte[] payload) {
    Connection c = managerOf(r.origin);
    if (c == null) {
      counters.add(ReplicaCounter.APP_DROPPED);
      return;
    }
    c.send(RmType.APP, new Body.Writer().str(r.name).bytes(payload).toByteArray());
    counters.add(ReplicaCounter.APP_TO_MANAGER);
  }

  /** The origin's most recent manager connection, or null. */
  private Connection managerOf(Origin o) {
    synchronized (lock) {
      List<Connection> list = connections.get(o);
      return list == null || list.isEmpty() ? null : list.get(list.size() - 1);
    }
  }

  // ---- helpers ----

  @Override
  public void close() {
    open = false;
    if (listener != null) {
      closeQuietly(listener);
    }
    List<Connection> all = new ArrayList<>();
    synchronized (lock) {
      connections.values().forEach(all::addAll);
    }
    for (Connection c : all) {
      closeQuietly(c.session);
    }
  }

  /** Stops every replica now (no drain) and deletes their state: the host server is leaving. */
  public void removeAll() {
    for (Replica r : snapshot()) {
      r.removing = true;
      try {
        removeNow(r, 0);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException e) {
      // closing
    }
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

  static InetAddress inet(int a) throws IOException {
    return InetAddress.getByAddress(
        new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a});
  }

  private static int toInt(InetAddress a) {
    byte[] b = a.getAddress();
    return ((b[0] & 255) << 24) | ((b[1] & 255) << 16) | ((b[2] & 255) << 8) | (b[3] & 255);
  }
}
