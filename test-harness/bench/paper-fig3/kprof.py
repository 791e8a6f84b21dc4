#!/usr/bin/env python3
"""Where each forwarder thread's kernel time goes, per frame, side by side (issue 23, session 13).

    perf script -F comm,tid,ip,sym | kprof.py fold > POINT.folded     # paper-fig3 does this
    kprof.py report RAW_DIR [RAW_DIR ...]                            # Markdown on stdout
                                          (POINT.folded or POINT.folded.gz under RAW_DIR/cost-perf)

paper-fig3 with COST_STACKS=1 keeps every cost point's call chains (perf cpu-clock, -g) folded by
thread, beside its per-thread CPU (cost-threads.tsv, from /proc). Here each thread's CPU per frame
(µs per frame that left the far side, as in the cost step's tables) is split by perf's
proportions of that thread's samples:
  - by where the kernel was entered: which system call, an interrupt (and the softirq it ran on
    its way out), a page fault;
  - inclusive cost of the kernel functions that name the work (capture into a ring, the
    neighbour namespace's TCP stack run inside our send, the transmit ring, wake-ups);
  - self cost of the kernel symbols, the C forwarder's threads beside HydraNet's, sorted by how
    much more HydraNet spends;
  - callers of packet_lookup_frame (receive ring: tpacket_rcv; transmit ring: tpacket_snd and
    the completion) and of pvm_irq_enable (cpu-clock samples taken while interrupts were off are
    counted when they are enabled again: the caller is the section that ran with them off).
Points compared: c-ring-forward KIND against hydranet-forward KIND of the same run.
"""
import gzip
import os
import re
import sys
from collections import Counter, defaultdict

HZ = float(os.sysconf("SC_CLK_TCK"))
KMARK = "k:"  # folded frames of kernel code carry this prefix

# Inclusive cost of these, per thread (a sample counts once however deep the function recurs).
INCLUSIVE = [
    "__x64_sys_sendto", "__x64_sys_poll", "__x64_sys_ppoll", "__x64_sys_futex",
    "__x64_sys_recvfrom", "__x64_sys_write", "__x64_sys_read",
    "tpacket_snd", "tpacket_destruct_skb", "skb_copy_ubufs", "dev_queue_xmit_nit",
    "__dev_queue_xmit", "veth_xmit", "net_rx_action", "br_handle_frame", "tpacket_rcv",
    "packet_rcv", "packet_lookup_frame.isra.0", "packet_lookup_frame", "run_filter",
    "sk_filter_trim_cap", "nft_do_chain", "ip_rcv", "ip_forward", "tcp_v4_rcv", "tcp_v4_do_rcv",
    "__tcp_transmit_skb", "tcp_ack", "sock_def_readable", "__wake_up_common_lock",
    "try_to_wake_up", "__schedule", "schedule_hrtimeout_range", "do_sys_poll", "packet_poll",
    "asm_exc_page_fault", "handle_softirqs", "pvm_irq_enable",
]


def fold(inp, out):
    """perf script (comm tid, then one 'ip sym' line per frame, leaf first) -> folded counts."""
    counts = Counter()
    head, frames = None, []

    def flush():
        if head is not None:
            counts[head + ";" + ";".join(reversed(frames))] += 1

    for line in inp:
        line = line.rstrip("\n")
        if not line.strip():
            flush()
            head, frames = None, []
            continue
        if not line.startswith("\t") and not line.startswith(" "):
            flush()
            words = line.split()
            tid = words[-1] if words and words[-1].isdigit() else "0"
            comm = "_".join(words[:-1]) if len(words) > 1 else "?"
            head, frames = tid + " " + comm, []
            continue
        parts = line.strip().split(None, 1)
        if not parts:
            continue
        ip = parts[0]
        sym = parts[1] if len(parts) > 1 else "[unknown]"
        sym = re.sub(r"\s+\(.*\)$", "", sym).replace(";", ",").replace(" ", "_")
        try:
            kernel = int(ip, 16) >= 0xFFFF800000000000
        except ValueError:
            kernel = False
        frames.append((KMARK if kernel else "") + sym)
    flush()
    for stack, n in counts.items():
        out.write("%s %d\n" % (stack, n))


def rows(path):
    if not os.path.exists(path):
        return []
    with open(path) as fh:
        return [l.split() for l in fh if l.strip()]


