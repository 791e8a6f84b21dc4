// Machine-speed probe: a fixed integer dependency chain (no memory) and a pointer chase in a
// 4 MiB ring, each timed by this thread's CPU clock and by the wall clock. Prints one line per
// sample: epoch seconds, label, ALU cpu-ns/iter, ALU wall-ns/iter, chase cpu-ns/step, chase wall,
// and 'thru': cpu-ns per multiply-add of eight independent chains (throughput, shared with an SMT sibling).
// CPU time does not count time the guest scheduler gives to other tasks, but does count time the
// host takes the vCPU away, and every cycle is slower if the core runs slower.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
static double clk(clockid_t c) { struct timespec t; clock_gettime(c, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: probe LABEL SECONDS INTERVAL_MS\n"); return 2; }
  const char *label = argv[1]; double secs = atof(argv[2]); int interval = atoi(argv[3]);
  const long n = 1000000, steps = 200000;
  size_t lines = (4u << 20) / 64;
  uint64_t *buf = aligned_alloc(64, lines * 64);
  size_t *perm = malloc(lines * sizeof(size_t));
  for (size_t i = 0; i < lines; i++) perm[i] = i;
  srand(7);
  for (size_t i = lines - 1; i > 0; i--) { size_t j = rand() % (i + 1); size_t t = perm[i]; perm[i] = perm[j]; perm[j] = t; }
  for (size_t i = 0; i < lines; i++) buf[perm[i] * 8] = (uint64_t)(perm[(i + 1) % lines] * 8);
  double end = clk(CLOCK_MONOTONIC) + secs;
  uint64_t x = 1, p = 0;
  while (clk(CLOCK_MONOTONIC) < end) {
    double c0 = clk(CLOCK_THREAD_CPUTIME_ID), w0 = clk(CLOCK_MONOTONIC);
    for (long i = 0; i < n; i++) { x = x * 0x5DEECE66DULL + 11; __asm__ volatile("" : "+r"(x)); }
    double c1 = clk(CLOCK_THREAD_CPUTIME_ID), w1 = clk(CLOCK_MONOTONIC);
    for (long i = 0; i < steps; i++) { p = buf[p]; __asm__ volatile("" : "+r"(p)); }
    double c2 = clk(CLOCK_THREAD_CPUTIME_ID), w2 = clk(CLOCK_MONOTONIC);
    uint64_t a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8;
    for (long i = 0; i < n / 4; i++) {
      a = a * 0x5DEECE66DULL + 11; b = b * 0x5DEECE66DULL + 11; c = c * 0x5DEECE66DULL + 11; d = d * 0x5DEECE66DULL + 11;
      e = e * 0x5DEECE66DULL + 11; f = f * 0x5DEECE66DULL + 11; g = g * 0x5DEECE66DULL + 11; h = h * 0x5DEECE66DULL + 11;
      __asm__ volatile("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e), "+r"(f), "+r"(g), "+r"(h));
    }
    x ^= a ^ b ^ c ^ d ^ e ^ f ^ g ^ h;
    double c3 = clk(CLOCK_THREAD_CPUTIME_ID);
    printf("%.3f %s alu %.3f %.3f chase %.2f %.2f thru %.3f\n", clk(CLOCK_REALTIME), label,
           (c1 - c0) / n * 1e9, (w1 - w0) / n * 1e9, (c2 - c1) / steps * 1e9, (w2 - w1) / steps * 1e9,
           (c3 - c2) / (n / 4 * 8) * 1e9);
    fflush(stdout);
    usleep(interval * 1000);
  }
  return (int)((x ^ p) & 0) ;
}
