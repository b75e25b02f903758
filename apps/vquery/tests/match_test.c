/*
 * apps/vquery/tests/match_test.c: the two-stage search (match_index.h) on synthetic libraries where the answer is
 * known: clustered unit vectors, each query a slightly moved copy of one entry. The two-stage search finds that entry
 * first for every query, its top 5 are the exhaustive search's in the same order, matcher threads change nothing,
 * probing every list or asking for more hits than the probed lists hold gives the exhaustive answer; a library file
 * with an index keeps each name with its descriptor and is searched in two stages; an old-version file, a damaged
 * list table or centre, and a list table that is consistent with its checksums but not with the entries are refused
 * with a line naming the file and the command that rebuilds it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "library.h"
#include "match_index.h"
#include "perturb.h"
#include "support.h"
#include "test.h"
#include "vqtest.h"
#include "vquery.h"

#define N_ENTRIES 12000 /* above VQ_IVF_MIN_ENTRIES: the automatic index applies */
#define N_CLUSTERS 150
#define N_QUERIES 300
#define K 5

static void add_noise_unit(vq_rng_t *r, const float *src, double sigma, float *out) {
  double s = 0;
  for (int d = 0; d < VQ_DIM; d++) {
    out[d] = (float)(src[d] + sigma / 16 * vq_rng_normal(r));
    s += (double)out[d] * out[d];
  }
  for (int d = 0; d < VQ_DIM; d++)
    out[d] = (float)(out[d] / sqrt(s));
}

/* n clustered unit vectors, and nq queries: query i is a copy of entry answer[i] moved by a little noise. */
static void synthetic(size_t n, size_t nq, float *lib, float *q, int32_t *answer) {
  vq_rng_t r;
  vq_rng_seed(&r, 5);
  float *centre = malloc(N_CLUSTERS * VQ_DIM * sizeof *centre), zero[VQ_DIM] = {0};
  CHECK(centre != NULL);
  for (int c = 0; c < N_CLUSTERS; c++)
    add_noise_unit(&r, zero, 16, centre + c * VQ_DIM);
  for (size_t i = 0; i < n; i++)
    add_noise_unit(&r, centre + (vq_rng_next(&r) % N_CLUSTERS) * VQ_DIM, 0.8, lib + i * VQ_DIM);
  for (size_t i = 0; i < nq; i++) {
    answer[i] = (int32_t)(vq_rng_next(&r) % n);
    add_noise_unit(&r, lib + (size_t)answer[i] * VQ_DIM, 0.1, q + i * VQ_DIM);
  }
  free(centre);
}

