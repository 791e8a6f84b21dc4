package net.hydranet.forwarding.pipeline;

import java.nio.ByteBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * One preallocated ring slot: a fixed window of one shared direct buffer with headroom in front of
 * the frame, so an IP-in-IP header and a new link header are written in place (no payload copy).
 *
 * <pre>
 * | headroom (HEADROOM bytes) | frame as received (length bytes) ... | tail room |
 * ^ slot start                ^ offset
 * </pre>
 *
 * <p>The fields are plain: a slot is written by the one producer before it publishes and read by
 * the one consumer after, and the Disruptor's sequence barrier orders both.
 */
public final class FrameSlot {
  /** Room for a new Ethernet header (14) and an outer IPv4 header (20), rounded to a line. */
  public static final int HEADROOM = 64;

  /** Largest frame a slot holds: a 9000-byte jumbo MTU plus an 802.1Q-tagged header. */
  public static final int MAX_FRAME = 9018;

  /** Bytes per slot, a multiple of 64 so slots do not share cache lines. */
  public static final int SLOT_SIZE = (HEADROOM + MAX_FRAME + 63) & ~63;

  public static final int KIND_FRAME = 0;

  /** No frame: a periodic tick so timers and queued commands run while traffic is idle. */
  public static final int KIND_TICK = 1;

  /** Ends the pipeline: the consumer flushes and stops taking work. */
  public static final int KIND_END = 2;

  public final UnsafeBuffer buffer;
  public int kind;
  public int offset;
  public int length;
  public int ingress;
  public long timestampNanos;

  /** A slot over {@code [index × SLOT_SIZE, (index + 1) × SLOT_SIZE)} of {@code memory}. */
  public FrameSlot(ByteBuffer memory, int index) {
    this.buffer = new UnsafeBuffer(memory, index * SLOT_SIZE, SLOT_SIZE);
    this.offset = HEADROOM;
  }

  /** Bytes available for a frame starting at the headroom. */
  public static int frameCapacity() {
    return SLOT_SIZE - HEADROOM;
  }
}
