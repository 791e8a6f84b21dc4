package net.hydranet.forwarding.counter;

/**
 * Every counter of the forwarding plane: an id (its slot) and a Prometheus-style name.
 *
 * <p>Each received frame ends in exactly one <em>outcome</em> counter — forwarded, redirected,
 * delivered locally, or one drop reason — so {@code rx_frames} equals their sum. The others count
 * work done on the way (bytes, fragments, ICMP sent, ARP) or on the transmit side.
 *
 * <p>One exception in time, not in count: a non-first fragment held until its first fragment
 * arrives has no outcome yet; it gets one when it is released (forwarded or redirected) or when it
 * times out ({@code drop_fragment_unmatched}). So {@code rx_frames} = outcomes + fragments held
 * now, and the two are equal whenever nothing is held.
 */
public enum Counter {
  RX_FRAMES("rx_frames", Kind.TOTAL),
  RX_BYTES("rx_bytes", Kind.WORK),
  TX_FRAMES("tx_frames", Kind.WORK),
  TX_BYTES("tx_bytes", Kind.WORK),
  TX_ERRORS("tx_errors", Kind.WORK),

  FORWARDED("forwarded", Kind.OUTCOME),
  REDIRECTED("redirected", Kind.OUTCOME),
  DELIVERED_LOCAL("delivered_local", Kind.OUTCOME),

  ENCAPSULATED_BYTES("encapsulated_bytes", Kind.WORK),
  FRAGMENTED_DATAGRAMS("fragmented_datagrams", Kind.WORK),
  FRAGMENTS_SENT("fragments_sent", Kind.WORK),
  MSS_CLAMPED("mss_clamped", Kind.WORK),
  ICMP_SENT_TIME_EXCEEDED("icmp_sent_time_exceeded", Kind.WORK),
  ICMP_SENT_NET_UNREACHABLE("icmp_sent_net_unreachable", Kind.WORK),
  ICMP_SENT_HOST_UNREACHABLE("icmp_sent_host_unreachable", Kind.WORK),
  ICMP_SENT_FRAG_NEEDED("icmp_sent_frag_needed", Kind.WORK),
  ICMP_SENT_ECHO_REPLY("icmp_sent_echo_reply", Kind.WORK),
  ICMP_RATE_LIMITED("icmp_rate_limited", Kind.WORK),
  ARP_REQUESTS_RECEIVED("arp_requests_received", Kind.WORK),
  ARP_REPLIES_RECEIVED("arp_replies_received", Kind.WORK),
  ARP_REQUESTS_SENT("arp_requests_sent", Kind.WORK),
  ARP_REPLIES_SENT("arp_replies_sent", Kind.WORK),
  ARP_QUEUED("arp_queued", Kind.WORK),
  ARP_QUEUE_DROPS("arp_queue_drops", Kind.WORK),
  ARP_TIMEOUT_DROPS("arp_timeout_drops", Kind.WORK),
  COMMANDS_APPLIED("commands_applied", Kind.WORK),
  COMMANDS_FAILED("commands_failed", Kind.WORK),
  FLOWS_CREATED("flows_created", Kind.WORK),
  FLOWS_EXPIRED("flows_expired", Kind.WORK),
  FLOWS_EVICTED("flows_evicted", Kind.WORK),
  /**
   * A SYN whose new flow was not recorded because the connection table was full: a SYN never
   * evicts, so a SYN flood cannot push established flows out (RedirectLookup).
   */
  FLOWS_SYN_NOT_RECORDED("flows_syn_not_recorded", Kind.WORK),
  /**
   * A packet whose new flow would have been recorded but was not, the pipeline's new-flow budget
   * ({@code limits.newFlowsPerSecond}) being spent: it follows the consistent hash unpinned, so a
   * flood cannot turn the table over faster than the budget (RedirectLookup).
   */
  FLOWS_NOT_RECORDED_RATE("flows_not_recorded_rate", Kind.WORK),
  FRAGMENTS_HELD("fragments_held", Kind.WORK),
  FRAGMENTS_MATCHED("fragments_matched", Kind.WORK),
  FRAGMENTS_TIMED_OUT("fragments_timed_out", Kind.WORK),
  FRAGMENTS_DROPPED("fragments_dropped", Kind.WORK),
  ICMP_ERRORS_STEERED("icmp_errors_steered", Kind.WORK),
  /** Host servers the control plane declared dead (hold time expired), as the path applied it. */
  HOST_SERVERS_DECLARED_DEAD("host_servers_declared_dead", Kind.WORK),
  /**
   * TCP flows pinned to a host server declared dead, released at their next segment: each is a
   * connection lost (its state died with the host server); the segment goes where the table says
   * now, whose RST ends it at once.
   */
  FLOWS_RELEASED_DEAD_HOST_TCP("flows_released_dead_host_tcp", Kind.WORK),
  /** UDP flows pinned to a host server declared dead, moved to the consistent hash's choice. */
  FLOWS_RELEASED_DEAD_HOST_UDP("flows_released_dead_host_udp", Kind.WORK),

