package net.hydranet.harness.fuzz;

import static net.hydranet.harness.fixture.SampleTopology.*;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.harness.fixture.CapturingTxPort;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.harness.packet.PacketBuilder;
import net.hydranet.harness.trace.Scenarios;
import net.hydranet.harness.trace.Trace;

/**
 * Writes the seed corpus of every fuzz target from real packets: the golden scenarios, the real
 * capture {@code captures/mixed.pcap}, frames made with {@link PacketBuilder}, the tunnel frames
 * the redirector itself sends, and the config files. Seeds are encoded the way each target's {@code
 * FuzzedDataProvider} reads them (libFuzzer's rules: numbers from the end, bytes from the front).
 * Run from the repository root:
 *
 * <pre>
 * java -cp "$(cat /tmp/cp)" net.hydranet.harness.fuzz.FuzzSeeds
 * </pre>
 *
 * (FUZZING.md shows how to get the class path.) Seeds are named {@code seed-*}; inputs that found a
 * bug are named {@code crash-*} by Jazzer and are never overwritten here.
 */
public final class FuzzSeeds {
  private static final String HARNESS =
      "test-harness/src/test/resources/net/hydranet/harness/fuzz/";
  private static final String TABLES =
      "forwarding-plane/src/test/resources/net/hydranet/forwarding/table/";

  private FuzzSeeds() {}

