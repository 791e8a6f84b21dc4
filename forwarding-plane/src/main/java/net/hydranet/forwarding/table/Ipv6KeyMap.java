package net.hydranet.forwarding.table;

/**
 * A fixed-capacity open-addressing map from a 128-bit key with a small tag (an IPv6 address, or a
 * prefix and its length) to a non-negative int: what Agrona's primitive maps are for 32- and 64-bit
 * keys, which an IPv6 address does not fit. Allocation-free after construction; single writer, like
 * the tables that use it.
 *
 * <p>Linear probing over at least twice the capacity in slots (load factor ≤ 0.5, so a miss ends
 * within a few slots), and backward-shift deletion (Knuth 6.4 Algorithm R) rather than tombstones,
 * so that removals never lengthen later probes and the map never needs a rehash.
 */
public final class Ipv6KeyMap {
  /** What {@link #get} returns for a key not in the map. */
  public static final int MISSING = -1;

  private final int capacity;
  private final int mask;
  private final long[] highs;
  private final long[] lows;
  private final int[] tags;
  private final int[] values; // MISSING marks an empty slot
  private int size;

  /** A map for up to {@code capacity} keys; all memory is allocated here. */
  public Ipv6KeyMap(int capacity) {
    if (capacity < 1 || capacity > (1 << 28)) {
      throw new IllegalArgumentException("capacity must be in [1, 2^28], was " + capacity);
    }
    this.capacity = capacity;
    int slots = Integer.highestOneBit(capacity * 2 - 1) << 1;
    this.mask = slots - 1;
    this.highs = new long[slots];
    this.lows = new long[slots];
    this.tags = new int[slots];
    this.values = new int[slots];
    java.util.Arrays.fill(values, MISSING);
  }

  /** A 64-bit mix of the key (two rounds of the murmur3 finalizer constants). */
  private int slot(long high, long low, int tag) {
    long h = high * 0x9E37_79B9_7F4A_7C15L + low + tag * 0xC2B2_AE3D_27D4_EB4FL;
    h ^= h >>> 33;
    h *= 0xFF51_AFD7_ED55_8CCDL;
    h ^= h >>> 33;
    return (int) h & mask;
  }

  /** The value for the key, or {@link #MISSING}. Allocation-free. */
  public int get(long high, long low, int tag) {
    int s = slot(high, low, tag);
    while (true) {
      int value = values[s];
      if (value == MISSING) {
        return MISSING;
      }
      if (highs[s] == high && lows[s] == low && tags[s] == tag) {
        return value;
      }
      s = (s + 1) & mask;
    }
  }

  /**
   * Puts a key; {@code value} must be non-negative.
   *
   * @return the previous value, or {@link #MISSING}
   * @throws IllegalStateException when the key is new and the map holds {@code capacity} keys
   */
  public int put(long high, long low, int tag, int value) {
    if (value < 0) {
      throw new IllegalArgumentException("value must be non-negative, was " + value);
    }
    int s = slot(high, low, tag);
    while (values[s] != MISSING) {
      if (highs[s] == high && lows[s] == low && tags[s] == tag) {
        int previous = values[s];
        values[s] = value;
        return previous;
      }
      s = (s + 1) & mask;
    }
    if (size == capacity) {
      throw new IllegalStateException("map is full: capacity " + capacity);
    }
    highs[s] = high;
    lows[s] = low;
    tags[s] = tag;
    values[s] = value;
    size++;
    return MISSING;
  }

  /** Removes a key; returns its value, or {@link #MISSING}. */
  public int remove(long high, long low, int tag) {
    int s = slot(high, low, tag);
    while (true) {
      int value = values[s];
      if (value == MISSING) {
        return MISSING;
      }
      if (highs[s] == high && lows[s] == low && tags[s] == tag) {
        shiftBack(s);
        size--;
        return value;
      }
      s = (s + 1) & mask;
    }
  }

  /** Fills the hole at {@code hole} with a later key of the same run that may move into it. */
  private void shiftBack(int hole) {
    int s = hole;
    while (true) {
      s = (s + 1) & mask;
      if (values[s] == MISSING) {
        values[hole] = MISSING;
        return;
      }
      int home = slot(highs[s], lows[s], tags[s]);
      // The key at s may move to the hole unless its home lies cyclically in (hole, s].
      boolean stays = hole <= s ? (hole < home && home <= s) : (hole < home || home <= s);
      if (!stays) {
        highs[hole] = highs[s];
        lows[hole] = lows[s];
        tags[hole] = tags[s];
        values[hole] = values[s];
        hole = s;
      }
    }
  }

  public int size() {
    return size;
  }

  public int capacity() {
    return capacity;
  }

  /** Bytes held by the map's arrays. */
  public long footprintBytes() {
    return (long) (mask + 1) * (2 * Long.BYTES + 2 * Integer.BYTES);
  }
}
