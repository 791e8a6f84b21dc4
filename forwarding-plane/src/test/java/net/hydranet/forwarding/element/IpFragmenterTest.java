package net.hydranet.forwarding.element;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.InternetChecksum;
import net.hydranet.forwarding.wire.Ipv4Header;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IpFragmenterTest {
  @ParameterizedTest(name = "{0} bytes, MTU {1}, options {2}, already fragment at {3}")
  @CsvSource({
    "1520, 1500, 0, -1",
    "1500, 576, 0, -1",
    "8000, 1500, 0, -1",
    "1521, 1500, 0, -1",
    "1600, 1500, 8, -1",
    "1600, 1500, 8, 1480",
    "3000, 1280, 12, 0"
  })
  void shouldProduceFragmentsThatReassembleToTheOriginal(
      int total, int mtu, int optionBytes, int alreadyOffset) {
    int header = 20 + optionBytes;
    byte[] datagram = new byte[total];
    new Random(total).nextBytes(datagram);
    UnsafeBuffer in = new UnsafeBuffer(datagram);
    int flags = alreadyOffset < 0 ? 0 : (Ipv4Header.FLAG_MF | (alreadyOffset >>> 3));
    Ipv4Header.write(in, 0, 0, total, 0x1234, flags, 63, 17, 0xC6120101, 0xC6120202);
    in.putByte(0, (byte) (0x40 | (header >>> 2)));
    if (optionBytes > 0) {
      // A copied option (type 0x83, loose source route shape) and a non-copied one (0x07, record
      // route), each padded: only the copied one may appear in later fragments.
      in.putBytes(20, new byte[] {(byte) 0x83, 7, 4, 1, 2, 3, 4, 0});
      for (int i = 28; i < header; i++) {
        in.putByte(i, (byte) 1);
      }
      if (optionBytes >= 12) {
        in.putBytes(28, new byte[] {7, 3, 4, 0});
      }
    }
    Ipv4Header.updateChecksum(in, 0);

    Counters counters = new Counters();
    List<byte[]> fragments = new ArrayList<>();
    IpFragmenter fragmenter = new IpFragmenter(counters, 9000);
    fragmenter.fragment(
        in,
        0,
        mtu,
        (buffer, offset, length) -> {
          byte[] f = new byte[length];
          buffer.getBytes(offset, f);
          fragments.add(f);
        });

    byte[] payload = new byte[total - header];
    boolean[] seen = new boolean[payload.length];
    int base = alreadyOffset < 0 ? 0 : alreadyOffset;
    for (int i = 0; i < fragments.size(); i++) {
      UnsafeBuffer f = new UnsafeBuffer(fragments.get(i));
      assertTrue(fragments.get(i).length <= mtu, "fragment fits the MTU");
      int ihl = Ipv4Header.headerLength(f, 0);
      assertTrue(InternetChecksum.verify(f, 0, ihl), "fragment header checksum");
      assertEquals(fragments.get(i).length, Ipv4Header.totalLength(f, 0));
      assertEquals(0x1234, Ipv4Header.id(f, 0));
      boolean last = i == fragments.size() - 1;
      boolean mf = (Ipv4Header.flagsFragment(f, 0) & Ipv4Header.FLAG_MF) != 0;
      assertEquals(!last || alreadyOffset >= 0, mf, "MF on all but the last (or kept)");
      int data = fragments.get(i).length - ihl;
      if (!last) {
        assertEquals(0, data % 8, "non-last fragment data is a multiple of 8");
      }
      if (i == 0) {
        assertEquals(header, ihl, "the first fragment keeps every option");
      } else if (optionBytes > 0) {
        assertEquals(28, ihl, "later fragments carry only the copied option, padded");
        assertEquals((byte) 0x83, f.getByte(20));
      }
      int at = Ipv4Header.fragmentOffset(f, 0) - base;
      for (int j = 0; j < data; j++) {
        assertTrue(!seen[at + j], "no overlap");
        seen[at + j] = true;
        payload[at + j] = f.getByte(ihl + j);
      }
    }
    for (boolean s : seen) {
      assertTrue(s, "every byte covered");
    }
    byte[] expected = new byte[total - header];
    System.arraycopy(datagram, header, expected, 0, expected.length);
    assertArrayEquals(expected, payload);
    assertEquals(fragments.size(), counters.get(Counter.FRAGMENTS_SENT));
    assertEquals(1, counters.get(Counter.FRAGMENTED_DATAGRAMS));
  }
}
