/*
 * bench_model.c: the cost of the model's closed forms and inverses (ns per call) and the Monte Carlo rate (samples
 * per second) on one core (DESIGN.md, "Budgets": closed forms <= 1 us each, Monte Carlo >= 10 million samples/s;
 * issue 5).
 *
 * Run without arguments it prints one JSON object per line per figure and finishes in a few seconds. Each figure
 * runs RUNS times for about SECONDS/RUNS each; ns_per_call (or samples_per_s) and ops_per_s are the median of the
 * runs. Inputs vary from call to call (a ramp over a table of thresholds or quotas) so that nothing is hoisted out
 * of the loop, and every result goes to a volatile sink. "kind" says whether a figure is a closed form (budget
 * 1 us), an iterative inverse (Newton, bisection, the lattice: reported, no budget) or Monte Carlo.
 *
 * Environment: SPOT_BENCH_SECONDS (time per figure, default 0.3). Argument: a substring to run only those figures.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spot/model.h"

#define RUNS 5
#define MU 8192.0
#define TABLE 64

static double g_seconds = 0.3;
static const char *g_filter;
static volatile double g_sink;

static spot_rates_t R;
static spot_dist_t UNI, EXPO, PAR, PAR_S, EXP_S, UNI_S;
static double ramp[TABLE]; /* 0.05 .. 3.2 */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef double (*body_fn)(uint64_t i);

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median over RUNS of the seconds per call of fn, each run long enough for SECONDS/RUNS. */
static double time_per_call(body_fn fn, uint64_t units_per_call) {
  double per[RUNS];
  uint64_t n = 64;
  for (;;) { /* calibrate */
    double t0 = now();
    for (uint64_t i = 0; i < n; i++)
      g_sink = fn(i);
    double dt = now() - t0;
    if (dt > 0.01 || n > (1ull << 40))
      break;
    n *= 4;
  }
  double t0 = now();
  for (uint64_t i = 0; i < n; i++)
    g_sink = fn(i);
  double dt = now() - t0;
  uint64_t per_run = (uint64_t)((double)n * (g_seconds / RUNS) / (dt > 0 ? dt : 1e-9));
  if (per_run < 16)
    per_run = 16;
  for (int r = 0; r < RUNS; r++) {
    t0 = now();
    for (uint64_t i = 0; i < per_run; i++)
      g_sink = fn(i);
    per[r] = (now() - t0) / (double)(per_run * units_per_call);
  }
  qsort(per, RUNS, sizeof per[0], cmp);
  return per[RUNS / 2];
}

static void closed(const char *name, const char *kind, body_fn fn) {
  if (g_filter && !strstr(name, g_filter))
    return;
  double s = time_per_call(fn, 1), ns = s * 1e9;
  int budget = strcmp(kind, "closed_form") == 0;
  printf("{\"name\":\"%s\",\"kind\":\"%s\",\"ns_per_call\":%.1f,\"ops_per_s\":%.0f", name, kind, ns, 1 / s);
  if (budget)
    printf(",\"budget_ns\":1000,\"within_budget\":%s", ns <= 1000 ? "true" : "false");
  printf("}\n");
  fflush(stdout);
}

#define SAMPLE_BATCH 1024

static void montecarlo(const char *name, body_fn fn, uint64_t samples_per_call) {
  if (g_filter && !strstr(name, g_filter))
    return;
  double s = time_per_call(fn, samples_per_call);
  printf("{\"name\":\"%s\",\"kind\":\"monte_carlo\",\"samples_per_s\":%.0f,\"ops_per_s\":%.0f,"
         "\"budget_samples_per_s\":10000000,\"within_budget\":%s}\n",
         name, 1 / s, 1 / s, 1 / s >= 1e7 ? "true" : "false");
  fflush(stdout);
}

static double rho(uint64_t i) { return ramp[i % TABLE] * MU; }

