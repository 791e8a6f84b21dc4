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
  INJECTED_IPV6("injected_ipv6");

  private static final HostServerCounter[] VALUES = values();
  private final String metricName;

  HostServerCounter(String metricName) {
    this.metricName = metricName;
  }

  public int id() {
    return ordinal();
  }

  public String metricName() {
    return metricName;
  }

  public static int count() {
    return VALUES.length;
  }

  public static HostServerCounter of(int id) {
    return VALUES[id];
  }
}
