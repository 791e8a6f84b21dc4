package net.hydranet.harness.bench;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import net.hydranet.forwarding.table.RedirectorTable;
import net.hydranet.forwarding.table.RouteTable;
import net.hydranet.forwarding.wire.Ipv4Header;
import org.agrona.collections.LongHashSet;
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
 * Table lookups alone: the redirector table at 1 M services, and the route table at a few hundred
 * routes. One lookup per operation, so ops/µs is millions of lookups a second.
 */
@BenchmarkMode({Mode.Throughput, Mode.AverageTime})
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "-Xmx2g")
public class RedirectorTableBenchmark {
  /** 1 M services with random keys, and every key once in a random order to look up. */
  @State(Scope.Benchmark)
  public static class Services {
    static final int SERVICES = 1_000_000;

    RedirectorTable table;
    int[] addresses;
    int[] protocols;
    int[] ports;
    int[] hashes;

    @Setup(Level.Trial)
    public void setUp() {
      SplittableRandom random = new SplittableRandom(42);
      table = new RedirectorTable(1 << 20, 8);
      addresses = new int[SERVICES];
      protocols = new int[SERVICES];
      ports = new int[SERVICES];
      hashes = new int[SERVICES];
      LongHashSet seen = new LongHashSet(2 * SERVICES);
      int[] hosts = {Ipv4Header.parseAddress("198.18.3.2"), Ipv4Header.parseAddress("198.18.3.3")};
      int[] weights = {1, 2};
      for (int i = 0; i < SERVICES; ) {
        int address = random.nextInt();
        int protocol = random.nextBoolean() ? Ipv4Header.PROTOCOL_TCP : Ipv4Header.PROTOCOL_UDP;
        int port = random.nextInt(1, 65_536);
        if (seen.add(RedirectorTable.key(address, protocol, port))) {
          table.put(address, protocol, port, hosts, weights, 2);
          addresses[i] = address;
          protocols[i] = protocol;
          ports[i] = port;
          hashes[i] = random.nextInt();
          i++;
        }
      }
      // Insertion order is already random; shuffle again so lookups do not follow it.
      for (int i = SERVICES - 1; i > 0; i--) {
        int j = random.nextInt(i + 1);
        swap(addresses, i, j);
        swap(protocols, i, j);
        swap(ports, i, j);
      }
    }

    private static void swap(int[] a, int i, int j) {
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /** A position in the lookup order, per thread. */
  @State(Scope.Thread)
  public static class Cursor {
    int next;
  }

  /** A few hundred routes with the prefix lengths of an edge router, and addresses to look up. */
  @State(Scope.Benchmark)
  public static class Routes {
    static final int ROUTES = 300;
    static final int LOOKUPS = 4096;

    RouteTable table;
    int[] addresses;

    @Setup(Level.Trial)
    public void setUp() {
      SplittableRandom random = new SplittableRandom(7);
      table = new RouteTable(4096);
      // Default route, connected /24s and /30s, aggregates /8../23, host routes /32.
      int[] lengths = {8, 12, 16, 16, 19, 20, 22, 23, 24, 24, 24, 24, 30, 32};
      table.add(0, 0, Ipv4Header.parseAddress("198.18.2.254"), 1);
      int[] prefixes = new int[ROUTES];
      int[] prefixLengths = new int[ROUTES];
      for (int i = 0; i < ROUTES; i++) {
        int length = lengths[random.nextInt(lengths.length)];
        int prefix = random.nextInt() & RouteTable.mask(length);
        table.add(prefix, length, random.nextInt(1, Integer.MAX_VALUE), random.nextInt(3));
        prefixes[i] = prefix;
        prefixLengths[i] = length;
      }
      // Nine in ten lookups fall inside a route; the rest only match the default route.
      addresses = new int[LOOKUPS];
      for (int i = 0; i < LOOKUPS; i++) {
        if (random.nextInt(10) == 0) {
          addresses[i] = random.nextInt();
        } else {
          int r = random.nextInt(ROUTES);
          addresses[i] = prefixes[r] | (random.nextInt() & ~RouteTable.mask(prefixLengths[r]));
        }
      }
    }
  }

  /** Redirector table: one lookup of a present key, in random order over 1 M services. */
  @Benchmark
  public int redirectorLookup(Services s, Cursor c) {
    int i = c.next;
    c.next = i + 1 == Services.SERVICES ? 0 : i + 1;
    return s.table.lookup(s.addresses[i], s.protocols[i], s.ports[i]);
  }

  /** Redirector table: lookup then host-server choice, as the redirect path does. */
  @Benchmark
  public int redirectorLookupSelect(Services s, Cursor c) {
    int i = c.next;
    c.next = i + 1 == Services.SERVICES ? 0 : i + 1;
    int service = s.table.lookup(s.addresses[i], s.protocols[i], s.ports[i]);
    return s.table.select(service, s.hashes[i]);
  }

  /** Route table: longest-prefix match over a few hundred routes. */
  @Benchmark
  public int routeLookup(Routes r, Cursor c) {
    int i = c.next & (Routes.LOOKUPS - 1);
    c.next = i + 1;
    return r.table.lookup(r.addresses[i]);
  }
}
