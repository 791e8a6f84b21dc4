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

  /**
   * The table of local addresses answers as a scan of the interfaces in order would: the first
   * interface with the address, every address found, none invented (zero, neighbours, random), for
   * tables of 0 to 40 addresses with duplicates and a zero among them.
   */
  @Test
  void shouldFindEachLocalAddressAtItsFirstInterfaceAndNothingElse() {
    java.util.Random random = new java.util.Random(19);
    for (int n = 0; n <= 40; n++) {
      int[] local = new int[n];
      for (int i = 0; i < n; i++) {
        local[i] = i > 0 && random.nextInt(5) == 0 ? local[random.nextInt(i)] : random.nextInt();
      }
      if (n > 3) {
        local[3] = 0;
      }
      IpInput table = new IpInput(counters, local);
      for (int i = 0; i < n; i++) {
        assertEquals(firstIndex(local, local[i]), table.localIndex(local[i]));
        assertEquals(firstIndex(local, local[i] + 1), table.localIndex(local[i] + 1));
      }
      for (int probe = 0; probe < 1000; probe++) {
        int address = random.nextInt();
        assertEquals(firstIndex(local, address), table.localIndex(address));
      }
      assertEquals(firstIndex(local, 0), table.localIndex(0));
    }
  }

  /** One interface is both source and destination: the scan met the source first, so it drops. */
  @Test
  void shouldDropOurAddressAsSourceBeforeDeliveringToAnEarlierOrSameInterface() {
    assertEquals(
        IpInput.DROP, input(ipv4(slot, CLIENT_IF_MAC, CORE_IF_IP, CORE_IF_IP, 17, 8, 64, 0)));
    assertEquals(
        IpInput.LOCAL, input(ipv4(slot, CLIENT_IF_MAC, HS_IF_IP, CLIENT_IF_IP, 17, 8, 64, 0)));
    assertEquals(
        IpInput.DROP, input(ipv4(slot, CLIENT_IF_MAC, CLIENT_IF_IP, HS_IF_IP, 17, 8, 64, 0)));
    assertEquals(2, counters.get(Counter.DROP_MARTIAN_SOURCE));
  }

  private static int firstIndex(int[] local, int address) {
    for (int i = 0; i < local.length; i++) {
      if (local[i] == address) {
        return i;
      }
    }
    return IpInput.NOT_LOCAL;
  }
}
