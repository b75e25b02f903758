/*
 * apps/vquery/match.c: batched nearest-neighbour search over a library. The exhaustive search (vq_match_raw): the
 * scores of a block of queries against a block of library entries are one cblas_sgemm (queries x library^T: inner
 * products of unit vectors); each query keeps its k best in a small sorted list while the library blocks go by. The
 * blocks are sized so that a block of scores (1 MB) stays in the core's cache between the sgemm that writes it and
 * the scan that reads it. vq_match_index chooses between it and the two-stage search of match_ivf.c and splits the
 * queries over threads when asked; vq_match_batch is the library's default search.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "match_index.h"
#include "vquery.h"

#define SCORE_FLOATS (1u << 18) /* scores held at once: 1 MB, the size of a core's L2 cache */
#define QUERY_BLOCK 128u        /* queries per sgemm */
#define MAX_THREADS 64

void vq_hits_clear(vq_hit_t *hits, size_t n) {
  for (size_t i = 0; i < n; i++)
    hits[i] = (vq_hit_t){.index = -1, .score = 0.0f};
}

int vq_match_raw(const float *lib, size_t n, const float *queries, size_t nq, size_t k, vq_hit_t *hits) {
  if (k == 0 || (n > 0 && !lib) || (nq > 0 && (!queries || !hits)))
    return spot_fail(SPOT_EINVAL, "vq_match: k must be at least 1 and the buffers given");
  if (n > INT32_MAX)
    return spot_fail(SPOT_ERANGE, "a library of %zu entries is too large to match (at most %d)", n, INT32_MAX);
  vq_hits_clear(hits, nq * k);
  if (n == 0 || nq == 0)
    return 0;
  size_t qb = nq < QUERY_BLOCK ? nq : QUERY_BLOCK; /* queries per block */
  size_t lb = SCORE_FLOATS / qb;                   /* library entries per block */
  if (lb > n)
    lb = n;
  float *scores = malloc(qb * lb * sizeof *scores);
  if (!scores)
    return spot_fail(SPOT_ENOMEM, "no memory for a %zu x %zu score block", qb, lb);
  /* library blocks outside, query blocks inside: a library block (lb x 1 KB) is read from memory once per batch */
  for (size_t l0 = 0; l0 < n; l0 += lb) {
    size_t ln = n - l0 < lb ? n - l0 : lb;
    for (size_t q0 = 0; q0 < nq; q0 += qb) {
      size_t qn = nq - q0 < qb ? nq - q0 : qb;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)qn, (int)ln, VQ_DIM, 1.0f, queries + q0 * VQ_DIM,
                  VQ_DIM, lib + l0 * VQ_DIM, VQ_DIM, 0.0f, scores, (int)ln);
      for (size_t q = 0; q < qn; q++) {
        vq_hit_t *h = hits + (q0 + q) * k;
        const float *s = scores + q * ln;
        for (size_t j = 0; j < ln; j++)
          if (s[j] > h[k - 1].score || h[k - 1].index < 0)
            vq_offer(h, k, (int32_t)(l0 + j), s[j]);
      }
    }
  }
  free(scores);
  return 0;
}

/* One share of the queries on one thread. */
typedef struct share {
  const vq_index_t *ix;
  const float *queries;
  size_t nq, k;
  vq_match_opts_t opts;
  vq_hit_t *hits;
  int rc;
  pthread_t tid;
} share_t;

static int search(const vq_index_t *ix, const float *queries, size_t nq, size_t k, const vq_match_opts_t *o,
                  vq_hit_t *hits) {
  if (o->exact || ix->nlist == 0)
    return vq_match_raw(ix->desc, ix->count, queries, nq, k, hits);
  uint32_t nprobe = o->nprobe ? o->nprobe : ix->nprobe;
  if (nprobe == 0 || nprobe > ix->nlist)
    nprobe = ix->nlist;
  return vq_match_ivf(ix, queries, nq, k, nprobe, hits);
}

static void *run_share(void *arg) {
  share_t *s = arg;
  s->rc = search(s->ix, s->queries, s->nq, s->k, &s->opts, s->hits);
  return NULL;
}

int vq_match_index(const vq_index_t *ix, const float *queries, size_t nq, size_t k, const vq_match_opts_t *opts,
                   vq_hit_t *hits) {
  vq_match_opts_t o = {0};
  if (opts)
    o = *opts;
  if (!ix || k == 0 || (nq > 0 && (!queries || !hits)))
    return spot_fail(SPOT_EINVAL, "vq_match: an index, k >= 1 and the buffers are needed");
  size_t t = o.threads > 1 ? (size_t)o.threads : 1;
  if (t > MAX_THREADS)
    t = MAX_THREADS;
  if (t > nq)
    t = nq ? nq : 1;
  if (t == 1)
    return search(ix, queries, nq, k, &o, hits);
  share_t sh[MAX_THREADS];
  size_t started = 0, q0 = 0;
  int rc = 0;
  for (size_t i = 0; i < t; i++) {
    size_t qn = nq / t + (i < nq % t);
    sh[i] = (share_t){.ix = ix, .queries = queries + q0 * VQ_DIM, .nq = qn, .k = k, .opts = o, .hits = hits + q0 * k};
    q0 += qn;
    if (i == 0)
      continue; /* the caller's thread takes the first share */
    if (pthread_create(&sh[i].tid, NULL, run_share, &sh[i]) != 0) {
      rc = spot_fail(SPOT_ENOMEM, "cannot start matcher thread %zu of %zu: use fewer threads", i + 1, t);
      break;
    }
    started = i;
  }
  if (rc == 0)
    run_share(&sh[0]);
  for (size_t i = 1; i <= started; i++)
    pthread_join(sh[i].tid, NULL);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < t; i++)
    if (sh[i].rc != 0)
      return i == 0 ? sh[i].rc
                    : spot_fail(sh[i].rc, "matcher thread %zu of %zu failed: %s", i + 1, t, spot_strerror(sh[i].rc));
  return 0;
}

int vq_match_library(const vq_library_t *lib, const float *queries, size_t nq, size_t k, const vq_match_opts_t *opts,
                     vq_hit_t *hits) {
  if (!lib)
    return spot_fail(SPOT_EINVAL, "vq_match: no library");
  return vq_match_index(vq_library_index(lib), queries, nq, k, opts, hits);
}

int vq_match_batch(const vq_library_t *lib, const float *queries, size_t nq, size_t k, vq_hit_t *hits) {
  return vq_match_library(lib, queries, nq, k, NULL, hits);
}
