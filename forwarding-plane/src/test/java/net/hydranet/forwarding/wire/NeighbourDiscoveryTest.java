package net.hydranet.forwarding.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The router advertisement builder and the receiver's ND checks, one broken field at a time. */
class NeighbourDiscoveryTest {
  private static final int ETH = EthernetHeader.LENGTH;
  private static final List<byte[]> CLIENT = CapturedFrames.read("ipv6/client.pcap");
  private static final long MAC = EthernetHeader.parseMac("02:00:00:00:01:01");
  private static final long[] LINK_LOCAL = Ipv6Header.parseAddress("fe80::ff:fe00:101");
  private static final long[] ALL_NODES = Ipv6Header.parseAddress("ff02::1");

  private final Ipv6HeaderChain chain = new Ipv6HeaderChain();

  private static byte[] routerAdvertisement() {
    UnsafeBuffer b = new UnsafeBuffer(new byte[ETH + 80]);
    EthernetHeader.write(b, 0, Ipv6Header.multicastMac(ALL_NODES[1]), MAC, 0x86DD);
    int length =
        NeighbourDiscovery.writeRouterAdvertisement(
            b,
            ETH,
            LINK_LOCAL[0],
            LINK_LOCAL[1],
            ALL_NODES[0],
            ALL_NODES[1],
            64,
            0,
            1800,
            0,
            0,
            MAC,
            1500);
    return java.util.Arrays.copyOf(b.byteArray(), ETH + length);
  }

  @Test
  void shouldBuildAValidRouterAdvertisement() {
    byte[] frame = routerAdvertisement();
    UnsafeBuffer b = new UnsafeBuffer(frame);
    assertEquals(Ipv6HeaderChain.OK, chain.walk(b, ETH, frame.length - ETH));
    int icmp = chain.upperLayerOffset();
    int length = chain.upperLayerLength();
    assertEquals(32, length);
    assertEquals(NeighbourDiscovery.VALID, NeighbourDiscovery.validate(b, ETH, icmp, length));
    assertEquals(64, NeighbourDiscovery.raCurrentHopLimit(b, icmp));
    assertEquals(1800, NeighbourDiscovery.raRouterLifetime(b, icmp));
    assertEquals(0, NeighbourDiscovery.raFlags(b, icmp));
    assertEquals(0, NeighbourDiscovery.raReachableTime(b, icmp));
    assertEquals(0, NeighbourDiscovery.raRetransTimer(b, icmp));
    assertEquals(1500, NeighbourDiscovery.mtuOption(b, icmp, length));
    assertEquals(
        MAC,
        NeighbourDiscovery.linkLayerAddress(
            b, icmp, length, NeighbourDiscovery.OPTION_SOURCE_LINK_LAYER));
  }

  /** tcpdump decodes our advertisement on its own: its checksum and every field as we meant. */
  @Test
  void shouldBeReadByTcpdumpAsWeMeantIt(@TempDir Path dir) throws Exception {
    Assumptions.assumeTrue(
        Files.isExecutable(Path.of("/usr/bin/tcpdump"))
            || Files.isExecutable(Path.of("/usr/sbin/tcpdump")),
        "tcpdump is not installed (bin/setup installs it)");
    byte[] frame = routerAdvertisement();
    Path pcap = dir.resolve("ra.pcap");
    ByteBuffer file = ByteBuffer.allocate(24 + 16 + frame.length).order(ByteOrder.LITTLE_ENDIAN);
    file.putInt(0xa1b2c3d4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0);
    file.putInt(65535).putInt(1);
    file.putInt(0).putInt(0).putInt(frame.length).putInt(frame.length).put(frame);
    Files.write(pcap, file.array());
    String out = run("tcpdump", "-nr", pcap.toString(), "-vv");
    assertTrue(out.contains("fe80::ff:fe00:101 > ff02::1"), out);
    assertTrue(out.contains("hlim 255"), out);
    assertTrue(out.contains("icmp6 sum ok"), out);
    assertTrue(out.contains("router advertisement"), out);
    assertTrue(out.contains("hop limit 64"), out);
    assertTrue(out.contains("router lifetime 1800s"), out);
    assertTrue(out.contains("02:00:00:00:01:01"), out);
    assertTrue(out.contains("mtu option"), out);
    assertTrue(out.contains("1500"), out);
  }

