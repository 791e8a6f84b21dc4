package net.hydranet.forwarding.io.live;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Writes IP packets onto one Ethernet link to one neighbour, whose MAC address is known, through a
 * {@link PacketTxRing}: {@link #offer} puts the link header (the neighbour's MAC, ours, the
 * EtherType) and the packet into the next slot, {@link #flush} sends every queued slot in one
 * {@code sendto(2)}. The host server's way into a virtual host: the kernel takes the frame straight
 * into the veth (no TUN, no IP input and routing on the host server's side), and a batch costs one
 * system call, not one {@code write(2)} a packet.
 *
 * <p>Packets longer than the link's MTU, or than a ring slot, are refused (the caller sends them
 * the other way, where the stack can fragment or answer them). One thread at a time; nothing is
 * allocated per packet.
 */
public final class LinkTxRing implements AutoCloseable {
  /** Ring slots: a batch of the pipeline is 32 frames a round; 128 slots take 256 KiB. */
  public static final int FRAMES = 128;

  private static final int ETHER_HEADER = 14;

  private final String name;
  private final int ifIndex;
  private final int mtu;
  private final PacketTxRing ring;
  private final UnsafeBuffer header = new UnsafeBuffer(ByteBuffer.allocateDirect(ETHER_HEADER));
  private boolean closed;

  private long packetsSent;
  private long refused;
  private long sendFailures;

  private LinkTxRing(String name, int ifIndex, int mtu, PacketTxRing ring, byte[] to, byte[] from) {
    this.name = name;
    this.ifIndex = ifIndex;
    this.mtu = mtu;
    this.ring = ring;
    header.putBytes(0, to);
    header.putBytes(6, from);
  }

  /**
   * Opens a transmit ring on {@code interfaceName} (in this process's network namespace) for frames
   * to {@code neighbour}'s 6-byte MAC address, from the interface's own.
   *
   * @throws IOException if the interface is not there or the ring cannot be made (needs root)
   */
  public static LinkTxRing open(String interfaceName, byte[] neighbour) throws IOException {
    if (neighbour.length != 6) {
      throw new IllegalArgumentException("MAC address of " + neighbour.length + " bytes");
    }
    final int ifIndex = KernelChecks.ifIndex(interfaceName);
    if (ifIndex <= 0) {
      throw new IOException("no interface '" + interfaceName + "'");
    }
    final int mtu = KernelChecks.mtu(interfaceName);
    final byte[] own = KernelChecks.mac(interfaceName);
    final PacketTxRing ring = PacketTxRing.open(ifIndex, -1, FRAMES);
    return new LinkTxRing(interfaceName, ifIndex, mtu, ring, neighbour, own);
  }

  /**
   * Queues one packet of {@code etherType} (0x0800 IPv4, 0x86DD IPv6) for the neighbour.
   *
   * @return false if it is longer than the link's MTU or a slot, or the ring is full even after a
   *     send: nothing was queued
   */
  public boolean offer(int etherType, DirectBuffer buffer, int offset, int length) {
    if (length > mtu || closed) {
      refused++;
      return false;
    }
    header.putShort(12, (short) etherType, ByteOrder.BIG_ENDIAN);
    if (!ring.offer(header, ETHER_HEADER, buffer, offset, length)) {
      refused++;
      return false;
    }
    packetsSent++;
    return true;
  }

  /** Sends what is queued, in one system call; nothing if nothing is. */
  public void flush() {
    if (ring.pending() > 0 && !ring.kick()) {
      sendFailures++;
    }
  }

  public String name() {
    return name;
  }

  /** The kernel's index of the interface when it was opened: another index means another link. */
  public int ifIndex() {
    return ifIndex;
  }

  public int mtu() {
    return mtu;
  }

  /** Packets queued and sent (a failed send of a batch counts once in {@link #sendFailures}). */
  public long packetsSent() {
    return packetsSent;
  }

  /** Packets not taken: too long for the link, or the ring full. */
  public long refused() {
    return refused;
  }

  /** Sends of a batch the kernel refused. */
  public long sendFailures() {
    return sendFailures;
  }

  /** System calls that sent a batch. */
  public long kicks() {
    return ring.kicks();
  }

  /** Sends what is queued and closes the ring's socket. */
  @Override
  public void close() {
    if (!closed) {
      flush();
      closed = true;
      ring.close();
    }
  }
}
