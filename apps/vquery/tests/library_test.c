/*
 * apps/vquery/tests/library_test.c: the library file and batched matching, on synthetic data (no photographs): a
 * written library reads back identically; a flipped byte, a truncation, a foreign file and a missing file are
 * refused with the right code and a line naming the file, by the API and by `spot vquery match` (exit 1); a missing
 * image is named too; PGM and PPM files decode to their grey values; sgemm matching equals a naive loop; the CLI's
 * usage errors exit 2.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perturb.h"
#include "test.h"
#include "vqtest.h"
#include "vquery.h"

#define N_ENTRIES 37

static void random_unit(vq_rng_t *r, float *v, size_t dim) {
  double s = 0;
  for (size_t i = 0; i < dim; i++) {
    v[i] = (float)vq_rng_normal(r);
    s += (double)v[i] * v[i];
  }
  for (size_t i = 0; i < dim; i++)
    v[i] = (float)(v[i] / sqrt(s));
}

/* Writes a library of N_ENTRIES random entries named img-N.png to dir/name; returns its path (static). */
static const char *synthetic_library(const char *dir, const char *name, vq_model_t *m, float *desc) {
  static char path[4200];
  static char names[N_ENTRIES][VQ_NAME_MAX];
  const char *np[N_ENTRIES];
  vq_rng_t r;
  vq_rng_seed(&r, 7);
  for (size_t i = 0; i < sizeof *m / sizeof(float); i++)
    ((float *)m)[i] = (float)vq_rng_normal(&r);
  for (int i = 0; i < N_ENTRIES; i++) {
    random_unit(&r, desc + (size_t)i * VQ_DIM, VQ_DIM);
    snprintf(names[i], sizeof names[i], "img-%d.png", i);
    np[i] = names[i];
  }
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return vq_library_write(path, m, np, desc, N_ENTRIES) == 0 ? path : NULL;
}

static void test_roundtrip(void) {
  static vq_model_t m;
  static float desc[N_ENTRIES * VQ_DIM];
  const char *path = synthetic_library(spot_test_dir("vqlib"), "lib.vql", &m, desc);
  CHECK(path != NULL);
  vq_library_t *lib;
  CHECK_OK(vq_library_open(path, &lib));
  CHECK_EQ(vq_library_count(lib), N_ENTRIES);
  CHECK(memcmp(vq_library_model(lib), &m, sizeof m) == 0);
  CHECK(memcmp(vq_library_descriptors(lib), desc, sizeof desc) == 0);
  CHECK(((uintptr_t)vq_library_descriptors(lib) & 63) == 0);
  CHECK(strcmp(vq_library_name(lib, 5), "img-5.png") == 0);
  CHECK_EQ(vq_library_find(lib, "img-36.png"), 36);
  CHECK_EQ(vq_library_find(lib, "nope.png"), -1);
  CHECK(vq_library_name(lib, N_ENTRIES) == NULL);
  /* each entry's own descriptor finds it first, with score 1 */
  vq_hit_t hits[N_ENTRIES * 2];
  CHECK_OK(vq_match_batch(lib, desc, N_ENTRIES, 2, hits));
  for (int i = 0; i < N_ENTRIES; i++) {
    CHECK_EQ(hits[i * 2].index, i);
    CHECK(fabsf(hits[i * 2].score - 1.0f) < 1e-4f);
    CHECK(hits[i * 2 + 1].score < hits[i * 2].score);
  }
  vq_library_close(lib);
}

/* Copies src to dst, then changes it: flip the byte at off (off >= 0), or truncate to len (off < 0). */
static int damaged_copy(const char *src, const char *dst, long off, long len) {
  FILE *f = fopen(src, "rb");
  if (!f)
    return -1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  unsigned char *b = malloc((size_t)n);
  size_t got = fread(b, 1, (size_t)n, f);
  fclose(f);
  if (got != (size_t)n) {
    free(b);
    return -1;
  }
  if (off >= 0)
    b[off % n] ^= 0x10;
  else
    n = len;
  f = fopen(dst, "wb");
  size_t put = fwrite(b, 1, (size_t)n, f);
  fclose(f);
  free(b);
  return put == (size_t)n ? 0 : -1;
}

