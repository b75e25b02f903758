/*
 * apps/vquery/bench_vquery.c: the media-query application's benchmarks, one JSON object per line.
 *
 *   descriptor_qvga        CPU time of vq_describe per synthetic-camera QVGA frame on one core (thread CPU clock, so
 *                          other processes on the machine do not inflate it): median and p90 of BENCH_FRAMES frames;
 *                          wall-clock median beside it
 *   index_<n>              building the two-stage search's coarse quantiser over n entries (k-means, one thread)
 *   match_<n>_exact_blas<t>t  the exhaustive search as one call with OpenBLAS on t threads (how it ran before)
 *   match_<n>_<mode>_<t>t  exact or ivf (two-stage) search with the matcher's own t threads, OpenBLAS on one:
 *                          queries/s (wall) and per CPU-second, median of 3 runs of 1,000 queries after a warm-up;
 *                          _b64: in calls of 64 queries each (the cloud's job size), two at a time
 *   job_<n>_b64            the cost of one vq_match job as the cloud runs it: one call of 64 queries, top 1, the
 *                          library's default search (exhaustive below 10,000 entries, two-stage above), one thread,
 *                          OpenBLAS on one (a spotd worker): wall ms per job (median and p90 of JOB_RUNS jobs after a
 *                          warm-up), CPU ms per job, and the queries/s one worker sustains (64 / median; per
 *                          CPU-second: 64 / CPU ms)
 *   agreement_<n>          the two-stage search against the exhaustive one on real queries: top-1 agreement, top-5
 *                          lists equal in order, recall@1 of both (--sweep: also other nprobe values, with q/s)
 *   latency_e2e            a short `spot vquery run` (--e2e SPOT-VQUERY): device put to answer back, p50 and p99
 *   pool_sim [INTERVALS]   a mode of its own (bench_vquery_pool.c): the rate of real matching in the cloud's jobs,
 *                          fed into a simulation of 10,000 to 1,000,000 devices and the pool's autoscaler
 *
 * usage: bench_vquery [--library FILE.vql --images DIR [--train DIR] [--e2e SPOT-VQUERY]] [--sweep] [FILTER]
 *        bench_vquery [--library FILE.vql --images DIR [--train DIR]] pool_sim [INTERVALS]
 * With a library the matching figures run on its real VLADs plus synthesised distractors (library_of) and on real
 * queries (views of its photographs, synthetic-camera frames); without one, on random unit vectors (no agreement
 * figure: random vectors have no structure for a coarse quantiser to find). FILTER keeps the figures whose name
 * contains it. Budgets (issue 10): <= 30 ms per frame on one core; >= 3,000 queries/s at 100,000 entries on 2 cores.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>
#include <vl/generic.h>

#include "bench_vquery.h"
#include "match_index.h"
#include "perturb.h"
#include "vquery.h"

#define BENCH_FRAMES 60

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

double bench_vq_median3(double v[3]) {
  return pct(v, 3, 0.5);
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

/* As vq_describe leaves a VLAD: each centre's block, then the whole, at unit length. */
static void vlad_normalise(float *x) {
  for (int c = 0; c < VQ_CENTRES; c++) {
    double s = 0;
    for (int d = 0; d < VQ_PCA_DIM; d++)
      s += (double)x[c * VQ_PCA_DIM + d] * x[c * VQ_PCA_DIM + d];
    for (int d = 0; s > 0 && d < VQ_PCA_DIM; d++)
      x[c * VQ_PCA_DIM + d] = (float)(x[c * VQ_PCA_DIM + d] / sqrt(s));
  }
  double s = 0;
  for (int d = 0; d < VQ_DIM; d++)
    s += (double)x[d] * x[d];
  for (int d = 0; s > 0 && d < VQ_DIM; d++)
    x[d] = (float)(x[d] / sqrt(s));
}

void bench_vq_die(const char *what) {
  fprintf(stderr, "bench_vquery: %s: %s\n", what, spot_errdetail());
  exit(1);
}

