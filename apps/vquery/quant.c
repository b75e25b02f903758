/*
 * apps/vquery/quant.c: the law of what a device actually sends, whole queries: Q = b*ceil(R/b), b = VQ_QUERY_BITS.
 *
 * MODEL.md's closed forms are for the continuous volume R; a device that draws r sends ceil(r/b) queries, so its
 * energy, its variability and the cloud's bill follow the law of Q. P(ceil(R/b) = k) = F(kb) - F((k-1)b), so the
 * moments are sums over k: finite for the uniform law (k <= ceil(2mu/b)); for the exponential law ceil(R/b) is
 * geometric and the part above the threshold has a closed form; for Pareto the sum runs to a point t where the
 * rest is bracketed by the law's partial moments (R <= Q < R + b). The aggregate of N devices is billed by Monte
 * Carlo over draws of spot's samplers (report.h says why: S is a sum of N quantised volumes, no closed form).
 */
#include <math.h>
#include <stdlib.h>

#include <spot/error.h>

#include "report.h"

#define PARETO_TERMS_MAX (1u << 22) /* a bound on the Pareto sum's terms (about 0.2 s) */

double vq_quant_pmf(const spot_dist_t *d, double b, uint64_t k) {
  if (k == 0)
    return spot_dist_cdf(d, 0);
  return spot_dist_sf(d, (double)(k - 1) * b) - spot_dist_sf(d, (double)k * b);
}

uint64_t vq_quant_quantile(const spot_dist_t *d, double b, double p) {
  if (!(p > 0 && p < 1) || !(b > 0))
    return 0;
  double x = spot_dist_quantile(d, p); /* P(ceil(R/b) <= k) = F(kb) >= p  <=>  kb >= F^-1(p) */
  return x <= 0 ? 0 : (uint64_t)ceil(x / b);
}

double vq_energy_of(double eps_a, double eps_i, double rho, double q) {
  return eps_a * q + eps_i * fmax(rho - q, 0);
}

double vq_vplus_of(double eps_a, double rho, double energy) {
  double x = energy - eps_a * rho;
  return x > 0 ? x * x : 0;
}

/* E[(R - c)^2 1{R > t}] from the partial moments. */
static double tail2(const spot_dist_t *d, double t, double c) {
  double m0 = spot_dist_pmoment(d, 0, t), m1 = spot_dist_pmoment(d, 1, t), m2 = spot_dist_pmoment(d, 2, t);
  return fmax(m2 - 2 * c * m1 + c * c * m0, 0);
}

int vq_quant_moments(const spot_dist_t *d, double b, double rho, vq_qmoments_t *out) {
  if (!(b > 0) || !isfinite(b) || !(rho >= 0) || !isfinite(rho))
    return SPOT_EINVAL;
  vq_qmoments_t m = {0, 0, 0, 0, 0};
  uint64_t krho = (uint64_t)floor(rho / b); /* k <= krho: Q <= rho */
  uint64_t kmax;                            /* the sum's last term */
  switch (d->form) {
  case SPOT_DIST_UNIFORM:
    kmax = (uint64_t)ceil(2 * d->mu / b);
    break;
  case SPOT_DIST_FIXED:
    kmax = (uint64_t)ceil(d->mu / b);
    break;
  case SPOT_DIST_EXPONENTIAL:
    kmax = krho; /* the rest is geometric */
    break;
  default: { /* Pareto: grow t until the tail's bracket is negligible against the whole */
    double t = fmax(fmax(rho, d->xm), b), whole2 = spot_dist_moment2(d);
    for (;;) {
      double w1 = b * spot_dist_pmoment(d, 0, t), w2 = 2 * b * spot_dist_pmoment(d, 1, t) + b * w1;
      if ((w1 <= 1e-12 * d->mu && (!isfinite(whole2) || w2 <= 1e-12 * whole2)) || t / b >= PARETO_TERMS_MAX)
        break;
      t *= 2;
    }
    kmax = (uint64_t)ceil(t / b);
    if (kmax < krho)
      kmax = krho;
  }
  }
  for (uint64_t k = 1; k <= kmax; k++) {
    double p = vq_quant_pmf(d, b, k), q = (double)k * b;
    if (p <= 0)
      continue;
    m.mean += p * q;
    if (q < rho) {
      m.idle += p * (rho - q);
      m.under2 += p * (rho - q) * (rho - q);
    } else
      m.over2 += p * (q - rho) * (q - rho);
  }
  double t = (double)kmax * b; /* the tail: K > kmax, Q > t >= rho */
  if (d->form == SPOT_DIST_EXPONENTIAL) {
    /* K = kmax + J given K > kmax, J geometric on 1, 2, ... with p = 1 - e^{-b/mu}: E J = 1/p, E J^2 = (2-p)/p^2 */
    double p = -expm1(-b / d->mu), pk = exp(-t / d->mu), c = t - rho;
    m.mean += pk * (t + b / p);
    m.over2 += pk * (b * b * (2 - p) / (p * p) + 2 * b * c / p + c * c);
  } else if (d->form == SPOT_DIST_PARETO) {
    /* R <= Q < R + b: E[Q; R > t] in [M1, M1 + b M0], E[(Q - rho)^2; R > t] in [tail2(rho), tail2(rho - b)] */
    double m0 = spot_dist_pmoment(d, 0, t), m1 = spot_dist_pmoment(d, 1, t);
    double lo2 = tail2(d, t, rho), hi2 = tail2(d, t, rho - b);
    m.mean += m1 + 0.5 * b * m0;
    if (d->alpha <= 2)
      m.over2 = INFINITY;
    else
      m.over2 += 0.5 * (lo2 + hi2);
    double e1 = m.mean > 0 ? 0.5 * b * m0 / m.mean : 0;
    double e2 = m.over2 > 0 && isfinite(m.over2) ? 0.5 * (hi2 - lo2) / m.over2 : 0;
    m.err = fmax(e1, e2);
  }
  *out = m;
  return 0;
}

