#!/usr/bin/env python3
"""Per-frame counts by thread from paper-fig3's cost step (issue 23, session 12).

    counts.py RAW_DIR [RAW_DIR ...]      # each a run's raw/ (or the run's directory)

For every cost point and forwarder thread: system calls by kind, context switches (voluntary =
the thread slept and was woken; involuntary = preempted), CPU, all per frame the forwarder sent
(both directions: the redirector namespace's tx_packets over the window), and frames per sendto
(the transmit batch) and per wake-up. libpcap calls (uprobes, a separate window) per frame sent.
Threads that used less than 1 % of the point's CPU are summed as "other". Prints Markdown; with
several directories, one table each, in the order given (an A/B: base, new, base, new).
"""
import os
import sys
from collections import defaultdict

HZ = float(os.sysconf("SC_CLK_TCK"))
KINDS = ["poll", "sendto", "futex", "recvfrom", "sched_yield", "write"]


def rows(path):
    if not os.path.exists(path):
        return []
    with open(path) as fh:
        return [l.split() for l in fh if l.strip()]


def kv(words):
    return dict(w.split("=", 1) for w in words if "=" in w)


def short(comm):
    return {"hydranet-receiv": "receive", "hydranet-forwar": "forwarding"}.get(comm, comm)


def table(raw):
    if os.path.isdir(os.path.join(raw, "raw")):
        raw = os.path.join(raw, "raw")
    out = []
    machine = rows(os.path.join(raw, "machine.txt"))
    for r in machine:
        if r and r[0] in ("jar:", "cpu", "date:", "commit:"):
            out.append("<!-- " + " ".join(r) + " -->")
    # per thread: (label, kind, role, tid) -> (ut, st, vc, nc)
    cpu = {}
    for r in rows(os.path.join(raw, "cost-threads.tsv")):
        if len(r) >= 11:
            cpu[(r[0], r[1], r[2], r[3])] = tuple(int(x) for x in r[5:9])
    calls = {}
    for r in rows(os.path.join(raw, "cost-calls.tsv")):
        if len(r) >= 4:
            calls[(r[0], r[1], r[2])] = kv(r[4:])
    points = defaultdict(list)
    for r in rows(os.path.join(raw, "cost-syscalls.tsv")):
        if len(r) < 7 or r[2] == "hostserver-delivered":
            continue
        label, kind, role, tid, comm, far, fwd = r[:7]
        points[(label, kind, role)].append((tid, comm, int(far), int(fwd or 0), kv(r[7:])))
    out.append("| point | thread | frames sent (far side) | CPU µs/frame (user / kernel) | syscalls"
               " | " + " | ".join(KINDS) + " | voluntary cs | involuntary cs | frames per sendto"
               " | frames per wake-up | libpcap reads |")
    out.append("|---|---|---:|---|---:|" + "---:|" * len(KINDS) + "---:|---:|---:|---:|---|")
    for (label, kind, role), threads in points.items():
        fwd = max(t[3] for t in threads)
        far = max(t[2] for t in threads)
        if fwd <= 0:
            continue
        total = sum(sum(cpu.get((label, kind, role, t[0]), (0, 0, 0, 0))[:2]) for t in threads)
        groups = []
        other = None
        for tid, comm, _, _, ev in threads:
            c = cpu.get((label, kind, role, tid), (0, 0, 0, 0))
            item = [short(comm), c, ev]
            if total and sum(c[:2]) >= 0.01 * total:
                groups.append(item)
            elif other is None:
                other = ["other", list(c), dict((k, float(v)) for k, v in ev.items())]
            else:
                other[1] = [a + b for a, b in zip(other[1], c)]
                for k, v in ev.items():
                    other[2][k] = other[2].get(k, 0.0) + float(v)
        if other is not None:
            groups.append(other)
        cl = calls.get((label, kind, role), {})
        cfwd = float(cl.get("forwarded", 0) or 0)
        reads = "n/a"
        if cfwd > 0:
            reads = "next_ex %.3f, dispatch %.3f" % (float(cl.get("pcap_next_ex", 0)) / cfwd,
                                                   float(cl.get("pcap_dispatch", 0)) / cfwd)
        for name, c, ev in groups:
            g = lambda k: float(ev.get("syscalls:sys_enter_" + k, 0))
            polls = g("poll") + g("ppoll")
            per = lambda x: "%.3f" % (x / fwd)
            sends = g("sendto")
            out.append("| %s %s %s | %s | %d (%d) | %.2f (%.2f / %.2f) | %s | %s | %s | %s | %s | %s | %s |" % (
                label, kind, role, name, fwd, far,
                (c[0] + c[1]) / HZ / fwd * 1e6, c[0] / HZ / fwd * 1e6, c[1] / HZ / fwd * 1e6,
                per(float(ev.get("raw_syscalls:sys_enter", 0))),
                " | ".join(per(polls if k == "poll" else g(k)) for k in KINDS),
                per(c[2]), per(c[3]),
                "%.1f" % (fwd / sends) if sends else "-",
                "%.1f" % (fwd / c[2]) if c[2] else "-", reads))
    return out


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip())
        return 2
    for raw in argv[1:]:
        print("\n### %s\n" % raw.rstrip("/"))
        print("\n".join(table(raw)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