static void mirror(vq_image_t *im) {
  for (int y = 0; y < im->h; y++)
    for (int x = 0; x < im->w / 2; x++) {
      float *row = im->px + (size_t)y * im->w, t = row[x];
      row[x] = row[im->w - 1 - x];
      row[im->w - 1 - x] = t;
    }
}

/* A camera's view of src at QVGA: a crop of fmin..fmax of each side, turned by up to 10 degrees, gain and offset,
 * sensor noise. */
static void view(const vq_image_t *src, vq_rng_t *r, double fmin, double fmax, vq_image_t *out) {
  vq_image_t a, b;
  double f = fmin + (fmax - fmin) * vq_rng_uniform(r);
  int cw = (int)(src->w * f), ch = (int)(src->h * f);
  int cx = (int)((src->w - cw) * vq_rng_uniform(r)), cy = (int)((src->h - ch) * vq_rng_uniform(r));
  if (vq_perturb_crop(src, cx, cy, cw, ch, &a) < 0 || vq_perturb_rotate(&a, (vq_rng_uniform(r) - 0.5) * 20, &b) < 0)
    bench_vq_die("perturbing a photograph");
  vq_image_free(&a);
  if (vq_image_resize(&b, VQ_FRAME_W, VQ_FRAME_H, &a) < 0)
    bench_vq_die("resizing a view");
  vq_image_free(&b);
  vq_perturb_brightness(&a, 0.8 + 0.4 * vq_rng_uniform(r), -10 + 20 * vq_rng_uniform(r));
  vq_perturb_noise(&a, 4.0, r);
  *out = a;
}

typedef bench_vq_data_t data_t;

#define BASES 240
#define PHOTO_VIEWS 6
#define CAMERA_QUERIES 240

static void load_photo(const char *path, int mirrored, vq_image_t *out) {
  vq_image_t full;
  if (vq_image_load(path, &full) < 0 || vq_image_fit(&full, VQ_PHOTO_SIDE, out) < 0)
    bench_vq_die("loading a photograph");
  vq_image_free(&full);
  if (mirrored)
    mirror(out);
}

static void real_data(const char *vql, const char *images, const char *train, data_t *d) {
  vq_library_t *lib;
  if (vq_library_open(vql, &lib) < 0)
    bench_vq_die("opening the library");
  openblas_set_num_threads(1);
  vl_set_num_threads(1);
  const vq_model_t *m = vq_library_model(lib);
  char **tp = NULL;
  size_t nt = 0;
  if (train && vq_image_list(train, &tp, &nt) < 0)
    bench_vq_die("listing the training pictures");
  d->real = 1;
  d->nl = vq_library_count(lib);
  d->nb = BASES;
  d->lib = malloc(d->nl * VQ_DIM * sizeof *d->lib);
  d->base = malloc(d->nb * VQ_DIM * sizeof *d->base);
  d->q = malloc((d->nl * PHOTO_VIEWS + CAMERA_QUERIES) * VQ_DIM * sizeof *d->q);
  d->truth = malloc((d->nl * PHOTO_VIEWS + CAMERA_QUERIES) * sizeof *d->truth);
  vq_image_t *photos = calloc(nt + d->nl, sizeof *photos);
  if (!d->lib || !d->base || !d->q || !d->truth || !photos) {
    fprintf(stderr, "bench_vquery: out of memory\n");
    exit(1);
  }
  memcpy(d->lib, vq_library_descriptors(lib), d->nl * VQ_DIM * sizeof *d->lib);
  for (size_t i = 0; i < nt + d->nl; i++) {
    char path[8192];
    if (i < nt)
      snprintf(path, sizeof path, "%s", tp[i]);
    else
      snprintf(path, sizeof path, "%s/%s", images, vq_library_name(lib, i - nt));
    load_photo(path, i >= nt, &photos[i]);
  }
  vq_rng_t r;
  vq_rng_seed(&r, 11);
  for (size_t made = 0; made < d->nb;) { /* distractor bases: views of pictures that are not in the library */
    vq_image_t v;
    view(&photos[vq_rng_next(&r) % (nt + d->nl)], &r, 0.3, 0.9, &v);
    int rc = vq_describe(m, &v, d->base + made * VQ_DIM);
    vq_image_free(&v);
    if (rc == 0)
      made++;
  }
  for (size_t i = nt; i < nt + d->nl; i++)
    mirror(&photos[i]); /* the library photographs the right way round again */
  for (size_t i = 0; i < d->nl; i++)
    for (int p = 0; p < PHOTO_VIEWS; p++) {
      vq_image_t v;
      view(&photos[nt + i], &r, 0.6, 0.95, &v);
      if (vq_describe(m, &v, d->q + d->nq * VQ_DIM) == 0)
        d->truth[d->nq++] = (int32_t)i;
      vq_image_free(&v);
    }
  vq_camera_t *cam;
  if (vq_camera_synthetic(lib, images, 5, &cam) < 0)
    bench_vq_die("starting the synthetic camera");
  for (int i = 0, got = 0; got < CAMERA_QUERIES && i < CAMERA_QUERIES * 50; i++) {
    const vq_image_t *f;
    int32_t t;
    if (vq_camera_next(cam, &f, &t) < 0)
      bench_vq_die("reading the camera");
    if (i % 7 == 0 && vq_describe(m, f, d->q + d->nq * VQ_DIM) == 0) { /* every 7th frame: more positions */
      d->truth[d->nq++] = t;
      got++;
    }
  }
  vq_camera_close(cam);
  for (size_t i = 0; i < nt + d->nl; i++)
    vq_image_free(&photos[i]);
  free(photos);
  vq_image_list_free(tp, nt);
  vq_library_close(lib);
}

