/*
 * apps/vquery/tests/report_test.c: the experiment's report (report.c, report_out.c) on synthetic logs: devices that
 * draw volumes from a law, send whole queries and are metered at known rates (with a little meter noise), and a
 * cloud that bills each interval as the tiers do. The report must find the physics exact (predicted = measured up
 * to the noise), the statistics consistent (|z| small against the quantised closed forms), theta* cheaper than
 * N mu on the same volumes, and the latency and recall it was given; real mode must fit the law it was given.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "report.h"
#include "support.h"
#include "test.h"

#define B VQ_QUERY_BITS

static void params(vq_params_t *p, spot_dist_kind_t kind, double alpha, uint32_t n, uint32_t k) {
  memset(p, 0, sizeof *p);
  p->devices = n, p->intervals = k, p->interval_ms = 1000;
  p->controlled = 1, p->kind = kind, p->alpha = alpha, p->mu = 2.5 * B, p->rho = 3 * B;
  p->sampler = SPOT_SAMPLE_INVERSE;
  spot_rates_t r;
  spot_rates_default(&r);
  p->bill = (vq_bill_t){r.b_t, r.b_i, r.b_a, 0.01, 1.0, 3, 30};
  spot_dist_t d, s;
  spot_dist_init(&d, kind, p->mu, alpha);
  spot_dist_shaped(&s, &d, n);
  spot_billing_optimum(&s, &r, &p->theta_star, NULL);
  p->theta_adhoc = n * p->mu;
  p->quota = VQ_QUOTA_COMPARE, p->theta = p->theta_star;
  p->watts = 2, p->cores = 2, p->seed = 1, p->mc_samples = 100000, p->kill_cloud_at = -1;
}

/* The report as vq_report_print writes it (json: the JSON line), in a buffer that the next call reuses. */
static const char *printed(const vq_params_t *p, const vq_data_t *d, const vq_report_t *r, int json) {
  static char buf[16384];
  FILE *f = fmemopen(buf, sizeof buf, "w");
  if (f == NULL)
    return "";
  vq_report_print(f, p, d, r, json);
  fclose(f);
  return buf;
}

/* Synthetic logs of a run of p: noise is the meter's relative noise per interval. */
static void synth(const vq_params_t *p, double noise, vq_data_t *d, int real) {
  memset(d, 0, sizeof *d);
  uint32_t n = p->devices, k = p->intervals;
  d->calib = calloc(n, sizeof *d->calib);
  d->meter = calloc((size_t)n * k, sizeof *d->meter);
  d->billing = calloc(k, sizeof *d->billing);
  d->lat = calloc(1000, sizeof *d->lat);
  spot_dist_t law;
  spot_dist_init(&law, p->kind, p->mu, p->alpha);
  spot_rng_t g;
  spot_rng_seed(&g, 99);
  for (uint32_t i = 0; i < n; i++) {
    d->calib[i].version = VQ_REC_VERSION;
    d->calib[i].eps_a = 2.4e-6 * (1 + 0.01 * i), d->calib[i].eps_i = 0.9e-6;
    d->calib[i].active_cpu_s = d->calib[i].eps_a * B / p->watts;
    d->calib[i].idle_unit_bits = B, d->calib[i].idle_cpu_s = d->calib[i].eps_i * B / p->watts;
  }
  uint32_t inst = p->bill.idle_instances;
  for (uint32_t t = 0; t < k; t++) {
    double s = 0;
    uint32_t q = 0;
    for (uint32_t i = 0; i < n; i++) {
      vq_device_rec_t *m = &d->meter[d->nmeter++];
      double r = spot_sample_inverse(&law, &g);
      m->version = VQ_REC_VERSION, m->device = i, m->interval = t, m->drawn_bits = r;
      m->queries = (uint32_t)ceil(r / B);
      m->active_bits = m->queries * (double)B;
      m->idle_bits = fmax(p->rho - m->active_bits, 0);
      double e = d->calib[i].eps_a * m->active_bits + d->calib[i].eps_i * m->idle_bits;
      double f = 1 + noise * (2 * spot_rng_uniform(&g) - 1); /* this interval's meter noise */
      m->energy_j = e * f;
      m->idle_j = d->calib[i].eps_i * m->idle_bits * f;
      m->over_j = d->calib[i].eps_a * fmax(m->active_bits - p->rho, 0) * f; /* the work beyond rho, metered */
      s += m->active_bits, q += m->queries;
    }
    vq_billing_rec_t *b = &d->billing[d->nbilling++];
    b->version = VQ_REC_VERSION, b->interval = t, b->volume_bits = s, b->theta = p->theta, b->queries = q;
    b->instances = inst;
    b->model_usd = vq_bill_model(&p->bill, s, p->theta);
    b->instance_usd = vq_bill_instance_usd(&p->bill, inst);
    inst = b->next_instances = vq_bill_instances(&p->bill, s, p->theta);
  }
  for (int j = 0; j < 100; j++) {
    vq_latency_rec_t *l = &d->lat[d->nlat++];
    l->version = VQ_REC_VERSION, l->qid = (uint64_t)j + 1, l->put_ns = 1000000000;
    l->received_ns = l->put_ns + (int64_t)(j + 1) * 1000000; /* 1..100 ms */
    l->truth = j % 10, l->match = j < 95 ? l->truth : -1;
  }
  d->inbox = 100;
  (void)real;
}

