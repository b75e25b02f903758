/*
 * lambertw.c: the principal branch W0 of the Lambert W function, portable (MODEL.md section 7).
 *
 * The exponential threshold (36)/(57) and volume (34)/(55) need W0; libm has none. Halley's iteration from a
 * starting value chosen by range: the branch-point series near -1/e, a logarithmic guess in the middle and the
 * asymptotic expansion for large z.
 */
#include <math.h>

#include "spot/model.h"

#define INV_E 0.36787944117144232159552377016146 /* 1/e */

int spot_lambertw0(double z, double *out) {
  if (isnan(z))
    return SPOT_MODEL_EDOMAIN;
  if (z < -INV_E) {
    /* -1/e is not representable: accept the rounding of the branch point. */
    if (z < -INV_E * (1 + 4e-16))
      return SPOT_MODEL_EDOMAIN;
    *out = -1.0;
    return 0;
  }
  if (z == 0) {
    *out = 0;
    return 0;
  }
  if (isinf(z)) {
    *out = HUGE_VAL;
    return 0;
  }
  double w;
  if (z < -0.32) {
    /* Series at the branch point, p = sqrt(2(ez + 1)). e*z + 1 is computed as e*(z + 1/e) with 1/e split in two
     * parts so that the cancellation does not lose the small difference. */
    double q = z + 0.36787944117144233 - 1.2428753672788363e-17; /* z + 1/e */
    if (q < 0)
      q = 0;
    double p = sqrt(2.0 * 2.71828182845904523536 * q);
    w = -1.0 + p * (1.0 + p * (-1.0 / 3.0 + p * (11.0 / 72.0 + p * (-43.0 / 540.0))));
    if (p < 1e-5) {
      *out = w;
      return 0;
    }
  } else if (z < 3) {
    double l = log1p(z);
    w = l * (1.0 - log1p(l) / (2.0 + l));
  } else {
    double l1 = log(z), l2 = log(l1);
    w = l1 - l2 + l2 / l1;
  }
  for (int i = 0; i < 64; i++) {
    double ew = exp(w);
    double f = w * ew - z;
    double wp1 = w + 1.0;
    if (wp1 == 0)
      break;
    double dw = f / (ew * wp1 - (w + 2.0) * f / (2.0 * wp1));
    w -= dw;
    if (fabs(dw) <= 4e-16 * (1.0 + fabs(w)))
      break;
  }
  if (w < -1)
    w = -1;
  *out = w;
  return 0;
}
