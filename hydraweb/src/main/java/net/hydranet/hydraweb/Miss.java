package net.hydranet.hydraweb;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One request that missed the cache, answered exactly once through {@link #serve}, {@link
 * #notFound} or {@link #fail}, from any thread. Later answers are ignored.
 */
public final class Miss {
  private static final int PENDING = 0;
  private static final int WAITING = 1; // onMiss returned unanswered: an answer goes to the loop
  private static final int ANSWERED = 2;

  private final String path;
  private final boolean head;
  private final String client;
  private final EventLoop loop;
  private final Connection connection;
  private final AtomicInteger state = new AtomicInteger(PENDING);
  // Written before the state turns ANSWERED, read after: published by the AtomicInteger.
  private WebObject object;
  private int status;

  Miss(String path, boolean head, String client, EventLoop loop, Connection connection) {
    this.path = path;
    this.head = head;
    this.client = client;
    this.loop = loop;
    this.connection = connection;
  }

  /** The decoded request path. */
  public String path() {
    return path;
  }

  /** True for HEAD, false for GET. */
  public boolean isHead() {
    return head;
  }

  /** The client's address as text (for logs and the manager's records). */
  public String client() {
    return client;
  }

  /**
   * Answers with {@code object}, as if it had been a hit (conditions and ranges apply). The handler
   * decides whether to {@link ObjectCache#put} it as well.
   */
  public void serve(WebObject object) {
    answer(java.util.Objects.requireNonNull(object, "object"), 200);
  }

  /** Answers 404 Not Found. */
  public void notFound() {
    answer(null, 404);
  }

  /** Answers with an error status: 502, 503 or 504 (the origin could not be reached in time). */
  public void fail(int status) {
    if (status != 502 && status != 503 && status != 504) {
      throw new IllegalArgumentException("a miss fails with 502, 503 or 504, not " + status);
    }
    answer(null, status);
  }

  /** The server's own answer when the handler failed. */
  void answerError(int s) {
    answer(null, s);
  }

  private void answer(WebObject o, int s) {
    if (state.get() == ANSWERED) {
      return;
    }
    synchronized (this) {
      if (state.get() == ANSWERED) {
        return;
      }
      object = o;
      status = s;
      int before = state.getAndSet(ANSWERED);
      if (before == WAITING) {
        loop.post(() -> connection.missAnswered(this));
      }
    }
  }

  /** After onMiss returned: true if answered already (serve it inline), else the loop waits. */
  boolean answeredInline() {
    return !state.compareAndSet(PENDING, WAITING);
  }

  WebObject object() {
    return object;
  }

  int status() {
    return status;
  }
}
