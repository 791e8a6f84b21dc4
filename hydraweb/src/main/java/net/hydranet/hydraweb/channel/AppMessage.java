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

  /** Hits per cached path, and the replica's total misses and requests. */
  record Hits(long id, Map<String, Long> hits, long misses, long requests) implements AppMessage {
    public Hits {
      hits = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(hits));
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
