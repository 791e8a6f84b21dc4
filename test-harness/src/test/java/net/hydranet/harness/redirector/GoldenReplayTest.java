package net.hydranet.harness.redirector;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import net.hydranet.forwarding.element.IpReassembler;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.Ipv6Header;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.harness.fixture.Replay;
import net.hydranet.harness.packet.Frames;
import net.hydranet.harness.trace.FrameSummary;
import net.hydranet.harness.trace.Scenarios;
import net.hydranet.harness.trace.Trace;
import net.hydranet.router.cli.ReplayCommand;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Golden pcap tests: each generated scenario goes through {@code hydranet replay} — the real
 * pipeline, its threads and the pcap file I/O — and what comes out, per interface, is compared line
 * by line with {@code src/test/resources/golden/<scenario>.expect}: one readable summary per frame
 * ending in a hash of its bytes, so the comparison is byte-exact. Every frame out is also checked
 * against invariants a router owes. Run with {@code -Dgolden.update=true} to rewrite the
 * expectations after a deliberate change, and read the diff.
 */
class GoldenReplayTest {
  private static final String[] INTERFACES = {"client0", "core0", "hs0"};
  private static final Path OUT = Path.of("target", "golden");

  static Stream<String> scenarios() {
    return Scenarios.all().keySet().stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scenarios")
  void shouldReplayAsTheGoldenFileSays(String scenario) throws IOException {
    assertGolden(scenario, configPath(), Scenarios.all().get(scenario));
  }

  /**
   * IPv6-in-IPv4 (protocol 41), the design's default encapsulation: the sample's IPv6 service with
   * its host server given as hs0's IPv4 twin, 198.18.3.2, instead of 2001:2:0:3::2.
   */
  @Test
  void shouldTunnelIpv6InIpv4ToAnIpv4HostServerAsTheGoldenFileSays() throws IOException {
    Files.createDirectories(OUT);
    String sample = Files.readString(configPath());
    String ipv6HostServer = "- { address: \"2001:2:0:3::2\", weight: 1 }";
    assertTrue(sample.contains(ipv6HostServer), "the sample's IPv6 service");
    Path config = OUT.resolve("replay-sample-6in4.yaml");
    Files.writeString(
        config, sample.replace(ipv6HostServer, "- { address: 198.18.3.2, weight: 1 }"));
    assertGolden("ipv6-6in4", config, Scenarios.ipv6In4());
  }

  /** Each malformed IPv6 packet of its scenario is dropped under the reason it names. */
  @Test
  void shouldCountEachMalformedIpv6PacketUnderItsReason() throws IOException {
    Files.createDirectories(OUT);
    Path input = OUT.resolve("ipv6-malformed-count.pcap");
    Scenarios.all().get("ipv6-malformed").write(input);
    Map<String, Long> counters =
        new Replay.Result(0, replay(input, OUT.resolve("ipv6-malformed-count-out.pcap")), "")
            .counters();
    assertEquals(
        2L, counters.get("drop_ipv6_truncated"), "cut in the fixed or an extension header");
    assertEquals(2L, counters.get("drop_ipv6_bad_payload_length"), "beyond the frame: " + counters);
    assertEquals(2L, counters.get("drop_ipv6_bad_extension_headers"), "misordered, repeated");
    assertEquals(1L, counters.get("drop_bad_ip_version"), "version 4 in an IPv6 frame");
    assertEquals(7L, counters.get("forwarded"), "every good packet after a bad one");
  }

  private static void assertGolden(String scenario, Path config, Trace trace) throws IOException {
    Path input = OUT.resolve(scenario + ".pcap");
    trace.write(input);
    Path output = OUT.resolve(scenario + "-out.pcap");
    String printed = replay(config, input, output);

    StringBuilder actual = new StringBuilder();
    for (String iface : INTERFACES) {
      Trace out = Trace.read(ReplayCommand.outputFile(output, iface));
      for (byte[] frame : out.frames()) {
        actual.append(iface).append(": ").append(FrameSummary.of(frame)).append('\n');
        assertInvariants(frame);
      }
    }
    assertTrue(printed.contains("accounting: rx_frames="), printed);
    assertAccountingHolds(printed);

    Path expectFile =
        RedirectorUnderTest.repositoryRoot()
            .resolve("test-harness/src/test/resources/golden/" + scenario + ".expect");
    if (Boolean.getBoolean("golden.update") || !Files.exists(expectFile)) {
      Files.writeString(expectFile, actual.toString());
      if (!Boolean.getBoolean("golden.update")) {
        fail("no golden file yet: wrote " + expectFile + "; read it, commit it, run again");
      }
    }
    assertEquals(
        Files.readString(expectFile), actual.toString(), "output differs from " + expectFile);
  }

  @Test
  void shouldFragmentIntoPiecesThatReassembleToTheTunnelledDatagram() throws IOException {
    Path input = OUT.resolve("fragmentation-check.pcap");
    Trace in = Scenarios.all().get("fragmentation");
    in.write(input);
    Path output = OUT.resolve("fragmentation-check-out.pcap");
    replay(input, output);
    Trace out = Trace.read(ReplayCommand.outputFile(output, "hs0"));
    IpReassembler reassembler = new IpReassembler(4, 9100, Long.MAX_VALUE / 4);
    List<byte[]> datagrams = new ArrayList<>();
    for (byte[] frame : out.frames()) {
      assertTrue(frame.length - 14 <= 1500, "each fragment fits the MTU");
      int result = reassembler.offer(new UnsafeBuffer(frame), 14, 0);
      if (result == IpReassembler.COMPLETE) {
        byte[] d = new byte[Ipv4Header.totalLength(reassembler.buffer(), 0)];
        reassembler.buffer().getBytes(0, d);
        datagrams.add(d);
      }
    }
    assertEquals(2, datagrams.size(), "both datagrams reassemble");
    for (int i = 0; i < 2; i++) {
      byte[] sent = in.frames().get(i);
      byte[] inner = Arrays.copyOfRange(datagrams.get(i), 20, datagrams.get(i).length);
      byte[] expected = Arrays.copyOfRange(sent, 14, sent.length);
      // The only change to the inner datagram is TTL − 1 with its checksum patched.
      expected[8]--;
      Ipv4Header.updateChecksum(new UnsafeBuffer(expected), 0);
      assertArrayEquals(expected, inner, "reassembled inner datagram " + i);
      assertEquals(Ipv4Header.PROTOCOL_IPIP, datagrams.get(i)[9]);
    }
  }

  @Test
  void shouldFailWithOneLineForACorruptCaptureAndABadConfig() throws IOException {
    Path corrupt = OUT.resolve("corrupt.pcap");
    Scenarios.all().get("forwarding").write(corrupt);
    byte[] bytes = Files.readAllBytes(corrupt);
    Files.write(corrupt, Arrays.copyOf(bytes, bytes.length - 30));
    String err = replayExpectingError(configPath(), corrupt);
    assertTrue(err.contains("corrupt.pcap") && err.contains("record"), err);
    assertEquals(1, err.strip().lines().count(), "one line: " + err);

    Path badConfig = OUT.resolve("bad.yaml");
    Files.writeString(
        badConfig,
        "interfaces:\n  - name: eth0\n    mac: \"02:00:00:00:00:01\"\n    address: 198.18.0.1/24\n    mtu: 70000\n");
    err = replayExpectingError(badConfig, corrupt);
    assertTrue(err.contains("bad.yaml") && err.contains("mtu"), err);
    assertEquals(1, err.strip().lines().count(), "one line: " + err);

    err = replayExpectingError(OUT.resolve("missing.yaml"), corrupt);
    assertTrue(err.contains("missing.yaml") && err.contains("no such file"), err);
  }

  private static Path configPath() {
    return RedirectorUnderTest.repositoryRoot().resolve("config/replay-sample.yaml");
  }

  private static String replay(Path input, Path output) {
    return replay(configPath(), input, output);
  }

  private static String replay(Path config, Path input, Path output) {
    Replay.Result r = Replay.run(config, input, output);
    assertEquals(0, r.exitCode(), r.out() + r.err());
    return r.out();
  }

  private static String replayExpectingError(Path config, Path input) {
    Replay.Result r = Replay.run(config, input, OUT.resolve("err-out.pcap"));
    assertEquals(2, r.exitCode(), r.err());
    // Neither printed (tab-indented frames) nor logged (a log line's stack= value).
    assertTrue(
        !r.err().contains("\tat ") && !r.err().contains(" stack="), "no stack trace: " + r.err());
    return r.err();
  }

  /** What a router owes every frame it sends. */
  private static void assertInvariants(byte[] frame) {
    UnsafeBuffer frameBuffer = new UnsafeBuffer(frame);
    if (EthernetHeader.type(frameBuffer, 0) == EthernetHeader.TYPE_IPV6) {
      assertIpv6Invariants(frameBuffer, frame.length);
      return;
    }
    int ip = Frames.ipv4Offset(frame);
    if (ip == Frames.NOT_IPV4) {
      return;
    }
    UnsafeBuffer b = new UnsafeBuffer(frame);
    assertTrue(Frames.ipChecksumValid(frame), "IPv4 header checksum");
    assertEquals(frame.length - ip, Ipv4Header.totalLength(b, ip), "total length matches bytes");
    assertTrue(frame.length - ip <= 1500, "fits the egress MTU");
    assertTrue(Frames.checksumsValid(frame), "transport checksums");
  }

  /**
   * IPv6: the payload length matches the bytes, the packet fits the MTU, and an ICMPv6, TCP or UDP
   * message right after the fixed header has a valid checksum over the pseudo-header.
   */
  private static void assertIpv6Invariants(UnsafeBuffer b, int length) {
    int ip = EthernetHeader.LENGTH;
    assertEquals(length - ip, Ipv6Header.LENGTH + Ipv6Header.payloadLength(b, ip), "plen");
    assertTrue(length - ip <= 1500, "fits the egress MTU");
    int next = Ipv6Header.nextHeader(b, ip);
    if (next == Ipv6Header.NEXT_HEADER_ICMPV6
        || next == Ipv6Header.NEXT_HEADER_TCP
        || next == Ipv6Header.NEXT_HEADER_UDP) {
      assertTrue(
          Ipv6Header.verifyUpperLayer(
              b, ip, ip + Ipv6Header.LENGTH, Ipv6Header.payloadLength(b, ip), next),
          "upper-layer checksum");
    }
  }

  private static void assertAccountingHolds(String printed) {
    Map<String, Long> counters = new Replay.Result(0, printed, "").counters();
    assertEquals(counters.get("rx_frames"), counters.get("outcomes"), printed);
  }
}
