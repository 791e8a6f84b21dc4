#!/usr/bin/env python3
"""Where a connection's set-up time goes, hop by hop (paper-fig3 HOPS=1; standard library only).

  hops.py SPEC PCAP_DIR [SCHED]     prints a Markdown report; with "-t FILE" first, also writes
                                    each connection's hop times (µs) as TSV to FILE

PCAP_DIR holds one capture per link, POINT.pcap (e.g. rd.client0.pcap), written by tcpdump with
nanosecond stamps (--time-stamp-precision=nano). Every namespace stamps with the one kernel clock,
so a packet matched across the captures gives each hop's time. A SYN is matched by the client's
port, the server's port and its sequence number; its SYN-ACK by the same ports and its
acknowledgement number - 1. Neither forwarder changes them.

SPEC describes the paths, a block each:

  path LABEL PORT [FAMILY]        the connections to server port PORT
  POINT KIND HOP NAME...          a packet seen at POINT: KIND is syn or synack, with "-tun" for
                                  one inside a tunnel (IP-in-IP, IPv6-in-IPv4 or IPv6-in-IPv6);
                                  the hop named ends here (the first line's name is the start).
                                  A name may end in "@TID": a daemon thread that runs the hop's
                                  crossing; with SCHED its wake-up is split off (below).

SCHED is the text of an ftrace instance's sched_switch, sched_wakeup and raw_syscalls events
(trace_clock mono) over the same window, its first line "# realtime-mono NS": what to add to its
times to get the pcap's clock (CLOCK_REALTIME; perf's -k realtime is refused here). For a
crossing done by thread TID it splits the hop into "wake-up" (the packet's arrival → TID on a
CPU; 0 if it was running) and "work" (on a CPU → the packet out), the work into the kernel until
user space, user space (from the last system call's return to the sendto(2) that sent the packet)
and that sendto(2), and says how often TID was woken on another CPU than the one that delivered
the packet and how often it was preempted meanwhile.
"""
import bisect, os, re, statistics, struct, sys

SYN, ACK = 0x02, 0x10


