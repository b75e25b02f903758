/*
 * apps/vquery/match.c: batched nearest-neighbour search over a library (vq_match_batch). The scores of a block of
 * queries against a block of library entries are one cblas_sgemm (queries x library^T: inner products of unit
 * vectors); each query keeps its k best in a small sorted list while the library blocks go by, so memory stays
 * bounded (about 16 MB of scores) whatever the library's size.
 */
#include <stdlib.h>

#include <cblas.h>

#include "vquery.h"

#define SCORE_FLOATS (1u << 22) /* scores held at once: 16 MB */

/* Inserts (index, score) into hits[0..k), kept best first; ties keep the lower index first. */
static void offer(vq_hit_t *hits, size_t k, int32_t index, float score) {
  if (hits[k - 1].index >= 0 && score <= hits[k - 1].score)
    return;
  size_t j = k - 1;
  while (j > 0 && (hits[j - 1].index < 0 || score > hits[j - 1].score)) {
    hits[j] = hits[j - 1];
    j--;
  }
  hits[j].index = index;
  hits[j].score = score;
}

int vq_match_raw(const float *lib, size_t n, const float *queries, size_t nq, size_t k, vq_hit_t *hits) {
  if (k == 0 || (n > 0 && !lib) || (nq > 0 && (!queries || !hits)))
    return spot_fail(SPOT_EINVAL, "vq_match: k must be at least 1 and the buffers given");
  if (n > INT32_MAX)
    return spot_fail(SPOT_ERANGE, "a library of %zu entries is too large to match (at most %d)", n, INT32_MAX);
  for (size_t i = 0; i < nq * k; i++)
    hits[i] = (vq_hit_t){.index = -1, .score = 0.0f};
  if (n == 0 || nq == 0)
    return 0;
  size_t qb = nq < 256 ? nq : 256;                     /* queries per block */
  size_t lb = SCORE_FLOATS / qb;                       /* library entries per block */
  if (lb > n)
    lb = n;
  float *scores = malloc(qb * lb * sizeof *scores);
  if (!scores)
    return spot_fail(SPOT_ENOMEM, "no memory for a %zu x %zu score block", qb, lb);
  for (size_t q0 = 0; q0 < nq; q0 += qb) {
    size_t qn = nq - q0 < qb ? nq - q0 : qb;
    for (size_t l0 = 0; l0 < n; l0 += lb) {
      size_t ln = n - l0 < lb ? n - l0 : lb;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)qn, (int)ln, VQ_DIM, 1.0f, queries + q0 * VQ_DIM,
                  VQ_DIM, lib + l0 * VQ_DIM, VQ_DIM, 0.0f, scores, (int)ln);
      for (size_t q = 0; q < qn; q++) {
        vq_hit_t *h = hits + (q0 + q) * k;
        const float *s = scores + q * ln;
        for (size_t j = 0; j < ln; j++)
          offer(h, k, (int32_t)(l0 + j), s[j]);
      }
    }
  }
  free(scores);
  return 0;
}

int vq_match_batch(const vq_library_t *lib, const float *queries, size_t nq, size_t k, vq_hit_t *hits) {
  return vq_match_raw(vq_library_descriptors(lib), vq_library_count(lib), queries, nq, k, hits);
}
