#!/usr/bin/env python3
"""Turns paper-fig3's raw files into results.md and bandwidth.dat (for plot.gp).

  report.py RAW_DIR OUT_DIR "SIZES"
"""
import os, statistics, sys

raw, out, sizes = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3].split()]
COLS = [  # (config in bw.tsv, column title)
    ("clean", "Clean (kernel forwarding)"),
    ("kernel-ipip", "Kernel IP-in-IP redirect (eBPF)"),
    ("c-pcap", "C libpcap forwarder"),
    ("c-pcap-ring", "C libpcap forwarder, TX ring"),
    ("c-redirect-ring", "C libpcap redirect, TX ring, to a C host server"),
    ("hydranet-forward", "HydraNet: to real host"),
    ("hydranet-redirect", "HydraNet: to virtual host"),
    ("c-redirect-hs", "C redirect to HydraNet's host server (CROSS=1)"),
    ("hydranet-redirect-chs", "HydraNet's redirect to the C host server (CROSS=1)"),
]
COLS6 = [  # the IPv6 columns (FAMILIES with 6), each measured beside its IPv4 twin
    ("clean6", "Clean (kernel IPv6 forwarding)"),
    ("c-pcap-ring6", "C libpcap forwarder, TX ring"),
    ("hydranet-forward6", "HydraNet: to real host"),
    ("hydranet-redirect6", "HydraNet: to virtual host, IPv6-in-IPv4"),
    ("hydranet-redirect6in6", "HydraNet: to virtual host, IPv6-in-IPv6"),
]
TWIN = {"clean6": "clean", "c-pcap-ring6": "c-pcap-ring", "hydranet-forward6": "hydranet-forward",
        "hydranet-redirect6": "hydranet-redirect", "hydranet-redirect6in6": "hydranet-redirect"}
FULL = max(sizes)  # the message size taken as "full-size segments" for the targets


def read(name):
    p = os.path.join(raw, name)
    if not os.path.exists(p):
        return []
    with open(p) as f:
        return [l.split() for l in f if l.strip()]


runs = {}  # (config, size) -> {round: Mb/s}
for row in read("bw.tsv"):
    cfg, size, v = row[:3]
    rnd = row[3] if len(row) > 3 else "1"
    if v != "NA":
        runs.setdefault((cfg, int(size)), {})[rnd] = float(v) / 1e6
bw = {k: statistics.median(v.values()) for k, v in runs.items()}
nrounds = len({rnd for v in runs.values() for rnd in v})


def round_ratios(a, b, s):
    """Ratios a/b taken within each round (neighbours in time), as (median, min, max)."""
    ra, rb = runs.get((a, s), {}), runs.get((b, s), {})
    rs = [ra[k] / rb[k] for k in ra if k in rb and rb[k] > 0]
    return (statistics.median(rs), min(rs), max(rs)) if rs else None
pps = {r[0]: (int(r[1]), int(r[2])) for r in read("pps.tsv")}
# conn.tsv: label, median, p99, connections, failures, and the round (CONN_ROUNDS; none before
# 2026-12-07: one round)
conn_rounds = {}
for r in read("conn.tsv"):
    conn_rounds.setdefault(r[0], {})[r[5] if len(r) > 5 else "1"] = r[1:5]
conn = set(conn_rounds)
present = [(c, t) for c, t in COLS if any((c, s) in bw for s in sizes)]
present6 = [(c, t) for c, t in COLS6 if any((c, s) in bw for s in sizes)]
# IPv4 measured at all (FAMILIES=6 measures IPv6 alone: then the IPv4 comparisons are left out)
has4 = bool(present) or any(k in conn for k in ("hydranet-direct", "kernel-direct", "c-pcap-direct")) \
    or "kernel-forward" in pps


def write_dat(name, cols):
    with open(os.path.join(out, name), "w") as f:
        f.write("size " + " ".join('"%s"' % t for c, t in cols) + "\n")
        for s in sizes:
            vals = []
            for c, t in cols:
                v = bw.get((c, s))
                vals.append("?" if v is None else "%.1f" % v)
            f.write("%d %s\n" % (s, " ".join(vals)))


write_dat("bandwidth.dat", present)
if present6:
    write_dat("bandwidth6.dat", present6)


def fmt(v):
    return "n/a" if v is None else "%.0f" % v


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def pct(r):
    return "n/a" if r is None else "%.0f %%" % (100 * r)


