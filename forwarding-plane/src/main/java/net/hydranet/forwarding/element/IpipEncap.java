package net.hydranet.forwarding.element;

import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.Ipv4Header;
import org.agrona.MutableDirectBuffer;

/**
 * Wraps a datagram in an outer IPv4 header in the headroom in front of it (RFC 2003 §3.1): the
 * payload is not copied. Outer source is the egress interface's address, destination the host
 * server, protocol 4, TOS copied, DF copied from the inner header (unless the paper's clear-DF mode
 * is on), a fresh identification, and the configured TTL.
 */
public final class IpipEncap implements Element {
  /** Bytes this tunnel adds: the outer IPv4 header, without options. */
  public static final int OVERHEAD = Ipv4Header.MIN_LENGTH;

  /**
   * The highest outer TTL a redirector sends (its {@code outerTtl}). A host server passes a segment
   * it holds no socket for back to the sender in IP-in-IP with the outer TTL {@link #PASS_ON_TTL}
   * (hostserver/SECOND-CHANCE.md): an IP-in-IP datagram that arrives with more than this came from
   * a host server, not from a redirector, so it is never passed back again — the loop guard that
   * IP-in-IP, having no hop list, carries in its TTL (as GTSM, RFC 5082, carries a check in it). It
   * holds while a pass-on crosses fewer than 64 routers.
   */
  public static final int MAX_REDIRECT_TTL = 191;

  /** The outer TTL of a host server's pass-on in IP-in-IP; see {@link #MAX_REDIRECT_TTL}. */
  public static final int PASS_ON_TTL = 255;

  private final Counters counters;
  private final RouterInterface[] interfaces;
  private final int outerTtl;
  private final boolean clearDontFragment;
  private int nextId;

  /**
   * @param interfaces the router's, by index: the outer source is the egress interface's address
   */
  public IpipEncap(
      Counters counters,
      RouterInterface[] interfaces,
      int outerTtl,
      boolean clearDontFragment,
      int firstId) {
    this.counters = counters;
    this.interfaces = interfaces;
    this.outerTtl = outerTtl;
    this.clearDontFragment = clearDontFragment;
    this.nextId = firstId;
  }

  /**
   * As an element: wraps the datagram at {@link PacketContext#l3} for the host server {@link
   * PacketContext#target}, from the address of the interface {@link IpOutput#route} chose, and
   * moves {@code l3} to the outer header.
   *
   * @return {@link Verdict#CONTINUE}
   */
  @Override
  public int process(MutableDirectBuffer buffer, PacketContext packet) {
    packet.l3 =
        encapsulate(buffer, packet.l3, interfaces[packet.egressInterface].address(), packet.target);
    return Verdict.CONTINUE;
  }

  /**
   * Writes the outer header at {@code innerOffset - 20}; the caller guarantees that headroom.
   *
   * @return the outer header's offset
   */
  public int encapsulate(MutableDirectBuffer buffer, int innerOffset, int source, int hostServer) {
    int innerLength = Ipv4Header.totalLength(buffer, innerOffset);
    int outer = innerOffset - Ipv4Header.MIN_LENGTH;
    int flags =
        !clearDontFragment && Ipv4Header.dontFragment(buffer, innerOffset) ? Ipv4Header.FLAG_DF : 0;
    Ipv4Header.write(
        buffer,
        outer,
        Ipv4Header.tos(buffer, innerOffset),
        innerLength + Ipv4Header.MIN_LENGTH,
        nextId++ & 0xFFFF,
        flags,
        outerTtl,
        Ipv4Header.PROTOCOL_IPIP,
        source,
        hostServer);
    counters.add(Counter.ENCAPSULATED_BYTES, innerLength);
    return outer;
  }
}