/* closed forms */
static double b_cdf_exp(uint64_t i) { return spot_dist_cdf(&EXPO, rho(i)); }
static double b_cdf_pareto(uint64_t i) { return spot_dist_cdf(&PAR, rho(i)); }
static double b_quantile_pareto(uint64_t i) { return spot_dist_quantile(&PAR, ramp[i % TABLE] / 3.3); }
static double b_lpm_uniform(uint64_t i) { return spot_dist_lpm(&UNI, rho(i)); }
static double b_lpm_exp(uint64_t i) { return spot_dist_lpm(&EXPO, rho(i)); }
static double b_lpm_pareto(uint64_t i) { return spot_dist_lpm(&PAR, rho(i)); }
static double b_pmoment2_pareto(uint64_t i) { return spot_dist_pmoment(&PAR, 2, rho(i)); }
static double b_energy_mean_uniform(uint64_t i) {
  double e;
  spot_energy_mean(&UNI, &R, rho(i), &e);
  return e;
}
static double b_energy_mean_exp(uint64_t i) {
  double e;
  spot_energy_mean(&EXPO, &R, rho(i), &e);
  return e;
}
static double b_energy_mean_pareto(uint64_t i) {
  double e;
  spot_energy_mean(&PAR, &R, rho(i), &e);
  return e;
}
static double b_energy_var_v1_pareto(uint64_t i) {
  double v;
  spot_energy_var(&PAR, &R, rho(i), SPOT_VAR_V1, &v);
  return v;
}
static double b_energy_var_v2_exp(uint64_t i) {
  double v;
  spot_energy_var(&EXPO, &R, rho(i), SPOT_VAR_V2, &v);
  return v;
}
static double b_energy_dvar_v1_uniform(uint64_t i) {
  double v;
  spot_energy_dvar(&UNI, &R, rho(i), SPOT_VAR_V1, &v);
  return v;
}
static double b_threshold_uniform(uint64_t i) {
  double x;
  spot_energy_threshold(&UNI, &R, R.eps_a * MU + ramp[i % TABLE] * R.eps_i * MU, &x);
  return x;
}
static double b_threshold_exp_w0(uint64_t i) { /* d >= 1: the Lambert W0 form (36) */
  double x;
  spot_energy_threshold(&EXPO, &R, R.eps_a * MU + (1 + ramp[i % TABLE]) * R.eps_i * MU, &x);
  return x;
}
static double b_threshold_exp_newton(uint64_t i) { /* d < 1: the Newton fallback */
  double x;
  spot_energy_threshold(&EXPO, &R, R.eps_a * MU + ramp[i % TABLE] / 4 * R.eps_i * MU, &x);
  return x;
}
static double b_threshold_pareto(uint64_t i) {
  double x;
  spot_energy_threshold(&PAR, &R, R.eps_a * MU + ramp[i % TABLE] * R.eps_i * MU, &x);
  return x;
}
static double b_volume_uniform(uint64_t i) {
  double x;
  spot_energy_volume(SPOT_DIST_UNIFORM, 0, &R, 3, rho(i), &x);
  return x;
}
static double b_volume_exp(uint64_t i) {
  double x;
  spot_energy_volume(SPOT_DIST_EXPONENTIAL, 0, &R, 3, rho(i), &x);
  return x;
}
static double b_volume_pareto(uint64_t i) {
  double x;
  spot_energy_volume(SPOT_DIST_PARETO, 3, &R, 3, rho(i), &x);
  return x;
}
static double b_vcap_exp(uint64_t i) {
  double x, m;
  spot_energy_vcap(SPOT_DIST_EXPONENTIAL, 0, &R, 3, 0.5 + ramp[i % TABLE], SPOT_VAR_V1, &x, &m);
  return x + m;
}
static double b_billing_exp(uint64_t i) {
  double b;
  spot_billing(&EXP_S, &R, 40 * rho(i), &b);
  return b;
}
static double b_billing_pareto(uint64_t i) {
  double b;
  spot_billing(&PAR_S, &R, 40 * rho(i), &b);
  return b;
}
static double b_billing_deriv_uniform(uint64_t i) {
  double b, d2;
  spot_billing_deriv(&UNI_S, &R, 40 * rho(i), &b, &d2);
  return b + d2;
}
static double b_optimum_pareto(uint64_t i) {
  double t, b;
  spot_dist_t s = PAR_S;
  s.mu += (double)(i % TABLE);
  spot_billing_optimum(&s, &R, &t, &b);
  return t + b;
}
static double b_optimum_exp(uint64_t i) {
  double t, b;
  spot_dist_t s = EXP_S;
  s.mu += (double)(i % TABLE);
  spot_billing_optimum(&s, &R, &t, &b);
  return t + b;
}
static double b_saving_pareto(uint64_t i) {
  double v;
  spot_dist_t s = PAR_S;
  s.alpha = 2 + ramp[i % TABLE];
  spot_billing_saving(&s, &R, &v);
  return v;
}
static double b_devices_exp(uint64_t i) {
  double n;
  spot_billing_devices(&EXPO, &R, 1e-4 * ramp[i % TABLE], &n);
  return n;
}
static double b_lambertw0(uint64_t i) {
  double w;
  spot_lambertw0(-0.3 + ramp[i % TABLE] * 3, &w);
  return w;
}
static double b_design_exp(uint64_t i) {
  spot_design_t x = {.kind = SPOT_DIST_EXPONENTIAL, .n = 40, .mu = MU, .energy = 2.1 + ramp[i % TABLE],
                     .reading = SPOT_VAR_V1};
  spot_design_run(&x, &R);
  return x.devices;
}
static double b_design_pareto(uint64_t i) {
  spot_design_t x = {.kind = SPOT_DIST_PARETO, .alpha = 3, .n = 40, .mu = MU, .energy = 2.1 + ramp[i % TABLE],
                     .reading = SPOT_VAR_V1};
  spot_design_run(&x, &R);
  return x.devices;
}
static double b_conv_gamma_optimum(uint64_t i) {
  spot_conv_t c;
  double t, b;
  spot_conv_init(&c, &EXPO, 40 + (double)(i % 8), 0, 0, NULL, 0);
  spot_conv_optimum(&c, &R, &t, &b, NULL, NULL);
  return t + b;
}
static double g_work[4 * 1024];
static double b_conv_lattice_uniform(uint64_t i) {
  spot_conv_t c;
  double t, b;
  spot_conv_init(&c, &UNI, 40 + (double)(i % 8), 1024, 1e-5, g_work, sizeof g_work / sizeof g_work[0]);
  spot_conv_optimum(&c, &R, &t, &b, NULL, NULL);
  return t + b;
}

