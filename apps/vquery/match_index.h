/*
 * apps/vquery/match_index.h: the two-stage search over a large library (match.c, match_ivf.c): an inverted-file
 * coarse quantiser (IVF). At build time the library's descriptors are clustered by spherical k-means into nlist
 * lists, and the entries are stored grouped by list, so each list is a contiguous block of rows. A query is matched
 * in two stages: its inner products with the nlist centroids (one sgemm for a block of queries) choose the nprobe
 * nearest lists, then the entries of those lists are scored exactly (one sgemm per list, for all the queries of the
 * batch that probe it) and the k best are kept. The scores are exact; what may differ from the exhaustive search is
 * only an entry that lies in a list the query did not probe. bench_vquery measures how often (docs/benchmarks.md).
 *
 * A library below VQ_IVF_MIN_ENTRIES entries gets no index (nlist 0): the exhaustive sgemm is fast enough there, and
 * every search is exact.
 */
#ifndef VQUERY_MATCH_INDEX_H
#define VQUERY_MATCH_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "vquery.h"

#define VQ_IVF_MIN_ENTRIES 10000u   /* smaller libraries are searched exhaustively */
#define VQ_IVF_PER_LIST 100u        /* entries per list the build aims at: nlist = count / VQ_IVF_PER_LIST */
#define VQ_IVF_MAX_LISTS 8192u
#define VQ_IVF_PROBE_DIV 4u         /* default nprobe = ceil(nlist / VQ_IVF_PROBE_DIV) (bench_vquery: agreement) */
#define VQ_NLIST_AUTO UINT32_MAX    /* vq_index_build / vq_library_write_index: choose nlist from the count */

/* A searchable view of a library: descriptors grouped by list. Plain pointers into a mapping or into a
 * vq_index_built_t; the index does not own them. */
typedef struct vq_index {
  size_t count;                /* entries */
  const float *desc;           /* count x VQ_DIM unit vectors, row-major; rows of list l are contiguous */
  uint32_t nlist;              /* 0: no coarse quantiser, every search is exhaustive */
  uint32_t nprobe;             /* lists probed by default */
  const float *centroids;      /* nlist x VQ_DIM unit vectors */
  const uint32_t *list_start;  /* nlist + 1 offsets: list l holds entries [list_start[l], list_start[l + 1]) */
} vq_index_t;

/* How to search. Zeroed options mean: the two-stage search with the index's nprobe, on the calling thread. */
typedef struct vq_match_opts {
  int exact;        /* 1: exhaustive search over every entry (one sgemm per block), whatever the index */
  uint32_t nprobe;  /* lists probed (0: the index's default; at most nlist) */
  int threads;      /* threads of the matcher's own (0 or 1: the caller's); each takes a share of the queries. With
                       more than one, keep OpenBLAS to one thread (OPENBLAS_NUM_THREADS=1) */
} vq_match_opts_t;

/* The k best entries of each of nq queries (nq x VQ_DIM floats), best first, into hits[q * k + j]; entries beyond
 * what the search found get index -1. Ties keep the lower index first. SPOT_EINVAL (k == 0, a NULL buffer),
 * SPOT_ENOMEM. A query whose probed lists hold fewer than k entries is searched exhaustively. */
int vq_match_index(const vq_index_t *ix, const float *queries, size_t nq, size_t k, const vq_match_opts_t *opts,
                   vq_hit_t *hits);

/* The index of an open library (valid until vq_library_close). */
const vq_index_t *vq_library_index(const vq_library_t *lib);
/* vq_match_batch with options. */
int vq_match_library(const vq_library_t *lib, const float *queries, size_t nq, size_t k, const vq_match_opts_t *opts,
                     vq_hit_t *hits);

/* An index built in memory (vq_index_build); owns its arrays. order[i] is the input row that became entry i. */
typedef struct vq_index_built {
  vq_index_t ix;
  float *desc;
  float *centroids;
  uint32_t *list_start;
  uint32_t *order;
} vq_index_built_t;

/* Builds an index over n descriptors (n x VQ_DIM unit vectors; the caller keeps them): nlist lists (VQ_NLIST_AUTO:
 * count / VQ_IVF_PER_LIST when count >= VQ_IVF_MIN_ENTRIES, else 0; an explicit nlist is capped at n), trained by
 * spherical k-means (k-means++-free: seeded random entries as the first centres, 10 Lloyd rounds on a sample of at
 * most 64 x nlist entries, then every entry assigned to its nearest centre), deterministic for a seed. Entries keep
 * their input order within a list. *out is the caller's (vq_index_free). SPOT_EINVAL, SPOT_ERANGE (n > INT32_MAX),
 * SPOT_ENOMEM. */
int vq_index_build(const float *desc, size_t n, uint32_t nlist, uint64_t seed, vq_index_built_t **out);
void vq_index_free(vq_index_built_t *b);

/* vq_library_write with a chosen nlist (VQ_NLIST_AUTO, 0 for none, or a number of lists); vq_library_write is this
 * with VQ_NLIST_AUTO. With an index the entries are written grouped by list (entry i of the file is then not the
 * i-th name given: use vq_library_name / vq_library_find). */
int vq_library_write_index(const char *path, const vq_model_t *model, const char *const *names, const float *desc,
                           size_t count, uint32_t nlist);

/* ---- inside the matcher (match.c, match_ivf.c) ---- */

/* hits[0..n) = {-1, 0}. */
void vq_hits_clear(vq_hit_t *hits, size_t n);
/* The two-stage search on the calling thread, probing nprobe (1..nlist) lists; ix->nlist > 0. */
int vq_match_ivf(const vq_index_t *ix, const float *queries, size_t nq, size_t k, uint32_t nprobe, vq_hit_t *hits);

/* Inserts (index, score) into hits[0..k), kept best first; ties keep the earlier offer (the lower index when entries
 * are offered in increasing order) first. */
static inline void vq_offer(vq_hit_t *hits, size_t k, int32_t index, float score) {
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

#endif
