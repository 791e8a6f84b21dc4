package net.hydranet.forwarding.io.live;

import java.io.IOException;
import java.util.List;

/**
 * Has the box's own kernel drop, at ingress, the IPv4 and IPv6 frames the router forwards (those
 * not addressed to the box): an nftables {@code netdev} table with one ingress chain per interface
 * ({@link IngressDrop}).
 *
 * <p>Why: with {@code ip_forward=0} the kernel still runs IP input — a route lookup, then {@code
 * ip_error} — on every frame pcap hands us, about 1.1 µs a frame on this class of machine (shared
 * notes, "Where a pcap router's time goes"), often inside our own transmit's softirq. Packet taps
 * see a frame before the ingress hook, so capture is unchanged. {@code fib daddr type} follows the
 * box's addresses as they change: frames to the box itself, its broadcasts and multicast still go
 * up its stack (the control plane, ARP is not IPv4 anyway). The table is per network namespace; a
 * stale one from a killed redirector is replaced at the next start.
 */
public final class TransitDrop {
  /** The table's name: one per network namespace, which holds one redirector. */
  public static final String TABLE = "hydranet_transit";

  private TransitDrop() {}

  /**
   * Installs the drop on {@code interfaces}, replacing a table left by an earlier run.
   *
   * @param nft how to run {@code nft} (a prefix such as {@code ip netns exec NS} for tests)
   * @throws IOException with nft's message if it is missing or refuses the table
   */
  public static IngressDrop install(List<String> nft, List<String> interfaces) throws IOException {
    return IngressDrop.install(nft, TABLE, script(interfaces));
  }

  static String script(List<String> interfaces) {
    return IngressDrop.script(
        TABLE,
        interfaces,
        List.of(
            "meta protocol ip fib daddr type != { local, broadcast, multicast } counter drop",
            // IPv6 the same (no broadcast there): neighbour discovery and the box's own
            // addresses, link-local ones included, still go up the stack.
            "meta protocol ip6 fib daddr type != { local, multicast } counter drop"));
  }
}
