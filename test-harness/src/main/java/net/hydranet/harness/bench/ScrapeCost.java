package net.hydranet.harness.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * What a Prometheus scrape each second costs the data path, as a ratio taken in one run: one {@link
 * PipelineBenchmark} plane with its {@code /metrics} endpoint, processed in alternating blocks with
 * the 1 s HTTP scrape paused and running. Each block is long enough (about 2 s) to span scrapes;
 * per block it records wall-clock time per packet (what a forwarding thread would lose, including
 * time its core is taken) and the thread's CPU time per packet (what is left when waiting for a
 * core is not counted: cache pollution and the scrape's reads of the counters). A load shift hits
 * both variants alike. Prints medians and the on/off ratios; it refuses to report if the scraper
 * did not actually scrape during the "on" blocks.
 *
 * <pre>
 * java -cp test-harness/target/benchmarks.jar net.hydranet.harness.bench.ScrapeCost redirect 9
 * </pre>
 */
public final class ScrapeCost {
  private static final int PACKETS_PER_BLOCK = 20_000_000;
  private static final int WARMUP_BLOCKS = 2;

  private ScrapeCost() {}

  /** Arguments: mode (forward, redirect), then blocks per variant (default 9). */
  public static void main(String[] args) throws Exception {
    String mode = args.length > 0 ? args[0] : "redirect";
    int blocks = args.length > 1 ? Integer.parseInt(args[1]) : 9;
    PipelineBenchmark bench = new PipelineBenchmark();
    bench.mode = mode;
    bench.size = 64;
    bench.scrape = "off";
    bench.flows = "1K";
    bench.setUp();
    java.net.URI uri = bench.startEndpoint();
    Path dir = Files.createTempDirectory("hn-scrapecost");
    Path flag = dir.resolve("scrape");
    Path log = dir.resolve("codes");
    Files.writeString(log, "");
    Process scraper =
        new ProcessBuilder(
                "sh",
                "-c",
                "while :; do if [ -e '"
                    + flag
                    + "' ]; then curl -s -o /dev/null -w '%{http_code}\\n' '"
                    + uri
                    + "' >> '"
                    + log
                    + "'; fi; sleep 1; done")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    String[] names = {"off", "1s"};
    double[][] wall = new double[2][blocks];
    double[][] cpu = new double[2][blocks];
    long scrapesOn = 0;
    for (int b = -WARMUP_BLOCKS; b < blocks; b++) {
      for (int v = 0; v < 2; v++) {
        if (v == 1) {
          Files.writeString(flag, "");
        } else {
          Files.deleteIfExists(flag);
        }
        long scrapesBefore = scrapes(log);
        long c0 = threads.getCurrentThreadCpuTime();
        long w0 = System.nanoTime();
        for (int i = 0; i < PACKETS_PER_BLOCK; i++) {
          bench.process();
        }
        long w = System.nanoTime() - w0;
        long c = threads.getCurrentThreadCpuTime() - c0;
        if (b >= 0) {
          wall[v][b] = (double) w / PACKETS_PER_BLOCK;
          cpu[v][b] = (double) c / PACKETS_PER_BLOCK;
          if (v == 1) {
            scrapesOn += scrapes(log) - scrapesBefore;
          }
        }
      }
    }
    scraper.destroy();
    scraper.waitFor();
    bench.tearDown();
    if (scrapesOn < blocks) {
      throw new IllegalStateException(
          "only " + scrapesOn + " scrapes during " + blocks + " 'on' blocks: nothing was measured");
    }
    double[] wallMedian = new double[2];
    double[] cpuMedian = new double[2];
    for (int v = 0; v < 2; v++) {
      wallMedian[v] = median(wall[v]);
      cpuMedian[v] = median(cpu[v]);
      System.out.printf(
          Locale.ROOT,
          "%s/64 scrape=%s: wall ns/packet median %.1f %s; CPU ns/packet median %.1f %s%n",
          mode,
          names[v],
          wallMedian[v],
          rounded(wall[v]),
          cpuMedian[v],
          rounded(cpu[v]));
    }
    System.out.printf(
        Locale.ROOT,
        "%s/64 scrapes during the 'on' blocks: %d; ratio 1s/off: wall %.3f, CPU %.3f%n",
        mode,
        scrapesOn,
        wallMedian[1] / wallMedian[0],
        cpuMedian[1] / cpuMedian[0]);
  }

  /** Scrapes that returned 200 so far. */
  private static long scrapes(Path log) throws java.io.IOException {
    return Files.readAllLines(log).stream().filter("200"::equals).count();
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static String rounded(double[] v) {
    return Arrays.toString(Arrays.stream(v).map(x -> Math.round(x * 10) / 10.0).toArray());
  }
}
