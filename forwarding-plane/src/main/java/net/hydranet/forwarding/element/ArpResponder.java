package net.hydranet.forwarding.element;

import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.neighbour.NeighbourTable;
import net.hydranet.forwarding.wire.ArpPacket;
import net.hydranet.forwarding.wire.EthernetHeader;
import org.agrona.MutableDirectBuffer;

/**
 * ARP for the router's own addresses (RFC 826): learns senders on the ingress network, answers
 * requests for the ingress interface's address, and drops what no host should send.
 */
public final class ArpResponder implements Element {
  private final Counters counters;
  private final int[] localAddresses;
  private final NeighbourTable neighbours;
  private final Egress egress;

  public ArpResponder(
      Counters counters, int[] localAddresses, NeighbourTable neighbours, Egress egress) {
    this.counters = counters;
    this.localAddresses = localAddresses.clone();
    this.neighbours = neighbours;
    this.egress = egress;
  }

  /**
   * @return {@link Verdict#DONE} (delivered locally) or {@link Verdict#DROP} (counted)
   */
  @Override
  public int process(MutableDirectBuffer buffer, PacketContext packet) {
    int arp = packet.l3;
    RouterInterface in = packet.ingress;
    if (packet.available < ArpPacket.LENGTH || !ArpPacket.isEthernetIpv4(buffer, arp)) {
      return drop();
    }
    int operation = ArpPacket.operation(buffer, arp);
    int senderIp = ArpPacket.senderIp(buffer, arp);
    long senderMac = ArpPacket.senderMac(buffer, arp);
    int targetIp = ArpPacket.targetIp(buffer, arp);
    if ((operation != ArpPacket.OPERATION_REQUEST && operation != ArpPacket.OPERATION_REPLY)
        || EthernetHeader.isGroup(senderMac)
        || CheckIpHeader.isMartianSource(senderIp)) {
      return drop();
    }
    boolean forUs = targetIp == in.address();
    counters.increment(
        operation == ArpPacket.OPERATION_REQUEST
            ? Counter.ARP_REQUESTS_RECEIVED
            : Counter.ARP_REPLIES_RECEIVED);
    // RFC 826: update a known sender; add it only when the message was meant for us. Never learn
    // a MAC for one of our own addresses: that is someone claiming to be us.
    if (isLocal(senderIp)) {
      return drop();
    }
    if (senderIp != 0 && onLink(in, senderIp)) {
      neighbours.learn(senderIp, senderMac, in.index(), forUs, egress.now(), egress);
    }
    if (operation == ArpPacket.OPERATION_REQUEST && forUs) {
      egress.reply(in.index(), senderMac, senderIp);
    }
    counters.increment(Counter.DELIVERED_LOCAL);
    return Verdict.DONE;
  }

  private boolean isLocal(int address) {
    for (int local : localAddresses) {
      if (address == local) {
        return true;
      }
    }
    return false;
  }

  private static boolean onLink(RouterInterface in, int address) {
    return (address & RouterInterface.mask(in.prefixLength())) == in.network();
  }

  private int drop() {
    counters.increment(Counter.DROP_BAD_ARP);
    return Verdict.DROP;
  }
}
