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
  DROP_INJECT_FAILED("drop_inject_failed");

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
