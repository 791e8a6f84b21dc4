package net.hydranet.forwarding.element;

import static net.hydranet.forwarding.element.TestFrames.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteOrder;
import net.hydranet.forwarding.config.RouterInterface;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.wire.EthernetHeader;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class EtherClassifierTest {
  private final Counters counters = new Counters();
  private final EtherClassifier redirector =
      new EtherClassifier(counters, Counter.DROP_TRUNCATED_ETHERNET.id(), true);
  private final RouterInterface in = TestFrames.context(1500).interfaces().get(CLIENT_IF);
  private final UnsafeBuffer slot = TestFrames.slot();
  private final PacketContext packet = new PacketContext();

  private int classify(EtherClassifier classifier, int length) {
    packet.reset(in, HEADROOM, length);
    return classifier.process(slot, packet);
  }

  private void tag(int vlan, int innerType) {
    // Move the network header 4 bytes on and put an 802.1Q tag in front of it.
    slot.putBytes(HEADROOM + 18, slot, HEADROOM + 14, 100);
    slot.putShort(HEADROOM + 12, (short) EthernetHeader.TYPE_VLAN, ByteOrder.BIG_ENDIAN);
    slot.putShort(HEADROOM + 14, (short) vlan, ByteOrder.BIG_ENDIAN);
    slot.putShort(HEADROOM + 16, (short) innerType, ByteOrder.BIG_ENDIAN);
  }

  @Test
  void shouldFindTheIpv4HeaderAfterEthernet() {
    int length = tcp(slot, ORIGIN, 1, 80, 0, 0);
    assertEquals(EtherClassifier.IPV4, classify(redirector, length));
    assertEquals(HEADROOM + 14, packet.l3);
    assertEquals(length - 14, packet.available);
    assertEquals(CLIENT_IF_MAC, packet.destinationMac);
  }

  @Test
  void shouldFindTheIpv4HeaderAfterAVlanTag() {
    int length = tcp(slot, ORIGIN, 1, 80, 0, 0);
    tag(7, EthernetHeader.TYPE_IPV4);
    assertEquals(EtherClassifier.IPV4, classify(redirector, length + 4));
    assertEquals(HEADROOM + 18, packet.l3);
    assertEquals(length - 14, packet.available);
  }

  @Test
  void shouldDropFramesShorterThanTheirLinkHeaderAsTruncated() {
    tcp(slot, ORIGIN, 1, 80, 0, 0);
    assertEquals(EtherClassifier.DROP, classify(redirector, 13));
    tag(7, EthernetHeader.TYPE_IPV4);
    assertEquals(EtherClassifier.DROP, classify(redirector, 17));
    assertEquals(2, counters.get(Counter.DROP_TRUNCATED_ETHERNET));
  }

  @Test
  void shouldDropAFrameForAnotherMacBeforeReadingItsTag() {
    tcp(slot, ORIGIN, 1, 80, 0, 0);
    EthernetHeader.mac(slot, HEADROOM, 0x02_00_00_00_99_99L);
    tag(7, EthernetHeader.TYPE_IPV4);
    assertEquals(EtherClassifier.DROP, classify(redirector, 16));
    assertEquals(1, counters.get(Counter.DROP_NOT_FOR_US));
    assertEquals(0, counters.get(Counter.DROP_TRUNCATED_ETHERNET));
  }

  @Test
  void shouldNameArpAndIpv6AndLeaveOtherTypesUncounted() {
    tcp(slot, ORIGIN, 1, 80, 0, 0);
    slot.putShort(HEADROOM + 12, (short) EthernetHeader.TYPE_ARP, ByteOrder.BIG_ENDIAN);
    assertEquals(EtherClassifier.ARP, classify(redirector, 60));
    slot.putShort(HEADROOM + 12, (short) EthernetHeader.TYPE_IPV6, ByteOrder.BIG_ENDIAN);
    assertEquals(EtherClassifier.IPV6, classify(redirector, 60));
    slot.putShort(HEADROOM + 12, (short) 0x88CC, ByteOrder.BIG_ENDIAN); // LLDP
    assertEquals(EtherClassifier.OTHER, classify(redirector, 60));
    assertEquals(0, counters.drops());
  }

  @Test
  void shouldLetIpv6ThroughAnIpv6MulticastMacAndNothingElse() {
    tcp(slot, ORIGIN, 1, 80, 0, 0);
    EthernetHeader.mac(slot, HEADROOM, 0x3333_FF00_0001L); // a solicited-node group's MAC
    slot.putShort(HEADROOM + 12, (short) EthernetHeader.TYPE_IPV6, ByteOrder.BIG_ENDIAN);
    assertEquals(EtherClassifier.IPV6, classify(redirector, 60));
    slot.putShort(HEADROOM + 12, (short) EthernetHeader.TYPE_IPV4, ByteOrder.BIG_ENDIAN);
    assertEquals(EtherClassifier.DROP, classify(redirector, 60));
    assertEquals(1, counters.get(Counter.DROP_NOT_FOR_US));
    EthernetHeader.mac(slot, HEADROOM, 0x0100_5E00_0001L); // an IPv4 multicast MAC
    slot.putShort(HEADROOM + 12, (short) EthernetHeader.TYPE_IPV6, ByteOrder.BIG_ENDIAN);
    assertEquals(EtherClassifier.DROP, classify(redirector, 60));
    assertEquals(2, counters.get(Counter.DROP_NOT_FOR_US));
  }

  @Test
  void shouldAcceptAnyMacAndCountTruncationWhereTheHostServerSays() {
    Counters hostServer = new Counters(4);
    EtherClassifier classifier = new EtherClassifier(hostServer, 3, false);
    int length = tcp(slot, ORIGIN, 1, 80, 0, 0);
    EthernetHeader.mac(slot, HEADROOM, 0x02_00_00_00_99_99L);
    packet.reset(null, HEADROOM, length);
    assertEquals(EtherClassifier.IPV4, classifier.process(slot, packet));
    tag(7, EthernetHeader.TYPE_IPV4);
    packet.reset(null, HEADROOM, 17);
    assertEquals(EtherClassifier.DROP, classifier.process(slot, packet));
    assertEquals(1, hostServer.get(3));
  }
}