/* Monte Carlo */
static spot_rng_t G;
static double b_rng_uniform(uint64_t i) {
  double s = 0;
  for (int k = 0; k < SAMPLE_BATCH; k++)
    s += spot_rng_uniform(&G);
  return s;
}
#define SAMPLER(fname, d, how)                                                                               \
  static double fname(uint64_t i) {                                                                          \
    double s = 0;                                                                                            \
    for (int k = 0; k < SAMPLE_BATCH; k++)                                                                   \
      s += how(&d, &G);                                                                                      \
    return s;                                                                                                \
  }
SAMPLER(b_inv_uniform, UNI, spot_sample_inverse)
SAMPLER(b_inv_exp, EXPO, spot_sample_inverse)
SAMPLER(b_inv_pareto, PAR, spot_sample_inverse)
SAMPLER(b_rej_uniform, UNI, spot_sample_reject)
SAMPLER(b_rej_exp, EXPO, spot_sample_reject)
SAMPLER(b_rej_pareto, PAR, spot_sample_reject)
static double b_mc_energy_exp(uint64_t i) {
  spot_mc_t e, v;
  spot_mc_energy(&EXPO, &R, rho(i), SPOT_VAR_V1, 65536, SPOT_SAMPLE_INVERSE, &G, &e, &v);
  return e.mean + v.mean;
}
static double b_mc_energy_pareto(uint64_t i) {
  spot_mc_t e, v;
  spot_mc_energy(&PAR, &R, rho(i), SPOT_VAR_V1, 65536, SPOT_SAMPLE_INVERSE, &G, &e, &v);
  return e.mean + v.mean;
}
static double b_mc_billing_exp(uint64_t i) {
  spot_mc_t b;
  spot_mc_billing(&EXPO, 40, 0, &R, 40 * rho(i), 65536, SPOT_SAMPLE_INVERSE, &G, &b);
  return b.mean;
}
static double b_mc_billing_conv_uniform(uint64_t i) { /* counts device draws: 40 per aggregate sample */
  spot_mc_t b;
  spot_mc_billing(&UNI, 40, 1, &R, 40 * rho(i), 4096, SPOT_SAMPLE_INVERSE, &G, &b);
  return b.mean;
}

