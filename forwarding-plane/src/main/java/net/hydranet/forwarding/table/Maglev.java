package net.hydranet.forwarding.table;

import java.util.Arrays;

/**
 * Builds a service's Maglev lookup table (Eisenbud et al., NSDI 2016, §3.4): {@code size} entries,
 * each the slot index of the host server that serves flow hashes falling there, or {@link #NONE}.
 *
 * <p>Each host server walks its own permutation of the entries, {@code offset + j × skip (mod
 * size)}, with offset and skip hashed from its address alone; host servers take turns claiming the
 * next free entry of their permutation until the table is full. Because the permutation depends
 * only on the address, and turns are taken in address order whatever order the control plane listed
 * the host servers in, two redirectors given the same set and weights build the same table, and
 * removing one host server mostly frees only the entries it held (the paper's minimal disruption).
 * Weights: in each round a host server earns its weight in credit and claims one entry per {@code
 * maxWeight} of credit, so entries are shared in proportion to weight; weight 0 (draining) claims
 * none.
 *
 * <p>Building allocates and costs O(size × log size) permutation steps (about 50 µs for 4093
 * entries and 8 host servers, by rough timing); it runs on the control thread. The lookup is one
 * array read, done by {@link RedirectorTable#select}.
 */
public final class Maglev {
  /** An entry no host server holds: every weight is 0. */
  public static final byte NONE = -1;

  /** Default table size: a prime, see {@code ForwardingContext.DEFAULT_MAGLEV_TABLE_SIZE}. */
  public static final int DEFAULT_SIZE = 4_093;

  /** Largest host-server slot index an entry can hold (a byte). */
  public static final int MAX_HOST_SERVERS = 127;

  private static final long OFFSET_SEED = 0x9E3779B97F4A7C15L;
  private static final long SKIP_SEED = 0xC2B2AE3D27D4EB4FL;

  private Maglev() {}

  /**
   * The lookup table for host servers {@code hostServers[0..count)} with {@code weights}.
   *
   * @param size a prime, so that every skip in [1, size) visits every entry
   * @return {@code size} entries of host-server slot indices, all {@link #NONE} when every weight
   *     is 0
   */
  public static byte[] build(int[] hostServers, int[] weights, int count, int size) {
    if (!isPrime(size)) {
      throw new IllegalArgumentException("Maglev table size must be a prime, was " + size);
    }
    if (count > MAX_HOST_SERVERS) {
      throw new IllegalArgumentException("at most " + MAX_HOST_SERVERS + " host servers");
    }
    final byte[] table = new byte[size];
    Arrays.fill(table, NONE);
    // Turns in address order, so the listing order of the control plane does not matter.
    Integer[] order = new Integer[count];
    int maxWeight = 0;
    int active = 0;
    for (int i = 0; i < count; i++) {
      order[i] = i;
      maxWeight = Math.max(maxWeight, weights[i]);
      if (weights[i] > 0) {
        active++;
      }
    }
    if (active == 0) {
      return table;
    }
    Arrays.sort(order, (a, b) -> Integer.compareUnsigned(hostServers[a], hostServers[b]));
    final long[] position = new long[count];
    final long[] skip = new long[count];
    final long[] credit = new long[count];
    for (int i = 0; i < count; i++) {
      position[i] = offset(hostServers[i], size);
      skip[i] = skip(hostServers[i], size);
    }
    int filled = 0;
    while (true) {
      for (int k = 0; k < count; k++) {
        final int i = order[k];
        if (weights[i] == 0) {
          continue;
        }
        credit[i] += weights[i];
        while (credit[i] >= maxWeight) {
          credit[i] -= maxWeight;
          int entry = (int) position[i];
          while (table[entry] != NONE) {
            entry = advance(entry, skip[i], size);
          }
          table[entry] = (byte) i;
          position[i] = advance(entry, skip[i], size);
          if (++filled == size) {
            return table;
          }
        }
      }
    }
  }

  /** Where {@code hostServer}'s permutation starts: hashed from its address alone. */
  static long offset(int hostServer, int size) {
    return Long.remainderUnsigned(mix(hostServer ^ OFFSET_SEED), size);
  }

  /** The step of {@code hostServer}'s permutation, in [1, size). */
  static long skip(int hostServer, int size) {
    return Long.remainderUnsigned(mix(hostServer ^ SKIP_SEED), size - 1) + 1;
  }

  private static int advance(int entry, long skip, int size) {
    long next = entry + skip;
    return (int) (next >= size ? next - size : next);
  }

  /** murmur3's 64-bit finaliser. */
  private static long mix(long h) {
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }

  /** The entry a flow hash falls in: {@code hash × size >>> 32}, no division on the hot path. */
  public static int entry(int flowHash, int size) {
    return (int) (((flowHash & 0xFFFFFFFFL) * size) >>> 32);
  }

  public static boolean isPrime(int n) {
    if (n < 2) {
      return false;
    }
    for (int d = 2; (long) d * d <= n; d++) {
      if (n % d == 0) {
        return false;
      }
    }
    return true;
  }
}
