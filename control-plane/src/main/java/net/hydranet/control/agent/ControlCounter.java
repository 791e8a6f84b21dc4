package net.hydranet.control.agent;

import java.util.Locale;

/** The control plane's counters: what it received, refused (and why), sent and changed. */
public enum ControlCounter {
  RECEIVED,
  ACCEPTED,
  SENT,
  SEND_ERRORS,
  REFUSED_TOO_SHORT,
  REFUSED_TOO_LONG,
  REFUSED_BAD_MAGIC,
  REFUSED_BAD_VERSION,
  REFUSED_BAD_TYPE,
  REFUSED_BAD_LENGTH,
  REFUSED_BAD_ENTRY,
  REFUSED_UNKNOWN_SENDER,
  REFUSED_SPOOFED_SOURCE,
  REFUSED_BAD_SIGNATURE,
  REFUSED_REPLAYED,
  REFUSED_STALE,
  REFUSED_UNAUTHORISED,
  REFUSED_UNEXPECTED,
  REFUSED_RATE_LIMITED,
  TABLE_WRITES,
  HOST_SERVERS_LOST,
  PEERS_LOST,
  TRIGGERED_UPDATES;

  public String metricName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
