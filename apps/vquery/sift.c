/*
 * apps/vquery/sift.c: SIFT descriptors with VLFeat's scale space (vl_sift_*): each octave's keypoints get up to four
 * orientations and one 128-float descriptor each; the descriptors become RootSIFT, which VLAD and PCA treat better
 * than raw SIFT histograms. Past max_features, the features of the highest DoG contrast are kept: the ones that
 * survive noise, blur and JPEG best (recall_test: see apps/vquery/README.md, "Recall").
 */
#include "sift.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <vl/sift.h>

vq_sift_params_t vq_sift_defaults(void) {
  vq_sift_params_t p = {.first_octave = 0, .octaves = 4, .levels = 3, .peak_thresh = 2.0, .edge_thresh = 10.0,
                        .max_features = 600};
  return p;
}

typedef struct fvec {
  float *p;        /* n x 128 descriptors */
  float *contrast; /* n: |DoG| at each feature's keypoint */
  size_t n, cap;   /* in descriptors */
} fvec_t;

static int grow(fvec_t *v) {
  if (v->n < v->cap)
    return 0;
  size_t cap = v->cap ? v->cap * 2 : 256;
  float *p = realloc(v->p, cap * 128 * sizeof *p);
  if (!p)
    return spot_fail(SPOT_ENOMEM, "no memory for %zu SIFT descriptors", cap);
  v->p = p;
  float *c = realloc(v->contrast, cap * sizeof *c);
  if (!c)
    return spot_fail(SPOT_ENOMEM, "no memory for %zu SIFT descriptors", cap);
  v->contrast = c;
  v->cap = cap;
  return 0;
}

/* RootSIFT in place; 0, or -1 for a descriptor with no gradient or a non-finite value (a flat patch), to drop. */
static int root_sift(float *d) {
  double s = 0;
  for (int i = 0; i < 128; i++)
    s += fabsf(d[i]);
  if (!(s > 0) || !isfinite(s))
    return -1;
  for (int i = 0; i < 128; i++)
    d[i] = sqrtf(fabsf(d[i]) / (float)s);
  return 0;
}

/* A copy of img scaled to a standard contrast (standard deviation VQ_SIFT_CONTRAST grey levels), so that the peak
 * threshold keeps the same features in a darker or a washed-out picture. */
#define VQ_SIFT_CONTRAST 50.0
static float *normalised(const vq_image_t *img) {
  size_t n = (size_t)img->w * (size_t)img->h;
  float *px = malloc(n * sizeof *px);
  if (!px)
    return NULL;
  double s = 0, s2 = 0;
  for (size_t i = 0; i < n; i++) {
    s += img->px[i];
    s2 += (double)img->px[i] * img->px[i];
  }
  double mean = s / n, var = s2 / n - mean * mean;
  float gain = var > 1.0 ? (float)(VQ_SIFT_CONTRAST / sqrt(var)) : 1.0f;
  for (size_t i = 0; i < n; i++)
    px[i] = (img->px[i] - (float)mean) * gain + 128.0f;
  return px;
}

/* |DoG| at keypoint k of the current octave: the difference of the two Gaussian levels around it. */
static float contrast(VlSiftFilt *f, const VlSiftKeypoint *k) {
  size_t at = (size_t)k->iy * (size_t)vl_sift_get_octave_width(f) + (size_t)k->ix;
  return fabsf(vl_sift_get_octave(f, k->is + 1)[at] - vl_sift_get_octave(f, k->is)[at]);
}

static int by_contrast_desc(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x < y) - (x > y);
}

/* Keeps the max features of v with the highest contrast, in their order (ties at the threshold: the first ones). */
static int keep_strongest(fvec_t *v, size_t max) {
  float *sorted = malloc(v->n * sizeof *sorted);
  if (!sorted)
    return spot_fail(SPOT_ENOMEM, "no memory to rank %zu SIFT features", v->n);
  memcpy(sorted, v->contrast, v->n * sizeof *sorted);
  qsort(sorted, v->n, sizeof *sorted, by_contrast_desc);
  float floor = sorted[max - 1];
  free(sorted);
  size_t k = 0;
  for (size_t i = 0; i < v->n && k < max; i++)
    if (v->contrast[i] >= floor) {
      if (k != i) {
        memmove(v->p + k * 128, v->p + i * 128, 128 * sizeof *v->p);
        v->contrast[k] = v->contrast[i];
      }
      k++;
    }
  v->n = k;
  return 0;
}

int vq_sift(const vq_image_t *img, const vq_sift_params_t *p, float **out, size_t *n) {
  int rc = 0;
  fvec_t v = {0};
  float *px = normalised(img);
  VlSiftFilt *f = px ? vl_sift_new(img->w, img->h, p->octaves, p->levels, p->first_octave) : NULL;
  if (!f) {
    free(px);
    return spot_fail(SPOT_ENOMEM, "no memory for SIFT on a %dx%d image", img->w, img->h);
  }
  vl_sift_set_peak_thresh(f, p->peak_thresh);
  vl_sift_set_edge_thresh(f, p->edge_thresh);
  for (int err = vl_sift_process_first_octave(f, px); err != VL_ERR_EOF; err = vl_sift_process_next_octave(f)) {
    vl_sift_detect(f);
    const VlSiftKeypoint *kp = vl_sift_get_keypoints(f);
    int nk = vl_sift_get_nkeypoints(f);
    for (int i = 0; i < nk; i++) {
      double angles[4];
      int na = vl_sift_calc_keypoint_orientations(f, angles, &kp[i]);
      for (int a = 0; a < na; a++) {
        if ((rc = grow(&v)) < 0)
          goto fail;
        float *d = v.p + v.n * 128;
        vl_sift_calc_keypoint_descriptor(f, d, &kp[i], angles[a]);
        v.contrast[v.n] = contrast(f, &kp[i]);
        if (root_sift(d) == 0)
          v.n++;
      }
    }
  }
  if (p->max_features && v.n > p->max_features && (rc = keep_strongest(&v, p->max_features)) < 0)
    goto fail;
  vl_sift_delete(f);
  free(px);
  free(v.contrast);
  if (v.n == 0) {
    free(v.p);
    v.p = NULL;
  }
  *out = v.p;
  *n = v.n;
  return 0;
fail:
  vl_sift_delete(f);
  free(px);
  free(v.p);
  free(v.contrast);
  return rc;
}
