package net.hydranet.hydraweb;

/** The server's counters, one per event; each event loop keeps its own and readers add them. */
public enum ServerCounter {
  CONNECTIONS_ACCEPTED("connections_accepted"),
  /** Accepted and closed at once: the loop already held its maximum. */
  CONNECTIONS_REFUSED("connections_refused"),
  CONNECTIONS_CLOSED("connections_closed"),
  REQUESTS("requests"),
  RESPONSES_200("responses_200"),
  RESPONSES_206("responses_206"),
  RESPONSES_304("responses_304"),
  RESPONSES_403("responses_403"),
  RESPONSES_404("responses_404"),
  RESPONSES_416("responses_416"),
  /** 400, 405, 413, 414, 431, 505: requests refused as malformed, too large or unsupported. */
  RESPONSES_OTHER_4XX("responses_other_4xx"),
  RESPONSES_5XX("responses_5xx"),
  MISSES_WAITING("misses_answered_later"),
  /** A request head not completed in time (slow or stalled clients). */
  TIMEOUTS_HEADER("timeouts_header"),
  TIMEOUTS_IDLE("timeouts_idle"),
  TIMEOUTS_WRITE("timeouts_write"),
  TIMEOUTS_MISS("timeouts_miss"),
  IO_ERRORS("io_errors"),
  HANDLER_ERRORS("miss_handler_errors");

  private final String metricName;

  ServerCounter(String metricName) {
    this.metricName = metricName;
  }

  public String metricName() {
    return metricName;
  }
}
