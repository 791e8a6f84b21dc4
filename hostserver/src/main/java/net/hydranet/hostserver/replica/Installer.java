package net.hydranet.hostserver.replica;

import static net.hydranet.hostserver.replica.ReplicaService.LOG;
import static net.hydranet.hostserver.replica.ReplicaService.format;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.regex.Pattern;
import net.hydranet.replica.Body;
import net.hydranet.replica.Bundle;
import net.hydranet.replica.Frame;
import net.hydranet.replica.ProtocolException;
import net.hydranet.replica.Refusal;
import net.hydranet.replica.ReplicaSession;
import net.hydranet.replica.RmType;

/**
 * INSTALL: the bundle's checks in REPLICAS.md's order before anything is written, then the
 * replica's directory, groups and channel, and its confined process; and the EVENT when that
 * process ends. Runs on the requesting connection's reader thread, and {@link #exited} on the
 * process's exit.
 */
final class Installer {
  private static final Pattern NAME = ParentGroup.REPLICA_NAME;

  private final ReplicaService.Context ctx;
  private final ReplicaCounters counters;
  private final ReplicaTable table;
  private final ReplicaFiles files;
  private final Managers managers;
  private final AppRelay relay;
  private final Remover remover;

  Installer(
      ReplicaService.Context ctx,
      ReplicaCounters counters,
      ReplicaTable table,
      ReplicaFiles files,
      Managers managers,
      AppRelay relay,
      Remover remover) {
    this.ctx = ctx;
    this.counters = counters;
    this.table = table;
    this.files = files;
    this.managers = managers;
    this.relay = relay;
    this.remover = remover;
  }

  /** INSTALL from a manager. */
  void install(ManagerConnection c, Frame f) throws ProtocolException {
    Body.Reader r = f.reader();
    String name = r.str();
    byte[] signature = r.raw(ReplicaSession.SIGNATURE);
    byte[] jar = r.bytes();
    r.end();
    Bundle bundle = checked(c, f.sequence(), name, jar, signature);
    if (bundle == null) {
      return;
    }
    Origin origin = c.origin;
    ReplicaTable.Reservation reserved =
        table.reserve(name, origin, bundle, slot -> replicaOf(name, origin, bundle, slot));
    if (reserved.refused() != null) {
      ReplicaTable.Refused no = reserved.refused();
      c.refuse(f.sequence(), no.why(), no.field(), no.text());
      return;
    }
    launch(c, f.sequence(), reserved.replica());
  }

  /**
   * The bundle, after REPLICAS.md's checks in its order — the name, the signature (before the jar
   * is read), the origin's prefix, its grant — or null, with the request refused.
   */
  private static Bundle checked(
      ManagerConnection c, long seq, String name, byte[] jar, byte[] signature) {
    Origin origin = c.origin;
    if (!NAME.matcher(name).matches()) {
      c.refuse(
          seq, Refusal.MALFORMED, "name", "name '" + name + "' is not [a-z0-9][a-z0-9-]{0,31}");
      return null;
    }
    Bundle bundle;
    try {
      bundle = Bundle.open(jar, signature, origin.key());
    } catch (Bundle.BundleException e) {
      c.refuse(seq, e.refusal(), e.field(), e.getMessage());
      return null;
    }
    if (!origin.authorises(bundle.origin())) {
      c.refuse(
          seq,
          Refusal.WRONG_ORIGIN,
          "HydraNet-Origin",
          "HydraNet-Origin " + format(bundle.origin()) + " is outside " + origin.addressesText());
      return null;
    }
    String over = bundle.resources().exceeding(origin.grant());
    if (over != null) {
      // "memory 2g > granted 512m": the resource is the first word.
      c.refuse(seq, Refusal.EXCEEDS_GRANT, over.split(" ", 2)[0], over);
      return null;
    }
    return bundle;
  }

  /** The replica {@code name} would be in {@code slot}: its uid, directory and groups. */
  private Replica replicaOf(String name, Origin origin, Bundle bundle, int slot) {
    int uid = ctx.firstUid + slot;
    Path dir = files.dir(name);
    return new Replica(
        name,
        origin,
        bundle,
        slot,
        uid,
        dir,
        new Confinement(ctx.cgroupRoot, ctx.cgroupParent, name, uid, dir, bundle.resources()));
  }

  /** Starts the reserved replica and answers OK; or undoes everything and refuses. */
  private void launch(ManagerConnection c, long seq, Replica replica) {
    String name = replica.name;
    try {
      Replica started = start(replica);
      counters.add(ReplicaCounter.INSTALLS);
      LOG.atInfo()
          .addKeyValue("replica", name)
          .addKeyValue("manager", format(replica.origin.manager()))
          .addKeyValue("origin", format(replica.bundle.origin()))
          .addKeyValue("uid", started.uid)
          .addKeyValue("pid", started.process.pid())
          .log("replica {} installed: {}", name, replica.bundle);
      c.ok(seq, "started pid " + started.process.pid() + " uid " + started.uid);
    } catch (IOException | RuntimeException e) {
      LOG.atWarn()
          .addKeyValue("replica", name)
          .log("replica {}: start failed: {}", name, e.toString());
      remover.destroy(replica);
      table.release(replica);
      c.refuse(seq, Refusal.START_FAILED, e.toString());
    }
  }

  /** Writes the jar, makes the groups and the channel, starts the process. */
  private Replica start(Replica r) throws IOException {
    ReplicaFiles.deleteTree(r.dir);
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
    channel.start(payload -> relay.toManager(r, payload));
    List<String> argv =
        r.confinement.argv(
            Confinement.javaCommand(
                r.bundle.mainClass(),
                r.bundle.arguments(),
                r.bundle.resources(),
                r.bundle.origin() instanceof java.net.Inet6Address),
            sock);
    // The output is the host server's to read: root-only, like the replicas' own directories,
    // and bounded, since the replica decides how much it writes.
    Path log = files.log(r.name);
    Files.deleteIfExists(log);
    Files.deleteIfExists(files.previousLog(r.name));
    Files.createFile(
        log, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Process p = ctx.launcher.launch(format(r.bundle.origin()), argv);
    r.log = ReplicaLog.follow(r.name, p.getInputStream(), log, ctx.logBytes);
    r.process = p;
    r.state = "running";
    p.onExit().thenRun(() -> exited(r));
    return r;
  }

  /**
   * The replica's process ended: say why, clean its groups, and tell the manager unless removing.
   */
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
        .addKeyValue("output", tail(files.log(r.name)))
        .log("replica {} {}: {}", r.name, state, text);
    ManagerConnection c = managers.of(r.origin);
    if (c != null) {
      c.send(RmType.EVENT, new Body.Writer().str(r.name).str(state).str(text).toByteArray());
    }
  }

  /** The end of a replica's output, on one line, for the log. */
  private static String tail(Path log) {
    try (var f = new RandomAccessFile(log.toFile(), "r")) {
      long n = Math.min(f.length(), 400);
      byte[] b = new byte[(int) n];
      f.seek(f.length() - n);
      f.readFully(b);
      return new String(b, StandardCharsets.UTF_8).replaceAll("\\s+", " ").strip();
    } catch (IOException e) {
      return "(no output)";
    }
  }
}
