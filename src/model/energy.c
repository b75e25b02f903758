/*
 * energy.c: a device's energy per interval (MODEL.md section 3): the mean (2), the one-sided variability (3) in
 * both readings, their derivatives, and the inverse problems: the threshold rho meeting a mean energy target at
 * fixed mu (13), (36)/(57); the volume mu meeting it at fixed rho (10), (27)/(50), (34)/(55); and the threshold
 * on the curve of constant energy meeting a variability cap (12), (28)/(52), (35)/(56).
 *
 * Closed forms where the model has them; otherwise Newton's method on a convex function started on the side from
 * which it converges monotonically, so that every root finder here is safe without a bracket search.
 */
#include <math.h>

#include "spot/model.h"

static int check_eps(const spot_rates_t *r) {
  if (!(r->eps_a > 0) || !isfinite(r->eps_a))
    return SPOT_MODEL_EEPSA;
  if (!(r->eps_i > 0) || !isfinite(r->eps_i))
    return SPOT_MODEL_EEPSI;
  return 0;
}

static int check_rho(double rho) { return rho >= 0 && isfinite(rho) ? 0 : SPOT_MODEL_ERHO; }

int spot_energy_mean(const spot_dist_t *d, const spot_rates_t *r, double rho, double *e) {
  int rc = check_eps(r);
  if (rc == 0)
    rc = check_rho(rho);
  if (rc < 0)
    return rc;
  double x = r->eps_a * d->mu + r->eps_i * spot_dist_lpm(d, rho);
  if (!isfinite(x))
    return SPOT_MODEL_EOVERFLOW;
  *e = x;
  return 0;
}

int spot_energy_dmean(const spot_dist_t *d, const spot_rates_t *r, double rho, double *de, double *d2e) {
  int rc = check_eps(r);
  if (rc == 0)
    rc = check_rho(rho);
  if (rc < 0)
    return rc;
  double x = r->eps_i * spot_dist_cdf(d, rho);
  if (!isfinite(x))
    return SPOT_MODEL_EOVERFLOW;
  if (de)
    *de = x;
  if (d2e) /* +inf for a fixed volume at rho = mu (its point mass), as spot_dist_pdf says */
    *d2e = r->eps_i * spot_dist_pdf(d, rho);
  return 0;
}

static int check_var(const spot_dist_t *d, const spot_rates_t *r, double rho, spot_reading_t reading) {
  int rc = check_eps(r);
  if (rc == 0)
    rc = check_rho(rho);
  if (rc < 0)
    return rc;
  if (reading != SPOT_VAR_V1 && reading != SPOT_VAR_V2)
    return SPOT_MODEL_EREADING;
  if (d->form == SPOT_DIST_PARETO && d->alpha <= 2)
    return SPOT_MODEL_EALPHA2;
  return 0;
}

int spot_energy_var(const spot_dist_t *d, const spot_rates_t *r, double rho, spot_reading_t reading, double *v) {
  int rc = check_var(d, r, rho, reading);
  if (rc < 0)
    return rc;
  double ea = r->eps_a, v1 = ea * ea * spot_dist_upm2(d, rho);
  if (!isfinite(v1))
    return SPOT_MODEL_EOVERFLOW;
  if (reading == SPOT_VAR_V1) {
    *v = v1;
    return 0;
  }
  /* V2 = E[(eps_a R - E)^2 1{R > rho}] with eps_a R - E = eps_a (R - rho) + (eps_a rho - E): a sum of accurate
   * terms rather than eps_a^2 M2 - 2 eps_a E M1 + E^2 M0. */
  double e = ea * d->mu + r->eps_i * spot_dist_lpm(d, rho), k = ea * rho - e;
  double x = v1 + 2 * ea * k * spot_dist_upm(d, rho) + k * k * spot_dist_pmoment(d, 0, rho);
  if (!isfinite(x))
    return SPOT_MODEL_EOVERFLOW;
  *v = x < 0 ? 0 : x;
  return 0;
}

int spot_energy_dvar(const spot_dist_t *d, const spot_rates_t *r, double rho, spot_reading_t reading,
                     double *dv) {
  int rc = check_var(d, r, rho, reading);
  if (rc < 0)
    return rc;
  double ea = r->eps_a;
  if (reading == SPOT_VAR_V1) {
    double x = -2 * ea * ea * spot_dist_upm(d, rho);
    if (!isfinite(x))
      return SPOT_MODEL_EOVERFLOW;
    *dv = x;
    return 0;
  }
  /* d/drho int_rho^inf (eps_a x - E(rho))^2 P dx = -(eps_a rho - E)^2 P(rho) - 2 E'(rho) (eps_a M1 - E M0). */
  double e = ea * d->mu + r->eps_i * spot_dist_lpm(d, rho), k = ea * rho - e;
  double p = spot_dist_pdf(d, rho);
  double tail = ea * spot_dist_upm(d, rho) + k * spot_dist_pmoment(d, 0, rho); /* eps_a M1 - E M0 */
  /* a fixed volume's density is +inf at mu, where k = 0: that term is 0 there */
  double x = -(p > 0 && k != 0 ? k * k * p : 0) - 2 * r->eps_i * spot_dist_cdf(d, rho) * tail;
  if (!isfinite(x))
    return SPOT_MODEL_EOVERFLOW;
  *dv = x;
  return 0;
}

