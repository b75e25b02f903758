/*
 * cmd_plan.c: `spot plan VERB`, the energy/billing planner: a device's threshold and energy, the cloud's quota and
 * billing, and the devices per aggregator, over the model of include/spot/model.h (MODEL.md).
 *
 * Flags may also come from a key=value file (--params FILE; the flag's name without dashes as key, '-' or '_');
 * flags on the command line win. Rates default to MODEL.md section 8. Every model error ends the command with
 * exit status 1 and the model's sentence naming the bound crossed; a result beyond the range of a double
 * (SPOT_MODEL_EOVERFLOW, or an infinite figure) names the figure that overflowed, never prints inf or null.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plan.h"

static const char usage_text[] =
    "usage: spot plan VERB [flags] [--json] [--plot FILE.svg|FILE.png] [--params FILE]\n"
    "  energy    --dist D --mu BITS --rho BITS         mean energy and variability at a threshold\n"
    "  threshold --dist D --mu BITS --energy J         threshold meeting a mean energy target\n"
    "            --dist D --energy J --vcap J2         ... and its volume, meeting a variability cap too\n"
    "  volume    --dist D --rho BITS --energy J        volume meeting a mean energy target\n"
    "  billing   --dist D --devices N --mu BITS --quota BITS\n"
    "  quota     --dist D --devices N --mu BITS        optimal quota, minimum billing, saving vs ad hoc\n"
    "  devices   --dist D --mu BITS --billing USD      devices per aggregator for a billing target\n"
    "  design    --dist D --devices N (--mu BITS | --rho BITS) --energy J [--billing USD]\n"
    "  montecarlo VERB ... [--samples K] [--seed S] [--sampler inverse|reject]\n"
    "D is uniform | exponential | pareto (with --alpha A) | fixed.\n"
    "Rates: --eps-a --eps-i (J/b; default 2.5e-4, 1e-4), --b-i --b-a --b-t ($/b; default 1e-11, 1e-10, 1.9e-11).\n"
    "--variability v1|v2|none (default v1), --aggregate shaped|convolution (default shaped), --grid CELLS\n"
    "(convolution lattice, default 4096). design without --billing takes the ad-hoc billing B(N mu) as the target.\n";

/* ---------------------------------------------------------------------------------------------------------------
 * Computation.
 */
static void set(plan_t *p, plan_field_t f, double x, int input) {
  p->v[f] = x;
  p->is_input[f] = (unsigned char)input;
}

int plan_device(const plan_t *p, double mu, spot_dist_t *d) {
  return spot_dist_init(d, p->kind, mu, p->in[PF_ALPHA]);
}

/* rc of a model call computing `what`: on SPOT_MODEL_EOVERFLOW the first such what is kept for the error line. */
static int at(plan_t *p, const char *what, int rc) {
  if (rc == SPOT_MODEL_EOVERFLOW && p->overflow == NULL)
    p->overflow = what;
  return rc;
}

static int fig(plan_t *p, plan_field_t f, int rc) { return at(p, plan_field_label(f), rc); }

/* The device law at mean mu (its only overflow: the uniform law's upper end 2 mu). */
static int device(plan_t *p, double mu, spot_dist_t *d) {
  return at(p, "the uniform law's upper end 2 mu", plan_device(p, mu, d));
}

/* The convolution of n devices of law d, with the workspace it needs (freed by conv_free). */
static int conv_make(const plan_t *p, const spot_dist_t *d, double n, spot_conv_t *c, double **work) {
  size_t grid = p->grid, nw = spot_conv_work_doubles(grid);
  *work = NULL;
  if (d->form != SPOT_DIST_EXPONENTIAL) {
    *work = malloc(nw * sizeof **work);
    if (*work == NULL)
      return SPOT_MODEL_EWORK;
  }
  if (n != floor(n))
    n = floor(n); /* the convolution needs whole devices */
  int rc = spot_conv_init(c, d, n, grid, 1e-5, *work, nw);
  if (rc < 0) {
    free(*work);
    *work = NULL;
  }
  return rc;
}

