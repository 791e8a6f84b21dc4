package net.hydranet.forwarding.element;

import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import org.agrona.MutableDirectBuffer;

/**
 * Wraps an IPv6 packet for its host server in the headroom in front of it, the payload never copied
 * (control-plane/IPV6.md §1):
 *
 * <ul>
 *   <li><b>IPv6-in-IPv4</b> (protocol 41, RFC 4213 §3.5), the default, to a host server's IPv4
 *       address: 20 bytes; DF always set, since an IPv6 router never fragments and the tunnel MTU
 *       (egress MTU − 20) is never below 1280 on an Ethernet core; the traffic class copied into
 *       the TOS (RFC 4213 §3.3, ECN per RFC 6040); a fresh identification; the configured TTL.
 *   <li><b>IPv6-in-IPv6</b> (next header 41, RFC 2473 §3), to a host server's IPv6 address: 40
 *       bytes; traffic class copied (§5.1), flow label 0, hop limit the configured outer TTL, no
 *       tunnel encapsulation limit option (§4.1.1: optional).
 * </ul>
 *
 * <p>The inner hop limit is decremented before, by the path, as the inner TTL is for IP-in-IP.
 */
public final class Ip6Encap {
  /** Bytes the IPv6-in-IPv4 outer header adds. */
  public static final int OVERHEAD_6IN4 = Ipv4Header.MIN_LENGTH;

  /** Bytes the IPv6-in-IPv6 outer header adds. */
  public static final int OVERHEAD_6IN6 = Ipv6Header.LENGTH;

  /** IPv6 carried in IPv4, RFC 4213 §3.5's protocol number (and RFC 2473's next header). */
  public static final int PROTOCOL_IPV6 = Ipv6Header.NEXT_HEADER_IPV6;

  private final Counters counters;
  private final int outerTtl;
  private int nextId;

  public Ip6Encap(Counters counters, int outerTtl, int firstId) {
    this.counters = counters;
    this.outerTtl = outerTtl;
    this.nextId = firstId;
  }

  /**
   * Writes an outer IPv4 header (protocol 41) at {@code inner - 20}; the caller guarantees that
   * headroom.
   *
   * @return the outer header's offset
   */
  public int encapsulate4(
      MutableDirectBuffer buffer, int inner, int innerLength, int source, int hostServer) {
    int outer = inner - OVERHEAD_6IN4;
    Ipv4Header.write(
        buffer,
        outer,
        Ipv6Header.trafficClass(buffer, inner),
        innerLength + OVERHEAD_6IN4,
        nextId++ & 0xFFFF,
        Ipv4Header.FLAG_DF,
        outerTtl,
        PROTOCOL_IPV6,
        source,
        hostServer);
    counters.add(Counter.ENCAPSULATED_BYTES, innerLength);
    return outer;
  }

  /**
   * Writes an outer IPv6 header (next header 41) at {@code inner - 40}; the caller guarantees that
   * headroom.
   *
   * @return the outer header's offset
   */
  public int encapsulate6(
      MutableDirectBuffer buffer,
      int inner,
      int innerLength,
      long sourceHigh,
      long sourceLow,
      long hostServerHigh,
      long hostServerLow) {
    int outer = inner - OVERHEAD_6IN6;
    Ipv6Header.write(
        buffer,
        outer,
        Ipv6Header.trafficClass(buffer, inner),
        0,
        innerLength,
        PROTOCOL_IPV6,
        outerTtl,
        sourceHigh,
        sourceLow,
        hostServerHigh,
        hostServerLow);
    counters.add(Counter.ENCAPSULATED_BYTES, innerLength);
    return outer;
  }
}
