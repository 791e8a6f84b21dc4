package net.hydranet.hostserver.replica;

/** The replica service's counters: what it did and what it refused or dropped, by cause. */
public enum ReplicaCounter {
  CONNECTIONS("connections"),
  CONNECTIONS_OVER_LIMIT("connections_over_limit"),
  HANDSHAKE_FAILURES("handshake_failures"),
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
