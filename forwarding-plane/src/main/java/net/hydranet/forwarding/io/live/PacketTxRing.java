package net.hydranet.forwarding.io.live;

import com.sun.jna.Native;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * A memory-mapped transmit ring ({@code PACKET_TX_RING}, TPACKET_V2) on its own {@code AF_PACKET}
 * socket: {@link #offer} copies a frame into the next slot and marks it for sending, {@link #kick}
 * makes the kernel send every marked slot in one {@code sendto(2)}.
 *
 * <p>Why: a system call is the dearest thing a frame pays on the VMs measured, and {@code
 * pcap_sendpacket} is one {@code send(2)} per frame (BENCHMARKS.md, "CPU per frame"). A batch of
 * frames read from the capture leaves in one call here.
 *
 * <p>Its own socket because libpcap has already mapped its receive ring on the capture's (a ring
 * cannot be added to a mapped socket); bound with protocol 0 so it receives nothing. The capture's
 * socket would then see every frame sent here as an outgoing frame: {@link #open} sets {@code
 * PACKET_IGNORE_OUTGOING} on it, so the kernel skips it for outgoing frames before it even clones
 * them. {@code PACKET_QDISC_BYPASS} as libpcap's own sends do not use it either way: off, so a
 * traffic-control policy on the interface still applies. {@code PACKET_LOSS} makes the kernel skip
 * a malformed slot rather than stop the ring. One thread at a time.
 */
final class PacketTxRing implements AutoCloseable {
  /** tpacket2_hdr: status, len, ... 32 bytes; the frame starts right after (TPACKET_ALIGN). */
  private static final int TP_STATUS = 0;

  private static final int TP_LEN = 4;
  private static final int DATA_OFFSET = 32;

  static final int TP_STATUS_AVAILABLE = 0;
  static final int TP_STATUS_SEND_REQUEST = 1;
  static final int TP_STATUS_SENDING = 2;
  static final int TP_STATUS_WRONG_FORMAT = 4;

  /** 2 KiB slots: a 1518-byte frame fits; larger ones go through {@code pcap_sendpacket}. */
  static final int FRAME_SIZE = 2048;

  /** 512 slots, 1 MiB: more than a receive round ever offers before a kick. */
  static final int FRAMES = 512;

  private static final int BLOCK_SIZE = 1 << 16;
  private static final int SOCKADDR_LL_SIZE = 20;

  private final int fd;
  private final int frames;
  private final long address;
  private final long length;
  private final UnsafeBuffer ring;
  private int next;
  private int pending;
  private long kicks;
  private long kickFailures;
  private long malformed;

  private PacketTxRing(int fd, int frames, long address, long length) {
    this.fd = fd;
    this.frames = frames;
    this.address = address;
    this.length = length;
    this.ring = new UnsafeBuffer(address, (int) length);
  }

  /**
   * Opens a transmit ring on the interface with kernel index {@code ifIndex} and tells {@code
   * captureFd} (the capture on the same interface) to ignore outgoing frames.
   */
  static PacketTxRing open(int ifIndex, int captureFd) throws IOException {
    return open(ifIndex, captureFd, FRAMES);
  }