/* The n-entry library the figures search: the real entries first, then distractors. A distractor is a random convex
 * combination of two base VLADs plus Gaussian noise (0.2 of its length), normalised as a VLAD. */
float *bench_vq_library(const data_t *d, size_t n) {
  float *lib = malloc(n * VQ_DIM * sizeof *lib);
  if (!lib) {
    fprintf(stderr, "bench_vquery: out of memory for %zu entries\n", n);
    exit(1);
  }
  vq_rng_t r;
  vq_rng_seed(&r, n);
  if (!d->real) {
    random_units(&r, lib, n);
    return lib;
  }
  size_t nl = d->nl < n ? d->nl : n;
  memcpy(lib, d->lib, nl * VQ_DIM * sizeof *lib);
  for (size_t i = nl; i < n; i++) {
    float *x = lib + i * VQ_DIM;
    const float *a = d->base + (vq_rng_next(&r) % d->nb) * VQ_DIM, *b = d->base + (vq_rng_next(&r) % d->nb) * VQ_DIM;
    double w = vq_rng_uniform(&r);
    for (int k = 0; k < VQ_DIM; k++)
      x[k] = (float)(w * a[k] + (1 - w) * b[k] + 0.2 / 16 * vq_rng_normal(&r));
    vlad_normalise(x);
  }
  return lib;
}

/* A batch of nb queries: the data's queries in turn, each with a little noise (a new frame of the same scene). */
float *bench_vq_queries(const data_t *d, size_t nb) {
  float *q = malloc(nb * VQ_DIM * sizeof *q);
  if (!q) {
    fprintf(stderr, "bench_vquery: out of memory\n");
    exit(1);
  }
  vq_rng_t r;
  vq_rng_seed(&r, 99);
  if (!d->real) {
    random_units(&r, q, nb);
    return q;
  }
  for (size_t i = 0; i < nb; i++) {
    float *x = q + i * VQ_DIM;
    const float *src = d->q + (i % d->nq) * VQ_DIM;
    for (int k = 0; k < VQ_DIM; k++)
      x[k] = (float)(src[k] + 0.05 / 16 * vq_rng_normal(&r));
    vlad_normalise(x);
  }
  return q;
}

/* Queries per second (wall) and per CPU-second of the process, median of 3 runs after a warm-up, of batches of
 * batch queries (nq in all). blas: OpenBLAS threads. */
