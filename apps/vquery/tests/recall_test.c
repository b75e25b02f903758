/*
 * apps/vquery/tests/recall_test.c: the vision core against real photographs: recall@1 of library photographs seen
 * through a camera's perturbations (crops, rotations, scaling to QVGA, noise, brightness, JPEG re-compression, singly
 * and combined), the library file's round trip, and the clear errors of `spot vquery` for damaged libraries and
 * missing images. Needs the photographs of scripts/vquery-data.sh (fails, naming the script, when they are missing).
 * Under SPOT_TEST_QUICK (the sanitizer build, which is there for memory errors, not for recall figures) it describes
 * every third photograph only and asserts the 90% over all of their queries; the normal build asserts 90% for every
 * kind of perturbation on every photograph.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perturb.h"
#include "support.h"
#include "test.h"
#include "vqtest.h"
#include "vquery.h"

enum { P_CROP, P_ROTATE, P_QVGA, P_NOISE, P_BRIGHT, P_JPEG, P_ALL, P_COUNT };
static const char *const pname[P_COUNT] = {"crop", "rotate", "qvga", "noise", "brightness", "jpeg", "combined"};

/* The query for photograph img under perturbation p (rng drives the random parts). */
static int perturb(const vq_image_t *img, int p, vq_rng_t *rng, vq_image_t *out) {
  vq_image_t a = {0}, b = {0};
  int rc = 0;
  int cw = (int)(img->w * (0.6 + 0.2 * vq_rng_uniform(rng))), ch = (int)(img->h * (0.6 + 0.2 * vq_rng_uniform(rng)));
  int cx = (int)((img->w - cw) * vq_rng_uniform(rng)), cy = (int)((img->h - ch) * vq_rng_uniform(rng));
  double deg = (vq_rng_uniform(rng) < 0.5 ? -1 : 1) * (5 + 10 * vq_rng_uniform(rng));
  switch (p) {
  case P_CROP:
    return vq_perturb_crop(img, cx, cy, cw, ch, out);
  case P_ROTATE:
    return vq_perturb_rotate(img, deg, out);
  case P_QVGA:
    return vq_image_resize(img, VQ_FRAME_W, VQ_FRAME_H, out);
  case P_NOISE:
    if ((rc = vq_perturb_crop(img, 0, 0, img->w, img->h, out)) == 0)
      vq_perturb_noise(out, 10.0, rng);
    return rc;
  case P_BRIGHT:
    if ((rc = vq_perturb_crop(img, 0, 0, img->w, img->h, out)) == 0)
      vq_perturb_brightness(out, 0.6 + 0.8 * vq_rng_uniform(rng), -20 + 40 * vq_rng_uniform(rng));
    return rc;
  case P_JPEG:
    return vq_perturb_jpeg(img, 25, out);
  default: /* all of them, in a camera's order; the view covers 75-90% of the photograph, as the synthetic camera's */
    cw = (int)(img->w * (0.75 + 0.15 * vq_rng_uniform(rng)));
    ch = (int)(img->h * (0.75 + 0.15 * vq_rng_uniform(rng)));
    cx = (int)((img->w - cw) * vq_rng_uniform(rng));
    cy = (int)((img->h - ch) * vq_rng_uniform(rng));
    if ((rc = vq_perturb_crop(img, cx, cy, cw, ch, &a)) < 0 || (rc = vq_perturb_rotate(&a, deg / 2, &b)) < 0)
      goto done;
    vq_image_free(&a);
    if ((rc = vq_image_resize(&b, VQ_FRAME_W, VQ_FRAME_H, &a)) < 0)
      goto done;
    vq_perturb_brightness(&a, 0.8 + 0.4 * vq_rng_uniform(rng), -10 + 20 * vq_rng_uniform(rng));
    vq_perturb_noise(&a, 5.0, rng);
    rc = vq_perturb_jpeg(&a, 50, out);
  done:
    vq_image_free(&a);
    vq_image_free(&b);
    return rc;
  }
}

static void test_recall(void) {
  vqt_data_t d;
  CHECK(vqt_data(&d) == 0);
  vq_library_t *lib;
  CHECK_OK(vq_library_open(d.vql, &lib));
  const vq_model_t *m = vq_library_model(lib);
  size_t n = vq_library_count(lib), nq = n * P_COUNT;
  CHECK(n >= 20);
  float *q = malloc(nq * VQ_DIM * sizeof *q);
  int32_t *truth = malloc(nq * sizeof *truth);
  vq_hit_t *hits = malloc(nq * sizeof *hits);
  CHECK(q && truth && hits);
  vq_rng_t rng;
  vq_rng_seed(&rng, 42);
  size_t made = 0, step = spot_test_quick() ? 3 : 1, seen = 0;
  for (size_t i = 0; i < n; i += step) {
    seen++;
    char path[8192];
    vq_image_t full, photo;
    snprintf(path, sizeof path, "%s/%s", d.library_dir, vq_library_name(lib, i));
    CHECK_OK(vq_image_load(path, &full));
    CHECK_OK(vq_image_fit(&full, VQ_PHOTO_SIDE, &photo));
    vq_image_free(&full);
    for (int p = 0; p < P_COUNT; p++) {
      vq_image_t img;
      CHECK_OK(perturb(&photo, p, &rng, &img));
      int rc = vq_describe_photo(m, &img, q + made * VQ_DIM);
      vq_image_free(&img);
      if (rc == SPOT_EEMPTY) { /* no feature at all: nothing to ask, a miss */
        printf("  no feature: %s (%s)\n", vq_library_name(lib, i), pname[p]);
        memset(q + made * VQ_DIM, 0, VQ_DIM * sizeof *q);
        truth[made++] = -2;
        continue;
      }
      CHECK_OK(rc);
      truth[made++] = (int32_t)i;
    }
    vq_image_free(&photo);
  }
  CHECK_OK(vq_match_batch(lib, q, made, 1, hits));
  size_t good[P_COUNT] = {0}, all = 0;
  for (size_t j = 0; j < made; j++)
    if (hits[j].index == truth[j]) {
      good[j % P_COUNT]++;
      all++;
    } else if (truth[j] >= 0) {
      printf("  miss: %s (%s) -> %s %.3f\n", vq_library_name(lib, (size_t)truth[j]), pname[j % P_COUNT],
             hits[j].index >= 0 ? vq_library_name(lib, (size_t)hits[j].index) : "-", hits[j].score);
    }
  printf("  recall@1 over %zu photographs%s:", seen, step > 1 ? " (every third: SPOT_TEST_QUICK)" : "");
  for (int p = 0; p < P_COUNT; p++)
    printf(" %s %.1f%%", pname[p], 100.0 * good[p] / seen);
  printf(" | all %.1f%% of %zu queries\n", 100.0 * all / made, made);
  free(q);
  free(truth);
  free(hits);
  vq_library_close(lib);
  /* The target (issue 10): 90% under every perturbation, each kind alone and all of them combined, and over all
   * queries. Measured with the model trained on Plasma's photographs: apps/vquery/README.md, "Recall". */
  CHECK(all * 10 >= made * 9);
  if (step > 1) {
    printf("  per kind asserted by the normal build (all photographs); here only over all queries\n");
    return;
  }
  for (int p = 0; p < P_COUNT; p++) {
    if (good[p] * 10 < n * 9)
      printf("  below 90%%: %s %zu of %zu\n", pname[p], good[p], n);
    CHECK(good[p] * 10 >= n * 9);
  }
}

static const spot_test_t tests[] = {{"recall", test_recall}, {NULL, NULL}};
SPOT_TEST_MAIN(tests)
