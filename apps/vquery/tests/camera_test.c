/*
 * apps/vquery/tests/camera_test.c: the device's cameras and motion detection: the synthetic camera replays the same
 * film for the same seed (and another for another seed), shows QVGA frames of library photographs with the right
 * truth, and frame differencing sees its moving objects but not sensor noise or the slow pan; the directory camera
 * replays files with the truth of their names. Needs the photographs of scripts/vquery-data.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perturb.h"
#include "test.h"
#include "vqtest.h"
#include "vquery.h"

#define FRAMES 300

static vqt_data_t data;
static vq_library_t *lib;

/* The cameras need the photographs and their names, not a trained model: a library of the photographs' names with
 * a zero model and zero descriptors is enough, and costs no training. */
static int setup(void) {
  static vq_model_t model;
  char **paths = NULL;
  size_t n = 0;
  if (lib)
    return 0;
  if (vqt_photos(&data) != 0 || vq_image_list(data.library_dir, &paths, &n) != 0)
    return -1;
  const char **names = malloc(n * sizeof *names);
  float *desc = calloc(n * VQ_DIM, sizeof *desc);
  int rc = -1;
  if (names && desc) {
    for (size_t i = 0; i < n; i++)
      names[i] = vq_basename(paths[i]);
    snprintf(data.vql, sizeof data.vql, "%s/names.vql", spot_test_dir("vqcam"));
    if (vq_library_write(data.vql, &model, names, desc, n) == 0 && vq_library_open(data.vql, &lib) == 0)
      rc = 0;
  }
  free(names);
  free(desc);
  vq_image_list_free(paths, n);
  return rc;
}

static void test_deterministic(void) {
  CHECK(setup() == 0);
  vq_camera_t *a, *b, *c;
  CHECK_OK(vq_camera_synthetic(lib, data.library_dir, 11, &a));
  CHECK_OK(vq_camera_synthetic(lib, data.library_dir, 11, &b));
  CHECK_OK(vq_camera_synthetic(lib, data.library_dir, 12, &c));
  int differ = 0, switches = 0;
  for (int i = 0; i < FRAMES; i++) {
    const vq_image_t *fa, *fb, *fc;
    int32_t ta, tb, tc;
    int sw;
    CHECK_OK(vq_camera_next(a, &fa, &ta));
    CHECK_OK(vq_camera_next(b, &fb, &tb));
    CHECK_OK(vq_camera_next(c, &fc, &tc));
    CHECK(fa->w == VQ_FRAME_W && fa->h == VQ_FRAME_H);
    CHECK_EQ(ta, tb);
    CHECK(ta >= 0 && (size_t)ta < vq_library_count(lib));
    CHECK(memcmp(fa->px, fb->px, sizeof(float) * VQ_FRAME_W * VQ_FRAME_H) == 0);
    differ += memcmp(fa->px, fc->px, sizeof(float) * VQ_FRAME_W * VQ_FRAME_H) != 0;
    vq_camera_info(a, NULL, NULL, &sw);
    switches += sw;
  }
  CHECK(differ > FRAMES / 2);
  CHECK(switches >= 2); /* it changes photograph every 40-120 frames */
  vq_camera_close(a);
  vq_camera_close(b);
  vq_camera_close(c);
}

static void test_motion(void) {
  CHECK(setup() == 0);
  vq_camera_t *cam;
  CHECK_OK(vq_camera_synthetic(lib, data.library_dir, 5, &cam));
  vq_image_t prev = {0};
  int quiet = 0, quiet_motion = 0, busy = 0, busy_motion = 0, last_objects = 0, last_partial = 0;
  for (int i = 0; i < 1200; i++) {
    const vq_image_t *f;
    int32_t truth;
    int objects, partial, sw;
    CHECK_OK(vq_camera_next(cam, &f, &truth));
    vq_camera_info(cam, &objects, &partial, &sw);
    if (prev.px && !sw) {
      int m = vq_motion(&prev, f, NULL);
      CHECK(m >= 0);
      if (objects + partial == 0 && last_objects + last_partial == 0) {
        quiet++;
        quiet_motion += m;
      } else if (objects > 0 && last_objects > 0) {
        busy++;
        busy_motion += m;
      }
    }
    last_objects = objects;
    last_partial = partial;
    vq_image_free(&prev);
    CHECK_OK(vq_perturb_crop(f, 0, 0, f->w, f->h, &prev));
  }
  vq_image_free(&prev);
  vq_camera_close(cam);
  printf("  motion: %d of %d frames with objects, %d of %d quiet frames (pan + noise)\n", busy_motion, busy,
         quiet_motion, quiet);
  CHECK(busy >= 100 && quiet >= 100);
  CHECK(busy_motion * 10 >= busy * 9); /* sees the objects */
  CHECK(quiet_motion * 50 <= quiet);   /* not the pan and the noise */
  /* pure noise: one still picture, fresh noise in each frame, even at 3x the camera's */
  vq_image_t still, a, b;
  vq_rng_t r;
  vq_rng_seed(&r, 9);
  CHECK_OK(vq_camera_synthetic(lib, data.library_dir, 6, &cam));
  const vq_image_t *f;
  int32_t t;
  CHECK_OK(vq_camera_next(cam, &f, &t));
  CHECK_OK(vq_perturb_crop(f, 0, 0, f->w, f->h, &still));
  vq_camera_close(cam);
  for (int i = 0; i < 20; i++) {
    CHECK_OK(vq_perturb_crop(&still, 0, 0, still.w, still.h, &a));
    CHECK_OK(vq_perturb_crop(&still, 0, 0, still.w, still.h, &b));
    vq_perturb_noise(&a, 6.0, &r);
    vq_perturb_noise(&b, 6.0, &r);
    double score;
    CHECK_EQ(vq_motion(&a, &b, &score), 0);
    CHECK(score < VQ_MOTION_FRACTION);
    vq_image_free(&a);
    vq_image_free(&b);
  }
  vq_image_free(&still);
}

static void test_dir_camera(void) {
  CHECK(setup() == 0);
  vq_camera_t *cam;
  CHECK_OK(vq_camera_dir(lib, data.library_dir, &cam));
  for (size_t i = 0; i < vq_library_count(lib) + 2; i++) { /* past the end it loops */
    const vq_image_t *f;
    int32_t truth;
    CHECK_OK(vq_camera_next(cam, &f, &truth));
    CHECK(f->w == VQ_FRAME_W && f->h == VQ_FRAME_H);
    CHECK_EQ(truth, (int32_t)(i % vq_library_count(lib))); /* both in name order */
  }
  vq_camera_close(cam);
  CHECK_RC(vq_camera_dir(lib, "/nonexistent-vq-dir", &cam), SPOT_ENOTFOUND);
  CHECK(strstr(spot_errdetail(), "/nonexistent-vq-dir") != NULL);
  CHECK_RC(vq_camera_synthetic(lib, "/nonexistent-vq-dir", 1, &cam), SPOT_ENOTFOUND);
  CHECK(strstr(spot_errdetail(), "/nonexistent-vq-dir") != NULL);
}

static const spot_test_t tests[] = {
    {"deterministic", test_deterministic}, {"motion", test_motion}, {"dir_camera", test_dir_camera}, {NULL, NULL}};
SPOT_TEST_MAIN(tests)