static void check_run(spot_dist_kind_t kind, double alpha) {
  vq_params_t p;
  params(&p, kind, alpha, 3, 2000);
  vq_data_t d;
  synth(&p, 0.01, &d, 0);
  vq_report_t r;
  CHECK_OK(vq_report_compute(&p, &d, &r));
  vq_cmp_t *c[] = {&r.energy, &r.vplus, &r.billing, &r.billing_instance, &r.billing_adhoc, &r.saving};
  const char *names[] = {"energy", "vplus", "billing", "instances", "adhoc", "saving"};
  for (int i = 0; i < 6; i++) {
    fprintf(stderr, "  %s %s: measured %g +- %g predicted %g (%+.3f%%) closed %g +- %g z %+.2f continuous %g\n",
            spot_dist_name(kind), names[i], c[i]->measured, c[i]->measured_se, c[i]->predicted, 100 * c[i]->rel_err,
            c[i]->closed_form, c[i]->closed_se, c[i]->z, c[i]->closed_form_continuous);
    CHECK(fabs(c[i]->z) < 4);
  }
  /* the physics: 1% uniform meter noise averages out */
  CHECK(fabs(r.energy.rel_err) < 0.01);
  CHECK(fabs(r.vplus.rel_err) < 0.05);
  CHECK(fabs(r.billing.rel_err) < 1e-12); /* the billed volumes are the devices' */
  CHECK(r.volume_mismatch == 0);
  CHECK_EQ(r.unbilled, 0);
  CHECK_EQ(r.late_queries, 0);
  /* theta* bills less than N mu on the same volumes, and the model said so */
  CHECK(r.saving.measured > 0);
  CHECK(r.billing_adhoc.measured > r.billing.measured);
  CHECK(r.saving.closed_form_continuous > 0);
  /* whole queries cost more than the continuous volume */
  CHECK(r.energy.closed_form > r.energy.closed_form_continuous);
  CHECK_EQ(r.answered, 100);
  CHECK(fabs(r.recall_at_1 - 0.95) < 1e-12);
  CHECK(fabs(r.latency_p50_ms - 50) < 1e-9);
  CHECK(fabs(r.latency_p99_ms - 99) < 1e-9);
  CHECK_EQ(r.instances_min, 3);
  CHECK_EQ(r.instances_max, 30);
  CHECK_EQ(r.concurrency_max, 2);
  CHECK_EQ(r.billed_intervals, 2000);
  CHECK(r.q99_queries >= 3);
  const char *buf = printed(&p, &d, &r, 1);
  CHECK(strstr(buf, "\"energy_mean_j\":{\"measured\":") != NULL);
  CHECK(strstr(buf, "\"saving_fraction\":{") != NULL);
  CHECK(strstr(buf, "\"closed_form_continuous\":") != NULL);
  CHECK(strstr(buf, "\"recall_at_1\":0.95") != NULL);
  CHECK(strstr(buf, ":nan") == NULL && strstr(buf, ":inf") == NULL); /* JSON numbers */
  buf = printed(&p, &d, &r, 0);
  if (getenv("VQ_TEST_SHOW"))
    fputs(buf, stderr);
  CHECK(strstr(buf, "saving of theta*, model meter") != NULL);
  vq_data_free(&d);
}

