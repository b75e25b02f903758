/*
 * apps/vquery/report_out.c: prints the experiment's report (report.h): a table of measured against predicted for
 * people, or one JSON object (issue 10's keys: energy_mean_j, variability_j2, billing_usd, saving_fraction, each
 * {"measured","predicted","rel_err","closed_form","closed_form_continuous","z"}, and recall_at_1, queries,
 * latency_p50_ms, latency_p99_ms, overruns, theta, instances, the run's parameters).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

static const char *quota_name(vq_quota_mode_t q) {
  switch (q) {
  case VQ_QUOTA_OPTIMAL:
    return "optimal";
  case VQ_QUOTA_ADHOC:
    return "adhoc";
  case VQ_QUOTA_COMPARE:
    return "compare";
  default:
    return "bits";
  }
}

/* ---- JSON ---- */

static void jnum(FILE *f, const char *key, double v, int comma) {
  if (isfinite(v))
    fprintf(f, "\"%s\":%.10g", key, v);
  else
    fprintf(f, "\"%s\":null", key);
  if (comma)
    fputc(',', f);
}

static void jstr(FILE *f, const char *key, const char *s, int comma) {
  fprintf(f, "\"%s\":\"", key);
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c == '\n')
      fputs("\\n", f);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
  if (comma)
    fputc(',', f);
}

static void jcmp(FILE *f, const char *key, const vq_cmp_t *c, int comma) {
  fprintf(f, "\"%s\":{", key);
  jnum(f, "measured", c->measured, 1);
  jnum(f, "measured_se", c->measured_se, 1);
  jnum(f, "predicted", c->predicted, 1);
  jnum(f, "predicted_se", c->predicted_se, 1);
  jnum(f, "rel_err", c->rel_err, 1);
  jnum(f, "closed_form", c->closed_form, 1);
  jnum(f, "closed_form_se", c->closed_se, 1);
  jnum(f, "closed_form_continuous", c->closed_form_continuous, 1);
  jnum(f, "z", c->z, 1);
  jnum(f, "z_predicted", c->z_predicted, 1);
  jnum(f, "physics_se", c->physics_se, 1);
  jnum(f, "z_physics", c->z_physics, 0);
  fputc('}', f);
  if (comma)
    fputc(',', f);
}

static void jfit(FILE *f, const char *key, const vq_fitted_t *x, int comma) {
  fprintf(f, "\"%s\":", key);
  if (!x->ok && x->fitted) { /* fitted, but no law the model takes (alpha <= 1): the fit alone */
    fputc('{', f);
    jnum(f, "alpha", x->fit.alpha, 1);
    jnum(f, "xm_bits", x->fit.xm, 1);
    jnum(f, "samples", (double)x->fit.n, 0);
    fputc('}', f);
  } else if (!x->ok)
    fputs("null", f);
  else {
    fputc('{', f);
    jnum(f, "mu_bits", x->fit.mu, 1);
    jnum(f, "alpha", x->fit.alpha, 1);
    jnum(f, "xm_bits", x->fit.xm, 1);
    jnum(f, "loglik", x->fit.loglik, 1);
    jnum(f, "samples", (double)x->fit.n, 1);
    jcmp(f, "energy_mean_j", &x->energy, 1);
    jcmp(f, "variability_j2", &x->vplus, 1);
    jcmp(f, "billing_usd", &x->billing, 0);
    fputc('}', f);
  }
  if (comma)
    fputc(',', f);
}

