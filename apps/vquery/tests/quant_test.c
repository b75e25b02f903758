/*
 * apps/vquery/tests/quant_test.c: the closed forms of the whole-query law Q = b*ceil(R/b) (quant.c) against Monte
 * Carlo with spot's samplers, their limit as b -> 0 (MODEL.md's continuous forms), the billing meters and the
 * estimators, and the maximum likelihood fits (fit.c).
 */
#include <math.h>
#include <stdlib.h>

#include "report.h"
#include "support.h"
#include "test.h"

#define B VQ_QUERY_BITS

/* Monte Carlo of Q's moments: mean, idle, over2, with standard errors. */
static void mc(const spot_dist_t *d, double rho, size_t k, uint64_t seed, vq_est_t est[3]) {
  double *x = malloc(3 * k * sizeof *x);
  spot_rng_t g;
  spot_rng_seed(&g, seed);
  for (size_t j = 0; j < k; j++) {
    double q = B * ceil(spot_sample_inverse(d, &g) / B);
    x[j] = q;
    x[k + j] = fmax(rho - q, 0);
    x[2 * k + j] = q > rho ? (q - rho) * (q - rho) : 0;
  }
  for (int i = 0; i < 3; i++)
    est[i] = vq_est_of(x + (size_t)i * k, k);
  free(x);
}

static int close_to(vq_est_t e, double want, double z) {
  double tol = z * e.se + 1e-12 * fabs(want);
  return fabs(e.mean - want) <= tol;
}

/* over2: Monte Carlo's standard error is only meaningful with a finite fourth moment (Pareto alpha > 4); for a
 * heavier tail check it against a brute-force sum over 2e7 queries instead. */
static void check_law(spot_dist_kind_t kind, double mu, double alpha, int mc_over2) {
  spot_dist_t d;
  CHECK_OK(spot_dist_init(&d, kind, mu, alpha));
  double rhos[] = {0, 0.4 * mu, mu, 1.7 * mu, 3 * mu};
  size_t k = spot_test_quick() ? 200000 : 1000000;
  for (size_t i = 0; i < sizeof rhos / sizeof rhos[0]; i++) {
    vq_qmoments_t m;
    CHECK_OK(vq_quant_moments(&d, B, rhos[i], &m));
    CHECK(m.err < 1e-6);
    vq_est_t e[3];
    mc(&d, rhos[i], k, 7 + i, e);
    if (!close_to(e[0], m.mean, 4) || !close_to(e[1], m.idle, 4) || (mc_over2 && !close_to(e[2], m.over2, 4)))
      fprintf(stderr, "  %s rho %g: mean %g/%g+-%g idle %g/%g+-%g over2 %g/%g+-%g\n", spot_dist_name(kind), rhos[i],
              m.mean, e[0].mean, e[0].se, m.idle, e[1].mean, e[1].se, m.over2, e[2].mean, e[2].se);
    CHECK(close_to(e[0], m.mean, 4));
    CHECK(close_to(e[1], m.idle, 4));
    if (mc_over2)
      CHECK(close_to(e[2], m.over2, 4));
    else if (i == 3) {
      double brute = 0;
      for (uint64_t j = 1; j < 20000000; j++)
        if (j * B > rhos[i])
          brute += vq_quant_pmf(&d, B, j) * (j * B - rhos[i]) * (j * B - rhos[i]);
      CHECK(fabs(brute - m.over2) < 1e-6 * m.over2);
    }
    /* whole queries: never less than the continuous volume, less than one query more */
    CHECK(m.mean >= mu && m.mean < mu + B);
  }
  /* the pmf sums to one */
  double sum = 0;
  for (uint64_t j = 0; j < 200000; j++)
    sum += vq_quant_pmf(&d, B, j);
  CHECK(fabs(sum - 1) < 1e-6);
}

static void test_uniform_mc(void) {
  check_law(SPOT_DIST_UNIFORM, 2.5 * B, 0, 1);
  check_law(SPOT_DIST_UNIFORM, 0.3 * B, 0, 1);
}
static void test_exponential_mc(void) {
  check_law(SPOT_DIST_EXPONENTIAL, 2.5 * B, 0, 1);
}
static void test_pareto_mc(void) {
  check_law(SPOT_DIST_PARETO, 2.5 * B, 4, 0);
  check_law(SPOT_DIST_PARETO, 4 * B, 6, 1);
}

