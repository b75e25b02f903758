/*
 * plan_plot.c: `spot plan --plot FILE.svg|FILE.png`: draws with gnuplot (where installed) the curves behind the
 * figures: mean energy and variability against the threshold with the chosen threshold marked; billing against the
 * quota with the optimum and the ad-hoc quota marked; for montecarlo, sampled points with error bars over the
 * analytic curves; design draws both panels. The data and the script go to a scratch directory removed afterwards.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "plan.h"

#define POINTS 241
#define MC_POINTS 12

static int has_suffix(const char *s, const char *suf) {
  size_t n = strlen(s), k = strlen(suf);
  return n >= k && strcmp(s + n - k, suf) == 0;
}

/* gnuplot's string syntax: single quotes, doubled inside. */
static void gp_quote(FILE *f, const char *s) {
  fputc('\'', f);
  for (; *s; s++) {
    if (*s == '\'')
      fputc('\'', f);
    fputc(*s, f);
  }
  fputc('\'', f);
}

static uint64_t mc_samples(const plan_t *p) {
  uint64_t k = p->samples / MC_POINTS;
  return k < 1000 ? 1000 : k;
}

/* Energy panel data: rho, E, V; and MC points: rho, E mean, E se, V mean, V se. */
static int energy_data(const plan_t *p, const char *dir, double *xmax) {
  char path[4200];
  spot_dist_t d;
  double mu = p->v[PF_VOLUME], rho0 = p->v[PF_THRESHOLD];
  int rc = plan_device(p, mu, &d);
  if (rc < 0)
    return rc;
  double top = fmax(3 * mu, 1.5 * rho0);
  *xmax = top;
  snprintf(path, sizeof path, "%s/energy.dat", dir);
  FILE *f = fopen(path, "w");
  if (f == NULL)
    return -1;
  for (int i = 0; i < POINTS; i++) {
    double rho = top * i / (POINTS - 1), e, v = NAN;
    spot_energy_mean(&d, &p->rates, rho, &e);
    if (p->reading && spot_energy_var(&d, &p->rates, rho, p->reading, &v) < 0)
      v = NAN;
    fprintf(f, "%.10g %.10g %.10g\n", rho, e, v);
  }
  fclose(f);
  if (p->montecarlo) {
    snprintf(path, sizeof path, "%s/energy_mc.dat", dir);
    f = fopen(path, "w");
    if (f == NULL)
      return -1;
    spot_rng_t g;
    spot_rng_seed(&g, p->seed + 1);
    for (int i = 1; i <= MC_POINTS; i++) {
      double rho = top * i / (MC_POINTS + 1);
      spot_mc_t me, mv = {NAN, NAN};
      int has_v = p->reading && !isnan(p->v[PF_VARIABILITY]);
      if (spot_mc_energy(&d, &p->rates, rho, p->reading ? p->reading : SPOT_VAR_V1, mc_samples(p), p->sampler, &g,
                         &me, has_v ? &mv : NULL) < 0)
        continue;
      fprintf(f, "%.10g %.10g %.10g %.10g %.10g\n", rho, me.mean, me.se, mv.mean, mv.se);
    }
    fclose(f);
  }
  return 0;
}

/* Billing panel data: theta, B; MC points: theta, B mean, se. */
static int billing_data(const plan_t *p, const char *dir, double *xmax) {
  char path[4200];
  double mu = p->v[PF_VOLUME], n = isnan(p->v[PF_N_DEVICES]) ? p->v[PF_DEVICES] : p->v[PF_N_DEVICES];
  double theta_star = p->is_input[PF_QUOTA] ? NAN : p->v[PF_QUOTA];
  double top = fmax(3 * n * mu, isnan(theta_star) ? 0 : 1.5 * theta_star);
  if (!isnan(p->v[PF_QUOTA]))
    top = fmax(top, 1.2 * p->v[PF_QUOTA]);
  *xmax = top;
  double th[POINTS], b[POINTS];
  for (int i = 0; i < POINTS; i++)
    th[i] = top * i / (POINTS - 1);
  int rc = plan_billing_curve(p, mu, n, th, POINTS, b);
  if (rc < 0)
    return rc;
  snprintf(path, sizeof path, "%s/billing.dat", dir);
  FILE *f = fopen(path, "w");
  if (f == NULL)
    return -1;
  for (int i = 0; i < POINTS; i++)
    if (!isnan(b[i]))
      fprintf(f, "%.10g %.10g\n", th[i], b[i]);
  fclose(f);
  if (p->montecarlo) {
    spot_dist_t d;
    if ((rc = plan_device(p, mu, &d)) < 0)
      return rc;
    snprintf(path, sizeof path, "%s/billing_mc.dat", dir);
    f = fopen(path, "w");
    if (f == NULL)
      return -1;
    spot_rng_t g;
    spot_rng_seed(&g, p->seed + 2);
    uint64_t k = mc_samples(p);
    if (p->conv)
      k = k / (uint64_t)n > 500 ? k / (uint64_t)n : 500;
    for (int i = 1; i <= MC_POINTS; i++) {
      double theta = top * i / (MC_POINTS + 1);
      spot_mc_t m;
      if (spot_mc_billing(&d, p->conv ? floor(n) : n, p->conv, &p->rates, theta, k, p->sampler, &g, &m) < 0)
        continue;
      fprintf(f, "%.10g %.10g %.10g\n", theta, m.mean, m.se);
    }
    fclose(f);
  }
  return 0;
}