static void test_known_answer(void) {
  openblas_set_num_threads(1); /* as the cloud runs it; OpenBLAS's threads only spin on a loaded test machine */
  float *lib = malloc((size_t)N_ENTRIES * VQ_DIM * sizeof *lib), *q = malloc(N_QUERIES * VQ_DIM * sizeof *q);
  int32_t answer[N_QUERIES];
  vq_hit_t *ex = malloc(N_QUERIES * K * sizeof *ex), *tw = malloc(N_QUERIES * K * sizeof *tw),
           *t2 = malloc(N_QUERIES * K * sizeof *t2);
  CHECK(lib && q && ex && tw && t2);
  synthetic(N_ENTRIES, N_QUERIES, lib, q, answer);
  vq_index_built_t *b;
  CHECK_OK(vq_index_build(lib, N_ENTRIES, VQ_NLIST_AUTO, 1, &b));
  CHECK_EQ(b->ix.nlist, N_ENTRIES / VQ_IVF_PER_LIST);
  CHECK(b->ix.nprobe >= 1 && b->ix.nprobe < b->ix.nlist);
  CHECK_EQ(b->ix.list_start[b->ix.nlist], N_ENTRIES);
  int32_t *where = malloc(N_ENTRIES * sizeof *where); /* input row -> entry of the index */
  CHECK(where != NULL);
  for (size_t i = 0; i < N_ENTRIES; i++) {
    CHECK(memcmp(b->desc + i * VQ_DIM, lib + (size_t)b->order[i] * VQ_DIM, VQ_DIM * sizeof *lib) == 0);
    where[b->order[i]] = (int32_t)i;
  }
  CHECK_OK(vq_match_index(&b->ix, q, N_QUERIES, K, &(vq_match_opts_t){.exact = 1}, ex));
  CHECK_OK(vq_match_index(&b->ix, q, N_QUERIES, K, NULL, tw));
  CHECK_OK(vq_match_index(&b->ix, q, N_QUERIES, K, &(vq_match_opts_t){.threads = 2}, t2));
  size_t same = 0;
  for (size_t i = 0; i < N_QUERIES; i++) {
    CHECK_EQ(ex[i * K].index, where[answer[i]]); /* the construction: the exhaustive search finds the answer */
    CHECK_EQ(tw[i * K].index, where[answer[i]]); /* and so does the two-stage search */
    for (size_t j = 0; j < K; j++) {
      same += tw[i * K + j].index == ex[i * K + j].index;
      CHECK(fabsf(tw[i * K + j].score - ex[i * K + j].score) < 1e-5f);
      CHECK_EQ(t2[i * K + j].index, tw[i * K + j].index);
    }
  }
  CHECK_EQ(same, N_QUERIES * K); /* --top 5: the same entries in the same order */
  /* probing every list is the exhaustive search */
  CHECK_OK(vq_match_index(&b->ix, q, N_QUERIES, K, &(vq_match_opts_t){.nprobe = b->ix.nlist}, tw));
  for (size_t i = 0; i < N_QUERIES * K; i++)
    CHECK_EQ(tw[i].index, ex[i].index);
  /* more hits than one list holds: those queries go exhaustive, so the answer is still complete and exact */
  size_t bigk = 0;
  for (uint32_t l = 0; l < b->ix.nlist; l++)
    if (b->ix.list_start[l + 1] - b->ix.list_start[l] > bigk)
      bigk = b->ix.list_start[l + 1] - b->ix.list_start[l];
  bigk++;
  vq_hit_t *be = malloc(4 * bigk * sizeof *be), *bt = malloc(4 * bigk * sizeof *bt);
  CHECK(be && bt);
  CHECK_OK(vq_match_index(&b->ix, q, 4, bigk, &(vq_match_opts_t){.exact = 1}, be));
  CHECK_OK(vq_match_index(&b->ix, q, 4, bigk, &(vq_match_opts_t){.nprobe = 1}, bt));
  for (size_t i = 0; i < 4 * bigk; i++) {
    CHECK(bt[i].index >= 0);
    CHECK_EQ(bt[i].index, be[i].index);
  }
  CHECK_RC(vq_match_index(&b->ix, q, 1, 0, NULL, tw), SPOT_EINVAL);
  free(be);
  free(bt);
  free(where);
  vq_index_free(b);
  free(lib);
  free(q);
  free(ex);
  free(tw);
  free(t2);
}

static const char *const *names_of(size_t n) {
  static char (*buf)[VQ_NAME_MAX];
  static const char **p;
  free(buf);
  free(p);
  buf = malloc(n * VQ_NAME_MAX);
  p = malloc(n * sizeof *p);
  if (!buf || !p)
    abort();
  for (size_t i = 0; i < n; i++) {
    snprintf(buf[i], VQ_NAME_MAX, "e-%zu.jpg", i);
    p[i] = buf[i];
  }
  return p;
}