int plan_billing_curve(const plan_t *p, double mu, double n, const double *theta, size_t count, double *out) {
  spot_dist_t d, s;
  int rc = plan_device(p, mu, &d);
  if (rc < 0)
    return rc;
  if (!p->conv) {
    if ((rc = spot_dist_shaped(&s, &d, n)) < 0)
      return rc;
    for (size_t i = 0; i < count; i++)
      if ((rc = spot_billing(&s, &p->rates, theta[i], &out[i])) < 0)
        return rc;
    return 0;
  }
  spot_conv_t c;
  double *work;
  if ((rc = conv_make(p, &d, n, &c, &work)) < 0)
    return rc;
  for (size_t i = 0; i < count; i++)
    if (spot_conv_billing(&c, &p->rates, theta[i], &out[i]) < 0)
      out[i] = NAN;
  free(work);
  return 0;
}

/* Energy figures at (mu, rho): mean, derivative, variability (per --variability). */
static int energy_at(plan_t *p, double mu, double rho) {
  spot_dist_t d;
  double e, de, v, dv;
  int rc;
  if ((rc = device(p, mu, &d)) < 0 || (rc = fig(p, PF_ENERGY, spot_energy_mean(&d, &p->rates, rho, &e))) < 0 ||
      (rc = fig(p, PF_DENERGY, spot_energy_dmean(&d, &p->rates, rho, &de, NULL))) < 0)
    return rc;
  set(p, PF_ENERGY, e, 0);
  set(p, PF_DENERGY, de, 0);
  if (p->reading) {
    if ((rc = fig(p, PF_VARIABILITY, spot_energy_var(&d, &p->rates, rho, p->reading, &v))) < 0 ||
        (rc = fig(p, PF_DVARIABILITY, spot_energy_dvar(&d, &p->rates, rho, p->reading, &dv))) < 0)
      return rc;
    set(p, PF_VARIABILITY, v, 0);
    set(p, PF_DVARIABILITY, dv, 0);
  }
  if (d.form == SPOT_DIST_UNIFORM && rho > 2 * mu)
    plan_note(p, "rho > 2 mu lies outside the paper's domain 0 <= rho <= 2 mu: the device always idles partially");
  if (d.form == SPOT_DIST_PARETO && rho <= d.xm)
    plan_note(p, "rho <= r_m: the device never idles (Proposition 1 assumes rho > r_m)");
  return 0;
}

/* Billing figures of n devices of mean mu: the optimum, the ad-hoc point, the saving; and B at a given quota. */
static int billing_at(plan_t *p, double mu, double n, double quota) {
  spot_dist_t d, s;
  int rc;
  if ((rc = device(p, mu, &d)) < 0)
    return rc;
  double theta, bmin, badhoc, saving, b = NAN, db = NAN, c;
  if (!p->conv) {
    if ((rc = at(p, "the aggregate's mean N mu", spot_dist_shaped(&s, &d, n))) < 0 ||
        (rc = at(p, "the optimal quota theta* or the minimum billing B*",
                 spot_billing_optimum(&s, &p->rates, &theta, &bmin))) < 0 ||
        (rc = fig(p, PF_BILLING_ADHOC, spot_billing(&s, &p->rates, s.mu, &badhoc))) < 0 ||
        (rc = fig(p, PF_SAVING, spot_billing_saving(&s, &p->rates, &saving))) < 0 ||
        (rc = fig(p, PF_COEF, spot_billing_coef(&s, &p->rates, &c, NULL))) < 0)
      return rc;
    if (!isnan(quota) && ((rc = fig(p, PF_BILLING, spot_billing(&s, &p->rates, quota, &b))) < 0 ||
                          (rc = fig(p, PF_DBILLING, spot_billing_deriv(&s, &p->rates, quota, &db, NULL))) < 0))
      return rc;
    set(p, PF_COEF, c, 0);
  } else {
    spot_conv_t cv;
    double *work;
    if ((rc = conv_make(p, &d, n, &cv, &work)) < 0)
      return rc;
    rc = at(p, "the optimal quota theta* or the minimum billing B*",
            spot_conv_optimum(&cv, &p->rates, &theta, &bmin, &badhoc, &saving));
    if (rc == 0 && !isnan(quota)) {
      double f;
      if ((rc = fig(p, PF_BILLING, spot_conv_billing(&cv, &p->rates, quota, &b))) == 0 &&
          (rc = spot_conv_cdf(&cv, quota, &f)) == 0)
        db = (p->rates.b_i + p->rates.b_a) * f - p->rates.b_a;
    }
    free(work);
    if (rc < 0)
      return rc;
    if (n != floor(n))
      plan_note(p, "the convolution takes floor(N) whole devices");
  }
  if (!isnan(quota)) {
    set(p, PF_BILLING, b, 0);
    set(p, PF_DBILLING, db, 0);
  }
  set(p, PF_QUOTA_ADHOC, (p->conv ? floor(n) : n) * mu, 0);
  if (isnan(quota))
    set(p, PF_QUOTA, theta, 0);
  set(p, PF_BILLING_MIN, bmin, 0);
  set(p, PF_BILLING_ADHOC, badhoc, 0);
  set(p, PF_SAVING, saving, 0);
  return 0;
}

