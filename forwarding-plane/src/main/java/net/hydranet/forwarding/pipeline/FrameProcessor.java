package net.hydranet.forwarding.pipeline;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * An element chain the {@link Pipeline}'s forwarding thread runs: the redirector's {@link
 * ForwardingPath}, or the host server's decapsulation path.
 */
public interface FrameProcessor {
  /** Sets the clock and runs due timers; called for every event, frames and ticks alike. */
  void tick(long nowNanos);

  /** Runs one received frame; the bytes before {@code offset} are headroom it may write. */
  void process(MutableDirectBuffer buffer, int offset, int length, int ingress);

  /** End of a ring batch: push out what was queued. */
  void flush();

  /**
   * Look-ahead, pass one: a frame that {@link #process} will run soon, after {@link
   * #loadPrefetched}. It may note which table lines that will need; it reads the frame and changes
   * nothing {@link #process} sees, so a frame runs the same with or without it. None by default.
   */
  default void prefetch(DirectBuffer buffer, int offset, int length) {}

  /**
   * Look-ahead, end of pass one: reads the lines noted since the last call, together, so that their
   * cache misses overlap.
   *
   * @return how many lines were read
   */
  default int loadPrefetched() {
    return 0;
  }
}
