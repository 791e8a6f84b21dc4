#!/usr/bin/env python3
"""Every 100 ms: for each JMH forked JVM (cmdline holds ForkedMain), each thread's on-CPU time
and run-queue wait (ns, /proc/PID/task/TID/schedstat). Line: epoch pid tid comm cpu_ns wait_ns."""
import os, sys, time
period = float(sys.argv[1]) if len(sys.argv) > 1 else 0.1
while True:
    now = time.time()
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            cmd = open('/proc/%s/cmdline' % pid, 'rb').read()
            if b'ForkedMain' not in cmd:
                continue
            for tid in os.listdir('/proc/%s/task' % pid):
                comm = open('/proc/%s/task/%s/comm' % (pid, tid)).read().strip().replace(' ', '_')
                run, wait, _ = open('/proc/%s/task/%s/schedstat' % (pid, tid)).read().split()
                if int(run) > 50_000_000:
                    print('%.3f %s %s %s %s %s' % (now, pid, tid, comm, run, wait))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    sys.stdout.flush()
    time.sleep(period)