static void rate_of(const vq_index_t *ix, const float *q, size_t nq, size_t batch, const vq_match_opts_t *o, int blas,
                    double *qps, double *cpu_qps) {
  vq_hit_t *hits = malloc(nq * 5 * sizeof *hits);
  if (!hits) {
    fprintf(stderr, "bench_vquery: out of memory\n");
    exit(1);
  }
  openblas_set_num_threads(blas);
  double rate[3], cpu_rate[3];
  for (int i = -1; i < 3; i++) {
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t q0 = 0; q0 < nq; q0 += batch)
      if (vq_match_index(ix, q + q0 * VQ_DIM, nq - q0 < batch ? nq - q0 : batch, 5, o, hits + q0 * 5) < 0)
        bench_vq_die("matching");
    double dt = clock_s(CLOCK_MONOTONIC) - t0, dc = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (i >= 0) {
      rate[i] = nq / dt;
      cpu_rate[i] = nq / dc;
    }
  }
  *qps = pct(rate, 3, 0.5);
  *cpu_qps = pct(cpu_rate, 3, 0.5);
  openblas_set_num_threads(1);
  free(hits);
}

#define BATCH 1000
#define JOB_BATCH 64 /* the cloud's queries per matcher job (vq_cloud_config_t.match_batch) */

static void print_rate(const char *name, size_t n, const vq_index_t *ix, const char *mode, int threads, int blas,
                       size_t batch, uint32_t nprobe, double qps, double cpu_qps, const char *data) {
  printf("{\"name\":\"%s\",\"library\":%zu,\"data\":\"%s\",\"mode\":\"%s\",\"batch\":%zu,\"top_k\":5,"
         "\"threads\":%d,\"blas_threads\":%d,\"nlist\":%u,\"nprobe\":%u,\"queries_per_s\":%.0f,"
         "\"queries_per_cpu_s\":%.0f,\"loadavg\":%.1f}\n",
         name, n, data, mode, batch, threads, blas, ix->nlist, nprobe, qps, cpu_qps, loadavg());
  fflush(stdout);
}

/* Agreement of the two-stage search with the exhaustive one over the data's queries, and both searches' recall@1. */
static void agreement(const char *name, const vq_index_t *ix, const data_t *d, uint32_t nprobe) {
  size_t nq = d->nq, k = 5;
  vq_hit_t *ex = malloc(nq * k * sizeof *ex), *tw = malloc(nq * k * sizeof *tw);
  if (!ex || !tw) {
    fprintf(stderr, "bench_vquery: out of memory\n");
    exit(1);
  }
  vq_match_opts_t oe = {.exact = 1}, ot = {.nprobe = nprobe};
  if (vq_match_index(ix, d->q, nq, k, &oe, ex) < 0 || vq_match_index(ix, d->q, nq, k, &ot, tw) < 0)
    bench_vq_die("matching");
  size_t top1 = 0, top5 = 0, known = 0, rec_e = 0, rec_t = 0;
  for (size_t i = 0; i < nq; i++) {
    top1 += ex[i * k].index == tw[i * k].index;
    int same = 1;
    for (size_t j = 0; j < k; j++)
      same &= ex[i * k + j].index == tw[i * k + j].index;
    top5 += same;
    if (d->truth[i] >= 0) {
      known++;
      rec_e += ex[i * k].index == d->truth[i];
      rec_t += tw[i * k].index == d->truth[i];
    }
  }
  printf("{\"name\":\"%s\",\"library\":%zu,\"data\":\"%s\",\"queries\":%zu,\"nlist\":%u,\"nprobe\":%u,"
         "\"top1_agreement\":%.4f,\"top5_same_order\":%.4f,\"recall_at_1_exact\":%.4f,\"recall_at_1_two_stage\":%.4f,"
         "\"known\":%zu}\n",
         name, ix->count, d->real ? "real+distractors" : "random", nq, ix->nlist, nprobe, (double)top1 / nq,
         (double)top5 / nq, known ? (double)rec_e / known : 0, known ? (double)rec_t / known : 0, known);
  fflush(stdout);
  free(ex);
  free(tw);
}