/* As the query shrinks the quantised forms tend to MODEL.md's continuous ones. */
static void test_continuous_limit(void) {
  spot_dist_kind_t kinds[] = {SPOT_DIST_UNIFORM, SPOT_DIST_EXPONENTIAL, SPOT_DIST_PARETO};
  spot_rates_t r;
  spot_rates_default(&r);
  for (int i = 0; i < 4; i++) {
    spot_dist_t d;
    double mu = 1e6;
    CHECK_OK(spot_dist_init(&d, kinds[i < 3 ? i : 2], mu, i < 3 ? 4 : 2.5));
    for (double rho = 0.5e6; rho <= 2e6; rho += 0.5e6) {
      double e, v, ec, vc;
      CHECK_OK(vq_quant_energy(&d, 10, r.eps_a, r.eps_i, rho, &e, &v));
      CHECK_OK(spot_energy_mean(&d, &r, rho, &ec));
      CHECK_OK(spot_energy_var(&d, &r, rho, SPOT_VAR_V1, &vc));
      CHECK(fabs(e - ec) < 1e-4 * ec);
      CHECK(fabs(v - vc) < 1e-3 * vc + 1e-9);
    }
  }
}

/* Energy of one interval and its one-sided deviation; eps_i > eps_a counts idle intervals above eps_a rho. */
static void test_energy_of(void) {
  CHECK(fabs(vq_energy_of(2, 1, 10, 4) - (8 + 6)) < 1e-12);
  CHECK(fabs(vq_energy_of(2, 1, 10, 14) - 28) < 1e-12);
  CHECK(vq_vplus_of(2, 10, 14) == 0);
  CHECK(fabs(vq_vplus_of(2, 10, 28) - 64) < 1e-12);
  spot_dist_t d;
  CHECK_OK(spot_dist_init(&d, SPOT_DIST_UNIFORM, 2 * B, 0));
  double v_lo, v_hi;
  CHECK_OK(vq_quant_energy(&d, B, 1e-4, 0.5e-4, 2 * B, NULL, &v_lo));
  CHECK_OK(vq_quant_energy(&d, B, 1e-4, 3e-4, 2 * B, NULL, &v_hi));
  CHECK(v_hi > v_lo);
}

static void test_quantile(void) {
  spot_dist_t d;
  CHECK_OK(spot_dist_init(&d, SPOT_DIST_UNIFORM, 2 * B, 0));
  CHECK_EQ(vq_quant_quantile(&d, B, 0.99), 4); /* U[0, 4B]: 0.99 * 4B lies in the fourth query */
  CHECK_EQ(vq_quant_quantile(&d, B, 0.2), 1);
  CHECK_EQ(vq_quant_quantile(&d, B, 1.5), 0);
  CHECK_OK(spot_dist_init(&d, SPOT_DIST_EXPONENTIAL, B, 0));
  CHECK_EQ(vq_quant_quantile(&d, B, 0.99), 5); /* ln 100 = 4.6 */
}

static void test_bill(void) {
  vq_bill_t p = {1, 2, 10, 3600, 2, 3, 30};
  CHECK(fabs(vq_bill_model(&p, 5, 8) - (5 + 6)) < 1e-12);
  CHECK(fabs(vq_bill_model(&p, 9, 8) - (9 + 10)) < 1e-12);
  CHECK_EQ(vq_bill_instances(&p, 8, 8), 30);
  CHECK_EQ(vq_bill_instances(&p, 7.9, 8), 3);
  CHECK(fabs(vq_bill_instance_usd(&p, 3) - 6) < 1e-12);
  double s[] = {5, 9, 5, 9};
  vq_est_t m, in;
  CHECK_OK(vq_bill_estimate(&p, s, 4, 8, &m, &in));
  CHECK(fabs(m.mean - 15) < 1e-12);
  CHECK(fabs(in.mean - 33) < 1e-12); /* alternating 3 and 30 instances of 2 s at 1 $/s */
  vq_est_t sv;
  CHECK_OK(vq_bill_saving(&p, s, 4, 8, 8, &sv, NULL));
  CHECK(fabs(sv.mean) < 1e-12);
  CHECK_RC(vq_bill_estimate(&p, s, 1, 8, &m, NULL), SPOT_EINVAL);
}