static void test_damaged(void) {
  static vq_model_t m;
  static float desc[N_ENTRIES * VQ_DIM];
  char dir[4096], bad[4200], out[4096], err[4096];
  snprintf(dir, sizeof dir, "%s", spot_test_dir("vqbad"));
  const char *good = synthetic_library(dir, "good.vql", &m, desc);
  CHECK(good != NULL);
  snprintf(bad, sizeof bad, "%s/bad.vql", dir);
  struct {
    long off, len;
    int want;
    const char *says;
  } cases[] = {
      {40000, 0, SPOT_ECORRUPT, "checksum"},  /* a name or descriptor byte */
      {200, 0, SPOT_ECORRUPT, "checksum"},    /* the model */
      {60, 0, SPOT_ECORRUPT, "checksum"},     /* the header's offsets */
      {0, 0, SPOT_ECORRUPT, "not a vquery"},  /* the magic */
      {8, 0, SPOT_EVERSION, "version"},       /* the version */
      {-1, 5000, SPOT_ECORRUPT, "truncated"}, /* a torn copy */
      {-1, 64, SPOT_ECORRUPT, "truncated"},
      {-1, 4, SPOT_ECORRUPT, "not a vquery"},
      {-1, 0, SPOT_ECORRUPT, "empty"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CHECK(damaged_copy(good, bad, cases[i].off, cases[i].len) == 0);
    vq_library_t *lib = NULL;
    CHECK_RC(vq_library_open(bad, &lib), cases[i].want);
    CHECK(strstr(spot_errdetail(), bad) != NULL);
    CHECK(strstr(spot_errdetail(), cases[i].says) != NULL);
    CHECK(strstr(spot_errdetail(), "library build") != NULL || strstr(spot_errdetail(), "FILE.vql") != NULL);
  }
  /* a foreign file: this test's own source */
  char foreign[4200];
  snprintf(foreign, sizeof foreign, "%s/apps/vquery/tests/library_test.c", getenv("SPOT_SRC") ? getenv("SPOT_SRC") : ".");
  vq_library_t *lib = NULL;
  CHECK_RC(vq_library_open(foreign, &lib), SPOT_ECORRUPT);
  CHECK(strstr(spot_errdetail(), "not a vquery library") != NULL);
  snprintf(bad, sizeof bad, "%s/absent.vql", dir);
  CHECK_RC(vq_library_open(bad, &lib), SPOT_ENOTFOUND);
  /* the command line: exit 1, one line naming the file */
  CHECK(damaged_copy(good, bad, 40000, 0) == 0);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "'%s' match '%s' '%s'", vqt_bin(), bad, foreign), 1);
  CHECK(strstr(err, bad) != NULL && strstr(err, "damaged") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "'%s' match '%s' '%s'", vqt_bin(), foreign, foreign), 1);
  CHECK(strstr(err, foreign) != NULL && strstr(err, "not a vquery library") != NULL);
  /* a missing image with a good library */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "'%s' match '%s' '%s/none.jpg'", vqt_bin(), good, dir), 1);
  CHECK(strstr(err, "none.jpg") != NULL);
  /* a file that is not an image */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "'%s' match '%s' '%s'", vqt_bin(), good, foreign), 1);
  CHECK(strstr(err, "cannot decode") != NULL && strstr(err, foreign) != NULL);
  /* usage errors exit 2; --help exits 0 */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "'%s' match '%s'", vqt_bin(), good), 2);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "'%s' match '%s' x.jpg --top 0", vqt_bin(), good), 2);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "'%s' library build --images %s", vqt_bin(), dir), 2);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "'%s' library build --train %s/no --images %s/no --out %s/x.vql",
                        vqt_bin(), dir, dir, dir), 1);
  CHECK(strstr(err, "/no") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "'%s' match --help", vqt_bin()), 0);
  CHECK(strstr(out, "--top") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "'%s' library build --help", vqt_bin()), 0);
  CHECK(strstr(out, "--train") != NULL);
}

