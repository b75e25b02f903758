/*
 * sample.c: random numbers (xoshiro256** seeded by splitmix64, state owned by the caller) and draws of a device
 * volume by inversion of the CDF or by acceptance-rejection, for the Monte Carlo checks of the closed forms.
 */
#include <math.h>

#include "spot/model.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void spot_rng_seed(spot_rng_t *g, uint64_t seed) {
  for (int i = 0; i < 4; i++)
    g->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t spot_rng_next(spot_rng_t *g) {
  uint64_t *s = g->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double spot_rng_uniform(spot_rng_t *g) {
  /* (k + 1/2) / 2^53 for a 53-bit k: never 0 nor 1. */
  return ((double)(spot_rng_next(g) >> 11) + 0.5) * 0x1.0p-53;
}

double spot_sample_inverse(const spot_dist_t *d, spot_rng_t *g) {
  double u = spot_rng_uniform(g);
  switch (d->form) {
  case SPOT_DIST_UNIFORM:
    return u * d->xm;
  case SPOT_DIST_EXPONENTIAL:
    return -d->mu * log(u); /* 1 - U has the law of U */
  case SPOT_DIST_PARETO:
    return d->xm * exp(-log(u) / d->alpha);
  case SPOT_DIST_FIXED:
    return d->mu;
  }
  return NAN;
}

double spot_sample_reject(const spot_dist_t *d, spot_rng_t *g) {
  for (;;) {
    double u1 = spot_rng_uniform(g), u2 = spot_rng_uniform(g), x;
    switch (d->form) {
    case SPOT_DIST_UNIFORM: /* proposal U[0, 4mu], P/(2g) = 1 on [0, 2mu], 0 above */
      x = 2 * d->xm * u1;
      if (x <= d->xm)
        return x;
      break;
    case SPOT_DIST_EXPONENTIAL: /* proposal of mean 2mu, P/(2g) = exp(-x/(2mu)) */
      x = -2 * d->mu * log(u1);
      if (u2 <= exp(-x / (2 * d->mu)))
        return x;
      break;
    case SPOT_DIST_PARETO: /* proposal of shape alpha/2, P/(2g) = (r_m/x)^(alpha/2) = u1 */
      x = d->xm * exp(-2 * log(u1) / d->alpha);
      if (u2 <= u1)
        return x;
      break;
    case SPOT_DIST_FIXED:
      return d->mu;
    default:
      return NAN;
    }
  }
}
