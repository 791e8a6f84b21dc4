package net.hydranet.replica;

/**
 * One replica as a host server reports it (STATUS_REPLY): its state, process and what it uses.
 *
 * @param state starting, running, draining, exited or killed
 * @param failcnt how often the replica hit its memory limit
 * @param oomKills processes the kernel killed in the replica's memory group
 * @param ports what its virtual host listens on, as "tcp/80 udp/53"
 */
public record ReplicaStatus(
    String name,
    String state,
    int pid,
    long memoryBytes,
    long memoryLimit,
    long cpuNanos,
    int pids,
    long failcnt,
    int oomKills,
    String ports) {

  public void encode(Body.Writer w) {
    w.str(name)
        .str(state)
        .u32(pid & 0xffffffffL)
        .u64(memoryBytes)
        .u64(memoryLimit)
        .u64(cpuNanos)
        .u32(pids & 0xffffffffL)
        .u64(failcnt)
        .u32(oomKills & 0xffffffffL)
        .str(ports);
  }

  public static ReplicaStatus decode(Body.Reader r) throws ProtocolException {
    return new ReplicaStatus(
        r.str(),
        r.str(),
        (int) r.u32(),
        r.u64(),
        r.u64(),
        r.u64(),
        (int) r.u32(),
        r.u64(),
        (int) r.u32(),
        r.str());
  }

  @Override
  public String toString() {
    return String.format(
        java.util.Locale.ROOT,
        "%-20s %-9s pid %-7d mem %6.1f/%.0f MiB cpu %8.2f s pids %-4d failcnt %d oom %d %s",
        name,
        state,
        pid,
        memoryBytes / 1048576.0,
        memoryLimit / 1048576.0,
        cpuNanos / 1e9,
        pids,
        failcnt,
        oomKills,
        ports);
  }
}