/* 1 if FILTER keeps a figure of the n-entry library. */
static int wants_match(size_t n, const char *filter) {
  static const char *const figs[] = {"index_%zu", "match_%zu_exact_blas1t", "match_%zu_exact_blas2t",
                                     "match_%zu_exact_1t", "match_%zu_exact_2t_b64", "match_%zu_ivf_1t",
                                     "match_%zu_ivf_2t_b64", "agreement_%zu_nprobe", "job_%zu_b64"};
  char name[96];
  for (size_t i = 0; i < sizeof figs / sizeof figs[0]; i++) {
    snprintf(name, sizeof name, figs[i], n);
    if (strstr(name, filter))
      return 1;
  }
  return 0;
}

/* One vq_match job as the cloud runs it (see the top of the file): JOB_RUNS calls of JOB_BATCH different queries. */
#define JOB_RUNS 50
static void bench_job(const char *name, const vq_index_t *ix, const float *q, size_t nq, const char *data) {
  vq_hit_t hits[JOB_BATCH];
  double ms[JOB_RUNS], cpu = 0;
  openblas_set_num_threads(1);
  vq_match_opts_t o = {0}; /* the cloud's: the library's default search, the caller's thread */
  for (int i = -1; i < JOB_RUNS; i++) {
    size_t q0 = ((size_t)(i + 1) * JOB_BATCH) % (nq - JOB_BATCH + 1);
    double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    if (vq_match_index(ix, q + q0 * VQ_DIM, JOB_BATCH, 1, &o, hits) < 0)
      bench_vq_die("matching a job");
    double dt = clock_s(CLOCK_MONOTONIC) - t0, dc = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (i >= 0)
      ms[i] = 1e3 * dt, cpu += 1e3 * dc;
  }
  double p50 = pct(ms, JOB_RUNS, 0.5), p90 = pct(ms, JOB_RUNS, 0.9);
  printf("{\"name\":\"%s\",\"library\":%zu,\"data\":\"%s\",\"mode\":\"%s\",\"batch\":%d,\"top_k\":1,"
         "\"threads\":1,\"blas_threads\":1,\"nlist\":%u,\"nprobe\":%u,\"jobs\":%d,\"ms_per_job_p50\":%.3f,"
         "\"ms_per_job_p90\":%.3f,\"cpu_ms_per_job\":%.3f,\"queries_per_s\":%.0f,\"queries_per_cpu_s\":%.0f,"
         "\"loadavg\":%.1f}\n",
         name, ix->count, data, ix->nlist > 0 ? "two-stage" : "exact", JOB_BATCH, ix->nlist, ix->nprobe, JOB_RUNS, p50,
         p90, cpu / JOB_RUNS, JOB_BATCH / (p50 / 1e3), JOB_BATCH / (cpu / JOB_RUNS / 1e3), loadavg());
  fflush(stdout);
}