  private static String run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    return new String(out, StandardCharsets.UTF_8);
  }

  /** The router's NA from the capture, with one thing broken and its checksum made right again. */
  private int validateBroken(int index, java.util.function.BiConsumer<UnsafeBuffer, Integer> edit) {
    byte[] frame = CLIENT.get(index).clone();
    UnsafeBuffer b = new UnsafeBuffer(frame);
    assertEquals(Ipv6HeaderChain.OK, chain.walk(b, ETH, frame.length - ETH));
    int icmp = chain.upperLayerOffset();
    int length = chain.upperLayerLength();
    edit.accept(b, icmp);
    Icmpv6Header.updateChecksum(b, ETH, icmp, length);
    return NeighbourDiscovery.validate(b, ETH, icmp, length);
  }

  @Test
  void shouldRejectEachBrokenRule() {
    int na = 12;
    int ns = 11;
    int dadNs = 1;
    assertEquals(NeighbourDiscovery.VALID, validateBroken(na, (b, icmp) -> {}));
    assertEquals(
        NeighbourDiscovery.BAD_HOP_LIMIT,
        validateBroken(na, (b, icmp) -> Ipv6Header.hopLimit(b, ETH, 254)));
    assertEquals(
        NeighbourDiscovery.BAD_CODE,
        validateBroken(na, (b, icmp) -> b.putByte(icmp + 1, (byte) 1)));
    assertEquals(
        NeighbourDiscovery.BAD_OPTION,
        validateBroken(na, (b, icmp) -> b.putByte(icmp + 25, (byte) 0)));
    assertEquals(
        NeighbourDiscovery.BAD_OPTION,
        validateBroken(na, (b, icmp) -> b.putByte(icmp + 25, (byte) 2)));
    assertEquals(
        NeighbourDiscovery.BAD_TARGET,
        validateBroken(na, (b, icmp) -> b.putByte(icmp + 8, (byte) 0xFF)));
    // A solicited advertisement to a multicast group.
    assertEquals(
        NeighbourDiscovery.BAD_ADDRESSES,
        validateBroken(
            na,
            (b, icmp) ->
                Ipv6Header.address(
                    b, ETH + Ipv6Header.DESTINATION_OFFSET, ALL_NODES[0], ALL_NODES[1])));
    assertEquals(
        NeighbourDiscovery.BAD_TARGET,
        validateBroken(ns, (b, icmp) -> b.putByte(icmp + 8, (byte) 0xFF)));
    // DAD (source ::) must go to a solicited-node group.
    assertEquals(NeighbourDiscovery.VALID, validateBroken(dadNs, (b, icmp) -> {}));
    assertEquals(
        NeighbourDiscovery.BAD_ADDRESSES,
        validateBroken(
            dadNs,
            (b, icmp) ->
                Ipv6Header.address(
                    b, ETH + Ipv6Header.DESTINATION_OFFSET, ALL_NODES[0], ALL_NODES[1])));
    // A router solicitation from :: may not carry a source link-layer option.
    assertEquals(
        NeighbourDiscovery.BAD_ADDRESSES,
        validateBroken(
            8, (b, icmp) -> Ipv6Header.address(b, ETH + Ipv6Header.SOURCE_OFFSET, 0, 0)));
    // A checksum that does not match.
    byte[] frame = CLIENT.get(na).clone();
    frame[frame.length - 1] ^= 1;
    UnsafeBuffer b = new UnsafeBuffer(frame);
    chain.walk(b, ETH, frame.length - ETH);
    assertEquals(
        NeighbourDiscovery.BAD_CHECKSUM,
        NeighbourDiscovery.validate(b, ETH, chain.upperLayerOffset(), chain.upperLayerLength()));
    // Not ND at all, and too short.
    UnsafeBuffer echo = new UnsafeBuffer(CLIENT.get(13));
    assertEquals(NeighbourDiscovery.NOT_ND, NeighbourDiscovery.validate(echo, ETH, ETH + 40, 64));
    assertEquals(NeighbourDiscovery.TOO_SHORT, NeighbourDiscovery.validate(echo, ETH, ETH + 40, 4));
    // An advertisement cut before its target.
    UnsafeBuffer cut = new UnsafeBuffer(CLIENT.get(na).clone());
    Icmpv6Header.updateChecksum(cut, ETH, ETH + 40, 20);
    assertEquals(NeighbourDiscovery.TOO_SHORT, NeighbourDiscovery.validate(cut, ETH, ETH + 40, 20));
  }
}
