/*
 * tools/spot/plan.h: `spot plan`, the energy/billing planner (issue 5) over the model of include/spot/model.h.
 *
 * cmd_plan.c parses the verb and its flags (or a key=value --params file) and computes; plan_out.c holds the
 * figures and prints them as a table or one JSON object; plan_plot.c draws them with gnuplot.
 */
#ifndef SPOT_PLAN_H
#define SPOT_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "spot/model.h"

/* The `spot plan` subcommand (argv[0] is "plan"). */
int spot_cli_plan(int argc, char **argv, const char *ns_dir);

/* The figures a verb reads or computes; each is NAN until set. plan_out.c names them (snake_case with unit). */
typedef enum plan_field {
  PF_ALPHA,
  PF_N_DEVICES,
  PF_VOLUME,
  PF_THRESHOLD,
  PF_ENERGY_TARGET,
  PF_VCAP,
  PF_QUOTA,
  PF_BILLING_TARGET,
  PF_EPS_A,
  PF_EPS_I,
  PF_B_I,
  PF_B_A,
  PF_B_T,
  PF_ENERGY,
  PF_DENERGY,
  PF_VARIABILITY,
  PF_DVARIABILITY,
  PF_BILLING,
  PF_DBILLING,
  PF_QUOTA_ADHOC,
  PF_BILLING_MIN,
  PF_BILLING_ADHOC,
  PF_SAVING,
  PF_COEF,
  PF_DEVICES_REAL,
  PF_DEVICES,
  PF_COUNT
} plan_field_t;

/* One Monte Carlo comparison row. */
typedef struct plan_mc_row {
  plan_field_t field;
  double analytic, sampled, se;
} plan_mc_row_t;

#define PLAN_MAX_NOTES 8
#define PLAN_MAX_MC 8

/* The inputs (parsed flags) and the outputs of one run. */
typedef struct plan {
  const char *verb;    /* energy, threshold, ... (the inner verb for montecarlo) */
  int montecarlo;      /* `plan montecarlo VERB` */
  spot_dist_kind_t kind;
  spot_rates_t rates;
  spot_reading_t reading; /* 0 for --variability none */
  int conv;               /* --aggregate convolution */
  int json;
  const char *plot;       /* --plot FILE or NULL */
  uint64_t samples, seed;
  spot_sampler_t sampler;
  size_t grid;
  double in[PF_COUNT];    /* flags as given (NAN when absent) */
  double v[PF_COUNT];     /* figures: NAN when not part of the result */
  unsigned char is_input[PF_COUNT];
  const char *notes[PLAN_MAX_NOTES];
  int nnotes;
  plan_mc_row_t mc[PLAN_MAX_MC];
  int nmc;
  const char *overflow; /* what overflowed first (SPOT_MODEL_EOVERFLOW), for the error line; NULL if nothing */
} plan_t;

/* plan_args.c: applies the flags argv[first..argc) (and any --params FILE) to *p. Returns 0, or 1 after printing
 * the error. */
int plan_parse_args(plan_t *p, int argc, char **argv, int first);

/* plan_out.c */
const char *plan_field_key(plan_field_t f);
/* The figure's words without the unit, e.g. "mean energy per T E[En]" (static storage). */
const char *plan_field_label(plan_field_t f);
void plan_print_table(const plan_t *p, FILE *out);
void plan_print_json(const plan_t *p, FILE *out);
void plan_note(plan_t *p, const char *note);

/* plan_plot.c: draws the verb's curves into p->plot. Returns 0, or prints one error line and returns 1. */
int plan_plot(const plan_t *p);

/* cmd_plan.c, for plan_plot.c: the device law and the curves. Each returns 0 or a SPOT_MODEL_E* code. */
int plan_device(const plan_t *p, double mu, spot_dist_t *d);
/* Billing B(theta) of the plan's aggregate (shaped or convolved) for N devices of mean mu, over a sorted array of
 * quotas; out[i] NAN where the convolution grid does not reach. */
int plan_billing_curve(const plan_t *p, double mu, double n, const double *theta, size_t count, double *out);

#endif
