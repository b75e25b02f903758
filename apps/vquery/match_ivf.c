/*
 * apps/vquery/match_ivf.c: the two-stage search (match_index.h). Building: spherical k-means over a sample of the
 * descriptors (the assignment step is the exhaustive matcher against the centres), then every entry goes to its
 * nearest centre and the rows are regrouped by list. Searching a batch: for a block of queries, one sgemm against the
 * centres chooses each query's nprobe lists; the queries are then grouped by list, and each list's rows are scored
 * with one sgemm against all the queries of the block that probe it, so a list is read once per block however many
 * queries want it. The scores of the second stage are exact inner products.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "match_index.h"
#include "perturb.h"
#include "vquery.h"

#define KMEANS_ROUNDS 10
#define KMEANS_SAMPLE 64u   /* sample rows per list */
#define ASSIGN_CHUNK 1024u  /* rows assigned per call of the exhaustive matcher */
#define IVF_QUERY_BLOCK 256u

static void normalise(float *x) {
  double s = 0;
  for (int d = 0; d < VQ_DIM; d++)
    s += (double)x[d] * x[d];
  if (s > 0)
    for (int d = 0; d < VQ_DIM; d++)
      x[d] = (float)(x[d] / sqrt(s));
}

/* assign[i] = nearest centre of rows rows[0..n) of desc (rows NULL: rows 0..n-1). */
static int assign_rows(const float *desc, const uint32_t *rows, size_t n, const float *cent, uint32_t nlist,
                       uint32_t *assign, float *chunk, vq_hit_t *hits) {
  for (size_t i0 = 0; i0 < n; i0 += ASSIGN_CHUNK) {
    size_t m = n - i0 < ASSIGN_CHUNK ? n - i0 : ASSIGN_CHUNK;
    const float *q = desc + i0 * VQ_DIM;
    if (rows) {
      for (size_t i = 0; i < m; i++)
        memcpy(chunk + i * VQ_DIM, desc + (size_t)rows[i0 + i] * VQ_DIM, VQ_DIM * sizeof *chunk);
      q = chunk;
    }
    int rc = vq_match_raw(cent, nlist, q, m, 1, hits);
    if (rc < 0)
      return rc;
    for (size_t i = 0; i < m; i++)
      assign[i0 + i] = (uint32_t)hits[i].index;
  }
  return 0;
}

/* Spherical k-means on a sample of desc: nlist unit centres into cent. */
static int kmeans(const float *desc, size_t n, uint32_t nlist, uint64_t seed, float *cent) {
  int rc = 0;
  size_t ns = (size_t)nlist * KMEANS_SAMPLE < n ? (size_t)nlist * KMEANS_SAMPLE : n;
  uint32_t *rows = malloc(n * sizeof *rows), *assign = malloc(ns * sizeof *assign);
  uint32_t *cnt = malloc(nlist * sizeof *cnt);
  double *acc = malloc((size_t)nlist * VQ_DIM * sizeof *acc);
  float *chunk = malloc(ASSIGN_CHUNK * VQ_DIM * sizeof *chunk);
  vq_hit_t *hits = malloc(ASSIGN_CHUNK * sizeof *hits);
  if (!rows || !assign || !cnt || !acc || !chunk || !hits) {
    rc = spot_fail(SPOT_ENOMEM, "no memory to cluster %zu descriptors into %u lists", n, nlist);
    goto fail;
  }
  vq_rng_t r;
  vq_rng_seed(&r, seed);
  for (size_t i = 0; i < n; i++)
    rows[i] = (uint32_t)i;
  for (size_t i = 0; i < ns; i++) { /* the sample: a partial Fisher-Yates shuffle */
    size_t j = i + (size_t)(vq_rng_next(&r) % (n - i));
    uint32_t t = rows[i];
    rows[i] = rows[j];
    rows[j] = t;
  }
  for (uint32_t c = 0; c < nlist; c++) /* first centres: distinct sampled rows */
    memcpy(cent + (size_t)c * VQ_DIM, desc + (size_t)rows[c] * VQ_DIM, VQ_DIM * sizeof *cent);
  for (int round = 0; round < KMEANS_ROUNDS; round++) {
    if ((rc = assign_rows(desc, rows, ns, cent, nlist, assign, chunk, hits)) < 0)
      goto fail;
    memset(acc, 0, (size_t)nlist * VQ_DIM * sizeof *acc);
    memset(cnt, 0, nlist * sizeof *cnt);
    for (size_t i = 0; i < ns; i++) {
      const float *x = desc + (size_t)rows[i] * VQ_DIM;
      double *a = acc + (size_t)assign[i] * VQ_DIM;
      cnt[assign[i]]++;
      for (int d = 0; d < VQ_DIM; d++)
        a[d] += x[d];
    }
    for (uint32_t c = 0; c < nlist; c++) {
      float *x = cent + (size_t)c * VQ_DIM;
      if (cnt[c] == 0) { /* an empty list restarts at a random sampled row */
        memcpy(x, desc + (size_t)rows[vq_rng_next(&r) % ns] * VQ_DIM, VQ_DIM * sizeof *x);
        continue;
      }
      for (int d = 0; d < VQ_DIM; d++)
        x[d] = (float)acc[(size_t)c * VQ_DIM + d];
      normalise(x);
    }
  }
fail:
  free(rows);
  free(assign);
  free(cnt);
  free(acc);
  free(chunk);
  free(hits);
  return rc;
}