  /**
   * As {@link #open(int, int)} with {@code frames} slots (a multiple of 32, one 64 KiB block each
   * 32); {@code captureFd} -1 when no capture shares the interface.
   */
  static PacketTxRing open(int ifIndex, int captureFd, int frames) throws IOException {
    if (frames < 32 || frames % (BLOCK_SIZE / FRAME_SIZE) != 0) {
      throw new IllegalArgumentException("transmit ring of " + frames + " frames");
    }
    final int fd = LibC.socket(LibC.AF_PACKET, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, 0);
    if (fd < 0) {
      throw new IOException("socket(AF_PACKET): " + LibC.strerror(Native.getLastError()));
    }
    boolean ok = false;
    try {
      final UnsafeBuffer opt = new UnsafeBuffer(ByteBuffer.allocateDirect(32));
      setInt(fd, opt, LibC.PACKET_VERSION, LibC.TPACKET_V2, "PACKET_VERSION");
      setInt(fd, opt, LibC.PACKET_LOSS, 1, "PACKET_LOSS");
      // struct tpacket_req { block_size, block_nr, frame_size, frame_nr }
      final int blocks = frames * FRAME_SIZE / BLOCK_SIZE;
      opt.putInt(0, BLOCK_SIZE);
      opt.putInt(4, blocks);
      opt.putInt(8, FRAME_SIZE);
      opt.putInt(12, frames);
      if (LibC.setsockopt(fd, LibC.SOL_PACKET, LibC.PACKET_TX_RING, opt.addressOffset(), 16) != 0) {
        throw new IOException("PACKET_TX_RING: " + LibC.strerror(Native.getLastError()));
      }
      final long length = (long) frames * FRAME_SIZE;
      final long address = LibC.mmap(0, length, LibC.PROT_READ_WRITE, LibC.MAP_SHARED, fd, 0);
      if (address == -1 || address == 0) {
        throw new IOException("mmap(TX ring): " + LibC.strerror(Native.getLastError()));
      }
      // struct sockaddr_ll: family, protocol (0: receive nothing), ifindex; the rest zero.
      final UnsafeBuffer sll = new UnsafeBuffer(ByteBuffer.allocateDirect(SOCKADDR_LL_SIZE));
      sll.putShort(0, (short) LibC.AF_PACKET);
      sll.putInt(4, ifIndex);
      if (LibC.bind(fd, sll.addressOffset(), SOCKADDR_LL_SIZE) != 0) {
        final String why = LibC.strerror(Native.getLastError());
        LibC.munmap(address, length);
        throw new IOException("bind(AF_PACKET, ifindex " + ifIndex + "): " + why);
      }
      if (captureFd >= 0) {
        setInt(captureFd, opt, LibC.PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING");
      }
      ok = true;
      return new PacketTxRing(fd, frames, address, length);
    } finally {
      if (!ok) {
        LibC.close(fd);
      }
    }
  }

  private static void setInt(int fd, UnsafeBuffer opt, int name, int value, String what)
      throws IOException {
    opt.putInt(0, value);
    if (LibC.setsockopt(fd, LibC.SOL_PACKET, name, opt.addressOffset(), 4) != 0) {
      throw new IOException(what + ": " + LibC.strerror(Native.getLastError()));
    }
  }

  /** The largest frame a slot holds. */
  static int maxFrame() {
    return FRAME_SIZE - DATA_OFFSET;
  }

  /**
   * Copies the frame into the next slot and marks it for sending; the kernel sends it at the next
   * {@link #kick}. False if the frame is too long or the ring is full even after a kick.
   */
  boolean offer(DirectBuffer buffer, int offset, int frameLength) {
    return offer(null, 0, buffer, offset, frameLength);
  }

  /**
   * As {@link #offer(DirectBuffer, int, int)} for a frame in two parts: {@code headLength} bytes of
   * {@code head} (a link header; none if null), then {@code length} bytes of {@code buffer}.
   */
  boolean offer(DirectBuffer head, int headLength, DirectBuffer buffer, int offset, int length) {
    final int frameLength = headLength + length;
    if (frameLength > maxFrame()) {
      return false;
    }
    final int slot = next * FRAME_SIZE;
    int status = ring.getIntVolatile(slot + TP_STATUS);
    if (status != TP_STATUS_AVAILABLE) {
      if (status == TP_STATUS_WRONG_FORMAT) {
        malformed++;
      } else {
        // Still queued or being sent: the ring went round; send what is queued and look again.
        kick();
        status = ring.getIntVolatile(slot + TP_STATUS);
        if (status == TP_STATUS_WRONG_FORMAT) {
          malformed++;
        } else if (status != TP_STATUS_AVAILABLE) {
          return false;
        }
      }
    }
    if (head != null) {
      ring.putBytes(slot + DATA_OFFSET, head, 0, headLength);
    }
    ring.putBytes(slot + DATA_OFFSET + headLength, buffer, offset, length);
    ring.putInt(slot + TP_LEN, frameLength);
    // Release: the kernel reads the frame after it sees the status.
    ring.putIntOrdered(slot + TP_STATUS, TP_STATUS_SEND_REQUEST);
    next = next + 1 == frames ? 0 : next + 1;
    pending++;
    return true;
  }

  /** Frames offered since the last kick. */
  int pending() {
    return pending;
  }

  /** Sends every queued slot in one system call; false if the kernel refused. */
  boolean kick() {
    if (pending == 0) {
      return true;
    }
    pending = 0;
    kicks++;
    if (LibC.sendto(fd, 0, 0, LibC.MSG_DONTWAIT, 0, 0) < 0) {
      kickFailures++;
      return false;
    }
    return true;
  }

  long kicks() {
    return kicks;
  }

  long kickFailures() {
    return kickFailures;
  }

  /** Slots the kernel rejected (PACKET_LOSS: skipped, not sent). */
  long malformed() {
    return malformed;
  }

  @Override
  public void close() {
    LibC.munmap(address, length);
    LibC.close(fd);
  }
}
