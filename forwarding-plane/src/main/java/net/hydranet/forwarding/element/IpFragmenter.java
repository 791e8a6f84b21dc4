package net.hydranet.forwarding.element;

import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Splits a datagram larger than the egress MTU into fragments (RFC 791 §3.2, "Fragmentation"; RFC
 * 1812 §4.2.2.7). Each fragment's data is a multiple of 8 bytes except the last; options whose copy
 * flag is set are repeated in every fragment, the others ride only in the first; a datagram that
 * was already a fragment keeps its offset base and its MF on the last piece, so the receiver
 * reassembles exactly the original. Fragments are built one at a time in a scratch buffer with room
 * for a link header in front, and handed to the egress.
 */
public final class IpFragmenter {
  /** Sends one built fragment: IP datagram at {@code ipOffset} with link-header room before it. */
  @FunctionalInterface
  public interface FragmentSink {
    void send(UnsafeBuffer buffer, int ipOffset, int ipLength);
  }

  private static final int IP_OFFSET = 64;

  private final Counters counters;
  private final UnsafeBuffer scratch;
  private final UnsafeBuffer copiedOptions;

  public IpFragmenter(Counters counters, int maxDatagram) {
    this.counters = counters;
    this.scratch =
        new UnsafeBuffer(
            org.agrona.BufferUtil.allocateDirectAligned(
                IP_OFFSET + EthernetHeader.VLAN_LENGTH + maxDatagram + 64, 64));
    this.copiedOptions = new UnsafeBuffer(new byte[Ipv4Header.MAX_LENGTH]);
  }

  /**
   * Fragments the datagram at {@code offset} (its total length is the header's) for {@code mtu}.
   *
   * @return the number of fragments sent
   */
  public int fragment(DirectBuffer buffer, int offset, int mtu, FragmentSink sink) {
    int headerLength = Ipv4Header.headerLength(buffer, offset);
    int totalLength = Ipv4Header.totalLength(buffer, offset);
    int dataLength = totalLength - headerLength;
    int originalFlags = Ipv4Header.flagsFragment(buffer, offset);
    int baseOffset = (originalFlags & Ipv4Header.FRAGMENT_OFFSET_MASK) << 3;
    boolean originalMoreFragments = (originalFlags & Ipv4Header.FLAG_MF) != 0;
    int copiedLength = copiedOptions(buffer, offset, headerLength);
    int laterHeaderLength = Ipv4Header.MIN_LENGTH + copiedLength;

    int sent = 0;
    int done = 0;
    while (done < dataLength) {
      int thisHeader = done == 0 ? headerLength : laterHeaderLength;
      int room = (mtu - thisHeader) & ~7;
      if (room <= 0) {
        return sent;
      }
      int chunk = Math.min(room, dataLength - done);
      boolean last = done + chunk == dataLength;
      int out = IP_OFFSET;
      if (done == 0) {
        scratch.putBytes(out, buffer, offset, headerLength);
      } else {
        scratch.putBytes(out, buffer, offset, Ipv4Header.MIN_LENGTH);
        scratch.putBytes(out + Ipv4Header.MIN_LENGTH, copiedOptions, 0, copiedLength);
        scratch.putByte(out, (byte) (0x40 | (thisHeader >>> 2)));
      }
      scratch.putBytes(out + thisHeader, buffer, offset + headerLength + done, chunk);
      int flags =
          (originalFlags & Ipv4Header.FLAG_DF)
              | ((!last || originalMoreFragments) ? Ipv4Header.FLAG_MF : 0)
              | (((baseOffset + done) >>> 3) & Ipv4Header.FRAGMENT_OFFSET_MASK);
      Ipv4Header.flagsFragment(scratch, out, flags);
      Ipv4Header.totalLength(scratch, out, thisHeader + chunk);
      Ipv4Header.updateChecksum(scratch, out);
      sink.send(scratch, out, thisHeader + chunk);
      counters.increment(Counter.FRAGMENTS_SENT);
      sent++;
      done += chunk;
    }
    counters.increment(Counter.FRAGMENTED_DATAGRAMS);
    return sent;
  }

  /**
   * Collects the options with the copy flag (RFC 791: bit 0 of the option type) into {@link
   * #copiedOptions}, padded with end-of-list to a multiple of 4.
   */
  private int copiedOptions(DirectBuffer buffer, int offset, int headerLength) {
    int length = 0;
    int i = offset + Ipv4Header.MIN_LENGTH;
    int end = offset + headerLength;
    while (i < end) {
      int type = buffer.getByte(i) & 0xFF;
      if (type == 0) {
        break;
      }
      if (type == 1) {
        i++;
        continue;
      }
      if (i + 1 >= end) {
        break;
      }
      int optionLength = buffer.getByte(i + 1) & 0xFF;
      if (optionLength < 2 || i + optionLength > end) {
        break;
      }
      if ((type & 0x80) != 0) {
        copiedOptions.putBytes(length, buffer, i, optionLength);
        length += optionLength;
      }
      i += optionLength;
    }
    while ((length & 3) != 0) {
      copiedOptions.putByte(length++, (byte) 0);
    }
    return length;
  }
}
