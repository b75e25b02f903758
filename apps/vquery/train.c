/*
 * apps/vquery/train.c: the descriptor model (vq_model_train): RootSIFT features of the training photographs, their
 * mean and covariance, PCA from the covariance's eigenvectors (eigen.c), and VQ_CENTRES centres from VLFeat's k-means
 * (k-means++ start, seeded, so one seed gives one model).
 */
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <vl/kmeans.h>
#include <vl/random.h>

#include "describe.h"
#include "eigen.h"
#include "sift.h"

#define TRAIN_PER_IMAGE 2000 /* features kept per training photograph */

/* Appends the RootSIFT features of one photograph to *all (*n of them so far). */
static int add_photo(const char *path, float **all, size_t *n, size_t *cap) {
  vq_image_t img = {0}, small = {0};
  float *x = NULL;
  size_t nx = 0;
  int rc = vq_image_load(path, &img);
  if (rc < 0)
    return rc;
  if ((rc = vq_image_fit(&img, VQ_PHOTO_SIDE, &small)) < 0)
    goto fail;
  vq_sift_params_t p = vq_sift_defaults();
  p.max_features = TRAIN_PER_IMAGE;
  if ((rc = vq_sift(&small, &p, &x, &nx)) < 0)
    goto fail;
  if (*n + nx > *cap) {
    size_t c = *cap ? *cap : 16384;
    while (c < *n + nx)
      c *= 2;
    float *p2 = realloc(*all, c * 128 * sizeof *p2);
    if (!p2) {
      rc = spot_fail(SPOT_ENOMEM, "no memory for %zu training features", c);
      goto fail;
    }
    *all = p2;
    *cap = c;
  }
  if (nx)
    memcpy(*all + *n * 128, x, nx * 128 * sizeof *x);
  *n += nx;
fail:
  free(x);
  vq_image_free(&small);
  vq_image_free(&img);
  return rc;
}

static int train_pca(const float *x, size_t n, vq_model_t *m) {
  double mean[128] = {0};
  for (size_t i = 0; i < n; i++)
    for (int d = 0; d < 128; d++)
      mean[d] += x[i * 128 + d];
  for (int d = 0; d < 128; d++)
    m->mean[d] = (float)(mean[d] / n);
  float *xc = malloc(n * 128 * sizeof *xc);
  float *cov = calloc(128 * 128, sizeof *cov);
  double *a = malloc(128 * 128 * sizeof *a), *vals = malloc(128 * sizeof *vals), *vecs = malloc(128 * 128 * sizeof *vecs);
  int rc = 0;
  if (!xc || !cov || !a || !vals || !vecs) {
    rc = spot_fail(SPOT_ENOMEM, "no memory for the PCA of %zu features", n);
    goto fail;
  }
  for (size_t i = 0; i < n; i++)
    for (int d = 0; d < 128; d++)
      xc[i * 128 + d] = x[i * 128 + d] - m->mean[d];
  cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, 128, (int)n, 1.0f / (float)n, xc, 128, 0.0f, cov, 128);
  for (int i = 0; i < 128; i++)
    for (int j = 0; j < 128; j++)
      a[i * 128 + j] = i <= j ? cov[i * 128 + j] : cov[j * 128 + i];
  if ((rc = vq_eigen_sym(128, a, vals, vecs)) < 0)
    goto fail;
  for (int i = 0; i < VQ_PCA_DIM; i++)
    for (int d = 0; d < 128; d++)
      m->pca[i][d] = (float)vecs[i * 128 + d];
fail:
  free(xc);
  free(cov);
  free(a);
  free(vals);
  free(vecs);
  return rc;
}

static int train_centres(float *x, size_t n, uint64_t seed, vq_model_t *m) {
  float *y = malloc(n * VQ_PCA_DIM * sizeof *y);
  if (!y)
    return spot_fail(SPOT_ENOMEM, "no memory to project %zu training features", n);
  vq_pca_project(m, x, n, y); /* centres x in place; x is ours */
  vl_rand_seed(vl_get_rand(), (vl_uint64)seed);
  VlKMeans *km = vl_kmeans_new(VL_TYPE_FLOAT, VlDistanceL2);
  if (!km) {
    free(y);
    return spot_fail(SPOT_ENOMEM, "no memory for k-means");
  }
  vl_kmeans_set_algorithm(km, VlKMeansLloyd);
  vl_kmeans_set_initialization(km, VlKMeansPlusPlus);
  vl_kmeans_set_max_num_iterations(km, 100);
  vl_kmeans_set_num_repetitions(km, 3);
  vl_kmeans_cluster(km, y, VQ_PCA_DIM, n, VQ_CENTRES);
  memcpy(&m->centres[0][0], vl_kmeans_get_centers(km), sizeof m->centres);
  vl_kmeans_delete(km);
  free(y);
  return 0;
}

int vq_model_train(const char *const *paths, size_t n, uint64_t seed, vq_model_t *out) {
  float *all = NULL;
  size_t nf = 0, cap = 0;
  int rc = 0;
  vq_model_t *m = calloc(1, sizeof *m);
  if (!m)
    return spot_fail(SPOT_ENOMEM, "no memory for a descriptor model");
  if (n == 0) {
    rc = spot_fail(SPOT_EINVAL, "no training image: give a directory of photographs that are not in the library");
    goto fail;
  }
  for (size_t i = 0; i < n; i++)
    if ((rc = add_photo(paths[i], &all, &nf, &cap)) < 0)
      goto fail;
  if (nf < 16 * VQ_CENTRES) {
    rc = spot_fail(SPOT_EINVAL, "the %zu training images give only %zu SIFT features: give more (or more textured) "
                                "photographs", n, nf);
    goto fail;
  }
  if ((rc = train_pca(all, nf, m)) < 0 || (rc = train_centres(all, nf, seed, m)) < 0)
    goto fail;
  *out = *m;
fail:
  free(all);
  free(m);
  return rc;
}