static void print_json(FILE *f, const vq_params_t *p, const vq_data_t *d, const vq_report_t *r) {
  fputc('{', f);
  jnum(f, "devices", p->devices, 1);
  jnum(f, "intervals", p->intervals, 1);
  jnum(f, "interval_ms", p->interval_ms, 1);
  jstr(f, "dist", p->controlled ? spot_dist_name(p->kind) : "real", 1);
  jnum(f, "mu_bits", p->mu, 1);
  jnum(f, "alpha", p->kind == SPOT_DIST_PARETO ? p->alpha : NAN, 1);
  jnum(f, "rho_bits", p->rho, 1);
  jstr(f, "sampler", p->sampler == SPOT_SAMPLE_REJECT ? "reject" : "inverse", 1);
  jstr(f, "quota", quota_name(p->quota), 1);
  jnum(f, "theta", p->theta, 1);
  jnum(f, "theta_star", p->theta_star, 1);
  jnum(f, "theta_adhoc", p->theta_adhoc, 1);
  jnum(f, "b_t", p->bill.b_t, 1);
  jnum(f, "b_i", p->bill.b_i, 1);
  jnum(f, "b_a", p->bill.b_a, 1);
  jnum(f, "usd_per_instance_hour", p->bill.usd_per_instance_hour, 1);
  jnum(f, "idle_instances", p->bill.idle_instances, 1);
  jnum(f, "active_instances", p->bill.active_instances, 1);
  jnum(f, "watts", p->watts, 1);
  jnum(f, "seed", (double)p->seed, 1);
  jnum(f, "cores", p->cores, 1);
  jnum(f, "eps_a_j_per_bit", r->eps_a, 1);
  jnum(f, "eps_i_j_per_bit", r->eps_i, 1);
  jnum(f, "query_cpu_s", r->query_cpu_s, 1);
  jcmp(f, "energy_mean_j", &r->energy, 1);
  jcmp(f, "variability_j2", &r->vplus, 1);
  jcmp(f, "billing_usd", &r->billing, 1);
  jcmp(f, "billing_instance_usd", &r->billing_instance, 1);
  if (r->has_compare) {
    jcmp(f, "billing_adhoc_usd", &r->billing_adhoc, 1);
    jcmp(f, "billing_instance_adhoc_usd", &r->billing_instance_adhoc, 1);
    jcmp(f, "saving_fraction", &r->saving, 1);
    jcmp(f, "saving_instance_fraction", &r->saving_instance, 1);
  }
  jstr(f, "billing_closed_form_method", r->billing_closed_method, 1);
  jnum(f, "recall_at_1", r->recall_at_1, 1);
  jnum(f, "queries", (double)r->queries, 1);
  jnum(f, "answered", (double)r->answered, 1);
  jnum(f, "unanswered", (double)r->unanswered, 1);
  jnum(f, "acknowledged", (double)d->inbox, 1);
  jnum(f, "latency_p50_ms", r->latency_p50_ms, 1);
  jnum(f, "latency_p99_ms", r->latency_p99_ms, 1);
  jnum(f, "overruns", r->overruns, 1);
  jnum(f, "device_intervals", r->device_intervals, 1);
  jnum(f, "billed_intervals", r->billed_intervals, 1);
  jnum(f, "volume_mismatch_bits", r->volume_mismatch, 1);
  jnum(f, "unbilled_queries", (double)r->unbilled, 1);
  jnum(f, "late_queries", (double)r->late_queries, 1);
  fprintf(f, "\"instances\":{\"min\":%u,\"max\":%u},", r->instances_min, r->instances_max);
  jnum(f, "matcher_concurrency", r->concurrency_max, 1);
  jnum(f, "query_cpu_s_run", r->run_query_cpu_s, 1);
  jnum(f, "query_cpu_cv", r->query_cpu_cv, 1);
  jnum(f, "query_cpu_cv_run", r->run_query_cpu_cv, 1);
  jnum(f, "idle_cpu_s_per_bit_calibrated", r->calib_idle_cpu_s_per_bit, 1);
  jnum(f, "idle_cpu_s_per_bit_run", r->run_idle_cpu_s_per_bit, 1);
  jnum(f, "q99_queries", (double)r->q99_queries, 1);
  jnum(f, "interval_needed_s", r->t_needed_s, 1);
  if (!p->controlled) {
    jfit(f, "fit_exponential", &r->fit_exp, 1);
    jfit(f, "fit_pareto", &r->fit_par, 1);
  }
  jnum(f, "kill_cloud_at", p->kill_cloud_at, 1);
  jstr(f, "trace", d->trace ? d->trace : "", 0);
  fputs("}\n", f);
}

/* ---- text ---- */

static void num(FILE *f, double v, int w) {
  if (isfinite(v))
    fprintf(f, " %*.*g", w, 5, v);
  else
    fprintf(f, " %*s", w, "-");
}

static void row(FILE *f, const char *name, const vq_cmp_t *c) {
  fprintf(f, "  %-30s", name);
  num(f, c->measured, 11);
  num(f, c->measured_se, 10);
  num(f, c->predicted, 11);
  if (isfinite(c->rel_err))
    fprintf(f, " %+7.2f%%", 100 * c->rel_err);
  else
    fprintf(f, " %8s", "-");
  if (isfinite(c->z_physics))
    fprintf(f, " %+6.2f", c->z_physics);
  else
    fprintf(f, " %6s", "-");
  num(f, c->closed_form, 11);
  num(f, c->closed_se, 10);
  if (isfinite(c->z))
    fprintf(f, " %+6.2f", c->z);
  else
    fprintf(f, " %6s", "-");
  if (isfinite(c->z_predicted))
    fprintf(f, " %+6.2f", c->z_predicted);
  else
    fprintf(f, " %6s", "-");
  num(f, c->closed_form_continuous, 11);
  fputc('\n', f);
}

