package net.hydranet.forwarding.io;

import org.agrona.DirectBuffer;

/**
 * Where one interface's outgoing frames go: a NIC, a capture file, a test. Called only by the
 * forwarding thread; an implementation may batch until {@link #flush()}.
 */
public interface TxPort extends AutoCloseable {
  /**
   * Sends (or queues) one complete link-layer frame. The bytes may be overwritten after return.
   *
   * @return false if the frame could not be sent; the caller counts it
   */
  boolean send(DirectBuffer buffer, int offset, int length, long timestampNanos);

  /** Pushes out anything queued: called at the end of every ring batch. */
  void flush();

  @Override
  void close();
}