/* A library file with the automatic index: names stay with their descriptors; vq_match_batch finds the answers. */
static void test_file(void) {
  openblas_set_num_threads(1);
  char path[4200];
  snprintf(path, sizeof path, "%s/ivf.vql", spot_test_dir("vqmatch"));
  float *lib = malloc((size_t)N_ENTRIES * VQ_DIM * sizeof *lib), *q = malloc(N_QUERIES * VQ_DIM * sizeof *q);
  int32_t answer[N_QUERIES];
  vq_hit_t *hits = malloc(N_QUERIES * K * sizeof *hits);
  static vq_model_t m;
  CHECK(lib && q && hits);
  synthetic(N_ENTRIES, N_QUERIES, lib, q, answer);
  CHECK_OK(vq_library_write(path, &m, names_of(N_ENTRIES), lib, N_ENTRIES));
  vq_library_t *l;
  CHECK_OK(vq_library_open(path, &l));
  const vq_index_t *ix = vq_library_index(l);
  CHECK_EQ(ix->nlist, N_ENTRIES / VQ_IVF_PER_LIST);
  CHECK_EQ(ix->count, N_ENTRIES);
  CHECK(ix->desc == vq_library_descriptors(l));
  for (size_t i = 0; i < N_ENTRIES; i++) { /* entry i's descriptor is the input row its name came from */
    size_t row;
    CHECK(sscanf(vq_library_name(l, i), "e-%zu.jpg", &row) == 1 && row < N_ENTRIES);
    CHECK(memcmp(ix->desc + i * VQ_DIM, lib + row * VQ_DIM, VQ_DIM * sizeof *lib) == 0);
  }
  CHECK_OK(vq_match_batch(l, q, N_QUERIES, K, hits));
  for (size_t i = 0; i < N_QUERIES; i++) {
    char want[VQ_NAME_MAX];
    snprintf(want, sizeof want, "e-%d.jpg", answer[i]);
    CHECK(hits[i * K].index >= 0 && strcmp(vq_library_name(l, (size_t)hits[i * K].index), want) == 0);
  }
  vq_library_close(l);
  /* the command line takes --exact and --nprobe N (a missing image is still named; a bad N is a usage error) */
  char out[4096], err[4096];
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "'%s' match '%s' '%s.none.jpg' --exact", vqt_bin(), path,
                        path), 1);
  CHECK(strstr(err, "none.jpg") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "'%s' match '%s' x.jpg --nprobe 0", vqt_bin(), path), 2);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "'%s' match --help", vqt_bin()), 0);
  CHECK(strstr(out, "--exact") != NULL && strstr(out, "--nprobe") != NULL);
  /* a small library has no index and keeps its name order */
  CHECK_OK(vq_library_write(path, &m, names_of(50), lib, 50));
  CHECK_OK(vq_library_open(path, &l));
  CHECK_EQ(vq_library_index(l)->nlist, 0);
  CHECK(strcmp(vq_library_name(l, 7), "e-7.jpg") == 0);
  vq_library_close(l);
  remove(path);
  free(lib);
  free(q);
  free(hits);
}

/* The whole file, malloc'd, or NULL. */
static unsigned char *slurp(const char *path, size_t *n) {
  *n = 0;
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  fseek(f, 0, SEEK_END);
  *n = (size_t)ftell(f);
  rewind(f);
  unsigned char *b = malloc(*n);
  if (b && fread(b, 1, *n, f) != *n) {
    free(b);
    b = NULL;
  }
  fclose(f);
  return b;
}

static void spit(const char *path, const unsigned char *b, size_t n) {
  FILE *f = fopen(path, "wb");
  CHECK(f && fwrite(b, 1, n, f) == n);
  fclose(f);
}

/* Opens bad (written from b) and expects rc with a detail naming the file, saying `says` and how to rebuild. */
static void refused(const char *bad, const unsigned char *b, size_t n, int rc, const char *says) {
  spit(bad, b, n);
  vq_library_t *l = NULL;
  CHECK_RC(vq_library_open(bad, &l), rc);
  CHECK(strstr(spot_errdetail(), bad) != NULL);
  CHECK(strstr(spot_errdetail(), says) != NULL);
  CHECK(strstr(spot_errdetail(), "spot vquery library build") != NULL);
}