static void energy_panel(const plan_t *p, FILE *s, const char *dir) {
  fprintf(s, "set title 'Device energy per T against the threshold (%s)'\n", spot_dist_name(p->kind));
  fprintf(s, "set xlabel 'threshold rho [b]'\nset ylabel 'mean energy E [J]'\n");
  fprintf(s, "set key left top\n");
  int var = p->reading != 0;
  if (var)
    fprintf(s, "set y2label 'one-sided variability V+ [J^2]'\nset ytics nomirror\nset y2tics\n");
  fprintf(s, "set arrow 1 from %.10g, graph 0 to %.10g, graph 1 nohead dt 2 lc rgb 'gray40'\n", p->v[PF_THRESHOLD],
          p->v[PF_THRESHOLD]);
  fprintf(s, "plot '%s/energy.dat' u 1:2 w l lw 2 lc rgb '#1f77b4' t 'E[En](rho)'", dir);
  if (var)
    fprintf(s, ", '' u 1:3 axes x1y2 w l lw 2 lc rgb '#d62728' t 'V+(rho)'");
  fprintf(s, ", '-' u 1:2 w p pt 7 ps 1.5 lc rgb 'black' t 'chosen rho = %.6g b'", p->v[PF_THRESHOLD]);
  if (p->montecarlo) {
    fprintf(s, ", '%s/energy_mc.dat' u 1:2:(2*$3) w yerrorbars pt 6 lc rgb '#1f77b4' t 'E, Monte Carlo +-2 s.e.'",
            dir);
    if (var)
      fprintf(s, ", '' u 1:4:(2*$5) axes x1y2 w yerrorbars pt 6 lc rgb '#d62728' t 'V+, Monte Carlo +-2 s.e.'");
  }
  fprintf(s, "\n%.10g %.10g\ne\n", p->v[PF_THRESHOLD], p->v[PF_ENERGY]);
  fprintf(s, "unset arrow 1\nunset y2label\nunset y2tics\nset ytics mirror\n");
}

