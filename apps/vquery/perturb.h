/*
 * apps/vquery/perturb.h: what a camera does to a photograph, as functions: crops, rotations, scaling to the frame
 * size, sensor noise, brightness changes and JPEG re-compression. The recall tests and the benchmark use them to
 * make queries from library photographs, and the synthetic camera uses the noise; plus the small deterministic
 * random generator they share (so every perturbation is reproducible from a seed).
 *
 * Each function makes a new image in *out (the caller frees it with vq_image_free) or, for the in-place ones, changes
 * img; they return 0 or SPOT_EINVAL / SPOT_ENOMEM, and write *out only on success.
 */
#ifndef VQUERY_PERTURB_H
#define VQUERY_PERTURB_H

#include <stdint.h>

#include "vquery.h"

/* xoshiro-style generator state; vq_rng_seed makes the same sequence for the same seed. */
typedef struct vq_rng {
  uint64_t s[4];
} vq_rng_t;

void vq_rng_seed(vq_rng_t *r, uint64_t seed);
uint64_t vq_rng_next(vq_rng_t *r);
double vq_rng_uniform(vq_rng_t *r); /* in [0, 1) */
double vq_rng_normal(vq_rng_t *r);  /* standard normal */

/* The rectangle (x, y, w, h) of src, which must lie inside it. */
int vq_perturb_crop(const vq_image_t *src, int x, int y, int w, int h, vq_image_t *out);
/* src turned by deg degrees about its centre (same size, bilinear, edges clamped), as a tilted camera sees it. */
int vq_perturb_rotate(const vq_image_t *src, double deg, vq_image_t *out);
/* Adds Gaussian noise of standard deviation sigma grey levels to every pixel, clamped to [0, 255]. In place. */
void vq_perturb_noise(vq_image_t *img, double sigma, vq_rng_t *rng);
/* px = gain * px + offset, clamped to [0, 255]. In place. */
void vq_perturb_brightness(vq_image_t *img, double gain, double offset);
/* Encodes src as a JPEG of the given quality (1..100) in memory and decodes it again. */
int vq_perturb_jpeg(const vq_image_t *src, int quality, vq_image_t *out);

#endif
