package net.hydranet.forwarding.element;

import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.IcmpHeader;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import org.agrona.MutableDirectBuffer;

/**
 * A datagram for one of the router's addresses: delivered (counted), and an echo request answered
 * in place through {@link IpOutput}. TCP, UDP and the rest are the local stack's: with pcap as a
 * tap, the kernel has its own copy.
 */
public final class LocalDelivery implements Element {
  private final Counters counters;
  private final IpOutput output;

  public LocalDelivery(Counters counters, IpOutput output) {
    this.counters = counters;
    this.output = output;
  }

  /**
   * @return {@link Verdict#DONE}: a datagram for us is delivered whether or not it is answered
   */
  @Override
  public int process(MutableDirectBuffer buffer, PacketContext packet) {
    counters.increment(Counter.DELIVERED_LOCAL);
    int ip = packet.l3;
    if (Ipv4Header.protocol(buffer, ip) != Ipv4Header.PROTOCOL_ICMP
        || Ipv4Header.isFragment(buffer, ip)) {
      return Verdict.DONE;
    }
    int headerLength = Ipv4Header.headerLength(buffer, ip);
    int icmpOffset = ip + headerLength;
    int total = Ipv4Header.totalLength(buffer, ip);
    int icmpLength = total - headerLength;
    if (icmpLength < IcmpHeader.LENGTH
        || IcmpHeader.type(buffer, icmpOffset) != IcmpHeader.TYPE_ECHO_REQUEST
        || !InternetChecksum.verify(buffer, icmpOffset, icmpLength)) {
      return Verdict.DONE;
    }
    int source = packet.source;
    if (output.route(source, packet) == IpOutput.NO_ROUTE) {
      return Verdict.DONE;
    }
    // Echo reply in place (RFC 792): swap addresses, type 0, and checksum the message anew. Not
    // incrementally: when the reply's words are all zero (id 0, sequence 0, no data) RFC 1624's
    // update yields 0x0000 where only 0xFFFF verifies (found by RedirectorFuzzTest).
    buffer.putByte(icmpOffset, (byte) IcmpHeader.TYPE_ECHO_REPLY);
    IcmpHeader.updateChecksum(buffer, icmpOffset, icmpLength);
    Ipv4Header.source(buffer, ip, packet.destination);
    Ipv4Header.destination(buffer, ip, source);
    buffer.putByte(ip + Ipv4Header.TTL_OFFSET, (byte) 64);
    Ipv4Header.flagsFragment(buffer, ip, 0);
    Ipv4Header.updateChecksum(buffer, ip);
    if (total > packet.mtu) {
      // Never fragmented: an echo larger than the way back is not answered.
      return Verdict.DONE;
    }
    output.process(buffer, packet);
    counters.increment(Counter.ICMP_SENT_ECHO_REPLY);
    return Verdict.DONE;
  }
}
