/*
 * conv.c: the convolution aggregate of eq. (1), S = R_1 + ... + R_N with independent device volumes, and the
 * billing with it: F_S, the partial moments, the quantile and the optimal quota (17) (MODEL.md section 5: it
 * differs greatly from the shaped model).
 *
 * Exponential devices: S ~ Gamma(N, mu) exactly, through the incomplete gamma function. The others: each R is put
 * on a lattice of step h with mean-preserving weights (node j holds int (1 - |x/h - j|)+ dF), the lattice law is
 * raised to the N-th convolution power by repeated squaring with truncation at the grid's top (exact below it, as
 * S >= 0), and F_S((j + 1/2) h) is the lattice CDF at node j, interpolated linearly in between; L_S is the exact
 * integral of that interpolant, which equals the lattice's own L at the cell edges. The error is O(h^2). The
 * workspace is the caller's.
 */
#include <math.h>
#include <string.h>

#include "spot/model.h"

size_t spot_conv_work_doubles(size_t grid) { return 4 * grid; }

/* out[0..n) = (a * b)[0..n), truncated convolution; out must not alias a or b. */
static void convolve(const double *a, const double *b, double *out, size_t n) {
  for (size_t k = 0; k < n; k++) {
    double s = 0;
    for (size_t i = 0; i <= k; i++)
      s += a[i] * b[k - i];
    out[k] = s;
  }
}

/* Builds the lattice law of S on [0, top] into c->cdf and c->lpm, using scratch (2 grid doubles). */
static void build(spot_conv_t *c, double top, double *scratch) {
  size_t n = c->grid;
  double h = top / (double)(n - 1), *base = scratch, *tmp = scratch + n, *res = c->cdf, *spare = c->lpm;
  c->h = h;
  /* Mean-preserving (hat) weights: node j gets int (1 - |x/h - j|)+ dF(x), the second difference of L / h, so that
   * the lattice variable is R plus a noise of conditional mean 0 and the errors stay O(h^2) even where the
   * density jumps (Pareto at r_m, uniform at 2mu). */
  double lprev = 0, lcur = 0; /* L((j-1) h), L(j h) */
  for (size_t j = 0; j < n; j++) {
    double lnext = spot_dist_lpm(&c->dev, ((double)j + 1) * h);
    base[j] = (lnext - 2 * lcur + lprev) / h;
    if (j == 0)
      base[j] = lnext / h; /* the half hat at 0: int (1 - x/h)+ dF = L(h)/h */
    if (base[j] < 0)
      base[j] = 0;
    lprev = lcur;
    lcur = lnext;
  }
  memset(res, 0, n * sizeof *res);
  res[0] = 1;
  unsigned long long k = (unsigned long long)c->n;
  while (k) {
    if (k & 1) {
      convolve(res, base, spare, n);
      memcpy(res, spare, n * sizeof *res);
    }
    k >>= 1;
    if (k) {
      convolve(base, base, tmp, n);
      memcpy(base, tmp, n * sizeof *base);
    }
  }
  /* res holds the lattice masses: accumulate to the CDF at the nodes (j + 1/2) h, then integrate. */
  double cum = 0;
  for (size_t j = 0; j < n; j++) {
    cum += res[j];
    res[j] = cum > 1 ? 1 : cum;
  }
  /* L at the cell edges, exact for the lattice: L(y_k) = L(y_(k-1)) + h F(y_(k-1)) + (h/2) q_k = the trapezoid of
   * the edge CDF; below y_0 the lattice has F = q_0. */
  double l = 0.5 * h * res[0];
  c->lpm[0] = l;
  for (size_t j = 1; j < n; j++) {
    l += 0.5 * h * (res[j - 1] + res[j]);
    c->lpm[j] = l;
  }
}

int spot_conv_init(spot_conv_t *c, const spot_dist_t *dev, double n, size_t grid, double tail, double *work,
                   size_t nwork) {
  if (!(n >= 1) || n != floor(n) || n > 1e15)
    return SPOT_MODEL_EDEVICES;
  spot_conv_t x = {.dev = *dev, .n = n};
  if (dev->form == SPOT_DIST_EXPONENTIAL) {
    *c = x;
    return 0;
  }
  if (!(tail > 0 && tail < 1))
    return SPOT_MODEL_EPROB;
  if (grid < 16 || work == NULL || nwork < spot_conv_work_doubles(grid))
    return SPOT_MODEL_EWORK;
  x.grid = grid;
  x.cdf = work;
  x.lpm = work + grid;
  double mu = dev->mu, sd = mu;
  if (dev->form == SPOT_DIST_UNIFORM)
    sd = mu / sqrt(3.0);
  else if (dev->form == SPOT_DIST_FIXED)
    sd = 0;
  else if (dev->form == SPOT_DIST_PARETO && dev->alpha > 2)
    sd = dev->xm * sqrt(dev->alpha / (dev->alpha - 2)) / (dev->alpha - 1);
  double top = n * mu + 10 * sqrt(n) * sd + 2 * mu;
  if (dev->form == SPOT_DIST_UNIFORM && top > n * dev->xm)
    top = n * dev->xm * (1 + 1.0 / (double)grid); /* the support's end */
  for (int i = 0; i < 40; i++) {
    build(&x, top, work + 2 * grid);
    if (1 - x.cdf[grid - 1] <= tail)
      break;
    top *= 2;
  }
  *c = x;
  return 0;
}

