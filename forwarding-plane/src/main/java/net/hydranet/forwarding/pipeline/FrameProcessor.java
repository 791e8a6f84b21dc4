package net.hydranet.forwarding.pipeline;

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
}