/* The largest whole N whose minimum billing stays within bbar, under convolution: B*(N) grows with N. */
static int conv_devices(plan_t *p, double mu, double bbar, double *nout, double *bmin_out) {
  spot_dist_t d;
  int rc = device(p, mu, &d);
  if (rc < 0)
    return rc;
  if (!(bbar > 0) || !isfinite(bbar))
    return SPOT_MODEL_EBILLING;
  double lo = 0, hi = 1, blo = NAN;
  for (;;) {
    spot_conv_t c;
    double *work, bm;
    if ((rc = conv_make(p, &d, hi, &c, &work)) < 0)
      return rc;
    rc = fig(p, PF_BILLING_MIN, spot_conv_optimum(&c, &p->rates, NULL, &bm, NULL, NULL));
    free(work);
    if (rc < 0)
      return rc;
    if (bm > bbar)
      break;
    lo = hi, blo = bm;
    hi *= 2;
    if (hi > 1e12)
      return SPOT_MODEL_ENOCONV;
  }
  if (lo < 1)
    return SPOT_MODEL_EBILLINGLOW;
  while (hi - lo > 1) {
    double mid = floor((lo + hi) / 2), bm;
    spot_conv_t c;
    double *work;
    if ((rc = conv_make(p, &d, mid, &c, &work)) < 0)
      return rc;
    rc = fig(p, PF_BILLING_MIN, spot_conv_optimum(&c, &p->rates, NULL, &bm, NULL, NULL));
    free(work);
    if (rc < 0)
      return rc;
    if (bm > bbar)
      hi = mid;
    else
      lo = mid, blo = bm;
  }
  *nout = lo;
  *bmin_out = blo;
  return 0;
}

static int need(const plan_t *p, plan_field_t f, const char *flag) {
  if (isnan(p->in[f]))
    return spot_cli_fail(0, "plan %s needs %s", p->verb, flag);
  return 0;
}

static int verb_energy(plan_t *p) {
  if (need(p, PF_VOLUME, "--mu BITS") || need(p, PF_THRESHOLD, "--rho BITS"))
    return 1;
  set(p, PF_VOLUME, p->in[PF_VOLUME], 1);
  set(p, PF_THRESHOLD, p->in[PF_THRESHOLD], 1);
  return energy_at(p, p->in[PF_VOLUME], p->in[PF_THRESHOLD]);
}