/* Node j of the lattice is at (j + 1/2) h; interpolation below node 0 runs from F(0) = 0. */
static int locate(const spot_conv_t *c, double x, size_t *j, double *frac) {
  double pos = x / c->h - 0.5;
  if (pos > (double)(c->grid - 1))
    return SPOT_MODEL_EGRID;
  if (pos < 0) { /* within [0, h/2], where the lattice CDF is q_0 */
    *j = 0;
    *frac = 0;
    return 1;
  }
  size_t k = (size_t)pos;
  if (k >= c->grid - 1)
    k = c->grid - 2;
  *j = k;
  *frac = pos - (double)k;
  return 0;
}

int spot_conv_cdf(const spot_conv_t *c, double x, double *f) {
  if (x <= 0) {
    *f = 0;
    return 0;
  }
  if (c->grid == 0) {
    *f = spot_gamma_p(c->n, x / c->dev.mu);
    return 0;
  }
  size_t j;
  double t;
  int rc = locate(c, x, &j, &t);
  if (rc < 0)
    return rc;
  *f = rc == 1 ? c->cdf[0] : c->cdf[j] + t * (c->cdf[j + 1] - c->cdf[j]);
  return 0;
}

int spot_conv_lpm(const spot_conv_t *c, double x, double *l) {
  if (x <= 0) {
    *l = 0;
    return 0;
  }
  double m = c->n * c->dev.mu;
  if (c->grid == 0) {
    double y = x / c->dev.mu;
    if (x <= m)
      *l = x * spot_gamma_p(c->n, y) - m * spot_gamma_p(c->n + 1, y);
    else
      *l = (x - m) + (m * spot_gamma_q(c->n + 1, y) - x * spot_gamma_q(c->n, y));
    if (*l < 0)
      *l = 0;
    return 0;
  }
  size_t j;
  double t;
  int rc = locate(c, x, &j, &t);
  if (rc < 0)
    return rc;
  if (rc == 1) {
    *l = x * c->cdf[0];
    return 0;
  }
  double dx = t * c->h, fx = c->cdf[j] + t * (c->cdf[j + 1] - c->cdf[j]);
  *l = c->lpm[j] + 0.5 * dx * (c->cdf[j] + fx);
  return 0;
}

int spot_conv_upm(const spot_conv_t *c, double x, double *u) {
  double m = c->n * c->dev.mu;
  if (c->grid == 0 && x >= m) {
    double y = x / c->dev.mu, v = m * spot_gamma_q(c->n + 1, y) - x * spot_gamma_q(c->n, y);
    *u = v > 0 ? v : 0;
    return 0;
  }
  double l;
  int rc = spot_conv_lpm(c, x, &l);
  if (rc < 0)
    return rc;
  double v = l - (x - m);
  *u = v > 0 ? v : 0;
  return 0;
}

int spot_conv_quantile(const spot_conv_t *c, double p, double *x) {
  if (!(p > 0 && p < 1))
    return SPOT_MODEL_EPROB;
  if (c->grid == 0) {
    /* Safeguarded Newton on P(N, y) = p, y = x/mu. */
    double a = c->n, lo = 0, hi = a + 1;
    while (spot_gamma_p(a, hi) < p)
      hi *= 2;
    double y = a;
    if (y >= hi)
      y = hi / 2;
    for (int i = 0; i < 200; i++) {
      double f = spot_gamma_p(a, y) - p;
      if (f < 0)
        lo = y;
      else
        hi = y;
      double dens = exp((a - 1) * log(y) - y - lgamma(a));
      double ny = dens > 0 ? y - f / dens : 0.5 * (lo + hi);
      if (!(ny > lo && ny < hi))
        ny = 0.5 * (lo + hi);
      if (fabs(ny - y) <= 1e-15 * y) {
        y = ny;
        break;
      }
      y = ny;
    }
    *x = y * c->dev.mu;
    return 0;
  }
  const double *f = c->cdf;
  size_t n = c->grid;
  if (f[n - 1] < p)
    return SPOT_MODEL_EGRID;
  if (p <= f[0]) {
    *x = 0;
    return 0;
  }
  size_t lo = 0, hi = n - 1; /* f[lo] < p <= f[hi] */
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (f[mid] < p)
      lo = mid;
    else
      hi = mid;
  }
  double t = (p - f[lo]) / (f[hi] - f[lo]);
  *x = ((double)lo + 0.5 + t) * c->h;
  return 0;
}

int spot_conv_billing(const spot_conv_t *c, const spot_rates_t *r, double theta, double *b) {
  int rc = spot_rates_check(r);
  if (rc < 0)
    return rc;
  if (!(theta >= 0) || !isfinite(theta))
    return SPOT_MODEL_EQUOTA;
  double l, u;
  if ((rc = spot_conv_lpm(c, theta, &l)) < 0 || (rc = spot_conv_upm(c, theta, &u)) < 0)
    return rc;
  double x = r->b_t * c->n * c->dev.mu + r->b_i * l + r->b_a * u;
  if (!isfinite(x))
    return SPOT_MODEL_EOVERFLOW;
  *b = x;
  return 0;
}

int spot_conv_optimum(const spot_conv_t *c, const spot_rates_t *r, double *theta, double *bmin, double *badhoc,
                      double *saving) {
  int rc = spot_rates_check(r);
  if (rc < 0)
    return rc;
  double t, bm, ba;
  if ((rc = spot_conv_quantile(c, r->b_a / (r->b_a + r->b_i), &t)) < 0 ||
      (rc = spot_conv_billing(c, r, t, &bm)) < 0 || (rc = spot_conv_billing(c, r, c->n * c->dev.mu, &ba)) < 0)
    return rc;
  if (theta)
    *theta = t;
  if (bmin)
    *bmin = bm;
  if (badhoc)
    *badhoc = ba;
  if (saving)
    *saving = ba > 0 ? 1 - bm / ba : 0;
  return 0;
}