L = []
L.append("# Figure 3, side by side (one run)\n")
with open(os.path.join(raw, "machine.txt")) as f:
    L += ["    " + l.rstrip() for l in f]
L.append("")
L.append("Load average (1, 5, 15 min) when each part started:\n")
for r in read("load.txt"):
    L.append("- %s: %s" % (r[0], " ".join(r[1:])))
L.append("")


def vmstat_summary():
    """Idle and steal over the run, from vmstat's columns (a VM's steal skews every figure)."""
    path = os.path.join(raw, "vmstat.txt")
    if not os.path.exists(path):
        return None
    head, rows = None, []
    with open(path) as f:
        for line in f:
            cells = line.split()
            if "st" in cells and "id" in cells:
                head = cells
            elif head and len(cells) == len(head) and cells[0].isdigit():
                rows.append(dict(zip(head, map(int, cells))))
    rows = rows[1:]  # the first line is the average since boot
    if not rows:
        return None
    st = [r["st"] for r in rows]
    idle = [r["id"] for r in rows]
    cs = [r["cs"] for r in rows]
    return ("CPU over the run (vmstat every 5 s, %d samples): steal mean %.1f %%, max %d %%;"
            " idle mean %.1f %%; context switches mean %.0f/s"
            % (len(rows), sum(st) / len(st), max(st), sum(idle) / len(idle), sum(cs) / len(cs)))


if vmstat_summary():
    L.append(vmstat_summary() + "\n")


def bw_tables(cols, family):
    L.append("## %s TCP bandwidth, Mb/s (iperf3 -N -l SIZE, one stream, offloads off; median of %d rounds)\n"
             % (family, nrounds))
    L.append("| message size | " + " | ".join(t for c, t in cols) + " |")
    L.append("|---:|" + "---:|" * len(cols))
    for s in sizes:
        L.append("| %d | %s |" % (s, " | ".join(fmt(bw.get((c, s))) for c, t in cols)))
    if nrounds > 1:
        L.append("\nSpread over the rounds (min–max, Mb/s):\n")
        L.append("| message size | " + " | ".join(t for c, t in cols) + " |")
        L.append("|---:|" + "---:|" * len(cols))
        for s in sizes:
            cells = []
            for c, t in cols:
                v = runs.get((c, s), {}).values()
                cells.append("%.0f–%.0f" % (min(v), max(v)) if v else "n/a")
            L.append("| %d | %s |" % (s, " | ".join(cells)))


if present or not present6:
    bw_tables(present, "Sustained")
again = bw.get(("clean-again", 1472))
if again is not None:
    L.append("\nKernel forwarding again at the end of the run, 1472 B: %.0f Mb/s (at the start: %s)."
             % (again, fmt(bw.get(("clean", 1472)))))
if present:
    L.append("\nRatios to the kernel (ratio of the medians above):\n")
    L.append("| message size | C pcap / clean | HydraNet to real host / clean | HydraNet to virtual host / kernel IP-in-IP | HydraNet to virtual host / clean |")
    L.append("|---:|---:|---:|---:|---:|")
    for s in sizes:
        g = lambda c: bw.get((c, s))
        L.append("| %d | %s | %s | %s | %s |" % (
            s, pct(ratio(g("c-pcap"), g("clean"))), pct(ratio(g("hydranet-forward"), g("clean"))),
            pct(ratio(g("hydranet-redirect"), g("kernel-ipip"))),
            pct(ratio(g("hydranet-redirect"), g("clean")))))


def rr_cell(a, b, s):
    """The median of the ratios a/b taken within each round, with their range when there are more."""
    x = round_ratios(a, b, s)
    if x is None:
        return "n/a"
    return pct(x[0]) if nrounds < 2 else "%s (%.0f–%.0f %%)" % (pct(x[0]), 100 * x[1], 100 * x[2])


def ratio_table(intro, cols):
    """A table of within-round ratios per message size; cols: (column title, a, b) for a/b."""
    L.append(intro)
    L.append("| message size | " + " | ".join(t for t, a, b in cols) + " |")
    L.append("|---:|" + "---:|" * len(cols))
    for s in sizes:
        L.append("| %d | %s |" % (s, " | ".join(rr_cell(a, b, s) for t, a, b in cols)))