static int verb_threshold(plan_t *p) {
  if (need(p, PF_ENERGY_TARGET, "--energy J"))
    return 1;
  double e = p->in[PF_ENERGY_TARGET], rho, mu;
  int rc;
  set(p, PF_ENERGY_TARGET, e, 1);
  if (!isnan(p->in[PF_VCAP])) {
    if (!isnan(p->in[PF_VOLUME]))
      return spot_cli_fail(0, "plan threshold: give --mu or --vcap, not both (--vcap solves for mu too)");
    if (!p->reading)
      return spot_cli_fail(0, "plan threshold: --vcap needs --variability v1 or v2");
    set(p, PF_VCAP, p->in[PF_VCAP], 1);
    if ((rc = at(p, "the threshold rho or the volume mu meeting the cap",
                 spot_energy_vcap(p->kind, p->in[PF_ALPHA], &p->rates, e, p->in[PF_VCAP], p->reading, &rho, &mu))) < 0)
      return rc;
    set(p, PF_VOLUME, mu, 0);
  } else {
    if (need(p, PF_VOLUME, "--mu BITS (or --vcap J2)"))
      return 1;
    mu = p->in[PF_VOLUME];
    spot_dist_t d;
    if ((rc = device(p, mu, &d)) < 0 || (rc = fig(p, PF_THRESHOLD, spot_energy_threshold(&d, &p->rates, e, &rho))) < 0)
      return rc;
    set(p, PF_VOLUME, mu, 1);
  }
  set(p, PF_THRESHOLD, rho, 0);
  return energy_at(p, mu, rho);
}

static int verb_volume(plan_t *p) {
  if (need(p, PF_THRESHOLD, "--rho BITS") || need(p, PF_ENERGY_TARGET, "--energy J"))
    return 1;
  double mu, rho = p->in[PF_THRESHOLD], e = p->in[PF_ENERGY_TARGET];
  int rc = fig(p, PF_VOLUME, spot_energy_volume(p->kind, p->in[PF_ALPHA], &p->rates, e, rho, &mu));
  if (rc < 0)
    return rc;
  set(p, PF_THRESHOLD, rho, 1);
  set(p, PF_ENERGY_TARGET, e, 1);
  set(p, PF_VOLUME, mu, 0);
  return energy_at(p, mu, rho);
}

static int verb_billing(plan_t *p) {
  if (need(p, PF_N_DEVICES, "--devices N") || need(p, PF_VOLUME, "--mu BITS") || need(p, PF_QUOTA, "--quota BITS"))
    return 1;
  set(p, PF_N_DEVICES, p->in[PF_N_DEVICES], 1);
  set(p, PF_VOLUME, p->in[PF_VOLUME], 1);
  set(p, PF_QUOTA, p->in[PF_QUOTA], 1);
  return billing_at(p, p->in[PF_VOLUME], p->in[PF_N_DEVICES], p->in[PF_QUOTA]);
}

static int verb_quota(plan_t *p) {
  if (need(p, PF_N_DEVICES, "--devices N") || need(p, PF_VOLUME, "--mu BITS"))
    return 1;
  set(p, PF_N_DEVICES, p->in[PF_N_DEVICES], 1);
  set(p, PF_VOLUME, p->in[PF_VOLUME], 1);
  return billing_at(p, p->in[PF_VOLUME], p->in[PF_N_DEVICES], NAN);
}

/* Devices for a billing target, then the billing figures at that whole N. */
static int devices_for(plan_t *p, double mu, double bbar) {
  double n, nreal, bmin;
  int rc;
  if (!p->conv) {
    spot_dist_t d;
    if ((rc = device(p, mu, &d)) < 0 ||
        (rc = fig(p, PF_DEVICES_REAL, spot_billing_devices(&d, &p->rates, bbar, &nreal))) < 0)
      return rc;
    n = floor(nreal);
    set(p, PF_DEVICES_REAL, nreal, 0);
  } else if ((rc = conv_devices(p, mu, bbar, &n, &bmin)) < 0) {
    return rc;
  }
  set(p, PF_DEVICES, n, 0);
  return 0;
}

static int verb_devices(plan_t *p) {
  if (need(p, PF_VOLUME, "--mu BITS") || need(p, PF_BILLING_TARGET, "--billing USD"))
    return 1;
  set(p, PF_VOLUME, p->in[PF_VOLUME], 1);
  set(p, PF_BILLING_TARGET, p->in[PF_BILLING_TARGET], 1);
  int rc = devices_for(p, p->in[PF_VOLUME], p->in[PF_BILLING_TARGET]);
  if (rc < 0)
    return rc;
  return billing_at(p, p->in[PF_VOLUME], p->v[PF_DEVICES], NAN); /* the figures at the whole N chosen */
}

