package net.hydranet.forwarding.io;

import org.agrona.MutableDirectBuffer;

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

  @Override
  void close();

  /** Per-frame facts a source reports beside the bytes; reused, never allocated per frame. */
  final class FrameMeta {
    public long timestampNanos;
    public int ingress;
  }
}
