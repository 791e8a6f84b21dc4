package net.hydranet.control.auth;

import java.util.HashMap;
import java.util.Map;
import net.hydranet.control.wire.Malformed;

/**
 * Refuses a replayed message: each sender's timestamps must strictly increase, and lie within
 * {@code windowMicros} of this node's clock — the second rule covers a receiver that restarted and
 * forgot the last timestamp (a message captured more than a window ago is refused even then).
 * Senders use wall-clock microseconds, kept strictly increasing, so a restarted sender carries on
 * above its old values. The map holds one entry per trusted sender only: unknown senders are
 * refused before they get here.
 */
public final class ReplayGuard {
  private final long windowMicros;
  private final Map<Integer, Long> last = new HashMap<>();

  public ReplayGuard(long windowMicros) {
    this.windowMicros = windowMicros;
  }

  /** Why this timestamp is refused, or null if it may be accepted (after its signature checks). */
  public Malformed check(int sender, long timestamp, long nowMicros) {
    Long previous = last.get(sender);
    if (previous != null && timestamp <= previous) {
      return Malformed.REPLAYED;
    }
    if (Math.abs(timestamp - nowMicros) > windowMicros) {
      return Malformed.STALE;
    }
    return null;
  }

  /** Records an authenticated message's timestamp. */
  public void accept(int sender, long timestamp) {
    last.merge(sender, timestamp, Math::max);
  }
}