static void test_uniform(void) {
  check_run(SPOT_DIST_UNIFORM, 0);
}
static void test_exponential(void) {
  check_run(SPOT_DIST_EXPONENTIAL, 0);
}
static void test_pareto(void) {
  check_run(SPOT_DIST_PARETO, 5);
}

/* A meter that charges 10% more than the model is caught by predicted, not hidden. */
static void test_meter_bias(void) {
  vq_params_t p;
  params(&p, SPOT_DIST_UNIFORM, 0, 2, 300);
  vq_data_t d;
  synth(&p, 0, &d, 0);
  for (size_t i = 0; i < d.nmeter; i++)
    d.meter[i].energy_j *= 1.1, d.meter[i].idle_j *= 1.1, d.meter[i].over_j *= 1.1;
  vq_report_t r;
  CHECK_OK(vq_report_compute(&p, &d, &r));
  CHECK(fabs(r.energy.rel_err - 0.1) < 1e-9);
  /* V+ is the square of the metered energy beyond rho: 1.1^2 - 1 = 21% (no calibrated rate inside it) */
  CHECK(fabs(r.vplus.rel_err - 0.21) < 1e-9);
  CHECK(r.energy.z_physics > 3);
  vq_data_free(&d);
}

/* A query that never reached the cloud is counted unbilled and warned about; late queries (billed to their interval
 * by a later batch) are counted, and leave the billing exact. */
static void test_unbilled(void) {
  vq_params_t p;
  params(&p, SPOT_DIST_UNIFORM, 0, 2, 50);
  vq_data_t d;
  synth(&p, 0, &d, 0);
  d.billing[7].late_queries = 2; /* came in a second part: the same S */
  vq_report_t r;
  CHECK_OK(vq_report_compute(&p, &d, &r));
  CHECK(fabs(r.billing.rel_err) < 1e-12);
  CHECK_EQ(r.unbilled, 0);
  CHECK_EQ(r.late_queries, 2);
  int t = 0;
  while (d.billing[t].volume_bits < B) /* an interval with a query */
    t++;
  d.billing[t].volume_bits -= B, d.billing[t].queries--;
  d.billing[t].model_usd = vq_bill_model(&p.bill, d.billing[t].volume_bits, p.theta);
  CHECK_OK(vq_report_compute(&p, &d, &r));
  CHECK_EQ(r.unbilled, 1);
  CHECK(r.volume_mismatch == B);
  CHECK(r.billing.rel_err < 0);
  const char *buf = printed(&p, &d, &r, 0);
  CHECK(strstr(buf, "1 queries the devices made were never billed") != NULL);
  CHECK(strstr(buf, "late: 2 queries") != NULL);
  CHECK(strstr(buf, "overruns came from elsewhere") == NULL); /* late queries, no overruns: it says so */
  CHECK(strstr(buf, "late queries came from elsewhere") != NULL || strstr(buf, "T did not") != NULL);
  vq_data_free(&d);
}

/* Real mode: the laws are fitted to the volumes; the exponential fit of exponential volumes predicts the energy. */
/* A real-mode run (no --dist) of n intervals of exponential volumes, at a fixed quota. */
static void real_run(int n, vq_params_t *p, vq_data_t *d) {
  params(p, SPOT_DIST_EXPONENTIAL, 0, 2, n);
  synth(p, 0, d, 1);
  p->controlled = 0, p->quota = VQ_QUOTA_BITS, p->theta = 6 * B, p->theta_star = NAN;
}

