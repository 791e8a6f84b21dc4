package net.hydranet.control.auth;

import java.security.PublicKey;

/**
 * A node this one trusts: its control address (which is its node id), its role, its public key, and
 * — for the links this node has to it — the configured link cost added to distances. {@code
 * ttlSecurity}: the node is directly connected, so its datagrams must arrive with TTL 255 (RFC
 * 5082); a datagram in its name with any other TTL was sent from farther away.
 */
public record Peer(int address, int role, PublicKey key, int cost, boolean ttlSecurity) {
  public Peer(int address, int role, PublicKey key, int cost) {
    this(address, role, key, cost, false);
  }
}