def load_folded(path):
    """tid -> (comm, [(stack frames root..leaf, count)])"""
    threads = {}
    with (gzip.open(path, "rt") if path.endswith(".gz") else open(path)) as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                continue
            stack, n = line.rsplit(" ", 1)
            head, _, rest = stack.partition(";")
            tid, comm = head.split(" ", 1)
            frames = rest.split(";") if rest else []
            threads.setdefault(tid, (comm, []))[1].append((frames, int(n)))
    return threads


# What the kernel was doing: the deepest of these on a sample's stack names it (a partition).
DID = [
    ("endpoints' TCP (run in our softirq)", ("tcp_v4_rcv", "tcp_v6_rcv", "tcp_write_xmit",
                                            "__tcp_transmit_skb", "tcp_ack",
                                            "tcp_rcv_established", "tcp_v4_do_rcv")),
    ("capture into a ring (tpacket_rcv)", ("tpacket_rcv", "packet_rcv")),
    ("IP input short of TCP, netdev hooks", ("ip_rcv", "ipv6_rcv", "ip_rcv_finish",
                                             "nft_do_chain", "nf_hook_slow", "ip_forward")),
    ("bridge", ("br_handle_frame",)),
    ("veth transmit", ("veth_xmit",)),
    ("other softirq work", ("net_rx_action",)),
    ("copy of TX-ring pages (skb_copy_ubufs)", ("skb_copy_ubufs",)),
    ("packet socket send (tpacket_snd, qdisc)", ("packet_sendmsg",)),
    ("wake-up of another thread", ("try_to_wake_up",)),
    ("scheduler (sleep, switch)", ("__schedule",)),
    ("poll(2) itself", ("do_sys_poll",)),
    ("futex(2) itself", ("__x64_sys_futex",)),
    ("page fault", ("asm_exc_page_fault",)),
]
DID_NAMES = [d for d, _ in DID] + ["other kernel"]


def did(kern):
    best, depth = "other kernel", -1
    for name, marks in DID:
        for i, f in enumerate(kern):
            if f in marks and i > depth:
                best, depth = name, i
    return best


def entry(frames):
    """Where the kernel was entered for this sample: a system call, an interrupt, a fault."""
    kern = [f[len(KMARK):] for f in frames if f.startswith(KMARK)]
    if not kern:
        return None
    for f in kern:
        if f.startswith("__x64_sys_"):
            return f[len("__x64_sys_"):]
        if f.startswith("asm_exc_page_fault"):
            return "page fault"
        if f.startswith("asm_sysvec_") or f.startswith("asm_common_interrupt"):
            return "interrupt" + (" + softirq" if "handle_softirqs" in kern else "")
    return "other kernel"


class Thread:
    def __init__(self, name, comm, stacks, us_user, us_kernel):
        self.name, self.comm = name, comm
        self.samples = sum(n for _, n in stacks)
        self.us = us_user + us_kernel
        self.us_user, self.us_kernel = us_user, us_kernel
        # µs per frame one sample stands for (the thread's /proc CPU shared by its samples)
        self.per = self.us / self.samples if self.samples else 0.0
        self.ksamples = 0
        self.entries = Counter()
        self.did = Counter()
        self.softirq_in = Counter()
        self.incl = Counter()
        self.selfk = Counter()
        self.lookup_callers = Counter()
        self.irqen_callers = Counter()
        for frames, n in stacks:
            e = entry(frames)
            kern = [f[len(KMARK):] for f in frames if f.startswith(KMARK)]
            if e is None:
                continue
            self.ksamples += n
            self.entries[e] += n
            self.did[did(kern)] += n
            if "net_rx_action" in kern:
                self.softirq_in[e] += n
            for f in set(kern):
                if f in INCLUSIVE:
                    self.incl[f] += n
            leaf = kern[-1]
            self.selfk[leaf] += n
            if leaf.startswith("packet_lookup_frame") and len(kern) > 1:
                self.lookup_callers[caller(kern)] += n
            if leaf == "pvm_irq_enable" and len(kern) > 1:
                self.irqen_callers[">".join(kern[-3:-1])] += n

    def f(self, n):
        return n * self.per