if any(("c-redirect-ring", s) in bw for s in sizes):
    ratio_table("\nRedirection against the pcap approach's ceiling for it (the C forwarder redirecting in"
                " IP-in-IP to a C host server that writes onto a replica's link, both with TX rings: the"
                " same hops as HydraNet's redirect); the median of the ratios taken within each round,"
                " the rounds' range in parentheses:\n", (
                    ("C redirect / C ring forwarding", "c-redirect-ring", "c-pcap-ring"),
                    ("HydraNet redirect / C redirect", "hydranet-redirect", "c-redirect-ring"),
                    ("HydraNet redirect / C ring forwarding", "hydranet-redirect", "c-pcap-ring"),
                    ("kernel IP-in-IP (eBPF) / C redirect", "kernel-ipip", "c-redirect-ring")))
    if any(("c-redirect-hs", s) in bw for s in sizes):
        ratio_table("\nThe two redirects' halves crossed (CROSS=1): which half of HydraNet's redirect costs"
                    " what against the C one (within-round ratios to the C redirect, C redirector and C host"
                    " server):\n", (
                        ("HydraNet redirector → C host server", "hydranet-redirect-chs", "c-redirect-ring"),
                        ("C redirector → HydraNet host server", "c-redirect-hs", "c-redirect-ring"),
                        ("HydraNet both", "hydranet-redirect", "c-redirect-ring")))
        cpu = {}  # (config, size) -> [(redirector µs/frame, host server µs/frame)]
        for row in read("cross-cpu.tsv"):
            frames, hz = int(row[4]), int(row[5])
            if frames > 0:
                cpu.setdefault((row[0], int(row[1])), []).append(
                    (int(row[2]) / hz / frames * 1e6, int(row[3]) / hz / frames * 1e6))
        if cpu:
            L.append("\nCPU per frame the host server received over the same points (utime + stime of each"
                     " process over the whole iperf3 run, median of the rounds, µs):\n")
            L.append("| message size | path | redirector | host server |")
            L.append("|---:|---|---:|---:|")
            for s in sizes:
                for c in ("c-redirect-ring", "c-redirect-hs", "hydranet-redirect-chs", "hydranet-redirect"):
                    v = cpu.get((c, s))
                    if v:
                        L.append("| %d | %s | %.2f | %.2f |" % (s, c, statistics.median(x[0] for x in v),
                                                            statistics.median(x[1] for x in v)))

if present6:
    L.append("")
    bw_tables(present6, "IPv6: sustained")
if present6 and has4:
    ratio_table("\nIPv6 against IPv4, path by path (the median of the ratios IPv6/IPv4 taken within each"
                " round, where the two points ran one after the other; the rounds' range in parentheses):\n",
                [(t, c, TWIN[c]) for c, t in present6])
if present6:
    ratio_table("\nIPv6: HydraNet against the kernel's IPv6 forwarding and the C forwarder (within-round"
                " ratios, as above):\n", (
                    ("C ring / clean", "c-pcap-ring6", "clean6"),
                    ("HydraNet to real host / clean", "hydranet-forward6", "clean6"),
                    ("HydraNet to real host / C ring", "hydranet-forward6", "c-pcap-ring6"),
                    ("6in4 redirect / clean", "hydranet-redirect6", "clean6"),
                    ("6in6 redirect / clean", "hydranet-redirect6in6", "clean6"),
                    ("6in6 / 6in4 redirect", "hydranet-redirect6in6", "hydranet-redirect6")))

L.append("\n## 64-byte UDP frames, per second (trafgen on one core into client0; counted on the far interface)\n")
L.append("| path | offered (client tx) | arrived at far side | of offered |")
L.append("|---|---:|---:|---:|")
names = {"kernel-forward": "kernel forwarding → origin", "c-pcap-forward": "C libpcap forwarder → origin",
         "c-pcap-ring-forward": "C libpcap forwarder with a TX ring → origin",
         "c-redirect-ring": "C libpcap redirect with a TX ring → C host server",
         "hydranet-forward": "HydraNet forwarding → origin",
         "hydranet-forward-cold": "HydraNet forwarding → origin, before the warm-up (PPS_WARM=cold)",
         "hydranet-redirect": "HydraNet redirect → host server",
         "kernel-ipip-redirect": "kernel IP-in-IP redirect (eBPF) → host server",
         "hydranet-redirect-hs-paused": "HydraNet redirect → host server (host server JVM stopped)",
         "kernel-forward6": "IPv6: kernel forwarding → origin",
         "c-pcap-ring-forward6": "IPv6: C libpcap forwarder with a TX ring → origin",
         "hydranet-forward6": "IPv6: HydraNet forwarding → origin",
         "hydranet-redirect6": "IPv6: HydraNet redirect in IPv6-in-IPv4 → host server",
         "hydranet-redirect6in6": "IPv6: HydraNet redirect in IPv6-in-IPv6 → host server",
         "hydranet-redirect6-hs-paused": "IPv6: HydraNet redirect in IPv6-in-IPv4 → host server (host server JVM stopped)"}
