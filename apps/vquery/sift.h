/*
 * apps/vquery/sift.h: SIFT features of a grayscale image with VLFeat, the first step of every descriptor (training
 * and queries). Internal to the application's vision core (describe.c, train.c).
 */
#ifndef VQUERY_SIFT_H
#define VQUERY_SIFT_H

#include <stddef.h>

#include "vquery.h"

/* The detector's settings. The defaults (vq_sift_defaults) are tuned for QVGA frames: under 30 ms of CPU a frame on
 * one core and 150-200 features (docs/benchmarks.md, "vquery"); lower peak thresholds added sensor-noise features and
 * lost recall in recall_test. */
typedef struct vq_sift_params {
  int first_octave;   /* 0: the image as it is; -1 doubles it first (more features, 4x the cost) */
  int octaves;        /* -1: as many as fit */
  int levels;         /* scales per octave */
  double peak_thresh; /* DoG peak threshold on [0, 255] pixels: higher keeps fewer, stronger features */
  double edge_thresh;
  size_t max_features; /* at most this many, those of the highest DoG contrast; 0 = no limit */
} vq_sift_params_t;

vq_sift_params_t vq_sift_defaults(void);

/* The SIFT descriptors of img: *out gets n x 128 floats (RootSIFT: L1-normalised and square-rooted, so Euclidean
 * distance compares them as the Hellinger kernel does), malloc'd and owned by the caller; *n may be 0 (then *out is
 * NULL). SPOT_ENOMEM. */
int vq_sift(const vq_image_t *img, const vq_sift_params_t *p, float **out, size_t *n);

#endif
