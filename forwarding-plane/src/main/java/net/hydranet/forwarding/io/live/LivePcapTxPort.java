package net.hydranet.forwarding.io.live;

import java.nio.ByteBuffer;
import net.hydranet.forwarding.io.TxPort;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends frames on the same libpcap handle a {@link LivePcapSource} captures from, handing libpcap
 * the frame's own native address so nothing is copied on the Java side.
 *
 * <p>The same handle matters: the kernel does not loop a socket's own transmissions back to that
 * socket, whereas a second handle would see every sent frame again (shared notes). Without a
 * transmit ring each {@link #send} is one {@code pcap_sendpacket}, i.e. one {@code send(2)}, and
 * {@link #flush()} has nothing to do. With one ({@link LivePcapSource.Options#txRing}), {@link
 * #send} copies the frame into a {@link PacketTxRing} slot and {@link #flush()} sends the batch in
 * one system call; frames too long for a slot flush the ring and go through {@code
 * pcap_sendpacket}, so the order on the wire stays the order sent. Called by one thread at a time.
 */
public final class LivePcapTxPort implements TxPort {
  private static final Logger LOG = LoggerFactory.getLogger(LivePcapTxPort.class);

  private final LivePcapSource owner;
  private final long pcap;
  private final PacketTxRing ring;

  // Only for callers that pass a heap-backed buffer (tests); the ring's slots are off-heap.
  private final ByteBuffer stagingMemory =
      ByteBuffer.allocateDirect(LivePcapSource.Options.DEFAULT_SNAPLEN);
  private final UnsafeBuffer staging = new UnsafeBuffer(stagingMemory);

  private long framesSent;
  private long bytesSent;
  private long sendFailures;
  private long stagedCopies;
  private boolean failureLogged;

  LivePcapTxPort(LivePcapSource owner, PacketTxRing ring) {
    this.owner = owner;
    this.pcap = owner.nativeHandle();
    this.ring = ring;
  }

  @Override
  public boolean send(DirectBuffer buffer, int offset, int length, long timestampNanos) {
    if (owner.isClosed()) {
      sendFailures++;
      return false;
    }
    if (ring != null) {
      if (ring.offer(buffer, offset, length)) {
        framesSent++;
        bytesSent += length;
        return true;
      }
      if (length <= PacketTxRing.maxFrame()) {
        sendFailures++; // the ring is full even after a kick
        return false;
      }
      ring.kick(); // a jumbo frame: what is queued leaves first
    }
    final long address;
    if (buffer.byteArray() == null) {
      // Off-heap: addressOffset() is the native address of index 0.
      address = buffer.addressOffset() + offset;
    } else if (length <= staging.capacity()) {
      staging.putBytes(0, buffer, offset, length);
      address = staging.addressOffset();
      stagedCopies++;
    } else {
      sendFailures++;
      return false;
    }
    if (PcapNative.pcap_sendpacket(pcap, address, length) != 0) {
      sendFailures++;
      if (!failureLogged) {
        failureLogged = true;
        LOG.error(
            "pcap_sendpacket({}, {} bytes) failed (further failures only counted): {}",
            owner.interfaceName(),
            length,
            PcapNative.pcap_geterr(pcap));
      }
      return false;
    }
    framesSent++;
    bytesSent += length;
    return true;
  }

  /** Sends what the transmit ring holds in one system call; without a ring nothing is queued. */
  @Override
  public void flush() {
    if (ring != null && ring.pending() > 0 && !ring.kick()) {
      sendFailures++;
      if (!failureLogged) {
        failureLogged = true;
        LOG.error(
            "sending the transmit ring of {} failed (further failures only counted)",
            owner.interfaceName());
      }
    }
  }

  /** Leaves the shared handle open; closing the {@link LivePcapSource} closes both. */
  @Override
  public void close() {}

  /** True if frames leave through a transmit ring, a batch per system call. */
  public boolean hasTxRing() {
    return ring != null;
  }

  /** System calls that sent the transmit ring (0 without one). */
  public long ringKicks() {
    return ring == null ? 0 : ring.kicks();
  }

  public long framesSent() {
    return framesSent;
  }

  public long bytesSent() {
    return bytesSent;
  }

  public long sendFailures() {
    return sendFailures;
  }

  /** Frames that had to be copied because they came in a heap buffer. */
  public long stagedCopies() {
    return stagedCopies;
  }
}
