package net.hydranet.lab.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.hydranet.forwarding.io.live.KernelChecks;
import net.hydranet.forwarding.io.live.LivePcapSource;
import net.hydranet.lab.wan.DelayBridge;
import net.hydranet.lab.wan.DelayLine;
import net.hydranet.router.error.UserError;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code hydranet wan}: a cable with latency between two interfaces, for tests and demos. */
@Command(
    name = "wan",
    mixinStandardHelpOptions = true,
    description = {
      "Emulates a long-distance link: every frame captured on interface A leaves",
      "on B after the A-to-B delay, and the other way round. Layer 2, nothing",
      "rewritten, no routing; frames keep their order (jitter never reorders).",
      "The kernel here has no netem: this is how tests and benchmarks get a WAN.",
      "GRO/LRO/GSO/TSO must be off on both interfaces (checked at start); they",
      "need no addresses. SIGTERM stops it. Durations: 195ms, 1.5s, 250us, 0.",
      "",
      "Example (the paper's 390 ms round trip):",
      "  hydranet wan --a eth0 --b eth1 --delay 195ms"
    })
public final class WanCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(WanCommand.class);

  @Option(names = "--a", required = true, paramLabel = "IF", description = "one end of the link")
  String a;

  @Option(names = "--b", required = true, paramLabel = "IF", description = "the other end")
  String b;

  @Option(
      names = "--delay",
      paramLabel = "DURATION",
      defaultValue = "0",
      converter = DurationConverter.class,
      description = "one-way delay in both directions (${DEFAULT-VALUE})")
  long delay;

  @Option(
      names = "--delay-ab",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description = "one-way delay from A to B (default: --delay)")
  Long delayAb;

  @Option(
      names = "--delay-ba",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description = "one-way delay from B to A (default: --delay)")
  Long delayBa;

  @Option(
      names = "--jitter",
      paramLabel = "DURATION",
      defaultValue = "0",
      converter = DurationConverter.class,
      description =
          "each frame's delay varies uniformly by up to ± this; never reorders, so closely"
              + " spaced frames skew late (${DEFAULT-VALUE})")
  long jitter;

  @Option(
      names = "--loss",
      paramLabel = "P",
      defaultValue = "0",
      description = "probability that a frame is dropped, each direction (${DEFAULT-VALUE})")
  double loss;

  @Option(
      names = "--seed",
      paramLabel = "N",
      defaultValue = "1",
      description = "seed for jitter and loss, so a run can be repeated (${DEFAULT-VALUE})")
  long seed;

  @Option(
      names = "--queue",
      paramLabel = "FRAMES",
      defaultValue = "8192",
      description =
          "frames each direction can hold, a power of two; more are dropped and counted"
              + " (${DEFAULT-VALUE})")
  int queue;

  @Option(
      names = "--status",
      paramLabel = "FILE",
      description = "write the counters to this file every second")
  Path status;

  @Option(
      names = "--skip-kernel-checks",
      description = "start even if offloads are on (for experiments only)")
  boolean skipKernelChecks;

  @Override
  public Integer call() throws Exception {
    if (a.equals(b)) {
      throw new UserError("--a and --b are both " + a + ": a wire needs two ends");
    }
    Optional<String> libpcap = KernelChecks.libpcapProblem();
    if (libpcap.isPresent()) {
      throw new UserError(libpcap.get());
    }
    List<String> problems = KernelChecks.checkLinks(List.of(a, b));
    if (!problems.isEmpty()) {
      if (!skipKernelChecks) {
        throw new UserError(String.join("; ", problems));
      }
      problems.forEach(p -> LOG.warn("kernel check ignored: {}", p));
    }
    if (queue < 1 || Integer.bitCount(queue) != 1) {
      throw new UserError("--queue " + queue + " is not a power of two");
    }
    long ab = delayAb != null ? delayAb : delay;
    long ba = delayBa != null ? delayBa : delay;
    int slotBytes = slotBytes();
    DelayLine.Context toB = context(ab, seed, slotBytes);
    // Another seed for the other direction, so its losses are not the same frames' numbers.
    DelayLine.Context toA = context(ba, seed * 31 + 17, slotBytes);
    DelayLine aToB;
    DelayLine bToA;
    try {
      aToB = new DelayLine(toB);
      bToA = new DelayLine(toA);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage());
    }

    LivePcapSource sideA = null;
    LivePcapSource sideB = null;
    try {
      // Promiscuous (the default): the frames are addressed to the hosts beyond us, not to us.
      // The default 'inbound' filter keeps what we send on a side out of that side's capture.
      sideA = open(a);
      sideB = open(b);
      DelayBridge bridge =
          new DelayBridge(
              sideA,
              sideA.txPort(),
              sideB,
              sideB.txPort(),
              aToB,
              bToA,
              LivePcapSource.Options.DEFAULT_SNAPLEN,
              System::nanoTime);
      LOG.info(
          "wan {} -> {} {}, {} -> {} {}; jitter {}, loss {}, seed {}, {} frames of {} B each way",
          a,
          b,
          format(ab),
          b,
          a,
          format(ba),
          format(jitter),
          loss,
          seed,
          queue,
          slotBytes);
      run(bridge, sideA, sideB);
      return 0;
    } finally {
      if (sideA != null) {
        sideA.close();
      }
      if (sideB != null) {
        sideB.close();
      }
    }
  }

  private DelayLine.Context context(long delayNanos, long lineSeed, int slotBytes) {
    return new DelayLine.Context()
        .delayNanos(delayNanos)
        .jitterNanos(jitter)
        .loss(loss)
        .seed(lineSeed)
        .capacity(queue)
        .slotBytes(slotBytes);
  }

  /**
   * The longest frame either link carries: its MTU plus an Ethernet header with one 802.1Q tag,
   * rounded up to a cache line. A larger frame cannot have come off these links intact.
   */
  private int slotBytes() {
    int mtu = 1500;
    try {
      mtu = Math.max(KernelChecks.mtu(a), KernelChecks.mtu(b));
    } catch (IOException | NumberFormatException e) {
      LOG.warn("cannot read the MTUs of {} and {}, assuming 1500: {}", a, b, e.getMessage());
    }
    return (mtu + 18 + 63) & ~63;
  }

  private static LivePcapSource open(String name) {
    try {
      return LivePcapSource.open(name);
    } catch (IOException e) {
      throw new UserError(e.getMessage());
    }
  }

  private void run(DelayBridge bridge, LivePcapSource sideA, LivePcapSource sideB)
      throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  bridge.close();
                  LOG.info(
                      "stopping: {} frame(s) on the wire are dropped",
                      bridge.aToB().size() + bridge.bToA().size());
                  stopped.countDown();
                },
                "hydranet-shutdown"));
    bridge.start();
    LOG.info("carrying frames");
    while (!bridge.awaitEnd(1_000)) {
      if (status != null) {
        writeStatus(bridge, sideA, sideB);
      }
    }
    stopped.await();
  }

  private void writeStatus(DelayBridge bridge, LivePcapSource sideA, LivePcapSource sideB) {
    StringBuilder sb = new StringBuilder();
    direction(sb, a + " -> " + b, bridge.aToB(), sideA);
    direction(sb, b + " -> " + a, bridge.bToA(), sideB);
    sb.append("cycle_errors ").append(bridge.cycleErrors()).append('\n');
    try {
      Path tmp = status.resolveSibling(status.getFileName() + ".tmp");
      Files.writeString(tmp, sb);
      Files.move(tmp, status, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      LOG.warn("cannot write status file {}: {}", status, e.getMessage());
    }
  }

  /** One line a direction: "NAME: key value …", read by people and by the system tests. */
  private static void direction(
      StringBuilder sb, String name, DelayLine line, LivePcapSource source) {
    // Read from another thread: the values may be a moment stale, never torn on a 64-bit JVM.
    DelayLine.Stats s = line.stats();
    sb.append(name)
        .append(": received ")
        .append(source.framesReceived())
        .append(" held ")
        .append(s.held)
        .append(" departed ")
        .append(s.departed)
        .append(" on_wire ")
        .append(line.size())
        .append(" dropped_full ")
        .append(s.droppedFull)
        .append(" dropped_too_long ")
        .append(s.droppedTooLong)
        .append(" dropped_loss ")
        .append(s.droppedLoss)
        .append(" send_failures ")
        .append(s.sendFailures)
        .append(" held_for_order ")
        .append(s.heldForOrder)
        .append(" oversize ")
        .append(source.oversizeFrames())
        .append(" kernel_drops ")
        .append(source.kernelDrops())
        .append('\n');
  }

  private static String format(long nanos) {
    if (nanos % 1_000_000 == 0) {
      return nanos / 1_000_000 + "ms";
    }
    return String.format(Locale.ROOT, "%.3fms", nanos / 1e6);
  }

  /** "195ms", "1.5s", "250us", "800ns" or "0" to nanoseconds. */
  static final class DurationConverter implements ITypeConverter<Long> {
    private static final Pattern DURATION =
        Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s)?", Pattern.CASE_INSENSITIVE);

    @Override
    public Long convert(String value) {
      Matcher m = DURATION.matcher(value.strip());
      if (!m.matches()) {
        throw new TypeConversionException(
            "'" + value + "' is not a duration (e.g. 195ms, 1.5s, 250us)");
      }
      double number = Double.parseDouble(m.group(1));
      String unit = m.group(2) == null ? "" : m.group(2).toLowerCase(Locale.ROOT);
      if (unit.isEmpty() && number != 0) {
        throw new TypeConversionException("'" + value + "' needs a unit: ns, us, ms or s");
      }
      double scale =
          switch (unit) {
            case "ns" -> 1;
            case "us", "µs" -> 1e3;
            case "ms" -> 1e6;
            case "s" -> 1e9;
            default -> 0;
          };
      double nanos = number * scale;
      if (nanos > 3_600e9) {
        throw new TypeConversionException("'" + value + "' is more than an hour");
      }
      return Math.round(nanos);
    }
  }
}