static void header(FILE *f) {
  fprintf(f, "  %-30s %11s %10s %11s %8s %6s %11s %10s %6s %6s %11s\n", "figure", "measured", "+-se", "predicted",
          "rel.err", "z phys", "closed form", "+-se", "z", "z pred", "continuous");
}

static void fitted(FILE *f, const char *name, const vq_fitted_t *x) {
  if (!x->ok && x->fitted) {
    fprintf(f, "\n%s law fitted by maximum likelihood to %zu positive volumes: alpha = %.4g (+-%.2g), r_m = %.6g b; "
            "a Pareto law with alpha <= 1 has no finite mean, so the model cannot be evaluated for it (the volumes "
            "are heavier-tailed than the model's laws, or too few intervals saw motion)\n", name, x->fit.n,
            x->fit.alpha, x->fit.se_mu, x->fit.xm);
    return;
  }
  if (!x->ok) {
    fprintf(f, "\n%s fit: not possible (too few distinct positive volumes)\n", name);
    return;
  }
  fprintf(f, "\n%s law fitted by maximum likelihood to %zu volumes: mu = %.6g b", name, x->fit.n, x->fit.mu);
  if (x->fit.alpha > 0)
    fprintf(f, ", alpha = %.4g (+-%.2g), r_m = %.6g b", x->fit.alpha, x->fit.se_mu, x->fit.xm);
  fprintf(f, ", log-likelihood %.6g\n", x->fit.loglik);
  header(f);
  row(f, "mean energy per interval [J]", &x->energy);
  row(f, "V+ [J^2]", &x->vplus);
  row(f, "billing, model meter [$]", &x->billing);
}

