package net.hydranet.hostserver.replica;

/** The replica service's counters: what it did and what it refused or dropped, by cause. */
public enum ReplicaCounter {
  CONNECTIONS("connections"),
  /** Refused: the service's {@code maxConnections} were open. */
  CONNECTIONS_OVER_LIMIT("connections_over_limit"),
  /** Refused after HELLO: the origin had its {@code maxPerOrigin} connections. */
  ORIGIN_OVER_LIMIT("origin_over_limit"),
  /** Closed at accept: the address is no configured manager's, so it could never pass HELLO. */
  REFUSED_UNKNOWN_SOURCE("refused_unknown_source"),
  /** Refused at accept: {@code maxHandshakes} connections were in their HELLO. */
  HANDSHAKES_OVER_LIMIT("handshakes_over_limit"),
  /** The oldest HELLO in progress from an address, closed for a newer one from there. */
  HANDSHAKES_EVICTED("handshakes_evicted"),
  /** HELLO not complete within {@code helloTimeoutMillis} of the accept. */
  HANDSHAKE_TIMEOUTS("handshake_timeouts"),
  /** HELLO refused: malformed, a wrong key, role or address, or the peer closed. */
  HANDSHAKE_FAILURES("handshake_failures"),
  /**
   * HELLO refused for its version or address family (neither 1 nor 2; a version-2 family neither 4
   * nor 6): a peer newer than this host server. Logged at WARN.
   */
  HANDSHAKE_UNSUPPORTED("handshake_unsupported"),
  PROTOCOL_ERRORS("protocol_errors"),
  INSTALLS("installs"),
  REMOVES("removes"),
  EXITS("exits"),
  KILLS("kills"),
  APP_TO_REPLICA("app_to_replica"),
  APP_TO_MANAGER("app_to_manager"),
  APP_DROPPED("app_dropped"),
  CHANNEL_ERRORS("channel_errors"),
  /** A replica that stopped reading its channel: the connection was closed, not waited on. */
  CHANNEL_STALLS("channel_stalls"),
  /** Replicas found running or left on disk from before the host server's last start. */
  LEFTOVERS_REMOVED("leftovers_removed");

  private final String metricName;

  ReplicaCounter(String metricName) {
    this.metricName = metricName;
  }

  public String metricName() {
    return metricName;
  }
}
