"""Samples of the redirector's receive threads by what they were in (perf -F 20000 folded stacks of
kprof's pps-paced point at 500 frames/s): python3 profile-counts.py RUN/raw/cost-perf/hydranet-forward-pps-paced.folded"""
import collections
import sys

KEYS = ('FlowTable.forEachLiveFlow', 'rename', '__GI___libc_open', 'Formatter', 'Interpreter',
        '__poll', '__libc_sendto', 'Census.step')
for path in sys.argv[1:]:
    counts = collections.Counter()
    for line in open(path):
        stack, n = line.rsplit(' ', 1)
        frames = stack.split(';')
        if 'receiv' not in frames[0]:
            continue
        counts['all'] += int(n)
        for key in KEYS:
            if any(key in f for f in frames):
                counts[key] += int(n)
    print(path, ' '.join(f'{k}={counts[k]}' for k in ('all',) + KEYS))
