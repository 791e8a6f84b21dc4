package net.hydranet.harness.flows;

import static net.hydranet.harness.fixture.SampleTopology.CLIENT0_MAC;
import static net.hydranet.harness.fixture.SampleTopology.CLIENT_MAC;
import static net.hydranet.harness.fixture.SampleTopology.HTTP;
import static net.hydranet.harness.fixture.SampleTopology.ORIGIN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import net.hydranet.forwarding.wire.EthernetHeader;
import net.hydranet.forwarding.wire.Ipv4Header;
import net.hydranet.forwarding.wire.TcpHeader;
import net.hydranet.harness.fixture.Replay;
import net.hydranet.harness.packet.PacketBuilder;
import net.hydranet.harness.trace.Trace;
import net.hydranet.router.cli.ReplayCommand;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * Redirectors behind ECMP make the same choice without talking to each other: the same 10,000 new
 * flows replayed through three independently started pipelines ({@code hydranet replay}, each with
 * its own config file, listing the same three host servers in its own order) come out byte for byte
 * the same; and a fourth pipeline that sees each flow only from its second packet on — a flow
 * rehashed to a redirector that never saw its SYN — sends every flow to the host server the first
 * three chose.
 */
class EcmpSameChoiceTest {
  private static final int FLOWS = 10_000;
  private static final Path OUT = Path.of("target", "ecmp-same-choice");
  private static final String[] HOST_SERVERS = {"198.18.3.2", "198.18.3.3", "198.18.3.4"};
  private static final long START = 1_700_000_000_000_000_000L;
  private static final long FRAME_GAP = 10_000L; // 10 µs

  @Test
  void shouldChooseTheSameHostServerForEveryFlowInThreeIndependentPipelines() throws IOException {
    List<int[]> flows = flows();
    Trace syns = new Trace();
    Trace all = new Trace();
    Trace rehashed = new Trace();
    long t = START;
    for (int[] f : flows) {
      byte[] syn = syn(f);
      byte[] data = data(f);
      syns.add(t, syn);
      all.add(t, syn);
      all.add(t + FRAME_GAP / 2, data);
      rehashed.add(t + FRAME_GAP / 2, data);
      t += FRAME_GAP;
    }
    Path input = OUT.resolve("flows.pcap");
    all.write(input);
    Path rehashedInput = OUT.resolve("rehashed.pcap");
    rehashed.write(rehashedInput);

    // Three redirectors, each its own config and pipeline, the host servers in its own order.
    int[][] orders = {{0, 1, 2}, {2, 0, 1}, {1, 2, 0}};
    List<byte[]> outputs = new ArrayList<>();
    for (int r = 0; r < orders.length; r++) {
      Path output = OUT.resolve("r" + (r + 1) + "-out.pcap");
      Map<String, Long> counters = replay(config("r" + (r + 1), orders[r]), input, output);
      assertEquals(2L * FLOWS, counters.get("redirected"), "r" + (r + 1) + ": " + counters);
      outputs.add(Files.readAllBytes(ReplayCommand.outputFile(output, "hs0")));
    }
    for (int r = 1; r < outputs.size(); r++) {
      assertArrayEquals(
          outputs.get(0), outputs.get(r), "r" + (r + 1) + "'s output differs from r1's");
    }

    // Which host server each flow went to, from r1's output: SYN and data frame alike.
    Trace out = Trace.read(ReplayCommand.outputFile(OUT.resolve("r1-out.pcap"), "hs0"));
    assertEquals(2 * FLOWS, out.size());
    int[] chosen = new int[FLOWS];
    Map<String, Integer> perHostServer = new TreeMap<>();
    for (int i = 0; i < FLOWS; i++) {
      int syn = outerDestination(out.frames().get(2 * i));
      int data = outerDestination(out.frames().get(2 * i + 1));
      assertEquals(syn, data, "flow " + i + ": its data follows its SYN");
      assertEquals(flows.get(i)[1], innerSourcePort(out.frames().get(2 * i)), "frame order");
      chosen[i] = syn;
      perHostServer.merge(Ipv4Header.formatAddress(syn), 1, Integer::sum);
    }
    System.out.println(
        "ECMP same choice: "
            + FLOWS
            + " flows, three pipelines agree byte for byte; per host"
            + " server "
            + perHostServer);
    assertEquals(HOST_SERVERS.length, perHostServer.size(), "every host server chosen");
    for (var e : perHostServer.entrySet()) {
      assertTrue(
          e.getValue() > FLOWS / 4 && e.getValue() < FLOWS * 42 / 100,
          "the hash spreads flows: " + perHostServer);
    }

    // A fourth redirector that never saw the SYNs: every flow still goes where it lives.
    Path output = OUT.resolve("r4-out.pcap");
    Map<String, Long> counters = replay(config("r4", new int[] {2, 1, 0}), rehashedInput, output);
    assertEquals((long) FLOWS, counters.get("redirected"), "r4: " + counters);
    Trace fourth = Trace.read(ReplayCommand.outputFile(output, "hs0"));
    assertEquals(FLOWS, fourth.size());
    int moved = 0;
    for (int i = 0; i < FLOWS; i++) {
      if (outerDestination(fourth.frames().get(i)) != chosen[i]) {
        moved++;
      }
    }
    assertEquals(0, moved, "flows sent elsewhere by a redirector that missed their SYN");
  }

