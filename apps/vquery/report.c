/*
 * apps/vquery/report.c: the experiment's measured-against-predicted arithmetic (report.h).
 *
 * Every figure is compared twice. `predicted` is the model evaluated on what the run actually did: each device
 * interval's whole-query bits q and idle bits (rho - q)+ times the device's calibrated rates, and each interval's
 * billed volume S through the two meters; it checks the physics (metering, calibration, the tiers' bookkeeping),
 * and must agree within a few percent. `closed_form` is the law's value for whole queries, Q = b*ceil(R/b)
 * (quant.c); with the run's standard error it gives z, which checks the statistics (the sampler and the closed
 * forms). `closed_form_continuous` is MODEL.md's value for the continuous R, for reference: the gap between the
 * two is the cost of sending whole queries. Billing of the aggregate of N quantised devices has no closed form:
 * it is a Monte Carlo over p->mc_samples intervals of N draws with spot's samplers, reported with its own error.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <spot/error.h>

#include "report.h"

#define B ((double)VQ_QUERY_BITS)

static void cmp_finish(vq_cmp_t *c) {
  c->rel_err = c->predicted != 0 ? (c->measured - c->predicted) / c->predicted : NAN;
  double ms = isfinite(c->law_se) ? fmax(c->measured_se, c->law_se) : c->measured_se;
  double ps = isfinite(c->law_se) ? fmax(c->predicted_se, c->law_se) : c->predicted_se;
  double se = sqrt(ms * ms + c->closed_se * c->closed_se);
  c->z = se > 0 ? (c->measured - c->closed_form) / se : NAN;
  double sp = sqrt(ps * ps + c->closed_se * c->closed_se);
  c->z_predicted = sp > 0 ? (c->predicted - c->closed_form) / sp : NAN;
  c->z_physics = c->physics_se > 0 ? (c->measured - c->predicted) / c->physics_se : NAN;
}

static vq_cmp_t cmp_nan(void) {
  vq_cmp_t c = {NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
  return c;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The q-quantile of sorted x[0..n) (nearest rank). */
static double quantile_sorted(const double *x, size_t n, double q) {
  if (n == 0)
    return NAN;
  size_t i = (size_t)ceil(q * (double)n);
  return x[i == 0 ? 0 : i - 1];
}

static const vq_calib_rec_t *calib_of(const vq_params_t *p, const vq_data_t *d, uint32_t dev) {
  if (dev >= p->devices || d->calib[dev].version == 0)
    return NULL;
  return &d->calib[dev];
}

/* One interval's measured sample of V+ (MODEL.md 3.2, V1): the square of the interval's energy above the energy of
 * the threshold, E_k - E(rho). Above the threshold (q > rho) that is the metered energy of the work beyond rho
 * bits (the device's over_j), eps_a (q - rho) as the meter saw it: the meter alone, no calibrated rate in it. The
 * older estimate E_k - eps_a rho mixed the meter with the calibration: when a query cost c times its calibrated
 * cost during the run, it measured eps_a (c q - rho), and a few percent in c became tens of percent in V+ (for
 * q = 3, rho = 2 queries: c = 1.05 gave +32%). Below the threshold the device did (rho - q) bit-equivalents of idle
 * work instead of active work: E_k - E(rho) = idle energy - eps_a (rho - q), positive only when idling costs more
 * than querying (eps_i > eps_a). */
static double measured_vplus(const vq_calib_rec_t *c, double rho, const vq_device_rec_t *m) {
  double x = m->active_bits > rho ? m->over_j : m->idle_j - c->eps_a * (rho - m->active_bits);
  return x > 0 ? x * x : 0;
}