for k, (o, a) in pps.items():
    L.append("| %s | %d | %d | %s |" % (names.get(k, k), o, a, pct(ratio(a, o))))
PPS6 = [  # (IPv6 path, its IPv4 twin, the kernel's IPv6 forwarding as the reference)
    ("kernel-forward6", "kernel-forward"), ("c-pcap-ring-forward6", "c-pcap-ring-forward"),
    ("hydranet-forward6", "hydranet-forward"), ("hydranet-redirect6", "hydranet-redirect"),
    ("hydranet-redirect6in6", "hydranet-redirect"), ("hydranet-redirect6-hs-paused", "hydranet-redirect-hs-paused")]
if any(k in pps for k, _ in PPS6):
    L.append("\nIPv6 frames that arrived, against the IPv4 twin's and against the kernel's IPv6 forwarding:\n")
    L.append("| IPv6 path | arrived/s | / IPv4 twin | / kernel IPv6 forwarding |")
    L.append("|---|---:|---:|---:|")
    k6 = pps.get("kernel-forward6")
    for k, twin in PPS6:
        if k in pps:
            a, t = pps[k][1], pps.get(twin)
            L.append("| %s | %d | %s | %s |" % (names[k], a, pct(ratio(a, t and t[1])), pct(ratio(a, k6 and k6[1]))))

def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def conn_value(labels, rnd, i=0):
    """The mean of these paths' figure i (0 median, 1 p99) in one round (a forwarder measured in
    blocks before and after the others), or None."""
    vals = [num(conn_rounds[l][rnd][i]) for l in labels if rnd in conn_rounds.get(l, {})]
    vals = [v for v in vals if v is not None]
    return sum(vals) / len(vals) if vals else None


def rounds_of(labels):
    """The rounds in which any of these paths was measured, in order."""
    return sorted({k for l in labels for k in conn_rounds.get(l, {})}, key=lambda k: (len(k), k))


def conn_diff(a, b, i=0):
    """a − b (tuples of labels), taken within each round: (median, min, max, rounds), or None."""
    ds = []
    for rnd in rounds_of(a + b):
        va, vb = conn_value(a, rnd, i), conn_value(b, rnd, i)
        if va is not None and vb is not None:
            ds.append(va - vb)
    return (statistics.median(ds), min(ds), max(ds), len(ds)) if ds else None


def conn_mean(labels, i=0):
    """The median over the rounds of these paths' mean figure i (0 median, 1 p99), or None."""
    vals = [v for v in (conn_value(labels, r, i) for r in rounds_of(labels)) if v is not None]
    return statistics.median(vals) if vals else None


def spread(d):
    return "" if d[3] < 2 else " (rounds: %+.1f to %+.1f)" % (d[1], d[2])


L.append("\n## TCP connection setup (connect() until established, µs; paths interleaved)\n")
L.append("| path | median | each round's median | p99 (median of rounds) | connections | failures |")
L.append("|---|---:|---|---:|---:|---:|")
for k, by_round in conn_rounds.items():
    med, p99 = conn_mean((k,)), conn_mean((k,), 1)
    L.append("| %s | %s | %s | %s | %d | %d |" % (
        k, "NA" if med is None else "%.1f" % med, ", ".join(by_round[r][0] for r in rounds_of((k,))),
        "NA" if p99 is None else "%.1f" % p99,
        sum(int(v[2]) for v in by_round.values()), sum(int(v[3]) for v in by_round.values())))


