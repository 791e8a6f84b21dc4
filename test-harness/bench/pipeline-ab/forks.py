#!/usr/bin/env python3
"""Every fork of an ab.sh sitting: its ns/op (median of the 5 measured iterations), its mode (slow
by session 10's thresholds), the probes' speed meanwhile (median ALU-chain CPU ns per step on CPU 0
and CPU 1; a slower machine reads higher), the benchmark thread's share of CPU 0, and, with LOG=1,
a digest of C2's output (the code size of the last C2 compile of every hydranet method) and the
number of hydranet compiles or deoptimisations logged during the measured seconds. Then the
test of whether slow forks cluster in time: adjacent forks (in time) of the same mode, against
10,000 shuffles of the same modes. A JIT lottery draws each fork's mode anew in its own JVM; a
machine that slows for minutes makes neighbours alike.

usage: forks.py OUT                 an ab.sh sitting
       forks.py --json DIR...       older sittings (JSON only: start times from the files' mtimes)
"""
import bisect, collections, glob, hashlib, json, os, random, re, statistics, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'jit-calls'))
SLOW = {('forward', '64'): 105, ('redirect', '64'): 105, ('forward', '1500'): 105,
        ('redirect', '1500'): 140, ('redirectFragment', '1500'): 230}
ORDER = [('forward', '64'), ('forward', '1500'), ('redirect', '64'), ('redirect', '1500'),
         ('redirectFragment', '1500')]


def clustering(forks):
    """forks: [(start, slow)]; prints the adjacency test."""
    modes = [s for _, s in sorted(forks)]
    same = lambda m: sum(1 for a, b in zip(m, m[1:]) if a == b)
    obs = same(modes)
    random.seed(1)
    ge = sum(same(random.sample(modes, len(modes))) >= obs for _ in range(10000))
    print('forks %d, slow %d; adjacent pairs of the same mode %d of %d; shuffles with as many: %d/10000'
          % (len(modes), sum(modes), obs, len(modes) - 1, ge))


def from_json(dirs):
    forks = []
    for d in dirs:
        for f in glob.glob(d + '/*.json'):
            txt = open(f).read()
            if not txt.strip():
                continue
            bs = json.loads(txt)
            end = os.path.getmtime(f)
            for i, b in enumerate(bs):
                k = (b['params']['mode'], b['params']['size'])
                t = end - (len(bs) - i) * 12.4  # a fork takes about 12.4 s
                s = b['primaryMetric']['score']
                forks.append((t, s >= SLOW[k]))
                print(time.strftime('%H:%M:%S', time.gmtime(t)), os.path.basename(f)[0],
                      '%-16s %4s %6.1f %s' % (k[0], k[1], s, 'SLOW' if s >= SLOW[k] else ''))
    clustering(forks)


def probes(out):
    p = collections.defaultdict(list)
    for name in ('probe0.log', 'probe1.log'):
        path = os.path.join(out, name)
        if os.path.exists(path):
            for line in open(path):
                f = line.split()
                if len(f) >= 4 and f[2] == 'alu':
                    p[f[1]].append((float(f[0]), float(f[3])))
    return p


def signature(xml):
    import jitcalls
    tasks, nm = jitcalls.parse(xml)
    last = {}
    for t in tasks:
        if t['level'] == '4' and 'hydranet' in t['method'] and nm.get(t['id']) is not None:
            last[t['method'].split(' (')[0] + (' osr' if t['osr'] else '')] = nm[t['id']]
    return hashlib.md5(repr(sorted(last.items())).encode()).hexdigest()[:6]


def late(xml, t0, t1):
    """Compiles, not-entrants and deoptimisations of hydranet methods whose stamp (seconds since
    the VM started) falls between epoch seconds t0 and t1: what changed the code while measuring."""
    start, n = vm_start(xml), 0
    ev = re.compile(r"^<(task |make_not_entrant |deoptimized |uncommon_trap thread=)")
    with open(xml, errors='replace') as f:
        for line in f:
            if ev.match(line) and 'hydranet' in line:
                st = re.search(r"stamp='([\d.]+)'", line)
                n += bool(st) and t0 <= start + float(st.group(1)) <= t1
    return n


def vm_start(xml):
    with open(xml, errors='replace') as f:
        m = re.search(r"time_ms='(\d+)'", f.read(400))
    return int(m.group(1)) / 1000 if m else None


def sitting(out):
    pr = probes(out)
    cpu = collections.defaultdict(list)
    tc = os.path.join(out, 'threadcpu.log')
    if os.path.exists(tc):
        for line in open(tc):
            f = line.split()
            if len(f) == 6:
                cpu[f[2]].append((float(f[0]), int(f[4])))

    def share(t0, t1):
        best = None
        for s in cpu.values():
            ts = [x[0] for x in s]
            i, j = bisect.bisect_left(ts, t0), bisect.bisect_right(ts, t1) - 1
            if j - i >= 2:
                v = (s[j][1] - s[i][1]) / 1e9 / (s[j][0] - s[i][0])
                best = v if best is None else max(best, v)
        return best

    rows = []
    for line in open(os.path.join(out, 'log')):
        m = re.search(r'side (\S+) key (\S+) (\S+) load (\S+)', line)
        if not m:
            continue
        side, k, clock, load = m.groups()
        logs = [x for x in glob.glob(os.path.join(out, k + '-*.xml')) if vm_start(x)]
        for suffix in ('', '-frag'):
            txt = os.path.join(out, k + suffix + '.txt')
            if not os.path.exists(txt):
                continue
            cur = None
            for l in open(txt):
                t, _, s = l.partition(' ')
                if s.startswith('# Parameters:'):
                    p = dict(re.findall(r'(\w+) = (\w+)', s))
                    cur = {'k': (p['mode'], p['size']), 'start': float(t), 'meas': [], 't': []}
                    rows.append((side, k, load, cur))
                mm = re.match(r'Iteration\s+\d+: ([\d.]+) ns/op', s)
                if mm and cur:
                    cur['meas'].append(float(mm.group(1)))
                    cur['t'].append(float(t))
        for x in logs:
            # each log belongs to the fork that started just before its VM did
            start = vm_start(x)
            own = [r for r in rows if r[1] == k and r[3]['start'] <= start + 1]
            if own:
                own[-1][3]['xml'] = x
    forks = []
    for side, k, load, f in rows:
        if len(f['meas']) < 5:
            print(k, f['k'], 'no result')
            continue
        t0, t1 = f['t'][0] - 1.0, f['t'][-1]
        ns = statistics.median(f['meas'])
        slow = ns >= SLOW[f['k']]
        forks.append((f['start'], slow))
        line = '%s %-10s load %-5s %-16s %4s %7.1f %-4s [%s]' % (
            time.strftime('%H:%M:%S', time.gmtime(f['start'])), k, load, f['k'][0], f['k'][1], ns,
            'SLOW' if slow else '', ' '.join('%.0f' % x for x in f['meas']))
        for label in ('cpu0', 'cpu1'):
            v = [a for t, a in pr.get(label, []) if t0 <= t <= t1]
            line += '  %s %s' % (label, '%.3f' % statistics.median(v) if v else '-')
        sh = share(t0, t1)
        if sh:
            line += '  share %.2f' % sh
        if 'xml' in f:
            line += '  c2 %s, %d code changes measuring' % (signature(f['xml']), late(f['xml'], t0, t1))
        print(line)
    clustering(forks)


if __name__ == '__main__':
    if sys.argv[1] == '--json':
        from_json(sys.argv[2:])
    else:
        sitting(sys.argv[1])
