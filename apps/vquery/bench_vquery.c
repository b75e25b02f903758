/*
 * apps/vquery/bench_vquery.c: the media-query application's benchmarks, one JSON object per line.
 *
 *   descriptor_qvga   CPU time of vq_describe per synthetic-camera QVGA frame on one core (thread CPU clock, so
 *                     other processes on the machine do not inflate it): median and p90 of BENCH_FRAMES frames;
 *                     wall-clock median beside it
 *   match_<n>_<t>t    vq_match_raw over n random unit library vectors, batches of 1,000 random unit queries, with
 *                     OpenBLAS limited to t threads: queries/s, median of 3 runs
 *
 * usage: bench_vquery [--library FILE.vql --images DIR] [FILTER]
 * The descriptor figure needs a library and the directory of its photographs (scripts/vquery-data.sh, then
 * `spot vquery library build`); without them it is skipped with a note. FILTER keeps the figures whose name
 * contains it. Budgets (DESIGN.md, issue 10): <= 30 ms per frame on one core; >= 3,000 queries/s at 100,000 entries
 * on 2 cores.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>
#include <vl/generic.h>

#include "perturb.h"
#include "vquery.h"

#define BENCH_FRAMES 60
#define BATCH 1000

static double clock_s(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double pct(double *v, int n, double p) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  int i = (int)ceil(p * n) - 1;
  return v[i < 0 ? 0 : i];
}

/* The 1-minute load average (Linux), to read the figures against; -1 where it cannot be read. */
static double loadavg(void) {
  double l = -1;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf", &l) != 1)
      l = -1;
    fclose(f);
  }
  return l;
}

static void bench_descriptor(const char *vql, const char *images) {
  vq_library_t *lib;
  vq_camera_t *cam;
  if (vq_library_open(vql, &lib) < 0 || vq_camera_synthetic(lib, images, 1, &cam) < 0) {
    fprintf(stderr, "bench_vquery: %s\n", spot_errdetail());
    exit(1);
  }
  openblas_set_num_threads(1);
  vl_set_num_threads(1);
  double cpu[BENCH_FRAMES], wall[BENCH_FRAMES];
  float q[VQ_DIM];
  int n = 0, empty = 0;
  for (int i = 0; n < BENCH_FRAMES && i < 10 * BENCH_FRAMES; i++) {
    const vq_image_t *f;
    int32_t truth;
    if (vq_camera_next(cam, &f, &truth) < 0)
      break;
    if (i % 3) /* every third frame: more photographs and positions in the sample */
      continue;
    double c0 = clock_s(CLOCK_THREAD_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
    int rc = vq_describe(vq_library_model(lib), f, q);
    cpu[n] = 1000 * (clock_s(CLOCK_THREAD_CPUTIME_ID) - c0);
    wall[n] = 1000 * (clock_s(CLOCK_MONOTONIC) - w0);
    if (rc == SPOT_EEMPTY)
      empty++;
    n++;
  }
  double wmed = pct(wall, n, 0.5), med = pct(cpu, n, 0.5), p90 = pct(cpu, n, 0.9);
  printf("{\"name\":\"descriptor_qvga\",\"frames\":%d,\"empty\":%d,\"cpu_ms_p50\":%.2f,\"cpu_ms_p90\":%.2f,"
         "\"wall_ms_p50\":%.2f,\"threads\":1,\"budget_ms\":30,\"loadavg\":%.1f}\n",
         n, empty, med, p90, wmed, loadavg());
  fflush(stdout);
  vq_camera_close(cam);
  vq_library_close(lib);
}

static void random_units(vq_rng_t *r, float *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    double s = 0;
    float *x = v + i * VQ_DIM;
    for (int d = 0; d < VQ_DIM; d++) {
      x[d] = (float)vq_rng_normal(r);
      s += (double)x[d] * x[d];
    }
    for (int d = 0; d < VQ_DIM; d++)
      x[d] = (float)(x[d] / sqrt(s));
  }
}

static void bench_match(size_t n, int threads) {
  vq_rng_t r;
  vq_rng_seed(&r, n);
  float *lib = malloc(n * VQ_DIM * sizeof *lib), *q = malloc(BATCH * VQ_DIM * sizeof *q);
  vq_hit_t *hits = malloc(BATCH * 5 * sizeof *hits);
  if (!lib || !q || !hits) {
    fprintf(stderr, "bench_vquery: out of memory for %zu entries\n", n);
    exit(1);
  }
  random_units(&r, lib, n);
  random_units(&r, q, BATCH);
  openblas_set_num_threads(threads);
  double rate[3], cpu_rate[3];
  vq_match_raw(lib, n, q, BATCH, 5, hits); /* warm: pages in, threads started */
  for (int i = 0; i < 3; i++) {
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    int rc = vq_match_raw(lib, n, q, BATCH, 5, hits);
    double dt = clock_s(CLOCK_MONOTONIC) - t0, dc = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (rc < 0) {
      fprintf(stderr, "bench_vquery: %s\n", spot_errdetail());
      exit(1);
    }
    rate[i] = BATCH / dt;
    cpu_rate[i] = BATCH / dc;
  }
  /* queries_per_cpu_s: per second of CPU time over all threads, what one core does when nobody else runs */
  printf("{\"name\":\"match_%zu_%dt\",\"library\":%zu,\"batch\":%d,\"top_k\":5,\"threads\":%d,"
         "\"queries_per_s\":%.0f,\"queries_per_cpu_s\":%.0f,\"gflops\":%.1f,\"loadavg\":%.1f}\n",
         n, threads, n, BATCH, openblas_get_num_threads(), pct(rate, 3, 0.5), pct(cpu_rate, 3, 0.5),
         pct(rate, 3, 0.5) * n * VQ_DIM * 2 / 1e9, loadavg());
  fflush(stdout);
  free(lib);
  free(q);
  free(hits);
}

int main(int argc, char **argv) {
  const char *vql = NULL, *images = NULL, *filter = "";
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--library") && i + 1 < argc)
      vql = argv[++i];
    else if (!strcmp(argv[i], "--images") && i + 1 < argc)
      images = argv[++i];
    else if (!strcmp(argv[i], "--help")) {
      printf("usage: bench_vquery [--library FILE.vql --images DIR] [FILTER]\n");
      return 0;
    } else
      filter = argv[i];
  }
  if (strstr("descriptor_qvga", filter)) {
    if (vql && images)
      bench_descriptor(vql, images);
    else
      printf("{\"name\":\"descriptor_qvga\",\"skipped\":\"give --library FILE.vql --images DIR\"}\n");
  }
  static const size_t sizes[] = {1000, 100000};
  for (int s = 0; s < 2; s++)
    for (int t = 1; t <= 2; t++) {
      char name[64];
      snprintf(name, sizeof name, "match_%zu_%dt", sizes[s], t);
      if (strstr(name, filter))
        bench_match(sizes[s], t);
    }
  return 0;
}
