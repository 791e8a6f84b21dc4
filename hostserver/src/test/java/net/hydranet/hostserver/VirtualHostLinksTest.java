package net.hydranet.hostserver;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.Ipv4Header;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/** Decapsulated packets onto the virtual host's link, and to the TUN where it has none. */
class VirtualHostLinksTest {
  private static final int SELF = Ipv4Header.parseAddress("198.18.1.20");
  private static final int ORIGIN = Ipv4Header.parseAddress("198.18.2.10");
  private static final int OTHER = Ipv4Header.parseAddress("198.18.2.11");
  private static final int CLIENT = Ipv4Header.parseAddress("198.18.1.10");

  private final Counters counters = new Counters(HostServerCounter.count());
  private final List<byte[]> tun = new ArrayList<>();
  private final VirtualHostTable table = new VirtualHostTable();
  private final VirtualHostLinks links = new VirtualHostLinks();
  private final HostServerPath path =
      new HostServerPath(
              SELF, counters, table, SecondChanceVectorsTest.record(tun), 4, 1_000_000_000L)
          .links(links);
  private final UnsafeBuffer slot = new UnsafeBuffer(new byte[4096]);

  /** A link that keeps what it was offered until a flush, and what was flushed. */
  private static class Recorded implements VirtualHostLinks.Link {
    final List<byte[]> queued = new ArrayList<>();
    final List<byte[]> sent = new ArrayList<>();
    final int mtu;
    int flushes;
    boolean closed;

    Recorded(int mtu) {
      this.mtu = mtu;
    }

    @Override
    public boolean offer(int etherType, DirectBuffer buffer, int offset, int length) {
      assertEquals(0x0800, etherType);
      if (length > mtu) {
        return false;
      }
      byte[] copy = new byte[length];
      buffer.getBytes(offset, copy);
      queued.add(copy);
      return true;
    }

    @Override
    public void flush() {
      flushes++;
      sent.addAll(queued);
      queued.clear();
    }

    @Override
    public void close() {
      flush();
      closed = true;
    }
  }

  /** An inner UDP packet of {@code payload} bytes from the client to {@code destination}. */
  private static byte[] inner(int destination, int payload) {
    byte[] p = new byte[20 + 8 + payload];
    UnsafeBuffer b = new UnsafeBuffer(p);
    b.putByte(0, (byte) 0x45);
    b.putShort(2, (short) p.length, java.nio.ByteOrder.BIG_ENDIAN);
    b.putByte(8, (byte) 64);
    b.putByte(9, (byte) Ipv4Header.PROTOCOL_UDP);
    Ipv4Header.source(b, 0, CLIENT);
    Ipv4Header.destination(b, 0, destination);
    Ipv4Header.updateChecksum(b, 0);
    b.putShort(20, (short) 40000, java.nio.ByteOrder.BIG_ENDIAN);
    b.putShort(22, (short) 9, java.nio.ByteOrder.BIG_ENDIAN);
    b.putShort(24, (short) (8 + payload), java.nio.ByteOrder.BIG_ENDIAN);
    return p;
  }

  private void receive(byte[] inner) {
    receive(path, inner);
  }

  /** The Ethernet frame of {@code inner} in IP-in-IP to this host server, through {@code to}. */
  private void receive(HostServerPath to, byte[] inner) {
    byte[] frame = new byte[14 + 20 + inner.length];
    UnsafeBuffer b = new UnsafeBuffer(frame);
    b.putShort(12, (short) 0x0800, java.nio.ByteOrder.BIG_ENDIAN);
    b.putByte(14, (byte) 0x45);
    b.putShort(16, (short) (20 + inner.length), java.nio.ByteOrder.BIG_ENDIAN);
    b.putByte(22, (byte) 64);
    b.putByte(23, (byte) Ipv4Header.PROTOCOL_IPIP);
    Ipv4Header.source(b, 14, Ipv4Header.parseAddress("198.18.1.1"));
    Ipv4Header.destination(b, 14, SELF);
    Ipv4Header.updateChecksum(b, 14);
    System.arraycopy(inner, 0, frame, 34, inner.length);
    slot.putBytes(64, frame);
    to.tick(1);
    to.process(slot, 64, frame.length, 0);
  }

