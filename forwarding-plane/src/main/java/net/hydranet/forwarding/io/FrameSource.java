package net.hydranet.forwarding.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.agrona.BufferUtil;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/** Where frames come from: a NIC, a capture file, a test. Polled by the one receive thread. */
public interface FrameSource extends AutoCloseable {
  /** {@link #poll} found nothing now; try again. */
  int NONE = 0;

  /** {@link #poll} reached the end of the input (a file); there will be no more frames. */
  int END = -1;

  /**
   * Copies the next frame into {@code buffer} at {@code offset}, at most {@code capacity} bytes
   * (longer frames are counted by the source and skipped, never truncated).
   *
   * @param meta receives the frame's timestamp and ingress interface index
   * @return the frame length, {@link #NONE} or {@link #END}
   */
  int poll(MutableDirectBuffer buffer, int offset, int capacity, FrameMeta meta);

  /**
   * Copies up to {@code max} frames (at least 1, at most {@link Batch#maxFrames()}) into the
   * batch's consecutive slots, starting at its {@link Batch#first()}, and records each one's
   * length, timestamp and ingress. Frames too long for a slot are counted and skipped, as in {@link
   * #poll}. This default calls {@link #poll} once per frame until it finds nothing; a live capture
   * reads the whole batch in one native call.
   *
   * @return how many frames were stored, 0 if none now; fewer than {@code max} means the source had
   *     no more now (or ended: then {@link Batch#ended()} is set)
   * @throws RuntimeException when the source fails before its first frame; a failure after some
   *     frames is kept in {@link Batch#failure()}, to be thrown once those frames are handled
   */
  default int pollBatch(Batch batch, int max) {
    final FrameMeta meta = batch.meta;
    int n = 0;
    while (n < max) {
      final int length;
      try {
        length = poll(batch.slots, batch.frameOffset(n), batch.capacity, meta);
      } catch (RuntimeException e) {
        if (n == 0) {
          throw e;
        }
        batch.failure = e;
        break;
      }
      if (length <= 0) {
        if (length == END) {
          batch.end();
        }
        break;
      }
      batch.frame(n, length, meta.timestampNanos, meta.ingress);
      n++;
    }
    return n;
  }

  @Override
  void close();

  /** Per-frame facts a source reports beside the bytes; reused, never allocated per frame. */
  final class FrameMeta {
    public long timestampNanos;
    public int ingress;
  }

  /**
   * Where one {@link #pollBatch} writes: consecutive slots of a ring of equal slots in one direct
   * buffer (slot {@code i} at {@code i × slotSize}, its frame at {@code + headroom}, wrapping at
   * the ring's end), and a table of each frame's length, timestamp and ingress. Native memory both,
   * so a native reader fills them directly; owned by the one receive thread, reused for every
   * batch.
   */
  final class Batch {
    /** Bytes per frame in the {@link #frames} table: timestamp (long), length, ingress (ints). */
    public static final int FRAME_BYTES = 16;

    private final UnsafeBuffer slots;
    private final long mask;
    private final int slotSize;
    private final int headroom;
    private final int capacity;
    private final int maxFrames;
    private final UnsafeBuffer frames;
    private final FrameMeta meta = new FrameMeta();
    private long first;
    private boolean ended;
    private RuntimeException failure;

    /**
     * @param slotMemory the ring's slots, {@code slotCount × slotSize} bytes, direct
     * @param slotCount a power of two
     * @param capacity the longest frame a slot takes, at most {@code slotSize - headroom}
     * @param maxFrames the most frames one batch holds
     */
    public Batch(
        ByteBuffer slotMemory,
        int slotCount,
        int slotSize,
        int headroom,
        int capacity,
        int maxFrames) {
      if (Integer.bitCount(slotCount) != 1
          || (long) slotCount * slotSize > slotMemory.capacity()
          || headroom < 0
          || capacity < 1
          || headroom + capacity > slotSize
          || maxFrames < 1) {
        throw new IllegalArgumentException(
            "batch over "
                + slotCount
                + " slots of "
                + slotSize
                + " B (headroom "
                + headroom
                + ", capacity "
                + capacity
                + ", "
                + maxFrames
                + " frames) in "
                + slotMemory.capacity()
                + " B");
      }
      this.slots = new UnsafeBuffer(slotMemory, 0, slotCount * slotSize);
      this.mask = slotCount - 1;
      this.slotSize = slotSize;
      this.headroom = headroom;
      this.capacity = capacity;
      this.maxFrames = maxFrames;
      this.frames =
          new UnsafeBuffer(
              BufferUtil.allocateDirectAligned(maxFrames * FRAME_BYTES, 64)
                  .order(ByteOrder.nativeOrder()));
    }

    /**
     * The next batch starts at slot {@code sequence & (slotCount - 1)}; clears {@link #ended} and
     * {@link #failure}.
     */
    public void startAt(long sequence) {
      this.first = sequence;
      this.ended = false;
      this.failure = null;
    }

    /** Where frame {@code j} of this batch starts in {@link #slots()}. */
    public int frameOffset(int j) {
      return (int) (((first + j) & mask) * slotSize + headroom);
    }

    /** Records frame {@code j}, already copied to {@link #frameOffset}{@code (j)}. */
    public void frame(int j, int length, long timestampNanos, int ingress) {
      final int o = j * FRAME_BYTES;
      frames.putLong(o, timestampNanos);
      frames.putInt(o + 8, length);
      frames.putInt(o + 12, ingress);
    }

    public int length(int j) {
      return frames.getInt(j * FRAME_BYTES + 8);
    }

    public long timestampNanos(int j) {
      return frames.getLong(j * FRAME_BYTES);
    }

    public int ingress(int j) {
      return frames.getInt(j * FRAME_BYTES + 12);
    }

    /** The source reached its end during this batch; the frames stored before still count. */
    public void end() {
      ended = true;
    }

    public boolean ended() {
      return ended;
    }

    /** Why the source failed after this batch's frames, or null. */
    public RuntimeException failure() {
      return failure;
    }

    public MutableDirectBuffer slots() {
      return slots;
    }

    /** Native address of slot 0. */
    public long slotsAddress() {
      return slots.addressOffset();
    }

    /** Native address of the frame table ({@link #FRAME_BYTES} per frame). */
    public long framesAddress() {
      return frames.addressOffset();
    }

    public long first() {
      return first;
    }

    public long mask() {
      return mask;
    }

    public int slotSize() {
      return slotSize;
    }

    public int headroom() {
      return headroom;
    }

    public int capacity() {
      return capacity;
    }

    public int maxFrames() {
      return maxFrames;
    }
  }
}
