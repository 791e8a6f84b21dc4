package net.hydranet.hostserver;

/**
 * The second chance's cache of answers (SECOND-CHANCE.md): for a TCP connection to a virtual host,
 * whether its socket is here or elsewhere, until an expiry. A SYN taken here is recorded as here; a
 * socket-table answer as it came. Fixed memory, no allocation: open addressing over a power-of-two
 * array, four slots probed, an expired, empty or else the soonest-expiring one of them reused.
 * Forwarding thread only.
 */
final class KnownFlows {
  static final int UNKNOWN = -1;
  static final int ELSEWHERE = 0;
  static final int HERE = 1;

  private static final int PROBES = 4;

  private final int mask;
  private final long[] keys; // two per slot: hi, lo
  private final long[] expiries; // 0: empty
  private final byte[] verdicts;

  KnownFlows(int capacity) {
    int size = Integer.highestOneBit(Math.max(PROBES, capacity - 1) << 1);
    this.mask = size - 1;
    this.keys = new long[2 * size];
    this.expiries = new long[size];
    this.verdicts = new byte[size];
  }

  static long hi(int client, int origin) {
    return ((client & 0xFFFFFFFFL) << 32) | (origin & 0xFFFFFFFFL);
  }

  static long lo(int clientPort, int originPort) {
    return ((long) (clientPort & 0xFFFF) << 16) | (originPort & 0xFFFF);
  }

  /** {@link #HERE}, {@link #ELSEWHERE}, or {@link #UNKNOWN} when absent or expired. */
  int get(long hi, long lo, long now) {
    int slot = start(hi, lo);
    for (int i = 0; i < PROBES; i++, slot = (slot + 1) & mask) {
      if (expiries[slot] != 0 && keys[2 * slot] == hi && keys[2 * slot + 1] == lo) {
        return expiries[slot] - now > 0 ? verdicts[slot] : UNKNOWN;
      }
    }
    return UNKNOWN;
  }

  void put(long hi, long lo, int verdict, long expiry, long now) {
    int slot = start(hi, lo);
    int victim = -1;
    boolean victimFree = false;
    for (int i = 0; i < PROBES; i++, slot = (slot + 1) & mask) {
      if (expiries[slot] != 0 && keys[2 * slot] == hi && keys[2 * slot + 1] == lo) {
        victim = slot;
        break;
      }
      boolean free = expiries[slot] == 0 || expiries[slot] - now <= 0;
      if (free && !victimFree) {
        victim = slot;
        victimFree = true;
      } else if (!victimFree && (victim < 0 || expiries[slot] - expiries[victim] < 0)) {
        victim = slot;
      }
    }
    keys[2 * victim] = hi;
    keys[2 * victim + 1] = lo;
    expiries[victim] = expiry == 0 ? 1 : expiry;
    verdicts[victim] = (byte) verdict;
  }

  /** Slots in use and not expired at {@code now}; for tests and the status, not the hot path. */
  int live(long now) {
    int n = 0;
    for (long e : expiries) {
      if (e != 0 && e - now > 0) {
        n++;
      }
    }
    return n;
  }

  private int start(long hi, long lo) {
    long h = hi * 0x9E3779B97F4A7C15L ^ lo * 0xC2B2AE3D27D4EB4FL;
    h ^= h >>> 29;
    return (int) h & mask;
  }
}
