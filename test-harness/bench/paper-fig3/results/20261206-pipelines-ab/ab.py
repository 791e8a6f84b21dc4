#!/usr/bin/env python3
"""ab.py RUN_DIR...: per run, the ratios to C ring and the per-thread CPU of the tcp/pps-full points."""
import os, sys
for d in sys.argv[1:]:
    raw = os.path.join(d, "raw")
    def rows(n):
        p = os.path.join(raw, n)
        return [l.split() for l in open(p) if l.strip()] if os.path.exists(p) else []
    m = {l.split(":")[0]: l.split(":", 1)[1].strip() for l in open(os.path.join(raw, "machine.txt")) if ":" in l}
    print("==", d, m.get("jar", "")[-30:], m.get("settings", "")[-60:], "MHz", m.get("cpu MHz"))
    print("   load", " | ".join(" ".join(r) for r in rows("load.txt")))
    bw = {(r[0], r[1]): float(r[2]) / 1e6 for r in rows("bw.tsv")}
    for s in sorted({k[1] for k in bw}):
        g = lambda c: bw.get((c, s), float("nan"))
        print("   bw %s: clean %.0f ebpf %.0f C %.0f Cring %.0f fwd %.0f (%.0f%% of Cring) redir %.0f (%.0f%% Cring, %.0f%% ebpf)" % (
            s, g("clean"), g("kernel-ipip"), g("c-pcap"), g("c-pcap-ring"), g("hydranet-forward"),
            100 * g("hydranet-forward") / g("c-pcap-ring"), g("hydranet-redirect"),
            100 * g("hydranet-redirect") / g("c-pcap-ring"), 100 * g("hydranet-redirect") / g("kernel-ipip")))
    pps = {r[0]: (int(r[1]), int(r[2])) for r in rows("pps.tsv")}
    if pps:
        cr = pps.get("c-pcap-ring-forward", (0, 1))[1]
        for k, (o, a) in pps.items():
            print("   pps %-34s offered %7d arrived %7d  %5.1f%% of C ring" % (k, o, a, 100.0 * a / cr))
    hz = 100.0
    secs = {}
    for r in rows("cost.tsv"):
        secs[(r[0], r[1], r[2])] = float(r[10]) - float(r[6])
        x0, u0, s0, t0, x1, u1, s1, t1, hz = (float(x) for x in r[3:12])
        f = x1 - x0
        if f > 0:
            print("   cost %-20s %-9s %-20s %8.0f/s %6.2f us/frame (u %.2f k %.2f)" % (r[0], r[1], r[2], f / (t1 - t0), (u1 - u0 + s1 - s0) / hz / f * 1e6, (u1 - u0) / hz / f * 1e6, (s1 - s0) / hz / f * 1e6))
    for r in rows("cost-threads.tsv"):
        if len(r) < 11 or int(r[10]) <= 0 or r[2] == "hostserver-delivered":
            continue
        f = int(r[10]); ut, st = int(r[5]), int(r[6])
        if (ut + st) / hz < 0.05:
            continue
        print("     thr %-20s %-9s %-11s %-16s %5.2f us (u %.2f k %.2f) cs %.3f/%.3f cpu %s  busy %.0f%%" % (
            r[0], r[1], r[2], r[4], (ut + st) / hz / f * 1e6, ut / hz / f * 1e6, st / hz / f * 1e6, int(r[7]) / f, int(r[8]) / f, r[9], 100 * (ut + st) / hz / secs.get((r[0], r[1], r[2]), 1e9)))
