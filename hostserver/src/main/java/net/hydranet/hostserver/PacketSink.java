package net.hydranet.hostserver;

import org.agrona.DirectBuffer;

/** Where decapsulated IPv4 packets go: a TUN device live, a list in tests. */
@FunctionalInterface
public interface PacketSink {
  /** Writes one IPv4 packet; false if it could not be written. */
  boolean write(DirectBuffer buffer, int offset, int length);
}