static int verb_design(plan_t *p) {
  if (need(p, PF_N_DEVICES, "--devices N") || need(p, PF_ENERGY_TARGET, "--energy J"))
    return 1;
  if (isnan(p->in[PF_VOLUME]) == isnan(p->in[PF_THRESHOLD]))
    return spot_cli_fail(0, "plan design needs exactly one of --mu BITS (solve for rho) and --rho BITS (solve for mu)");
  double n = p->in[PF_N_DEVICES], e = p->in[PF_ENERGY_TARGET], mu, rho;
  int rc;
  if (!(n >= 1))
    return SPOT_MODEL_EDEVICES;
  set(p, PF_N_DEVICES, n, 1);
  set(p, PF_ENERGY_TARGET, e, 1);
  if (!isnan(p->in[PF_VOLUME])) {
    spot_dist_t d;
    mu = p->in[PF_VOLUME];
    if ((rc = device(p, mu, &d)) < 0 || (rc = fig(p, PF_THRESHOLD, spot_energy_threshold(&d, &p->rates, e, &rho))) < 0)
      return rc;
    set(p, PF_VOLUME, mu, 1);
    set(p, PF_THRESHOLD, rho, 0);
  } else {
    rho = p->in[PF_THRESHOLD];
    if ((rc = fig(p, PF_VOLUME, spot_energy_volume(p->kind, p->in[PF_ALPHA], &p->rates, e, rho, &mu))) < 0)
      return rc;
    set(p, PF_THRESHOLD, rho, 1);
    set(p, PF_VOLUME, mu, 0);
  }
  if ((rc = energy_at(p, mu, rho)) < 0 || (rc = billing_at(p, mu, n, NAN)) < 0)
    return rc;
  double bbar = p->in[PF_BILLING_TARGET];
  if (isnan(bbar)) {
    bbar = p->v[PF_BILLING_ADHOC];
    plan_note(p, "no --billing: the target is the ad-hoc billing B(N mu), so `devices` is how many devices the "
                 "optimal quota fits in today's bill");
  }
  set(p, PF_BILLING_TARGET, bbar, isnan(p->in[PF_BILLING_TARGET]) ? 0 : 1);
  /* keep the billing figures of the N given; the device count goes beside them */
  double keep[PF_COUNT];
  memcpy(keep, p->v, sizeof keep);
  if ((rc = devices_for(p, mu, bbar)) < 0)
    return rc;
  double nd = p->v[PF_DEVICES], nr = p->v[PF_DEVICES_REAL];
  memcpy(p->v, keep, sizeof keep);
  set(p, PF_DEVICES, nd, 0);
  set(p, PF_DEVICES_REAL, nr, 0);
  return 0;
}

typedef struct verb {
  const char *name;
  int (*fn)(plan_t *p);
} verb_t;

static const verb_t verbs[] = {
    {"energy", verb_energy}, {"threshold", verb_threshold}, {"volume", verb_volume}, {"billing", verb_billing},
    {"quota", verb_quota},   {"devices", verb_devices},     {"design", verb_design},
};

