#!/usr/bin/env python3
"""Small helpers for paper-fig3 (standard library only, no DNS lookups).

  tools.py listen ADDR PORT            accept connections and close them at once
  tools.py connect ADDR N PORT...      time connect() N times per port, ports interleaved;
                                       prints "PORT median_us p99_us n failures" per port
  tools.py iperf FILE                  bits/s received from an iperf3 -J result, or NA

ADDR is an IPv4 or an IPv6 literal (one with a colon is IPv6).
"""
import json, socket, statistics, sys, time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def listen(addr, port):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, int(port)))
    s.listen(4096)
    while True:
        c, _ = s.accept()
        c.close()


def connect(addr, n, ports):
    times = {p: [] for p in ports}
    fails = {p: 0 for p in ports}
    for _ in range(int(n)):
        for p in ports:  # interleaved, so that load changes hit both alike
            s = socket.socket(family(addr), socket.SOCK_STREAM)
            s.settimeout(2)
            t0 = time.perf_counter_ns()
            try:
                s.connect((addr, int(p)))
                times[p].append((time.perf_counter_ns() - t0) / 1000)
            except OSError:
                fails[p] += 1
            s.close()
            time.sleep(0.002)
    for p in ports:
        t = sorted(times[p])
        if not t:
            print(p, "NA", "NA", 0, fails[p])
            continue
        p99 = t[min(len(t) - 1, int(round(0.99 * (len(t) - 1))))]
        print(p, "%.1f" % statistics.median(t), "%.1f" % p99, len(t), fails[p])


def iperf(path):
    try:
        with open(path) as f:
            d = json.load(f)
        print("%.0f" % d["end"]["sum_received"]["bits_per_second"])
    except Exception:
        print("NA")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "listen":
        listen(*args)
    elif cmd == "connect":
        connect(args[0], args[1], args[2:])
    elif cmd == "iperf":
        iperf(args[0])
    else:
        sys.exit("unknown command " + cmd)