static void test_refused(void) {
  openblas_set_num_threads(1);
  char dir[4096], good[4200], bad[4200];
  snprintf(dir, sizeof dir, "%s", spot_test_dir("vqmatch-bad"));
  snprintf(good, sizeof good, "%s/good.vql", dir);
  snprintf(bad, sizeof bad, "%s/bad.vql", dir);
  const size_t n = 600;
  float *lib = malloc(n * VQ_DIM * sizeof *lib), *q = malloc(VQ_DIM * sizeof *q);
  int32_t answer;
  static vq_model_t m;
  CHECK(lib && q);
  synthetic(n, 1, lib, q, &answer);
  CHECK_OK(vq_library_write_index(good, &m, names_of(n), lib, n, 12));
  size_t size;
  unsigned char *b = slurp(good, &size);
  CHECK(b != NULL && size > sizeof(vq_lib_header_t));
  vq_lib_header_t h;
  memcpy(&h, b, sizeof h);
  CHECK_EQ(h.version, VQ_LIB_VERSION);
  CHECK_EQ(h.nlist, 12);
  CHECK(h.lists_off + 13 * sizeof(uint32_t) == size);
  /* an old version (the version 1 layout had no index) */
  vq_lib_header_t old = h;
  old.version = 1;
  old.header_crc = 0;
  old.header_crc = vq_crc32c(0, &old, sizeof old);
  memcpy(b, &old, sizeof old);
  refused(bad, b, size, SPOT_EVERSION, "version 1 library");
  memcpy(b, &h, sizeof h);
  /* a flipped byte in the list table, then in a centre: the payload checksum */
  b[h.lists_off + 5] ^= 0x40;
  refused(bad, b, size, SPOT_ECORRUPT, "checksum");
  b[h.lists_off + 5] ^= 0x40;
  b[h.cent_off + 100] ^= 0x01;
  refused(bad, b, size, SPOT_ECORRUPT, "checksum");
  b[h.cent_off + 100] ^= 0x01;
  /* a list table whose checksums agree but whose lists go backwards, or do not end at the count */
  uint32_t *lists = (uint32_t *)(void *)(b + h.lists_off);
  uint32_t keep = lists[3];
  lists[3] = lists[4] + 1;
  h.payload_crc = vq_crc32c(0, b + VQ_LIB_HEADER, size - VQ_LIB_HEADER);
  h.header_crc = 0;
  h.header_crc = vq_crc32c(0, &h, sizeof h);
  memcpy(b, &h, sizeof h);
  refused(bad, b, size, SPOT_ECORRUPT, "list 3 ends before it starts");
  lists[3] = keep;
  lists[12] = (uint32_t)n - 1;
  h.payload_crc = vq_crc32c(0, b + VQ_LIB_HEADER, size - VQ_LIB_HEADER);
  h.header_crc = 0;
  h.header_crc = vq_crc32c(0, &h, sizeof h);
  memcpy(b, &h, sizeof h);
  refused(bad, b, size, SPOT_ECORRUPT, "list table");
  /* more lists than entries in the header */
  lists[12] = (uint32_t)n;
  h.nlist = (uint32_t)n + 1;
  h.header_crc = 0;
  h.header_crc = vq_crc32c(0, &h, sizeof h);
  memcpy(b, &h, sizeof h);
  refused(bad, b, size, SPOT_ECORRUPT, "lists for");
  /* the good file still opens and matches */
  vq_library_t *l;
  vq_hit_t hit;
  CHECK_OK(vq_library_open(good, &l));
  CHECK_OK(vq_match_batch(l, q, 1, 1, &hit));
  CHECK(hit.index >= 0);
  CHECK(strcmp(vq_library_name(l, (size_t)hit.index), names_of(n)[answer]) == 0);
  vq_library_close(l);
  remove(good);
  remove(bad);
  free(b);
  free(lib);
  free(q);
}

static const spot_test_t tests[] = {
    {"known_answer", test_known_answer}, {"file", test_file}, {"refused", test_refused}, {NULL, NULL}};
SPOT_TEST_MAIN(tests)
