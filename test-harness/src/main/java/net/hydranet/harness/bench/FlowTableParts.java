package net.hydranet.harness.bench;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Random;
import net.hydranet.forwarding.counter.Counters;
import net.hydranet.forwarding.table.FlowTable;

/**
 * Where a packet's time at 1M flows goes, in steps that each add one part to the last
 * (BENCHMARKS.md, "Where the look-ahead's time goes"): the memory system alone, then the
 * look-ahead's pattern alone, then {@link FlowTable} alone, then (with {@link PipelineCpuTime}) the
 * whole path. Timed like {@link PipelineCpuTime}: by the thread's CPU time, the variants set up
 * side by side in one JVM and run in alternating blocks of 2M steps, medians printed with the ratio
 * to the first.
 *
 * <pre>
 * taskset -c 0 java -cp test-harness/target/benchmarks.jar net.hydranet.harness.bench.FlowTableParts 5 \
 *     chase1,chase16,lines/16,ahead/16,find/16,ahead/16/4K,find/16/4K
 * </pre>
 *
 * <ul>
 *   <li>{@code chaseK}: {@code test-harness/bench/mlp/mlp.c} in Java: K independent pointer chases
 *       interleaved over 80 MiB ({@code long[]}) of 64-byte lines linked in one random cycle; ns
 *       per load. K = 1 is the latency of a random line; K = 16 or 32, how fast the memory system
 *       serves random lines with that many always in flight.
 *   <li>{@code lines/B}: the look-ahead's pattern without a table: B random lines of the same
 *       memory read back to back, then each read again; ns per line. Unlike a chase, nothing is in
 *       flight between batches: each batch waits about one latency.
 *   <li>{@code keys}: the key stream alone: the next flow's two key halves read from two arrays in
 *       a fixed random order of all {@link #FLOWS} flows (16 MiB read in order), summed.
 *   <li>{@code ahead/B}: {@link FlowTable} full ({@link #FLOWS} of {@link #FLOWS}: 2^21 slots, 80
 *       MiB): pass one alone, {@link FlowTable#prefetch} of B flows then {@link
 *       FlowTable#loadPrefetched}, no lookup.
 *   <li>{@code find/B}: the same, then {@link FlowTable#find} of each: the forwarding thread's
 *       look-ahead without the rest of the path. {@code find/off}: each found alone, no pass one.
 *   <li>{@code touch/B}: {@code find/B} and {@link FlowTable#touch} of each hit on a clock that
 *       does not move: the deadline written (a dirtied line a lookup), no recency move.
 *   <li>{@code lru/B}: the same on a clock advancing {@link PipelineBenchmark#NANOS_PER_PACKET} a
 *       lookup with the default 1 s recency: every flow moves on the list once a second of clock,
 *       all at once (as in {@code PipelineBenchmark}'s 1M variants), so the blocks with those
 *       bursts read higher and the medians mostly miss them.
 *   <li>a {@code /4K} suffix ({@code find/16/4K}): the same on a table of {@link #SMALL} flows,
 *       whose lines stay in cache: the compute alone.
 * </ul>
 *
 * <p>The variants of one kind share their compiled code, so which others run in the same JVM
 * changes their figures (one jar, two minutes apart: find/16 read 74 ns a lookup beside find/off,
 * touch/16 and lru/16, 49 ns beside ahead/16 and lines/16): compare a variant across runs only with
 * the same list. Every lookup must find its flow: one that misses stops the run.
 */
public final class FlowTableParts {
  /** Flows in the table, and its capacity: {@link FlowFrames#FLOWS}. */
  static final int FLOWS = FlowFrames.FLOWS;

  /** Flows of the {@code /4K} variants' table: 4,096 (256 KiB of records, in cache). */
  static final int SMALL = 1 << 12;

  private static final int STEPS_PER_BLOCK = 2_000_000;
  private static final int WARMUP_BLOCKS = 3;

  /** The chases' memory: 80 MiB, the size of the full table's arrays. */
  private static final int CHASE_LONGS = 80 << 17;

  private static final long IDLE = 3_600_000_000_000L;
  private static final long RECENCY = 1_000_000_000L;

  private FlowTableParts() {}

  /** One variant: runs {@code steps} steps and returns something that depends on all of them. */
  private interface Part {
    long run(int steps);
  }

