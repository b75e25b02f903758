/*
 * apps/vquery/describe.c: one query from one frame (vq_describe): RootSIFT features (sift.c), PCA to VQ_PCA_DIM
 * dimensions (one sgemm), hard assignment to the nearest of the VQ_CENTRES centres, and VLFeat's VLAD encoding with
 * signed square root, each centre's block L2-normalised (intra-normalisation: one bursty texture cannot swamp the
 * others; it raised recall@1 on cropped and combined views in recall_test by 5-6 points) and the whole L2-normalised:
 * VQ_DIM floats of unit length, so an inner product compares two queries. A photograph (a library entry, or an image
 * given to `spot vquery match`) pools the features of two scales, its own and half of it, into its one VLAD, so that
 * a library entry also holds what a QVGA frame of it shows; a camera frame is described at its own scale only.
 */
#include "describe.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <vl/generic.h>
#include <vl/vlad.h>

#include "sift.h"

void vq_pca_project(const vq_model_t *m, float *x, size_t n, float *out) {
  for (size_t i = 0; i < n; i++)
    for (int d = 0; d < 128; d++)
      x[i * 128 + d] -= m->mean[d];
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, VQ_PCA_DIM, 128, 1.0f, x, 128, &m->pca[0][0], 128,
              0.0f, out, VQ_PCA_DIM);
}

static int nearest_centre(const vq_model_t *m, const float *y) {
  int best = 0;
  float bd = FLT_MAX;
  for (int c = 0; c < VQ_CENTRES; c++) {
    float d = 0;
    for (int k = 0; k < VQ_PCA_DIM; k++) {
      float e = y[k] - m->centres[c][k];
      d += e * e;
    }
    if (d < bd) {
      bd = d;
      best = c;
    }
  }
  return best;
}

/* VLAD of n RootSIFT features x (n x 128, centred in place). */
static int encode(const vq_model_t *m, float *x, size_t n, float out[VQ_DIM]) {
  int rc = 0;
  float *y = malloc(n * VQ_PCA_DIM * sizeof *y), *assign = calloc(n * VQ_CENTRES, sizeof *assign);
  if (!y || !assign) {
    rc = spot_fail(SPOT_ENOMEM, "no memory to describe %zu SIFT features", n);
    goto fail;
  }
  vq_pca_project(m, x, n, y);
  for (size_t i = 0; i < n; i++)
    assign[i * VQ_CENTRES + nearest_centre(m, y + i * VQ_PCA_DIM)] = 1.0f;
  vl_set_num_threads(1); /* this thread's OpenMP setting: four centres are not worth a thread team */
  vl_vlad_encode(out, VL_TYPE_FLOAT, &m->centres[0][0], VQ_PCA_DIM, VQ_CENTRES, y, n, assign,
                 VL_VLAD_FLAG_SQUARE_ROOT | VL_VLAD_FLAG_NORMALIZE_COMPONENTS);
fail:
  free(y);
  free(assign);
  return rc;
}

int vq_describe(const vq_model_t *m, const vq_image_t *img, float out[VQ_DIM]) {
  float *x = NULL;
  size_t n = 0;
  vq_sift_params_t p = vq_sift_defaults();
  int rc = vq_sift(img, &p, &x, &n);
  if (rc < 0)
    return rc;
  if (n == 0)
    return spot_fail(SPOT_EEMPTY, "the %dx%d frame has no SIFT feature (a flat or empty picture): nothing to ask",
                     img->w, img->h);
  rc = encode(m, x, n, out);
  free(x);
  return rc;
}

/* The RootSIFT features of the photograph img at its own size and at half of it, in one malloc'd n x 128 array (the
 * caller frees it; NULL when n is 0). A camera frame shows a photograph at about half the size it is described at
 * (QVGA against VQ_PHOTO_SIDE), so the half-size features are the ones a frame has. SPOT_ENOMEM. */
static int photo_features(const vq_image_t *img, float **out, size_t *n) {
  vq_sift_params_t p = vq_sift_defaults();
  vq_image_t half = {0};
  float *x = NULL, *y = NULL;
  size_t nx = 0, ny = 0;
  int side = (img->w > img->h ? img->w : img->h) / 2;
  int rc = vq_sift(img, &p, &x, &nx);
  if (rc < 0 || (rc = vq_image_fit(img, side > 0 ? side : 1, &half)) < 0 || (rc = vq_sift(&half, &p, &y, &ny)) < 0)
    goto fail;
  if (ny) {
    float *all = realloc(x, (nx + ny) * 128 * sizeof *all);
    if (!all) {
      rc = spot_fail(SPOT_ENOMEM, "no memory for %zu SIFT features", nx + ny);
      goto fail;
    }
    memcpy(all + nx * 128, y, ny * 128 * sizeof *y);
    x = all;
  }
  *out = x;
  *n = nx + ny;
  x = NULL;
fail:
  free(x);
  free(y);
  vq_image_free(&half);
  return rc;
}

int vq_describe_photo(const vq_model_t *m, const vq_image_t *img, float out[VQ_DIM]) {
  vq_image_t small;
  float *x = NULL;
  size_t n = 0;
  int rc = vq_image_fit(img, VQ_PHOTO_SIDE, &small);
  if (rc < 0)
    return rc;
  if ((rc = photo_features(&small, &x, &n)) < 0)
    goto fail;
  if (n == 0) {
    rc = spot_fail(SPOT_EEMPTY, "the %dx%d photograph has no SIFT feature (a flat or empty picture): nothing to ask",
                   img->w, img->h);
    goto fail;
  }
  rc = encode(m, x, n, out);
fail:
  free(x);
  vq_image_free(&small);
  return rc;
}
