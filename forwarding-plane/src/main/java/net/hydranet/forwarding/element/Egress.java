package net.hydranet.forwarding.element;

import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.io.TxPort;
import net.hydranet.forwarding.neighbour.NeighbourTable;
import net.hydranet.forwarding.wire.ArpPacket;
import net.hydranet.forwarding.wire.EthernetHeader;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The last step of every path: resolves the next hop's MAC (ARP, queueing while it waits), writes
 * the Ethernet header in front of the IP datagram, and hands the frame to the interface's port. It
 * also originates ARP requests and replies.
 */
public final class Egress implements NeighbourTable.PendingSink, NeighbourTable.RequestSink {
  private final Counters counters;
  private final RouterInterface[] interfaces;
  private final TxPort[] ports;
  private final NeighbourTable neighbours;
  private final UnsafeBuffer arpFrame;
  private long now;

  public Egress(
      Counters counters, RouterInterface[] interfaces, TxPort[] ports, NeighbourTable neighbours) {
    this.counters = counters;
    this.interfaces = interfaces;
    this.ports = ports;
    this.neighbours = neighbours;
    this.arpFrame = new UnsafeBuffer(new byte[EthernetHeader.LENGTH + ArpPacket.LENGTH]);
  }

  /** The pipeline's clock for timestamps and ARP timers, set once per event. */
  public void now(long timestampNanos) {
    this.now = timestampNanos;
  }

  public long now() {
    return now;
  }

  /**
   * Sends the IP datagram at {@code ipOffset} out of {@code ifIndex} towards {@code nextHop}; the
   * 14 bytes before {@code ipOffset} must be free for the link header.
   */
  public void send(
      MutableDirectBuffer buffer, int ipOffset, int ipLength, int ifIndex, int nextHop) {
    int frame = ipOffset - EthernetHeader.LENGTH;
    int frameLength = ipLength + EthernetHeader.LENGTH;
    long source = interfaces[ifIndex].mac();
    // Source and type now, in one store (they are the header's last 8 bytes); the destination
    // once the neighbour is known (here, or on release from the ARP queue), so it is written once.
    buffer.putLong(
        frame + EthernetHeader.SOURCE_OFFSET,
        (source << 16) | EthernetHeader.TYPE_IPV4,
        java.nio.ByteOrder.BIG_ENDIAN);
    int result = neighbours.resolve(nextHop, ifIndex, buffer, frame, frameLength, now);
    if (result == NeighbourTable.RESOLVED) {
      // The destination and the source's first two bytes again, in one store.
      buffer.putLong(
          frame + EthernetHeader.DESTINATION_OFFSET,
          (neighbours.resolvedMac() << 16) | ((source >>> 32) & 0xFFFF),
          java.nio.ByteOrder.BIG_ENDIAN);
      transmit(ifIndex, buffer, frame, frameLength, now);
    } else {
      unresolved(result);
    }
    if (neighbours.requestDue()) {
      request(nextHop, ifIndex);
    }
  }

  /**
   * Counts a frame that waits for ARP or found its queue full: out of {@link #send}'s line, which
   * must stay under C2's InlineSmallCode (2,500 bytes compiled) to be inlined wherever it was
   * compiled first (BENCHMARKS.md, "What the JIT decides").
   */
  private void unresolved(int result) {
    counters.increment(
        result == NeighbourTable.QUEUED ? Counter.ARP_QUEUED : Counter.ARP_QUEUE_DROPS);
  }

  /** Transmits a finished frame and counts it. */
  public void transmit(int ifIndex, DirectBuffer buffer, int offset, int length, long timestamp) {
    if (ports[ifIndex].send(buffer, offset, length, timestamp)) {
      counters.increment(Counter.TX_FRAMES);
      counters.add(Counter.TX_BYTES, length);
    } else {
      counters.increment(Counter.TX_ERRORS);
    }
  }

  /** Frames released by an ARP reply: fill in the destination and send. */
  @Override
  public void send(MutableDirectBuffer buffer, int offset, int length, int ifIndex, long mac) {
    EthernetHeader.mac(buffer, offset + EthernetHeader.DESTINATION_OFFSET, mac);
    transmit(ifIndex, buffer, offset, length, now);
  }

  /** Broadcasts an ARP request for {@code ip} on {@code ifIndex}. */
  @Override
  public void request(int ip, int ifIndex) {
    RouterInterface out = interfaces[ifIndex];
    EthernetHeader.write(arpFrame, 0, EthernetHeader.BROADCAST, out.mac(), EthernetHeader.TYPE_ARP);
    ArpPacket.write(
        arpFrame,
        EthernetHeader.LENGTH,
        ArpPacket.OPERATION_REQUEST,
        out.mac(),
        out.address(),
        0,
        ip);
    transmit(ifIndex, arpFrame, 0, arpFrame.capacity(), now);
    neighbours.noteRequestSent(ip, now);
    counters.increment(Counter.ARP_REQUESTS_SENT);
  }

  /** Answers an ARP request for one of our addresses (RFC 826: swap, fill in our MAC). */
  public void reply(int ifIndex, long toMac, int toIp) {
    RouterInterface out = interfaces[ifIndex];
    EthernetHeader.write(arpFrame, 0, toMac, out.mac(), EthernetHeader.TYPE_ARP);
    ArpPacket.write(
        arpFrame,
        EthernetHeader.LENGTH,
        ArpPacket.OPERATION_REPLY,
        out.mac(),
        out.address(),
        toMac,
        toIp);
    transmit(ifIndex, arpFrame, 0, arpFrame.capacity(), now);
    counters.increment(Counter.ARP_REPLIES_SENT);
  }

  /** Runs the neighbour timers; frames whose neighbour never answered are counted as dropped. */
  public void poll() {
    int dropped = neighbours.poll(now, this);
    if (dropped > 0) {
      counters.add(Counter.ARP_TIMEOUT_DROPS, dropped);
    }
  }

  /** Flushes every port: the end of a ring batch. */
  public void flush() {
    for (TxPort port : ports) {
      port.flush();
    }
  }
}
