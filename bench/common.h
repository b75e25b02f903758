/*
 * bench/common.h: what the benchmarks measure with, shared by the bench_* programs (header only: each benchmark is
 * one program of its own): a monotonic clock, sorting samples and reading a percentile from them, and where this
 * build's programs are.
 */
#ifndef SPOT_BENCH_COMMON_H
#define SPOT_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Nanoseconds on the monotonic clock (for intervals within one host, not for stamps compared with a node's). */
static inline uint64_t bench_now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* qsort's comparison for uint64_t samples, ascending. */
static inline int bench_cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Percentile p (0 to 1) of n > 0 samples in ns sorted ascending (bench_cmp_u64), in microseconds. */
static inline double bench_pct_us(const uint64_t *sorted, size_t n, double p) {
  return sorted[(size_t)(p * (double)(n - 1))] / 1000.0;
}

/* The build directory, two levels above this program (build/bench/bench_x -> build), into dir (cap bytes); "" if
 * /proc/self/exe cannot be read. */
static inline void bench_build_dir(char *dir, size_t cap) {
  ssize_t n = readlink("/proc/self/exe", dir, cap - 1);
  dir[n > 0 ? n : 0] = '\0';
  for (int up = 0; up < 2; up++)
    if (strrchr(dir, '/'))
      *strrchr(dir, '/') = '\0';
}

#endif
