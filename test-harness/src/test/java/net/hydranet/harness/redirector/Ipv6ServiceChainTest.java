package net.hydranet.harness.redirector;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.hydranet.control.rib.Rib;
import net.hydranet.control.rib.TableWriter;
import net.hydranet.control.wire.Addresses;
import net.hydranet.control.wire.Codec;
import net.hydranet.control.wire.Entry;
import net.hydranet.control.wire.Message;
import net.hydranet.control.wire.MessageType;
import net.hydranet.control.wire.Service;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.harness.fixture.CapturingTxPort;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.harness.packet.PacketBuilder;
import net.hydranet.hostserver.HostServerCounter;
import net.hydranet.hostserver.HostServerPath;
import net.hydranet.hostserver.VirtualHostTable;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * An IPv6 service from one end to the other, in process (issue 21): a host server's version-2
 * ANNOUNCE of [2001:2:0:2::10]:8080/tcp, through the codec, into a redirector's RIB, written by
 * {@link TableWriter#putIpv6} into the real forwarding plane of config/replay-sample.yaml; a
 * client's packet to the service leaves the redirector inside IPv4 protocol 41 to the host server
 * 198.18.3.2, whose {@link HostServerPath} injects the client's packet, hop limit one lower, byte
 * for byte. Withdrawn, the service's packets go to the origin again.
 */
class Ipv6ServiceChainTest {
  private static final long CLIENT_MAC = 0x0200_0000_010aL;
  private static final long ROUTER_MAC = 0x0200_0000_0101L;
  private static final int CLIENT0 = 0;
  private static final int CORE0 = 1;
  private static final int HS0 = 2;
  private static final int HOST_SERVER = Addresses.parse("198.18.3.2");
  private static final long[] ORIGIN = Addresses.parseIpv6("2001:2:0:2::10");

  private final RibOnPlane control = new RibOnPlane(RedirectorUnderTest.sampleConfig());
  private final RedirectorUnderTest redirector = control.redirector;
  private final List<String> writes = control.writes;
  private final Rib rib = control.rib;

  /** What the host server's agent would send, as the redirector's gatekeeper decodes it. */
  private static List<Entry> announced(List<Entry> entries) throws Exception {
    Message m =
        new Message(
            MessageType.ANNOUNCE,
            HOST_SERVER,
            1_700_000_000_000_000L,
            3000,
            0,
            entries,
            Codec.VERSION_2,
            0,
            false);
    byte[] unsigned = Codec.encodeUnsigned(m);
    byte[] datagram = Arrays.copyOf(unsigned, unsigned.length + Codec.SIGNATURE);
    return Codec.decode(datagram, datagram.length).entries();
  }

  private static byte[] clientPacket() {
    return PacketBuilder.ethernet(CLIENT_MAC, ROUTER_MAC)
        .ipv6("2001:2:0:1::10", "2001:2:0:2::10")
        .hopLimit(64)
        .tcp(40_000, 8080)
        .flags(0x18)
        .seq(1)
        .ack(1)
        .payload("GET / HTTP/1.1\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
        .build();
  }

  @Test
  void shouldCarryAnAnnouncedIpv6ServiceFromTheControlPlaneToTheVirtualHost() throws Exception {
    Service web = Service.ipv6(ORIGIN[0], ORIGIN[1], 6, 8080);
    long now = 1_000_000_000_000L;
    rib.hostServerHeard(HOST_SERVER, 1, 3000, now);
    rib.hostServerAnnounce(HOST_SERVER, announced(List.of(new Entry(web, HOST_SERVER, 100, 0, 0))));
    rib.commit(now);
    assertEquals(List.of("put [2001:2:0:2::10]:8080/tcp"), writes);

    byte[] frame = clientPacket();
    List<CapturingTxPort.Sent> sent = redirector.receive(CLIENT0, frame);
    assertEquals(1, sent.size(), sent.toString());
    assertEquals(HS0, sent.get(0).iface(), "to the host server's link");
    byte[] out = sent.get(0).frame();
    UnsafeBuffer o = new UnsafeBuffer(out);
    assertEquals(EthernetHeader.TYPE_IPV4, EthernetHeader.type(o, 0));
    assertEquals(41, Ipv4Header.protocol(o, 14), "IPv6-in-IPv4");
    assertEquals(HOST_SERVER, Ipv4Header.destination(o, 14));

    Counters counters = new Counters(HostServerCounter.count());
    VirtualHostTable table = new VirtualHostTable();
    table.addVirtualHost6(ORIGIN[0], ORIGIN[1]);
    List<byte[]> injected = new ArrayList<>();
    HostServerPath hostServer =
        new HostServerPath(
            HOST_SERVER,
            counters,
            table,
            (buffer, offset, length) -> {
              byte[] p = new byte[length];
              buffer.getBytes(offset, p);
              return injected.add(p);
            },
            4,
            5_000_000_000L);
    UnsafeBuffer slot = new UnsafeBuffer(BufferUtil.allocateDirectAligned(16_384, 64));
    slot.putBytes(64, out);
    hostServer.process(slot, 64, out.length, 0);
    assertEquals(1, injected.size(), "host server counters: injected");
    byte[] expected = Arrays.copyOfRange(frame, 14, frame.length);
    expected[Ipv6Header.HOP_LIMIT_OFFSET] = 63; // the redirector decremented it
    assertArrayEquals(expected, injected.get(0));
    assertEquals(1, counters.get(HostServerCounter.IPV6_IN_IPV4.id()));

    // Withdrawn (the complete set no longer lists it): the origin serves it again.
    rib.hostServerAnnounce(HOST_SERVER, announced(List.of()));
    rib.commit(now);
    assertEquals("remove [2001:2:0:2::10]:8080/tcp", writes.get(writes.size() - 1));
    sent = redirector.receive(CLIENT0, clientPacket());
    assertEquals(1, sent.size(), sent.toString());
    assertEquals(CORE0, sent.get(0).iface(), "to the origin's link");
    assertEquals(
        EthernetHeader.TYPE_IPV6, EthernetHeader.type(new UnsafeBuffer(sent.get(0).frame()), 0));
  }
}
