package net.hydranet.lab.wan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import net.hydranet.forwarding.io.FrameSource;
import net.hydranet.forwarding.io.TxPort;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.junit.jupiter.api.Test;

class DelayBridgeTest {
  private static final long MS = 1_000_000L;

  private static final class QueueSource implements FrameSource {
    final Deque<byte[]> frames = new ArrayDeque<>();

    @Override
    public int poll(MutableDirectBuffer buffer, int offset, int capacity, FrameMeta meta) {
      byte[] f = frames.poll();
      if (f == null) {
        return NONE;
      }
      buffer.putBytes(offset, f);
      return f.length;
    }

    @Override
    public void close() {}
  }

  private static final class RecordingPort implements TxPort {
    final List<String> sent = new ArrayList<>();

    @Override
    public boolean send(DirectBuffer buffer, int offset, int length, long timestampNanos) {
      byte[] f = new byte[length];
      buffer.getBytes(offset, f);
      sent.add(new String(f, java.nio.charset.StandardCharsets.US_ASCII));
      return true;
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }

  private final QueueSource sourceA = new QueueSource();
  private final QueueSource sourceB = new QueueSource();
  private final RecordingPort portA = new RecordingPort();
  private final RecordingPort portB = new RecordingPort();
  private long now;

  private DelayBridge bridge(long ab, long ba) {
    return new DelayBridge(
        sourceA,
        portA,
        sourceB,
        portB,
        new DelayLine(new DelayLine.Context().delayNanos(ab)),
        new DelayLine(new DelayLine.Context().delayNanos(ba)),
        9018,
        () -> now);
  }

  private static byte[] frame(String text) {
    return String.format("%-64s", text).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }

  @Test
  void shouldCarryEachSidesFramesToTheOtherAfterThatDirectionsDelay() {
    DelayBridge bridge = bridge(10 * MS, 30 * MS);
    sourceA.frames.add(frame("from a"));
    sourceB.frames.add(frame("from b"));
    assertEquals(2, at(bridge, 0));
    assertEquals(0, at(bridge, 10 * MS - 1));
    assertEquals(1, at(bridge, 10 * MS));
    assertEquals(List.of(frame("from a").length), lengths(portB.sent));
    assertTrue(portB.sent.get(0).startsWith("from a"));
    assertEquals(List.of(), portA.sent, "b's frame is still on the wire");
    assertEquals(1, at(bridge, 30 * MS));
    assertTrue(portA.sent.get(0).startsWith("from b"));
    assertEquals(1, portA.sent.size(), "nothing goes back out of the side it came in on");
    assertEquals(1, portB.sent.size());
  }

  @Test
  void shouldTakeABoundedBatchPerCycleSoDeparturesAreNotStarved() {
    DelayBridge bridge = bridge(0, 0);
    for (int i = 0; i < 3 * DelayBridge.BATCH; i++) {
      sourceA.frames.add(frame("a" + i));
    }
    assertEquals(DelayBridge.BATCH, at(bridge, 0));
    // The next cycle sends the first batch before taking the second.
    assertEquals(2 * DelayBridge.BATCH, at(bridge, 0));
    assertEquals(DelayBridge.BATCH, portB.sent.size());
    at(bridge, 0);
    at(bridge, 0);
    assertEquals(3 * DelayBridge.BATCH, portB.sent.size());
    for (int i = 0; i < portB.sent.size(); i++) {
      assertTrue(portB.sent.get(i).startsWith("a" + i + " "), portB.sent.get(i));
    }
  }

  @Test
  void shouldStartTheDelayWhenTheFrameIsPolledNotWhenTheCycleBegan() {
    // The thread reads the clock at the cycle's start, is descheduled for 5 ms, and meanwhile a
    // frame arrives: its delay must count from when it was taken, or it would leave 5 ms early.
    FrameSource late =
        new FrameSource() {
          boolean given;

          @Override
          public int poll(MutableDirectBuffer buffer, int offset, int capacity, FrameMeta meta) {
            if (given) {
              return NONE;
            }
            given = true;
            now += 5 * MS;
            buffer.putBytes(offset, frame("late"));
            return 64;
          }

          @Override
          public void close() {}
        };
    DelayBridge bridge =
        new DelayBridge(
            late,
            portA,
            sourceB,
            portB,
            new DelayLine(new DelayLine.Context().delayNanos(10 * MS)),
            new DelayLine(new DelayLine.Context()),
            9018,
            () -> now);
    assertEquals(1, at(bridge, 0));
    assertEquals(15 * MS, bridge.aToB().nextDeparture());
    assertEquals(0, at(bridge, 15 * MS - 1));
    assertEquals(1, at(bridge, 15 * MS));
  }

  private int at(DelayBridge bridge, long time) {
    now = time;
    return bridge.doWork();
  }

  private static List<Integer> lengths(List<String> frames) {
    List<Integer> out = new ArrayList<>();
    frames.forEach(f -> out.add(f.length()));
    return out;
  }
}
