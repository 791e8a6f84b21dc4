package net.hydranet.hydraweb.manager;

/** What the replica manager counts (plain longs; a scrape reads them through counters()). */
public enum ManagerCounter {
  SCANS,
  CHANGES_DETECTED,
  PUTS_SENT,
  DELETES_SENT,
  RETRIES,
  ACKS_STORED,
  ACKS_STALE,
  ACKS_TOO_LARGE,
  ACKS_ERROR,
  ACKS_LATE,
  MISSES,
  MISSES_COALESCED,
  ANSWERS_200,
  ANSWERS_404,
  ANSWERS_ERROR,
  /** Misses answered 502/504 at once because the origin's web server is down (OriginHealth). */
  ANSWERS_ORIGIN_DOWN,
  FETCHES_REJECTED,
  HITS_POLLS,
  HITS_UNMETERED,
  MALFORMED,
  SEND_FAILURES,
  READ_ERRORS,
  INSTALLS,
  INSTALL_FAILURES,
  REMOVES,
  REMOVE_FAILURES,
  REPLICAS_LOST,
  /** Times the origin's web server went down (refused, reset, or no answer in time). */
  ORIGIN_DOWN_EVENTS,
  /** Times it answered again after being down. */
  ORIGIN_UP_EVENTS,
  /** Probes of the origin while nothing else was heard from it. */
  ORIGIN_PROBES
}
