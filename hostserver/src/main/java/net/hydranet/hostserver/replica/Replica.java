package net.hydranet.hostserver.replica;

import java.nio.file.Path;
import net.hydranet.replica.Bundle;

/** One installed replica: what it runs, where, under which uid, and what became of it. */
final class Replica {
  final String name;
  final Origin origin;
  final Bundle bundle;
  final int slot;
  final int uid;
  final Path dir;
  final Confinement confinement;
  volatile ReplicaChannel channel;
  volatile Process process;
  volatile ReplicaLog log;
  volatile String state = "starting";
  volatile String text = "";
  volatile boolean removing;

  Replica(
      String name,
      Origin origin,
      Bundle bundle,
      int slot,
      int uid,
      Path dir,
      Confinement confinement) {
    this.name = name;
    this.origin = origin;
    this.bundle = bundle;
    this.slot = slot;
    this.uid = uid;
    this.dir = dir;
    this.confinement = confinement;
  }

  /** The bundle's ports as the protocol writes them: "tcp/80 udp/53". */
  String ports() {
    return String.join(" ", bundle.ports());
  }
}
