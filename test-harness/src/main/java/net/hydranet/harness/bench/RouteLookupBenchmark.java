package net.hydranet.harness.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import net.hydranet.forwarding.table.Ipv6RouteTable;
import net.hydranet.forwarding.wire.Ipv6Header;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Longest-prefix match for IPv4 and IPv6 side by side, so that one run gives their ratio: 301
 * routes each with an edge router's prefix lengths, nine lookups in ten inside a route and the rest
 * matching only the default route. One lookup per operation.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Xmx1g")
public class RouteLookupBenchmark {
  static final int ROUTES = RedirectorTableBenchmark.Routes.ROUTES;
  static final int LOOKUPS = RedirectorTableBenchmark.Routes.LOOKUPS;

  /**
   * The IPv6 table: ::/0, aggregates /32../48, /56 customer blocks, /64 links, /127 point to point
   * and /128 hosts — twelve distinct lengths, more than an edge router has, so a lookup pays for
   * several probes.
   */
  @State(Scope.Benchmark)
  public static class Ipv6Routes {
    Ipv6RouteTable table;
    long[] highs;
    long[] lows;

    @Setup(Level.Trial)
    public void setUp() {
      SplittableRandom random = new SplittableRandom(7);
      table = new Ipv6RouteTable(4096);
      int[] lengths = {32, 36, 40, 44, 48, 48, 52, 56, 60, 64, 64, 64, 64, 127, 128};
      long[] gateway = Ipv6Header.parseAddress("2001:2:0:2::10");
      table.add(0, 0, 0, gateway[0], gateway[1], 1);
      long[] prefixHighs = new long[ROUTES];
      long[] prefixLows = new long[ROUTES];
      int[] prefixLengths = new int[ROUTES];
      for (int i = 0; i < ROUTES; i++) {
        int length = lengths[random.nextInt(lengths.length)];
        long high = random.nextLong() & Ipv6RouteTable.maskHigh(length);
        long low = random.nextLong() & Ipv6RouteTable.maskLow(length);
        table.add(high, low, length, random.nextLong(), random.nextLong(), random.nextInt(3));
        prefixHighs[i] = high;
        prefixLows[i] = low;
        prefixLengths[i] = length;
      }
      highs = new long[LOOKUPS];
      lows = new long[LOOKUPS];
      for (int i = 0; i < LOOKUPS; i++) {
        if (random.nextInt(10) == 0) {
          highs[i] = random.nextLong();
          lows[i] = random.nextLong();
        } else {
          int r = random.nextInt(ROUTES);
          int length = prefixLengths[r];
          highs[i] = prefixHighs[r] | (random.nextLong() & ~Ipv6RouteTable.maskHigh(length));
          lows[i] = prefixLows[r] | (random.nextLong() & ~Ipv6RouteTable.maskLow(length));
        }
      }
    }
  }

  /** A position in the lookup order, per thread. */
  @State(Scope.Thread)
  public static class Cursor {
    int next;
  }

  /** The IPv4 table is RedirectorTableBenchmark's own, so both figures measure the same thing. */
  @Benchmark
  public int ipv4Lookup(RedirectorTableBenchmark.Routes r, Cursor c) {
    int i = c.next & (LOOKUPS - 1);
    c.next = i + 1;
    return r.table.lookup(r.addresses[i]);
  }

  @Benchmark
  public int ipv6Lookup(Ipv6Routes r, Cursor c) {
    int i = c.next & (LOOKUPS - 1);
    c.next = i + 1;
    return r.table.lookup(r.highs[i], r.lows[i]);
  }
}