  /** Arguments: blocks per variant (default 9), variants (see the class comment). */
  public static void main(String[] args) {
    int blocks = args.length > 0 ? Integer.parseInt(args[0]) : 9;
    String[] names =
        (args.length > 1 ? args[1] : "chase1,chase16,chase32,keys,find/off,find/16,touch/16,lru/16")
            .split(",");
    Shared shared = new Shared();
    Part[] parts = new Part[names.length];
    for (int v = 0; v < names.length; v++) {
      parts[v] = part(names[v], shared);
    }
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    double[][] nanos = new double[names.length][blocks];
    long sink = 0;
    long allocated = 0;
    for (int b = -WARMUP_BLOCKS; b < blocks; b++) {
      for (int v = 0; v < names.length; v++) {
        long bytes = threads.getCurrentThreadAllocatedBytes();
        long start = threads.getCurrentThreadCpuTime();
        sink += parts[v].run(STEPS_PER_BLOCK);
        long used = threads.getCurrentThreadCpuTime() - start;
        if (b >= 0) {
          nanos[v][b] = (double) used / STEPS_PER_BLOCK;
          allocated += threads.getCurrentThreadAllocatedBytes() - bytes;
        }
      }
    }
    double[] medians = new double[names.length];
    for (int v = 0; v < names.length; v++) {
      double[] sorted = nanos[v].clone();
      Arrays.sort(sorted);
      medians[v] = sorted[blocks / 2];
      System.out.printf(
          "%-9s CPU ns/step median %6.1f (min %6.1f, max %6.1f) over %d blocks: %s%n",
          names[v],
          medians[v],
          sorted[0],
          sorted[blocks - 1],
          blocks,
          Arrays.toString(Arrays.stream(nanos[v]).map(x -> Math.round(x * 10) / 10.0).toArray()));
    }
    for (int v = 1; v < names.length; v++) {
      System.out.printf("ratio %s / %s: %.2f%n", names[v], names[0], medians[v] / medians[0]);
    }
    System.out.printf(
        "allocated %.4f B/step while measured (sink %d)%n",
        (double) allocated / ((long) blocks * names.length * STEPS_PER_BLOCK), sink & 1);
    shared.check();
  }

  private static Part part(String name, Shared shared) {
    if (name.startsWith("chase")) {
      return new Chase(shared.chaseMemory(), Integer.parseInt(name.substring(5)));
    }
    if (name.equals("keys")) {
      return new Keys(shared.keys());
    }
    if (name.startsWith("lines/")) {
      return new Lines(shared.chaseMemory(), Integer.parseInt(name.substring(6)));
    }
    String[] p = name.split("/", -1);
    boolean small = p.length == 3 && p[2].equals("4K");
    if (p.length != 2 && !small) {
      throw new IllegalArgumentException("unknown variant " + name);
    }
    int batch = p[1].equals("off") ? 0 : Integer.parseInt(p[1]);
    if (batch < 0 || batch > FlowTable.PREFETCH_MAX) {
      throw new IllegalArgumentException(
          name + ": a batch must be off or 1.." + FlowTable.PREFETCH_MAX);
    }
    return switch (p[0]) {
      case "ahead" -> new Lookups(shared, small, batch, false, false, false);
      case "find" -> new Lookups(shared, small, batch, true, false, false);
      case "touch" -> new Lookups(shared, small, batch, true, true, false);
      case "lru" -> new Lookups(shared, small, batch, true, true, true);
      default -> throw new IllegalArgumentException("unknown variant " + name);
    };
  }

  /** What the variants share, built on first use: the chases' memory, the keys, the table. */
  private static final class Shared {
    private long[] chase;
    private Keys.Stream keys;
    private Keys.Stream smallKeys;
    private FlowTable table;
    private FlowTable smallTable;
    private long misses;

    long[] chaseMemory() {
      if (chase == null) {
        chase = new long[CHASE_LONGS];
        int lines = CHASE_LONGS / 8;
        int[] order = permutation(lines, 7);
        for (int i = 0; i < lines; i++) {
          chase[order[i] * 8] = order[(i + 1) % lines] * 8L;
        }
      }
      return chase;
    }

    Keys.Stream keys() {
      if (keys == null) {
        keys = new Keys.Stream(permutation(FLOWS, 42));
      }
      return keys;
    }

    Keys.Stream smallKeys() {
      if (smallKeys == null) {
        smallKeys = new Keys.Stream(permutation(SMALL, 43));
      }
      return smallKeys;
    }

    /** The table, full: every flow inserted in flow order with the 1 s recency. */
    FlowTable table() {
      if (table == null) {
        table = full(FLOWS);
      }
      return table;
    }

    /** A table of {@link #SMALL} flows, full, whose lines stay in cache. */
    FlowTable smallTable() {
      if (smallTable == null) {
        smallTable = full(SMALL);
      }
      return smallTable;
    }

    private static FlowTable full(int flows) {
      FlowTable t = new FlowTable(flows, RECENCY, new Counters());
      for (int f = 0; f < flows; f++) {
        t.insert(Keys.hi(f), Keys.lo(f), f, 0, IDLE);
      }
      return t;
    }

    void missed(long n) {
      misses += n;
    }

    void check() {
      if (misses != 0
          || (table != null && table.size() != FLOWS)
          || (smallTable != null && smallTable.size() != SMALL)) {
        throw new IllegalStateException(misses + " lookups missed, or a table lost flows");
      }
    }
  }

