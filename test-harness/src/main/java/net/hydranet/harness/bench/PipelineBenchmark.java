package net.hydranet.harness.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.TimeUnit;
import net.hydranet.forwarding.ForwardingPlane;
import net.hydranet.forwarding.counter.Counter;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.pipeline.ForwardingPath;
import net.hydranet.forwarding.pipeline.FrameSlot;
import net.hydranet.forwarding.pipeline.Pipeline;
import net.hydranet.harness.fixture.SampleTopology;
import net.hydranet.router.metrics.ForwardingMetrics;
import net.hydranet.router.metrics.MetricsEndpoint;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The redirector's element chain without I/O or threads: one packet per operation, so ops/µs is
 * Mpps per core and µs/op (or ns/op with {@code -tu ns}) is the time a packet takes. See
 * BENCHMARKS.md for the figures and how to rerun them.
 *
 * <p>Each operation copies the next of {@link BenchFrames#COUNT} prebuilt frames (one flow each)
 * into a ring-like slot after {@link FrameSlot#HEADROOM} bytes of headroom, then runs {@link
 * ForwardingPath#process}: processing rewrites the frame in place (TTL, encapsulation), so the copy
 * is needed, and {@link FrameCopyBenchmark} measures it alone. Ports discard, counting only.
 *
 * <ul>
 *   <li>{@code forward}: TCP to the origin's port 8080, routed out of core0 (MTU 1500).
 *   <li>{@code redirect}: TCP to the origin's port 80, encapsulated to the host server out of hs0,
 *       whose MTU is 9000 here so no size fragments (a 1500-byte frame is a 1506-byte tunnel
 *       datagram).
 *   <li>{@code forward6}, {@code redirect6}: the same for IPv6 (issue 21), from 2001:2:0:1::10 to
 *       the origin 2001:2:0:2::10, the redirect in IPv6-in-IPv6 to the sample's IPv6 host server
 *       (hs0's MTU 9000 again). The smallest IPv6 TCP frame is 74 bytes (40-byte header), so {@code
 *       size} 64 means 74 for these two; flows {@code 1K} only.
 *   <li>{@code redirectFragment}: the same, DF clear, with hs0's MTU set so the tunnel datagram
 *       just exceeds it and is cut in two: MTU 576 for 576-byte frames (582-byte tunnel datagram),
 *       1500 for 1500-byte frames (1506). A 64-byte frame (70-byte tunnel datagram) cannot exceed
 *       the smallest MTU the config accepts (576), so that combination is refused in setup.
 * </ul>
 *
 * <p>{@code flows} says what the connection table holds and which flows the frames belong to:
 *
 * <ul>
 *   <li>{@code 1K} (the default): the 1,024 prebuilt frames above, each flow pinned in the table by
 *       the setup pass; the table's entries stay in cache.
 *   <li>{@code 1M}: the table full — {@link FlowFrames#FLOWS} live flows opened by their SYNs in
 *       setup, half to the redirected service and half to the forwarded port — and frames drawn in
 *       random order from the mode's half ({@link FlowFrames}), so every probe is cache-cold.
 *   <li>{@code 0}: the same frames with the table off ({@code flowCapacity: 0}): each takes the
 *       path it takes with an empty table (probe, not found; a redirect then the consistent hash),
 *       and nothing is recorded, so the table stays empty. The baseline for {@code 1M}.
 * </ul>
 *
 * <p>In {@code 0} and {@code 1M} each packet is preceded by {@link ForwardingPath#tick}, as the
 * pipeline does before every frame, with a clock that advances {@link #NANOS_PER_PACKET} a packet
 * (a 10 Mpps link): the table's idle timers and recency see time pass as they would in service.
 */
@State(Scope.Thread)
@BenchmarkMode({Mode.Throughput, Mode.AverageTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class PipelineBenchmark {
  @Param({"forward", "redirect", "redirectFragment", "forward6", "redirect6"})
  public String mode;

  @Param({"64", "576", "1500"})
  public int size;

  /**
   * "1s": a Prometheus-style scrape of the plane's /metrics over HTTP every second from another
   * thread while the benchmark runs (issue "Operations": scraping must cost the data path nothing
   * measurable). Compare with {@code -p scrape=off,1s} in one run.
   */
  @Param({"off"})
  public String scrape;

  /** "1K", "1M" or "0": see the class comment. Compare with {@code -p flows=0,1M} in one run. */
  @Param({"1K"})
  public String flows;

  /**
   * How frames reach the path. {@code off} (the default): one slot, each frame processed as it is
   * copied, as before. {@code on}: as the pipeline's forwarding thread takes a ring batch — {@link
   * #BATCH} frames, each in its own slot, handed to {@link ForwardingPath#prefetch} and their noted
   * table lines read together ({@link ForwardingPath#loadPrefetched}), pass one; then each
   * operation processes one of them, pass two. {@code batch}: the same slots and batches without
   * pass one, the control. Compare with {@code -p lookAhead=off,on} (and {@code batch}) in one run.
   */
  @Param({"off"})
  public String lookAhead = "off";

  /** Frames a look-ahead batch holds: the pipeline's window. */
  static final int BATCH = Pipeline.LOOK_AHEAD;

  /** The modelled clock of the {@code 0} and {@code 1M} variants: a packet every 100 ns. */
  static final long NANOS_PER_PACKET = 100;

  private MetricsEndpoint metrics;
  private Thread scraper;

  private ForwardingPlane plane;
  private ForwardingPath path;
  private BenchFrames frames;
  private FlowFrames flowFrames;
  private int count;
  private UnsafeBuffer slot;
  private int next;
  private long now = BenchFrames.START_NANOS;
  private UnsafeBuffer[] batch;
  private final int[] batchLength = new int[BATCH];
  private int batchNext = BATCH;
  private boolean prefetch;
  private long prefetchedLines;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    int hostServerMtu;
    switch (mode) {
      case "forward", "forward6" -> hostServerMtu = SampleTopology.MTU; // not used by forwarded
      case "redirect", "redirect6" -> hostServerMtu = 9000;
      case "redirectFragment" -> {
        if (size < 576) {
          throw new IllegalArgumentException(
              "redirectFragment needs a tunnel datagram over the smallest MTU (576);"
                  + " a "
                  + size
                  + "-byte frame never fragments: run with -p size=576,1500");
        }
        hostServerMtu = size == 576 ? 576 : 1500;
      }
      default -> throw new IllegalArgumentException("unknown mode " + mode);
    }
    BenchFrames.DiscardPort[] ports = new BenchFrames.DiscardPort[3];
    int flowCapacity;
    switch (flows) {
      case "1K" -> flowCapacity = FlowFrames.FLOWS;
      case "1M" -> flowCapacity = FlowFrames.FLOWS;
      case "0" -> flowCapacity = 0;
      default -> throw new IllegalArgumentException("unknown flows " + flows + ": 1K, 1M or 0");
    }
    plane = BenchFrames.plane(hostServerMtu, flowCapacity, ports);
    path = plane.path();
    slot = BenchFrames.slot();
    switch (lookAhead) {
      case "off" -> batch = null;
      case "on", "batch" -> {
        batch = new UnsafeBuffer[BATCH];
        for (int j = 0; j < BATCH; j++) {
          batch[j] = BenchFrames.slot();
        }
        prefetch = "on".equals(lookAhead);
      }
      default ->
          throw new IllegalArgumentException("unknown lookAhead " + lookAhead + ": off, on, batch");
    }
    boolean ipv6 = mode.endsWith("6");
    if (ipv6 && !"1K".equals(flows)) {
      throw new IllegalArgumentException(mode + " runs with flows=1K only");
    }
    if (ipv6) {
      frames = BenchFrames.build6("redirect6".equals(mode), Math.max(size, BenchFrames.MIN_IPV6));
      count = BenchFrames.COUNT;
    } else if ("1K".equals(flows)) {
      frames = BenchFrames.build(!"forward".equals(mode), size);
      count = BenchFrames.COUNT;
    } else {
      flowFrames = FlowFrames.data(!"forward".equals(mode), size, 42);
      count = flowFrames.count;
      if ("1M".equals(flows)) {
        FlowFrames.openAll(path, slot);
      }
    }
    long created = plane.counters().get(Counter.FLOWS_CREATED);
    checkEveryFrameTakesItsPath();
    checkFlowTable(created);
    if ("1s".equals(scrape)) {
      startScraping();
    }
  }

  /** Serves the plane's metrics as the redirector does; returns the scrape URL. */
  URI startEndpoint() {
    metrics = MetricsEndpoint.start("127.0.0.1:0");
    new ForwardingMetrics(metrics.registry(), plane)
        .services(List.of(new int[] {SampleTopology.ORIGIN, 6, SampleTopology.HTTP}));
    return URI.create("http://127.0.0.1:" + metrics.address().getPort() + "/metrics");
  }

  private void startScraping() {
    URI uri = startEndpoint();
    HttpClient client = HttpClient.newHttpClient();
    scraper =
        new Thread(
            () -> {
              while (!Thread.currentThread().isInterrupted()) {
                try {
                  client.send(
                      HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.discarding());
                  Thread.sleep(1_000);
                } catch (InterruptedException e) {
                  return;
                } catch (java.io.IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              }
            },
            "scraper");
    scraper.setDaemon(true);
    scraper.start();
  }

  /** One pass over every frame must end the way the mode says, or the figures mean nothing. */
  private void checkEveryFrameTakesItsPath() {
    Counters c = plane.counters();
    long forwarded = c.get(Counter.FORWARDED);
    long redirected = c.get(Counter.REDIRECTED);
    long fragmented = c.get(Counter.FRAGMENTED_DATAGRAMS);
    long tx = c.get(Counter.TX_FRAMES);
    long lines = prefetchedLines;
    for (int i = 0; i < count; i++) {
      process();
    }
    long n = count;
    // With the look-ahead on, each of these frames (TCP to a service address) has its line read
    // ahead at 1M flows; none with the table off or in cache (1K), nor IPv6 frames (1K only).
    long wantLines = prefetch && "1M".equals(flows) ? n : 0;
    if (prefetchedLines - lines != wantLines) {
      throw new IllegalStateException(
          "lookAhead="
              + lookAhead
              + "/flows="
              + flows
              + ": "
              + (prefetchedLines - lines)
              + " table lines read ahead for "
              + n
              + " frames, wanted "
              + wantLines);
    }
    boolean ok =
        switch (mode) {
          case "forward", "forward6" ->
              c.get(Counter.FORWARDED) - forwarded == n && c.get(Counter.TX_FRAMES) - tx == n;
          case "redirect", "redirect6" ->
              c.get(Counter.REDIRECTED) - redirected == n
                  && c.get(Counter.FRAGMENTED_DATAGRAMS) == fragmented
                  && c.get(Counter.TX_FRAMES) - tx == n;
          default ->
              c.get(Counter.REDIRECTED) - redirected == n
                  && c.get(Counter.FRAGMENTED_DATAGRAMS) - fragmented == n
                  && c.get(Counter.TX_FRAMES) - tx == 2 * n;
        };
    if (!ok) {
      throw new IllegalStateException(
          mode
              + "/"
              + size
              + ": frames did not take the intended path: forwarded "
              + (c.get(Counter.FORWARDED) - forwarded)
              + ", redirected "
              + (c.get(Counter.REDIRECTED) - redirected)
              + ", fragmented "
              + (c.get(Counter.FRAGMENTED_DATAGRAMS) - fragmented)
              + ", tx "
              + (c.get(Counter.TX_FRAMES) - tx)
              + ", drops "
              + c.drops());
    }
  }

  /**
   * With {@code 1M} the table must be full and every frame must have found its flow (none created,
   * none evicted); with {@code 0} it must hold nothing.
   */
  private void checkFlowTable(long createdBefore) {
    Counters c = plane.counters();
    int held = path.flows().size();
    boolean ok =
        switch (flows) {
          case "1M" ->
              held == FlowFrames.FLOWS
                  && c.get(Counter.FLOWS_CREATED) == createdBefore
                  && c.get(Counter.FLOWS_EVICTED) == 0;
          case "0" -> held == 0 && c.get(Counter.FLOWS_CREATED) == 0;
          default -> true;
        };
    if (!ok) {
      throw new IllegalStateException(
          mode
              + "/flows="
              + flows
              + ": table holds "
              + held
              + ", created "
              + (c.get(Counter.FLOWS_CREATED) - createdBefore)
              + " in the check pass, evicted "
              + c.get(Counter.FLOWS_EVICTED));
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (scraper != null) {
      scraper.interrupt();
    }
    if (metrics != null) {
      metrics.close();
    }
    if (plane.counters().drops() != 0) {
      throw new IllegalStateException(mode + "/" + size + ": drops during the run");
    }
    plane.close();
  }

  /**
   * Copy one frame into the slot and run it through the element chain; with {@code lookAhead} on or
   * batch, run the next frame of the current batch, filling the next batch first when it is done.
   */
  @Benchmark
  public void process() {
    if (batch != null) {
      processBatched();
      return;
    }
    int i = next;
    next = (i + 1) & (count - 1);
    int length;
    if (flowFrames == null) {
      length = frames.length;
      slot.putBytes(FrameSlot.HEADROOM, frames.frames, frames.offset(i), length);
    } else {
      length = flowFrames.length;
      flowFrames.write(slot, i);
      now += NANOS_PER_PACKET;
      path.tick(now);
    }
    path.process(slot, FrameSlot.HEADROOM, length, SampleTopology.CLIENT0);
  }

  private void processBatched() {
    if (batchNext == BATCH) {
      fillBatch();
      batchNext = 0;
    }
    int j = batchNext++;
    if (flowFrames != null) {
      now += NANOS_PER_PACKET;
      path.tick(now);
    }
    path.process(batch[j], FrameSlot.HEADROOM, batchLength[j], SampleTopology.CLIENT0);
  }

  /** The next {@link #BATCH} frames, each into its own slot, as a ring batch; then pass one. */
  private void fillBatch() {
    for (int j = 0; j < BATCH; j++) {
      int i = next;
      next = (i + 1) & (count - 1);
      UnsafeBuffer s = batch[j];
      if (flowFrames == null) {
        batchLength[j] = frames.length;
        s.putBytes(FrameSlot.HEADROOM, frames.frames, frames.offset(i), frames.length);
      } else {
        batchLength[j] = flowFrames.length;
        flowFrames.write(s, i);
      }
    }
    if (prefetch) {
      for (int j = 0; j < BATCH; j++) {
        path.prefetch(batch[j], FrameSlot.HEADROOM, batchLength[j]);
      }
      prefetchedLines += path.loadPrefetched();
    }
  }
}