static void test_real_mode(void) {
  vq_params_t p;
  vq_data_t d;
  real_run(1500, &p, &d);
  vq_report_t r;
  CHECK_OK(vq_report_compute(&p, &d, &r));
  CHECK(r.fit_exp.ok && r.fit_par.ok);
  CHECK(fabs(r.fit_exp.fit.mu - (p.mu + B / 2.0)) < 0.1 * p.mu); /* whole queries: about b/2 above mu */
  CHECK(fabs(r.fit_exp.energy.rel_err) < 1e-12);
  CHECK(isnan(r.energy.closed_form));
  const char *buf = printed(&p, &d, &r, 1);
  CHECK(strstr(buf, "\"fit_pareto\":{") != NULL);
  vq_data_free(&d);
}

/* Real mode with heavy-tailed volumes: most intervals one query, a few very many. The Pareto fit's alpha is <= 1
 * (no finite mean): the report says that, with the fitted alpha, and the JSON gives the fit without predictions. */
static void test_real_mode_heavy_tail(void) {
  vq_params_t p;
  vq_data_t d;
  real_run(200, &p, &d);
  for (size_t i = 0; i < d.nmeter; i++) /* 1 query, and every 4th interval 4^(i/4 % 12) of them */
    d.meter[i].active_bits = i % 4 ? (double)B : ldexp((double)B, 2 * (int)(i / 4 % 12));
  vq_report_t r;
  CHECK_OK(vq_report_compute(&p, &d, &r));
  CHECK(r.fit_par.fitted && !r.fit_par.ok);
  CHECK(r.fit_par.fit.alpha > 0 && r.fit_par.fit.alpha <= 1);
  const char *buf = printed(&p, &d, &r, 0);
  CHECK(strstr(buf, "has no finite mean") != NULL);
  CHECK(strstr(buf, "too few distinct") == NULL);
  buf = printed(&p, &d, &r, 1);
  CHECK(strstr(buf, "\"fit_pareto\":{\"alpha\":") != NULL);
  vq_data_free(&d);
}

/* --plot: four figures (PNG and SVG of energy and billing) from gnuplot, which scripts/deps.sh installs. */
static void test_plot(void) {
  vq_params_t p;
  params(&p, SPOT_DIST_EXPONENTIAL, 0, 2, 200);
  vq_data_t d;
  synth(&p, 0.01, &d, 0);
  vq_report_t r;
  CHECK_OK(vq_report_compute(&p, &d, &r));
  char dir[4200];
  snprintf(dir, sizeof dir, "%s/figs", spot_test_dir("vqplot"));
  CHECK_EQ(vq_report_plot(dir, &p, &d, &r), 0);
  const char *names[] = {"energy.png", "energy.svg", "billing.png", "billing.svg"};
  for (int i = 0; i < 4; i++) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size > 1000);
  }
  vq_data_free(&d);
}

static void test_nothing_ran(void) {
  vq_params_t p;
  params(&p, SPOT_DIST_UNIFORM, 0, 2, 10);
  vq_data_t d;
  memset(&d, 0, sizeof d);
  vq_report_t r;
  CHECK_RC(vq_report_compute(&p, &d, &r), SPOT_EINVAL);
}

static const spot_test_t tests[] = {{"uniform", test_uniform},     {"exponential", test_exponential},
                                    {"pareto", test_pareto},       {"meter_bias", test_meter_bias},
                                    {"unbilled", test_unbilled},
                                    {"real_mode", test_real_mode},
                                    {"real_mode_heavy_tail", test_real_mode_heavy_tail}, {"plot", test_plot},
                                    {"nothing_ran", test_nothing_ran}, {NULL, NULL}};
SPOT_TEST_MAIN(tests)
