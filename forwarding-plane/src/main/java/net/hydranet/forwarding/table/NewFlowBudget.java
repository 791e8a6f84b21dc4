package net.hydranet.forwarding.table;

/**
 * How many new flows a pipeline's connection table may record: a token bucket of {@code rate}
 * tokens a second, {@code burst} deep, on the pipeline's own clock (the frame timestamps its path
 * is ticked with — no clock read here). Katran's per-CPU new-connection rate, above which it stops
 * inserting into its LRU, as a bucket rather than a one-second window, so that a flood early in a
 * second cannot use a whole second's budget at once.
 *
 * <p>Kept as a single timestamp, like the ICMP limiter: the bucket is full when it lags the clock
 * by a burst's worth of time, and a token moves it forward by one token's time. Rate 0 is no limit.
 * Nothing allocates; forwarding thread only.
 */
public final class NewFlowBudget {
  private final long nanosPerToken;
  private final long burstNanos;
  private long bucketTime;
  private boolean started;

  /**
   * @param rate tokens per second, 0 for no limit (at most 10^9)
   * @param burst tokens the bucket holds, at least 1
   */
  public NewFlowBudget(int rate, int burst) {
    if (rate < 0 || rate > 1_000_000_000) {
      throw new IllegalArgumentException("new-flow rate must be in [0, 10^9], was " + rate);
    }
    if (burst < 1) {
      throw new IllegalArgumentException("new-flow burst must be at least 1, was " + burst);
    }
    this.nanosPerToken = rate == 0 ? 0 : 1_000_000_000L / rate;
    this.burstNanos = nanosPerToken * burst;
  }

  /** Takes a token at {@code now} if there is one. Always true without a limit. */
  public boolean take(long now) {
    if (nanosPerToken == 0) {
      return true;
    }
    // Differences, not comparisons: the clock may be System.nanoTime, negative or wrapping.
    if (!started || bucketTime - (now - burstNanos) < 0) {
      bucketTime = now - burstNanos;
      started = true;
    }
    if (bucketTime + nanosPerToken - now > 0) {
      return false;
    }
    bucketTime += nanosPerToken;
    return true;
  }

  /** Whether this budget limits anything (a rate was set). */
  public boolean limited() {
    return nanosPerToken != 0;
  }
}
