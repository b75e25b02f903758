/*
 * apps/vquery/plot.c: `spot vquery run --plot DIR`: the experiment's figures, drawn with gnuplot (gnuplot-nox) as
 * PNG and SVG, the way `spot plan --plot` draws the planner's (tools/spot/plan_plot.c): the curves' data and one
 * script go to a scratch directory, gnuplot runs once per format, the scratch directory is removed.
 *   energy.{png,svg}   mean energy and V+ against the threshold rho: closed forms of the law of whole queries and
 *                      MODEL.md's continuous ones, the run's measured point with +-2 standard errors;
 *   billing.{png,svg}  both meters against the quota theta: the quantised closed form (Monte Carlo), the shaped
 *                      continuous one, the run's own volumes re-billed at every theta, theta* and N mu marked, the
 *                      measured points.
 * In real mode the law is the exponential fit to the run's volumes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"

#define POINTS 161
#define B ((double)VQ_QUERY_BITS)
#define MC_PLOT 20000

static int fail(const char *fmt, const char *arg) {
  fputs("spot vquery run: --plot: ", stderr);
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  return 1;
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

static FILE *open_in(const char *dir, const char *name, char *path, size_t cap) {
  snprintf(path, cap, "%s/%s", dir, name);
  return fopen(path, "w");
}

/* The law the curves are drawn for: the run's, or in real mode the exponential fit. */
static int plot_law(const vq_params_t *p, const vq_report_t *r, spot_dist_t *law) {
  if (p->controlled)
    return spot_dist_init(law, p->kind, p->mu, p->alpha);
  if (!r->fit_exp.ok)
    return -1;
  return spot_dist_init(law, SPOT_DIST_EXPONENTIAL, r->fit_exp.fit.mu, 0);
}

static int energy_data(const char *tmp, const vq_params_t *p, const vq_report_t *r, const spot_dist_t *law,
                       double *top) {
  char path[4200];
  FILE *f = open_in(tmp, "energy.dat", path, sizeof path);
  if (f == NULL)
    return -1;
  spot_rates_t rt;
  spot_rates_default(&rt);
  rt.eps_a = r->eps_a, rt.eps_i = r->eps_i;
  *top = fmax(3 * law->mu, 1.5 * p->rho);
  for (int i = 0; i < POINTS; i++) {
    double rho = *top * i / (POINTS - 1), eq = NAN, vq = NAN, ec = NAN, vc = NAN;
    vq_quant_energy(law, B, r->eps_a, r->eps_i, rho, &eq, &vq);
    spot_energy_mean(law, &rt, rho, &ec);
    if (spot_energy_var(law, &rt, rho, SPOT_VAR_V1, &vc) < 0)
      vc = NAN;
    fprintf(f, "%.10g %.10g %.10g %.10g %.10g\n", rho, eq, vq, ec, vc);
  }
  fclose(f);
  return 0;
}

static void energy_script(FILE *s, const char *tmp, const vq_params_t *p, const vq_report_t *r) {
  fprintf(s, "set title 'Device energy per interval against the threshold rho (%s, %u devices x %u intervals)'\n",
          p->controlled ? spot_dist_name(p->kind) : "real volumes, exponential fit", p->devices, p->intervals);
  fprintf(s, "set xlabel 'threshold rho [b]'\nset ylabel 'mean energy [J]'\nset y2label 'V+ [J^2]'\n");
  fprintf(s, "set ytics nomirror\nset y2tics\nset key left top\n");
  fprintf(s, "set arrow 1 from %.10g, graph 0 to %.10g, graph 1 nohead dt 2 lc rgb 'gray40'\n", p->rho, p->rho);
  fprintf(s, "plot '%s/energy.dat' u 1:2 w l lw 2 lc rgb '#1f77b4' t 'E, whole queries'", tmp);
  fprintf(s, ", '' u 1:4 w l lw 1 dt 2 lc rgb '#1f77b4' t 'E, continuous (MODEL.md)'");
  fprintf(s, ", '' u 1:3 axes x1y2 w l lw 2 lc rgb '#d62728' t 'V+, whole queries'");
  fprintf(s, ", '' u 1:5 axes x1y2 w l lw 1 dt 2 lc rgb '#d62728' t 'V+, continuous'");
  fprintf(s, ", '-' u 1:2:3 w yerrorbars pt 7 ps 1.5 lc rgb 'black' t 'measured E +-2 se'");
  fprintf(s, ", '-' u 1:2:3 axes x1y2 w yerrorbars pt 5 ps 1.5 lc rgb '#ff7f0e' t 'measured V+ +-2 se'\n");
  fprintf(s, "%.10g %.10g %.10g\ne\n", p->rho, r->energy.measured, 2 * r->energy.measured_se);
  fprintf(s, "%.10g %.10g %.10g\ne\n", p->rho, r->vplus.measured, 2 * r->vplus.measured_se);
  fprintf(s, "unset arrow 1\nunset y2label\nunset y2tics\nset ytics mirror\n");
}

