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
 */
public record Message(
    MessageType type, int sender, long timestamp, int holdMillis, int role, List<Entry> entries) {
  public static final int ROLE_HOST_SERVER = 1;
  public static final int ROLE_REDIRECTOR = 2;

  public Message {
    entries = List.copyOf(entries);
  }
}
