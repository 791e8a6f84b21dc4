package net.hydranet.control.rib;

/**
 * Route-flap damping for one host server, after RFC 2439: each failure adds a penalty that decays
 * exponentially; above {@code suppress} the host server's announcements are ignored until the
 * penalty decays below {@code reuse}. With the defaults (1000 per failure, suppress above 2500,
 * reuse below 800, half-life 30 s) a host server that fails three times within about half a minute
 * stays out for about a minute; one or two failures are never damped, so ordinary failover and
 * recovery are untouched.
 */
public final class FlapDamper {
  public static final double PENALTY = 1000;
  public static final double SUPPRESS = 2500;
  public static final double REUSE = 800;

  private final double halfLifeNanos;
  private double penalty;
  private long updatedNanos;
  private boolean started;
  private boolean suppressed;

  public FlapDamper(long halfLifeNanos) {
    this.halfLifeNanos = halfLifeNanos;
  }

  /** Records a failure at {@code now}. */
  public void fail(long now) {
    decay(now);
    penalty += PENALTY;
    if (penalty > SUPPRESS) {
      suppressed = true;
    }
  }

  /** True while the host server's announcements are ignored. */
  public boolean suppressed(long now) {
    decay(now);
    if (suppressed && penalty < REUSE) {
      suppressed = false;
    }
    return suppressed;
  }

  public double penalty(long now) {
    decay(now);
    return penalty;
  }

  private void decay(long now) {
    // No sentinel time: System.nanoTime() may read 0, or less.
    if (started && now - updatedNanos > 0) {
      penalty *= Math.pow(0.5, (now - updatedNanos) / halfLifeNanos);
    }
    started = true;
    updatedNanos = now;
  }
}