/* Billing curves: theta, quantised model, shaped model, run re-billed (model), quantised instances, shaped
 * instances, run re-billed (instances). */
static int billing_data(const char *tmp, const vq_params_t *p, const vq_data_t *d, const spot_dist_t *law,
                        double *top) {
  double theta_star = isfinite(p->theta_star) ? p->theta_star : p->theta;
  *top = fmax(fmax(3 * p->devices * law->mu, 1.3 * theta_star), 1.3 * p->theta);
  double *mc = NULL, *s = malloc((d->nbilling + 1) * sizeof *s);
  if (s == NULL || vq_quant_sample_s(law, p->devices, B, MC_PLOT, p->sampler, p->seed ^ 0x9107, &mc) < 0) {
    free(s);
    return -1;
  }
  size_t ns = 0;
  uint32_t first = p->bill.idle_instances;
  for (size_t i = 0; i < d->nbilling; i++)
    if (d->billing[i].interval < p->intervals) {
      if (d->billing[i].interval == 0)
        first = d->billing[i].instances;
      s[ns++] = d->billing[i].volume_bits;
    }
  char path[4200];
  FILE *f = open_in(tmp, "billing.dat", path, sizeof path);
  spot_dist_t sh;
  spot_rates_t rt;
  spot_rates_default(&rt);
  rt.b_t = p->bill.b_t, rt.b_i = p->bill.b_i, rt.b_a = p->bill.b_a;
  int rc = f == NULL || spot_dist_shaped(&sh, law, p->devices) < 0 ? -1 : 0;
  for (int i = 0; rc == 0 && i < POINTS; i++) {
    double th = *top * i / (POINTS - 1), bc = NAN, run_m = NAN, run_i = NAN;
    vq_est_t qm, qi;
    vq_bill_estimate(&p->bill, mc, MC_PLOT, th, &qm, &qi);
    spot_billing(&sh, &rt, th, &bc);
    double ic = vq_bill_instance_usd(&p->bill, p->bill.idle_instances) +
                (vq_bill_instance_usd(&p->bill, p->bill.active_instances) -
                 vq_bill_instance_usd(&p->bill, p->bill.idle_instances)) *
                    spot_dist_sf(&sh, th);
    if (ns > 0) {
      run_m = run_i = 0;
      for (size_t t = 0; t < ns; t++) {
        run_m += vq_bill_model(&p->bill, s[t], th) / (double)ns;
        run_i += vq_bill_instance_usd(&p->bill, t == 0 ? first : vq_bill_instances(&p->bill, s[t - 1], th)) /
                 (double)ns;
      }
    }
    fprintf(f, "%.10g %.10g %.10g %.10g %.10g %.10g %.10g\n", th, qm.mean, bc, run_m, qi.mean, ic, run_i);
  }
  if (f)
    fclose(f);
  free(mc);
  free(s);
  return rc;
}

static void billing_panel(FILE *s, const char *tmp, const vq_params_t *p, const vq_report_t *r, int instances) {
  int c = instances ? 5 : 2;
  const vq_cmp_t *m = instances ? &r->billing_instance : &r->billing;
  const vq_cmp_t *a = instances ? &r->billing_instance_adhoc : &r->billing_adhoc;
  fprintf(s, "set title '%s per interval against the quota theta (%u devices)'\n",
          instances ? "Instance-seconds billing" : "Model billing (b_t, b_i, b_a)", p->devices);
  fprintf(s, "set xlabel 'quota theta [b]'\nset ylabel 'billing per interval [$]'\nset key right top\n");
  fprintf(s, "set format y '%%.2e'\n");
  if (isfinite(p->theta_star))
    fprintf(s, "set arrow 1 from %.10g, graph 0 to %.10g, graph 1 nohead dt 2 lc rgb '#2ca02c'\n", p->theta_star,
            p->theta_star);
  fprintf(s, "set arrow 2 from %.10g, graph 0 to %.10g, graph 1 nohead dt 3 lc rgb '#ff7f0e'\n", p->theta_adhoc,
          p->theta_adhoc);
  fprintf(s, "plot '%s/billing.dat' u 1:%d w l lw 2 lc rgb '#2ca02c' t 'whole queries, N devices (Monte Carlo)'", tmp,
          c);
  fprintf(s, ", '' u 1:%d w l lw 1 dt 2 lc rgb '#1f77b4' t 'shaped S = N R (MODEL.md)'", c + 1);
  fprintf(s, ", '' u 1:%d w l lw 1 lc rgb 'gray50' t 'this run''s volumes re-billed'", c + 2);
  fprintf(s, ", '-' u 1:2:3 w yerrorbars pt 7 ps 1.5 lc rgb 'black' t 'measured at theta = %.6g b'", p->theta);
  if (r->has_compare)
    fprintf(s, ", '-' u 1:2:3 w yerrorbars pt 5 ps 1.5 lc rgb '#ff7f0e' t 'same volumes at N mu = %.6g b'",
            p->theta_adhoc);
  fprintf(s, "\n%.10g %.10g %.10g\ne\n", p->theta, m->measured, 2 * m->measured_se);
  if (r->has_compare)
    fprintf(s, "%.10g %.10g %.10g\ne\n", p->theta_adhoc, a->measured, 2 * a->measured_se);
  fprintf(s, "unset arrow 1\nunset arrow 2\nset format y\n");
}

