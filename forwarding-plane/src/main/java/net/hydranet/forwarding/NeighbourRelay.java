package net.hydranet.forwarding;

import java.nio.ByteBuffer;
import net.hydranet.forwarding.element.Egress;
import net.hydranet.forwarding.neighbour.Ipv6NeighbourTable;
import net.hydranet.forwarding.neighbour.NeighbourTable;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;

/**
 * One pipeline's side of the neighbour relay between pipelines ({@link ForwardingPlane}): an ARP
 * reply or a neighbour discovery message carries no flow and reaches one pipeline, not always the
 * one that asked, so what a pipeline learns by ARP, and every advertisement and solicitation it
 * hears, is written to every other pipeline's inbox and applied there by that pipeline's own
 * tables' rules, releasing the frames it held. Fixed memory, no allocation per message; the inbox
 * has many writers (the other pipelines' threads) and one reader (this pipeline's thread, with its
 * commands).
 */
final class NeighbourRelay {
  private static final int INBOX_BYTES = 64 * 1024;
  private static final int ARP = 1;
  private static final int ARP_NOTE = 17;
  private static final int ND = 2;
  private static final int ND_NOTE = 29;

  private final NeighbourTable neighbours;
  private final Ipv6NeighbourTable neighbours6;
  private final Egress egress;
  private final ManyToOneRingBuffer inbox =
      new ManyToOneRingBuffer(
          new UnsafeBuffer(
              ByteBuffer.allocateDirect(INBOX_BYTES + RingBufferDescriptor.TRAILER_LENGTH)));
  private final UnsafeBuffer note = new UnsafeBuffer(ByteBuffer.allocateDirect(ND_NOTE));
  private final MessageHandler onNote = this::onNote;
  private NeighbourRelay[] all = {};

  /** The relay of the pipeline that owns these tables and sends through {@code egress}. */
  NeighbourRelay(NeighbourTable neighbours, Ipv6NeighbourTable neighbours6, Egress egress) {
    this.neighbours = neighbours;
    this.neighbours6 = neighbours6;
    this.egress = egress;
  }

  /** Joins the relays of every pipeline ({@code all}, this one among them); before start. */
  void join(NeighbourRelay[] all) {
    this.all = all;
    neighbours.learnListener(this::tellArp);
    neighbours6.learnListener(this::tellNd);
  }

  /** On this pipeline's thread: applies what the others heard since the last call. */
  void drain() {
    inbox.read(onNote);
  }

  /** On this pipeline's thread: a neighbour it learned by ARP, for every other pipeline. */
  private void tellArp(int ip, long mac, int ifIndex, boolean create) {
    note.putInt(0, ip);
    note.putLong(4, mac);
    note.putInt(12, ifIndex);
    note.putByte(16, (byte) (create ? 1 : 0));
    tell(ARP, ARP_NOTE);
  }

  /**
   * On this pipeline's thread: a neighbour advertisement or solicitation it heard, for every other
   * pipeline (each applies it by its own table's state: the answer to a solicitation may reach a
   * pipeline that did not ask).
   */
  private void tellNd(
      boolean advertisement,
      long high,
      long low,
      long mac,
      int ifIndex,
      boolean solicited,
      boolean override) {
    note.putLong(0, high);
    note.putLong(8, low);
    note.putLong(16, mac);
    note.putInt(24, ifIndex);
    note.putByte(28, (byte) ((advertisement ? 1 : 0) | (solicited ? 2 : 0) | (override ? 4 : 0)));
    tell(ND, ND_NOTE);
  }

  private void tell(int type, int length) {
    for (NeighbourRelay other : all) {
      // Full (thousands of learns unread): the other pipeline asks again when it needs to.
      if (other != this) {
        other.inbox.write(type, note, 0, length);
      }
    }
  }

  private void onNote(int type, MutableDirectBuffer buffer, int index, int length) {
    if (type == ND) {
      int flags = buffer.getByte(index + 28);
      neighbours6.learnRelayed(
          (flags & 1) != 0,
          buffer.getLong(index),
          buffer.getLong(index + 8),
          buffer.getLong(index + 16),
          buffer.getInt(index + 24),
          (flags & 2) != 0,
          (flags & 4) != 0,
          egress.now(),
          egress);
      return;
    }
    neighbours.learnRelayed(
        buffer.getInt(index),
        buffer.getLong(index + 4),
        buffer.getInt(index + 12),
        buffer.getByte(index + 16) != 0,
        egress.now(),
        egress);
  }
}