/* Energy and V+ of the device intervals: measured, on the drawn volumes, and (law != NULL) the closed forms. */
static int energy_figures(const vq_params_t *p, const vq_data_t *d, const spot_dist_t *law, vq_cmp_t *e,
                          vq_cmp_t *v) {
  size_t n = d->nmeter;
  double *x = malloc(6 * n * sizeof *x);
  double *ce = calloc(7 * (size_t)p->devices, sizeof *ce);
  if (x == NULL || ce == NULL) {
    free(x), free(ce);
    return SPOT_ENOMEM;
  }
  /* per device, after the closed forms: the sums of the predicted active energy, idle energy and V+ of its
   * intervals, for the calibration's share of the physics' noise */
  double *sums = ce + 4 * (size_t)p->devices;
  /* per device: quantised mean, V+, continuous mean, V+ (NAN until computed) */
  for (size_t i = 0; i < 4 * (size_t)p->devices; i++)
    ce[i] = NAN;
  double se_c = 0, sv_c = 0, se_q = 0, sv_q = 0;
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    const vq_device_rec_t *m = &d->meter[i];
    const vq_calib_rec_t *c = calib_of(p, d, m->device);
    if (c == NULL) {
      rc = SPOT_EINVAL;
      break;
    }
    double pe = vq_energy_of(c->eps_a, c->eps_i, p->rho, m->active_bits);
    x[i] = m->energy_j;
    x[n + i] = measured_vplus(c, p->rho, m);
    x[2 * n + i] = pe;
    x[3 * n + i] = vq_vplus_of(c->eps_a, p->rho, pe);
    sums[3 * (size_t)m->device] += c->eps_a * m->active_bits;
    sums[3 * (size_t)m->device + 1] += pe - c->eps_a * m->active_bits;
    sums[3 * (size_t)m->device + 2] += x[3 * n + i];
    if (law) {
      double *cd = &ce[4 * (size_t)m->device];
      if (isnan(cd[0])) {
        spot_rates_t r;
        spot_rates_default(&r);
        r.eps_a = c->eps_a, r.eps_i = c->eps_i;
        if ((rc = vq_quant_energy(law, B, c->eps_a, c->eps_i, p->rho, &cd[0], &cd[1])) < 0)
          break;
        if ((rc = spot_energy_mean(law, &r, p->rho, &cd[2])) < 0)
          break;
        if (spot_energy_var(law, &r, p->rho, SPOT_VAR_V1, &cd[3]) < 0)
          cd[3] = INFINITY; /* a Pareto with alpha <= 2 */
      }
      se_q += cd[0], sv_q += cd[1], se_c += cd[2], sv_c += cd[3];
    }
  }
  if (rc == 0) {
    vq_est_t me = vq_est_of(x, n), mv = vq_est_of(x + n, n);
    *e = cmp_nan(), *v = cmp_nan();
    e->measured = me.mean, e->measured_se = me.se;
    v->measured = mv.mean, v->measured_se = mv.se;
    vq_est_t pe = vq_est_of(x + 2 * n, n), pv = vq_est_of(x + 3 * n, n);
    e->predicted = pe.mean, e->predicted_se = pe.se;
    v->predicted = pv.mean, v->predicted_se = pv.se;
    /* the physics' own noise: measured - predicted interval by interval (the same volumes on both sides) */
    for (size_t i = 0; i < n; i++)
      x[4 * n + i] = x[i] - x[2 * n + i], x[5 * n + i] = x[n + i] - x[3 * n + i];
    e->physics_se = vq_est_of(x + 4 * n, n).se, v->physics_se = vq_est_of(x + 5 * n, n).se;
    /* and the calibration's: a rate is a mean over the calibration's units, with a relative standard error of
     * (sd / mean) / sqrt(units); the prediction carries it (V+ twice, as eps_a^2), independently per device */
    double ce2 = 0, cv2 = 0;
    for (uint32_t dev = 0; dev < p->devices; dev++) {
      const vq_calib_rec_t *c = calib_of(p, d, dev);
      if (c == NULL || c->active_frames < 2 || c->idle_units < 2 || !(c->active_cpu_s > 0) || !(c->idle_cpu_s > 0))
        continue;
      double ra = c->active_cpu_sd_s / c->active_cpu_s / sqrt((double)c->active_frames);
      double ri = c->idle_cpu_sd_s / c->idle_cpu_s / sqrt((double)c->idle_units);
      const double *sd = &sums[3 * (size_t)dev];
      ce2 += (ra * sd[0]) * (ra * sd[0]) + (ri * sd[1]) * (ri * sd[1]);
      cv2 += (2 * ra * sd[2]) * (2 * ra * sd[2]);
    }
    double nn = (double)n * (double)n;
    e->physics_se = sqrt(e->physics_se * e->physics_se + ce2 / nn);
    v->physics_se = sqrt(v->physics_se * v->physics_se + cv2 / nn);
    if (law) {
      e->closed_form = se_q / (double)n, v->closed_form = sv_q / (double)n;
      e->closed_form_continuous = se_c / (double)n, v->closed_form_continuous = sv_c / (double)n;
      e->closed_se = v->closed_se = 0;
    }
    cmp_finish(e);
    cmp_finish(v);
  }
  free(x);
  free(ce);
  return rc;
}

