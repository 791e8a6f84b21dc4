package net.hydranet.forwarding.neighbour;

import net.hydranet.forwarding.table.Ipv6KeyMap;
import org.agrona.DirectBuffer;

/**
 * IPv6 → MAC for next hops (RFC 4861 §7), with the same bounded queue of waiting frames, retries
 * and expiry as ARP's {@link NeighbourTable}: that table does the work, keyed by a small handle per
 * IPv6 address, so both families share one tested state machine. Fixed capacity, allocation-free
 * after construction, used by the forwarding thread only.
 *
 * <p>RFC 4861's states map onto it: INCOMPLETE is INCOMPLETE; REACHABLE is REACHABLE within its
 * lifetime; STALE is REACHABLE past its lifetime (still used, and its next use sends a probe);
 * DELAY and PROBE collapse into that probe, sent on first use rather than after a 5 s delay (the
 * delay spares a host's probe when upper layers confirm reachability, which a router cannot hear).
 * Entries learned without proof of two-way reachability — an unsolicited advertisement, a
 * solicitation's source link-layer option — start STALE (§7.2.3, §7.2.5); a solicited advertisement
 * makes an entry REACHABLE.
 */
public final class Ipv6NeighbourTable {
  public static final int RESOLVED = NeighbourTable.RESOLVED;
  public static final int QUEUED = NeighbourTable.QUEUED;
  public static final int QUEUE_FULL = NeighbourTable.QUEUE_FULL;

  private final NeighbourTable table;
  private final Ipv6KeyMap handles;
  private final long[] handleHighs;
  private final long[] handleLows;
  private final int[] freeHandles;
  private int freeHandleCount;

  // Adapters from handles back to addresses, allocated once; the sink is set per poll.
  private Ipv6RequestSink requestSink;
  private final NeighbourTable.RequestSink requestAdapter = this::request;

  /** The parameters of {@link NeighbourTable}'s constructor, with the same meaning. */
  public Ipv6NeighbourTable(
      int capacity,
      int poolFrames,
      int poolSlotSize,
      int perNeighbourLimit,
      int retries,
      long retryNanos,
      long lifetimeNanos) {
    this.table =
        new NeighbourTable(
            capacity,
            poolFrames,
            poolSlotSize,
            perNeighbourLimit,
            retries,
            retryNanos,
            lifetimeNanos);
    this.handles = new Ipv6KeyMap(capacity);
    this.handleHighs = new long[capacity];
    this.handleLows = new long[capacity];
    this.freeHandles = new int[capacity];
    for (int i = 0; i < capacity; i++) {
      freeHandles[i] = capacity - 1 - i;
    }
    this.freeHandleCount = capacity;
    table.removalListener(this::release);
  }

  private void request(int handle, int ifIndex) {
    requestSink.request(handleHighs[handle], handleLows[handle], ifIndex);
  }

  private void release(int handle) {
    handles.remove(handleHighs[handle], handleLows[handle], 0);
    freeHandles[freeHandleCount++] = handle;
  }

  /** The address's handle, a new one, or -1 when every handle is in use. */
  private int handleFor(long high, long low) {
    int handle = handles.get(high, low, 0);
    if (handle != Ipv6KeyMap.MISSING || freeHandleCount == 0) {
      return handle;
    }
    handle = freeHandles[--freeHandleCount];
    handleHighs[handle] = high;
    handleLows[handle] = low;
    handles.put(high, low, 0, handle);
    return handle;
  }

  /** Gives back a handle taken for a call that left no entry behind (the table was full). */
  private void releaseIfUnused(int handle, int sizeBefore, boolean fresh) {
    if (fresh && table.size() == sizeBefore) {
      release(handle);
    }
  }

  /** Adds or replaces a static entry (config): never expires, never solicited. */
  public boolean putStatic(long high, long low, long mac, int ifIndex) {
    boolean fresh = handles.get(high, low, 0) == Ipv6KeyMap.MISSING;
    int handle = handleFor(high, low);
    if (handle < 0) {
      return false;
    }
    int before = table.size();
    boolean added = table.putStatic(handle, mac, ifIndex);
    releaseIfUnused(handle, before, fresh);
    return added;
  }

  /** Removes an entry, dropping any frames it held; returns how many were dropped. */
  public int remove(long high, long low) {
    int handle = handles.get(high, low, 0);
    return handle == Ipv6KeyMap.MISSING ? 0 : table.remove(handle);
  }

  /**
   * Finds the MAC for a next hop; when unknown, copies the frame into the queue. As {@link
   * NeighbourTable#resolve}: after {@link #RESOLVED} the MAC is in {@link #resolvedMac()}; when
   * {@link #requestDue()}, the caller sends a neighbour solicitation now.
   */
  public int resolve(
      long high,
      long low,
      int ifIndex,
      DirectBuffer frame,
      int offset,
      int length,
      long timestampNanos) {
    boolean fresh = handles.get(high, low, 0) == Ipv6KeyMap.MISSING;
    int handle = handleFor(high, low);
    if (handle < 0) {
      return QUEUE_FULL;
    }
    int before = table.size();
    int result = table.resolve(handle, ifIndex, frame, offset, length, timestampNanos);
    releaseIfUnused(handle, before, fresh);
    return result;
  }

  public long resolvedMac() {
    return table.resolvedMac();
  }

  /** True when the last {@link #resolve} started a resolution or a probe. */
  public boolean requestDue() {
    return table.requestDue();
  }

  /** Records that a solicitation for the address went out at {@code now}. */
  public void noteRequestSent(long high, long low, long now) {
    int handle = handles.get(high, low, 0);
    if (handle != Ipv6KeyMap.MISSING) {
      table.noteRequestSent(handle, now);
    }
  }

