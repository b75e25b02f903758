/*
 * dist.c: the distributions of a device's volume R and of the shaped aggregate S (MODEL.md section 2): uniform on
 * [0, 2mu], exponential of mean mu, Pareto of shape alpha and mean mu, and the fixed volume (the alpha -> infinity
 * limit). For each: PDF, CDF, survival, quantile, the lower and upper partial moments and the partial moments
 * M0..M2 in closed form.
 *
 * The partial moments are written so that no formula subtracts two nearly equal numbers: L(t) for exponential and
 * Pareto goes through phi(x) = e^x - 1 - x, which is summed as a series for small |x|; Pareto powers are
 * exp(alpha * log(r_m / x)) (MODEL.md section 7).
 */
#include <math.h>
#include <string.h>

#include "spot/model.h"

int spot_dist_init(spot_dist_t *d, spot_dist_kind_t kind, double mu, double alpha) {
  if (kind < SPOT_DIST_UNIFORM || kind > SPOT_DIST_FIXED)
    return SPOT_MODEL_EDIST;
  if (!(mu > 0) || !isfinite(mu))
    return SPOT_MODEL_EMU;
  spot_dist_t x = {.kind = kind, .form = kind, .mu = mu, .alpha = 0, .xm = mu};
  switch (kind) {
  case SPOT_DIST_UNIFORM:
    x.xm = 2 * mu;
    if (!isfinite(x.xm))
      return SPOT_MODEL_EOVERFLOW; /* else every evaluator would divide by inf and answer 0 or NAN */
    break;
  case SPOT_DIST_PARETO:
    if (!(alpha > 1) || isnan(alpha))
      return SPOT_MODEL_EALPHA;
    x.alpha = alpha;
    if (alpha > SPOT_PARETO_ALPHA_LIMIT)
      x.form = SPOT_DIST_FIXED;
    else
      x.xm = mu * (alpha - 1) / alpha;
    break;
  default:
    break;
  }
  *d = x;
  return 0;
}

int spot_dist_shaped(spot_dist_t *s, const spot_dist_t *d, double n) {
  if (!(n >= 1) || !isfinite(n))
    return SPOT_MODEL_EDEVICES;
  if (!isfinite(n * d->mu))
    return SPOT_MODEL_EOVERFLOW;
  return spot_dist_init(s, d->kind, n * d->mu, d->alpha);
}

static const char *const names[] = {NULL, "uniform", "exponential", "pareto", "fixed"};

int spot_dist_parse(const char *name, spot_dist_kind_t *kind) {
  for (int k = SPOT_DIST_UNIFORM; k <= SPOT_DIST_FIXED; k++)
    if (strcmp(name, names[k]) == 0) {
      *kind = (spot_dist_kind_t)k;
      return 0;
    }
  if (strcmp(name, "exp") == 0) {
    *kind = SPOT_DIST_EXPONENTIAL;
    return 0;
  }
  return SPOT_MODEL_EDIST;
}

const char *spot_dist_name(spot_dist_kind_t kind) {
  return kind >= SPOT_DIST_UNIFORM && kind <= SPOT_DIST_FIXED ? names[kind] : "unknown";
}

/* phi(x) = e^x - 1 - x >= 0, accurate for every x. */
static double phi(double x) {
  if (fabs(x) < 0.7) {
    double term = x * x / 2, sum = 0;
    for (int k = 3; k < 40 && fabs(term) > 1e-18 * fabs(sum); k++) {
      sum += term;
      term *= x / k;
    }
    return sum;
  }
  return expm1(x) - x;
}

/* (r_m / x)^a for x >= r_m. */
static double ppow(const spot_dist_t *d, double x, double a) { return exp(a * log(d->xm / x)); }

double spot_dist_pdf(const spot_dist_t *d, double x) {
  switch (d->form) {
  case SPOT_DIST_UNIFORM:
    return x >= 0 && x <= d->xm ? 1 / d->xm : 0;
  case SPOT_DIST_EXPONENTIAL:
    return x >= 0 ? exp(-x / d->mu) / d->mu : 0;
  case SPOT_DIST_PARETO:
    return x >= d->xm ? d->alpha / d->xm * ppow(d, x, d->alpha + 1) : 0;
  case SPOT_DIST_FIXED:
    return x == d->mu ? HUGE_VAL : 0;
  }
  return NAN;
}

double spot_dist_cdf(const spot_dist_t *d, double x) {
  switch (d->form) {
  case SPOT_DIST_UNIFORM:
    return x <= 0 ? 0 : x >= d->xm ? 1 : x / d->xm;
  case SPOT_DIST_EXPONENTIAL:
    return x <= 0 ? 0 : -expm1(-x / d->mu);
  case SPOT_DIST_PARETO:
    return x <= d->xm ? 0 : -expm1(d->alpha * log(d->xm / x));
  case SPOT_DIST_FIXED:
    return x >= d->mu ? 1 : 0;
  }
  return NAN;
}

double spot_dist_sf(const spot_dist_t *d, double x) {
  switch (d->form) {
  case SPOT_DIST_UNIFORM:
    return x <= 0 ? 1 : x >= d->xm ? 0 : (d->xm - x) / d->xm;
  case SPOT_DIST_EXPONENTIAL:
    return x <= 0 ? 1 : exp(-x / d->mu);
  case SPOT_DIST_PARETO:
    return x <= d->xm ? 1 : ppow(d, x, d->alpha);
  case SPOT_DIST_FIXED:
    return x >= d->mu ? 0 : 1;
  }
  return NAN;
}

