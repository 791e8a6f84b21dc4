package net.hydranet.control.agent;

/**
 * Bounds the control thread's work per second: each datagram takes a token before any parsing or
 * cryptography; without one it is read, counted and dropped. So a flood of junk costs one receive
 * per datagram and no more, and the data path's cores are not starved.
 */
public final class TokenBucket {
  private final double ratePerNano;
  private final double burst;
  private double tokens;
  private long last;

  public TokenBucket(int perSecond, int burst, long now) {
    this.ratePerNano = perSecond / 1e9;
    this.burst = burst;
    this.tokens = burst;
    this.last = now;
  }

  public boolean take(long now) {
    tokens = Math.min(burst, tokens + (now - last) * ratePerNano);
    last = now;
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }
}
