package net.hydranet.replica;

import java.util.Locale;

/**
 * What a replica may use: memory in bytes (cgroup memory), CPU in thousandths of a core (cgroup cpu
 * quota), processes and threads (cgroup pids), open files (RLIMIT_NOFILE).
 */
public record Resources(long memoryBytes, int milliCpus, int pids, int files) {
  public Resources {
    if (memoryBytes < 16L << 20) {
      throw new IllegalArgumentException("memory below 16 MiB: " + memoryBytes);
    }
    if (milliCpus < 10 || milliCpus > 64_000) {
      throw new IllegalArgumentException("cpus outside 0.01..64: " + milliCpus / 1000.0);
    }
    if (pids < 1 || pids > 65_536) {
      throw new IllegalArgumentException("pids outside 1..65536: " + pids);
    }
    if (files < 16 || files > 1_048_576) {
      throw new IllegalArgumentException("files outside 16..1048576: " + files);
    }
  }

  /** The first resource this asks for above {@code grant}, as text, or null if within it. */
  public String exceeding(Resources grant) {
    if (memoryBytes > grant.memoryBytes) {
      return "memory " + size(memoryBytes) + " > granted " + size(grant.memoryBytes);
    }
    if (milliCpus > grant.milliCpus) {
      return "cpus " + milliCpus / 1000.0 + " > granted " + grant.milliCpus / 1000.0;
    }
    if (pids > grant.pids) {
      return "pids " + pids + " > granted " + grant.pids;
    }
    if (files > grant.files) {
      return "files " + files + " > granted " + grant.files;
    }
    return null;
  }

  /** Parses "256m", "1g", "65536k", "1048576". */
  public static long parseSize(String v) {
    String s = v.trim().toLowerCase(Locale.ROOT);
    long mul = 1;
    if (s.endsWith("k")) {
      mul = 1L << 10;
    } else if (s.endsWith("m")) {
      mul = 1L << 20;
    } else if (s.endsWith("g")) {
      mul = 1L << 30;
    }
    if (mul != 1) {
      s = s.substring(0, s.length() - 1);
    }
    try {
      return Math.multiplyExact(Long.parseLong(s), mul);
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("not a size: " + v, e);
    }
  }

  /** Parses "0.5", "2" (cores) into thousandths of a core. */
  public static int parseCpus(String v) {
    try {
      return (int) Math.round(Double.parseDouble(v.trim()) * 1000);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a number of cpus: " + v, e);
    }
  }

  static String size(long b) {
    return b % (1L << 20) == 0 ? (b >> 20) + "m" : Long.toString(b);
  }

  @Override
  public String toString() {
    return "memory "
        + size(memoryBytes)
        + ", cpus "
        + milliCpus / 1000.0
        + ", pids "
        + pids
        + ", files "
        + files;
  }
}
