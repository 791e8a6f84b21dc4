package net.hydranet.control.wire;

import java.util.List;

/**
 * A decoded (or to-be-encoded) control message. Only the control thread builds these; the data path
 * never sees them, so they are plain immutable objects.
 *
 * @param sender the sender's node id: its IPv4 control address
 * @param timestamp microseconds since the epoch, strictly increasing per sender (replay guard)
 * @param holdMillis how long the receiver keeps the sender alive without hearing from it; 0 says "I
 *     am leaving" and removes the sender's state at once
 * @param role for HELLO: {@link #ROLE_HOST_SERVER} or {@link #ROLE_REDIRECTOR}; else 0
 * @param entries ANNOUNCE, WITHDRAW and UPDATE entries; empty otherwise
 * @param version the header's version: 1, or 2 for the entry layout with an address family
 *     (control-plane/IPV6.md §2); only ANNOUNCE, WITHDRAW and UPDATE are ever sent as 2
 * @param reads for HELLO: the highest version the sender reads (0 from a version-1 node, which
 *     sends that octet as reserved); else 0
 * @param answer for HELLO: the sender does not know the receiver's version and asks for a HELLO
 *     back (flag 0x01 of the HELLO's third octet); else false
 */
public record Message(
    MessageType type,
    int sender,
    long timestamp,
    int holdMillis,
    int role,
    List<Entry> entries,
    int version,
    int reads,
    boolean answer) {
  public static final int ROLE_HOST_SERVER = 1;
  public static final int ROLE_REDIRECTOR = 2;

  public Message {
    entries = List.copyOf(entries);
  }

  /** A version-1 message, as a version-1 node sends it. */
  public Message(
      MessageType type, int sender, long timestamp, int holdMillis, int role, List<Entry> entries) {
    this(type, sender, timestamp, holdMillis, role, entries, Codec.VERSION, 0, false);
  }

  /** True if an entry is of an IPv6 service: the message needs version 2. */
  public boolean hasIpv6() {
    for (Entry e : entries) {
      if (!e.isIpv4()) {
        return true;
      }
    }
    return false;
  }
}