/* Runs gnuplot on the script body for one output file. */
static int draw(const char *tmp, const char *body, const char *out, int svg, int height) {
  char script[4200], cmd[9000];
  snprintf(script, sizeof script, "%s/plot.gp", tmp);
  FILE *s = fopen(script, "w");
  if (s == NULL)
    return -1;
  if (svg)
    fprintf(s, "set terminal svg size 1100,%d dynamic enhanced font 'Helvetica,12' background rgb 'white'\n", height);
  else
    fprintf(s, "set terminal pngcairo size 1100,%d enhanced font 'Helvetica,11'\n", height);
  fprintf(s, "set output ");
  gp_quote(s, out);
  fprintf(s, "\nset grid\nset encoding utf8\n%s", body);
  fclose(s);
  snprintf(cmd, sizeof cmd, "gnuplot '%s' 2>'%s/err'", script, tmp);
  return system(cmd) == 0 ? 0 : -1;
}

/* Writes the script body of one figure into a string (malloc'ed). */
static char *body_of(void (*fn)(FILE *, const char *, const vq_params_t *, const vq_report_t *, int), const char *tmp,
                     const vq_params_t *p, const vq_report_t *r, int panels) {
  char *buf = NULL;
  size_t len = 0;
  FILE *s = open_memstream(&buf, &len);
  if (s == NULL)
    return NULL;
  if (panels == 2)
    fprintf(s, "set multiplot layout 2,1\n");
  for (int i = 0; i < panels; i++)
    fn(s, tmp, p, r, i);
  if (panels == 2)
    fprintf(s, "unset multiplot\n");
  fclose(s);
  return buf;
}

static void energy_fn(FILE *s, const char *tmp, const vq_params_t *p, const vq_report_t *r, int i) {
  (void)i;
  energy_script(s, tmp, p, r);
}

static void billing_fn(FILE *s, const char *tmp, const vq_params_t *p, const vq_report_t *r, int i) {
  billing_panel(s, tmp, p, r, i);
}

int vq_report_plot(const char *dir, const vq_params_t *p, const vq_data_t *d, const vq_report_t *r) {
  if (system("command -v gnuplot >/dev/null 2>&1") != 0)
    return fail("%s", "gnuplot is not installed (apt-get install gnuplot-nox); the report above is complete "
                      "without it");
  if (mkdir(dir, 0755) != 0 && access(dir, W_OK) != 0)
    return fail("cannot write to the directory %s (make it, or name another)", dir);
  spot_dist_t law;
  if (plot_law(p, r, &law) < 0)
    return fail("%s", "no law to draw (real mode without an exponential fit)");
  char tmp[] = "/tmp/spot-vqplot-XXXXXX";
  if (mkdtemp(tmp) == NULL)
    return fail("%s", "cannot make a scratch directory in /tmp");
  double te, tb;
  int rc = energy_data(tmp, p, r, &law, &te);
  if (rc == 0)
    rc = billing_data(tmp, p, d, &law, &tb);
  char *eb = rc == 0 ? body_of(energy_fn, tmp, p, r, 1) : NULL;
  char *bb = rc == 0 ? body_of(billing_fn, tmp, p, r, 2) : NULL;
  char out[4200];
  const char *bad = NULL;
  for (int svg = 0; rc == 0 && svg < 2; svg++) {
    snprintf(out, sizeof out, "%s/energy.%s", dir, svg ? "svg" : "png");
    if ((rc = draw(tmp, eb ? eb : "", out, svg, 600)) < 0) {
      bad = "energy";
      break;
    }
    snprintf(out, sizeof out, "%s/billing.%s", dir, svg ? "svg" : "png");
    if ((rc = draw(tmp, bb ? bb : "", out, svg, 1000)) < 0)
      bad = "billing";
  }
  char errline[512] = "";
  if (bad) {
    char ep[4200];
    snprintf(ep, sizeof ep, "%s/err", tmp);
    FILE *e = fopen(ep, "r");
    if (e) {
      if (fgets(errline, sizeof errline, e) == NULL)
        errline[0] = '\0';
      fclose(e);
      errline[strcspn(errline, "\n")] = '\0';
    }
  }
  free(eb);
  free(bb);
  char cmd[4300];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
  if (system(cmd) != 0) { /* a leftover scratch directory is harmless */
  }
  if (bad) {
    char msg[700];
    snprintf(msg, sizeof msg, "gnuplot could not draw the %s figure%s%s", bad, errline[0] ? ": " : "", errline);
    return fail("%s", msg);
  }
  if (rc < 0)
    return fail("cannot write the figures' data in %s", tmp);
  return 0;
}