C_RING = ("c-pcap-ring-direct", "c-pcap-ring-direct-after")
C_INJECT = ("c-pcap-direct", "c-pcap-direct-after")
CONN_DIFFS = [
    ("HydraNet direct − C forwarder direct (TX ring, as HydraNet transmits)", ("hydranet-direct",), C_RING),
    ("HydraNet direct − C forwarder direct (pcap_inject)", ("hydranet-direct",), C_INJECT),
    ("HydraNet direct − kernel forwarding direct", ("hydranet-direct",), ("kernel-direct",)),
    ("C forwarder direct (TX ring) − kernel forwarding direct", C_RING, ("kernel-direct",)),
    ("HydraNet redirected − HydraNet direct", ("hydranet-redirected",), ("hydranet-direct",)),
    ("kernel IP-in-IP (eBPF) redirected − kernel direct", ("kernel-redirected",), ("kernel-direct",)),
    ("IPv6: HydraNet direct − kernel forwarding direct", ("hydranet-direct6",), ("kernel-direct6",)),
    ("IPv6: HydraNet redirected in IPv6-in-IPv4 − HydraNet direct", ("hydranet-redirected6",), ("hydranet-direct6",)),
    ("IPv6: HydraNet redirected in IPv6-in-IPv6 − HydraNet direct", ("hydranet-redirected6in6",), ("hydranet-direct6",)),
    ("IPv6 − IPv4: HydraNet direct", ("hydranet-direct6",), ("hydranet-direct",)),
    ("IPv6 − IPv4: HydraNet redirected (IPv6-in-IPv4 against IP-in-IP)", ("hydranet-redirected6",), ("hydranet-redirected",)),
    ("IPv6 − IPv4: kernel forwarding direct", ("kernel-direct6",), ("kernel-direct",)),
]
if conn:
    L.append("\nDifferences of the medians, µs, taken within each round, then the median of the rounds'"
             " (a C forwarder's figure is the mean of its blocks before and after the others):\n")
    L.append("| comparison | µs |")
    L.append("|---|---:|")
    for title, a, b in CONN_DIFFS:
        d = conn_diff(a, b)
        if (title.startswith("IPv6") and d is None) or not (has4 or title.startswith("IPv6:")):
            continue  # a family not measured
        L.append("| %s | %s |" % (title, "n/a" if d is None else "%+.1f%s" % (d[0], spread(d))))
hops = os.path.join(raw, "hops.md")
if os.path.exists(hops):  # HOPS=1: hops.py's tables, the same connections hop by hop
    L.append("\n## Connection setup hop by hop (HOPS=1: tcpdump on every link, µs between the"
             " stamps of one SYN or SYN-ACK; the scheduler's switches split a daemon's crossing)\n")
    with open(hops) as fh:
        L += [l.rstrip("\n") for l in fh]

# ---- targets ----
targets_start = len(L)  # the targets are IPv4 figures: dropped below when IPv4 was not measured
L.append("\n## Targets (full-size segments = the %d-byte messages; 1472 shown too; bandwidth ratios are"
         " the median of the ratios taken within each round)\n" % FULL)
L.append("| target | measured | met? |")
L.append("|---|---|---|")
def rr(a, b, s):
    x = round_ratios(a, b, s)
    if x is None:
        return "n/a", None
    return "%s (rounds: %s–%s)" % (pct(x[0]), pct(x[1]), pct(x[2])), x[0]


for s in sorted({FULL, 1472} & set(sizes), reverse=True):
    txt, r = rr("hydranet-redirect", "kernel-ipip", s)
    L.append("| redirected TCP ≥ 75 %% of the kernel's IP-in-IP redirect (%d B) | %s | %s |"
             % (s, txt, "n/a" if r is None else ("yes" if r >= 0.75 else "**no**")))
    txt, r = rr("hydranet-forward", "clean", s)
    L.append("| forwarding ≥ 60 %% of kernel forwarding (%d B) | %s | %s |"
             % (s, txt, "n/a" if r is None else ("yes" if r >= 0.60 else "**no**")))
# Issue 23's targets against the C forwarder with the TX ring (the same transmit as HydraNet's)
for s in sorted({FULL, 1472} & set(sizes), reverse=True):
    txt, r = rr("hydranet-forward", "c-pcap-ring", s)
    if r is not None:
        L.append("| forwarding ≥ 90 %% of the C forwarder's, TX ring (%d B) | %s | %s |"
                 % (s, txt, "yes" if r >= 0.90 else "**no**"))
txt, r = rr("hydranet-redirect", "c-pcap-ring", FULL)
if r is not None:
    L.append("| redirected TCP ≥ 75 %% of the C forwarder's forwarding, TX ring (%d B) | %s | %s |"
             % (FULL, txt, "yes" if r >= 0.75 else "**no**"))
