/*
 * apps/vquery/perturb.c: the perturbations of perturb.h (what a camera does to a photograph) and the random
 * generator they share. JPEG re-compression goes through stb_image_write to memory and stb_image back.
 */
#include "perturb.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>
#include <stb_image_write.h>

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void vq_rng_seed(vq_rng_t *r, uint64_t seed) {
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t vq_rng_next(vq_rng_t *r) { /* xoshiro256** */
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double vq_rng_uniform(vq_rng_t *r) { return (double)(vq_rng_next(r) >> 11) * 0x1.0p-53; }

double vq_rng_normal(vq_rng_t *r) {
  double u = vq_rng_uniform(r), v = vq_rng_uniform(r);
  return sqrt(-2.0 * log(1.0 - u)) * cos(2.0 * M_PI * v);
}

static float clamp255(double v) { return v < 0 ? 0.0f : v > 255 ? 255.0f : (float)v; }

static int new_image(int w, int h, vq_image_t *out) {
  float *px = malloc((size_t)w * (size_t)h * sizeof *px);
  if (!px)
    return spot_fail(SPOT_ENOMEM, "no memory for a %dx%d image", w, h);
  out->w = w;
  out->h = h;
  out->px = px;
  return 0;
}

int vq_perturb_crop(const vq_image_t *src, int x, int y, int w, int h, vq_image_t *out) {
  if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > src->w || y + h > src->h)
    return spot_fail(SPOT_EINVAL, "crop %dx%d+%d+%d lies outside the %dx%d image", w, h, x, y, src->w, src->h);
  vq_image_t img;
  int rc = new_image(w, h, &img);
  if (rc < 0)
    return rc;
  for (int r = 0; r < h; r++)
    memcpy(img.px + (size_t)r * w, src->px + (size_t)(y + r) * src->w + x, (size_t)w * sizeof *img.px);
  *out = img;
  return 0;
}

/* Bilinear sample of img at (x, y), coordinates clamped to the image. */
static float sample(const vq_image_t *img, double x, double y) {
  if (x < 0)
    x = 0;
  if (y < 0)
    y = 0;
  if (x > img->w - 1)
    x = img->w - 1;
  if (y > img->h - 1)
    y = img->h - 1;
  int x0 = (int)x, y0 = (int)y;
  int x1 = x0 + 1 < img->w ? x0 + 1 : x0, y1 = y0 + 1 < img->h ? y0 + 1 : y0;
  double fx = x - x0, fy = y - y0;
  const float *p = img->px;
  double top = p[(size_t)y0 * img->w + x0] * (1 - fx) + p[(size_t)y0 * img->w + x1] * fx;
  double bot = p[(size_t)y1 * img->w + x0] * (1 - fx) + p[(size_t)y1 * img->w + x1] * fx;
  return (float)(top * (1 - fy) + bot * fy);
}

int vq_perturb_rotate(const vq_image_t *src, double deg, vq_image_t *out) {
  vq_image_t img;
  int rc = new_image(src->w, src->h, &img);
  if (rc < 0)
    return rc;
  double a = deg * M_PI / 180.0, c = cos(a), s = sin(a);
  double cx = (src->w - 1) / 2.0, cy = (src->h - 1) / 2.0;
  for (int y = 0; y < img.h; y++)
    for (int x = 0; x < img.w; x++) { /* inverse map: where in src does this output pixel come from */
      double dx = x - cx, dy = y - cy;
      img.px[(size_t)y * img.w + x] = sample(src, cx + c * dx + s * dy, cy - s * dx + c * dy);
    }
  *out = img;
  return 0;
}

void vq_perturb_noise(vq_image_t *img, double sigma, vq_rng_t *rng) {
  for (size_t i = 0; i < (size_t)img->w * (size_t)img->h; i++)
    img->px[i] = clamp255(img->px[i] + sigma * vq_rng_normal(rng));
}

void vq_perturb_brightness(vq_image_t *img, double gain, double offset) {
  for (size_t i = 0; i < (size_t)img->w * (size_t)img->h; i++)
    img->px[i] = clamp255(gain * img->px[i] + offset);
}

typedef struct membuf {
  unsigned char *p;
  size_t n, cap;
  int failed;
} membuf_t;

static void put_bytes(void *ctx, void *data, int size) {
  membuf_t *m = ctx;
  if (m->failed || size <= 0)
    return;
  if (m->n + (size_t)size > m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 65536;
    while (cap < m->n + (size_t)size)
      cap *= 2;
    unsigned char *p = realloc(m->p, cap);
    if (!p) {
      m->failed = 1;
      return;
    }
    m->p = p;
    m->cap = cap;
  }
  memcpy(m->p + m->n, data, (size_t)size);
  m->n += (size_t)size;
}

int vq_perturb_jpeg(const vq_image_t *src, int quality, vq_image_t *out) {
  int rc;
  membuf_t m = {0};
  unsigned char *gray = NULL, *dec = NULL;
  if (quality < 1 || quality > 100)
    return spot_fail(SPOT_EINVAL, "JPEG quality %d is not in 1..100", quality);
  size_t n = (size_t)src->w * (size_t)src->h;
  gray = malloc(n);
  if (!gray) {
    rc = spot_fail(SPOT_ENOMEM, "no memory to re-compress a %dx%d image", src->w, src->h);
    goto fail;
  }
  for (size_t i = 0; i < n; i++)
    gray[i] = (unsigned char)lrintf(clamp255(src->px[i]));
  if (!stbi_write_jpg_to_func(put_bytes, &m, src->w, src->h, 1, gray, quality) || m.failed) {
    rc = spot_fail(SPOT_ENOMEM, "cannot encode a %dx%d JPEG in memory", src->w, src->h);
    goto fail;
  }
  int w = 0, h = 0, c = 0;
  dec = stbi_load_from_memory(m.p, (int)m.n, &w, &h, &c, 1);
  if (!dec) {
    rc = spot_fail(SPOT_EINVAL, "cannot decode the JPEG just encoded: %s", stbi_failure_reason());
    goto fail;
  }
  vq_image_t img;
  if ((rc = new_image(w, h, &img)) < 0)
    goto fail;
  for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
    img.px[i] = dec[i];
  *out = img;
  rc = 0;
fail:
  stbi_image_free(dec);
  free(m.p);
  free(gray);
  return rc;
}