static void print_text(FILE *f, const vq_params_t *p, const vq_data_t *d, const vq_report_t *r) {
  fprintf(f, "spot vquery run: %u devices, %u intervals of %u ms, ", p->devices, p->intervals, p->interval_ms);
  if (p->controlled) {
    fprintf(f, "%s volumes, mu = %.6g b", spot_dist_name(p->kind), p->mu);
    if (p->kind == SPOT_DIST_PARETO)
      fprintf(f, ", alpha = %g", p->alpha);
    fprintf(f, " (%s sampler)", p->sampler == SPOT_SAMPLE_REJECT ? "rejection" : "inverse-CDF");
  } else
    fprintf(f, "real volumes (motion)");
  fprintf(f, ", rho = %.6g b\n", p->rho);
  fprintf(f, "quota %s: theta = %.6g b", quota_name(p->quota), p->theta);
  if (isfinite(p->theta_star))
    fprintf(f, " (theta* of the shaped law = %.6g b, N*mu = %.6g b)", p->theta_star, p->theta_adhoc);
  fprintf(f, "; %u idle / %u active instances at %g $/h\n", p->bill.idle_instances, p->bill.active_instances,
          p->bill.usd_per_instance_hour);
  fprintf(f, "calibration: eps_a = %.4g J/b (%.3g ms CPU per query at %g W), eps_i = %.4g J/b\n\n", r->eps_a,
          1e3 * r->query_cpu_s, p->watts, r->eps_i);
  fprintf(f, "measured against predicted (predicted: the model on the volumes drawn, z phys = (measured - predicted) / "
             "the se of\ntheir interval-by-interval difference, the meter's own noise; closed form: the law of whole "
             "queries,\nz = (measured - closed form) / se, z pred the same for predicted; continuous: MODEL.md's value "
             "for the continuous\nvolume)\n");
  header(f);
  row(f, "mean energy per interval [J]", &r->energy);
  row(f, "V+ [J^2]", &r->vplus);
  row(f, "billing, model meter [$]", &r->billing);
  row(f, "billing, instance meter [$]", &r->billing_instance);
  if (r->has_compare) {
    fprintf(f, "  -- the same volumes at the ad hoc quota theta = N*mu = %.6g b --\n", p->theta_adhoc);
    row(f, "billing, model meter [$]", &r->billing_adhoc);
    row(f, "billing, instance meter [$]", &r->billing_instance_adhoc);
    row(f, "saving of theta*, model meter", &r->saving);
    row(f, "saving of theta*, instances", &r->saving_instance);
  }
  if (p->controlled)
    fprintf(f, "  (billing closed form: %s, %zu intervals)\n", r->billing_closed_method, p->mc_samples);
  fprintf(f, "physics: CPU per query %.4g ms during the run against %.4g ms calibrated (%+.1f%%)",
          1e3 * r->run_query_cpu_s, 1e3 * r->query_cpu_s, 100 * (r->run_query_cpu_s / r->query_cpu_s - 1));
  if (isfinite(r->run_idle_cpu_s_per_bit))
    fprintf(f, "; idle CPU per kb %.4g ms against %.4g ms (%+.1f%%)", 1e6 * r->run_idle_cpu_s_per_bit,
            1e6 * r->calib_idle_cpu_s_per_bit, 100 * (r->run_idle_cpu_s_per_bit / r->calib_idle_cpu_s_per_bit - 1));
  fprintf(f, "\n         one query's CPU time varies by %.0f%% (sd/mean) in the calibration and %.0f%% in the run "
             "(frame content, the machine)\n",
          100 * r->query_cpu_cv, 100 * r->run_query_cpu_cv);
  if (r->eps_i >= r->eps_a)
    fprintf(f, "warning: idle work costs more per bit-equivalent than a query (eps_i >= eps_a): the model's "
               "device idles to save energy; the devices' idle unit (spot vquery device --idle-unit-bits) stands "
               "for too few bits\n");
  if (fabs(r->energy.rel_err) > 0.05)
    fprintf(f, "warning: measured energy differs from the model on the drawn volumes by %+.1f%%: the devices' CPU time "
               "per unit of work during the run is not what they calibrated (other work on the machine's cores, "
               "frames of other content: a still camera, --camera DIR with one photograph, holds them equal); calibrate "
               "longer (--calibrate) on a quiet machine, or use --rapl\n",
            100 * r->energy.rel_err);
  if (!p->controlled) {
    fitted(f, "exponential", &r->fit_exp);
    fitted(f, "Pareto", &r->fit_par);
  }
  fprintf(f, "\nqueries %llu, answered %llu, unanswered %llu, acknowledged by the aggregator %llu\n",
          (unsigned long long)r->queries, (unsigned long long)r->answered, (unsigned long long)r->unanswered,
          (unsigned long long)d->inbox);
  if (isfinite(r->recall_at_1))
    fprintf(f, "recall@1 %.4f (%llu of %llu answers name the photograph in view)\n", r->recall_at_1,
            (unsigned long long)r->correct, (unsigned long long)r->with_truth);
  fprintf(f, "latency device put -> answer back: p50 %.3g ms, p99 %.3g ms\n", r->latency_p50_ms, r->latency_p99_ms);
  fprintf(f, "instances %u..%u; matcher concurrency actually used: min(instances, cores) = min(%u, %u) = %u\n",
          r->instances_min, r->instances_max, r->instances_max, p->cores, r->concurrency_max);
  if (r->billed_intervals < p->intervals)
    fprintf(f, "warning: the cloud billed %u of %u intervals\n", r->billed_intervals, p->intervals);
  if (r->unbilled > 0 || r->volume_mismatch > 0)
    fprintf(f, "warning: %llu queries the devices made were never billed (they did not reach the cloud: a forward "
               "that failed, a device stopped, the aggregator's tail ended first); billed volumes fall short of what "
               "the devices sent by up to %.6g b in an interval\n",
            (unsigned long long)r->unbilled, r->volume_mismatch);
  fprintf(f, "overruns: %u of %u device intervals ended after their interval\n", r->overruns, r->device_intervals);
  if (r->late_queries > 0)
    fprintf(f, "late: %llu queries came after their interval's main batch; they were billed to their interval by a "
               "later batch, but the autoscaler had decided on the main one\n",
            (unsigned long long)r->late_queries);
  char why[160] = "";
  if (r->overruns || r->late_queries) {
    const char *what = r->overruns && r->late_queries ? "overruns and late queries"
                       : r->overruns                  ? "overruns"
                                                      : "late queries";
    if (r->t_needed_s >= p->interval_ms / 2000.0)
      snprintf(why, sizeof why, " (this run's T did not: raise --interval-ms, or lower --mu or --devices)");
    else
      snprintf(why, sizeof why, " (it did: this run's %s came from elsewhere, other programs on the cores)", what);
  }
  fprintf(f, "choosing T: the 99th percentile of queries per interval is %llu; at %.3g ms each (plus idle work up to "
             "rho), with %u devices on %u cores, an interval's work takes up to %.3g s: T/2 should exceed it (the "
             "aggregator uploads an interval's queries once every device's are in, at the latest half an interval "
             "after it began; later ones go in a later batch, billed to their interval, while the devices work)%s\n",
          (unsigned long long)r->q99_queries, 1e3 * r->query_cpu_s, p->devices, p->cores, r->t_needed_s, why);
  if (d->trace)
    fprintf(f, "\ntrace of query %llu of device %u across the three nodes:\n%s", (unsigned long long)d->trace_qid,
            d->trace_device, d->trace);
}

void vq_report_print(FILE *f, const vq_params_t *p, const vq_data_t *d, const vq_report_t *r, int json) {
  if (json)
    print_json(f, p, d, r);
  else
    print_text(f, p, d, r);
}