def packets(path):
    """(ns, kind, key) of every SYN and SYN-ACK in a pcap file (Ethernet)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic == 0xA1B23C4D:
        order, scale = "<", 1
    elif magic == 0xA1B2C3D4:
        order, scale = "<", 1000
    elif magic == 0x4D3CB2A1:
        order, scale = ">", 1
    elif magic == 0xD4C3B2A1:
        order, scale = ">", 1000
    else:
        sys.exit("%s: not a pcap file" % path)
    link = struct.unpack_from(order + "I", data, 20)[0]
    if link != 1:
        sys.exit("%s: link type %d, not Ethernet" % (path, link))
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack_from(order + "IIII", data, off)
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        hit = tcp_of(frame)
        if hit:
            yield (sec * 1_000_000_000 + frac * scale,) + hit


def tcp_of(frame):
    """(kind, key) of a SYN or SYN-ACK, kind with "-tun" when it came inside a tunnel; else None."""
    if len(frame) < 14:
        return None
    etype, at = struct.unpack_from("!H", frame, 12)[0], 14
    while etype in (0x8100, 0x88A8) and len(frame) >= at + 4:
        etype, at = struct.unpack_from("!H", frame, at + 2)[0], at + 4
    tun = False
    for _ in range(3):  # outer header, at most two inner ones
        if etype == 0x0800 and len(frame) >= at + 20:
            ihl = (frame[at] & 0x0F) * 4
            proto = frame[at + 9]
            if struct.unpack_from("!H", frame, at + 6)[0] & 0x1FFF:
                return None  # a non-first fragment
            nxt = at + ihl
        elif etype == 0x86DD and len(frame) >= at + 40:
            proto, nxt = frame[at + 6], at + 40
        else:
            return None
        if proto == 4:
            etype, at, tun = 0x0800, nxt, True
        elif proto == 41:
            etype, at, tun = 0x86DD, nxt, True
        elif proto == 6:
            return tcp_at(frame, nxt, tun)
        else:
            return None
    return None


def tcp_at(frame, at, tun):
    if len(frame) < at + 14:
        return None
    sport, dport, seq, ack = struct.unpack_from("!HHII", frame, at)
    flags = frame[at + 13] & (SYN | ACK)
    suffix = "-tun" if tun else ""
    if flags == SYN:
        return "syn" + suffix, (sport, dport, seq)
    if flags == SYN | ACK:
        return "synack" + suffix, (dport, sport, (ack - 1) & 0xFFFFFFFF)
    return None


def read_spec(path):
    paths, cur = [], None
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w or w[0].startswith("#"):
                continue
            if w[0] == "path":
                cur = {"label": w[1], "port": int(w[2]), "steps": []}
                paths.append(cur)
                continue
            name = " ".join(w[2:])
            tid = None
            m = re.search(r"@(\d+)$", name)
            if m:
                tid, name = int(m.group(1)), name[:m.start()].rstrip()
            cur["steps"].append((w[0], w[1], name, tid))
    return paths


class Sched:
    """Each thread's switches in and out, and its wake-ups, from ftrace's text."""

    # "  comm-tid  [cpu] flags  secs.frac: event: fields" (a comm may hold spaces and dashes)
    LINE = re.compile(r"^\s*(.*)-(\d+)\s+\[(\d+)\]\s+\S+\s+(\d+)\.(\d+):\s+(sched_\w+|sys_enter|sys_exit):\s*(.*)$")
    SENDTO = 44

    def __init__(self, path):
        self.on = {}  # tid -> sorted [(ns, 1 in / 0 out, cpu)]
        self.wakes = {}  # tid -> sorted [(ns, waker's cpu, target cpu)]
        self.calls = {}  # tid -> sorted [(ns, 1 enter / 0 exit, system call number)]
        self.preempt = {}  # tid -> sorted [ns switched out while runnable]
        offset = 0
        with open(path) as f:
            for line in f:
                if line.startswith("# realtime-mono "):
                    offset = int(line.split()[2])
                m = self.LINE.match(line)
                if not m:
                    continue
                cpu, ev, rest = int(m.group(3)), m.group(6), m.group(7)
                ns = int(m.group(4)) * 1_000_000_000 + int(m.group(5).ljust(9, "0")[:9]) + offset
                if ev in ("sys_enter", "sys_exit"):
                    nr = re.match(r"NR (-?\d+)", rest)
                    if nr:
                        self.calls.setdefault(int(m.group(2)), []).append(
                            (ns, 1 if ev == "sys_enter" else 0, int(nr.group(1))))
                elif ev == "sched_switch":
                    prev = re.search(r"prev_pid=(\d+)", rest)
                    nxt = re.search(r"next_pid=(\d+)", rest)
                    state = re.search(r"prev_state=(\S+)", rest)
                    if prev:
                        self.on.setdefault(int(prev.group(1)), []).append((ns, 0, cpu))
                        if state and state.group(1).startswith("R"):
                            self.preempt.setdefault(int(prev.group(1)), []).append(ns)
                    if nxt:
                        self.on.setdefault(int(nxt.group(1)), []).append((ns, 1, cpu))
                elif ev in ("sched_wakeup", "sched_waking"):
                    pid = re.search(r"pid=(\d+)", rest)
                    tgt = re.search(r"target_cpu=(\d+)", rest)
                    if pid:
                        self.wakes.setdefault(int(pid.group(1)), []).append(
                            (ns, cpu, int(tgt.group(1)) if tgt else -1))
        for v in self.on.values():
            v.sort()
        for d in (self.wakes, self.calls, self.preempt):
            for v in d.values():
                v.sort()

    def split(self, tid, t_in, t_out):
        """A crossing by thread tid, from the packet's arrival t_in to its leaving t_out:
        (wake-up ns, work ns, woken on another CPU or None, phases of the work or None,
        preempted meanwhile). The phases, where the thread's system calls were traced: in the
        kernel until user space (the rest of poll(2), or of a send under way), user space (the
        JNA read, the path), and the sendto(2) that put the packet out, until it is on the link."""
        ev = self.on.get(tid)
        if not ev:
            return None
        i = bisect.bisect_right(ev, (t_in, 2, 0))
        running = i > 0 and ev[i - 1][1] == 1
        t_run, other = None, None
        if running:
            t_run = t_in
        else:
            for j in range(i, len(ev)):
                if ev[j][0] > t_out:
                    return None
                if ev[j][1] == 1:
                    t_run = ev[j][0]
                    w = self.wakes.get(tid, [])
                    k = bisect.bisect_right(w, (t_in, -1, -1))
                    if k < len(w) and w[k][0] <= t_run:
                        other = w[k][2] != w[k][1]
                    break
        if t_run is None:
            return None
        phases = None
        calls = self.calls.get(tid, [])
        k = bisect.bisect_right(calls, (t_out, 2, 1 << 30))
        enter = next((c for c in reversed(calls[max(0, k - 50):k])
                      if c[1] == 1 and c[2] == self.SENDTO and c[0] >= t_run), None)
        if enter:
            kk = bisect.bisect_left(calls, (enter[0], 0, -1 << 30))
            last_exit = next((c for c in reversed(calls[max(0, kk - 50):kk]) if c[1] == 0), None)
            if last_exit and last_exit[0] >= t_run:
                phases = (last_exit[0] - t_run, enter[0] - last_exit[0], t_out - enter[0])
        p = self.preempt.get(tid, [])
        preempted = bisect.bisect_right(p, t_out) > bisect.bisect_left(p, t_in)
        return t_run - t_in, t_out - t_run, (None if running else other), phases, preempted


def pct(vals, q):
    s = sorted(vals)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def us(ns):
    return ns / 1000.0


def main(argv):
    tsv = None
    if argv and argv[0] == "-t":
        tsv, argv = argv[1], argv[2:]
    if len(argv) < 2:
        sys.exit(__doc__)
    spec, pdir = read_spec(argv[0]), argv[1]
    sched = Sched(argv[2]) if len(argv) > 2 and os.path.exists(argv[2]) else None
    seen = {}  # (point, kind) -> {key: first ns}
    for name in sorted(os.listdir(pdir)):
        if not name.endswith(".pcap"):
            continue
        point = name[:-5]
        for ns, kind, key in packets(os.path.join(pdir, name)):
            seen.setdefault((point, kind), {}).setdefault(key, ns)
    out, rows = [], []
    for p in spec:
        steps = p["steps"]
        first = seen.get(steps[0][:2], {})
        keys = [k for k in first if k[1] == p["port"]]
        full = [k for k in keys if all(k in seen.get(s[:2], {}) for s in steps)]
        out.append("\n### %s (server port %d): %d of %d connections seen at every point\n"
                   % (p["label"], p["port"], len(full), len(keys)))
        if not full:
            missing = [("%s %s" % s[:2]) for s in steps if not any(k in seen.get(s[:2], {}) for k in keys)]
            out.append("nothing to report; not seen at: %s\n" % (", ".join(missing) or "?"))
            continue
        full.sort(key=lambda k: first[k])  # in time: the halves show a warm-up (JIT) if any
        half = len(full) // 2
        out.append("| hop | from → to | median µs | p10 | p90 | median, 1st half / 2nd half |")
        out.append("|---|---|---:|---:|---:|---:|")
        for i in range(1, len(steps)):
            a, b = steps[i - 1], steps[i]
            d = [seen[b[:2]][k] - seen[a[:2]][k] for k in full]
            halves = "%.1f / %.1f" % (us(statistics.median(d[:half])), us(statistics.median(d[half:]))) if half else ""
            out.append("| %s | %s %s → %s %s | %.1f | %.1f | %.1f | %s |" % (
                b[2], a[0], a[1], b[0], b[1], us(statistics.median(d)), us(pct(d, .1)), us(pct(d, .9)), halves))
            for k in full:
                rows.append((p["label"], k[0], i, b[2], us(seen[b[:2]][k] - seen[a[:2]][k])))
            if sched and b[3] is not None:
                parts = [sched.split(b[3], seen[a[:2]][k], seen[b[:2]][k]) for k in full]
                parts = [x for x in parts if x]
                if parts:
                    wake = [x[0] for x in parts]
                    work = [x[1] for x in parts]
                    slept = [x for x in parts if x[0] > 0 or x[2] is not None]
                    other = sum(1 for x in slept if x[2])
                    phased = [x[3] for x in parts if x[3]]
                    out.append("| … of which the thread's wake-up (arrival → on a CPU) | | %.1f | %.1f | %.1f | |"
                               % (us(statistics.median(wake)), us(pct(wake, .1)), us(pct(wake, .9))))
                    out.append("| … and its work (on a CPU → out) | | %.1f | %.1f | %.1f | |"
                               % (us(statistics.median(work)), us(pct(work, .1)), us(pct(work, .9))))
                    for n, title in enumerate(("in the kernel until user space (poll's return, or a send"
                                               " under way)", "user space (the JNA read, the path)",
                                               "the sendto(2) until the packet is on the link")):
                        if phased:
                            v = [x[n] for x in phased]
                            out.append("| … work: %s | | %.1f | %.1f | %.1f | |"
                                       % (title, us(statistics.median(v)), us(pct(v, .1)), us(pct(v, .9))))
                    out.append("| … asleep when the packet came; of those, woken on another CPU;"
                               " preempted before it left | | %d of %d; %d; %d | | | |"
                               % (len(slept), len(parts), other, sum(1 for x in parts if x[4])))
        tot = [seen[steps[-1][:2]][k] - seen[steps[0][:2]][k] for k in full]
        halves = "%.1f / %.1f" % (us(statistics.median(tot[:half])), us(statistics.median(tot[half:]))) if half else ""
        out.append("| **total on the wire** | %s %s → %s %s | **%.1f** | %.1f | %.1f | %s |" % (
            steps[0][0], steps[0][1], steps[-1][0], steps[-1][1],
            us(statistics.median(tot)), us(pct(tot, .1)), us(pct(tot, .9)), halves))
    print("\n".join(out).lstrip("\n"))
    if tsv:
        with open(tsv, "w") as f:
            f.write("path\tclient_port\thop\tname\tus\n")
            for r in rows:
                f.write("%s\t%d\t%d\t%s\t%.3f\n" % r)


if __name__ == "__main__":
    main(sys.argv[1:])
