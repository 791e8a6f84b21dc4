package net.hydranet.harness.trace;

import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import net.hydranet.forwarding.wire.ArpPacket;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.IcmpHeader;
import net.hydranet.forwarding.wire.Icmpv6Header;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6FragmentHeader;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.forwarding.wire.Ipv6HeaderChain;
import net.hydranet.forwarding.wire.NeighbourDiscovery;
import net.hydranet.forwarding.wire.TcpHeader;
import net.hydranet.forwarding.wire.UdpHeader;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One readable line per frame, like Click's {@code %expect} output or tcpdump's summary, ending in
 * a hash of the whole frame so a golden file is byte-exact and still readable.
 */
public final class FrameSummary {
  private FrameSummary() {}

  /** Summarises a frame: link, network and transport fields, then sha256 prefix of the bytes. */
  public static String of(byte[] frame) {
    StringBuilder sb = new StringBuilder();
    sb.append(frame.length).append("B ");
    if (frame.length < EthernetHeader.LENGTH) {
      return sb.append("runt ").append(hash(frame)).toString();
    }
    UnsafeBuffer b = new UnsafeBuffer(frame);
    sb.append(EthernetHeader.formatMac(EthernetHeader.source(b, 0)))
        .append('>')
        .append(EthernetHeader.formatMac(EthernetHeader.destination(b, 0)))
        .append(' ');
    int type = EthernetHeader.type(b, 0);
    int l3 = EthernetHeader.LENGTH;
    if (type == EthernetHeader.TYPE_VLAN) {
      sb.append("vlan ").append(b.getShort(14, ByteOrder.BIG_ENDIAN) & 0xFFF).append(' ');
      type = b.getShort(16, ByteOrder.BIG_ENDIAN) & 0xFFFF;
      l3 = EthernetHeader.VLAN_LENGTH;
    }
    if (type == EthernetHeader.TYPE_ARP && frame.length >= l3 + ArpPacket.LENGTH) {
      sb.append(
              ArpPacket.operation(b, l3) == ArpPacket.OPERATION_REQUEST
                  ? "arp who-has "
                  : "arp reply ")
          .append(Ipv4Header.formatAddress(ArpPacket.targetIp(b, l3)))
          .append(" from ")
          .append(Ipv4Header.formatAddress(ArpPacket.senderIp(b, l3)));
    } else if (type == EthernetHeader.TYPE_IPV4 && frame.length >= l3 + Ipv4Header.MIN_LENGTH) {
      ip(sb, b, l3, frame.length - l3);
    } else if (type == EthernetHeader.TYPE_IPV6 && frame.length >= l3 + Ipv6Header.LENGTH) {
      ip6(sb, b, l3, frame.length - l3);
    } else {
      sb.append(String.format("ethertype 0x%04x", type));
    }
    return sb.append(' ').append(hash(frame)).toString();
  }

  private static void ip(StringBuilder sb, UnsafeBuffer b, int ip, int available) {
    int protocol = Ipv4Header.protocol(b, ip);
    int ihl = Ipv4Header.headerLength(b, ip);
    sb.append(Ipv4Header.formatAddress(Ipv4Header.source(b, ip)))
        .append('>')
        .append(Ipv4Header.formatAddress(Ipv4Header.destination(b, ip)))
        .append(" ttl ")
        .append(Ipv4Header.ttl(b, ip))
        .append(" id ")
        .append(Ipv4Header.id(b, ip))
        .append(Ipv4Header.dontFragment(b, ip) ? " DF" : "")
        .append(
            Ipv4Header.isFragment(b, ip)
                ? " frag "
                    + Ipv4Header.fragmentOffset(b, ip)
                    + ((Ipv4Header.flagsFragment(b, ip) & Ipv4Header.FLAG_MF) != 0 ? "+" : "")
                : "")
        .append(" len ")
        .append(Ipv4Header.totalLength(b, ip))
        .append(' ');
    if (ihl < Ipv4Header.MIN_LENGTH || Ipv4Header.fragmentOffset(b, ip) != 0) {
      sb.append("proto ").append(protocol);
      return;
    }
    int l4 = ip + ihl;
    int l4Available = available - ihl;
    if (protocol == Ipv4Header.PROTOCOL_IPIP && l4Available >= Ipv4Header.MIN_LENGTH) {
      sb.append("ipip[ ");
      ip(sb, b, l4, l4Available);
      sb.append(" ]");
    } else if (protocol == Ipv6Header.NEXT_HEADER_IPV6 && l4Available >= Ipv6Header.LENGTH) {
      sb.append("6in4[ ");
      ip6(sb, b, l4, l4Available);
      sb.append(" ]");
    } else if (protocol == Ipv4Header.PROTOCOL_ICMP && l4Available >= IcmpHeader.LENGTH) {
      sb.append("icmp ").append(IcmpHeader.type(b, l4)).append('/').append(IcmpHeader.code(b, l4));
      if (IcmpHeader.type(b, l4) == IcmpHeader.TYPE_DESTINATION_UNREACHABLE
          && IcmpHeader.code(b, l4) == IcmpHeader.CODE_FRAGMENTATION_NEEDED) {
        sb.append(" mtu ").append(IcmpHeader.nextHopMtu(b, l4));
      }
    } else if (!transport(sb, b, protocol, l4, l4Available)) {
      sb.append("proto ").append(protocol);
    }
  }