txt, r = rr("hydranet-redirect", "c-redirect-ring", FULL)
if r is not None:
    L.append("| (not a target) redirected TCP against the C redirect, the pcap approach's ceiling for"
             " redirection (%d B); the C redirect itself against the C forwarder's forwarding: %s | %s | — |"
             % (FULL, rr("c-redirect-ring", "c-pcap-ring", FULL)[0], txt))
cr = pps.get("c-pcap-ring-forward")
for key, goal, what in (("hydranet-forward", 0.90, "forwarded"), ("hydranet-redirect", 0.75, "redirected")):
    hr = pps.get(key)
    r = ratio(hr and hr[1], cr and cr[1])
    if r is not None:
        L.append("| %s 64 B rate ≥ %d %% of the C forwarder's forwarding, TX ring | %s (%d vs %d /s) | %s |"
                 % (what, 100 * goal, pct(r), hr[1], cr[1], "yes" if r >= goal else "**no**"))
hr, cd = pps.get("hydranet-redirect"), pps.get("c-redirect-ring")
r = ratio(hr and hr[1], cd and cd[1])
if r is not None:
    L.append("| (not a target) redirected 64 B rate against the C redirect's; the C redirect against the C"
             " forwarder's forwarding: %s | %s (%d vs %d /s) | — |"
             % (pct(ratio(cd[1], cr and cr[1])), pct(r), hr[1], cd[1]))
kf = pps.get("kernel-forward")
for key, note in (("hydranet-redirect", "host server running"), ("hydranet-redirect-hs-paused", "host server stopped")):
    hr = pps.get(key)
    r = ratio(hr and hr[1], kf and kf[1])
    L.append("| redirected 64 B rate ≥ 50 %% of kernel forwarding's (%s) | %s (%s vs %s /s) | %s |"
             % (note, pct(r), hr and hr[1], kf and kf[1], "n/a" if r is None else ("yes" if r >= 0.5 else "**no**")))
dm, dp = conn_diff(("hydranet-redirected",), ("hydranet-direct",)), \
    conn_diff(("hydranet-redirected",), ("hydranet-direct",), 1)
if dm:
    L.append("| connection setup within 0.1 ms of direct (median) | %+.1f µs%s (p99 %+.1f µs) | %s |"
             % (dm[0], spread(dm), dp[0] if dp else float("nan"), "yes" if dm[0] <= 100 else "**no**"))
dc = conn_diff(("hydranet-direct",), C_RING)
if dc:
    L.append("| direct connection setup through HydraNet within 50 µs of the C forwarder's (median, TX ring)"
             " | %+.1f µs%s (%.1f vs %.1f) | %s |" % (dc[0], spread(dc), conn_mean(("hydranet-direct",)),
                                                      conn_mean(C_RING), "yes" if dc[0] <= 50 else "**no**"))

if not has4:
    del L[targets_start:]

p = os.path.join(raw, "perf-cost.txt")
if os.path.exists(p):
    L.append("\nCPU cost during the profiled run (a 1472 B redirected TCP run):\n")
    with open(p) as fh:
        L += ["- " + l.strip() for l in fh if l.strip()]
for name, title in (("perf-thread.txt", "redirector JVM, by thread"), ("perf-dso.txt", "redirector JVM, by object"),
                    ("perf-children.txt", "redirector JVM, inclusive (children) shares of kernel paths"),
                    ("perf-sym.txt", "redirector JVM, top symbols (self)")):
    p = os.path.join(raw, name)
    if os.path.exists(p) and os.path.getsize(p) > 0:
        L.append("\n### perf (cpu-clock), %s, during a 1472 B redirected TCP run\n" % title)
        L.append("```")
        with open(p) as fh:
            L += [l.rstrip() for l in fh][:30]
        L.append("```")

# ---- CPU per frame side by side (issue 23) ----
cost = read("cost.tsv")
COST_SIZE = "1472"
for row in read("machine.txt"):
    for w in row:
        if w.startswith("COST_SIZE="):
            COST_SIZE = w.split("=", 1)[1]
