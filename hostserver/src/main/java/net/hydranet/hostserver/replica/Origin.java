package net.hydranet.hostserver.replica;

import java.security.PublicKey;
import net.hydranet.replica.Resources;

/**
 * An origin this host server serves replicas for: its manager's address and key, the addresses its
 * bundles may serve as, and what each replica and all of them together may use.
 *
 * @param manager the manager's address: it must connect from it and say it in HELLO
 * @param prefix with {@code length}: the addresses {@code HydraNet-Origin} may name
 * @param grant the most one replica may ask for
 * @param maxReplicas how many replicas the origin may run here at once
 */
public record Origin(
    int manager, PublicKey key, int prefix, int length, Resources grant, int maxReplicas) {
  public Origin {
    if (length < 0 || length > 32) {
      throw new IllegalArgumentException("prefix length " + length + " outside 0..32");
    }
    if (maxReplicas < 1) {
      throw new IllegalArgumentException("maxReplicas must be at least 1");
    }
  }

  /** Whether {@code address} is inside this origin's authorised prefix. */
  public boolean authorises(int address) {
    int mask = length == 0 ? 0 : -1 << (32 - length);
    return (address & mask) == (prefix & mask);
  }
}