/* The exponential threshold in units of mu: the root x of g(x) = (x - d) + expm1(-x), i.e. x - 1 + e^-x = d.
 * Newton from the right (g is convex and increasing for x > 0) for small d, where the W0 form of (36) loses half
 * its digits (MODEL.md section 7); the W0 form otherwise. */
static int exp_threshold(double dd, double *x) {
  if (dd == 0) {
    *x = 0;
    return 0;
  }
  if (dd >= 1) {
    double c = 1 + dd, w;
    int rc = spot_lambertw0(-exp(-c), &w);
    if (rc < 0)
      return rc;
    *x = c + w;
    return 0;
  }
  double s = sqrt(2 * dd), x0 = s * (1 + s);
  if (x0 > 1 + dd || (x0 - dd) + expm1(-x0) < 0)
    x0 = 1 + dd;
  for (int i = 0; i < 200; i++) {
    double g = (x0 - dd) + expm1(-x0), gp = -expm1(-x0);
    if (g <= 0 || gp <= 0) {
      *x = x0;
      return 0;
    }
    double step = g / gp;
    x0 -= step;
    if (step <= 1e-16 * x0) {
      *x = x0;
      return 0;
    }
  }
  return SPOT_MODEL_ENOCONV;
}

static int threshold(const spot_dist_t *d, const spot_rates_t *r, double e, double *rho) {
  int rc = check_eps(r);
  if (rc < 0)
    return rc;
  if (!(e > 0) || !isfinite(e))
    return SPOT_MODEL_EENERGY;
  double delta = e - r->eps_a * d->mu, mu = d->mu;
  if (delta < 0)
    return SPOT_MODEL_EENERGYMU;
  double di = delta / r->eps_i; /* b */
  switch (d->form) {
  case SPOT_DIST_UNIFORM:
    *rho = di <= mu ? 2 * sqrt(mu * di) : mu + di;
    return 0;
  case SPOT_DIST_EXPONENTIAL: {
    double x;
    rc = exp_threshold(di / mu, &x);
    if (rc < 0)
      return rc;
    *rho = mu * x;
    return 0;
  }
  case SPOT_DIST_PARETO: {
    if (delta == 0) {
      *rho = d->xm;
      return 0;
    }
    /* L is increasing and convex beyond r_m: Newton from the right end of the bracket [r_m, mu + delta/eps_i]. */
    double x = mu + di;
    for (int i = 0; i < 200; i++) {
      double f = spot_dist_lpm(d, x) - di, fp = spot_dist_cdf(d, x);
      if (f <= 0 || fp <= 0) {
        *rho = x;
        return 0;
      }
      double step = f / fp;
      x -= step;
      if (x < d->xm)
        x = d->xm;
      if (step <= 1e-16 * x) {
        *rho = x;
        return 0;
      }
    }
    return SPOT_MODEL_ENOCONV;
  }
  case SPOT_DIST_FIXED:
    *rho = mu + di;
    return 0;
  }
  return SPOT_MODEL_EDIST;
}

int spot_energy_threshold(const spot_dist_t *d, const spot_rates_t *r, double e, double *rho) {
  double x;
  int rc = threshold(d, r, e, &x);
  if (rc == 0 && !isfinite(x))
    rc = SPOT_MODEL_EOVERFLOW; /* e.g. delta/eps_i beyond a double */
  if (rc == 0)
    *rho = x;
  return rc;
}

/* The volume by Newton's method on h(mu) = E(mu, rho) - e, which is convex in mu (E - eps_i rho = eps_a mu -
 * eps_i E[min(R, rho)] and min is concave); started at the bracket's right end e/eps_a, where h >= 0, it decreases
 * monotonically to the root. h is evaluated as (eps_a - eps_i) mu + eps_i U(rho) - a, with a = e - eps_i rho
 * (one rounding, by fma) and U the upper partial moment, all terms of the size of a: the plain eps_a mu +
 * eps_i L(rho) - e subtracts two numbers of the size of e and, near e = eps_i rho, drowns h in their rounding, so
 * that the loop stopped early (3.5e-3 relative error for a Pareto at alpha 1.001). */
static int volume_newton(spot_dist_kind_t kind, double alpha, const spot_rates_t *r, double e, double rho,
                         double *out) {
  double ea = r->eps_a, ei = r->eps_i, a = fma(-ei, rho, e);
  double mu = e / ea, lo = a / ea;
  for (int i = 0; i < 300; i++) {
    spot_dist_t d;
    int rc = spot_dist_init(&d, kind, mu, alpha);
    if (rc < 0)
      return rc;
    double h = (ea - ei) * mu + ei * spot_dist_upm(&d, rho) - a;
    /* dE/dmu = eps_a - eps_i E[X 1{mu X < rho}] with X = R/mu: E[R 1{R < rho}] = mu - M1(rho). */
    double hp = (ea - ei) + ei * spot_dist_pmoment(&d, 1, rho) / mu;
    if (h <= 0 || hp <= 0) {
      *out = mu;
      return 0;
    }
    double step = h / hp;
    mu -= step;
    if (mu < lo)
      mu = lo;
    if (step <= 1e-16 * mu) {
      *out = mu;
      return 0;
    }
  }
  return SPOT_MODEL_ENOCONV;
}

