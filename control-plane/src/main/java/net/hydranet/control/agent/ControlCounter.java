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
  /** A directly connected node's name on a datagram that did not arrive with TTL 255 (RFC 5082). */
  REFUSED_TTL_SECURITY,
  /** A datagram with a tag that is not its sender's (PROTOCOL.md, "Work budget"). */
  REFUSED_BAD_TAG,
  /** An untagged datagram in the name of a node that tags (its tag verified since we started). */
  REFUSED_UNTAGGED,
  /** Datagrams whose sender's tag verified (the rest, untagged, are an older node's). */
  RECEIVED_TAGGED,
  /**
   * IPv6 entries not sent to a node that has not said it reads protocol version 2 (IPV6.md §2): a
   * version-1 node would refuse the whole message.
   */
  IPV6_ENTRIES_WITHHELD,
  TABLE_WRITES,
  HOST_SERVERS_LOST,
  PEERS_LOST,
  TRIGGERED_UPDATES;

  public String metricName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