  private static int[] permutation(int n, long seed) {
    int[] order = new int[n];
    Arrays.setAll(order, i -> i);
    Random random = new Random(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }

  /** K pointer chases interleaved, as the C probe's inner loop. */
  private static final class Chase implements Part {
    private final long[] memory;
    private final long[] at;

    Chase(long[] memory, int chains) {
      if (chains < 1 || chains > 64) {
        throw new IllegalArgumentException("chains must be in [1, 64], was " + chains);
      }
      this.memory = memory;
      this.at = new long[chains];
      int lines = memory.length / 8;
      // Starts spread along the cycle, so the chains do not meet within a run.
      long p = 0;
      for (int c = 0; c < chains; c++) {
        at[c] = p;
        for (int i = 0; i < lines / chains; i++) {
          p = memory[(int) p];
        }
      }
    }

    @Override
    public long run(int steps) {
      long[] m = memory;
      long[] q = at;
      int k = q.length;
      for (int i = steps / k; i > 0; i--) {
        for (int c = 0; c < k; c++) {
          q[c] = m[(int) q[c]];
        }
      }
      return q[0];
    }
  }

  /**
   * The look-ahead's pattern without the table: B random lines of the chases' memory read back to
   * back (line numbers from a stream in order, as the keys), then each read again.
   */
  private static final class Lines implements Part {
    private final long[] memory;
    private final int[] lines;
    private final int batch;
    private int next;

    Lines(long[] memory, int batch) {
      this.memory = memory;
      this.lines = permutation(memory.length / 8, 11);
      this.batch = batch;
    }

    @Override
    public long run(int steps) {
      long[] m = memory;
      int[] at = lines;
      int i = next;
      long sum = 0;
      for (int s = 0; s < steps; s += batch) {
        if (i + batch > at.length) {
          i = 0;
        }
        for (int j = 0; j < batch; j++) {
          sum += m[at[i + j] * 8 + 1];
        }
        for (int j = 0; j < batch; j++) {
          sum ^= m[at[i + j] * 8 + 2] + j;
        }
        i += batch;
      }
      next = i;
      return sum;
    }
  }

  /** The flows' keys in driving order, and the stream alone as a variant. */
  private static final class Keys implements Part {
    private final Stream stream;
    private int next;

    Keys(Stream stream) {
      this.stream = stream;
    }

    /** Flow {@code f}'s key, as {@link FlowFrames} numbers its clients: 18 addresses × 60,000. */
    static long hi(int f) {
      return FlowTable.keyHi(0xC6120164 + f / 60_000, 0xC612020A);
    }

    static long lo(int f) {
      return FlowTable.keyLo(6, 1_024 + f % 60_000, 80);
    }

    static final class Stream {
      final long[] hi;
      final long[] lo;

      Stream(int[] order) {
        hi = new long[order.length];
        lo = new long[order.length];
        for (int i = 0; i < order.length; i++) {
          hi[i] = hi(order[i]);
          lo[i] = lo(order[i]);
        }
      }
    }

    @Override
    public long run(int steps) {
      long[] hi = stream.hi;
      long[] lo = stream.lo;
      int mask = hi.length - 1;
      int i = next;
      long sum = 0;
      for (int s = 0; s < steps; s++) {
        sum += hi[i] ^ lo[i];
        i = (i + 1) & mask;
      }
      next = i;
      return sum;
    }
  }

  /** Lookups in the full table, in batches with the look-ahead or one at a time. */
  private static final class Lookups implements Part {
    private final Shared shared;
    private final FlowTable table;
    private final long[] hi;
    private final long[] lo;
    private final int batch;
    private final boolean find;
    private final boolean touch;
    private final boolean clock;
    private int next;
    private long now = 1;

    Lookups(Shared shared, boolean small, int batch, boolean find, boolean touch, boolean clock) {
      this.shared = shared;
      this.table = small ? shared.smallTable() : shared.table();
      Keys.Stream keys = small ? shared.smallKeys() : shared.keys();
      this.hi = keys.hi;
      this.lo = keys.lo;
      this.batch = batch;
      this.find = find;
      this.touch = touch;
      this.clock = clock;
    }

    @Override
    public long run(int steps) {
      FlowTable t = table;
      int mask = hi.length - 1;
      int i = next;
      long sum = 0;
      int missed = 0;
      int b = Math.max(1, batch);
      for (int s = 0; s < steps; s += b) {
        if (batch != 0) {
          for (int j = 0, a = i; j < b; j++, a = (a + 1) & mask) {
            t.prefetch(hi[a], lo[a]);
          }
          t.loadPrefetched();
        }
        if (!find) {
          sum += b;
          i = (i + b) & mask;
          continue;
        }
        for (int j = 0; j < b; j++) {
          if (clock) {
            now += PipelineBenchmark.NANOS_PER_PACKET;
          }
          int e = t.find(hi[i], lo[i], now);
          if (e == FlowTable.NOT_FOUND) {
            missed++;
          } else {
            sum += t.target(e);
            if (touch) {
              t.touch(e, now, IDLE);
            }
          }
          i = (i + 1) & mask;
        }
      }
      next = i;
      shared.missed(missed);
      return sum;
    }
  }
}