/* The meters over intervals 0..K-1: billing at theta of the volumes s[] (instances of interval t set by t-1, the
 * first interval's given), into bm[] and bi[]. */
static void rebill(const vq_bill_t *b, const double *s, size_t k, double theta, uint32_t first, double *bm,
                   double *bi) {
  for (size_t t = 0; t < k; t++) {
    bm[t] = vq_bill_model(b, s[t], theta);
    bi[t] = vq_bill_instance_usd(b, t == 0 ? first : vq_bill_instances(b, s[t - 1], theta));
  }
}

/* Closed forms of the billing at theta for the shaped continuous law: model meter and instance meter. */
static int billing_continuous(const vq_params_t *p, const spot_dist_t *law, double theta, double *model,
                              double *inst) {
  spot_dist_t s;
  spot_rates_t r;
  spot_rates_default(&r);
  r.b_t = p->bill.b_t, r.b_i = p->bill.b_i, r.b_a = p->bill.b_a;
  int rc = spot_dist_shaped(&s, law, p->devices);
  if (rc == 0)
    rc = spot_billing(&s, &r, theta, model);
  if (rc == 0) {
    double up = spot_dist_sf(&s, theta); /* P(S >= theta): the next interval runs the active instances */
    *inst = vq_bill_instance_usd(&p->bill, p->bill.idle_instances) +
            (vq_bill_instance_usd(&p->bill, p->bill.active_instances) -
             vq_bill_instance_usd(&p->bill, p->bill.idle_instances)) *
                fmin(up, 1);
  }
  return rc;
}