static void bench_match(const data_t *d, size_t n, const char *filter, int sweep) {
  char name[96];
  if (!wants_match(n, filter))
    return;
  float *lib = bench_vq_library(d, n);
  vq_index_built_t *b;
  double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
  openblas_set_num_threads(1);
  if (vq_index_build(lib, n, VQ_NLIST_AUTO, 1, &b) < 0)
    bench_vq_die("building the index");
  const char *data = d->real ? "real+distractors" : "random";
  printf("{\"name\":\"index_%zu\",\"library\":%zu,\"data\":\"%s\",\"nlist\":%u,\"nprobe\":%u,\"build_s\":%.2f,"
         "\"build_cpu_s\":%.2f}\n",
         n, n, data, b->ix.nlist, b->ix.nprobe, clock_s(CLOCK_MONOTONIC) - t0,
         clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0);
  free(lib);
  /* the data's queries index the real entries: map them through the build's order */
  data_t dm = *d;
  int32_t *truth = malloc((d->nq + 1) * sizeof *truth), *where = malloc(n * sizeof *where);
  if (!truth || !where) {
    fprintf(stderr, "bench_vquery: out of memory\n");
    exit(1);
  }
  for (size_t i = 0; i < n; i++)
    where[b->order[i]] = (int32_t)i;
  for (size_t i = 0; i < d->nq; i++)
    truth[i] = d->truth[i] >= 0 && (size_t)d->truth[i] < n ? where[d->truth[i]] : -1;
  dm.truth = truth;
  float *q = bench_vq_queries(d, BATCH);
  double qps, cpu;
  for (int t = 1; t <= 2; t++) { /* the exhaustive search as before: one call, OpenBLAS's threads */
    snprintf(name, sizeof name, "match_%zu_exact_blas%dt", n, t);
    if (strstr(name, filter)) {
      rate_of(&b->ix, q, BATCH, BATCH, &(vq_match_opts_t){.exact = 1}, t, &qps, &cpu);
      print_rate(name, n, &b->ix, "exact", 1, t, BATCH, 0, qps, cpu, data);
    }
  }
  for (int two = 0; two <= (b->ix.nlist > 0); two++)
    for (int t = 1; t <= 2; t++) { /* the matcher's own threads, OpenBLAS on one */
      snprintf(name, sizeof name, "match_%zu_%s_%dt", n, two ? "ivf" : "exact", t);
      if (strstr(name, filter)) {
        rate_of(&b->ix, q, BATCH, BATCH, &(vq_match_opts_t){.exact = !two, .threads = t}, 1, &qps, &cpu);
        print_rate(name, n, &b->ix, two ? "two-stage" : "exact", t, 1, BATCH, two ? b->ix.nprobe : 0, qps, cpu, data);
      }
      snprintf(name, sizeof name, "match_%zu_%s_%dt_b%d", n, two ? "ivf" : "exact", t, JOB_BATCH);
      if (t == 2 && strstr(name, filter)) { /* jobs of 64 queries, two at a time: the cloud's two workers */
        rate_of(&b->ix, q, BATCH, JOB_BATCH * 2, &(vq_match_opts_t){.exact = !two, .threads = 2}, 1, &qps, &cpu);
        print_rate(name, n, &b->ix, two ? "two-stage" : "exact", t, 1, JOB_BATCH, two ? b->ix.nprobe : 0, qps, cpu,
                   data);
      }
    }
  snprintf(name, sizeof name, "job_%zu_b%d", n, JOB_BATCH);
  if (strstr(name, filter))
    bench_job(name, &b->ix, q, BATCH, data);
  snprintf(name, sizeof name, "agreement_%zu", n);
  if (b->ix.nlist > 0 && d->real && strstr(name, filter)) {
    agreement(name, &b->ix, &dm, b->ix.nprobe);
    for (uint32_t div = 32; sweep && div >= 2; div /= 2) { /* nprobe against agreement and speed */
      uint32_t np = (b->ix.nlist + div - 1) / div;
      snprintf(name, sizeof name, "agreement_%zu_nprobe%u", n, np);
      agreement(name, &b->ix, &dm, np);
      snprintf(name, sizeof name, "match_%zu_ivf_2t_nprobe%u", n, np);
      rate_of(&b->ix, q, BATCH, BATCH, &(vq_match_opts_t){.nprobe = np, .threads = 2}, 1, &qps, &cpu);
      print_rate(name, n, &b->ix, "two-stage", 2, 1, BATCH, np, qps, cpu, data);
    }
  }
  free(q);
  free(truth);
  free(where);
  vq_index_free(b);
}

/* End-to-end latency, device put to answer back at the device: a short `spot vquery run` (2 devices, 6 intervals of
 * 1.5 s, uniform volumes of 2 queries on average), its latency_p50_ms / latency_p99_ms. */
