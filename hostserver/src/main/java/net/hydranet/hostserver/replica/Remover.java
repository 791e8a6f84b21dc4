package net.hydranet.hostserver.replica;

import static net.hydranet.hostserver.replica.ReplicaService.LOG;
import static net.hydranet.hostserver.replica.ReplicaService.format;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.hydranet.replica.Body;
import net.hydranet.replica.Frame;
import net.hydranet.replica.ProtocolException;
import net.hydranet.replica.Refusal;

/**
 * REMOVE (drain, SIGTERM, SIGKILL after the wait, then groups, directory and log; one thread per
 * removal in progress, so a long drain holds no connection), the host server's leaving, and the
 * replicas an earlier run left behind.
 */
final class Remover {
  private final ReplicaService.Context ctx;
  private final ReplicaCounters counters;
  private final ReplicaTable table;
  private final ReplicaFiles files;

  Remover(
      ReplicaService.Context ctx,
      ReplicaCounters counters,
      ReplicaTable table,
      ReplicaFiles files) {
    this.ctx = ctx;
    this.counters = counters;
    this.table = table;
    this.files = files;
  }

  /** REMOVE from a manager: answered when the replica is gone, by a thread of its own. */
  void remove(ManagerConnection c, Frame f) throws ProtocolException {
    Body.Reader r = f.reader();
    String name = r.str();
    long drain = r.u32();
    r.end();
    Replica replica = table.beginRemoval(name, c.origin);
    if (replica == null) {
      c.refuse(f.sequence(), Refusal.NO_SUCH_REPLICA, "no replica '" + name + "' of this origin");
      return;
    }
    long drainMillis = Math.min(drain, 600_000);
    Thread t =
        new Thread(
            () -> {
              try {
                removeNow(replica, drainMillis);
                counters.add(ReplicaCounter.REMOVES);
                c.ok(f.sequence(), "removed " + name);
              } catch (RuntimeException | InterruptedException e) {
                LOG.warn("replica {}: removal failed: {}", name, e.toString());
                c.refuse(f.sequence(), Refusal.MALFORMED, "removal failed: " + e.getMessage());
              }
            },
            "hydranet-replica-remove-" + name);
    t.setDaemon(true);
    t.start();
  }

  /** Drains {@code r} for {@code drainMillis}, stops its processes, and deletes what it had. */
  void removeNow(Replica r, long drainMillis) throws InterruptedException {
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
    table.release(r);
    LOG.atInfo().addKeyValue("replica", r.name).log("replica {} removed", r.name);
  }

  /** Stops every replica now (no drain) and deletes their state: the host server is leaving. */
  void removeAll() {
    for (Replica r : table.snapshot()) {
      r.removing = true;
      try {
        removeNow(r, 0);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Deletes the replica's channel, groups, directory and log. */
  void destroy(Replica r) {
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
      files.delete(r.name);
    } catch (IOException e) {
      LOG.warn("replica {}: cannot delete {}: {}", r.name, r.dir, e.getMessage());
    }
  }

  /**
   * Removes what this host server left when it last ended without removing its replicas (killed,
   * crashed, the machine's power): each replica directory in its state directory, with its logs,
   * the cgroups of that name and the processes still in them — a replica still serving would
   * otherwise answer for an origin with nobody managing it, and its slot and uid would be taken
   * twice. Nothing is adopted: an origin's manager installs again as its load says. Only names in
   * this host server's own state directory are touched, never another host server's groups.
   */
  void removeLeftovers() throws IOException {
    List<Path> dirs;
    try (Stream<Path> s = Files.list(files.root())) {
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
      files.delete(name);
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
}