static void billing_panel(const plan_t *p, FILE *s, const char *dir) {
  double n = isnan(p->v[PF_N_DEVICES]) ? p->v[PF_DEVICES] : p->v[PF_N_DEVICES];
  fprintf(s, "set title 'Billing per aggregator per T against the quota (N = %g, %s aggregate)'\n", n,
          p->conv ? "convolution" : "shaped");
  fprintf(s, "set xlabel 'quota theta [b]'\nset ylabel 'billing B [$]'\nset key right top\nset format y '%%.3e'\n");
  fprintf(s, "plot '%s/billing.dat' u 1:2 w l lw 2 lc rgb '#2ca02c' t 'B(theta)'", dir);
  int opt = !isnan(p->v[PF_BILLING_MIN]) && !p->is_input[PF_QUOTA];
  if (opt)
    fprintf(s, ", '-' u 1:2 w p pt 7 ps 1.5 lc rgb 'black' t 'optimum theta* = %.6g b, B* = %.4g $'", p->v[PF_QUOTA],
            p->v[PF_BILLING_MIN]);
  fprintf(s, ", '-' u 1:2 w p pt 5 ps 1.5 lc rgb '#ff7f0e' t 'ad hoc theta = N mu, B = %.4g $ (saving %.1f%%)'",
          p->v[PF_BILLING_ADHOC], 100 * p->v[PF_SAVING]);
  if (!isnan(p->v[PF_BILLING]))
    fprintf(s, ", '-' u 1:2 w p pt 9 ps 1.5 lc rgb '#9467bd' t 'given theta, B = %.4g $'", p->v[PF_BILLING]);
  if (p->montecarlo)
    fprintf(s, ", '%s/billing_mc.dat' u 1:2:(2*$3) w yerrorbars pt 6 lc rgb '#2ca02c' t 'Monte Carlo +-2 s.e.'", dir);
  fputc('\n', s);
  if (opt)
    fprintf(s, "%.10g %.10g\ne\n", p->v[PF_QUOTA], p->v[PF_BILLING_MIN]);
  fprintf(s, "%.10g %.10g\ne\n", p->v[PF_QUOTA_ADHOC], p->v[PF_BILLING_ADHOC]);
  if (!isnan(p->v[PF_BILLING]))
    fprintf(s, "%.10g %.10g\ne\n", p->v[PF_QUOTA], p->v[PF_BILLING]);
}

int plan_plot(const plan_t *p) {
  const char *path = p->plot, *term;
  if (has_suffix(path, ".svg"))
    term = "svg size 1100,%d dynamic enhanced font 'Helvetica,12' background rgb 'white'";
  else if (has_suffix(path, ".png"))
    term = "pngcairo size 1100,%d enhanced font 'Helvetica,11'";
  else
    return spot_cli_fail(0, "plan: --plot needs a file name ending in .svg or .png, not '%s'", path);
  if (system("command -v gnuplot >/dev/null 2>&1") != 0)
    return spot_cli_fail(0, "plan: --plot needs gnuplot, which is not installed (apt-get install gnuplot-nox); "
                            "the figures above are complete without it");
  char dir[] = "/tmp/spot-plot-XXXXXX";
  if (mkdtemp(dir) == NULL)
    return spot_cli_fail(0, "plan: cannot make a scratch directory for the plot");
  int energy = !isnan(p->v[PF_ENERGY]), billing = !isnan(p->v[PF_BILLING_ADHOC]);
  double xe = 0, xb = 0;
  int rc = 0;
  if (energy)
    rc = energy_data(p, dir, &xe);
  if (rc == 0 && billing)
    rc = billing_data(p, dir, &xb);
  char script[4200], cmd[8600];
  snprintf(script, sizeof script, "%s/plot.gp", dir);
  FILE *s = rc == 0 ? fopen(script, "w") : NULL;
  if (s == NULL) {
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) { /* nothing more to do */
    }
    return rc < -100 ? spot_cli_fail(0, "plan: plot: %s", spot_model_strerror(rc))
                     : spot_cli_fail(0, "plan: cannot write the plot's data in %s", dir);
  }
  int panels = energy + billing;
  fprintf(s, "set terminal ");
  fprintf(s, term, panels == 2 ? 1000 : 600);
  fprintf(s, "\nset output ");
  gp_quote(s, path);
  fprintf(s, "\nset grid\nset encoding utf8\n");
  if (panels == 2)
    fprintf(s, "set multiplot layout 2,1\n");
  if (energy)
    energy_panel(p, s, dir);
  if (billing)
    billing_panel(p, s, dir);
  if (panels == 2)
    fprintf(s, "unset multiplot\n");
  fclose(s);
  (void)xe;
  (void)xb;
  snprintf(cmd, sizeof cmd, "gnuplot '%s' 2>'%s/err'", script, dir);
  int st = system(cmd);
  char errline[512] = "";
  if (st != 0) {
    char ep[4200];
    snprintf(ep, sizeof ep, "%s/err", dir);
    FILE *e = fopen(ep, "r");
    if (e) {
      if (fgets(errline, sizeof errline, e) == NULL)
        errline[0] = '\0';
      fclose(e);
      errline[strcspn(errline, "\n")] = '\0';
    }
  }
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) { /* a leftover scratch directory is harmless */
  }
  if (st != 0)
    return spot_cli_fail(0, "plan: gnuplot could not draw %s%s%s", path, errline[0] ? ": " : "", errline);
  if (!p->json)
    printf("plot: %s\n", path);
  return 0;
}
