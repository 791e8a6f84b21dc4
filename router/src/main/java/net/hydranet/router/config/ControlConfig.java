package net.hydranet.router.config;

import java.nio.file.Path;
import java.util.List;

/**
 * A control-plane configuration (see {@code config/control-*.yaml}): this node's control address
 * and key, the nodes it trusts with their public keys and link costs, and which host servers each
 * origin has authorised.
 *
 * @param address this node's control address and node id; the socket binds to it alone
 * @param key this node's Ed25519 private key (PKCS#8 PEM)
 */
public record ControlConfig(
    int address,
    int port,
    Path key,
    int holdMillis,
    int refreshMillis,
    int ratePerSecond,
    int replayWindowSeconds,
    int loadBand,
    int weight,
    int drainMillis,
    int dampingHalfLifeSeconds,
    List<Node> hostServers,
    List<Node> redirectors,
    List<Authorise> authorise) {

  /** A trusted node: address, public key (a .pub path or inline base64), link cost. */
  public record Node(int address, String key, int cost) {}

  /** Origins in {@code prefix/length} may be served by {@code hostServers}. */
  public record Authorise(int prefix, int length, List<Integer> hostServers) {}
}
