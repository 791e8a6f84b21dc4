package net.hydranet.hydraweb.manager;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * When to install and remove replicas (the paper's load-driven replication): install on the first
 * free host server when the origin's load has stayed above {@code installAbove} requests/s for
 * {@code installAfter}; remove the newest replica old enough when it has stayed below {@code
 * removeBelow} for {@code removeAfter}. One action per decision: a second replica needs the load to
 * stay high for another {@code installAfter}. Pure: time and load are given, so tests drive it with
 * a fake clock.
 */
public final class PlacementPolicy {
  /**
   * @param installAbove requests/s above which replicas are wanted
   * @param installAfter how long the load must stay above before an install
   * @param removeBelow requests/s below which replicas are not needed (≤ installAbove)
   * @param removeAfter how long the load must stay below before a removal
   * @param minLifetime a replica younger than this is never removed for low load
   * @param minReplicas replicas kept whatever the load (installed at start)
   * @param maxReplicas at most this many (and at most one per host server)
   */
  public record Settings(
      double installAbove,
      Duration installAfter,
      double removeBelow,
      Duration removeAfter,
      Duration minLifetime,
      int minReplicas,
      int maxReplicas) {
    /** 200 req/s for 3 s installs; under 50 req/s for 30 s removes; a replica lives ≥ 60 s. */
    public static final Settings DEFAULT =
        new Settings(
            200, Duration.ofSeconds(3), 50, Duration.ofSeconds(30), Duration.ofSeconds(60), 0, 1);

    public Settings {
      if (!(installAbove >= 0) || !(removeBelow >= 0) || removeBelow > installAbove) {
        throw new IllegalArgumentException(
            "placement: need 0 ≤ removeBelow ≤ installAbove, not "
                + removeBelow
                + " and "
                + installAbove);
      }
      if (installAfter.isNegative() || removeAfter.isNegative() || minLifetime.isNegative()) {
        throw new IllegalArgumentException("placement: durations must be ≥ 0");
      }
      if (minReplicas < 0 || maxReplicas < minReplicas) {
        throw new IllegalArgumentException(
            "placement: need 0 ≤ minReplicas ≤ maxReplicas, not "
                + minReplicas
                + " and "
                + maxReplicas);
      }
    }
  }

  /** A replica the manager runs. */
  public record Running(String name, int hostIndex, long installedAtMillis) {}

  public enum Action {
    NONE,
    INSTALL,
    REMOVE
  }

  /**
   * What to do, where, and why: {@code reason} in words (the log line's message), and the same as
   * data for the log's keys: {@code cause} ({@link #MIN_REPLICAS}, {@link #LOAD_ABOVE}, {@link
   * #LOAD_BELOW}), the {@code load} in requests/s (NaN: unknown), the {@code threshold} it crossed
   * (NaN for the minimum) and for how long ({@code sustainedMillis}).
   */
  public record Decision(
      Action action,
      int hostIndex,
      String replica,
      String reason,
      String cause,
      double load,
      double threshold,
      long sustainedMillis) {
    static final Decision NONE =
        new Decision(Action.NONE, -1, null, "", "", Double.NaN, Double.NaN, 0);
  }

  /** Decision causes: fewer replicas than the minimum, load above, load below. */
  public static final String MIN_REPLICAS = "min_replicas";

  public static final String LOAD_ABOVE = "load_above";
  public static final String LOAD_BELOW = "load_below";

  private final Settings settings;
  private final List<String> hosts;
  private long aboveSince = -1;
  private long belowSince = -1;

  /** {@code hosts}: the host servers' names, in order of preference (index = host index). */
  public PlacementPolicy(Settings settings, List<String> hosts) {
    this.settings = settings;
    this.hosts = List.copyOf(hosts);
  }

  /**
   * The decision at {@code nowMillis} with {@code load} requests/s (NaN: unknown, so only the
   * minimum count is acted on), {@code running} replicas, and {@code nextName} for an install.
   */
  public synchronized Decision decide(
      long nowMillis, double load, List<Running> running, String nextName) {
    track(nowMillis, load);
    int free = freeHost(running);
    int n = running.size();
    if (n < settings.minReplicas() && free >= 0) {
      return install(
          free,
          nextName,
          "fewer than the minimum of " + settings.minReplicas() + " replica(s)",
          MIN_REPLICAS,
          load,
          Double.NaN,
          0);
    }
    if (aboveSince >= 0
        && nowMillis - aboveSince >= settings.installAfter().toMillis()
        && n < settings.maxReplicas()
        && free >= 0) {
      return installForLoad(nowMillis, load, free, nextName);
    }
    if (belowSince >= 0
        && nowMillis - belowSince >= settings.removeAfter().toMillis()
        && n > settings.minReplicas()) {
      Running victim = youngestPastMinLifetime(running, nowMillis);
      if (victim != null) {
        return removeForLoad(nowMillis, load, victim);
      }
    }
    return Decision.NONE;
  }

  /** Since when the load has stayed above the install threshold, or below the removal one. */
  private void track(long nowMillis, double load) {
    if (Double.isNaN(load)) {
      aboveSince = -1;
      belowSince = -1;
    } else if (load > settings.installAbove()) {
      aboveSince = aboveSince < 0 ? nowMillis : aboveSince;
      belowSince = -1;
    } else if (load < settings.removeBelow()) {
      belowSince = belowSince < 0 ? nowMillis : belowSince;
      aboveSince = -1;
    } else {
      aboveSince = -1;
      belowSince = -1;
    }
  }

  /** An install for a load above the threshold since {@code aboveSince}; the wait starts again. */
  private Decision installForLoad(long nowMillis, double load, int free, String nextName) {
    long sustained = nowMillis - aboveSince;
    String why =
        String.format(
            Locale.ROOT,
            "%.0f req/s > %.0f for %s",
            load,
            settings.installAbove(),
            seconds(sustained));
    aboveSince = nowMillis;
    return install(free, nextName, why, LOAD_ABOVE, load, settings.installAbove(), sustained);
  }

  /** The replica installed last of those older than the minimum lifetime, or null. */
  private Running youngestPastMinLifetime(List<Running> running, long nowMillis) {
    Running victim = null;
    for (Running r : running) {
      if (nowMillis - r.installedAtMillis() >= settings.minLifetime().toMillis()
          && (victim == null || r.installedAtMillis() > victim.installedAtMillis())) {
        victim = r;
      }
    }
    return victim;
  }

  /** The removal of {@code victim} for a load below the threshold; the wait starts again. */
  private Decision removeForLoad(long nowMillis, double load, Running victim) {
    long sustained = nowMillis - belowSince;
    String why =
        String.format(
            Locale.ROOT,
            "removing %s from %s: %.0f req/s < %.0f for %s",
            victim.name(),
            hosts.get(victim.hostIndex()),
            load,
            settings.removeBelow(),
            seconds(sustained));
    belowSince = nowMillis;
    return new Decision(
        Action.REMOVE,
        victim.hostIndex(),
        victim.name(),
        why,
        LOAD_BELOW,
        load,
        settings.removeBelow(),
        sustained);
  }

  private Decision install(
      int host,
      String name,
      String why,
      String cause,
      double load,
      double threshold,
      long sustained) {
    return new Decision(
        Action.INSTALL,
        host,
        name,
        "installing " + name + " on " + hosts.get(host) + ": " + why,
        cause,
        load,
        threshold,
        sustained);
  }

  private int freeHost(List<Running> running) {
    for (int h = 0; h < hosts.size(); h++) {
      boolean used = false;
      for (Running r : running) {
        used |= r.hostIndex() == h;
      }
      if (!used) {
        return h;
      }
    }
    return -1;
  }

  private static String seconds(long millis) {
    return millis % 1000 == 0
        ? millis / 1000 + " s"
        : String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
  }
}
