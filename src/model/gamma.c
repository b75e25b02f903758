/*
 * gamma.c: the regularized incomplete gamma functions P(a, x) and Q(a, x), for the exact law of the sum of N
 * exponential device volumes (Gamma(N, mu)) in the convolution aggregate of eq. (1). Series below a + 1, Lentz's
 * continued fraction above (the classical split, each converging fast on its side).
 */
#include <math.h>

#include "spot/model.h"

#define TINY 1e-300

/* log(x^a e^-x / Gamma(a)). */
static double prefix(double a, double x) { return a * log(x) - x - lgamma(a); }

static double series(double a, double x) {
  double ap = a, term = 1 / a, sum = term;
  for (int n = 0; n < 1000000; n++) {
    ap += 1;
    term *= x / ap;
    sum += term;
    if (term < sum * 1e-17)
      break;
  }
  return sum * exp(prefix(a, x));
}

static double contfrac(double a, double x) {
  double b = x + 1 - a, c = 1 / TINY, d = 1 / b, h = d;
  for (int i = 1; i < 1000000; i++) {
    double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (fabs(d) < TINY)
      d = TINY;
    c = b + an / c;
    if (fabs(c) < TINY)
      c = TINY;
    d = 1 / d;
    double del = d * c;
    h *= del;
    if (fabs(del - 1) < 1e-16)
      break;
  }
  return exp(prefix(a, x)) * h;
}

double spot_gamma_p(double a, double x) {
  if (!(a > 0) || !(x >= 0) || isinf(a))
    return NAN;
  if (x == 0)
    return 0;
  if (isinf(x))
    return 1;
  return x < a + 1 ? series(a, x) : 1 - contfrac(a, x);
}

double spot_gamma_q(double a, double x) {
  if (!(a > 0) || !(x >= 0) || isinf(a))
    return NAN;
  if (x == 0)
    return 1;
  if (isinf(x))
    return 0;
  return x < a + 1 ? 1 - series(a, x) : contfrac(a, x);
}