/* Billing figures: measured (the cloud's log), predicted (the devices' volumes), closed forms of the law. */
static int billing_figures(const vq_params_t *p, const vq_data_t *d, const spot_dist_t *law, vq_report_t *r) {
  size_t k = p->intervals;
  double *v = calloc(12 * k + 1, sizeof *v);
  double *mc = NULL;
  if (v == NULL)
    return SPOT_ENOMEM;
  double *s_meas = v, *s_pred = v + k, *bm = v + 2 * k, *bi = v + 3 * k, *pm = v + 4 * k, *pi = v + 5 * k;
  double *am = v + 6 * k, *ai = v + 7 * k, *apm = v + 8 * k, *api = v + 9 * k;
  uint8_t *seen = (uint8_t *)(v + 10 * k);
  int rc = 0;
  uint32_t first = p->bill.idle_instances;
  r->instances_min = UINT32_MAX, r->instances_max = 0, r->billed_intervals = 0;
  for (size_t i = 0; i < d->nbilling; i++) {
    const vq_billing_rec_t *b = &d->billing[i];
    if (b->interval >= k)
      continue;
    s_meas[b->interval] = b->volume_bits;
    bm[b->interval] = b->model_usd;
    bi[b->interval] = b->instance_usd;
    seen[b->interval] = 1;
    if (b->interval == 0)
      first = b->instances;
    if (b->instances < r->instances_min)
      r->instances_min = b->instances;
    if (b->instances > r->instances_max)
      r->instances_max = b->instances;
  }
  double sent_bits = 0, billed_bits = 0;
  r->late_queries = 0;
  for (size_t i = 0; i < d->nmeter; i++)
    if (d->meter[i].interval < k) {
      s_pred[d->meter[i].interval] += d->meter[i].active_bits;
      sent_bits += d->meter[i].active_bits;
    }
  for (size_t t = 0; t < k; t++)
    billed_bits += seen[t] ? s_meas[t] : 0;
  for (size_t i = 0; i < d->nbilling; i++)
    if (d->billing[i].interval < k)
      r->late_queries += d->billing[i].late_queries;
  r->unbilled = sent_bits > billed_bits ? (uint64_t)llround((sent_bits - billed_bits) / B) : 0;
  /* only the intervals the cloud billed count (a killed cloud bills late, not never: the report says if not) */
  size_t nb = 0;
  r->volume_mismatch = 0;
  for (size_t t = 0; t < k; t++) {
    if (!seen[t])
      continue;
    s_meas[nb] = s_meas[t], s_pred[nb] = s_pred[t], bm[nb] = bm[t], bi[nb] = bi[t];
    r->volume_mismatch = fmax(r->volume_mismatch, fabs(s_meas[nb] - s_pred[nb]));
    nb++;
  }
  r->billed_intervals = (uint32_t)nb;
  if (nb == 0)
    r->instances_min = 0;
  r->billing = cmp_nan(), r->billing_instance = cmp_nan();
  if (nb < 1)
    goto done;
  vq_est_t e = vq_est_of(bm, nb), ei = vq_est_of(bi, nb);
  r->billing.measured = e.mean, r->billing.measured_se = e.se;
  r->billing_instance.measured = ei.mean, r->billing_instance.measured_se = ei.se;
  rebill(&p->bill, s_pred, nb, p->theta, first, pm, pi);
  vq_est_t ep = vq_est_of(pm, nb), eip = vq_est_of(pi, nb);
  r->billing.predicted = ep.mean, r->billing.predicted_se = ep.se;
  r->billing_instance.predicted = eip.mean, r->billing_instance.predicted_se = eip.se;
  if (law) {
    vq_est_t cm, ci;
    if ((rc = vq_quant_sample_s(law, p->devices, B, p->mc_samples, p->sampler, p->seed ^ 0x5eedb111, &mc)) < 0)
      goto done;
    if ((rc = vq_bill_estimate(&p->bill, mc, p->mc_samples, p->theta, &cm, &ci)) < 0)
      goto done;
    double k_n = sqrt((double)p->mc_samples / (double)nb); /* Monte Carlo se -> se of a mean over nb intervals */
    r->billing.closed_form = cm.mean, r->billing.closed_se = cm.se, r->billing.law_se = cm.se * k_n;
    r->billing_instance.closed_form = ci.mean, r->billing_instance.closed_se = ci.se;
    r->billing_instance.law_se = ci.se * k_n;
    if ((rc = billing_continuous(p, law, p->theta, &r->billing.closed_form_continuous,
                                 &r->billing_instance.closed_form_continuous)) < 0)
      goto done;
    r->billing_closed_method = "Monte Carlo over intervals of N devices drawn with spot's sampler, whole queries";
  }
  cmp_finish(&r->billing);
  cmp_finish(&r->billing_instance);
  if (!r->has_compare)
    goto done;
  /* the same volumes at theta = N mu: both meters recomputed (the billing of an interval is a function of S and
   * theta; instances follow the previous interval's S) */
  double ta = p->theta_adhoc;
  rebill(&p->bill, s_meas, nb, ta, first, am, ai);
  rebill(&p->bill, s_pred, nb, ta, first, apm, api);
  r->billing_adhoc = cmp_nan(), r->billing_instance_adhoc = cmp_nan();
  r->saving = cmp_nan(), r->saving_instance = cmp_nan();
  e = vq_est_of(am, nb), ei = vq_est_of(ai, nb);
  r->billing_adhoc.measured = e.mean, r->billing_adhoc.measured_se = e.se;
  r->billing_instance_adhoc.measured = ei.mean, r->billing_instance_adhoc.measured_se = ei.se;
  ep = vq_est_of(apm, nb), eip = vq_est_of(api, nb);
  r->billing_adhoc.predicted = ep.mean, r->billing_adhoc.predicted_se = ep.se;
  r->billing_instance_adhoc.predicted = eip.mean, r->billing_instance_adhoc.predicted_se = eip.se;
  e = vq_est_saving(bm, am, nb), ei = vq_est_saving(bi, ai, nb);
  r->saving.measured = e.mean, r->saving.measured_se = e.se;
  r->saving_instance.measured = ei.mean, r->saving_instance.measured_se = ei.se;
  ep = vq_est_saving(pm, apm, nb), eip = vq_est_saving(pi, api, nb);
  r->saving.predicted = ep.mean, r->saving.predicted_se = ep.se;
  r->saving_instance.predicted = eip.mean, r->saving_instance.predicted_se = eip.se;
  if (law && mc) {
    vq_est_t cm, ci, sm, si;
    if ((rc = vq_bill_estimate(&p->bill, mc, p->mc_samples, ta, &cm, &ci)) < 0 ||
        (rc = vq_bill_saving(&p->bill, mc, p->mc_samples, p->theta, ta, &sm, &si)) < 0)
      goto done;
    double k_n = sqrt((double)p->mc_samples / (double)nb);
    r->billing_adhoc.closed_form = cm.mean, r->billing_adhoc.closed_se = cm.se, r->billing_adhoc.law_se = cm.se * k_n;
    r->billing_instance_adhoc.closed_form = ci.mean, r->billing_instance_adhoc.closed_se = ci.se;
    r->billing_instance_adhoc.law_se = ci.se * k_n;
    r->saving.closed_form = sm.mean, r->saving.closed_se = sm.se, r->saving.law_se = sm.se * k_n;
    r->saving_instance.closed_form = si.mean, r->saving_instance.closed_se = si.se;
    r->saving_instance.law_se = si.se * k_n;
    if ((rc = billing_continuous(p, law, ta, &r->billing_adhoc.closed_form_continuous,
                                 &r->billing_instance_adhoc.closed_form_continuous)) < 0)
      goto done;
    r->saving.closed_form_continuous = 1 - r->billing.closed_form_continuous / r->billing_adhoc.closed_form_continuous;
    r->saving_instance.closed_form_continuous =
        1 - r->billing_instance.closed_form_continuous / r->billing_instance_adhoc.closed_form_continuous;
  }
  cmp_finish(&r->billing_adhoc);
  cmp_finish(&r->billing_instance_adhoc);
  cmp_finish(&r->saving);
  cmp_finish(&r->saving_instance);
done:
  free(mc);
  free(v);
  return rc;
}

