/*
 * mc.c: Monte Carlo estimators of the closed forms, to check them and to show the user how far a finite sample
 * falls from them: the sample mean of K draws and its standard error, accumulated with Welford's update (no
 * cancellation however large K is).
 */
#include <math.h>

#include "spot/model.h"

typedef struct acc {
  double n, mean, m2;
} acc_t;

static inline void add(acc_t *a, double x) {
  a->n += 1;
  double d = x - a->mean;
  a->mean += d / a->n;
  a->m2 += d * (x - a->mean);
}

static spot_mc_t result(const acc_t *a) {
  spot_mc_t r = {.mean = a->mean, .se = sqrt(a->m2 / (a->n - 1) / a->n)};
  return r;
}

static inline double draw(const spot_dist_t *d, spot_sampler_t how, spot_rng_t *g) {
  return how == SPOT_SAMPLE_REJECT ? spot_sample_reject(d, g) : spot_sample_inverse(d, g);
}

int spot_mc_energy(const spot_dist_t *d, const spot_rates_t *r, double rho, spot_reading_t reading, uint64_t k,
                   spot_sampler_t how, spot_rng_t *g, spot_mc_t *e, spot_mc_t *v) {
  double emean;
  int rc = spot_energy_mean(d, r, rho, &emean);
  if (rc == 0 && v) {
    double dummy;
    rc = spot_energy_var(d, r, rho, reading, &dummy);
  }
  if (rc < 0)
    return rc;
  if (k < 2)
    return SPOT_MODEL_ESAMPLES;
  acc_t ae = {0, 0, 0}, av = {0, 0, 0};
  double ea = r->eps_a, ei = r->eps_i;
  for (uint64_t i = 0; i < k; i++) {
    double x = draw(d, how, g);
    add(&ae, ea * x + (x < rho ? ei * (rho - x) : 0));
    if (v) {
      double dev = reading == SPOT_VAR_V1 ? ea * (x - rho) : ea * x - emean;
      add(&av, x > rho ? dev * dev : 0);
    }
  }
  spot_mc_t re = result(&ae), rv = result(&av);
  if (!isfinite(re.mean) || !isfinite(re.se) || (v && (!isfinite(rv.mean) || !isfinite(rv.se))))
    return SPOT_MODEL_EOVERFLOW; /* sums of squares beyond a double */
  if (e)
    *e = re;
  if (v)
    *v = rv;
  return 0;
}

int spot_mc_billing(const spot_dist_t *d, double n, int conv, const spot_rates_t *r, double theta, uint64_t k,
                    spot_sampler_t how, spot_rng_t *g, spot_mc_t *b) {
  int rc = spot_rates_check(r);
  if (rc < 0)
    return rc;
  if (!(theta >= 0) || !isfinite(theta))
    return SPOT_MODEL_EQUOTA;
  if (!(n >= 1) || !isfinite(n) || (conv && n != floor(n)))
    return SPOT_MODEL_EDEVICES;
  if (k < 2)
    return SPOT_MODEL_ESAMPLES;
  acc_t a = {0, 0, 0};
  uint64_t nn = (uint64_t)n;
  for (uint64_t i = 0; i < k; i++) {
    double s = 0;
    if (conv)
      for (uint64_t j = 0; j < nn; j++)
        s += draw(d, how, g);
    else
      s = n * draw(d, how, g);
    add(&a, r->b_t * s + (s < theta ? r->b_i * (theta - s) : r->b_a * (s - theta)));
  }
  spot_mc_t rb = result(&a);
  if (!isfinite(rb.mean) || !isfinite(rb.se))
    return SPOT_MODEL_EOVERFLOW;
  *b = rb;
  return 0;
}