  /**
   * Applies a valid neighbour advertisement (RFC 4861 §7.2.5): no entry, nothing learned (an
   * advertisement creates none); a solicited one makes the entry REACHABLE, an unsolicited one
   * STALE; without the override flag it may fill in an unknown address but never replace a known,
   * different one. Frames that waited are handed to {@code sink}.
   *
   * @return frames released
   */
  public int learnFromAdvertisement(
      long high,
      long low,
      long mac,
      int ifIndex,
      boolean solicited,
      boolean override,
      long now,
      NeighbourTable.PendingSink sink) {
    if (learnListener != null) {
      learnListener.heard(true, high, low, mac, ifIndex, solicited, override);
    }
    return applyAdvertisement(high, low, mac, ifIndex, solicited, override, now, sink);
  }

  private int applyAdvertisement(
      long high,
      long low,
      long mac,
      int ifIndex,
      boolean solicited,
      boolean override,
      long now,
      NeighbourTable.PendingSink sink) {
    int handle = handles.get(high, low, 0);
    if (handle == Ipv6KeyMap.MISSING) {
      return 0;
    }
    long known = table.macOf(handle);
    if (!override && known != -1 && known != mac) {
      return 0;
    }
    if (solicited) {
      return table.learn(handle, mac, ifIndex, false, now, sink);
    }
    return table.learn(handle, mac, ifIndex, false, now, 0, sink);
  }

  /**
   * Applies the source link-layer option of a valid solicitation or router solicitation (RFC 4861
   * §7.2.3, §6.2.6): creates or updates the entry as STALE when the address is new or changed; a
   * known, unchanged address keeps its state.
   *
   * @return frames released
   */
  public int learnFromSolicitation(
      long high, long low, long mac, int ifIndex, long now, NeighbourTable.PendingSink sink) {
    if (learnListener != null) {
      learnListener.heard(false, high, low, mac, ifIndex, false, false);
    }
    return applySolicitation(high, low, mac, ifIndex, now, sink);
  }

  private int applySolicitation(
      long high, long low, long mac, int ifIndex, long now, NeighbourTable.PendingSink sink) {
    boolean fresh = handles.get(high, low, 0) == Ipv6KeyMap.MISSING;
    int handle = handleFor(high, low);
    if (handle < 0) {
      return 0;
    }
    if (!fresh && table.macOf(handle) == mac) {
      return 0;
    }
    int before = table.size();
    int released = table.learn(handle, mac, ifIndex, true, now, 0, sink);
    releaseIfUnused(handle, before, fresh);
    return released;
  }

  /**
   * Is told of every advertisement and solicitation this table hears ({@link
   * #learnFromAdvertisement}, {@link #learnFromSolicitation}), whether or not it learns from it:
   * with several forwarding pipelines, a neighbour's answer reaches one of them, maybe not the one
   * that asked, and the others apply it through {@link #learnRelayed}. Set once, before use.
   */
  public void learnListener(Ipv6LearnListener listener) {
    this.learnListener = listener;
  }

  private Ipv6LearnListener learnListener;

  /**
   * What another table heard ({@link #learnListener}), applied here by the same rules as if heard
   * here, and told to no listener; frames that waited for this neighbour go to {@code sink}.
   *
   * @param advertisement an advertisement (else a solicitation's source link-layer option)
   * @return frames released
   */
  public int learnRelayed(
      boolean advertisement,
      long high,
      long low,
      long mac,
      int ifIndex,
      boolean solicited,
      boolean override,
      long now,
      NeighbourTable.PendingSink sink) {
    return advertisement
        ? applyAdvertisement(high, low, mac, ifIndex, solicited, override, now, sink)
        : applySolicitation(high, low, mac, ifIndex, now, sink);
  }

  /**
   * Runs the timers as {@link NeighbourTable#poll}: re-sends due solicitations through {@code
   * requests} and removes neighbours that never answered, dropping their frames.
   *
   * @return frames dropped
   */
  public int poll(long now, Ipv6RequestSink requests) {
    this.requestSink = requests;
    return table.poll(now, requestAdapter);
  }

  /** The usable MAC of an address, or -1. For tests and snapshots. */
  public long macOf(long high, long low) {
    int handle = handles.get(high, low, 0);
    return handle == Ipv6KeyMap.MISSING ? -1 : table.macOf(handle);
  }

  public int pendingFrames() {
    return table.pendingFrames();
  }

  public int size() {
    return table.size();
  }

  /** Visits every usable entry, for snapshots off the hot path. */
  public void forEach(Ipv6EntryVisitor visitor) {
    table.forEach(
        (handle, mac, ifIndex, isStatic) ->
            visitor.visit(handleHighs[handle], handleLows[handle], mac, ifIndex, isStatic));
  }

  /** Sends a neighbour solicitation for a next hop. */
  @FunctionalInterface
  public interface Ipv6RequestSink {
    void request(long high, long low, int ifIndex);
  }

  /** Told of a neighbour discovery message heard, with what it said. */
  @FunctionalInterface
  public interface Ipv6LearnListener {
    /**
     * @param advertisement an advertisement (else a solicitation's source link-layer option)
     */
    void heard(
        boolean advertisement,
        long high,
        long low,
        long mac,
        int ifIndex,
        boolean solicited,
        boolean override);
  }

  /** Visits a table entry. */
  @FunctionalInterface
  public interface Ipv6EntryVisitor {
    void visit(long high, long low, long mac, int ifIndex, boolean isStatic);
  }
}
