import json,sys,os,statistics
d=sys.argv[1]
rows=[l.split() for l in open(d+'/log') if l.startswith('round')]
bench=[('forward','64'),('forward','1500'),('redirect','64'),('redirect','1500'),('redirectFragment','1500')]
data={}
for r in rows:
    key=r[5]; side=r[3]
    for f in [d+'/'+key+'.json', d+'/'+key+'-frag.json']:
        if os.path.exists(f) and open(f).read().strip():
            for b in json.load(open(f)):
                p=b['params']; data.setdefault((p['mode'],p['size']),{}).setdefault(side,[]).append(b['primaryMetric']['score'])
for k in bench:
    allv=[x for s in data[k].values() for x in s]; thr=1.2*min(allv)
    med={s:statistics.median([x for x in data[k][s] if x<=thr]) for s in 'AFP'}
    n={s:len([x for x in data[k][s] if x<=thr]) for s in 'AFP'}
    print(k, 'thr %.1f'%thr, ' '.join('%s %.2f (%d fast)'%(s,med[s],n[s]) for s in 'AFP'), 'F/A %+.1f%%'%((med['F']/med['A']-1)*100), 'P/A %+.1f%%'%((med['P']/med['A']-1)*100), 'F/P %+.1f%%'%((med['F']/med['P']-1)*100))