static void latency_figures(const vq_data_t *d, vq_report_t *r) {
  r->answered = d->nlat, r->with_truth = 0, r->correct = 0;
  r->latency_p50_ms = r->latency_p99_ms = r->recall_at_1 = NAN;
  double *ms = malloc((d->nlat + 1) * sizeof *ms);
  if (ms == NULL)
    return;
  for (size_t i = 0; i < d->nlat; i++) {
    const vq_latency_rec_t *l = &d->lat[i];
    ms[i] = (double)(l->received_ns - l->put_ns) / 1e6;
    if (l->truth >= 0) {
      r->with_truth++;
      r->correct += l->match == l->truth;
    }
  }
  qsort(ms, d->nlat, sizeof *ms, cmp_double);
  r->latency_p50_ms = quantile_sorted(ms, d->nlat, 0.5);
  r->latency_p99_ms = quantile_sorted(ms, d->nlat, 0.99);
  if (r->with_truth)
    r->recall_at_1 = (double)r->correct / (double)r->with_truth;
  free(ms);
}

/* Fits a law to the run's volumes and sets what its closed forms predict (real mode). */
static int fitted_figures(const vq_params_t *p, const vq_data_t *d, const vq_report_t *r, spot_dist_kind_t kind,
                          vq_fitted_t *f) {
  memset(f, 0, sizeof *f);
  size_t n = d->nmeter;
  double *x = malloc((n + 1) * sizeof *x);
  if (x == NULL)
    return SPOT_ENOMEM;
  for (size_t i = 0; i < n; i++)
    x[i] = d->meter[i].active_bits;
  int rc = kind == SPOT_DIST_PARETO ? vq_fit_pareto(x, n, &f->fit) : vq_fit_exponential(x, n, &f->fit);
  free(x);
  if (rc < 0)
    return 0; /* no fit (too few volumes): f->ok stays 0 and the report says so */
  f->fitted = 1;
  spot_dist_t law;
  if (spot_dist_init(&law, kind, f->fit.mu, f->fit.alpha) < 0)
    return 0; /* fitted, but the model has no law for it (a Pareto alpha <= 1: no finite mean): the report says so */
  f->ok = 1;
  vq_params_t q = *p;
  q.kind = kind, q.mu = f->fit.mu, q.alpha = f->fit.alpha;
  if ((rc = energy_figures(&q, d, &law, &f->energy, &f->vplus)) < 0)
    return rc;
  vq_report_t tmp;
  memset(&tmp, 0, sizeof tmp);
  if ((rc = billing_figures(&q, d, &law, &tmp)) < 0)
    return rc;
  f->billing = tmp.billing;
  (void)r;
  return 0;
}

