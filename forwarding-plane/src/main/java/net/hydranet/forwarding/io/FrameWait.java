package net.hydranet.forwarding.io;

/**
 * Blocks a receive thread that has long found nothing until one of its sources may have a frame: an
 * idle router then sleeps in the kernel instead of waking to poll thousands of times a second.
 */
@FunctionalInterface
public interface FrameWait {
  /** Every source may have a frame: the wait cannot tell them apart. */
  long ALL = -1L;

  /** Returns when a frame may be waiting, or after {@code timeoutMillis}, whichever is first. */
  void await(int timeoutMillis);

  /**
   * Like {@link #await}, and says which sources may have a frame: bit {@code i} for the {@code
   * i}-th source the wait was built over (the pipeline's sources, in the same order), 0 for none,
   * {@link #ALL} when it cannot tell. {@code timeoutMillis} 0 looks without waiting.
   */
  default long ready(int timeoutMillis) {
    await(timeoutMillis);
    return ALL;
  }

  /**
   * Ends the current (or the next) wait early, from any thread: work other than frames is waiting
   * (a command). A wait that cannot be woken ignores it.
   */
  default void wake() {}

  /**
   * Whether a {@link #wake} ended a wait since the last call, which clears it; receive thread only.
   */
  default boolean takeWake() {
    return false;
  }

  /** Releases what the wait holds (a descriptor), once no thread waits in it any more. */
  default void close() {}
}
