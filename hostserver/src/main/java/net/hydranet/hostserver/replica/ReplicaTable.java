package net.hydranet.hostserver.replica;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;
import net.hydranet.replica.Bundle;
import net.hydranet.replica.Refusal;

/**
 * The installed replicas by name and the slots (uids) they hold, under one lock: every thread of
 * the service reads and changes them here, and nothing here does I/O while holding the lock.
 */
final class ReplicaTable {
  /** Why a new replica was not admitted: the REFUSED frame's reason, the field, the text. */
  record Refused(Refusal why, String field, String text) {}

  /** A reserved replica, or why there is none. */
  record Reservation(Replica replica, Refused refused) {}

  private final Object lock = new Object();
  // Guarded by lock.
  private final Map<String, Replica> replicas = new TreeMap<>();
  private final boolean[] slotsUsed;

  ReplicaTable(int slots) {
    slotsUsed = new boolean[slots];
  }

  /**
   * Reserves {@code name} and the lowest free slot for a new replica of {@code origin} serving as
   * {@code bundle}'s origin, made by {@code make} from the slot; or says which rule refuses it: the
   * origin's replica count, the name, one virtual host per address, a free slot, in that order.
   */
  Reservation reserve(String name, Origin origin, Bundle bundle, IntFunction<Replica> make) {
    synchronized (lock) {
      long mine = replicas.values().stream().filter(x -> x.origin == origin).count();
      if (mine >= origin.maxReplicas()) {
        return refused(
            Refusal.TOO_MANY_REPLICAS,
            null,
            "origin runs " + mine + " of its " + origin.maxReplicas() + " replicas here");
      }
      if (replicas.containsKey(name)) {
        return refused(Refusal.NAME_IN_USE, "name", "'" + name + "' is installed");
      }
      // One virtual host per address: a second would fail in 'hydranet vhost' (its veth exists).
      for (Replica x : replicas.values()) {
        Process p = x.process;
        if (x.bundle.origin().equals(bundle.origin()) && (p == null || p.isAlive())) {
          return refused(
              Refusal.START_FAILED,
              "HydraNet-Origin",
              "virtual host "
                  + ReplicaService.format(bundle.origin())
                  + " is replica '"
                  + x.name
                  + "' here");
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
        return refused(Refusal.TOO_MANY_REPLICAS, null, "host server has no free slot");
      }
      slotsUsed[slot] = true;
      Replica replica = make.apply(slot);
      replicas.put(name, replica);
      return new Reservation(replica, null);
    }
  }

  private static Reservation refused(Refusal why, String field, String text) {
    return new Reservation(null, new Refused(why, field, text));
  }

  /** Forgets {@code r} and frees its slot. */
  void release(Replica r) {
    synchronized (lock) {
      replicas.remove(r.name);
      slotsUsed[r.slot] = false;
    }
  }

  Replica get(String name) {
    synchronized (lock) {
      return replicas.get(name);
    }
  }

  /**
   * Marks {@code origin}'s replica {@code name} as being removed and returns it; null if it has no
   * such replica or its removal has begun already.
   */
  Replica beginRemoval(String name, Origin origin) {
    synchronized (lock) {
      Replica replica = replicas.get(name);
      if (replica == null || replica.origin != origin || replica.removing) {
        return null;
      }
      replica.removing = true;
      return replica;
    }
  }

  /** The replicas now, by name. */
  List<Replica> snapshot() {
    synchronized (lock) {
      return new ArrayList<>(replicas.values());
    }
  }
}