def caller(kern):
    """The ring a packet_lookup_frame sample looked into, by who asked."""
    for f in reversed(kern[:-1]):
        if f in ("tpacket_rcv",):
            return "tpacket_rcv (a capture's receive ring)"
        if f in ("tpacket_snd",):
            return "tpacket_snd (a transmit ring)"
        if f.startswith("tpacket_destruct_skb"):
            return "tpacket_destruct_skb (transmit ring completion)"
        if f.startswith("packet_poll"):
            return "packet_poll (poll on a capture)"
    return kern[-2]


def threads_of(raw, label, kind):
    folded = os.path.join(raw, "cost-perf", "%s-%s.folded" % (label, kind))
    if not os.path.exists(folded):
        folded += ".gz"  # as kept in the repository
    if not os.path.exists(folded):
        return None
    stacks = load_folded(folded)
    cpu = {}
    frames = 0
    for r in rows(os.path.join(raw, "cost-threads.tsv")):
        if len(r) >= 11 and r[0] == label and r[1] == kind:
            cpu[r[3]] = (int(r[5]), int(r[6]))
            frames = int(r[10])
    if frames <= 0:
        return None
    out = []
    for tid, (comm, st) in stacks.items():
        u, k = cpu.get(tid, (0, 0))
        if u + k == 0:
            continue
        out.append(Thread(comm, comm, st, u / HZ / frames * 1e6, k / HZ / frames * 1e6))
        out[-1].tid = int(tid)
    out.sort(key=lambda t: -t.us)
    return out, frames


def name_threads(threads, c):
    """The C forwarder's threads by interface (the first started reads client0), ours by role."""
    if c:
        workers = sorted((t for t in threads if t.comm == "pcapfwd"), key=lambda t: t.tid)
        # pthread_create order: client0's reader, then core0's; the main thread sleeps in pause()
        readers = workers[-2:] if len(workers) >= 2 else workers
        names = ["C client0 reader", "C core0 reader"]
        for t, n in zip(readers, names):
            t.name = n
        return [t for t in readers]
    keep = []
    for t in threads:
        if t.comm.startswith("hydranet-forwar"):
            t.name = "HN forwarding"
            keep.append(t)
        elif t.comm.startswith("hydranet-receiv"):
            t.name = "HN receive"
            keep.append(t)
    keep.sort(key=lambda t: t.name)
    return keep


def sum_threads(ts, name):
    class S:
        pass

    s = S()
    s.name = name
    s.us = sum(t.us for t in ts)
    s.us_user = sum(t.us_user for t in ts)
    s.us_kernel = sum(t.us_kernel for t in ts)
    for attr in ("entries", "did", "softirq_in", "incl", "selfk", "lookup_callers", "irqen_callers"):
        c = Counter()
        for t in ts:
            for k, v in getattr(t, attr).items():
                c[k] += v * t.per
        setattr(s, attr, c)
    s.f = lambda x: x  # already in µs per frame
    return s


def us(t, attr, key):
    return t.f(getattr(t, attr).get(key, 0))


def table(title, cols, attr, keys, note=None, diff=None):
    out = ["", "**%s**%s" % (title, (" " + note) if note else ""), ""]
    head = "| | " + " | ".join(c.name for c in cols) + " |"
    if diff:
        head += " %s |" % diff[0]
    out.append(head)
    out.append("|---|" + "---:|" * (len(cols) + (1 if diff else 0)))
    for k in keys:
        vals = [us(c, attr, k) for c in cols]
        if max(vals) < 0.005:
            continue
        line = "| %s | " % k + " | ".join("%.2f" % v for v in vals) + " |"
        if diff:
            line += " %+.2f |" % diff[1](vals)
        out.append(line)
    return out


