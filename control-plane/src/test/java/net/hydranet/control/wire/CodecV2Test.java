package net.hydranet.control.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import net.hydranet.control.wire.Malformed.Refused;
import org.junit.jupiter.api.Test;

/**
 * Version 2 of the protocol (control-plane/IPV6.md §2): entries with an address family, so IPv6
 * services travel; every malformation of the new fields refused with its reason; and the two
 * versions never read one another's bodies. The byte-exact encodings are in {@link
 * CodecV2VectorsTest}.
 */
class CodecV2Test {
  private static final int SENDER = Addresses.parse("192.0.2.1");
  private static final int ORIGIN = Addresses.parse("198.51.100.80");
  private static final long[] ORIGIN6 = Addresses.parseIpv6("2001:2::10");
  private static final long T = 1_700_000_000_000_000L;

  private static Entry ipv6(int port, int hostServer, int distance) {
    return new Entry(Service.ipv6(ORIGIN6[0], ORIGIN6[1], 6, port), hostServer, 100, 7, distance);
  }

  private static Message v2(MessageType type, Entry... entries) {
    return new Message(type, SENDER, T, 3000, 0, List.of(entries), Codec.VERSION_2, 0, false);
  }

  private static byte[] datagram(Message m) {
    byte[] unsigned = Codec.encodeUnsigned(m);
    return Arrays.copyOf(unsigned, unsigned.length + Codec.SIGNATURE);
  }

  @Test
  void shouldCarryBothFamiliesInVersion2AndDecodeThemBack() throws Refused {
    Entry v4 = new Entry(ORIGIN, 17, 53, SENDER, 50, 7, 0);
    Message announce = v2(MessageType.ANNOUNCE, v4, ipv6(80, SENDER, 0));
    byte[] d = datagram(announce);
    assertEquals(
        Codec.HEADER + Codec.LIST_HEADER + 2 * Codec.ANNOUNCE_ENTRY_V2 + Codec.SIGNATURE, d.length);
    assertEquals(2, d[2], "version octet");
    assertEquals(announce, Codec.decode(d, d.length));

    int hs = Addresses.parse("192.0.2.7");
    Message update =
        v2(MessageType.UPDATE, ipv6(80, hs, 1), ipv6(443, hs, Codec.INFINITY), v4.withDistance(3));
    byte[] u = datagram(update);
    assertEquals(
        Codec.HEADER + Codec.LIST_HEADER + 3 * Codec.UPDATE_ENTRY_V2 + Codec.SIGNATURE, u.length);
    assertEquals(update, Codec.decode(u, u.length));
  }

