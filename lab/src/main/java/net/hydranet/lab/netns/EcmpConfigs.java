package net.hydranet.lab.netns;

import static net.hydranet.lab.netns.EcmpNetwork.HS1;
import static net.hydranet.lab.netns.EcmpNetwork.HS2;
import static net.hydranet.lab.netns.EcmpNetwork.HTTP;
import static net.hydranet.lab.netns.EcmpNetwork.IPERF;
import static net.hydranet.lab.netns.EcmpNetwork.LIVENESS_LINK;
import static net.hydranet.lab.netns.EcmpNetwork.ORIGIN;
import static net.hydranet.lab.netns.EcmpNetwork.REDIRECTORS;
import static net.hydranet.lab.netns.EcmpNetwork.UPSTREAM_CLIENT_SIDE;
import static net.hydranet.lab.netns.EcmpNetwork.coreAddress;
import static net.hydranet.lab.netns.EcmpNetwork.redirector;
import static net.hydranet.lab.netns.EcmpNetwork.upstreamAddress;
import static net.hydranet.lab.netns.EcmpNetwork.upstreamSide;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import net.hydranet.lab.netns.EcmpNetwork.Replica;

/**
 * What the daemons of {@link EcmpNetwork} read, as text for its address plan: the upstream's and
 * each redirector's BIRD config (those of {@code config/bird/} with the lab's addresses and slower
 * timers) and each redirector's hydranet config, its table of replicas.
 */
final class EcmpConfigs {
  private EcmpConfigs() {}

  /**
   * The upstream's BIRD: config/bird/bird-upstream.conf with a log on stderr and slower BGP and BFD
   * timers (hold 9 s, BFD 10 × 200 ms): on the shared 2-core machine at a load of 24, the first run
   * with 3 s and 3 × 100 ms saw BFD sessions restart and a BGP Cease. What is measured here is the
   * liveness link, which needs neither.
   */
  static String upstreamBird() {
    StringBuilder sb = new StringBuilder();
    sb.append("log stderr all;\nrouter id ")
        .append(UPSTREAM_CLIENT_SIDE)
        .append(";\nprotocol device { scan time 10; }\n")
        .append("protocol bfd { interface \"u*\" { min rx interval 200 ms;")
        .append(" min tx interval 200 ms; multiplier 10; }; }\n")
        .append("protocol kernel { ipv4 { import none; export where source = RTS_BGP; };")
        .append(" merge paths on; }\n")
        .append("template bgp redirector {\n  local as 65000;\n")
        .append("  hold time 9; keepalive time 3; connect retry time 1; error wait time 1, 2;\n")
        .append("  bfd on;\n")
        .append("  ipv4 { import where net ~ [ 198.18.2.0/24{24,32} ]; export none; };\n}\n");
    for (int n = 1; n <= REDIRECTORS; n++) {
      sb.append("protocol bgp ")
          .append(redirector(n))
          .append(" from redirector { neighbor ")
          .append(upstreamAddress(n))
          .append(" as 65010; }\n");
    }
    return sb.toString();
  }

  /** Redirector n's BIRD: config/bird/bird-redirector.conf for its addresses, lab timers. */
  static String redirectorBird(int n) {
    return String.join(
        "\n",
        "log stderr all;",
        "router id " + upstreamAddress(n) + ";",
        "protocol device { scan time 10; }",
        "protocol bfd { interface \"up0\" { min rx interval 200 ms; min tx interval 200 ms;"
            + " multiplier 10; }; }",
        "protocol static hydranet_live {",
        "  ipv4;",
        "  check link on;",
        "  route " + ORIGIN + "/32 via \"" + LIVENESS_LINK + "\";",
        "}",
        "protocol bgp upstream {",
        "  local " + upstreamAddress(n) + " as 65010;",
        "  neighbor " + upstreamSide(n) + " as 65000;",
        "  hold time 9; keepalive time 3; connect retry time 1; error wait time 1, 2;",
        "  bfd on;",
        "  ipv4 { import none; export where proto = \"hydranet_live\"; next hop self; };",
        "}",
        "");
  }

  /**
   * Redirector n's config: the same table everywhere, the host servers listed in an order of the
   * redirector's own (Maglev takes turns in address order, so the choice must not change). Both
   * host servers take the second-chance tunnel from the start if {@code gue} (else IP-in-IP: {@link
   * EcmpNetwork#ipInIp}): a change of that set would need a restart.
   */
  static String redirectorConfig(int n, List<Replica> replicas, boolean gue) {
    List<Replica> order = new ArrayList<>(replicas);
    if (n % 2 == 0) {
      Collections.reverse(order);
    }
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            "interfaces:%n  - { name: up0, address: %s/24 }%n  - { name: core0, address: %s/24 }%n"
                + "routes:%n  - { prefix: 198.18.1.0/24, via: %s }%n%s",
            upstreamAddress(n),
            coreAddress(n),
            upstreamSide(n),
            gue ? String.format("options:%n  gueHostServers: [ %s, %s ]%n", HS1, HS2) : ""));
    if (order.isEmpty()) {
      return sb.append("redirects: []\n").toString();
    }
    List<String> servers = new ArrayList<>();
    for (Replica r : order) {
      servers.add("{ address: " + r.address() + ", weight: " + r.weight() + " }");
    }
    sb.append("redirects:\n");
    for (int port : List.of(HTTP, IPERF)) {
      sb.append("  - service: ")
          .append(ORIGIN)
          .append(':')
          .append(port)
          .append("/tcp\n    hostServers: [ ")
          .append(String.join(", ", servers))
          .append(" ]\n");
    }
    return sb.toString();
  }
}