  // IPv6 (issue 21): work counters of its own; its outcomes are the shared ones above and below.
  RX_IPV6_FRAMES("rx_ipv6_frames", Kind.WORK),
  ICMPV6_SENT_TIME_EXCEEDED("icmpv6_sent_time_exceeded", Kind.WORK),
  ICMPV6_SENT_UNREACHABLE("icmpv6_sent_unreachable", Kind.WORK),
  ICMPV6_SENT_PACKET_TOO_BIG("icmpv6_sent_packet_too_big", Kind.WORK),
  ICMPV6_SENT_ECHO_REPLY("icmpv6_sent_echo_reply", Kind.WORK),
  ICMPV6_RATE_LIMITED("icmpv6_rate_limited", Kind.WORK),
  ND_SOLICITATIONS_RECEIVED("nd_solicitations_received", Kind.WORK),
  ND_ADVERTISEMENTS_RECEIVED("nd_advertisements_received", Kind.WORK),
  ND_SOLICITATIONS_SENT("nd_solicitations_sent", Kind.WORK),
  ND_ADVERTISEMENTS_SENT("nd_advertisements_sent", Kind.WORK),
  ND_QUEUED("nd_queued", Kind.WORK),
  ND_QUEUE_DROPS("nd_queue_drops", Kind.WORK),
  ND_TIMEOUT_DROPS("nd_timeout_drops", Kind.WORK),
  /** Datagrams sent to a host server in the second-chance tunnel (UDP, GUE, a hop list). */
  GUE_ENCAPSULATED("gue_encapsulated", Kind.WORK),
  /**
   * A host server's pass-on to the origin, decapsulated and forwarded without a redirect lookup
   * (TunnelToOrigin: the loop guard); its outcome is {@code forwarded}.
   */
  TUNNELLED_TO_ORIGIN("tunnelled_to_origin", Kind.WORK),
  /** A pinned flow moved to the origin because a host server passed its packet back for it. */
  FLOWS_REPINNED_TO_ORIGIN("flows_repinned_to_origin", Kind.WORK),
  /**
   * A host server's IP-in-IP pass-back sent on, in IP-in-IP, to the next candidate of its flow
   * (TunnelToOrigin: the redirector's walk, IP-in-IP having no hop list); its outcome is {@code
   * redirected}.
   */
  PASSED_BACK_TO_NEXT_CANDIDATE("passed_back_to_next_candidate", Kind.WORK),
  /**
   * A flow pinned to the host server that passed its packet back, moved to the next candidate the
   * walk sent it to (never backwards: a pin that moved since is kept).
   */
  FLOWS_REPINNED_TO_NEXT_CANDIDATE("flows_repinned_to_next_candidate", Kind.WORK),