void vq_index_free(vq_index_built_t *b) {
  if (!b)
    return;
  free(b->desc);
  free(b->centroids);
  free(b->list_start);
  free(b->order);
  free(b);
}

int vq_index_build(const float *desc, size_t n, uint32_t nlist, uint64_t seed, vq_index_built_t **out) {
  if ((n > 0 && !desc) || !out)
    return spot_fail(SPOT_EINVAL, "vq_index_build: descriptors and an output are needed");
  if (n > INT32_MAX)
    return spot_fail(SPOT_ERANGE, "a library of %zu entries is too large to index (at most %d)", n, INT32_MAX);
  if (nlist == VQ_NLIST_AUTO) {
    size_t want = n / VQ_IVF_PER_LIST;
    nlist = n < VQ_IVF_MIN_ENTRIES ? 0 : (uint32_t)(want < VQ_IVF_MAX_LISTS ? want : VQ_IVF_MAX_LISTS);
  }
  if (nlist > n)
    nlist = (uint32_t)n;
  int rc = 0;
  uint32_t *assign = NULL;
  vq_index_built_t *b = calloc(1, sizeof *b);
  if (!b)
    return spot_fail(SPOT_ENOMEM, "no memory to index %zu descriptors", n);
  b->desc = malloc((n ? n : 1) * VQ_DIM * sizeof *b->desc);
  b->order = malloc((n ? n : 1) * sizeof *b->order);
  b->list_start = malloc(((size_t)nlist + 1) * sizeof *b->list_start);
  b->centroids = malloc((nlist ? nlist : 1) * (size_t)VQ_DIM * sizeof *b->centroids);
  assign = malloc((n ? n : 1) * sizeof *assign);
  if (!b->desc || !b->order || !b->list_start || !b->centroids || !assign) {
    rc = spot_fail(SPOT_ENOMEM, "no memory to index %zu descriptors", n);
    goto fail;
  }
  b->list_start[0] = 0;
  if (nlist == 0) {
    for (size_t i = 0; i < n; i++)
      b->order[i] = (uint32_t)i;
  } else {
    float *chunk = NULL;
    vq_hit_t *hits = malloc(ASSIGN_CHUNK * sizeof *hits);
    if (!hits) {
      rc = spot_fail(SPOT_ENOMEM, "no memory to index %zu descriptors", n);
      goto fail;
    }
    if ((rc = kmeans(desc, n, nlist, seed, b->centroids)) == 0)
      rc = assign_rows(desc, NULL, n, b->centroids, nlist, assign, chunk, hits);
    free(hits);
    if (rc < 0)
      goto fail;
    /* a stable counting sort of the rows by list */
    memset(b->list_start, 0, ((size_t)nlist + 1) * sizeof *b->list_start);
    for (size_t i = 0; i < n; i++)
      b->list_start[assign[i] + 1]++;
    for (uint32_t l = 0; l < nlist; l++)
      b->list_start[l + 1] += b->list_start[l];
    uint32_t *fill = b->list_start; /* moved up by one list as rows are placed, then shifted back */
    for (size_t i = 0; i < n; i++)
      b->order[fill[assign[i]]++] = (uint32_t)i;
    memmove(b->list_start + 1, b->list_start, nlist * sizeof *b->list_start);
    b->list_start[0] = 0;
  }
  for (size_t i = 0; i < n; i++)
    memcpy(b->desc + i * VQ_DIM, desc + (size_t)b->order[i] * VQ_DIM, VQ_DIM * sizeof *b->desc);
  b->ix = (vq_index_t){.count = n,
                       .desc = b->desc,
                       .nlist = nlist,
                       .nprobe = nlist ? (nlist + VQ_IVF_PROBE_DIV - 1) / VQ_IVF_PROBE_DIV : 0,
                       .centroids = b->centroids,
                       .list_start = b->list_start};
  free(assign);
  *out = b;
  return 0;
fail:
  free(assign);
  vq_index_free(b);
  return rc;
}

/* The nprobe best of nlist scores (a min-heap of list numbers on top; ties keep the lower list). */
static void best_lists(const float *s, uint32_t nlist, uint32_t nprobe, uint32_t *top) {
  uint32_t n = 0;
  for (uint32_t l = 0; l < nlist; l++) {
    if (n == nprobe && s[l] <= s[top[0]])
      continue;
    uint32_t i;
    if (n < nprobe) { /* sift up */
      i = n++;
      while (i > 0 && s[top[(i - 1) / 2]] > s[l]) {
        top[i] = top[(i - 1) / 2];
        i = (i - 1) / 2;
      }
    } else { /* replace the root, sift down */
      i = 0;
      for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
          break;
        if (c + 1 < n && s[top[c + 1]] < s[top[c]])
          c++;
        if (s[top[c]] >= s[l])
          break;
        top[i] = top[c];
        i = c;
      }
    }
    top[i] = l;
  }
}