  private long count(HostServerCounter c) {
    return counters.get(c.id());
  }

  @Test
  void shouldWriteOntoTheLinkAndSendTheBatchAtTheFlush() {
    table.addVirtualHost(ORIGIN);
    Recorded link = new Recorded(1500);
    links.install(ORIGIN, link);
    byte[] a = inner(ORIGIN, 10);
    byte[] b = inner(ORIGIN, 30);
    receive(a);
    receive(b);
    assertEquals(2, link.queued.size());
    assertEquals(List.of(), link.sent);
    path.flush();
    assertArrayEquals(a, link.sent.get(0));
    assertArrayEquals(b, link.sent.get(1));
    assertEquals(List.of(), tun);
    assertEquals(2, count(HostServerCounter.INJECTED));
    assertEquals(2, count(HostServerCounter.INJECTED_LINK));
    assertEquals(a.length + b.length, count(HostServerCounter.INJECTED_BYTES));
  }

  @Test
  void shouldTakeTheTunForAVirtualHostWithoutALinkOrAPacketItsLinkRefuses() {
    table.addVirtualHost(ORIGIN);
    table.addVirtualHost(OTHER);
    Recorded link = new Recorded(100);
    links.install(ORIGIN, link);
    byte[] other = inner(OTHER, 10);
    byte[] tooLong = inner(ORIGIN, 200);
    receive(other);
    receive(tooLong);
    path.flush();
    assertEquals(2, tun.size());
    assertArrayEquals(other, tun.get(0));
    assertArrayEquals(tooLong, tun.get(1));
    assertEquals(List.of(), link.sent);
    assertEquals(2, count(HostServerCounter.INJECTED));
    assertEquals(0, count(HostServerCounter.INJECTED_LINK));
  }

  @Test
  void shouldSendWhatALinkHoldsBeforeAPacketOfItsFlowTakesTheTun() {
    List<String> order = new ArrayList<>();
    HostServerPath ordered =
        new HostServerPath(
                SELF,
                counters,
                table,
                (buffer, offset, length) -> order.add("tun " + length),
                4,
                1_000_000_000L)
            .links(links);
    table.addVirtualHost(ORIGIN);
    links.install(
        ORIGIN,
        new Recorded(100) {
          @Override
          public void flush() {
            queued.forEach(p -> order.add("link " + p.length));
            super.flush();
          }
        });
    receive(ordered, inner(ORIGIN, 10));
    receive(ordered, inner(ORIGIN, 200));
    assertEquals(List.of("link 38", "tun 228"), order);
  }

  @Test
  void shouldCloseAReplacedOrRemovedLinkAndGoBackToTheTun() {
    table.addVirtualHost(ORIGIN);
    Recorded first = new Recorded(1500);
    links.install(ORIGIN, first);
    receive(inner(ORIGIN, 10));
    Recorded second = new Recorded(1500);
    links.install(ORIGIN, second);
    assertTrue(first.closed);
    assertEquals(1, first.sent.size()); // what it held left before it closed
    receive(inner(ORIGIN, 10));
    path.flush();
    assertEquals(1, second.sent.size());
    links.remove(ORIGIN);
    assertTrue(second.closed);
    assertEquals(0, links.size());
    receive(inner(ORIGIN, 10));
    assertEquals(1, tun.size());
  }

  @Test
  void shouldNotDropAPacketForNoVirtualHostOntoALink() {
    Recorded link = new Recorded(1500);
    links.install(ORIGIN, link); // a link, but the table holds no such virtual host
    receive(inner(ORIGIN, 10));
    path.flush();
    assertEquals(List.of(), link.sent);
    assertEquals(1, count(HostServerCounter.DROP_NO_VIRTUAL_HOST));
  }
}
