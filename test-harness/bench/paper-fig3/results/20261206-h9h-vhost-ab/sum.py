import os, sys, glob
for d in sorted(glob.glob('/tmp/h9h/runs/*/')):
    p = d + 'raw/cost.tsv'
    if not os.path.exists(p): continue
    load = open(d+'raw/load.txt').read().split()
    for line in open(p):
        r = line.split()
        label, kind, role = r[:3]
        x0,u0,s0,t0,x1,u1,s1,t1,hz = map(float, r[3:12])
        ev = dict(kv.split('=',1) for kv in r[12:] if '=' in kv)
        f = x1-x0
        if f <= 0: continue
        g = lambda k: float(ev.get(k,0))/f
        print("%-12s %-28s %-10s %-10s fps %7.0f cpu %6.2f us (u %5.2f k %5.2f) sys %.2f write %.3f sendto %.3f futex %.2f poll %.2f cs %.2f" % (
            os.path.basename(d[:-1]), label, kind, role, f/(t1-t0), (u1-u0+s1-s0)/hz/f*1e6, (u1-u0)/hz/f*1e6, (s1-s0)/hz/f*1e6,
            g('raw_syscalls:sys_enter'), g('syscalls:sys_enter_write'), g('syscalls:sys_enter_sendto'), g('syscalls:sys_enter_futex'),
            g('syscalls:sys_enter_poll')+g('syscalls:sys_enter_ppoll'), g('context-switches')))