double spot_dist_quantile(const spot_dist_t *d, double p) {
  if (!(p >= 0 && p <= 1))
    return NAN;
  switch (d->form) {
  case SPOT_DIST_UNIFORM:
    return p * d->xm;
  case SPOT_DIST_EXPONENTIAL:
    return p == 1 ? HUGE_VAL : -d->mu * log1p(-p);
  case SPOT_DIST_PARETO:
    return p == 1 ? HUGE_VAL : d->xm * exp(-log1p(-p) / d->alpha);
  case SPOT_DIST_FIXED:
    return d->mu;
  }
  return NAN;
}

double spot_dist_lpm(const spot_dist_t *d, double t) {
  if (t <= 0)
    return 0;
  switch (d->form) {
  case SPOT_DIST_UNIFORM:
    return t <= d->xm ? t / d->xm * t / 2 : t - d->mu; /* t/xm first: t*t may leave a double */
  case SPOT_DIST_EXPONENTIAL:
    return d->mu * phi(-t / d->mu);
  case SPOT_DIST_PARETO: {
    if (t <= d->xm)
      return 0;
    /* L(t) = r_m [phi(u) + phi(-(alpha-1)u)/(alpha-1)], u = log(t/r_m): both terms >= 0. */
    double u = log(t / d->xm), b = d->alpha - 1;
    return d->xm * (phi(u) + phi(-b * u) / b);
  }
  case SPOT_DIST_FIXED:
    return t > d->mu ? t - d->mu : 0;
  }
  return NAN;
}

double spot_dist_upm(const spot_dist_t *d, double t) {
  if (t <= 0)
    return d->mu - t;
  switch (d->form) {
  case SPOT_DIST_UNIFORM:
    return t >= d->xm ? 0 : (d->xm - t) / d->xm * (d->xm - t) / 2;
  case SPOT_DIST_EXPONENTIAL:
    return d->mu * exp(-t / d->mu);
  case SPOT_DIST_PARETO:
    return t <= d->xm ? d->mu - t : d->xm / (d->alpha - 1) * ppow(d, t, d->alpha - 1);
  case SPOT_DIST_FIXED:
    return t < d->mu ? d->mu - t : 0;
  }
  return NAN;
}

double spot_dist_upm2(const spot_dist_t *d, double t) {
  switch (d->form) {
  case SPOT_DIST_UNIFORM: {
    double a = d->xm;
    if (t >= a)
      return 0;
    if (t >= 0)
      return (a - t) / a * (a - t) * (a - t) / 3;
    return ((a - t) * (a - t) * (a - t) + t * t * t) / (3 * a);
  }
  case SPOT_DIST_EXPONENTIAL:
    if (t >= 0)
      return 2 * d->mu * d->mu * exp(-t / d->mu);
    return 2 * d->mu * d->mu - 2 * t * d->mu + t * t;
  case SPOT_DIST_PARETO: {
    double a = d->alpha;
    if (a <= 2)
      return HUGE_VAL;
    if (t >= d->xm)
      return 2 * t * t * ppow(d, t, a) / ((a - 1) * (a - 2));
    return d->xm * d->xm * a / ((a - 1) * (a - 1) * (a - 2)) + (d->mu - t) * (d->mu - t);
  }
  case SPOT_DIST_FIXED:
    return t < d->mu ? (d->mu - t) * (d->mu - t) : 0;
  }
  return NAN;
}

double spot_dist_moment2(const spot_dist_t *d) {
  switch (d->form) {
  case SPOT_DIST_UNIFORM:
    return d->xm * d->xm / 3;
  case SPOT_DIST_EXPONENTIAL:
    return 2 * d->mu * d->mu;
  case SPOT_DIST_PARETO:
    return d->alpha <= 2 ? HUGE_VAL : d->alpha * d->xm * d->xm / (d->alpha - 2);
  case SPOT_DIST_FIXED:
    return d->mu * d->mu;
  }
  return NAN;
}

double spot_dist_pmoment(const spot_dist_t *d, int k, double t) {
  if (k < 0 || k > 2)
    return NAN;
  if (k == 2 && d->form == SPOT_DIST_PARETO && d->alpha <= 2)
    return HUGE_VAL;
  double m0 = 1, m1 = d->mu, m2 = spot_dist_moment2(d);
  switch (d->form) {
  case SPOT_DIST_UNIFORM: {
    double a = d->xm;
    if (t >= a)
      m0 = m1 = m2 = 0;
    else if (t > 0) {
      m0 = (a - t) / a;
      m1 = (a - t) / a * (a / 2 + t / 2);
      m2 = (a * a * a - t * t * t) / (3 * a);
    }
    break;
  }
  case SPOT_DIST_EXPONENTIAL:
    if (t > 0) {
      double e = exp(-t / d->mu), mu = d->mu;
      m0 = e;
      m1 = (t + mu) * e;
      m2 = (t * t + 2 * t * mu + 2 * mu * mu) * e;
    }
    break;
  case SPOT_DIST_PARETO:
    if (t >= d->xm) {
      double a = d->alpha, p = ppow(d, t, a);
      m0 = p;
      m1 = a * t * p / (a - 1);
      m2 = a * t * t * p / (a - 2);
    }
    break;
  case SPOT_DIST_FIXED:
    if (t >= d->mu)
      m0 = m1 = m2 = 0;
    break;
  }
  return k == 0 ? m0 : k == 1 ? m1 : m2;
}
