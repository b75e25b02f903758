/*
 * apps/vquery/motion.c: motion detection by frame differencing (vq_motion): a pixel changed when its grey level
 * moved by more than VQ_MOTION_PIXEL between two frames, and a frame has motion when more than VQ_MOTION_FRACTION of
 * its pixels changed. The pixel threshold sits far above sensor noise (a few grey levels), the fraction above what a
 * slow pan stirs up at the strongest edges.
 */
#include <math.h>

#include "vquery.h"

int vq_motion(const vq_image_t *prev, const vq_image_t *cur, double *score) {
  if (!prev || !cur || !prev->px || !cur->px || prev->w != cur->w || prev->h != cur->h)
    return spot_fail(SPOT_EINVAL, "vq_motion: two frames of the same size are needed");
  size_t n = (size_t)cur->w * (size_t)cur->h, changed = 0;
  for (size_t i = 0; i < n; i++)
    changed += fabsf(cur->px[i] - prev->px[i]) > VQ_MOTION_PIXEL;
  double f = n ? (double)changed / (double)n : 0.0;
  if (score)
    *score = f;
  return f > VQ_MOTION_FRACTION;
}