int main(int argc, char **argv) {
  const char *sec = getenv("SPOT_BENCH_SECONDS");
  if (sec && atof(sec) > 0)
    g_seconds = atof(sec);
  if (argc > 1)
    g_filter = argv[1];
  spot_rates_default(&R);
  spot_dist_init(&UNI, SPOT_DIST_UNIFORM, MU, 0);
  spot_dist_init(&EXPO, SPOT_DIST_EXPONENTIAL, MU, 0);
  spot_dist_init(&PAR, SPOT_DIST_PARETO, MU, 3);
  spot_dist_shaped(&PAR_S, &PAR, 40);
  spot_dist_shaped(&EXP_S, &EXPO, 40);
  spot_dist_shaped(&UNI_S, &UNI, 40);
  for (int i = 0; i < TABLE; i++)
    ramp[i] = 0.05 + 3.15 * i / (TABLE - 1);
  spot_rng_seed(&G, 2016);

  closed("dist_cdf_exponential", "closed_form", b_cdf_exp);
  closed("dist_cdf_pareto", "closed_form", b_cdf_pareto);
  closed("dist_quantile_pareto", "closed_form", b_quantile_pareto);
  closed("dist_lpm_uniform", "closed_form", b_lpm_uniform);
  closed("dist_lpm_exponential", "closed_form", b_lpm_exp);
  closed("dist_lpm_pareto", "closed_form", b_lpm_pareto);
  closed("dist_pmoment2_pareto", "closed_form", b_pmoment2_pareto);
  closed("energy_mean_uniform", "closed_form", b_energy_mean_uniform);
  closed("energy_mean_exponential", "closed_form", b_energy_mean_exp);
  closed("energy_mean_pareto", "closed_form", b_energy_mean_pareto);
  closed("energy_var_v1_pareto", "closed_form", b_energy_var_v1_pareto);
  closed("energy_var_v2_exponential", "closed_form", b_energy_var_v2_exp);
  closed("energy_dvar_v1_uniform", "closed_form", b_energy_dvar_v1_uniform);
  closed("energy_threshold_uniform", "closed_form", b_threshold_uniform);
  closed("energy_threshold_exponential_w0", "closed_form", b_threshold_exp_w0);
  closed("energy_threshold_exponential_newton", "closed_form", b_threshold_exp_newton);
  closed("energy_threshold_pareto_newton", "iterative", b_threshold_pareto);
  closed("energy_volume_uniform", "closed_form", b_volume_uniform);
  closed("energy_volume_exponential_w0", "closed_form", b_volume_exp);
  closed("energy_volume_pareto_newton", "iterative", b_volume_pareto);
  closed("energy_vcap_exponential_bisection", "iterative", b_vcap_exp);
  closed("billing_exponential", "closed_form", b_billing_exp);
  closed("billing_pareto", "closed_form", b_billing_pareto);
  closed("billing_deriv_uniform", "closed_form", b_billing_deriv_uniform);
  closed("billing_optimum_exponential", "closed_form", b_optimum_exp);
  closed("billing_optimum_pareto", "closed_form", b_optimum_pareto);
  closed("billing_saving_pareto", "closed_form", b_saving_pareto);
  closed("billing_devices_exponential", "closed_form", b_devices_exp);
  closed("lambertw0", "closed_form", b_lambertw0);
  closed("design_exponential", "closed_form", b_design_exp);
  closed("design_pareto", "iterative", b_design_pareto);
  closed("conv_gamma_optimum_n40", "iterative", b_conv_gamma_optimum);
  closed("conv_lattice_uniform_optimum_n40_grid1024", "iterative", b_conv_lattice_uniform);

  montecarlo("rng_uniform", b_rng_uniform, SAMPLE_BATCH);
  montecarlo("sample_inverse_uniform", b_inv_uniform, SAMPLE_BATCH);
  montecarlo("sample_inverse_exponential", b_inv_exp, SAMPLE_BATCH);
  montecarlo("sample_inverse_pareto", b_inv_pareto, SAMPLE_BATCH);
  montecarlo("sample_reject_uniform", b_rej_uniform, SAMPLE_BATCH);
  montecarlo("sample_reject_exponential", b_rej_exp, SAMPLE_BATCH);
  montecarlo("sample_reject_pareto", b_rej_pareto, SAMPLE_BATCH);
  montecarlo("mc_energy_exponential", b_mc_energy_exp, 65536);
  montecarlo("mc_energy_pareto", b_mc_energy_pareto, 65536);
  montecarlo("mc_billing_shaped_exponential", b_mc_billing_exp, 65536);
  montecarlo("mc_billing_convolution_uniform_n40", b_mc_billing_conv_uniform, 4096 * 40);
  return 0;
}
