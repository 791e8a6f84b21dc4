package net.hydranet.forwarding.element;

import java.nio.ByteOrder;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.EthernetHeader;
import org.agrona.MutableDirectBuffer;

/**
 * Ethernet II and one 802.1Q tag in front of the network header, for the redirector's path and the
 * host server's alike: sets {@link PacketContext#l3} and {@link PacketContext#available} and
 * returns the EtherType's port.
 *
 * <p>A frame shorter than its link header — 14 bytes, or 18 with a VLAN tag — is truncated and
 * dropped here, counted under the counter the path names. With the MAC filter on (the redirector,
 * whose promiscuous capture sees the whole segment) a frame sent neither to the ingress interface's
 * MAC nor to broadcast is dropped as not for us, before its tag is read.
 */
public final class EtherClassifier implements Element {
  /** An IPv4 datagram at {@link PacketContext#l3}. */
  public static final int IPV4 = 0;

  /** An ARP message at {@link PacketContext#l3}. */
  public static final int ARP = 1;

  /** Any other EtherType (a short VLAN-tagged frame is truncated, not this); not counted here. */
  public static final int OTHER = 2;

  /** Truncated or not for us; counted. */
  public static final int DROP = 3;

  /**
   * An IPv6 packet at {@link PacketContext#l3}; sent to the ingress MAC, to broadcast, or to an
   * IPv6 multicast MAC (33:33:…, RFC 2464 §7), whose group the IPv6 input checks.
   */
  public static final int IPV6 = 4;

  /** The high 16 bits of every IPv6 multicast MAC, 33:33 (RFC 2464 §7). */
  private static final long IPV6_MULTICAST_MAC_PREFIX = 0x3333L;

  private final Counters counters;
  private final int truncated;
  private final boolean filterMac;

  /**
   * @param truncated the counter slot of a frame shorter than its link header
   * @param filterMac drop (as {@link Counter#DROP_NOT_FOR_US}) frames not addressed to the ingress
   *     interface's MAC or to broadcast
   */
  public EtherClassifier(Counters counters, int truncated, boolean filterMac) {
    this.counters = counters;
    this.truncated = truncated;
    this.filterMac = filterMac;
  }

  @Override
  public int process(MutableDirectBuffer buffer, PacketContext packet) {
    int offset = packet.frame;
    int length = packet.length;
    if (length < EthernetHeader.LENGTH) {
      counters.add(truncated, 1);
      return DROP;
    }
    long destinationMac = EthernetHeader.destination(buffer, offset);
    boolean ipv6Group = false;
    if (filterMac
        && destinationMac != packet.ingress.mac()
        && destinationMac != EthernetHeader.BROADCAST) {
      // Neighbour discovery reaches us at IPv6 multicast MACs; nothing else may.
      ipv6Group = (destinationMac >>> 32) == IPV6_MULTICAST_MAC_PREFIX;
      if (!ipv6Group) {
        counters.increment(Counter.DROP_NOT_FOR_US);
        return DROP;
      }
    }
    int type = EthernetHeader.type(buffer, offset);
    int l3 = offset + EthernetHeader.LENGTH;
    if (type == EthernetHeader.TYPE_VLAN) {
      if (length < EthernetHeader.VLAN_LENGTH) {
        counters.add(truncated, 1);
        return DROP;
      }
      type =
          buffer.getShort(offset + EthernetHeader.VLAN_TYPE_OFFSET, ByteOrder.BIG_ENDIAN) & 0xFFFF;
      l3 = offset + EthernetHeader.VLAN_LENGTH;
    }
    // Stored after the last read of the frame, so the next element's reads of them are the stored
    // values, not loads: C2 orders an access to the frame with every field load (ARCHITECTURE.md,
    // "One packet through the redirector").
    packet.destinationMac = destinationMac;
    packet.l3 = l3;
    packet.available = offset + length - l3;
    if (type == EthernetHeader.TYPE_IPV6) {
      return IPV6;
    }
    if (ipv6Group) {
      counters.increment(Counter.DROP_NOT_FOR_US);
      return DROP;
    }
    if (type == EthernetHeader.TYPE_IPV4) {
      return IPV4;
    }
    return type == EthernetHeader.TYPE_ARP ? ARP : OTHER;
  }
}