def point(raw, kind):
    c = threads_of(raw, "c-ring-forward", kind)
    h = threads_of(raw, "hydranet-forward", kind)
    if not c or not h:
        return []
    cth, cframes = c
    hth, hframes = h
    cth, hth = name_threads(cth, True), name_threads(hth, False)
    if not cth or not hth:
        return []
    ct, ht = sum_threads(cth, "C total"), sum_threads(hth, "HN total")
    cols = cth + hth + [ct, ht]
    d = ("HN − C (totals)", lambda v: v[-1] - v[-2])
    out = ["", "### %s: µs of CPU per frame that left the far side (C ring: %d frames, HydraNet: %d)"
           % (kind, cframes, hframes), ""]
    out.append("| thread | µs/frame | user | kernel | perf samples |")
    out.append("|---|---:|---:|---:|---:|")
    for t in cth + hth:
        out.append("| %s (tid %d) | %.2f | %.2f | %.2f | %d |" % (t.name, t.tid, t.us, t.us_user,
                                                                t.us_kernel, t.samples))
    out.append("| C total | %.2f | %.2f | %.2f | |" % (ct.us, ct.us_user, ct.us_kernel))
    out.append("| HN total | %.2f | %.2f | %.2f | |" % (ht.us, ht.us_user, ht.us_kernel))
    ent = Counter()
    for t in cols:
        for k in t.entries:
            ent[k] += us(t, "entries", k)
    out += table("Kernel time by entry", cols, "entries", [k for k, _ in ent.most_common()],
                 "(µs/frame; \"interrupt + softirq\" is network work that landed on the thread"
                 " when an interrupt returned)", d)
    out += table("Kernel time by what it did", cols, "did", DID_NAMES,
                 "(µs/frame; each sample counted once, by the deepest of the functions that name"
                 " the work: TCP of the client or origin run inside our send's softirq, the"
                 " capture of a frame into a ring, ...)", d)
    out += table("…of which softirq network work (net_rx_action) inside that entry", cols,
                 "softirq_in", [k for k, _ in ent.most_common()], None, d)
    out += table("Inclusive kernel functions", cols, "incl",
                 [k for k in INCLUSIVE if any(k in t.incl for t in cols)],
                 "(µs/frame; overlapping: a capture inside our sendto's softirq counts in both)", d)
    selfs = Counter()
    for k in set().union(*(t.selfk.keys() for t in cols)):
        selfs[k] = us(ht, "selfk", k) - us(ct, "selfk", k)
    top = [k for k, _ in selfs.most_common(18)]
    top += [k for k, v in sorted(selfs.items(), key=lambda kv: kv[1])[:6] if k not in top]
    out += table("Kernel self time, most extra in HydraNet first (and the most saved last)", cols,
                 "selfk", top, "(µs/frame)", d)
    lk = Counter()
    for t in cols:
        for k in t.lookup_callers:
            lk[k] += 1
    out += table("packet_lookup_frame by caller", cols, "lookup_callers", list(lk), "(µs/frame)", d)
    ik = Counter()
    for t in (ct, ht):
        for k, v in t.irqen_callers.items():
            ik[k] += v
    out += table("pvm_irq_enable by caller (the section that ran with interrupts off)", cols,
                 "irqen_callers", [k for k, _ in ik.most_common(8)], "(µs/frame)", d)
    for label in ("c-ring-forward", "hydranet-forward"):
        pk = os.path.join(raw, "cost-perf", "%s-%s.packet.txt" % (label, kind))
        if os.path.exists(pk):
            out += ["", "Packet sockets in the forwarder's namespace during %s %s"
                    " (/proc/net/packet: Proto 0003 = ETH_P_ALL, 0000 = none; Iface = ifindex):"
                    % (label, kind), "", "```"]
            with open(pk) as fh:
                out += [l.rstrip("\n") for l in fh][:24]
            out.append("```")
    return out


def report(raws):
    out = []
    for raw in raws:
        if os.path.isdir(os.path.join(raw, "raw")):
            raw = os.path.join(raw, "raw")
        out.append("\n## %s\n" % raw.rstrip("/"))
        for r in rows(os.path.join(raw, "machine.txt")):
            if r and r[0] in ("jar:", "cpu", "date:", "commit:"):
                out.append("    " + " ".join(r))
        for r in rows(os.path.join(raw, "load.txt")):
            out.append("    load %s" % " ".join(r))
        kinds = []
        for f in sorted(os.listdir(os.path.join(raw, "cost-perf"))):
            m = re.match(r"hydranet-forward-(.+)\.folded(\.gz)?$", f)
            if m:
                kinds.append(m.group(1))
        for kind in kinds:
            out += point(raw, kind)
    print("\n".join(out))


def main(argv):
    if len(argv) >= 2 and argv[1] == "fold":
        fold(sys.stdin, sys.stdout)
        return 0
    if len(argv) >= 3 and argv[1] == "report":
        report(argv[2:])
        return 0
    print(__doc__.strip())
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
