package net.hydranet.hostserver;

/** The host server's counters: ids into a {@code Counters} block, and metric names. */
public enum HostServerCounter {
  RX_FRAMES("rx_frames"),
  NOT_TUNNELLED("not_tunnelled"),
  OUTER_FRAGMENTS_HELD("outer_fragments_held"),
  OUTER_REASSEMBLED("outer_reassembled"),
  DECAPSULATED("decapsulated"),
  INJECTED("injected"),
  INJECTED_BYTES("injected_bytes"),
  DROP_BAD_OUTER("drop_bad_outer"),
  DROP_OUTER_FRAGMENT("drop_outer_fragment"),
  DROP_BAD_INNER("drop_bad_inner"),
  DROP_NO_VIRTUAL_HOST("drop_no_virtual_host"),
  DROP_INJECT_FAILED("drop_inject_failed"),
  // By family, beside the outcomes above (which count both): never summed into rx_frames.
  /** Outer IPv4 protocol 41 (RFC 4213 §3.5) to us, its outer header valid. */
  IPV6_IN_IPV4("ipv6_in_ipv4"),
  /** Outer IPv6 next header 41 (RFC 2473) to our IPv6 address, its outer chain valid. */
  IPV6_IN_IPV6("ipv6_in_ipv6"),
  /** Inner IPv6 packets dropped as malformed (also in drop_bad_inner). */
  BAD_INNER_IPV6("bad_inner_ipv6"),
  /** Inner IPv6 packets written to the local stack (also in injected). */
  INJECTED_IPV6("injected_ipv6"),

  /** UDP to the second-chance port whose GUE header or hop list is not ours (SECOND-CHANCE.md). */
  DROP_BAD_GUE("drop_bad_gue"),

  // The second chance (SECOND-CHANCE.md): every pass-on, by hop and reason.
  /** To the next candidate host server of the hop list, the first, second or third. */
  PASSED_ON_HOP_1("passed_on_hop_1", "1", "no_socket"),
  PASSED_ON_HOP_2("passed_on_hop_2", "2", "no_socket"),
  PASSED_ON_HOP_3("passed_on_hop_3", "3", "no_socket"),
  /** To the origin, through the redirector the list ends with. */
  PASSED_ON_ORIGIN("passed_on_origin", "origin", "no_socket"),
  /** To the origin, through the redirector that sent it IP-in-IP (no list: the minimal chance). */
  PASSED_ON_ORIGIN_NO_LIST("passed_on_origin_no_list", "origin", "no_socket_no_list"),
  /**
   * A pass-on refused and the packet taken here (the local stack answers, as without a second
   * chance): the list names this host server or 0.0.0.0, or its sender is not the hop before.
   */
  PASS_ON_LOOPS_REFUSED("pass_on_loops_refused"),
  /** No socket, and the list used up: taken here, the last resort (GLB's rule). */
  SECOND_CHANCE_LAST_RESORT("second_chance_last_resort"),
  /** Socket-table queries made (a miss of the known-flow cache, to a bound port). */
  SECOND_CHANCE_SOCKET_CHECKS("second_chance_socket_checks"),
  /** Non-SYN segments decided from the known-flow cache, without a query. */
  SECOND_CHANCE_CACHE_HITS("second_chance_cache_hits"),
  /**
   * A query that could not answer (no table for the virtual host, over budget, error): taken here.
   */
  SECOND_CHANCE_UNKNOWN("second_chance_unknown"),
  /** A pass-on the stack would not take (the TUN write failed). */
  DROP_PASS_ON_FAILED("drop_pass_on_failed"),

  /**
   * Packets written straight onto their virtual host's link (also in injected); the rest of
   * injected went through the TUN device ({@link VirtualHostLinks}).
   */
  INJECTED_LINK("injected_link"),
  /** IPv6 packets written onto their virtual host's link (also in injected_ipv6, injected_link). */
  INJECTED_LINK_IPV6("injected_link_ipv6"),
  /**
   * A virtual host's socket table opened again because its namespace changed under the same origin
   * (a virtual host replaced between two directory scans): counted by the forwarding thread.
   */
  SOCKET_TABLES_REOPENED("socket_tables_reopened");

  private static final HostServerCounter[] VALUES = values();
  private final String metricName;
  private final String passOnHop;
  private final String passOnReason;

  HostServerCounter(String metricName) {
    this(metricName, null, null);
  }

  HostServerCounter(String metricName, String passOnHop, String passOnReason) {
    this.metricName = metricName;
    this.passOnHop = passOnHop;
    this.passOnReason = passOnReason;
  }

  public int id() {
    return ordinal();
  }

  public String metricName() {
    return metricName;
  }

  /** For a pass-on counter, its hop ("1".."3", "origin"); else null. */
  public String passOnHop() {
    return passOnHop;
  }

  /** For a pass-on counter, why it was passed on; else null. */
  public String passOnReason() {
    return passOnReason;
  }

  public static int count() {
    return VALUES.length;
  }

  public static HostServerCounter of(int id) {
    return VALUES[id];
  }
}