static void bench_e2e(const char *vqbin, const char *vql, const char *images) {
  char cmd[16384], out[65536];
  snprintf(cmd, sizeof cmd,
           "'%s' run --devices 2 --intervals 6 --interval-ms 1500 --dist uniform --mu 16384 --rho 16384 "
           "--quota optimal --library '%s' --images '%s' --calibrate 10 --json --quiet 2>&1",
           vqbin, vql, images);
  FILE *p = popen(cmd, "r");
  size_t got = p ? fread(out, 1, sizeof out - 1, p) : 0;
  int st = p ? pclose(p) : -1;
  out[got] = '\0';
  const char *a = strstr(out, "\"latency_p50_ms\":"), *b = strstr(out, "\"latency_p99_ms\":"),
             *c = strstr(out, "\"queries\":");
  if (st != 0 || !a || !b) {
    printf("{\"name\":\"latency_e2e\",\"failed\":\"spot vquery run exited %d\"}\n", st);
    fprintf(stderr, "bench_vquery: %s\n%s\n", cmd, out);
    return;
  }
  printf("{\"name\":\"latency_e2e\",\"devices\":2,\"intervals\":6,\"interval_ms\":1500,\"queries\":%.0f,"
         "\"latency_p50_ms\":%.1f,\"latency_p99_ms\":%.1f,\"loadavg\":%.1f}\n",
         c ? atof(c + 10) : -1.0, atof(a + 17), atof(b + 17), loadavg());
  fflush(stdout);
}

int main(int argc, char **argv) {
  const char *vql = NULL, *images = NULL, *train = NULL, *vqbin = NULL, *filter = "";
  int sweep = 0, pool_sim = 0, sim_intervals = 20;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--library") && i + 1 < argc)
      vql = argv[++i];
    else if (!strcmp(argv[i], "--images") && i + 1 < argc)
      images = argv[++i];
    else if (!strcmp(argv[i], "--train") && i + 1 < argc)
      train = argv[++i];
    else if (!strcmp(argv[i], "--e2e") && i + 1 < argc)
      vqbin = argv[++i];
    else if (!strcmp(argv[i], "--sweep"))
      sweep = 1;
    else if (!strcmp(argv[i], "pool_sim")) {
      pool_sim = 1;
      if (i + 1 < argc && atoi(argv[i + 1]) > 0)
        sim_intervals = atoi(argv[++i]);
    }
    else if (!strcmp(argv[i], "--help")) {
      printf("usage: bench_vquery [--library FILE.vql --images DIR [--train DIR] [--e2e SPOT-VQUERY]] [--sweep] "
             "[FILTER]\n       bench_vquery [--library FILE.vql --images DIR [--train DIR]] pool_sim [INTERVALS]\n");
      return 0;
    } else
      filter = argv[i];
  }
  data_t d = {0};
  if (pool_sim) { /* a mode of its own: the matcher's rate, then the simulation */
    if (vql && images)
      real_data(vql, images, train, &d);
    int rc = bench_vq_pool_sim(&d, sim_intervals);
    free(d.lib);
    free(d.base);
    free(d.q);
    free(d.truth);
    return rc;
  }
  if (strstr("descriptor_qvga", filter)) {
    if (vql && images)
      bench_descriptor(vql, images);
    else
      printf("{\"name\":\"descriptor_qvga\",\"skipped\":\"give --library FILE.vql --images DIR\"}\n");
  }
  static const size_t sizes[] = {1000, 100000};
  if (vql && images && (wants_match(sizes[0], filter) || wants_match(sizes[1], filter)))
    real_data(vql, images, train, &d);
  for (int s = 0; s < 2; s++)
    bench_match(&d, sizes[s], filter, sweep);
  if (strstr("latency_e2e", filter)) {
    if (vql && images && vqbin)
      bench_e2e(vqbin, vql, images);
    else
      printf("{\"name\":\"latency_e2e\",\"skipped\":\"give --library FILE.vql --images DIR --e2e build/spot-vquery\"}\n");
  }
  free(d.lib);
  free(d.base);
  free(d.q);
  free(d.truth);
  return 0;
}
