#!/usr/bin/env python3
# FlowTable's home() and linear probing for the benchmarks' 1M flows (exact keys, insertion order,
# 2^21 slots, records 32 bytes from byte 32 of a line-aligned array): the share of flows found past
# their home line, and past the next line too (BENCHMARKS.md, "Where the look-ahead's time goes").
# usage: lines-past-home.py pipeline   (PipelineBenchmark's 1M: both halves; the driven :80 half)
#        lines-past-home.py parts      (FlowTableParts: all 1M flows to :80)
M=(1<<64)-1
slots=1<<21; mask=slots-1
def home(hi,lo):
    x=(hi*0x9E3779B97F4A7C15+lo)&M
    x^=x>>33; x=(x*0xff51afd7ed558ccd)&M; x^=x>>33; x=(x*0xc4ceb9fe1a85ec53)&M; x^=x>>33
    return x&mask
def src(f): return 0xC6120100 | (100 + f//60000)
def port(f): return 1024 + f%60000
DST=0xC612020A
import sys
which=sys.argv[1]
flows=[]
if which=='pipeline':   # FlowFrames.openAll: redirected half to :80, then forwarded half to :8080
    for f in range(1<<20):
        flows.append((f, 80 if f < (1<<19) else 8080))
else:                   # FlowTableParts: all 1M to :80
    for f in range(1<<20): flows.append((f,80))
occ=bytearray(slots)
where=[]
for f,dp in flows:
    hi=(src(f)<<32)|DST; lo=(6<<32)|(port(f)<<16)|dp
    h=home(hi,lo); s=h
    while occ[s]: s=(s+1)&mask
    occ[s]=1; where.append((h,s,dp))
# line pairing: slot 0 alone, then (1,2),(3,4)...: line(s) = (s+1)>>1
line=lambda s:(s+1)>>1
def stats(sel):
    n=p1=p2=0
    for h,s,dp in where:
        if not sel(dp): continue
        n+=1
        if line(s)!=line(h):
            p1+=1
            if line(s)!=line((h+2)&mask): p2+=1
    return n, p1/n, p2/n
print(which, 'all', stats(lambda d: True))
if which=='pipeline': print(which, 'driven :80', stats(lambda d: d==80))
