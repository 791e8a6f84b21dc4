package net.hydranet.hydraweb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LatencyHistogramTest {
  @Test
  void shouldHaveLogSpacedBoundsFromTenMicrosecondsToTenSeconds() {
    long[] b = LatencyHistogram.boundsNanos();
    assertEquals(19, b.length);
    assertEquals(10_000L, b[0]);
    assertEquals(10_000_000_000L, b[b.length - 1]);
    for (int i = 1; i < b.length; i++) {
      double ratio = (double) b[i] / b[i - 1];
      assertTrue(ratio == 2.0 || ratio == 2.5, "bound " + i + " is " + ratio + " × the one below");
    }
    b[0] = 1; // a copy: the histogram's own bounds cannot be changed from outside
    assertEquals(10_000L, LatencyHistogram.boundNanos(0));
  }

  @ParameterizedTest(name = "{0} ns → bucket {1}")
  @CsvSource({
    "-5, 0",
    "0, 0",
    "10000, 0",
    "10001, 1",
    "20000, 1",
    "20001, 2",
    "999999, 6",
    "1000000, 6",
    "1000001, 7",
    "9999999999, 18",
    "10000000000, 18",
    "10000000001, 19",
    "9223372036854775807, 19",
  })
  void shouldPutADurationInTheFirstBucketWhoseBoundItDoesNotExceed(long nanos, int bucket) {
    assertEquals(bucket, LatencyHistogram.bucket(Math.max(0, nanos)));
    LatencyHistogram h = new LatencyHistogram();
    h.record(nanos);
    LatencyHistogram.Snapshot s = LatencyHistogram.snapshot(List.of(h));
    assertEquals(1, s.count());
    assertEquals(Math.max(0, nanos), s.sumNanos());
    for (int i = 0; i < LatencyHistogram.BOUNDS; i++) {
      assertEquals(i >= bucket ? 1 : 0, s.cumulative()[i], "le " + LatencyHistogram.boundNanos(i));
    }
  }

  @Test
  void shouldAgreeWithCountingEveryBoundAndAddSeveralHistograms() {
    Random rnd = new Random(7);
    LatencyHistogram a = new LatencyHistogram();
    LatencyHistogram b = new LatencyHistogram();
    long[] expected = new long[LatencyHistogram.BOUNDS];
    long sum = 0;
    int n = 100_000;
    for (int i = 0; i < n; i++) {
      // log-uniform from 1 µs to 100 s, so every bucket and the overflow get some
      long d = (long) Math.pow(10, 3 + rnd.nextDouble() * 8);
      (i % 3 == 0 ? a : b).record(d);
      sum += d;
      for (int k = 0; k < expected.length; k++) {
        if (d <= LatencyHistogram.boundNanos(k)) {
          expected[k]++;
        }
      }
    }
    LatencyHistogram.Snapshot s = LatencyHistogram.snapshot(List.of(a, b));
    assertArrayEquals(expected, s.cumulative());
    assertEquals(n, s.count());
    assertEquals(sum, s.sumNanos());
    assertTrue(s.cumulative()[0] > 0 && s.cumulative()[LatencyHistogram.BOUNDS - 1] < n);
  }
}