/* Monte Carlo billing of the quantised aggregate: tends to the continuous convolution as b shrinks. */
static void test_sample_s(void) {
  spot_dist_t d;
  CHECK_OK(spot_dist_init(&d, SPOT_DIST_EXPONENTIAL, 3 * B, 0));
  double *s;
  size_t k = 100000;
  CHECK_OK(vq_quant_sample_s(&d, 4, B, k, SPOT_SAMPLE_INVERSE, 1, &s));
  vq_est_t e = vq_est_of(s, k);
  vq_qmoments_t m;
  CHECK_OK(vq_quant_moments(&d, B, 0, &m));
  CHECK(close_to(e, 4 * m.mean, 4));
  for (size_t j = 0; j < k; j++)
    CHECK(fmod(s[j], B) == 0);
  free(s);
  /* tiny queries: the billing at theta matches the Gamma(4, mu) convolution of the model */
  spot_rates_t r;
  spot_rates_default(&r);
  vq_bill_t p = {r.b_t, r.b_i, r.b_a, 0.01, 1, 3, 30};
  CHECK_OK(vq_quant_sample_s(&d, 4, 1, k, SPOT_SAMPLE_REJECT, 2, &s));
  spot_conv_t c;
  CHECK_OK(spot_conv_init(&c, &d, 4, 0, SPOT_CONV_TAIL_DEFAULT, NULL, 0));
  double theta = 5 * B, want;
  CHECK_OK(spot_conv_billing(&c, &r, theta, &want));
  vq_est_t got;
  CHECK_OK(vq_bill_estimate(&p, s, k, theta, &got, NULL));
  CHECK(close_to(got, want, 4));
  free(s);
}

static void test_saving_estimator(void) {
  double x[] = {1, 2, 3, 4}, y[] = {2, 4, 6, 8};
  vq_est_t e = vq_est_saving(x, y, 4);
  CHECK(fabs(e.mean - 0.5) < 1e-12);
  CHECK(e.se < 1e-12); /* x = y/2 exactly */
}

static void test_fit_exponential(void) {
  spot_dist_t d;
  CHECK_OK(spot_dist_init(&d, SPOT_DIST_EXPONENTIAL, 5000, 0));
  spot_rng_t g;
  spot_rng_seed(&g, 3);
  size_t n = 20000;
  double *x = malloc(n * sizeof *x);
  for (size_t i = 0; i < n; i++)
    x[i] = spot_sample_inverse(&d, &g);
  vq_fit_t f;
  CHECK_OK(vq_fit_exponential(x, n, &f));
  CHECK(fabs(f.mu - 5000) < 4 * f.se_mu);
  /* the exponential fits its own samples better than a Pareto does */
  vq_fit_t fp;
  CHECK_OK(vq_fit_pareto(x, n, &fp));
  CHECK(f.loglik > fp.loglik);
  free(x);
  double bad[] = {1, -1};
  CHECK_RC(vq_fit_exponential(bad, 2, &f), SPOT_EINVAL);
  double zero[] = {0, 0};
  CHECK_RC(vq_fit_exponential(zero, 2, &f), SPOT_EINVAL);
}

static void test_fit_pareto(void) {
  spot_dist_t d;
  CHECK_OK(spot_dist_init(&d, SPOT_DIST_PARETO, 9000, 3));
  spot_rng_t g;
  spot_rng_seed(&g, 4);
  size_t n = 20000;
  double *x = malloc(n * sizeof *x);
  for (size_t i = 0; i < n; i++)
    x[i] = spot_sample_inverse(&d, &g);
  x[0] = 0; /* zeros are left out of the Pareto fit */
  vq_fit_t f, fe;
  CHECK_OK(vq_fit_pareto(x, n, &f));
  CHECK_EQ(f.n, n - 1);
  CHECK(fabs(f.alpha - 3) < 4 * f.se_mu);
  CHECK(fabs(f.xm - d.xm) < 0.01 * d.xm);
  CHECK(fabs(f.mu - 9000) < 0.05 * 9000);
  CHECK_OK(vq_fit_exponential(x + 1, n - 1, &fe));
  CHECK(f.loglik > fe.loglik);
  free(x);
  double same[] = {3, 3, 3};
  CHECK_RC(vq_fit_pareto(same, 3, &f), SPOT_EINVAL);
  double one[] = {0, 3};
  CHECK_RC(vq_fit_pareto(one, 2, &f), SPOT_EINVAL);
}

static const spot_test_t tests[] = {{"uniform_mc", test_uniform_mc},
                                    {"exponential_mc", test_exponential_mc},
                                    {"pareto_mc", test_pareto_mc},
                                    {"continuous_limit", test_continuous_limit},
                                    {"energy_of", test_energy_of},
                                    {"quantile", test_quantile},
                                    {"bill", test_bill},
                                    {"sample_s", test_sample_s},
                                    {"saving_estimator", test_saving_estimator},
                                    {"fit_exponential", test_fit_exponential},
                                    {"fit_pareto", test_fit_pareto},
                                    {NULL, NULL}};
SPOT_TEST_MAIN(tests)
