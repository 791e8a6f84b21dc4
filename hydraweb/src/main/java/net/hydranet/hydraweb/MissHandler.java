package net.hydranet.hydraweb;

/**
 * What the replica does when a request's path is not in its cache. The default answers 404; the
 * replica manager's handler fetches the object from the origin (the paper: misses are served
 * through the replica manager).
 *
 * <p>{@link #onMiss} runs on an event-loop thread and must not block: a handler that needs the
 * network starts the fetch and answers later, from any thread, through the {@link Miss}. Until it
 * answers, the connection waits (its later pipelined requests too); other connections are served.
 */
@FunctionalInterface
public interface MissHandler {
  /** Answers every miss with 404. */
  MissHandler NOT_FOUND = Miss::notFound;

  void onMiss(Miss miss);
}