  public static void main(String[] args) throws IOException {
    Path root = RedirectorUnderTest.repositoryRoot();
    Map<String, List<byte[]>> traces = new LinkedHashMap<>();
    for (Map.Entry<String, Trace> e : Scenarios.all().entrySet()) {
      traces.put(e.getKey(), e.getValue().frames());
    }
    traces.put(
        "mixed-pcap",
        Trace.read(root.resolve("test-harness/src/test/resources/captures/mixed.pcap")).frames());
    traces.put("built", built());

    Path raw = root.resolve(HARNESS + "RedirectorFuzzTestInputs/rawFrame");
    Path vlan = root.resolve(HARNESS + "RedirectorFuzzTestInputs/vlanFrame");
    Path sequence = root.resolve(HARNESS + "RedirectorFuzzTestInputs/frameSequence");
    for (Map.Entry<String, List<byte[]>> e : traces.entrySet()) {
      List<byte[]> frames = e.getValue();
      for (int i = 0; i < frames.size(); i++) {
        byte[] f = frames.get(i);
        String name = "seed-" + e.getKey() + "-" + i;
        write(raw.resolve(name), new Seed().front(f).number(ingressOf(f), 1).bytes());
        if (f.length >= EthernetHeader.LENGTH) {
          byte[] rest = java.util.Arrays.copyOfRange(f, 12, f.length);
          write(
              vlan.resolve(name),
              new Seed().front(rest).number(ingressOf(f), 1).number(100, 2).bytes());
        }
      }
      Seed seq = new Seed();
      for (byte[] f : frames) {
        // op RAW, ingress, destination selector (not broadcast), no VLAN, length, then the bytes
        seq.number(RedirectorFuzzTest.FrameOps.RAW, 1)
            .number(ingressOf(f), 1)
            .number(1, 1)
            .number(1, 1)
            .number(Math.min(f.length, RedirectorFuzzTest.FrameOps.RAW_MAX), 2)
            .front(f);
      }
      write(sequence.resolve("seed-" + e.getKey()), seq.bytes());
    }

    // IPv6 (issue 21): every IPv6 frame of the scenarios, the captures and the built ones as one
    // packet for ipv6Frame; every frame of each as a RAW sequence for ipv6Sequence.
    Trace dualStack =
        Trace.read(root.resolve("test-harness/src/test/resources/captures/dual-stack.pcap"));
    traces.put("dual-stack-pcap", dualStack.frames());
    traces.put("built6", built6());
    Path raw6 = root.resolve(HARNESS + "RedirectorFuzzTestInputs/ipv6Frame");
    Path sequence6 = root.resolve(HARNESS + "RedirectorFuzzTestInputs/ipv6Sequence");
    for (Map.Entry<String, List<byte[]>> e : traces.entrySet()) {
      List<byte[]> frames = e.getValue();
      Seed seq = new Seed();
      for (int i = 0; i < frames.size(); i++) {
        byte[] f = frames.get(i);
        if (f.length > EthernetHeader.LENGTH
            && EthernetHeader.type(new org.agrona.concurrent.UnsafeBuffer(f), 0)
                == EthernetHeader.TYPE_IPV6) {
          byte[] packet = java.util.Arrays.copyOfRange(f, EthernetHeader.LENGTH, f.length);
          write(
              raw6.resolve("seed-" + e.getKey() + "-" + i),
              new Seed().front(packet).number(ingressOf(f), 1).bytes());
        }
        // op RAW, ingress, length, then the bytes
        seq.number(RedirectorFuzzTest.Frame6Ops.RAW, 1)
            .number(ingressOf(f), 1)
            .number(Math.min(f.length, RedirectorFuzzTest.FrameOps.RAW_MAX), 2)
            .front(f);
      }
      write(sequence6.resolve("seed-" + e.getKey()), seq.bytes());
    }

    Path host = root.resolve(HARNESS + "HostServerFuzzTestInputs/frameSequence");
    int n = 0;
    for (List<byte[]> tunnel : tunnelFrames()) {
      Seed seq = new Seed();
      for (byte[] f : tunnel) {
        seq.number(0, 1).number(f.length, 2).front(f);
      }
      write(host.resolve("seed-tunnel-" + n++), seq.bytes());
    }

    Path pcap = root.resolve(HARNESS + "ParserFuzzTestInputs/pcapFile");
    Files.createDirectories(pcap);
    for (String capture : List.of("mixed.pcap", "dual-stack.pcap")) {
      Files.copy(
          root.resolve("test-harness/src/test/resources/captures/" + capture),
          pcap.resolve("seed-" + capture),
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    for (Map.Entry<String, Trace> e : Scenarios.all().entrySet()) {
      Trace t = e.getValue();
      Trace small = new Trace();
      for (int i = 0; i < Math.min(3, t.size()); i++) {
        small.add(t.timestamp(i), t.frames().get(i));
      }
      small.write(pcap.resolve("seed-" + e.getKey()));
    }

    Path config = root.resolve(HARNESS + "ParserFuzzTestInputs/configFile");
    try (var files = Files.list(root.resolve("config"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).toList()) {
        write(config.resolve("seed-" + f.getFileName()), Files.readAllBytes(f));
      }
    }

    Random random = new Random(0x5eed);
    for (String method : List.of("redirectorTable", "routeTable")) {
      for (int i = 0; i < 4; i++) {
        byte[] bytes = new byte[2_048];
        random.nextBytes(bytes);
        write(root.resolve(TABLES + "TableFuzzTestInputs/" + method + "/seed-random-" + i), bytes);
      }
    }
  }

  /** The interface whose MAC the frame is sent to, as the golden tests deliver it. */
  private static int ingressOf(byte[] frame) {
    if (frame.length < 6) {
      return 0;
    }
    long mac = 0;
    for (int i = 0; i < 6; i++) {
      mac = (mac << 8) | (frame[i] & 0xFF);
    }
    return mac == CORE0_MAC ? 1 : mac == HS0_MAC ? 2 : 0;
  }

  /** Frames the scenarios do not have: options, VLAN, fragments out of order, ICMP errors. */
  private static List<byte[]> built() {
    List<byte[]> frames = new ArrayList<>();
    PacketBuilder client = PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC);
    frames.add(
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .vlan(7)
            .ipv4(CLIENT, ORIGIN)
            .tcp(40000, HTTP)
            .flags(0x02)
            .mss(1460)
            .build());
    frames.add(
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv4(CLIENT, ORIGIN)
            .options(new byte[] {1, 1, 1, 0})
            .udp(5353, DNS)
            .payload(40)
            .build());
    frames.add(
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv4(CLIENT, ORIGIN)
            .id(9)
            .protocol(17)
            .moreFragments(false)
            .fragmentOffset(1480)
            .ipPayload(new byte[100])
            .build());
    frames.add(
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv4(CLIENT, ORIGIN)
            .id(9)
            .protocol(17)
            .moreFragments(true)
            .ipPayload(new byte[1480])
            .build());
    byte[] quoted =
        java.util.Arrays.copyOfRange(
            PacketBuilder.ethernet(0, 0).ipv4(ORIGIN, CLIENT).udp(53, 5353).build(),
            EthernetHeader.LENGTH,
            EthernetHeader.LENGTH + 28);
    frames.add(
        PacketBuilder.ethernet(ORIGIN_MAC, CORE0_MAC)
            .ipv4(ORIGIN, CLIENT)
            .icmpError(3, 3, 0, quoted)
            .build());
    frames.add(
        PacketBuilder.ethernet(CLIENT_MAC, EthernetHeader.BROADCAST)
            .arpRequest(CLIENT_MAC, CLIENT, CLIENT0_IP)
            .build());
    frames.add(client.ipv4(CLIENT, CLIENT0_IP).icmpEcho(1, 1).payload(56).build());
    return frames;
  }

  /**
   * IPv6 frames the scenarios and captures do not have: a SYN with MSS and a UDP datagram to the
   * IPv6 services (IPv6-in-IPv6 and IPv6-in-IPv4), an extension-header chain, a fragmented datagram
   * in reverse order, an ICMPv6 error quoting a service's flow, a solicitation for the router's
   * address, an echo request to it, hop limit 1, IPv6 in IPv4 and in IPv6.
   */
  private static List<byte[]> built6() {
    List<byte[]> frames = new ArrayList<>();
    frames.add(
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv6(CLIENT6, ORIGIN6)
            .tcp(40000, HTTP)
            .flags(0x02)
            .mss(1440)
            .build());
    frames.add(
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv6(CLIENT6, ORIGIN6)
            .udp(5353, RedirectorFuzzTest.SIX_IN_FOUR_PORT)
            .payload(40)
            .build());
    frames.add(
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv6(CLIENT6, ORIGIN6)
            .extensionHeader(0, 8)
            .extensionHeader(60, 16)
            .extensionHeader(43, 8)
            .tcp(40001, HTTP)
            .payload(100)
            .build());
    byte[] datagram =
        PacketBuilder.ethernet(0, 0).ipv6(CLIENT6, ORIGIN6).udp(5354, 9).payload(2_000).build();
    byte[] data =
        java.util.Arrays.copyOfRange(datagram, EthernetHeader.LENGTH + 40, datagram.length);
    for (int offset = 1_448; offset >= 0; offset -= 1_448) {
      int end = Math.min(data.length, offset + 1_448);
      frames.add(
          PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
              .ipv6(CLIENT6, ORIGIN6)
              .ipv6Fragment(offset, end < data.length, 7)
              .nextHeader(17)
              .ipPayload(java.util.Arrays.copyOfRange(data, offset, end))
              .build());
    }
    byte[] quoted = PacketBuilder.ethernet(0, 0).ipv6(ORIGIN6, CLIENT6).tcp(HTTP, 40000).build();
    frames.add(
        PacketBuilder.ethernet(UPSTREAM_MAC, CORE0_MAC)
            .ipv6("2001:2:0:2::254", ORIGIN6)
            .icmpv6Error(
                1, 3, 0, java.util.Arrays.copyOfRange(quoted, EthernetHeader.LENGTH, quoted.length))
            .build());
    byte[] target = new byte[24];
    long[] router = net.hydranet.forwarding.wire.Ipv6Header.parseAddress(CLIENT0_IP6);
    net.hydranet.forwarding.wire.Ipv6Header.address(
        new org.agrona.concurrent.UnsafeBuffer(target), 0, router[0], router[1]);
    target[16] = 1;
    target[17] = 1;
    RedirectorFuzzTest.writeMac(target, 18, CLIENT_MAC);
    frames.add(
        PacketBuilder.ethernet(CLIENT_MAC, 0x3333_ff00_0001L)
            .ipv6(CLIENT6, "ff02::1:ff00:1")
            .hopLimit(255)
            .icmpv6Error(135, 0, 0, target)
            .build());
    frames.add(
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv6(CLIENT6, CLIENT0_IP6)
            .icmpv6Echo(1, 1)
            .payload(56)
            .build());
    frames.add(
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv6(CLIENT6, ORIGIN6)
            .hopLimit(1)
            .udp(5355, 9)
            .build());
    byte[] inner =
        PacketBuilder.ethernet(0, 0).ipv6(CLIENT6, ORIGIN6).udp(5356, 9).payload(20).build();
    byte[] innerPacket = java.util.Arrays.copyOfRange(inner, EthernetHeader.LENGTH, inner.length);
    frames.add(
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv4(CLIENT, ORIGIN)
            .protocol(41)
            .ipPayload(innerPacket)
            .build());
    frames.add(
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv6(CLIENT6, ORIGIN6)
            .nextHeader(41)
            .ipPayload(innerPacket)
            .build());
    return frames;
  }

  /** What the redirector sends to the host server for the redirection and fragmentation runs. */
  private static List<List<byte[]>> tunnelFrames() {
    List<List<byte[]>> runs = new ArrayList<>();
    for (String scenario : List.of("redirection", "fragmentation")) {
      RedirectorUnderTest redirector = new RedirectorUnderTest();
      List<byte[]> tunnel = new ArrayList<>();
      for (byte[] f : Scenarios.all().get(scenario).frames()) {
        for (CapturingTxPort.Sent s : redirector.receive(ingressOf(f), f)) {
          if (s.iface() == HS0) {
            tunnel.add(s.frame());
          }
        }
      }
      runs.add(tunnel);
      List<byte[]> reversed = new ArrayList<>(tunnel);
      java.util.Collections.reverse(reversed);
      runs.add(reversed);
    }
    byte[] inner =
        java.util.Arrays.copyOfRange(
            PacketBuilder.ethernet(0, 0).ipv4(CLIENT, ORIGIN).udp(5353, DNS).payload(2_000).build(),
            EthernetHeader.LENGTH,
            EthernetHeader.LENGTH + 2_028);
    List<byte[]> fragments = new ArrayList<>();
    for (int offset = 1_480; offset >= 0; offset -= 1_480) {
      int end = Math.min(inner.length, offset + 1_480);
      fragments.add(
          PacketBuilder.ethernet(HS0_MAC, HOST_SERVER_MAC)
              .ipv4(HS0_IP, HOST_SERVER)
              .id(77)
              .moreFragments(end < inner.length)
              .fragmentOffset(offset)
              .ipPayload(java.util.Arrays.copyOfRange(inner, offset, end))
              .build());
    }
    runs.add(fragments);
    return runs;
  }

  private static void write(Path file, byte[] bytes) throws IOException {
    Files.createDirectories(file.getParent());
    Files.write(file, bytes);
  }

  /**
   * A FuzzedDataProvider input, written in the order the target consumes it: bytes taken with
   * consumeBytes come from the front; numbers from the back, the first consumed last in the file,
   * each big-endian as libFuzzer's ConsumeIntegralInRange assembles it.
   */
  static final class Seed {
    private final ByteArrayOutputStream front = new ByteArrayOutputStream();
    private final ByteArrayOutputStream back = new ByteArrayOutputStream();

    Seed front(byte[] bytes) {
      front.writeBytes(bytes);
      return this;
    }

    /** A number consumed as {@code width} bytes, already relative to the range's minimum. */
    Seed number(int value, int width) {
      for (int i = width - 1; i >= 0; i--) {
        back.write(value >>> (8 * i));
      }
      return this;
    }

    byte[] bytes() {
      byte[] tail = back.toByteArray();
      byte[] out = java.util.Arrays.copyOf(front.toByteArray(), front.size() + tail.length);
      for (int i = 0; i < tail.length; i++) {
        out[front.size() + i] = tail[tail.length - 1 - i];
      }
      return out;
    }
  }
}