  /** Distinct (client address, source port) pairs from a fixed seed. */
  private static List<int[]> flows() {
    SplittableRandom random = new SplittableRandom(20_261_206);
    Set<Long> seen = new HashSet<>();
    List<int[]> flows = new ArrayList<>();
    while (flows.size() < FLOWS) {
      int client = Ipv4Header.parseAddress("198.18.1.0") + 100 + random.nextInt(100);
      int port = 1024 + random.nextInt(64_000);
      if (seen.add(((long) client << 16) | port)) {
        flows.add(new int[] {client, port});
      }
    }
    return flows;
  }

  private static byte[] syn(int[] flow) {
    return PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
        .ipv4(flow[0], ORIGIN)
        .dontFragment(true)
        .tcp(flow[1], HTTP)
        .flags(TcpHeader.FLAG_SYN)
        .seq(1000)
        .mss(1460)
        .build();
  }

  private static byte[] data(int[] flow) {
    return PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
        .ipv4(flow[0], ORIGIN)
        .dontFragment(true)
        .tcp(flow[1], HTTP)
        .flags(TcpHeader.FLAG_ACK | 0x08) // PSH
        .seq(1001)
        .ack(1)
        .payload(64)
        .build();
  }

  private static int outerDestination(byte[] frame) {
    return Ipv4Header.destination(new UnsafeBuffer(frame), EthernetHeader.LENGTH);
  }

  private static int innerSourcePort(byte[] frame) {
    UnsafeBuffer b = new UnsafeBuffer(frame);
    int outer = EthernetHeader.LENGTH;
    int inner = outer + Ipv4Header.headerLength(b, outer);
    return TcpHeader.sourcePort(b, inner + Ipv4Header.headerLength(b, inner));
  }

  /**
   * {@code config/replay-sample.yaml}'s topology, with three host servers on hs0 listed in {@code
   * order}, and static neighbours so that every run is deterministic.
   */
  private static Path config(String name, int[] order) throws IOException {
    StringBuilder sb = new StringBuilder();
    sb.append("interfaces:\n")
        .append("  - { name: client0, mac: \"02:00:00:00:01:01\", address: 198.18.1.1/24 }\n")
        .append("  - { name: core0, mac: \"02:00:00:00:02:01\", address: 198.18.2.1/24 }\n")
        .append("  - { name: hs0, mac: \"02:00:00:00:03:01\", address: 198.18.3.1/24 }\n")
        .append("neighbours:\n")
        .append("  - { address: 198.18.2.10, mac: \"02:00:00:00:02:0a\" }\n");
    for (int i = 0; i < HOST_SERVERS.length; i++) {
      sb.append("  - { address: ")
          .append(HOST_SERVERS[i])
          .append(", mac: \"02:00:00:00:03:0")
          .append(i + 2)
          .append("\" }\n");
    }
    sb.append("redirects:\n  - service: 198.18.2.10:80/tcp\n    hostServers:\n");
    for (int i : order) {
      sb.append("      - { address: ").append(HOST_SERVERS[i]).append(", weight: 1 }\n");
    }
    sb.append("limits:\n  flowCapacity: 65536\n");
    Files.createDirectories(OUT);
    Path file = OUT.resolve(name + ".yaml");
    Files.writeString(file, sb.toString());
    return file;
  }

  private static Map<String, Long> replay(Path config, Path input, Path output) {
    Replay.Result r = Replay.run(config, input, output);
    assertEquals(0, r.exitCode(), r.out() + r.err());
    return r.counters();
  }
}
