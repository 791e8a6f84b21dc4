package net.hydranet.hostserver.replica;

import java.io.IOException;
import net.hydranet.replica.Body;
import net.hydranet.replica.Frame;
import net.hydranet.replica.ProtocolException;
import net.hydranet.replica.Refusal;
import net.hydranet.replica.RmType;

/**
 * APP payloads both ways: a manager's to its replica's channel (on the connection's reader thread),
 * a replica's to its origin's newest manager connection (on the channel's reader thread); with no
 * manager connected, dropped and counted.
 */
final class AppRelay {
  private final ReplicaTable table;
  private final Managers managers;
  private final ReplicaCounters counters;

  AppRelay(ReplicaTable table, Managers managers, ReplicaCounters counters) {
    this.table = table;
    this.managers = managers;
    this.counters = counters;
  }

  /** APP from a manager. */
  void app(ManagerConnection c, Frame f) throws ProtocolException {
    Body.Reader r = f.reader();
    String name = r.str();
    byte[] payload = r.bytes();
    r.end();
    Replica replica = table.get(name);
    ReplicaChannel channel = replica == null ? null : replica.channel;
    if (replica == null || replica.origin != c.origin || channel == null) {
      c.refuse(f.sequence(), Refusal.NO_SUCH_REPLICA, "no replica '" + name + "' of this origin");
      return;
    }
    if (payload.length > ReplicaChannel.MAX_PAYLOAD) {
      c.refuse(
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
      c.refuse(f.sequence(), Refusal.NO_CHANNEL, "replica '" + name + "' has no channel open");
      return;
    }
    counters.add(ReplicaCounter.APP_TO_REPLICA);
  }

  /** A payload from replica {@code r}'s channel, to its origin's manager. */
  void toManager(Replica r, byte[] payload) {
    ManagerConnection c = managers.of(r.origin);
    if (c == null) {
      counters.add(ReplicaCounter.APP_DROPPED);
      return;
    }
    c.send(RmType.APP, new Body.Writer().str(r.name).bytes(payload).toByteArray());
    counters.add(ReplicaCounter.APP_TO_MANAGER);
  }
}
