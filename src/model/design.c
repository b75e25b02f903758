/*
 * design.c: the joint energy-then-billing design of (22) for the shaped aggregate: the device's threshold (or
 * volume) from the energy target, then the cloud's optimal quota, minimum billing and saving, then the devices one
 * aggregator takes for a billing target.
 */
#include <math.h>

#include "spot/model.h"

int spot_design_run(spot_design_t *x, const spot_rates_t *r) {
  spot_design_t y = *x;
  spot_dist_t d, s;
  int rc = spot_rates_check(r);
  if (rc < 0)
    return rc;
  if (!(y.n >= 1) || !isfinite(y.n))
    return SPOT_MODEL_EDEVICES;
  if (y.billing < 0 || !isfinite(y.billing))
    return SPOT_MODEL_EBILLING;
  if (y.mu > 0) {
    if ((rc = spot_dist_init(&d, y.kind, y.mu, y.alpha)) < 0 ||
        (rc = spot_energy_threshold(&d, r, y.energy, &y.threshold_bits)) < 0)
      return rc;
    y.volume_bits = y.mu;
  } else {
    if (y.mu < 0 || isnan(y.mu))
      return SPOT_MODEL_EMU;
    if ((rc = spot_energy_volume(y.kind, y.alpha, r, y.energy, y.rho, &y.volume_bits)) < 0 ||
        (rc = spot_dist_init(&d, y.kind, y.volume_bits, y.alpha)) < 0)
      return rc;
    y.threshold_bits = y.rho;
  }
  if ((rc = spot_energy_mean(&d, r, y.threshold_bits, &y.energy_j)) < 0)
    return rc;
  rc = spot_energy_var(&d, r, y.threshold_bits, y.reading, &y.variability_j2);
  if (rc == SPOT_MODEL_EALPHA2)
    y.variability_j2 = HUGE_VAL;
  else if (rc < 0)
    return rc;
  if ((rc = spot_dist_shaped(&s, &d, y.n)) < 0 ||
      (rc = spot_billing_optimum(&s, r, &y.quota_bits, &y.billing_min_usd)) < 0 ||
      (rc = spot_billing(&s, r, s.mu, &y.billing_adhoc_usd)) < 0 || (rc = spot_billing_saving(&s, r, &y.saving_fraction)) < 0)
    return rc;
  y.billing_target_usd = y.billing > 0 ? y.billing : y.billing_adhoc_usd;
  if ((rc = spot_billing_devices(&d, r, y.billing_target_usd, &y.devices_real)) < 0)
    return rc;
  y.devices = floor(y.devices_real);
  *x = y;
  return 0;
}