  /**
   * An IPv6 packet: addresses, hop limit, payload length, the extension headers walked (by number),
   * then the upper layer as for IPv4; ICMPv6 as "icmp6 TYPE/CODE" with a Packet Too Big's MTU and
   * an ND message's target.
   */
  private static void ip6(StringBuilder sb, UnsafeBuffer b, int ip, int available) {
    sb.append(Ipv6Header.formatAddress(Ipv6Header.sourceHigh(b, ip), Ipv6Header.sourceLow(b, ip)))
        .append('>')
        .append(
            Ipv6Header.formatAddress(
                Ipv6Header.destinationHigh(b, ip), Ipv6Header.destinationLow(b, ip)))
        .append(" hlim ")
        .append(Ipv6Header.hopLimit(b, ip))
        .append(" plen ")
        .append(Ipv6Header.payloadLength(b, ip))
        .append(' ');
    Ipv6HeaderChain chain = new Ipv6HeaderChain();
    int verdict = chain.walk(b, ip, available);
    if (verdict != Ipv6HeaderChain.OK) {
      sb.append("bad ").append(Ipv6HeaderChain.verdictName(verdict));
      return;
    }
    int next = Ipv6Header.nextHeader(b, ip);
    int at = ip + Ipv6Header.LENGTH;
    while (at < chain.upperLayerOffset()) {
      sb.append("ext ").append(next).append(' ');
      if (next == Ipv6Header.NEXT_HEADER_FRAGMENT) {
        sb.append("frag ")
            .append(Ipv6FragmentHeader.fragmentOffset(b, at))
            .append(Ipv6FragmentHeader.moreFragments(b, at) ? "+ " : " ");
        next = b.getByte(at) & 0xFF;
        at += Ipv6FragmentHeader.LENGTH;
      } else {
        int length =
            next == Ipv6Header.NEXT_HEADER_AUTHENTICATION
                ? ((b.getByte(at + 1) & 0xFF) + 2) << 2
                : ((b.getByte(at + 1) & 0xFF) + 1) << 3;
        next = b.getByte(at) & 0xFF;
        at += length;
      }
    }
    int l4 = chain.upperLayerOffset();
    int l4Length = chain.upperLayerLength();
    int protocol = chain.upperLayerProtocol();
    if (!chain.hasUpperLayerHeader(b)) {
      sb.append("proto ").append(protocol);
    } else if (protocol == Ipv6Header.NEXT_HEADER_IPV6 && l4Length >= Ipv6Header.LENGTH) {
      sb.append("6in6[ ");
      ip6(sb, b, l4, l4Length);
      sb.append(" ]");
    } else if (protocol == Ipv6Header.NEXT_HEADER_ICMPV6 && l4Length >= Icmpv6Header.LENGTH) {
      int type = Icmpv6Header.type(b, l4);
      sb.append("icmp6 ").append(type).append('/').append(Icmpv6Header.code(b, l4));
      if (type == Icmpv6Header.TYPE_PACKET_TOO_BIG) {
        sb.append(" mtu ").append(Icmpv6Header.rest(b, l4));
      } else if ((type == Icmpv6Header.TYPE_NEIGHBOUR_SOLICITATION
              || type == Icmpv6Header.TYPE_NEIGHBOUR_ADVERTISEMENT)
          && l4Length >= NeighbourDiscovery.NS_NA_OPTIONS_OFFSET) {
        sb.append(" target ")
            .append(
                Ipv6Header.formatAddress(
                    NeighbourDiscovery.targetHigh(b, l4), NeighbourDiscovery.targetLow(b, l4)));
      }
    } else if (!transport(sb, b, protocol, l4, l4Length)) {
      sb.append("proto ").append(protocol);
    }
  }

  /**
   * TCP (ports, S and . flags, the MSS option) or UDP (ports) at {@code l4}, as both families write
   * them (IPv4's protocol and IPv6's next header share the numbers); false, and nothing written,
   * for another protocol or too few bytes.
   */
  private static boolean transport(
      StringBuilder sb, UnsafeBuffer b, int protocol, int l4, int available) {
    if (protocol == Ipv4Header.PROTOCOL_TCP && available >= TcpHeader.MIN_LENGTH) {
      int flags = TcpHeader.flags(b, l4);
      sb.append("tcp ")
          .append(TcpHeader.sourcePort(b, l4))
          .append('>')
          .append(TcpHeader.destinationPort(b, l4))
          .append((flags & TcpHeader.FLAG_SYN) != 0 ? " S" : "")
          .append((flags & TcpHeader.FLAG_ACK) != 0 ? " ." : "");
      int hl = TcpHeader.headerLength(b, l4);
      if (hl >= TcpHeader.MIN_LENGTH && hl <= available) {
        int mss = TcpHeader.mssOptionOffset(b, l4, hl);
        if (mss != TcpHeader.NO_OPTION) {
          sb.append(" mss ").append(b.getShort(mss + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF);
        }
      }
      return true;
    }
    if (protocol == Ipv4Header.PROTOCOL_UDP && available >= UdpHeader.LENGTH) {
      sb.append("udp ")
          .append(UdpHeader.sourcePort(b, l4))
          .append('>')
          .append(UdpHeader.destinationPort(b, l4));
      return true;
    }
    return false;
  }

  private static String hash(byte[] frame) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(frame);
      return "sha256:" + HexFormat.of().formatHex(d, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
