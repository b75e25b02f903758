/*
 * apps/vquery/bench_vquery.h: what bench_vquery's files share (bench_vquery.c: the figures and the data they run on;
 * bench_vquery_pool.c: the pool simulation with real matchers). Part of the bench_vquery program only.
 */
#ifndef VQUERY_BENCH_VQUERY_H
#define VQUERY_BENCH_VQUERY_H

#include <stddef.h>
#include <stdint.h>

/* What the matching figures run on. With a real library: its own VLADs, base VLADs for the distractors (views of the
 * training pictures and of mirrored library photographs: real descriptors of pictures that are not in the library)
 * and queries (views of the library photographs, and synthetic-camera frames) whose truth is known. Without one:
 * random unit vectors. */
typedef struct bench_vq_data {
  int real;
  size_t nl, nb, nq;
  float *lib, *base, *q; /* nl, nb, nq x VQ_DIM */
  int32_t *truth;        /* nq: the library entry the query shows, -1 unknown */
} bench_vq_data_t;

/* The n-entry library the figures search (malloc'ed, the caller's): the real entries first, then distractors. */
float *bench_vq_library(const bench_vq_data_t *d, size_t n);
/* A batch of nb queries (malloc'ed, the caller's). */
float *bench_vq_queries(const bench_vq_data_t *d, size_t nb);
/* Prints "bench_vquery: WHAT: DETAIL" and exits 1. */
void bench_vq_die(const char *what) __attribute__((noreturn));
/* The median of three values (sorts v). */
double bench_vq_median3(double v[3]);

/* `bench_vquery pool_sim [INTERVALS]` (bench_vquery_pool.c): the measured matcher, then the simulation; 0 or 1. */
int bench_vq_pool_sim(const bench_vq_data_t *d, int intervals);

#endif
