/*
 * apps/vquery/volume.c: the query volume of a device's interval in controlled mode: a draw from the law (spot's
 * model API: spot_dist_init and the inverse-CDF or rejection sampler, with a generator per device), whole queries
 * carrying it, and the split of idle bit-equivalents into idle units.
 */
#include <math.h>
#include <string.h>

#include "device.h"
#include "tiers.h"
#include "vquery.h"

int vq_volume_init(vq_volume_t *v, const char *dist, double mu, double alpha, const char *sampler, uint64_t seed,
                   uint32_t device) {
  spot_dist_kind_t kind;
  int rc = spot_dist_parse(dist, &kind);
  if (rc == 0 && kind == SPOT_DIST_FIXED)
    rc = SPOT_MODEL_EDIST;
  if (rc != 0)
    return vq_tiers_fail(SPOT_EINVAL, "--dist %s: use uniform, exponential or pareto", dist);
  vq_volume_t out;
  memset(&out, 0, sizeof out);
  if ((rc = spot_dist_init(&out.dist, kind, mu, alpha)) != 0)
    return vq_tiers_fail(SPOT_EINVAL, "--dist %s --mu %g --alpha %g: %s", dist, mu, alpha, spot_model_strerror(rc));
  if (sampler == NULL || strcmp(sampler, "inverse") == 0)
    out.sampler = SPOT_SAMPLE_INVERSE;
  else if (strcmp(sampler, "reject") == 0)
    out.sampler = SPOT_SAMPLE_REJECT;
  else
    return vq_tiers_fail(SPOT_EINVAL, "--sampler %s: use inverse or reject", sampler);
  /* one stream per device: the seed and the device index, mixed (spot_rng_seed runs splitmix64 over it) */
  spot_rng_seed(&out.rng, seed ^ (0x9e3779b97f4a7c15ull * ((uint64_t)device + 1)));
  *v = out;
  return 0;
}

double vq_volume_draw(vq_volume_t *v) {
  double r = v->sampler == SPOT_SAMPLE_REJECT ? spot_sample_reject(&v->dist, &v->rng)
                                              : spot_sample_inverse(&v->dist, &v->rng);
  return r > 0 && isfinite(r) ? r : 0;
}

uint32_t vq_volume_queries(double r) {
  if (!(r > 0))
    return 0;
  double q = ceil(r / VQ_QUERY_BITS);
  return q >= 4e9 ? 4000000000u : (uint32_t)q;
}

void vq_idle_split(double bits, double unit_bits, uint64_t *whole, double *frac) {
  if (!(bits > 0) || !(unit_bits > 0)) {
    *whole = 0;
    *frac = 0;
    return;
  }
  double u = bits / unit_bits, w = floor(u);
  *whole = (uint64_t)w;
  *frac = u - w;
}