/* Monte Carlo rows for the figures the verb computed. */
static int run_montecarlo(plan_t *p) {
  spot_rng_t g;
  spot_rng_seed(&g, p->seed);
  spot_dist_t d;
  int rc;
  double mu = p->v[PF_VOLUME], n = !isnan(p->v[PF_N_DEVICES]) ? p->v[PF_N_DEVICES] : p->v[PF_DEVICES];
  if ((rc = device(p, mu, &d)) < 0)
    return rc;
  uint64_t k = p->samples;
  if (!isnan(p->v[PF_ENERGY])) {
    spot_mc_t me, mv;
    rc = at(p, "the Monte Carlo energy", spot_mc_energy(&d, &p->rates, p->v[PF_THRESHOLD], p->reading ? p->reading : SPOT_VAR_V1, k, p->sampler,
                        &g, &me, isnan(p->v[PF_VARIABILITY]) ? NULL : &mv));
    if (rc < 0)
      return rc;
    p->mc[p->nmc++] = (plan_mc_row_t){PF_ENERGY, p->v[PF_ENERGY], me.mean, me.se};
    if (!isnan(p->v[PF_VARIABILITY]))
      p->mc[p->nmc++] = (plan_mc_row_t){PF_VARIABILITY, p->v[PF_VARIABILITY], mv.mean, mv.se};
    if (d.form == SPOT_DIST_PARETO && d.alpha <= 4 && !isnan(p->v[PF_VARIABILITY]))
      plan_note(p, "alpha <= 4: the fourth moment is infinite, so the variability's standard error is unreliable");
  }
  if (!isnan(n) && !isnan(p->v[PF_BILLING_MIN])) {
    uint64_t kb = p->conv ? (k / (uint64_t)n > 1000 ? k / (uint64_t)n : 1000) : k;
    if (p->conv && kb != k)
      plan_note(p, "convolution: samples divided by N (each draws N device volumes)");
    struct {
      plan_field_t f;
      double theta;
    } pts[] = {{PF_BILLING, p->v[PF_QUOTA]}, {PF_BILLING_MIN, NAN}, {PF_BILLING_ADHOC, p->v[PF_QUOTA_ADHOC]}};
    /* theta* when the verb computed it; for `billing` it is recomputed below */
    double theta_opt = p->is_input[PF_QUOTA] ? NAN : p->v[PF_QUOTA];
    if (isnan(theta_opt)) {
      spot_dist_t s;
      if (p->conv) {
        spot_conv_t c;
        double *work;
        if ((rc = conv_make(p, &d, n, &c, &work)) < 0)
          return rc;
        rc = spot_conv_optimum(&c, &p->rates, &theta_opt, NULL, NULL, NULL);
        free(work);
      } else if ((rc = spot_dist_shaped(&s, &d, n)) == 0) {
        rc = spot_billing_optimum(&s, &p->rates, &theta_opt, NULL);
      }
      if (rc < 0)
        return rc;
    }
    pts[1].theta = theta_opt;
    for (int i = 0; i < 3; i++) {
      if (isnan(p->v[pts[i].f]) || isnan(pts[i].theta))
        continue;
      spot_mc_t mb;
      double nn = p->conv ? floor(n) : n;
      if ((rc = at(p, "the Monte Carlo billing",
                   spot_mc_billing(&d, nn, p->conv, &p->rates, pts[i].theta, kb, p->sampler, &g, &mb))) < 0)
        return rc;
      p->mc[p->nmc++] = (plan_mc_row_t){pts[i].f, p->v[pts[i].f], mb.mean, mb.se};
    }
    if (d.form == SPOT_DIST_PARETO && d.alpha <= 2)
      plan_note(p, "alpha <= 2: the billing's variance is infinite, so its standard error is unreliable");
  }
  return 0;
}

/* The first figure of the result that is infinite (a product of the tool's own, such as N*mu), as an overflow. */
static int check_finite(plan_t *p) {
  for (int f = 0; f < PF_COUNT; f++)
    if (!p->is_input[f] && isinf(p->v[f]))
      return fig(p, (plan_field_t)f, SPOT_MODEL_EOVERFLOW);
  for (int i = 0; i < p->nmc; i++)
    if (!isfinite(p->mc[i].sampled) || !isfinite(p->mc[i].se))
      return at(p, "a Monte Carlo estimate", SPOT_MODEL_EOVERFLOW);
  return 0;
}

static int model_fail(const plan_t *p, int rc) {
  if (rc == SPOT_MODEL_EOVERFLOW)
    return spot_cli_fail(0, "plan %s: %s overflows: %s", p->verb, p->overflow ? p->overflow : "a result",
                         spot_model_strerror(rc));
  if (rc == SPOT_MODEL_EALPHA2)
    return spot_cli_fail(0, "plan %s: %s; pass --variability none to plan without it", p->verb,
                         spot_model_strerror(rc));
  return spot_cli_fail(0, "plan %s: %s", p->verb, spot_model_strerror(rc));
}

