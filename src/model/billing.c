/*
 * billing.c: the cloud's expected billing per aggregator (MODEL.md section 4), a newsvendor problem in the quota
 * theta: B(theta) (6), its derivatives (15)/(16), the optimal quota (17) with the minimum B* in closed form
 * (19)-(20), (40)-(41), (46)-(47), (43), the saving against the ad-hoc quota theta = N mu, and the devices per
 * aggregator for a billing target (21), (22), (42), (48).
 *
 * B is evaluated as b_t E[S] + b_i L(theta) + b_a U(theta), a sum of non-negative terms, rather than as (7),
 * which subtracts b_a theta from a nearly equal quantity above the mean.
 */
#include <math.h>

#include "spot/model.h"

int spot_billing(const spot_dist_t *s, const spot_rates_t *r, double theta, double *b) {
  int rc = spot_rates_check(r);
  if (rc < 0)
    return rc;
  if (!(theta >= 0) || !isfinite(theta))
    return SPOT_MODEL_EQUOTA;
  double x = r->b_t * s->mu + r->b_i * spot_dist_lpm(s, theta) + r->b_a * spot_dist_upm(s, theta);
  if (!isfinite(x))
    return SPOT_MODEL_EOVERFLOW;
  *b = x;
  return 0;
}

int spot_billing_deriv(const spot_dist_t *s, const spot_rates_t *r, double theta, double *db, double *d2b) {
  int rc = spot_rates_check(r);
  if (rc < 0)
    return rc;
  if (!(theta >= 0) || !isfinite(theta))
    return SPOT_MODEL_EQUOTA;
  double x = (r->b_i + r->b_a) * spot_dist_cdf(s, theta) - r->b_a;
  if (!isfinite(x))
    return SPOT_MODEL_EOVERFLOW; /* b_i + b_a beyond a double */
  if (db)
    *db = x;
  if (d2b) /* +inf for a fixed aggregate at its mean (its point mass), as spot_dist_pdf says */
    *d2b = (r->b_i + r->b_a) * spot_dist_pdf(s, theta);
  return 0;
}

int spot_billing_coef(const spot_dist_t *s, const spot_rates_t *r, double *c, double *adhoc) {
  int rc = spot_rates_check(r);
  if (rc < 0)
    return rc;
  double bi = r->b_i, ba = r->b_a, bt = r->b_t, ratio = ba / bi, cc = bt, aa = bt;
  switch (s->form) {
  case SPOT_DIST_UNIFORM: /* (20) */
    cc = bt + ba * bi / (ba + bi);
    aa = bt + (bi + ba) / 4;
    break;
  case SPOT_DIST_EXPONENTIAL: /* (47) */
    cc = bt + bi * log1p(ratio);
    aa = bt + (bi + ba) * 0.36787944117144233;
    break;
  case SPOT_DIST_PARETO: { /* (41) */
    double al = s->alpha;
    cc = bt + bi * expm1(log1p(ratio) / al);
    aa = bt + (bi + ba) * exp((al - 1) * log(al - 1) - al * log(al));
    break;
  }
  case SPOT_DIST_FIXED: /* (43) */
    break;
  }
  if (!isfinite(cc) || !isfinite(aa))
    return SPOT_MODEL_EOVERFLOW; /* rates near the top of a double */
  if (c)
    *c = cc;
  if (adhoc)
    *adhoc = aa;
  return 0;
}

int spot_billing_optimum(const spot_dist_t *s, const spot_rates_t *r, double *theta, double *bmin) {
  double c;
  int rc = spot_billing_coef(s, r, &c, NULL);
  if (rc < 0)
    return rc;
  double m = s->mu, ratio = r->b_a / r->b_i, t = m;
  switch (s->form) {
  case SPOT_DIST_UNIFORM: /* (19) */
    t = 2 * m * r->b_a / (r->b_a + r->b_i);
    break;
  case SPOT_DIST_EXPONENTIAL: /* (46) */
    t = m * log1p(ratio);
    break;
  case SPOT_DIST_PARETO: /* (40) */
    t = s->xm * exp(log1p(ratio) / s->alpha);
    break;
  case SPOT_DIST_FIXED: /* (43) */
    break;
  }
  if (!isfinite(t) || !isfinite(m * c))
    return SPOT_MODEL_EOVERFLOW;
  if (theta)
    *theta = t;
  if (bmin)
    *bmin = m * c;
  return 0;
}

int spot_billing_saving(const spot_dist_t *s, const spot_rates_t *r, double *saving) {
  double c, a;
  int rc = spot_billing_coef(s, r, &c, &a);
  if (rc < 0)
    return rc;
  *saving = a > 0 ? (a - c) / a : 0;
  return 0;
}

int spot_billing_devices(const spot_dist_t *d, const spot_rates_t *r, double bbar, double *n) {
  double c;
  int rc = spot_billing_coef(d, r, &c, NULL);
  if (rc < 0)
    return rc;
  if (!(bbar > 0) || !isfinite(bbar))
    return SPOT_MODEL_EBILLING;
  double x = bbar / (d->mu * c); /* c >= b_i c(...) > 0 */
  if (!isfinite(x))
    return SPOT_MODEL_EOVERFLOW; /* the device count is beyond a double (mu c underflows) */
  if (!(x >= 1))
    return SPOT_MODEL_EBILLINGLOW;
  *n = x;
  return 0;
}

int spot_billing_volume(spot_dist_kind_t kind, double alpha, const spot_rates_t *r, double bbar, double n,
                        double *mu) {
  spot_dist_t d;
  double c;
  int rc = spot_dist_init(&d, kind, 1, alpha);
  if (rc == 0)
    rc = spot_billing_coef(&d, r, &c, NULL);
  if (rc < 0)
    return rc;
  if (!(bbar > 0) || !isfinite(bbar))
    return SPOT_MODEL_EBILLING;
  if (!(n >= 1) || !isfinite(n))
    return SPOT_MODEL_EDEVICES;
  double x = bbar / (n * c); /* c > 0 */
  if (!isfinite(x))
    return SPOT_MODEL_EOVERFLOW;
  *mu = x;
  return 0;
}
