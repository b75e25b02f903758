/*
 * plan_out.c: the figures of `spot plan` and their two renderings: a table for people (inputs, then results, then
 * Monte Carlo rows and notes) and one JSON object whose keys are the figures' snake_case names with their unit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

typedef struct field_info {
  const char *key;   /* JSON key */
  const char *label; /* table label */
  const char *unit;
} field_info_t;

static const field_info_t fields[PF_COUNT] = {
    [PF_ALPHA] = {"alpha", "Pareto shape alpha", ""},
    [PF_N_DEVICES] = {"n_devices", "devices per aggregator N", ""},
    [PF_VOLUME] = {"volume_bits", "mean volume per device mu", "b"},
    [PF_THRESHOLD] = {"threshold_bits", "threshold rho", "b"},
    [PF_ENERGY_TARGET] = {"energy_target_j", "mean energy target", "J"},
    [PF_VCAP] = {"variability_cap_j2", "variability cap", "J^2"},
    [PF_QUOTA] = {"quota_bits", "quota theta", "b"},
    [PF_BILLING_TARGET] = {"billing_target_usd", "billing target per aggregator", "$"},
    [PF_EPS_A] = {"eps_a_j_per_bit", "eps_a", "J/b"},
    [PF_EPS_I] = {"eps_i_j_per_bit", "eps_i", "J/b"},
    [PF_B_I] = {"b_i_usd_per_bit", "b_i", "$/b"},
    [PF_B_A] = {"b_a_usd_per_bit", "b_a", "$/b"},
    [PF_B_T] = {"b_t_usd_per_bit", "b_t", "$/b"},
    [PF_ENERGY] = {"energy_j", "mean energy per T E[En]", "J"},
    [PF_DENERGY] = {"denergy_drho_j_per_bit", "dE/drho", "J/b"},
    [PF_VARIABILITY] = {"variability_j2", "one-sided variability V+", "J^2"},
    [PF_DVARIABILITY] = {"dvariability_drho_j2_per_bit", "dV+/drho", "J^2/b"},
    [PF_BILLING] = {"billing_usd", "billing B(theta)", "$"},
    [PF_DBILLING] = {"dbilling_dquota_usd_per_bit", "dB/dtheta", "$/b"},
    [PF_QUOTA_ADHOC] = {"quota_adhoc_bits", "ad-hoc quota N*mu", "b"},
    [PF_BILLING_MIN] = {"billing_min_usd", "minimum billing B*", "$"},
    [PF_BILLING_ADHOC] = {"billing_adhoc_usd", "ad-hoc billing B(N*mu)", "$"},
    [PF_SAVING] = {"saving_fraction", "saving against the ad-hoc quota", ""},
    [PF_COEF] = {"billing_per_bit_usd", "minimum billing per bit c_D", "$/b"},
    [PF_DEVICES_REAL] = {"devices_real", "devices for the target (real)", ""},
    [PF_DEVICES] = {"devices", "devices per aggregator for the target", ""},
};

/* The order in which figures are printed: inputs, then results as a user reads them. */
static const plan_field_t order[PF_COUNT] = {
    PF_ALPHA,        PF_N_DEVICES,    PF_VOLUME,        PF_THRESHOLD,   PF_ENERGY_TARGET, PF_VCAP,
    PF_QUOTA,        PF_BILLING_TARGET, PF_EPS_A,       PF_EPS_I,       PF_B_I,           PF_B_A,
    PF_B_T,          PF_ENERGY,       PF_DENERGY,       PF_VARIABILITY, PF_DVARIABILITY,  PF_BILLING,
    PF_DBILLING,     PF_QUOTA_ADHOC,  PF_BILLING_MIN,   PF_BILLING_ADHOC, PF_SAVING,      PF_COEF,
    PF_DEVICES_REAL, PF_DEVICES,
};

/* Results: the device's figures first, then the cloud's, then the devices. */
static const plan_field_t result_order[PF_COUNT] = {
    PF_VOLUME,      PF_THRESHOLD,     PF_ENERGY_TARGET, PF_VCAP,         PF_ENERGY,       PF_DENERGY,
    PF_VARIABILITY, PF_DVARIABILITY,  PF_N_DEVICES,     PF_QUOTA,        PF_BILLING,      PF_DBILLING,
    PF_QUOTA_ADHOC, PF_BILLING_MIN,   PF_BILLING_ADHOC, PF_SAVING,       PF_COEF,         PF_BILLING_TARGET,
    PF_DEVICES_REAL, PF_DEVICES,      PF_ALPHA,         PF_EPS_A,        PF_EPS_I,        PF_B_I,
    PF_B_A,         PF_B_T,
};

const char *plan_field_key(plan_field_t f) { return fields[f].key; }

const char *plan_field_label(plan_field_t f) { return fields[f].label; }

void plan_note(plan_t *p, const char *note) {
  for (int i = 0; i < p->nnotes; i++)
    if (strcmp(p->notes[i], note) == 0)
      return;
  if (p->nnotes < PLAN_MAX_NOTES)
    p->notes[p->nnotes++] = note;
}

static const char *reading_name(spot_reading_t r) { return r == SPOT_VAR_V1 ? "v1" : r == SPOT_VAR_V2 ? "v2" : "none"; }

