/* Experiment only: prefetch n lines at base + offsets[i] (byte offsets), without waiting. */
void hn_prefetch(long base, const int *offsets, int n) {
  for (int i = 0; i < n; i++) __builtin_prefetch((const char *)base + offsets[i], 0, 3);
}
void hn_nothing(long base, const int *offsets, int n) { (void)base; (void)offsets; (void)n; }
