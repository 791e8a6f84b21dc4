package net.hydranet.router.config;

import java.nio.file.Path;
import java.util.List;
import net.hydranet.replica.OriginAddress;

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
    List<Authorise> authorise,
    Replicas replicas) {

  /**
   * A trusted node: address, public key (a .pub path or inline base64), link cost; {@code
   * ttlSecurity}: directly connected, so its datagrams must arrive with TTL 255 (RFC 5082,
   * PROTOCOL.md "Work budget").
   */
  public record Node(int address, String key, int cost, boolean ttlSecurity) {
    public Node(int address, String key, int cost) {
      this(address, key, cost, false);
    }
  }

  /**
   * A host server's replica service (REPLICAS.md), or null when the file has no {@code replicas:}
   * section.
   *
   * @param port the TCP port on the control address (and on {@code address6})
   * @param address6 the service's IPv6 address, for IPv6 managers, or null (none)
   * @param firstUid the first of the uids given to replicas (uid = this + slot)
   * @param logBytes the most one replica's output may take on disk
   */
  public record Replicas(
      int port,
      java.net.InetAddress address6,
      int firstUid,
      String cgroupParent,
      long logBytes,
      List<ReplicaOrigin> origins) {}

  /**
   * An origin whose manager may install replicas here.
   *
   * @param manager the manager's address, IPv4 or IPv6 (it connects from it)
   * @param key its public key (a .pub path or inline base64)
   * @param addresses the prefixes (IPv4 or IPv6) of the addresses its bundles may serve as
   * @param memoryBytes the most memory one replica may ask for
   * @param milliCpus the most CPU one replica may ask for, in thousandths of a core
   */
  public record ReplicaOrigin(
      java.net.InetAddress manager,
      String key,
      List<OriginAddress.Prefix> addresses,
      long memoryBytes,
      int milliCpus,
      int pids,
      int files,
      int maxReplicas) {}

  /** Origins in {@code prefix/length} may be served by {@code hostServers}. */
  public record Authorise(
      int prefix, int length, List<Integer> hostServers, boolean ipv6, long high, long low) {
    /** An IPv4 rule. */
    public Authorise(int prefix, int length, List<Integer> hostServers) {
      this(prefix, length, hostServers, false, 0, 0);
    }

    /** An IPv6 rule: origins in {@code high:low/length}. */
    public static Authorise ipv6(long high, long low, int length, List<Integer> hostServers) {
      return new Authorise(0, length, hostServers, true, high, low);
    }
  }
}
