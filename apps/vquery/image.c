/*
 * apps/vquery/image.c: grayscale images for the descriptor: decoding files with libstb (JPEG, PNG, PPM, PGM) and
 * resampling: bilinear, after averaging whole k x k blocks when shrinking by k or more, so a large photograph reduced
 * to frame size does not alias.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <stb_image.h>

#include "vquery.h"

int vq_image_load(const char *path, vq_image_t *out) {
  struct stat st;
  if (stat(path, &st) != 0)
    return spot_fail(errno == ENOENT ? SPOT_ENOTFOUND : SPOT_EIO, "cannot read image %s: %s", path, strerror(errno));
  if (!S_ISREG(st.st_mode))
    return spot_fail(SPOT_EINVAL, "%s is not a regular file (give an image file: JPEG, PNG, PPM or PGM)", path);
  int w = 0, h = 0, n = 0;
  unsigned char *px = stbi_load(path, &w, &h, &n, 1);
  if (!px)
    return spot_fail(SPOT_EINVAL, "cannot decode %s (%s): give a JPEG, PNG, PPM or PGM image", path,
                     stbi_failure_reason());
  float *f = malloc((size_t)w * (size_t)h * sizeof *f);
  if (!f) {
    stbi_image_free(px);
    return spot_fail(SPOT_ENOMEM, "no memory for the %dx%d image %s", w, h, path);
  }
  for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
    f[i] = px[i];
  stbi_image_free(px);
  out->w = w;
  out->h = h;
  out->px = f;
  return 0;
}

/* Averages k x k blocks of src (k >= 1) into a new image: the anti-aliasing step before a large reduction. */
static int box_shrink(const vq_image_t *src, int k, vq_image_t *out) {
  int w = src->w / k, h = src->h / k;
  float *f = malloc((size_t)w * (size_t)h * sizeof *f);
  if (!f)
    return spot_fail(SPOT_ENOMEM, "no memory for a %dx%d image", w, h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      float s = 0;
      for (int j = 0; j < k; j++) {
        const float *row = src->px + (size_t)(y * k + j) * src->w + (size_t)x * k;
        for (int i = 0; i < k; i++)
          s += row[i];
      }
      f[(size_t)y * w + x] = s / (float)(k * k);
    }
  out->w = w;
  out->h = h;
  out->px = f;
  return 0;
}

int vq_image_resize(const vq_image_t *src, int w, int h, vq_image_t *out) {
  if (!src || !src->px || w <= 0 || h <= 0 || src->w <= 0 || src->h <= 0)
    return spot_fail(SPOT_EINVAL, "vq_image_resize: empty image or size %dx%d", w, h);
  vq_image_t tmp = {0};
  int k = src->w / w < src->h / h ? src->w / w : src->h / h; /* whole reduction steps: box-average them first */
  if (k >= 2) {
    int rc = box_shrink(src, k, &tmp);
    if (rc < 0)
      return rc;
    src = &tmp;
  }
  float *f = malloc((size_t)w * (size_t)h * sizeof *f);
  if (!f) {
    vq_image_free(&tmp);
    return spot_fail(SPOT_ENOMEM, "no memory for a %dx%d image", w, h);
  }
  double sx = (double)src->w / w, sy = (double)src->h / h;
  for (int y = 0; y < h; y++) {
    double fy = (y + 0.5) * sy - 0.5;
    if (fy < 0)
      fy = 0;
    int y0 = (int)fy, y1 = y0 + 1 < src->h ? y0 + 1 : y0;
    float ay = (float)(fy - y0);
    const float *r0 = src->px + (size_t)y0 * src->w, *r1 = src->px + (size_t)y1 * src->w;
    for (int x = 0; x < w; x++) {
      double fx = (x + 0.5) * sx - 0.5;
      if (fx < 0)
        fx = 0;
      int x0 = (int)fx, x1 = x0 + 1 < src->w ? x0 + 1 : x0;
      float ax = (float)(fx - x0);
      float top = r0[x0] + ax * (r0[x1] - r0[x0]), bot = r1[x0] + ax * (r1[x1] - r1[x0]);
      f[(size_t)y * w + x] = top + ay * (bot - top);
    }
  }
  vq_image_free(&tmp);
  out->w = w;
  out->h = h;
  out->px = f;
  return 0;
}

int vq_image_fit(const vq_image_t *src, int max_side, vq_image_t *out) {
  int w = src->w, h = src->h;
  if (w > max_side || h > max_side) {
    double s = (double)max_side / (w > h ? w : h);
    w = (int)(w * s + 0.5);
    h = (int)(h * s + 0.5);
    if (w < 1)
      w = 1;
    if (h < 1)
      h = 1;
  }
  return vq_image_resize(src, w, h, out);
}

void vq_image_free(vq_image_t *img) {
  if (!img)
    return;
  free(img->px);
  img->px = NULL;
  img->w = img->h = 0;
}
