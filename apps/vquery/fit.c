/*
 * apps/vquery/fit.c: maximum likelihood fits of the exponential and Pareto laws to observed per-interval volumes,
 * for the experiment's "real" mode (no --dist: the volumes come from motion alone), as the paper's Table I fitted
 * its measured traces. The fitted law then feeds the model (MODEL.md parameterises every law by its mean mu).
 */
#include <math.h>

#include <spot/error.h>

#include "report.h"

int vq_fit_exponential(const double *x, size_t n, vq_fit_t *out) {
  if (n == 0)
    return SPOT_EINVAL;
  double sum = 0;
  for (size_t i = 0; i < n; i++) {
    if (!(x[i] >= 0) || !isfinite(x[i]))
      return SPOT_EINVAL;
    sum += x[i];
  }
  if (!(sum > 0))
    return SPOT_EINVAL;
  double mu = sum / (double)n;
  vq_fit_t f = {0};
  f.mu = mu;
  f.xm = 0;
  f.alpha = 0;
  f.se_mu = mu / sqrt((double)n); /* inverse Fisher information of the mean */
  f.loglik = -(double)n * log(mu) - sum / mu;
  f.n = n;
  *out = f;
  return 0;
}

int vq_fit_pareto(const double *x, size_t n, vq_fit_t *out) {
  double xm = INFINITY;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(x[i]) || x[i] < 0)
      return SPOT_EINVAL;
    if (x[i] > 0) {
      m++;
      if (x[i] < xm)
        xm = x[i];
    }
  }
  if (m < 2)
    return SPOT_EINVAL;
  double sl = 0;
  for (size_t i = 0; i < n; i++)
    if (x[i] > 0)
      sl += log(x[i] / xm);
  if (!(sl > 0))
    return SPOT_EINVAL;
  vq_fit_t f = {0};
  f.alpha = (double)m / sl;
  f.xm = xm;
  f.mu = f.alpha > 1 ? f.alpha * xm / (f.alpha - 1) : INFINITY;
  f.se_mu = f.alpha / sqrt((double)m); /* of alpha */
  f.loglik = (double)m * (log(f.alpha) + f.alpha * log(xm)) - (f.alpha + 1) * (sl + (double)m * log(xm));
  f.n = m;
  *out = f;
  return 0;
}
