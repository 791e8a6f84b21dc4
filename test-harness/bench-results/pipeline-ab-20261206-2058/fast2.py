import json,sys,os,statistics
d=sys.argv[1]
rows=[l.split() for l in open(d+'/log') if l.startswith('round')]
bench=[('forward','64'),('forward','1500'),('redirect','64'),('redirect','1500'),('redirectFragment','1500')]
data={}; alloc={}
for r in rows:
    key=r[5]; side=r[3]
    for f in [d+'/'+key+'.json', d+'/'+key+'-frag.json']:
        if os.path.exists(f) and open(f).read().strip():
            for b in json.load(open(f)):
                p=b['params']; k=(p['mode'],p['size'])
                data.setdefault(k,{}).setdefault(side,[]).append(b['primaryMetric']['score'])
                sm=b.get('secondaryMetrics',{}).get('gc.alloc.rate.norm')
                if sm: alloc.setdefault(side,[]).append(sm['score'])
for k in bench:
    if k not in data: continue
    allv=[x for s in data[k].values() for x in s]; thr=1.2*min(allv)
    sides=sorted(data[k])
    med={s:statistics.median([x for x in data[k][s] if x<=thr] or [float('nan')]) for s in sides}
    n={s:len([x for x in data[k][s] if x<=thr]) for s in sides}
    print(k, 'thr %.1f'%thr, ' '.join('%s %.2f (%d/%d fast: %s)'%(s,med[s],n[s],len(data[k][s]),' '.join('%.1f'%x for x in data[k][s])) for s in sides), 'F/A %+.1f%%'%((med['F']/med['A']-1)*100) if 'F' in med and 'A' in med else '')
for s in alloc: print('alloc B/op', s, 'max %.4f'%max(alloc[s]))
