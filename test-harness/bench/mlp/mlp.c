/* Memory-level parallelism of this machine: K independent pointer chases interleaved over SIZE MiB
 * of 64-byte lines linked in one random cycle; prints CPU ns per load for K = 1..32 (BENCHMARKS.md,
 * "Where the look-ahead's time goes"; FlowTableParts chaseK is the same loop in Java).
 * Build and run: gcc -O2 -o /tmp/mlp test-harness/bench/mlp/mlp.c && taskset -c 0 /tmp/mlp 80 0
 * (arguments: SIZE in MiB, 1 for MADV_HUGEPAGE or 0 for MADV_NOHUGEPAGE). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>
int main(int argc,char**argv){
  size_t sz=(size_t)atol(argv[1])<<20; int huge=atoi(argv[2]);
  char*p=mmap(0,sz,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0);
  madvise(p,sz,huge?MADV_HUGEPAGE:MADV_NOHUGEPAGE);
  size_t n=sz/64; uint64_t*idx=malloc(n*8); for(size_t i=0;i<n;i++)idx[i]=i;
  srand(7); for(size_t i=n-1;i>0;i--){size_t j=((size_t)rand()*RAND_MAX+rand())%(i+1);uint64_t t=idx[i];idx[i]=idx[j];idx[j]=t;}
  for(size_t i=0;i<n;i++) *(uint64_t*)(p+idx[i]*64)=(uint64_t)(p+idx[(i+1)%n]*64);
  int ks[]={1,2,4,8,16,32};
  for(int t=0;t<6;t++){int k=ks[t]; uint64_t*q[32]; for(int c=0;c<k;c++) q[c]=(uint64_t*)(p+idx[(n/k)*c]*64);
    long it=20000000/k; struct timespec a,b; clock_gettime(CLOCK_THREAD_CPUTIME_ID,&a);
    for(long i=0;i<it;i++) for(int c=0;c<k;c++) q[c]=(uint64_t*)*q[c];
    clock_gettime(CLOCK_THREAD_CPUTIME_ID,&b);
    uint64_t s=0; for(int c=0;c<k;c++) s+=(uint64_t)q[c];
    printf("%sMiB huge=%d chains=%2d ns/load=%.1f (%lx)\n",argv[1],huge,k,((b.tv_sec-a.tv_sec)*1e9+(b.tv_nsec-a.tv_nsec))/(it*k),s&0xf);}
}