int vq_match_ivf(const vq_index_t *ix, const float *queries, size_t nq, size_t k, uint32_t nprobe, vq_hit_t *hits) {
  uint32_t nlist = ix->nlist, maxlen = 0;
  if (nlist == 0 || nprobe == 0 || nprobe > nlist)
    return spot_fail(SPOT_EINVAL, "vq_match_ivf: nprobe %u with %u lists", nprobe, nlist);
  vq_hits_clear(hits, nq * k);
  if (nq == 0)
    return 0;
  for (uint32_t l = 0; l < nlist; l++)
    if (ix->list_start[l + 1] - ix->list_start[l] > maxlen)
      maxlen = ix->list_start[l + 1] - ix->list_start[l];
  size_t qb = nq < IVF_QUERY_BLOCK ? nq : IVF_QUERY_BLOCK;
  int rc = 0;
  float *cs = malloc(qb * nlist * sizeof *cs), *g = malloc(qb * VQ_DIM * sizeof *g);
  float *s = malloc(qb * (maxlen ? maxlen : 1) * sizeof *s);
  uint32_t *probe = malloc(qb * nprobe * sizeof *probe), *start = malloc(((size_t)nlist + 1) * sizeof *start);
  uint32_t *who = malloc(qb * nprobe * sizeof *who), *few = malloc(qb * sizeof *few);
  vq_hit_t *fh = malloc(qb * k * sizeof *fh);
  if (!cs || !g || !s || !probe || !start || !who || !few || !fh) {
    rc = spot_fail(SPOT_ENOMEM, "no memory to match %zu queries over %u lists", qb, nlist);
    goto done;
  }
  for (size_t q0 = 0; q0 < nq; q0 += qb) {
    size_t qn = nq - q0 < qb ? nq - q0 : qb, nfew = 0;
    const float *qs = queries + q0 * VQ_DIM;
    /* stage 1: the centres, and each query's lists */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)qn, (int)nlist, VQ_DIM, 1.0f, qs, VQ_DIM,
                ix->centroids, VQ_DIM, 0.0f, cs, (int)nlist);
    memset(start, 0, ((size_t)nlist + 1) * sizeof *start);
    for (size_t q = 0; q < qn; q++) {
      uint32_t *p = probe + q * nprobe;
      size_t held = 0;
      best_lists(cs + q * nlist, nlist, nprobe, p);
      for (uint32_t j = 0; j < nprobe; j++) {
        start[p[j] + 1]++;
        held += ix->list_start[p[j] + 1] - ix->list_start[p[j]];
      }
      if (held < k) /* too few candidates for k hits: this query goes exhaustive */
        few[nfew++] = (uint32_t)q;
    }
    /* the queries grouped by list: who[start[l] .. start[l + 1]) probe list l */
    for (uint32_t l = 0; l < nlist; l++)
      start[l + 1] += start[l];
    for (size_t q = 0; q < qn; q++)
      for (uint32_t j = 0; j < nprobe; j++)
        who[start[probe[q * nprobe + j]]++] = (uint32_t)q;
    memmove(start + 1, start, nlist * sizeof *start);
    start[0] = 0;
    /* stage 2: each probed list against its queries, exact scores; lists in order, so ties keep the lower index */
    for (uint32_t l = 0; l < nlist; l++) {
      uint32_t m = start[l + 1] - start[l], first = ix->list_start[l], len = ix->list_start[l + 1] - first;
      if (m == 0 || len == 0)
        continue;
      const uint32_t *w = who + start[l];
      for (uint32_t i = 0; i < m; i++)
        memcpy(g + (size_t)i * VQ_DIM, qs + (size_t)w[i] * VQ_DIM, VQ_DIM * sizeof *g);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)len, VQ_DIM, 1.0f, g, VQ_DIM,
                  ix->desc + (size_t)first * VQ_DIM, VQ_DIM, 0.0f, s, (int)len);
      for (uint32_t i = 0; i < m; i++) {
        vq_hit_t *h = hits + (q0 + w[i]) * k;
        const float *row = s + (size_t)i * len;
        for (uint32_t j = 0; j < len; j++)
          if (row[j] > h[k - 1].score || h[k - 1].index < 0)
            vq_offer(h, k, (int32_t)(first + j), row[j]);
      }
    }
    /* queries with too few candidates: the exhaustive search */
    for (size_t i = 0; i < nfew; i++)
      memcpy(g + i * VQ_DIM, qs + (size_t)few[i] * VQ_DIM, VQ_DIM * sizeof *g);
    if (nfew > 0 && (rc = vq_match_raw(ix->desc, ix->count, g, nfew, k, fh)) < 0)
      goto done;
    for (size_t i = 0; i < nfew; i++)
      memcpy(hits + (q0 + few[i]) * k, fh + i * k, k * sizeof *fh);
  }
done:
  free(cs);
  free(g);
  free(s);
  free(probe);
  free(start);
  free(who);
  free(few);
  free(fh);
  return rc;
}
