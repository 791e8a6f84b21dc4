package net.hydranet.forwarding.io;

/**
 * Blocks a receive thread that has long found nothing until one of its sources may have a frame: an
 * idle router then sleeps in the kernel instead of waking to poll thousands of times a second.
 */
@FunctionalInterface
public interface FrameWait {
  /** Returns when a frame may be waiting, or after {@code timeoutMillis}, whichever is first. */
  void await(int timeoutMillis);
}
