import re,sys,statistics as st
d={}
rounds=[]
for f in sys.argv[1:]:
    for line in open(f):
        if line.startswith('# round'):
            m=re.search(r'load average: ([\d.]+)',line); rounds.append(float(m[1]))
        m=re.match(r'(\S+)\s+iops=\s*(\d+)\s+MB/s=\s*([\d.]+)\s+p50=\s*([\d.]+)\s+p99=\s*([\d.]+)\s+p99.9=\s*([\d.]+)',line)
        if m: d.setdefault(m[1],[]).append(tuple(float(x) for x in m.groups()[1:]))
print("rounds", len(rounds), "load avg range", min(rounds), max(rounds))
for k,v in d.items():
    print(f"  {k:16s} n={len(v)} iops_med={st.median(x[0] for x in v):8.0f} MBs_med={st.median(x[1] for x in v):7.1f} p50={st.median(x[2] for x in v):6.1f} p99={st.median(x[3] for x in v):7.1f} p999={st.median(x[4] for x in v):7.1f} min/max iops={int(min(x[0] for x in v))}/{int(max(x[0] for x in v))}")
def paired(a,b,i):
    r=[y[i]/x[i] for x,y in zip(d[a],d[b])]
    return round(st.median(r),3), round(min(r),2), round(max(r),2)
print("paired rr32 sb/fio", paired('fio_rr32_uring','sb_rr32_uring',0))
print("paired sw1 sb/fio", paired('fio_sw1_uring','sb_sw1_uring',1))
print("paired rr1 std/fio-psync", paired('fio_rr1_psync','sb_rr1_std',0))
print("paired uring32/std1", paired('sb_rr1_std','sb_rr32_uring',0))
print("ratio of medians rr32", round(st.median(x[0] for x in d['sb_rr32_uring'])/st.median(x[0] for x in d['fio_rr32_uring']),3),
      "sw1", round(st.median(x[1] for x in d['sb_sw1_uring'])/st.median(x[1] for x in d['fio_sw1_uring']),3),
      "uring32/std1", round(st.median(x[0] for x in d['sb_rr32_uring'])/st.median(x[0] for x in d['sb_rr1_std']),2))