/* PGM and PPM frames decode to grayscale with their pixel values (a grey RGB pixel keeps its value). */
static void test_pnm(void) {
  char dir[4096], pgm[4200], ppm[4200];
  snprintf(dir, sizeof dir, "%s", spot_test_dir("vqpnm"));
  snprintf(pgm, sizeof pgm, "%s/a.pgm", dir);
  snprintf(ppm, sizeof ppm, "%s/b.ppm", dir);
  const unsigned char grey[6] = {0, 10, 20, 100, 200, 255};
  FILE *f = fopen(pgm, "wb");
  CHECK(f != NULL);
  fprintf(f, "P5\n3 2\n255\n");
  fwrite(grey, 1, sizeof grey, f);
  fclose(f);
  f = fopen(ppm, "wb");
  CHECK(f != NULL);
  fprintf(f, "P6\n3 2\n255\n");
  for (int i = 0; i < 6; i++)
    fputc(grey[i], f), fputc(grey[i], f), fputc(grey[i], f);
  fclose(f);
  const char *paths[] = {pgm, ppm};
  for (int k = 0; k < 2; k++) {
    vq_image_t im;
    CHECK_OK(vq_image_load(paths[k], &im));
    CHECK(im.w == 3 && im.h == 2);
    for (int i = 0; i < 6; i++)
      CHECK(im.px[i] == grey[i]);
    vq_image_free(&im);
  }
}

/* The batched sgemm search equals a naive loop over the library, on random unit vectors. */
static void test_sgemm_naive(void) {
  const size_t n = 3000, nq = 300, k = 5;
  float *lib = malloc(n * VQ_DIM * sizeof *lib), *q = malloc(nq * VQ_DIM * sizeof *q);
  vq_hit_t *hits = malloc(nq * k * sizeof *hits);
  CHECK(lib && q && hits);
  vq_rng_t r;
  vq_rng_seed(&r, 3);
  for (size_t i = 0; i < n; i++)
    random_unit(&r, lib + i * VQ_DIM, VQ_DIM);
  for (size_t i = 0; i < nq; i++)
    random_unit(&r, q + i * VQ_DIM, VQ_DIM);
  CHECK_OK(vq_match_raw(lib, n, q, nq, k, hits));
  for (size_t i = 0; i < nq; i++) {
    /* naive: all scores in double, then the k best by repeated selection */
    double best[5];
    long idx[5];
    for (size_t j = 0; j < k; j++) {
      best[j] = -2;
      idx[j] = -1;
      for (size_t e = 0; e < n; e++) {
        int taken = 0;
        for (size_t t = 0; t < j; t++)
          taken |= idx[t] == (long)e;
        if (taken)
          continue;
        double s = 0;
        for (int d = 0; d < VQ_DIM; d++)
          s += (double)q[i * VQ_DIM + d] * lib[e * VQ_DIM + d];
        if (s > best[j]) {
          best[j] = s;
          idx[j] = (long)e;
        }
      }
      CHECK(fabs(hits[i * k + j].score - best[j]) < 1e-4);
      if (j + 1 < k)
        CHECK_EQ(hits[i * k + j].index, idx[j]); /* the last may swap with a near-tie: scores checked above */
    }
  }
  /* k larger than the library: the rest is -1 */
  vq_hit_t few[8];
  CHECK_OK(vq_match_raw(lib, 3, q, 1, 8, few));
  CHECK(few[2].index >= 0 && few[3].index == -1 && few[7].index == -1);
  CHECK_RC(vq_match_raw(lib, n, q, 1, 0, few), SPOT_EINVAL);
  free(lib);
  free(q);
  free(hits);
}

static const spot_test_t tests[] = {
    {"roundtrip", test_roundtrip}, {"damaged", test_damaged}, {"pnm", test_pnm}, {"sgemm_naive", test_sgemm_naive},
    {NULL, NULL}};
SPOT_TEST_MAIN(tests)