  @Test
  void shouldRefuseToPutAnIpv6EntryInVersion1() {
    Message v1 =
        new Message(MessageType.ANNOUNCE, SENDER, T, 3000, 0, List.of(ipv6(80, SENDER, 0)));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Codec.encodeUnsigned(v1));
    assertTrue(e.getMessage().contains("needs version 2"), e.getMessage());
  }

  @Test
  void shouldRefuseToEncodeIpv6OriginsNoServiceMayHave() {
    // The IPv4-mapped form is the IPv4 service's own key: no IPv6 service may take it.
    assertThrows(IllegalArgumentException.class, () -> Service.ipv6(0, 0xffff_c633_6450L, 6, 80));
    for (String bad : List.of("::1", "::", "::2:3", "fe80::1", "febf::1", "ff02::1")) {
      long[] a = Addresses.parseIpv6(bad);
      Entry e = new Entry(Service.ipv6(a[0], a[1], 6, 80), SENDER, 1, 0, 0);
      assertThrows(
          IllegalArgumentException.class,
          () -> Codec.encodeUnsigned(v2(MessageType.ANNOUNCE, e)),
          bad);
    }
  }

  @Test
  void shouldFitTheVersion2Limits() throws Refused {
    Entry[] max = new Entry[Codec.MAX_ANNOUNCE_ENTRIES_V2];
    for (int i = 0; i < max.length; i++) {
      max[i] = ipv6(i + 1, SENDER, 0);
    }
    assertEquals(54, max.length, "IPV6.md: (1400 - 20 - 64 - 4) / 24");
    assertEquals(41, Codec.MAX_UPDATE_ENTRIES_V2, "IPV6.md: (1400 - 20 - 64 - 4) / 32");
    byte[] d = datagram(v2(MessageType.ANNOUNCE, max));
    assertEquals(Codec.MAX_DATAGRAM - 16, d.length);
    assertEquals(max.length, Codec.decode(d, d.length).entries().size());
    Entry[] tooMany = Arrays.copyOf(max, max.length + 1);
    tooMany[max.length] = ipv6(1000, SENDER, 0);
    assertThrows(
        IllegalArgumentException.class,
        () -> Codec.encodeUnsigned(v2(MessageType.ANNOUNCE, tooMany)));
  }

  /** An ANNOUNCE of one IPv4 entry (bytes 24..47) and one IPv6 entry (48..71), version 2. */
  private static byte[] valid() {
    return datagram(
        v2(MessageType.ANNOUNCE, new Entry(ORIGIN, 6, 80, SENDER, 1, 0, 0), ipv6(80, SENDER, 0)));
  }

  private static void refused(Malformed reason, Consumer<byte[]> change) {
    byte[] d = valid();
    change.accept(d);
    Refused r = assertThrows(Refused.class, () -> Codec.decode(d, d.length));
    assertEquals(reason, r.reason(), r.getMessage());
  }

  @Test
  void shouldRefuseEachMalformationOfTheNewFields() {
    refused(Malformed.BAD_ENTRY, d -> d[24] = 5); // family 5
    refused(Malformed.BAD_ENTRY, d -> d[24] = 0); // family 0
    refused(Malformed.BAD_ENTRY, d -> d[32 + 4] = 1); // IPv4 origin with padding
    refused(Malformed.BAD_ENTRY, d -> d[32 + 15] = 1); // ... at its last byte
    refused(Malformed.BAD_ENTRY, d -> d[48] = 4); // the IPv6 origin read as IPv4: padded
    refused(Malformed.BAD_ENTRY, d -> d[32] = 0); // IPv4 origin 0.51.100.80
    refused(Malformed.BAD_ENTRY, d -> d[56] = 0); // IPv6 origin ::/8 (first byte 0)
    refused(Malformed.BAD_ENTRY, d -> d[56] = (byte) 0xff); // multicast
    refused(
        Malformed.BAD_ENTRY,
        d -> {
          d[56] = (byte) 0xfe; // fe80::/10, link-local
          d[57] = (byte) 0x80;
        });
    refused(Malformed.BAD_ENTRY, d -> d[49] = 1); // protocol 1
    refused(Malformed.BAD_ENTRY, d -> d[52] = 4); // weight 1124
    refused(
        Malformed.BAD_ENTRY,
        d -> {
          // The first entry made IPv6 with the second's origin, protocol and port: a duplicate.
          d[24] = 6;
          System.arraycopy(d, 56, d, 32, 16);
        });
    refused(Malformed.BAD_LENGTH, d -> d[21] = 3); // count lies
    refused(Malformed.BAD_LENGTH, d -> d[19] -= 12); // a version-1 length under version 2
  }

  @Test
  void shouldNeverReadAVersion2BodyAsVersion1() {
    // Forced to version 1, the 24-byte entries no longer add up: refused for the length, so an
    // IPv6 address is never taken for an IPv4 origin, protocol and port.
    for (int count = 1; count <= Codec.MAX_ANNOUNCE_ENTRIES_V2; count++) {
      Entry[] es = new Entry[count];
      for (int i = 0; i < count; i++) {
        es[i] = ipv6(i + 1, SENDER, 0);
      }
      byte[] d = datagram(v2(MessageType.ANNOUNCE, es));
      d[2] = 1;
      Refused r = assertThrows(Refused.class, () -> Codec.decode(d, d.length));
      assertEquals(Malformed.BAD_LENGTH, r.reason(), count + " entries");
    }
  }

  @Test
  void shouldCarryTheVersionAdvertisementInHelloWhereVersion1HasReservedOctets() throws Refused {
    Message hello =
        new Message(
            MessageType.HELLO,
            SENDER,
            T,
            3000,
            Message.ROLE_REDIRECTOR,
            List.of(),
            Codec.VERSION,
            Codec.MAX_VERSION,
            true);
    byte[] d = datagram(hello);
    assertEquals(1, d[2], "a HELLO stays a version-1 message");
    assertEquals(Message.ROLE_REDIRECTOR, d[20]);
    assertEquals(Codec.MAX_VERSION, d[21]);
    assertEquals(Codec.HELLO_ANSWER, d[22]);
    assertEquals(0, d[23]);
    assertEquals(hello, Codec.decode(d, d.length));
    // A version-1 node's HELLO: the octets are 0, it reads version 1 and asks nothing.
    d[21] = 0;
    d[22] = 0;
    Message old = Codec.decode(d, d.length);
    assertEquals(0, old.reads());
    assertFalse(old.answer());
    // The other flag bits are reserved: ignored.
    d[22] = (byte) 0xfe;
    assertFalse(Codec.decode(d, d.length).answer());
  }

  @Test
  void shouldRefuseAVersionAdvertisementOutsideHello() {
    Message keepalive =
        new Message(MessageType.KEEPALIVE, SENDER, T, 3000, 0, List.of(), 1, 2, false);
    assertThrows(IllegalArgumentException.class, () -> Codec.encodeUnsigned(keepalive));
  }
}
