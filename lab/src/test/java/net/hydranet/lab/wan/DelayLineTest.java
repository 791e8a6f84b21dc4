package net.hydranet.lab.wan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import net.hydranet.forwarding.element.Verdict;
import net.hydranet.forwarding.io.TxPort;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class DelayLineTest {
  private static final long MS = 1_000_000L;

  /** Records what departs: the frame's bytes and the time the test's clock said it left. */
  private static final class RecordingPort implements TxPort {
    final List<byte[]> frames = new ArrayList<>();
    final List<Long> sentAt = new ArrayList<>();
    long clock;
    boolean refuse;
    int flushes;

    @Override
    public boolean send(DirectBuffer buffer, int offset, int length, long timestampNanos) {
      if (refuse) {
        return false;
      }
      byte[] copy = new byte[length];
      buffer.getBytes(offset, copy);
      frames.add(copy);
      sentAt.add(clock);
      return true;
    }

    @Override
    public void flush() {
      flushes++;
    }

    @Override
    public void close() {}

    /** Advances the fake clock to {@code now} and releases what is due. */
    int tick(DelayLine line, long now) {
      clock = now;
      return line.release(now, this);
    }
  }

  /** A frame whose first four bytes are its sequence number, the rest filler. */
  private static UnsafeBuffer frame(int sequence, int length) {
    UnsafeBuffer b = new UnsafeBuffer(new byte[length]);
    for (int i = 4; i < length; i++) {
      b.putByte(i, (byte) (sequence + i));
    }
    b.putInt(0, sequence);
    return b;
  }

  private static int sequenceOf(byte[] frame) {
    return new UnsafeBuffer(frame).getInt(0);
  }

  @Test
  void shouldHoldEachFrameForExactlyTheDelayAndSendItUnchanged() {
    DelayLine line = new DelayLine(new DelayLine.Context().delayNanos(195 * MS));
    RecordingPort port = new RecordingPort();
    UnsafeBuffer f = frame(7, 98);
    assertEquals(Verdict.DONE, line.offer(f, 0, 98, 1_000 * MS));
    assertEquals(1_195 * MS, line.nextDeparture());
    assertEquals(0, port.tick(line, 1_195 * MS - 1));
    assertEquals(0, port.frames.size());
    assertEquals(1, port.tick(line, 1_195 * MS));
    assertArrayEquals(f.byteArray(), port.frames.get(0));
    assertEquals(1, port.flushes);
    assertEquals(Long.MAX_VALUE, line.nextDeparture());
    assertEquals(0, line.size());
  }

  @Test
  void shouldReleaseEveryDueFrameInOrderAndKeepTheRest() {
    DelayLine line = new DelayLine(new DelayLine.Context().delayNanos(10 * MS));
    RecordingPort port = new RecordingPort();
    for (int i = 0; i < 5; i++) {
      line.offer(frame(i, 64), 0, 64, i * MS);
    }
    assertEquals(3, port.tick(line, 12 * MS));
    assertEquals(2, line.size());
    assertEquals(13 * MS, line.nextDeparture());
    assertEquals(2, port.tick(line, 100 * MS));
    for (int i = 0; i < 5; i++) {
      assertEquals(i, sequenceOf(port.frames.get(i)));
    }
  }

  @Test
  void shouldSendAtOnceWhenTheDelayIsZero() {
    DelayLine line = new DelayLine(new DelayLine.Context());
    RecordingPort port = new RecordingPort();
    line.offer(frame(1, 64), 0, 64, 5 * MS);
    assertEquals(1, port.tick(line, 5 * MS));
  }

  @Test
  void shouldCountAFrameThatFindsTheLineFullAndKeepTheOthers() {
    DelayLine line = new DelayLine(new DelayLine.Context().delayNanos(MS).capacity(4));
    RecordingPort port = new RecordingPort();
    for (int i = 0; i < 6; i++) {
      int verdict = line.offer(frame(i, 64), 0, 64, 0);
      assertEquals(i < 4 ? Verdict.DONE : Verdict.DROP, verdict, "frame " + i);
    }
    assertEquals(2, line.stats().droppedFull);
    assertEquals(4, line.stats().held);
    assertEquals(4, port.tick(line, MS));
    // Slots are reused once freed, across the wrap of the ring.
    for (int i = 6; i < 12; i++) {
      line.offer(frame(i, 64), 0, 64, 2 * MS);
      port.tick(line, 2 * MS);
    }
    assertEquals(4, port.tick(line, 3 * MS));
    List<Integer> order = new ArrayList<>();
    port.frames.forEach(f -> order.add(sequenceOf(f)));
    assertEquals(List.of(0, 1, 2, 3, 6, 7, 8, 9), order);
    assertEquals(4, line.stats().droppedFull);
  }

  @Test
  void shouldDropAndCountAFrameLongerThanASlot() {
    DelayLine line = new DelayLine(new DelayLine.Context().slotBytes(128));
    assertEquals(Verdict.DONE, line.offer(frame(1, 128), 0, 128, 0));
    assertEquals(Verdict.DROP, line.offer(frame(2, 129), 0, 129, 0));
    assertEquals(1, line.stats().droppedTooLong);
    assertEquals(1, line.size());
  }

  @Test
  void shouldCopyTheFrameSoTheCallerMayReuseItsBuffer() {
    DelayLine line = new DelayLine(new DelayLine.Context().delayNanos(MS));
    RecordingPort port = new RecordingPort();
    UnsafeBuffer scratch = frame(1, 80);
    line.offer(scratch, 0, 80, 0);
    byte[] expected = scratch.byteArray().clone();
    scratch.setMemory(0, 80, (byte) 0xEE);
    port.tick(line, MS);
    assertArrayEquals(expected, port.frames.get(0));
  }

  @Test
  void shouldReadTheFrameAtItsOffsetInTheCallersBuffer() {
    DelayLine line = new DelayLine(new DelayLine.Context());
    RecordingPort port = new RecordingPort();
    UnsafeBuffer big = new UnsafeBuffer(new byte[200]);
    big.putBytes(64, frame(9, 70), 0, 70);
    line.offer(big, 64, 70, 0);
    port.tick(line, 0);
    assertArrayEquals(frame(9, 70).byteArray(), port.frames.get(0));
  }

  @Test
  void shouldCountAFrameThePortRefusesAndMoveOn() {
    DelayLine line = new DelayLine(new DelayLine.Context().delayNanos(MS));
    RecordingPort port = new RecordingPort();
    line.offer(frame(1, 64), 0, 64, 0);
    line.offer(frame(2, 64), 0, 64, 0);
    port.refuse = true;
    assertEquals(2, port.tick(line, MS));
    assertEquals(2, line.stats().sendFailures);
    assertEquals(2, line.stats().departed);
    assertEquals(0, line.size());
  }

  @Test
  void shouldJitterWithinTheBoundWithoutEverReordering() {
    long delay = 50 * MS;
    long jitter = 20 * MS;
    DelayLine line =
        new DelayLine(
            new DelayLine.Context().delayNanos(delay).jitterNanos(jitter).capacity(1 << 14));
    RecordingPort port = new RecordingPort();
    long[] offeredAt = new long[10_000];
    // One frame every 0.5 ms: far closer than the jitter, so reordering would be common if the
    // line let it happen. The fake clock steps by 100 µs and releases at every step.
    int next = 0;
    for (long now = 0; now < 6_000 * MS; now += MS / 10) {
      if (next < offeredAt.length && now >= next * (MS / 2)) {
        offeredAt[next] = now;
        line.offer(frame(next, 64), 0, 64, now);
        next++;
      }
      port.tick(line, now);
    }
    assertEquals(offeredAt.length, port.frames.size());
    long minDelay = Long.MAX_VALUE;
    long maxDelay = 0;
    for (int i = 0; i < port.frames.size(); i++) {
      assertEquals(i, sequenceOf(port.frames.get(i)), "departure " + i + " is in order");
      long d = port.sentAt.get(i) - offeredAt[i];
      minDelay = Math.min(minDelay, d);
      maxDelay = Math.max(maxDelay, d);
    }
    // Never earlier than delay − jitter; never later than delay + jitter (plus one clock step).
    assertTrue(minDelay >= delay - jitter, "min delay " + minDelay);
    assertTrue(maxDelay <= delay + jitter + MS / 10, "max delay " + maxDelay);
    assertTrue(maxDelay - minDelay > jitter, "the delay does vary: " + minDelay + ".." + maxDelay);
    assertTrue(line.stats().heldForOrder > 0, "order had to be kept");
  }

  @Test
  void shouldSpreadSparseFramesOverTheWholeJitterRange() {
    long delay = 100 * MS;
    long jitter = 10 * MS;
    DelayLine line = new DelayLine(new DelayLine.Context().delayNanos(delay).jitterNanos(jitter));
    RecordingPort port = new RecordingPort();
    long sum = 0;
    int n = 2_000;
    for (int i = 0; i < n; i++) {
      // One second apart: no frame is ever behind another, so nothing is moved for order.
      long now = i * 1_000 * MS;
      line.offer(frame(i, 64), 0, 64, now);
      sum += line.nextDeparture() - now;
      port.tick(line, now + delay + jitter);
    }
    assertEquals(0, line.stats().heldForOrder);
    double mean = (double) sum / n;
    assertTrue(Math.abs(mean - delay) < jitter / 10.0, "mean delay " + mean);
  }

  @Test
  void shouldLoseAboutTheConfiguredShareAndRepeatWithTheSameSeed() {
    List<Integer> first = lostSequences(0.25, 42);
    assertEquals(first, lostSequences(0.25, 42), "same seed, same losses");
    assertTrue(!first.equals(lostSequences(0.25, 43)), "another seed, other losses");
    // 10 000 trials at p = 0.25: σ ≈ 43, so ± 250 is almost six σ.
    assertTrue(Math.abs(first.size() - 2_500) < 250, "lost " + first.size());
  }

  @Test
  void shouldLoseNothingByDefault() {
    assertEquals(List.of(), lostSequences(0, DelayLine.Context.DEFAULT_SEED));
  }

  private static List<Integer> lostSequences(double loss, long seed) {
    DelayLine line =
        new DelayLine(
            new DelayLine.Context().delayNanos(MS).loss(loss).seed(seed).capacity(1 << 14));
    List<Integer> lost = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      if (line.offer(frame(i, 64), 0, 64, 0) == Verdict.DROP) {
        lost.add(i);
      }
    }
    assertEquals(lost.size(), line.stats().droppedLoss);
    assertEquals(10_000 - lost.size(), line.size());
    return lost;
  }

  @Test
  void shouldNotAllocateOnceWarm() {
    DelayLine line =
        new DelayLine(
            new DelayLine.Context().delayNanos(MS).jitterNanos(MS / 2).loss(0.01).capacity(64));
    TxPort counting =
        new TxPort() {
          long bytes;

          @Override
          public boolean send(DirectBuffer buffer, int offset, int length, long timestampNanos) {
            bytes += buffer.getByte(offset) + length;
            return true;
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    UnsafeBuffer f = frame(3, 1500);
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    for (int round = 0; round < 2; round++) {
      long before = threads.getCurrentThreadAllocatedBytes();
      // 100 frames a simulated millisecond against a 64-slot line: full drops happen too.
      for (int i = 0; i < 200_000; i++) {
        long now = i * (MS / 100);
        line.offer(f, 0, 1500, now);
        line.release(now, counting);
      }
      long allocated = threads.getCurrentThreadAllocatedBytes() - before;
      if (round == 1) {
        assertTrue(allocated < 1024, "allocated " + allocated + " bytes");
      }
    }
    assertTrue(line.stats().departed > 0 && line.stats().droppedFull > 0);
    assertTrue(line.stats().droppedLoss > 0);
  }

  @Test
  void shouldNameTheWrongFieldOfTheContext() {
    assertTrue(message(new DelayLine.Context().delayNanos(-1)).startsWith("delay"));
    assertTrue(
        message(new DelayLine.Context().delayNanos(MS).jitterNanos(2 * MS)).startsWith("jitter"));
    assertTrue(message(new DelayLine.Context().loss(1)).startsWith("loss"));
    assertTrue(message(new DelayLine.Context().loss(Double.NaN)).startsWith("loss"));
    assertTrue(message(new DelayLine.Context().capacity(1000)).startsWith("capacity"));
    assertTrue(message(new DelayLine.Context().slotBytes(10)).startsWith("slotBytes"));
  }

  private static String message(DelayLine.Context context) {
    return assertThrows(IllegalArgumentException.class, context::conclude).getMessage();
  }
}