int spot_cli_plan(int argc, char **argv, const char *ns_dir) {
  (void)ns_dir;
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    fputs(usage_text, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  static plan_t plan;
  plan_t *p = &plan;
  memset(p, 0, sizeof *p);
  for (int i = 0; i < PF_COUNT; i++)
    p->in[i] = p->v[i] = NAN;
  spot_rates_default(&p->rates);
  p->reading = SPOT_VAR_V1;
  p->samples = 1000000;
  p->seed = 1;
  p->grid = SPOT_CONV_GRID_DEFAULT;
  int arg = 1;
  if (strcmp(argv[1], "montecarlo") == 0 || strcmp(argv[1], "mc") == 0) {
    p->montecarlo = 1;
    if (argc < 3)
      return spot_cli_fail(0, "plan montecarlo needs a VERB (energy, threshold, volume, billing, quota, devices, design)");
    arg = 2;
  }
  const verb_t *verb = NULL;
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
    if (strcmp(argv[arg], verbs[i].name) == 0)
      verb = &verbs[i];
  if (verb == NULL)
    return spot_cli_fail(0, "plan: unknown verb '%s' (run `spot plan --help`)", argv[arg]);
  p->verb = verb->name;
  if (plan_parse_args(p, argc, argv, arg + 1) != 0)
    return 1;
  if (p->kind == 0)
    return spot_cli_fail(0, "plan %s needs --dist uniform|exponential|pareto|fixed", p->verb);
  if (p->kind == SPOT_DIST_PARETO && isnan(p->in[PF_ALPHA]))
    return spot_cli_fail(0, "plan %s: --dist pareto needs --alpha A (the shape, > 1)", p->verb);
  if (p->kind != SPOT_DIST_PARETO)
    p->in[PF_ALPHA] = 0;
  double *rate_in[] = {&p->in[PF_EPS_A], &p->in[PF_EPS_I], &p->in[PF_B_I], &p->in[PF_B_A], &p->in[PF_B_T]};
  double *rate[] = {&p->rates.eps_a, &p->rates.eps_i, &p->rates.b_i, &p->rates.b_a, &p->rates.b_t};
  for (int i = 0; i < 5; i++) {
    if (!isnan(*rate_in[i]))
      *rate[i] = *rate_in[i];
    set(p, (plan_field_t)(PF_EPS_A + i), *rate[i], 1);
  }
  if (p->kind == SPOT_DIST_PARETO)
    set(p, PF_ALPHA, p->in[PF_ALPHA], 1);
  int rc = spot_rates_check(&p->rates);
  if (rc == 0) {
    spot_dist_t probe;
    rc = spot_dist_init(&probe, p->kind, 1, p->in[PF_ALPHA]);
  }
  if (rc < 0)
    return model_fail(p, rc);
  rc = verb->fn(p);
  if (rc > 0)
    return rc; /* a usage error, already printed */
  /* show the rates the verb used: energy verbs use eps_a, eps_i; billing verbs b_i, b_a, b_t; design all */
  int uses_energy = strcmp(p->verb, "billing") && strcmp(p->verb, "quota") && strcmp(p->verb, "devices");
  int uses_billing = !strcmp(p->verb, "billing") || !strcmp(p->verb, "quota") || !strcmp(p->verb, "devices") ||
                     !strcmp(p->verb, "design");
  for (int i = 0; i < 5; i++)
    if (!(i < 2 ? uses_energy : uses_billing))
      p->v[PF_EPS_A + i] = NAN;
  if (rc == 0 && p->montecarlo) {
    if (p->samples < 2)
      rc = SPOT_MODEL_ESAMPLES;
    else
      rc = run_montecarlo(p);
  }
  if (rc == 0)
    rc = check_finite(p);
  if (rc < 0)
    return model_fail(p, rc);
  if (p->json)
    plan_print_json(p, stdout);
  else
    plan_print_table(p, stdout);
  if (p->plot)
    return plan_plot(p);
  return 0;
}
