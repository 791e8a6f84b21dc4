package net.hydranet.forwarding.table;

/**
 * The host servers the control plane declared dead, each with the pipeline time it was told: a flow
 * pinned to one of them and last seen before that time was pinned to the incarnation that died
 * ({@code RedirectLookup} releases it at its next packet, so no sweep of the connection table is
 * needed; a flow pinned after the time — the host server back and chosen again — is left alone).
 *
 * <p>Fixed capacity, allocation-free, forwarding thread only. A record is forgotten once every flow
 * it can concern must have expired (the longest flow timeout after the declaration); when the table
 * is full the oldest record is replaced, so a flow pinned to that host server is then released only
 * when the host server leaves its service's set — uncounted, as before there was a record. The
 * per-packet cost while no host server is dead is one comparison ({@link #size}); with some, a scan
 * of at most {@link #CAPACITY} ints for packets pinned to a host server.
 */
public final class DeadHostServers {
  /** Records kept at once: 64 host servers declared dead within one flow timeout. */
  public static final int CAPACITY = 64;

  private final int[] hosts = new int[CAPACITY];
  private final long[] declared = new long[CAPACITY];
  private final long forgetAfterNanos;
  private int size;

  /**
   * @param forgetAfterNanos how long a record is kept: the longest flow timeout (a flow last seen
   *     before the declaration has expired by then)
   */
  public DeadHostServers(long forgetAfterNanos) {
    if (forgetAfterNanos <= 0) {
      throw new IllegalArgumentException("forgetAfterNanos must be > 0, was " + forgetAfterNanos);
    }
    this.forgetAfterNanos = forgetAfterNanos;
  }

  /**
   * Records {@code host} as declared dead at {@code atNanos}, replacing an earlier record of it.
   *
   * @return false if the table was full and the oldest record was replaced
   */
  public boolean declare(int host, long atNanos) {
    int i = indexOf(host);
    if (i >= 0) {
      declared[i] = atNanos;
      return true;
    }
    if (size < CAPACITY) {
      hosts[size] = host;
      declared[size] = atNanos;
      size++;
      return true;
    }
    int oldest = 0;
    for (int j = 1; j < size; j++) {
      if (declared[j] - declared[oldest] < 0) {
        oldest = j;
      }
    }
    hosts[oldest] = host;
    declared[oldest] = atNanos;
    return false;
  }

  /** The record of {@code host}, or -1. */
  public int indexOf(int host) {
    for (int i = 0; i < size; i++) {
      if (hosts[i] == host) {
        return i;
      }
    }
    return -1;
  }

  /** When the host server of record {@code index} was declared dead (pipeline nanoseconds). */
  public long declaredAt(int index) {
    return declared[index];
  }

  /** Forgets the records older than the forget time; called on ticks. */
  public void forget(long nowNanos) {
    for (int i = 0; i < size; ) {
      if (nowNanos - declared[i] > forgetAfterNanos) {
        size--;
        hosts[i] = hosts[size];
        declared[i] = declared[size];
      } else {
        i++;
      }
    }
  }

  /** Records held. */
  public int size() {
    return size;
  }
}