int vq_quant_energy(const spot_dist_t *d, double b, double eps_a, double eps_i, double rho, double *mean,
                    double *vplus) {
  vq_qmoments_t m;
  int rc = vq_quant_moments(d, b, rho, &m);
  if (rc < 0)
    return rc;
  /* E - eps_a rho = eps_a (Q - rho) above the threshold, (eps_i - eps_a)(rho - Q) below it */
  double v = eps_a * eps_a * m.over2;
  if (eps_i > eps_a)
    v += (eps_i - eps_a) * (eps_i - eps_a) * m.under2;
  if (mean)
    *mean = eps_a * m.mean + eps_i * m.idle;
  if (vplus)
    *vplus = v;
  return 0;
}

/* ---- billing ---- */

double vq_bill_model(const vq_bill_t *p, double s, double theta) {
  return p->b_t * s + p->b_i * fmax(theta - s, 0) + p->b_a * fmax(s - theta, 0);
}

uint32_t vq_bill_instances(const vq_bill_t *p, double s, double theta) {
  return s >= theta ? p->active_instances : p->idle_instances;
}

double vq_bill_instance_usd(const vq_bill_t *p, uint32_t instances) {
  return (double)instances * p->interval_s * p->usd_per_instance_hour / 3600.0;
}

int vq_quant_sample_s(const spot_dist_t *d, uint32_t n, double b, size_t k, spot_sampler_t how, uint64_t seed,
                      double **out) {
  if (n == 0 || k == 0 || !(b > 0))
    return SPOT_EINVAL;
  double *s = malloc(k * sizeof *s);
  if (s == NULL)
    return SPOT_ENOMEM;
  spot_rng_t g;
  spot_rng_seed(&g, seed);
  for (size_t j = 0; j < k; j++) {
    double sum = 0;
    for (uint32_t i = 0; i < n; i++) {
      double r = how == SPOT_SAMPLE_REJECT ? spot_sample_reject(d, &g) : spot_sample_inverse(d, &g);
      sum += b * ceil(r / b);
    }
    s[j] = sum;
  }
  *out = s;
  return 0;
}

vq_est_t vq_est_of(const double *x, size_t n) {
  vq_est_t e = {NAN, NAN};
  if (n == 0)
    return e;
  double m = 0, ss = 0;
  for (size_t i = 0; i < n; i++) { /* Welford */
    double dx = x[i] - m;
    m += dx / (double)(i + 1);
    ss += dx * (x[i] - m);
  }
  e.mean = m;
  if (n >= 2)
    e.se = sqrt(ss / (double)(n - 1) / (double)n);
  return e;
}

vq_est_t vq_est_saving(const double *x, const double *y, size_t n) {
  vq_est_t e = {NAN, NAN};
  if (n == 0)
    return e;
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; i++)
    mx += x[i], my += y[i];
  mx /= (double)n, my /= (double)n;
  if (!(my != 0))
    return e;
  double ratio = mx / my, ss = 0;
  for (size_t i = 0; i < n; i++) { /* delta method: var(xbar/ybar) ~ var(x - ratio y) / (n ybar^2) */
    double u = x[i] - ratio * y[i];
    ss += u * u;
  }
  e.mean = 1 - ratio;
  if (n >= 2)
    e.se = sqrt(ss / (double)(n - 1) / (double)n) / fabs(my);
  return e;
}

/* Billing and instance series of the samples at theta (instances of sample j set by sample j-1, cyclically). */
static int series(const vq_bill_t *p, const double *s, size_t k, double theta, double *bm, double *bi) {
  for (size_t j = 0; j < k; j++) {
    bm[j] = vq_bill_model(p, s[j], theta);
    bi[j] = vq_bill_instance_usd(p, vq_bill_instances(p, s[j == 0 ? k - 1 : j - 1], theta));
  }
  return 0;
}

int vq_bill_estimate(const vq_bill_t *p, const double *s, size_t k, double theta, vq_est_t *model,
                     vq_est_t *instance) {
  if (k < 2)
    return SPOT_EINVAL;
  double *bm = malloc(2 * k * sizeof *bm);
  if (bm == NULL)
    return SPOT_ENOMEM;
  series(p, s, k, theta, bm, bm + k);
  if (model)
    *model = vq_est_of(bm, k);
  if (instance)
    *instance = vq_est_of(bm + k, k);
  free(bm);
  return 0;
}

int vq_bill_saving(const vq_bill_t *p, const double *s, size_t k, double theta_a, double theta_b, vq_est_t *model,
                   vq_est_t *instance) {
  if (k < 2)
    return SPOT_EINVAL;
  double *v = malloc(4 * k * sizeof *v);
  if (v == NULL)
    return SPOT_ENOMEM;
  series(p, s, k, theta_a, v, v + k);
  series(p, s, k, theta_b, v + 2 * k, v + 3 * k);
  if (model)
    *model = vq_est_saving(v, v + 2 * k, k);
  if (instance)
    *instance = vq_est_saving(v + k, v + 3 * k, k);
  free(v);
  return 0;
}
