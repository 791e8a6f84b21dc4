package net.hydranet.forwarding.element;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class IpReassemblerTest {
  private static final long SECOND = 1_000_000_000L;

  private static byte[] datagram(int total, int id) {
    byte[] d = new byte[total];
    new Random(id).nextBytes(d);
    Ipv4Header.write(new UnsafeBuffer(d), 0, 0, total, id, 0, 64, 4, 0xC6120101, 0xC6120302);
    return d;
  }

  private static List<byte[]> fragments(byte[] datagram, int mtu) {
    List<byte[]> out = new ArrayList<>();
    new IpFragmenter(new Counters(), 9000)
        .fragment(
            new UnsafeBuffer(datagram),
            0,
            mtu,
            (b, o, l) -> {
              byte[] f = new byte[l];
              b.getBytes(o, f);
              out.add(f);
            });
    return out;
  }

  @Test
  void shouldReassembleFragmentsInAnyOrder() {
    byte[] d = datagram(4000, 77);
    List<byte[]> frags = fragments(d, 1000);
    Collections.reverse(frags);
    IpReassembler r = new IpReassembler(4, 9100, SECOND);
    for (int i = 0; i < frags.size(); i++) {
      int result = r.offer(new UnsafeBuffer(frags.get(i)), 0, 0);
      assertEquals(i == frags.size() - 1 ? IpReassembler.COMPLETE : IpReassembler.HELD, result);
    }
    UnsafeBuffer out = r.buffer();
    assertEquals(4000, Ipv4Header.totalLength(out, 0));
    assertTrue(InternetChecksum.verify(out, 0, 20));
    byte[] payload = new byte[3980];
    out.getBytes(20, payload);
    byte[] expected = new byte[3980];
    System.arraycopy(d, 20, expected, 0, 3980);
    assertArrayEquals(expected, payload);
    assertEquals(0, r.inUse());
  }

  @Test
  void shouldDropOverlappingFragmentsAndTheirContext() {
    byte[] d = datagram(3000, 5);
    List<byte[]> frags = fragments(d, 1000);
    IpReassembler r = new IpReassembler(4, 9100, SECOND);
    assertEquals(IpReassembler.HELD, r.offer(new UnsafeBuffer(frags.get(0)), 0, 0));
    assertEquals(IpReassembler.DROPPED, r.offer(new UnsafeBuffer(frags.get(0)), 0, 0));
    assertEquals(1, r.stats().overlaps);
    assertEquals(0, r.inUse());
  }

  @Test
  void shouldStayBoundedUnderAFloodOfOneIdAndStillReassembleOthers() {
    IpReassembler r = new IpReassembler(8, 9100, SECOND);
    long memory = r.memoryBytes();
    Random random = new Random(1);
    byte[] tiny = new byte[28];
    UnsafeBuffer t = new UnsafeBuffer(tiny);
    for (int i = 0; i < 20_000; i++) {
      int offset = random.nextInt(1000) * 8;
      Ipv4Header.write(
          t, 0, 0, 28, 0xBAD, Ipv4Header.FLAG_MF | (offset >>> 3), 64, 4, 0xC6120199, 0xC6120302);
      r.offer(t, 0, i);
      assertTrue(r.inUse() <= 8);
    }
    assertEquals(memory, r.memoryBytes());
    assertTrue(r.stats().overlaps > 0);
    byte[] good = datagram(2000, 9);
    List<byte[]> frags = fragments(good, 800);
    int last = IpReassembler.HELD;
    for (byte[] f : frags) {
      last = r.offer(new UnsafeBuffer(f), 0, 30_000);
    }
    assertEquals(IpReassembler.COMPLETE, last);
  }

  @Test
  void shouldExpireIncompleteDatagrams() {
    IpReassembler r = new IpReassembler(4, 9100, SECOND);
    List<byte[]> frags = fragments(datagram(3000, 3), 1000);
    r.offer(new UnsafeBuffer(frags.get(0)), 0, 0);
    assertEquals(1, r.inUse());
    r.offer(new UnsafeBuffer(fragments(datagram(3000, 4), 1000).get(0)), 0, 2 * SECOND);
    assertEquals(1, r.stats().timedOut);
    assertEquals(1, r.inUse());
  }

  @Test
  void shouldRefuseDatagramsBeyondTheBound() {
    IpReassembler r = new IpReassembler(4, 2000, SECOND);
    List<byte[]> frags = fragments(datagram(4000, 8), 1000);
    int dropped = 0;
    for (byte[] f : frags) {
      if (r.offer(new UnsafeBuffer(f), 0, 0) == IpReassembler.DROPPED) {
        dropped++;
      }
    }
    assertTrue(dropped > 0);
    assertTrue(r.stats().tooLarge > 0);
  }
}
