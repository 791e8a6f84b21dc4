package net.hydranet.hydraweb.manager;

/**
 * Whether the origin's web server answers, as the manager last saw it (the paper, section 5: when
 * the origin fails, the replicas "take over" with what they hold). Every fetch of a miss and every
 * probe reports here: any HTTP answer, whatever its status, is a contact; a refused, reset or
 * unanswered connection is a failure, and the origin is {@link State#DOWN} from the first one.
 *
 * <p>While down, a miss is answered at once with the last failure's status — 502 when the origin
 * refused or reset, 504 when it did not answer in time — instead of each waiting out a connect or
 * fetch timeout: {@link #failFast}. Once per retry interval one miss (or the probe) is let through
 * to try again, and the first answer brings the origin back {@link State#UP}. A circuit breaker in
 * its simplest form (closed, open, one trial when half open).
 *
 * <p>Any thread; one lock, no I/O under it. Times are the manager's clock, in milliseconds.
 */
final class OriginHealth {
  /** What the manager knows of its origin's web server. */
  enum State {
    /** Not contacted yet. */
    UNKNOWN,
    /** It answered last time. */
    UP,
    /** Its last contact failed: refused, reset or no answer within the timeout. */
    DOWN
  }

  /**
   * A copy for readers.
   *
   * @param lastContactMillis when it last answered, or -1
   * @param downSinceMillis when it went down (DOWN only), or -1
   * @param status what misses are answered while down: 502 or 504 (DOWN only), else 0
   * @param failure the last failure, in words (DOWN only), else null
   */
  record Snapshot(
      State state, long lastContactMillis, long downSinceMillis, int status, String failure) {}

  private final long retryMillis;
  private State state = State.UNKNOWN;
  private long lastContact = -1;
  private long downSince = -1;
  private long lastTrial;
  private int status;
  private String failure;

  /**
   * @param retryMillis while down, one miss per this interval is let through to the origin
   */
  OriginHealth(long retryMillis) {
    if (retryMillis <= 0) {
      throw new IllegalArgumentException("retryMillis must be > 0, was " + retryMillis);
    }
    this.retryMillis = retryMillis;
  }

  /**
   * The origin answered.
   *
   * @return true if it was down: it is back
   */
  synchronized boolean reached(long nowMillis) {
    boolean back = state == State.DOWN;
    state = State.UP;
    lastContact = nowMillis;
    downSince = -1;
    status = 0;
    failure = null;
    return back;
  }

  /**
   * The origin could not be reached: {@code failStatus} 502 (refused, reset) or 504 (no answer in
   * time), {@code why} in words.
   *
   * @return true if it was not down before: it just went down
   */
  synchronized boolean failed(long nowMillis, int failStatus, String why) {
    if (failStatus != 502 && failStatus != 504) {
      throw new IllegalArgumentException("an unreachable origin is 502 or 504, not " + failStatus);
    }
    boolean wentDown = state != State.DOWN;
    if (wentDown) {
      downSince = nowMillis;
    }
    state = State.DOWN;
    lastTrial = nowMillis;
    status = failStatus;
    failure = why;
    return wentDown;
  }

  /**
   * Whether a miss may try the origin: 0 to try (up, unknown, or the one trial of this retry
   * interval, which this call claims), else the status to answer at once.
   */
  synchronized int failFast(long nowMillis) {
    if (state != State.DOWN) {
      return 0;
    }
    if (nowMillis - lastTrial >= retryMillis) {
      lastTrial = nowMillis;
      return 0;
    }
    return status;
  }

  /**
   * Whether a probe is due: nothing heard from the origin, answer or failure, for {@code
   * intervalMillis} — so a busy origin, contacted by misses, is never probed.
   */
  synchronized boolean probeDue(long nowMillis, long intervalMillis) {
    long last = Math.max(lastContact, state == State.DOWN ? lastTrial : -1);
    return last < 0 || nowMillis - last >= intervalMillis;
  }

  synchronized Snapshot snapshot() {
    return new Snapshot(state, lastContact, downSince, status, failure);
  }
}