int vq_report_compute(const vq_params_t *p, const vq_data_t *d, vq_report_t *out) {
  if (d->nmeter == 0 || p->devices == 0 || p->intervals == 0)
    return SPOT_EINVAL;
  vq_report_t r;
  memset(&r, 0, sizeof r);
  r.has_compare = p->quota == VQ_QUOTA_COMPARE;
  r.billing_closed_method = "none (real mode: see the fitted laws)";
  spot_dist_t law, *lp = NULL;
  int rc;
  if (p->controlled) {
    if ((rc = spot_dist_init(&law, p->kind, p->mu, p->alpha)) < 0)
      return rc;
    lp = &law;
  }
  /* calibration: the devices' mean rates and query time */
  uint32_t nc = 0;
  for (uint32_t i = 0; i < p->devices; i++)
    if (d->calib[i].version) {
      r.eps_a += d->calib[i].eps_a, r.eps_i += d->calib[i].eps_i, r.query_cpu_s += d->calib[i].active_cpu_s;
      if (d->calib[i].active_cpu_s > 0)
        r.query_cpu_cv += d->calib[i].active_cpu_sd_s / d->calib[i].active_cpu_s;
      nc++;
    }
  if (nc == 0)
    return SPOT_EINVAL;
  r.eps_a /= nc, r.eps_i /= nc, r.query_cpu_s /= nc, r.query_cpu_cv /= nc;
  if ((rc = energy_figures(p, d, lp, &r.energy, &r.vplus)) < 0)
    return rc;
  if ((rc = billing_figures(p, d, lp, &r)) < 0)
    return rc;
  latency_figures(d, &r);
  for (size_t i = 0; i < d->nmeter; i++) {
    r.queries += d->meter[i].queries;
    r.overruns += d->meter[i].overrun != 0;
  }
  r.device_intervals = (uint32_t)d->nmeter;
  r.unanswered = r.queries > r.answered ? r.queries - r.answered : 0;
  r.concurrency_max = r.instances_max < p->cores ? r.instances_max : p->cores;
  /* choosing T: the largest likely interval's work, devices sharing the cores */
  if (lp)
    r.q99_queries = vq_quant_quantile(lp, B, 0.99);
  else {
    double *q = malloc(d->nmeter * sizeof *q);
    if (q == NULL)
      return SPOT_ENOMEM;
    for (size_t i = 0; i < d->nmeter; i++)
      q[i] = d->meter[i].queries;
    qsort(q, d->nmeter, sizeof *q, cmp_double);
    r.q99_queries = (uint64_t)quantile_sorted(q, d->nmeter, 0.99);
    free(q);
  }
  double idle_s_per_bit = 0;
  for (uint32_t i = 0; i < p->devices; i++)
    if (d->calib[i].version && d->calib[i].idle_unit_bits > 0)
      idle_s_per_bit += d->calib[i].idle_cpu_s / d->calib[i].idle_unit_bits / nc;
  r.calib_idle_cpu_s_per_bit = idle_s_per_bit;
  double acpu = 0, icpu = 0, qn = 0, ibits = 0;
  for (size_t i = 0; i < d->nmeter; i++) {
    acpu += d->meter[i].active_cpu_s, qn += d->meter[i].queries;
    icpu += d->meter[i].idle_cpu_s, ibits += d->meter[i].idle_bits;
  }
  r.run_query_cpu_s = qn > 0 ? acpu / qn : NAN;
  { /* the run's spread of one query's CPU time, from interval means: Var(mean of q) = sigma^2 / q */
    double s2 = 0, w = 0;
    for (size_t i = 0; i < d->nmeter; i++)
      if (d->meter[i].queries > 0) {
        double dev = d->meter[i].active_cpu_s / d->meter[i].queries - r.run_query_cpu_s;
        s2 += d->meter[i].queries * dev * dev, w += 1;
      }
    r.run_query_cpu_cv = w > 1 && r.run_query_cpu_s > 0 ? sqrt(s2 / (w - 1)) / r.run_query_cpu_s : NAN;
  }
  r.run_idle_cpu_s_per_bit = ibits > 0 ? icpu / ibits : NAN;
  double share = p->cores > 0 && p->devices > p->cores ? (double)p->devices / p->cores : 1;
  double q99_bits = (double)r.q99_queries * B;
  r.t_needed_s = ((double)r.q99_queries * r.query_cpu_s + fmax(p->rho - q99_bits, 0) * idle_s_per_bit) * share;
  if (!p->controlled) {
    if ((rc = fitted_figures(p, d, &r, SPOT_DIST_EXPONENTIAL, &r.fit_exp)) < 0 ||
        (rc = fitted_figures(p, d, &r, SPOT_DIST_PARETO, &r.fit_par)) < 0)
      return rc;
  }
  *out = r;
  return 0;
}

void vq_data_free(vq_data_t *d) {
  free(d->calib);
  free(d->meter);
  free(d->billing);
  free(d->lat);
  free(d->trace);
  memset(d, 0, sizeof *d);
}
