package net.hydranet.forwarding.element;

import static net.hydranet.forwarding.element.TestFrames.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class IpInputTest {
  private final Counters counters = new Counters();
  private final IpInput input =
      new IpInput(counters, new int[] {CLIENT_IF_IP, CORE_IF_IP, HS_IF_IP});
  private final RouterInterface in = TestFrames.context(1500).interfaces().get(CLIENT_IF);
  private final UnsafeBuffer slot = TestFrames.slot();
  private final PacketContext packet = new PacketContext();

  private int input(int length, long destinationMac) {
    packet.reset(in, HEADROOM, length);
    packet.destinationMac = destinationMac;
    packet.l3 = ipOffset();
    packet.available = length - EthernetHeader.LENGTH;
    return input.process(slot, packet);
  }

  private int input(int length) {
    return input(length, CLIENT_IF_MAC);
  }

  @Test
  void shouldPassATransitDatagramWithItsAddresses() {
    assertEquals(IpInput.TRANSIT, input(tcp(slot, ORIGIN, 1, 80, 0, 0)));
    assertEquals(CLIENT, packet.source);
    assertEquals(ORIGIN, packet.destination);
    assertEquals(0, counters.drops());
  }

  @Test
  void shouldDeliverADatagramForAnyOfItsAddresses() {
    assertEquals(IpInput.LOCAL, input(echo(slot, HS_IF_IP, 64)));
  }

  @Test
  void shouldDropIpv4SentToTheLinkBroadcast() {
    assertEquals(IpInput.DROP, input(tcp(slot, ORIGIN, 1, 80, 0, 0), EthernetHeader.BROADCAST));
    assertEquals(1, counters.get(Counter.DROP_MARTIAN_DESTINATION));
  }

  @Test
  void shouldDropABadChecksumAsTheHeaderCheckSays() {
    int length = tcp(slot, ORIGIN, 1, 80, 0, 0);
    slot.putByte(ipOffset() + Ipv4Header.TTL_OFFSET, (byte) 9);
    assertEquals(IpInput.DROP, input(length));
    assertEquals(1, counters.get(Counter.DROP_BAD_IP_CHECKSUM));
  }

  @Test
  void shouldDropOurOwnAddressAsASourceFromTheWire() {
    int length = ipv4(slot, CLIENT_IF_MAC, CORE_IF_IP, ORIGIN, 17, 8, 64, 0);
    assertEquals(IpInput.DROP, input(length));
    assertEquals(1, counters.get(Counter.DROP_MARTIAN_SOURCE));
  }

  @Test
  void shouldNotRouteMulticastOrTheIngressBroadcast() {
    assertEquals(
        IpInput.DROP, input(ipv4(slot, CLIENT_IF_MAC, CLIENT, ip(224, 0, 0, 5), 17, 8, 64, 0)));
    assertEquals(
        IpInput.DROP, input(ipv4(slot, CLIENT_IF_MAC, CLIENT, ip(198, 18, 0, 255), 17, 8, 64, 0)));
    assertEquals(2, counters.get(Counter.DROP_MARTIAN_DESTINATION));
  }

  @Test
  void shouldDropATcpFragmentAtOffsetEight() {
    // RFC 1858 §4: offset 8 bytes (fragment offset field 1) can only rewrite the TCP flags.
    int length = ipv4(slot, CLIENT_IF_MAC, CLIENT, ORIGIN, 6, 16, 64, 1);
    assertEquals(IpInput.DROP, input(length));
    assertEquals(1, counters.get(Counter.DROP_BAD_FRAGMENT));
  }
}
