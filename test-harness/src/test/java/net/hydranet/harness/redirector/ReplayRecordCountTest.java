package net.hydranet.harness.redirector;

import static net.hydranet.harness.fixture.SampleTopology.CLIENT0_IP6;
import static net.hydranet.harness.fixture.SampleTopology.CLIENT0_MAC;
import static net.hydranet.harness.fixture.SampleTopology.CLIENT6;
import static net.hydranet.harness.fixture.SampleTopology.CLIENT_MAC;
import static net.hydranet.harness.fixture.SampleTopology.ORIGIN6;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.harness.fixture.Replay;
import net.hydranet.harness.packet.PacketBuilder;
import net.hydranet.harness.trace.Trace;
import org.junit.jupiter.api.Test;

/**
 * {@code hydranet replay} accounts for every record of its input: a record longer than a ring slot
 * is skipped (never truncated), and the summary says how many, so records = rx_frames + skipped.
 * Found replaying gopacket's loopback capture (DualStackCaptureReplayTest), whose 16 KiB segments
 * vanished from the counts without a word.
 */
class ReplayRecordCountTest {
  private static final Path OUT = Path.of("target", "replay-record-count");

  @Test
  void shouldCountRecordsTooLongForASlot() throws IOException {
    Trace trace = new Trace();
    trace.add(
        1_000_000_000L,
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv6(CLIENT6, CLIENT0_IP6)
            .icmpv6Echo(1, 1)
            .payload(56)
            .build());
    trace.add(
        2_000_000_000L,
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv6(CLIENT6, ORIGIN6)
            .udp(5353, 9)
            .payload(16_000)
            .build());
    trace.add(
        3_000_000_000L,
        PacketBuilder.ethernet(CLIENT_MAC, CLIENT0_MAC)
            .ipv6(CLIENT6, ORIGIN6)
            .udp(5353, 9)
            .payload(100)
            .build());
    Path input = OUT.resolve("oversize.pcap");
    trace.write(input);

    Replay.Result r =
        Replay.run(
            RedirectorUnderTest.repositoryRoot().resolve("config/replay-sample.yaml"),
            input,
            OUT.resolve("out.pcap"));

    assertEquals(0, r.exitCode(), r.out() + r.err());
    Map<String, Long> counters = r.counters();
    assertEquals(3L, counters.get("records"), r.out());
    assertEquals(1L, counters.get("skipped"), r.out());
    assertEquals(2L, counters.get("rx_frames"), r.out());
    assertEquals(counters.get("rx_frames"), counters.get("outcomes"), r.out());
  }
}