/* The label, with the variability's reading and the quota's role. */
static void label(const plan_t *p, plan_field_t f, char *buf, size_t cap) {
  const char *extra = "";
  if (f == PF_VARIABILITY)
    extra = p->reading == SPOT_VAR_V2 ? " (v2)" : " (v1)";
  else if (f == PF_QUOTA && !p->is_input[f])
    extra = " (optimal, theta*)";
  snprintf(buf, cap, "%s%s%s%s%s", fields[f].label, extra, fields[f].unit[0] ? " [" : "", fields[f].unit,
           fields[f].unit[0] ? "]" : "");
}

static void row(const plan_t *p, plan_field_t f, FILE *out) {
  char lab[96];
  label(p, f, lab, sizeof lab);
  double x = p->v[f];
  if (f == PF_SAVING)
    fprintf(out, "  %-48s %.6g (%.2f%%)\n", lab, x, 100 * x);
  else if (f == PF_DEVICES || f == PF_N_DEVICES)
    fprintf(out, "  %-48s %.10g\n", lab, x);
  else
    fprintf(out, "  %-48s %.6g\n", lab, x);
}

void plan_print_table(const plan_t *p, FILE *out) {
  fprintf(out, "spot plan %s%s: %s", p->montecarlo ? "montecarlo " : "", p->verb, spot_dist_name(p->kind));
  if (p->kind == SPOT_DIST_PARETO)
    fprintf(out, " (alpha %g)", p->in[PF_ALPHA]);
  fprintf(out, ", variability %s, aggregate %s\n", reading_name(p->reading), p->conv ? "convolution" : "shaped");
  fprintf(out, "inputs\n");
  for (int i = 0; i < PF_COUNT; i++)
    if (p->is_input[order[i]] && !isnan(p->v[order[i]]) && order[i] != PF_ALPHA)
      row(p, order[i], out);
  fprintf(out, "results\n");
  for (int i = 0; i < PF_COUNT; i++)
    if (!p->is_input[result_order[i]] && !isnan(p->v[result_order[i]]))
      row(p, result_order[i], out);
  if (p->nmc) {
    fprintf(out, "monte carlo (%llu samples, seed %llu, %s sampling)\n", (unsigned long long)p->samples,
            (unsigned long long)p->seed, p->sampler == SPOT_SAMPLE_REJECT ? "rejection" : "inverse-CDF");
    fprintf(out, "  %-28s %14s %14s %12s %7s\n", "figure", "analytic", "sampled", "std. error", "z");
    for (int i = 0; i < p->nmc; i++) {
      const plan_mc_row_t *m = &p->mc[i];
      fprintf(out, "  %-28s %14.6g %14.6g %12.3g %7.2f\n", fields[m->field].key, m->analytic, m->sampled, m->se,
              m->se > 0 ? (m->sampled - m->analytic) / m->se : 0.0);
    }
  }
  for (int i = 0; i < p->nnotes; i++)
    fprintf(out, "note: %s\n", p->notes[i]);
}

/* The shortest of %.15g..%.17g that reads back exactly; null for inf and NAN (JSON has neither). */
static void json_num(FILE *out, double x) {
  if (!isfinite(x)) {
    fputs("null", out);
    return;
  }
  char buf[40];
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, x);
    if (strtod(buf, NULL) == x)
      break;
  }
  fputs(buf, out);
}

static void json_str(FILE *out, const char *s) {
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fputc('\\', out);
    fputc(*s, out);
  }
  fputc('"', out);
}

void plan_print_json(const plan_t *p, FILE *out) {
  fprintf(out, "{\"verb\":\"%s\",\"montecarlo\":%s,\"dist\":\"%s\",\"variability\":\"%s\",\"aggregate\":\"%s\"",
          p->verb, p->montecarlo ? "true" : "false", spot_dist_name(p->kind), reading_name(p->reading),
          p->conv ? "convolution" : "shaped");
  for (int i = 0; i < PF_COUNT; i++) {
    plan_field_t f = order[i];
    if (isnan(p->v[f]))
      continue;
    fprintf(out, ",\"%s\":", fields[f].key);
    json_num(out, p->v[f]);
  }
  if (p->montecarlo) {
    fprintf(out, ",\"samples\":%llu,\"seed\":%llu,\"sampler\":\"%s\",\"montecarlo_rows\":[",
            (unsigned long long)p->samples, (unsigned long long)p->seed,
            p->sampler == SPOT_SAMPLE_REJECT ? "reject" : "inverse");
    for (int i = 0; i < p->nmc; i++) {
      const plan_mc_row_t *m = &p->mc[i];
      fprintf(out, "%s{\"figure\":\"%s\",\"analytic\":", i ? "," : "", fields[m->field].key);
      json_num(out, m->analytic);
      fputs(",\"sampled\":", out);
      json_num(out, m->sampled);
      fputs(",\"std_error\":", out);
      json_num(out, m->se);
      fputs(",\"z\":", out);
      json_num(out, m->se > 0 ? (m->sampled - m->analytic) / m->se : 0.0);
      fputc('}', out);
    }
    fputc(']', out);
  }
  fputs(",\"notes\":[", out);
  for (int i = 0; i < p->nnotes; i++) {
    if (i)
      fputc(',', out);
    json_str(out, p->notes[i]);
  }
  fputs("]}\n", out);
}