if cost:
    calls = {(r[0], r[1], r[2]): (int(r[3]), dict(kv.split("=", 1) for kv in r[4:] if "=" in kv))
             for r in read("cost-calls.tsv") if len(r) >= 4}   # a window perf did not attach to: none
    L.append("\n## CPU per frame, side by side (frames = what left the far side; µs of CPU per frame)\n")
    L.append("64-byte frames paced (trafgen -b), at full speed, and TCP with %s-byte messages. CPU from"
             " /proc (user, kernel), events from perf stat over the same window; libpcap calls"
             " (each one JNA transition in a JVM) from uprobes in a separate 2 s window.\n" % COST_SIZE)
    L.append("| point | process | frames/s | CPU µs/frame | user | kernel | context switches | system calls |"
             " futex | poll | sendto | write | libpcap calls (next_ex+dispatch / send+inject) |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in cost:
        label, kind, role = r[0], r[1], r[2]
        x0, u0, s0, t0, x1, u1, s1, t1, hz = (float(x) for x in r[3:12])
        frames, secs = int(x1 - x0), t1 - t0
        ev = dict(kv.split("=", 1) for kv in r[12:] if "=" in kv)
        per = lambda k: "%.2f" % (float(ev[k]) / frames) if k in ev and frames > 0 else "n/a"
        us = lambda t: "%.2f" % (t / hz / frames * 1e6) if frames > 0 else "n/a"
        sc = lambda n: per("syscalls:sys_enter_" + n)
        c = calls.get((label, kind, role))
        if c and c[0] > 0:
            g = lambda k: float(c[1].get(k, 0))
            ctext = "%.2f / %.2f" % ((g("pcap_next_ex") + g("pcap_dispatch")) / c[0],
                                     (g("pcap_sendpacket") + g("pcap_inject")) / c[0])
        else:
            ctext = "n/a"
        L.append("| %s %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, kind, role, frames / secs if secs > 0 else 0, us(u1 - u0 + s1 - s0), us(u1 - u0),
            us(s1 - s0), per("context-switches"), per("raw_syscalls:sys_enter"), sc("futex"),
            "%.2f" % ((float(ev.get("syscalls:sys_enter_poll", 0)) + float(ev.get("syscalls:sys_enter_ppoll", 0))) / frames) if frames else "n/a",
            sc("sendto"), sc("write"), ctext))
    threads = read("cost-threads.tsv")
    if threads:
        hz = float(os.sysconf("SC_CLK_TCK"))
        L.append("\n### CPU per frame by thread (the same windows; threads that used any CPU)\n")
        L.append("µs of CPU per frame (user / kernel) and context switches per frame (voluntary /"
                 " involuntary) of each thread; \"cpu\" is the CPU it last ran on.\n")
        L.append("| point | process | thread | µs/frame | user | kernel | voluntary cs | involuntary cs | cpu |")
        L.append("|---|---|---|---:|---:|---:|---:|---:|---:|")
        for r in threads:
            if len(r) < 11:
                continue
            label, kind, role, comm = r[0], r[1], r[2], r[4]
            ut, st, vc, nc, cpu, frames = int(r[5]), int(r[6]), int(r[7]), int(r[8]), r[9], int(r[10])
            if frames <= 0 or role == "hostserver-delivered":
                continue
            f = lambda t: "%.2f" % (t / hz / frames * 1e6)
            L.append("| %s %s | %s | %s | %s | %s | %s | %.3f | %.3f | %s |" % (
                label, kind, role, comm, f(ut + st), f(ut), f(st), vc / frames, nc / frames, cpu))
    if read("cost-syscalls.tsv"):
        import counts  # beside this script
        L.append("\n### Per-frame counts by thread (the same windows; per frame the forwarder sent)\n")
        L.append("System calls and context switches per frame the redirector namespace sent (both"
                 " directions), from perf stat per thread; frames per sendto is the transmit batch,"
                 " frames per wake-up per voluntary context switch; libpcap reads from the uprobe"
                 " window (`counts.py` prints this table for several runs).\n")
        L += [l for l in counts.table(raw) if not l.startswith("<!--")]
    d = os.path.join(raw, "cost-perf")
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        if name.endswith(".dso.txt") and os.path.getsize(os.path.join(d, name)) > 0:
            L.append("\n### perf (cpu-clock), %s, by process and object\n" % name[:-8])
            L.append("```")
            with open(os.path.join(d, name)) as fh:
                L += [l.rstrip() for l in fh][:16]
            L.append("```")

with open(os.path.join(out, "results.md"), "w") as fh:
    fh.write("\n".join(L) + "\n")
print(len(present) + 1, len(present6) + 1)  # columns of bandwidth.dat and bandwidth6.dat, for plot.gp
