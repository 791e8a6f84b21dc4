package net.hydranet.hostserver.replica;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import net.hydranet.replica.Body;
import net.hydranet.replica.Frame;
import net.hydranet.replica.ProtocolException;
import net.hydranet.replica.Refusal;
import net.hydranet.replica.ReplicaStatus;
import net.hydranet.replica.RmType;

/**
 * What the replicas are doing, read from the table and their cgroups at the time of asking: STATUS
 * for a manager (its own origin's replicas only) and the whole list for {@code hydranet ctl
 * replicas} and the metrics. It changes nothing.
 */
final class StatusReport {
  private final ReplicaTable table;

  StatusReport(ReplicaTable table) {
    this.table = table;
  }

  /** STATUS from a manager. */
  void status(ManagerConnection c, Frame f) throws ProtocolException {
    Body.Reader r = f.reader();
    String name = r.str();
    r.end();
    List<ReplicaStatus> out = new ArrayList<>();
    for (Replica x : table.snapshot()) {
      if (x.origin == c.origin && (name.isEmpty() || x.name.equals(name))) {
        out.add(statusOf(x));
      }
    }
    if (!name.isEmpty() && out.isEmpty()) {
      c.refuse(f.sequence(), Refusal.NO_SUCH_REPLICA, "no replica '" + name + "' of this origin");
      return;
    }
    Body.Writer w = new Body.Writer().u64(f.sequence()).u16(out.size());
    for (ReplicaStatus s : out) {
      s.encode(w);
    }
    c.send(RmType.STATUS_REPLY, w.toByteArray());
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

  List<ReplicaStatus> statuses() {
    List<ReplicaStatus> out = new ArrayList<>();
    for (Replica r : table.snapshot()) {
      out.add(statusOf(r));
    }
    return out;
  }

  Map<String, String> origins() {
    Map<String, String> out = new TreeMap<>();
    for (Replica r : table.snapshot()) {
      out.put(
          r.name,
          ReplicaService.format(r.bundle.origin())
              + " (manager "
              + ReplicaService.format(r.origin.manager())
              + ")");
    }
    return out;
  }
}