  DROP_TRUNCATED_ETHERNET("drop_truncated_ethernet", Kind.DROP),
  DROP_NOT_FOR_US("drop_not_for_us", Kind.DROP),
  DROP_UNSUPPORTED_ETHERTYPE("drop_unsupported_ethertype", Kind.DROP),
  DROP_BAD_ARP("drop_bad_arp", Kind.DROP),
  DROP_TRUNCATED_IP("drop_truncated_ip", Kind.DROP),
  DROP_BAD_IP_VERSION("drop_bad_ip_version", Kind.DROP),
  DROP_BAD_IHL("drop_bad_ihl", Kind.DROP),
  DROP_BAD_TOTAL_LENGTH("drop_bad_total_length", Kind.DROP),
  DROP_BAD_IP_CHECKSUM("drop_bad_ip_checksum", Kind.DROP),
  DROP_MARTIAN_SOURCE("drop_martian_source", Kind.DROP),
  DROP_MARTIAN_DESTINATION("drop_martian_destination", Kind.DROP),
  DROP_BAD_TRANSPORT("drop_bad_transport", Kind.DROP),
  DROP_BAD_FRAGMENT("drop_bad_fragment", Kind.DROP),
  DROP_TTL_EXCEEDED("drop_ttl_exceeded", Kind.DROP),
  DROP_NO_ROUTE("drop_no_route", Kind.DROP),
  DROP_NO_HOST_SERVER_ROUTE("drop_no_host_server_route", Kind.DROP),
  DROP_FRAG_NEEDED("drop_frag_needed", Kind.DROP),
  /** A held non-first fragment whose first fragment never came (timed out or evicted). */
  DROP_FRAGMENT_UNMATCHED("drop_fragment_unmatched", Kind.DROP),
  DROP_FRAME_TOO_LARGE("drop_frame_too_large", Kind.DROP),
  /** An IPv6 header or extension header cut short by the frame or the payload length. */
  DROP_IPV6_TRUNCATED("drop_ipv6_truncated", Kind.DROP),
  /** An IPv6 payload length beyond the frame, or a jumbogram (RFC 2675). */
  DROP_IPV6_BAD_PAYLOAD_LENGTH("drop_ipv6_bad_payload_length", Kind.DROP),
  /** Extension headers out of RFC 8200 §4.1's order, or repeated: how an endless chain ends. */
  DROP_IPV6_BAD_EXTENSION_HEADERS("drop_ipv6_bad_extension_headers", Kind.DROP),
  /** Larger than the next link's MTU: IPv6 routers never fragment (RFC 8200 §5). */
  DROP_PACKET_TOO_BIG("drop_packet_too_big", Kind.DROP),
  /** A neighbour discovery message that fails RFC 4861's receive checks. */
  DROP_BAD_ND("drop_bad_nd", Kind.DROP),
  /**
   * A second-chance tunnel datagram to this router that no host server of its inner flow's service
   * could have sent (its hop list not used up or not ending here, a tunnel in the tunnel, a
   * stranger's, no service): refused, never unwrapped (TunnelToOrigin).
   */
  DROP_TUNNEL_REFUSED("drop_tunnel_refused", Kind.DROP),
  DROP_ERROR("drop_error", Kind.DROP);

  /** What a counter means for the accounting identity. */
  public enum Kind {
    /** Every received frame. */
    TOTAL,
    /** A terminal, non-drop outcome of a received frame. */
    OUTCOME,
    /** A terminal drop of a received frame, by reason. */
    DROP,
    /** Work done or transmit-side events; not part of the identity. */
    WORK
  }

  private static final Counter[] VALUES = values();

  private final String metricName;
  private final Kind kind;

  Counter(String metricName, Kind kind) {
    this.metricName = metricName;
    this.kind = kind;
  }

  /** The slot this counter occupies in {@link Counters}. */
  public int id() {
    return ordinal();
  }

  public String metricName() {
    return metricName;
  }

  public Kind kind() {
    return kind;
  }

  public static int count() {
    return VALUES.length;
  }

  public static Counter of(int id) {
    return VALUES[id];
  }
}