static int volume(spot_dist_kind_t kind, double alpha, const spot_rates_t *r, double e, double rho, double *mu) {
  spot_dist_t d;
  int rc = spot_dist_init(&d, kind, 1, alpha);
  if (rc == 0)
    rc = check_eps(r);
  if (rc == 0)
    rc = check_rho(rho);
  if (rc < 0)
    return rc;
  if (!(e > 0) || !isfinite(e))
    return SPOT_MODEL_EENERGY;
  double ea = r->eps_a, ei = r->eps_i;
  if (!(e > ei * rho))
    return SPOT_MODEL_EENERGYRHO;
  if (rho == 0) {
    *mu = e / ea;
    return 0;
  }
  switch (d.form) {
  case SPOT_DIST_UNIFORM:
    if (e >= (ea + ei) * rho / 2) { /* (e + sqrt(e^2 - ea ei rho^2)) / 2ea, without squaring e or rho */
      double q = rho / e;
      *mu = e * (1 + sqrt(fmax(0, 1 - ea * ei * q * q))) / (2 * ea);
    } else {
      *mu = fma(-ei, rho, e) / (ea - ei);
    }
    return 0;
  case SPOT_DIST_EXPONENTIAL: {
    /* lambda = D/A + W0((eps_i rho / A) e^(-D rho / A)) / rho, A = e - eps_i rho, D = eps_a - eps_i. */
    double a = fma(-ei, rho, e), dd = ea - ei, z = (ei * rho / a) * exp(-dd * rho / a), w; /* a: one rounding */
    if (!isfinite(z) || spot_lambertw0(z, &w) < 0)
      return volume_newton(kind, alpha, r, e, rho, mu);
    double lambda = dd / a + w / rho;
    if (!(lambda > 0) || !isfinite(lambda))
      return volume_newton(kind, alpha, r, e, rho, mu);
    *mu = 1 / lambda;
    return 0;
  }
  case SPOT_DIST_PARETO:
    if (e * (alpha - 1) / (alpha * ea) >= rho) {
      *mu = e / ea; /* never idles: rho <= r_m */
      return 0;
    }
    return volume_newton(kind, alpha, r, e, rho, mu);
  case SPOT_DIST_FIXED:
    *mu = e / ea >= rho ? e / ea : fma(-ei, rho, e) / (ea - ei);
    return 0;
  }
  return SPOT_MODEL_EDIST;
}

int spot_energy_volume(spot_dist_kind_t kind, double alpha, const spot_rates_t *r, double e, double rho,
                       double *mu) {
  double x;
  int rc = volume(kind, alpha, r, e, rho, &x);
  if (rc == 0 && !isfinite(x))
    rc = SPOT_MODEL_EOVERFLOW; /* e.g. e/eps_a beyond a double */
  if (rc == 0)
    *mu = x;
  return rc;
}

/* V along the curve of constant energy at threshold rho. */
static int var_on_curve(spot_dist_kind_t kind, double alpha, const spot_rates_t *r, double e, double rho,
                        spot_reading_t reading, double *v, double *mu) {
  double m;
  int rc = spot_energy_volume(kind, alpha, r, e, rho, &m);
  if (rc != 0) /* m is written only on 0 */
    return rc;
  spot_dist_t d;
  rc = spot_dist_init(&d, kind, m, alpha);
  if (rc == 0)
    rc = spot_energy_var(&d, r, rho, reading, v);
  if (rc == 0 && mu)
    *mu = m;
  return rc;
}

int spot_energy_vcap(spot_dist_kind_t kind, double alpha, const spot_rates_t *r, double e, double vcap,
                     spot_reading_t reading, double *rho, double *mu) {
  double vmax, m;
  int rc = var_on_curve(kind, alpha, r, e, 0, reading, &vmax, NULL);
  if (rc < 0)
    return rc;
  if (!(vcap > 0) || !(vcap < vmax))
    return SPOT_MODEL_EVCAP;
  double lo = 0, hi = e / r->eps_i; /* V(lo) > vcap; V -> 0 at hi */
  if (!isfinite(hi))
    return SPOT_MODEL_EOVERFLOW; /* the curve's end e/eps_i */
  for (int i = 0; i < 400 && hi - lo > 1e-15 * hi; i++) {
    double mid = lo + (hi - lo) / 2, v;
    if (mid <= lo || mid >= hi)
      break;
    rc = var_on_curve(kind, alpha, r, e, mid, reading, &v, NULL);
    if (rc < 0)
      return rc;
    if (v > vcap)
      lo = mid;
    else
      hi = mid;
  }
  rc = var_on_curve(kind, alpha, r, e, hi, reading, &vmax, &m);
  if (rc != 0) /* var_on_curve writes m only when it returns 0 */
    return rc;
  *rho = hi;
  *mu = m;
  return 0;
}
