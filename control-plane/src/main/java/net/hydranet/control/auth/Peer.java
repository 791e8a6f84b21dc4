package net.hydranet.control.auth;

import java.security.PublicKey;

/**
 * A node this one trusts: its control address (which is its node id), its role, its public key, and
 * — for the links this node has to it — the configured link cost added to distances.
 */
public record Peer(int address, int role, PublicKey key, int cost) {}
