package net.hydranet.harness.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.code_intelligence.jazzer.driver.FuzzedDataProviderImpl;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.harness.fixture.CapturingTxPort;
import net.hydranet.harness.fixture.RedirectorUnderTest;
import net.hydranet.hostserver.HostServerCounter;
import net.hydranet.hostserver.HostServerPath;
import net.hydranet.hostserver.VirtualHostTable;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

/**
 * The fuzz targets rewind one redirector (or host-server path) instead of building one per input
 * ({@link Rewind}): that is only sound if a rewound redirector is indistinguishable from a new one.
 * Every sequence of the corpus, run after all the others on the rewound redirector, must send the
 * same frames and end with the same counters as on a new one.
 */
class RewindTest {
  private static final Path SEQUENCES =
      Path.of(
          "src/test/resources/net/hydranet/harness/fuzz/RedirectorFuzzTestInputs/frameSequence");

  private static final Path IPV6_SEQUENCES =
      Path.of("src/test/resources/net/hydranet/harness/fuzz/RedirectorFuzzTestInputs/ipv6Sequence");

  private static final Path HOST_SERVER_SEQUENCES =
      Path.of(
          "src/test/resources/net/hydranet/harness/fuzz/HostServerFuzzTestInputs/frameSequence");

  @Test
  void shouldAnswerEveryCorpusSequenceLikeANewRedirector() throws IOException {
    assertRewoundAnswersLikeNew(SEQUENCES, false);
  }

  /** The same for the IPv6 sequences (issue 21): the IPv6 path's state is rewound too. */
  @Test
  void shouldAnswerEveryIpv6CorpusSequenceLikeANewRedirector() throws IOException {
    assertRewoundAnswersLikeNew(IPV6_SEQUENCES, true);
  }

  /**
   * Every input of {@code corpus} sends the same frames and counts the same from the rewound
   * redirector as from a new one, twice over, so every input but the first runs after state left by
   * another.
   */
  private static void assertRewoundAnswersLikeNew(Path corpus, boolean ipv6) throws IOException {
    List<Path> inputs;
    try (Stream<Path> files = Files.list(corpus)) {
      inputs = files.sorted().toList();
    }
    for (int round = 0; round < 2; round++) {
      for (Path input : inputs) {
        byte[] bytes = Files.readAllBytes(input);
        RedirectorUnderTest fresh = RedirectorFuzzTest.newRedirector();
        RedirectorUnderTest rewound = RedirectorFuzzTest.rewoundRedirector();
        assertEquals(
            run(fresh, bytes, ipv6), run(rewound, bytes, ipv6), input.getFileName().toString());
      }
    }
  }

  @Test
  void shouldAnswerEveryCorpusSequenceLikeANewHostServerPath() throws IOException {
    List<Path> inputs;
    try (Stream<Path> files = Files.list(HOST_SERVER_SEQUENCES)) {
      inputs = files.sorted().toList();
    }
    for (int round = 0; round < 2; round++) {
      for (Path input : inputs) {
        byte[] bytes = Files.readAllBytes(input);
        List<byte[]> injected = new ArrayList<>();
        VirtualHostTable virtualHosts = new VirtualHostTable();
        Counters counters = new Counters(HostServerCounter.count());
        HostServerPath path = HostServerFuzzTest.newPath(virtualHosts, counters, injected);
        UnsafeBuffer slot = new UnsafeBuffer(BufferUtil.allocateDirectAligned(16_384, 64));
        String fresh = runHostServer(path, counters, virtualHosts, injected, slot, bytes);
        String rewound =
            runHostServer(
                HostServerFuzzTest.rewoundPath(),
                HostServerFuzzTest.COUNTERS,
                HostServerFuzzTest.VIRTUAL_HOSTS,
                HostServerFuzzTest.INJECTED,
                HostServerFuzzTest.SLOT,
                bytes);
        assertEquals(fresh, rewound, input.getFileName().toString());
      }
    }
  }

  private static String runHostServer(
      HostServerPath path,
      Counters counters,
      VirtualHostTable virtualHosts,
      List<byte[]> injected,
      UnsafeBuffer slot,
      byte[] input) {
    StringBuilder trace = new StringBuilder();
    FuzzedDataProviderImpl data = FuzzedDataProviderImpl.withJavaData(input);
    try {
      HostServerFuzzTest.sequence(path, counters, virtualHosts, injected, slot, data);
    } catch (AssertionError e) {
      trace.append(e.getMessage()).append('\n');
    } finally {
      data.close();
    }
    for (byte[] packet : injected) {
      trace.append(RedirectorOracle.hex(packet)).append('\n');
    }
    for (int id = 0; id < HostServerCounter.count(); id++) {
      trace.append(counters.get(id)).append(' ');
    }
    return trace.append("\ncontexts ").append(path.reassembler().inUse()).toString();
  }

  /** What a sequence sent, one line a frame, then every counter. */
  private static List<String> run(RedirectorUnderTest redirector, byte[] input, boolean ipv6) {
    List<CapturingTxPort.Sent> sent = new ArrayList<>();
    FuzzedDataProviderImpl data = FuzzedDataProviderImpl.withJavaData(input);
    try {
      if (ipv6) {
        RedirectorFuzzTest.sequence6(redirector, data, sent);
      } else {
        RedirectorFuzzTest.sequence(redirector, data, sent);
      }
    } catch (AssertionError e) {
      sent.add(new CapturingTxPort.Sent(-1, e.getMessage().getBytes()));
    } finally {
      data.close();
    }
    List<String> trace = new ArrayList<>();
    for (CapturingTxPort.Sent s : sent) {
      trace.add(s.iface() + " " + RedirectorOracle.hex(s.frame()));
    }
    for (Counter c : Counter.values()) {
      trace.add(c.metricName() + " " + redirector.counter(c));
    }
    trace.add("flows " + redirector.plane().path().flows().size());
    trace.add("held " + redirector.plane().path().fragments().held());
    trace.add("pending " + redirector.plane().neighbours().pendingFrames());
    trace.add("flows6 " + redirector.plane().path().ipv6().flows().size());
    trace.add("pending6 " + redirector.plane().path().ipv6().neighbours().pendingFrames());
    return trace;
  }
}
