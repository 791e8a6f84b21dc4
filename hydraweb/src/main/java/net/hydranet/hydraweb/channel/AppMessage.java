package net.hydranet.hydraweb.channel;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * HydraWeb's application messages between the replica manager and a replica (REPLICAS.md,
 * "HydraWeb's application messages"), decoded. {@link AppCodec} turns them into payloads and back.
 */
public sealed interface AppMessage {
  /** The message's type code on the wire. */
  int type();

  int PUT = 1;
  int DELETE = 2;
  int RULES = 3;
  int SLOT = 4;
  int HITS_QUERY = 5;
  int ACK = 16;
  int MISS = 17;
  int ANSWER = 18;
  int HITS = 19;
  int READY = 20;

  /** ACK results. */
  int STORED = 0;

  int STALE = 1;
  int TOO_LARGE = 2;
  int ERROR = 3;

  /**
   * An object as PUT and a 200 ANSWER carry it; {@code lastModifiedMillis} since the epoch. A
   * {@code template}'s body has {@code {{slot}}}s the replica fills per request (its SLOT values);
   * otherwise the body is served as it is.
   */
  record Content(
      String path,
      String contentType,
      long lastModifiedMillis,
      long version,
      byte[] body,
      boolean template) {
    public Content {
      Objects.requireNonNull(path, "path");
      Objects.requireNonNull(contentType, "contentType");
      Objects.requireNonNull(body, "body");
    }

    /** A static object. */
    public Content(
        String path, String contentType, long lastModifiedMillis, long version, byte[] body) {
      this(path, contentType, lastModifiedMillis, version, body, false);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Content c
          && path.equals(c.path)
          && contentType.equals(c.contentType)
          && lastModifiedMillis == c.lastModifiedMillis
          && version == c.version
          && Arrays.equals(body, c.body)
          && template == c.template;
    }

    @Override
    public int hashCode() {
      return Objects.hash(path, version, Arrays.hashCode(body), template);
    }

    @Override
    public String toString() {
      return path
          + " v"
          + version
          + " ("
          + body.length
          + " B, "
          + contentType
          + (template ? ", template" : "")
          + ")";
    }
  }

  /** Store (or replace) an object. */
  record Put(long id, Content content) implements AppMessage {
    public Put {
      Objects.requireNonNull(content, "content");
    }

    @Override
    public int type() {
      return PUT;
    }
  }

  record Delete(long id, String path) implements AppMessage {
    @Override
    public int type() {
      return DELETE;
    }
  }

  /** Replace the access rules ({@code AccessRules} text). */
  record Rules(long id, String rules) implements AppMessage {
    @Override
    public int type() {
      return RULES;
    }
  }

  /** Set a template slot's values (an empty list clears it). */
  record Slot(long id, String name, List<String> values) implements AppMessage {
    public Slot {
      values = List.copyOf(values);
    }

    @Override
    public int type() {
      return SLOT;
    }
  }

  /** Ask for the hit counters. */
  record HitsQuery(long id) implements AppMessage {
    @Override
    public int type() {
      return HITS_QUERY;
    }
  }

  /** The answer to PUT, DELETE, RULES and SLOT: {@link #STORED}, {@link #STALE} … */
  record Ack(long id, int result) implements AppMessage {
    @Override
    public int type() {
      return ACK;
    }
  }

  /** The replica does not hold {@code path}: the manager should ANSWER it. */
  record Miss(long missId, String path, boolean head) implements AppMessage {
    @Override
    public int type() {
      return MISS;
    }
  }

  /**
   * The manager's answer to a MISS: {@code content} is present exactly when status is 200; {@code
   * cache} asks the replica to keep it.
   */
  record Answer(long missId, int status, Content content, boolean cache) implements AppMessage {
    public Answer {
      if ((status == 200) != (content != null)) {
        throw new IllegalArgumentException("an ANSWER carries content exactly when it is 200");
      }
    }

    @Override
    public int type() {
      return ANSWER;
    }
  }

  /**
   * A latency histogram as HITS carries it: the finite upper bounds in nanoseconds (1 to {@link
   * #MAX_BOUNDS} of them, positive, strictly increasing), the cumulative count of durations at or
   * under each, the total count (the {@code +Inf} bucket) and the sum of the durations in
   * nanoseconds. Counts are since the replica started.
   */
  record Latency(long[] boundsNanos, long[] cumulative, long count, long sumNanos) {
    public static final int MAX_BOUNDS = 64;

    public Latency {
      boundsNanos = boundsNanos.clone();
      cumulative = cumulative.clone();
      String wrong = wrong(boundsNanos, cumulative, count, sumNanos);
      if (wrong != null) {
        throw new IllegalArgumentException(wrong);
      }
    }

    /** What breaks the rules above, or null. */
    static String wrong(long[] bounds, long[] cumulative, long count, long sumNanos) {
      if (bounds.length < 1 || bounds.length > MAX_BOUNDS) {
        return "a histogram has 1.." + MAX_BOUNDS + " bounds, not " + bounds.length;
      }
      if (cumulative.length != bounds.length) {
        return cumulative.length + " counts for " + bounds.length + " bounds";
      }
      for (int i = 0; i < bounds.length; i++) {
        if (bounds[i] <= (i == 0 ? 0 : bounds[i - 1])) {
          return "bound "
              + i
              + " ("
              + Long.toUnsignedString(bounds[i])
              + " ns) is not above the last";
        }
        if (cumulative[i] < (i == 0 ? 0 : cumulative[i - 1])) {
          return "count at bound "
              + i
              + " ("
              + Long.toUnsignedString(cumulative[i])
              + ") is below the last";
        }
      }
      if (count < cumulative[cumulative.length - 1]) {
        return "total count " + Long.toUnsignedString(count) + " is below the last bucket's";
      }
      if (sumNanos < 0) {
        return "sum out of range: " + Long.toUnsignedString(sumNanos);
      }
      return null;
    }

    @Override
    public long[] boundsNanos() {
      return boundsNanos.clone();
    }

    @Override
    public long[] cumulative() {
      return cumulative.clone();
    }

    /** Bound {@code i}, without a copy. */
    public long boundNanos(int i) {
      return boundsNanos[i];
    }

    /** The cumulative count at bound {@code i}, without a copy. */
    public long cumulative(int i) {
      return cumulative[i];
    }

    public int bounds() {
      return boundsNanos.length;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Latency l
          && Arrays.equals(boundsNanos, l.boundsNanos)
          && Arrays.equals(cumulative, l.cumulative)
          && count == l.count
          && sumNanos == l.sumNanos;
    }

    @Override
    public int hashCode() {
      return Objects.hash(Arrays.hashCode(boundsNanos), Arrays.hashCode(cumulative), count);
    }

    @Override
    public String toString() {
      return count
          + " in "
          + sumNanos
          + " ns, le "
          + Arrays.toString(boundsNanos)
          + " ns: "
          + Arrays.toString(cumulative);
    }
  }

  /**
   * Hits per cached path, the replica's total misses and requests, and the service time of its hits
   * and of its misses.
   */
  record Hits(
      long id,
      Map<String, Long> hits,
      long misses,
      long requests,
      Latency hitLatency,
      Latency missLatency)
      implements AppMessage {
    public Hits {
      hits = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(hits));
      Objects.requireNonNull(hitLatency, "hitLatency");
      Objects.requireNonNull(missLatency, "missLatency");
    }

    @Override
    public int type() {
      return HITS;
    }
  }

  /** The replica's first message on every (re)connection of its channel. */
  record Ready(String version) implements AppMessage {
    @Override
    public int type() {
      return READY;
    }
  }
}
