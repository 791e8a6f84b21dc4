package net.hydranet.forwarding.io.live;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Has a host server's kernel drop, at ingress on its uplink, the tunnel packets addressed to it
 * (IPv4 protocol 4 and 41; with an IPv6 address, IPv6 next header 41): the protocols it claims,
 * which its capture has already taken ({@link IngressDrop}).
 *
 * <p>Why: otherwise the kernel runs IP input on each — a route lookup, local delivery, the raw
 * socket that claims the protocol ({@code ProtocolClaim}), and for fragments a reassembly — only to
 * drop it; on the paper's LAN that work runs inside the redirector's own {@code sendto(2)}, whose
 * softirq delivers the frame. Everything else to the host server (its control plane, the second
 * chance tunnel's UDP, ARP, neighbour discovery) still goes up its stack.
 */
public final class TunnelDrop {
  /** The table's name: one per network namespace, which holds one host server. */
  public static final String TABLE = "hydranet_tunnel";

  private static final Pattern IPV4 = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
  private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]{2,45}");

  private TunnelDrop() {}

  /**
   * Installs the drop on {@code uplink} for tunnel packets to {@code address} (and {@code
   * address6}, if not null), replacing a table left by an earlier run.
   *
   * @param nft how to run {@code nft} (a prefix such as {@code ip netns exec NS} for tests)
   * @throws IOException with nft's message if it is missing or refuses the table
   */
  public static IngressDrop install(
      List<String> nft, String uplink, String address, String address6) throws IOException {
    return IngressDrop.install(nft, TABLE, script(uplink, address, address6));
  }

  static String script(String uplink, String address, String address6) {
    if (!IPV4.matcher(address).matches()) {
      throw new IllegalArgumentException("address '" + address + "'");
    }
    List<String> rules = new ArrayList<>();
    rules.add("meta protocol ip ip daddr " + address + " ip protocol { 4, 41 } counter drop");
    if (address6 != null) {
      if (!IPV6.matcher(address6).matches()) {
        throw new IllegalArgumentException("address6 '" + address6 + "'");
      }
      rules.add("meta protocol ip6 ip6 daddr " + address6 + " ip6 nexthdr 41 counter drop");
    }
    return IngressDrop.script(TABLE, List.of(uplink), rules);
  }
}
