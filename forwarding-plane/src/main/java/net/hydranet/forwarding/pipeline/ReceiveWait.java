package net.hydranet.forwarding.pipeline;

/**
 * A wait strategy that also knows how to put the receive thread to sleep until a frame may have
 * arrived. When the pipeline's wait strategy implements it, an idle receive thread blocks here
 * instead of parking on a timer, so a frame wakes it as soon as the kernel queues it.
 */
public interface ReceiveWait {
  /**
   * Blocks the receive thread until a source may have a frame or {@code timeoutMillis} passed.
   * Spurious returns are allowed: the caller polls its sources again either way.
   */
  void awaitFrames(int timeoutMillis);
}
