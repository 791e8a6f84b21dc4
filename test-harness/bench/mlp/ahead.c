/* What a batch look-ahead can hide, in C, by the kind of access pass one makes (BENCHMARKS.md,
 * "Session 17: the look-ahead's floor in C"). Batches of 16 items, each a random 64-byte line of a
 * SIZE MiB table; pass two does WORK rounds of dependent arithmetic and a store into a 4 KiB hot
 * buffer per item, then reads its line, and the next item's work depends on what it read, as a
 * packet's does on its flow. Pass one is, by MODE: 0 nothing; 1 a plain load of each line (what
 * Java can do: FlowTable.loadPrefetched); 2 a one-byte store of 0 into each line (a store retires
 * before its line arrives); 3 __builtin_prefetch (prefetcht0: retires at once; Java 17 has none).
 * Prints CPU ns per item; run SIZE 1 (in cache) for the same work without misses.
 * Build and run: gcc -O2 -o /tmp/ahead test-harness/bench/mlp/ahead.c &&
 *   for m in 0 1 2 3; do taskset -c 1 /tmp/ahead 80 100 $m 200000; done; taskset -c 1 /tmp/ahead 1 100 0 200000
 * (arguments: SIZE MiB, WORK rounds, MODE, batches). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define BATCH 16
static double cpu_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}
static uint64_t rng = 88172645463325252ull;
static inline uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}
volatile uint64_t sink;
uint8_t hot[4096]; /* read at the end, so its stores stay */
int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: ahead SIZE_MIB WORK MODE BATCHES\n");
    return 2;
  }
  size_t lines = (size_t)atoi(argv[1]) * 1024 * 1024 / 64;
  int work = atoi(argv[2]), mode = atoi(argv[3]);
  long batches = atol(argv[4]);
  uint64_t *t = aligned_alloc(64, lines * 64);
  if (!t) return 1;
  memset(t, 0, lines * 64);
  for (size_t i = 0; i < lines; i++) t[i * 8] = i;
  uint64_t acc = 0;
  size_t idx[BATCH];
  double t0 = cpu_ns();
  for (long b = 0; b < batches; b++) {
    for (int i = 0; i < BATCH; i++) idx[i] = next() % lines;
    if (mode == 1) {
      uint64_t s = 0;
      for (int i = 0; i < BATCH; i++) s += t[idx[i] * 8 + 1];
      acc ^= s;
    } else if (mode == 2) {
      for (int i = 0; i < BATCH; i++) ((volatile uint8_t *)&t[idx[i] * 8 + 1])[6] = 0;
    } else if (mode == 3) {
      for (int i = 0; i < BATCH; i++) __builtin_prefetch(&t[idx[i] * 8]);
    }
    for (int i = 0; i < BATCH; i++) {
      uint64_t x = acc + i;
      for (int w = 0; w < work; w++) {
        x = x * 0x9E3779B97F4A7C15ull + w;
        hot[(x >> 7) & 4095] = (uint8_t)x;
      }
      acc += t[idx[i] * 8] + x;
    }
  }
  double used = cpu_ns() - t0;
  for (int i = 0; i < 4096; i++) acc += hot[i];
  sink = acc;
  printf("size %s MiB work %d mode %d: %.1f ns/item\n", argv[1], work, mode, used / (batches * BATCH));
  return 0;
}
