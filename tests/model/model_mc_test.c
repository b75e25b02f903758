/*
 * model_mc_test.c: the closed forms against Monte Carlo, within 4 standard errors, with both samplers (inversion
 * and rejection), for the mean energy, both variability readings, the shaped billing and the convolved billing.
 * Seeds are fixed, so the outcome is reproducible.
 *
 * Skipped on purpose: the variability of a Pareto with alpha <= 4, whose fourth moment is infinite, so the sample
 * variance of the estimator does not converge and a standard error means nothing; likewise the mean energy and
 * billing for alpha <= 2 (infinite variance).
 */
#include "model_check.h"

#define MU 8192.0
#define K 200000

static int within(spot_mc_t m, double want) { return fabs(m.mean - want) <= 4 * m.se + 1e-300; }

#define CHECK_MC(m, want)                                                                                        \
  do {                                                                                                           \
    if (!within((m), (want))) {                                                                                  \
      fprintf(stderr, "  %s:%d: MC %.10g +- %.3g vs %.10g (%.1f se)\n", __FILE__, __LINE__, (m).mean, (m).se,    \
              (double)(want), fabs((m).mean - (want)) / (m).se);                                                 \
      spot_test_failed_ = 1;                                                                                     \
      return;                                                                                                    \
    }                                                                                                            \
  } while (0)

static void test_energy(void) {
  spot_rates_t r;
  spot_rates_default(&r);
  spot_rng_t g;
  spot_rng_seed(&g, 12345);
  struct {
    spot_dist_kind_t kind;
    double alpha;
  } cases[] = {{SPOT_DIST_UNIFORM, 0}, {SPOT_DIST_EXPONENTIAL, 0}, {SPOT_DIST_PARETO, 2.5}, {SPOT_DIST_PARETO, 5}};
  static const double rhos[] = {0.3, 1.0, 1.7};
  for (size_t i = 0; i < 4; i++)
    for (size_t j = 0; j < 3; j++)
      for (int how = 0; how < 2; how++) {
        spot_dist_t d;
        CHECK_MOK(spot_dist_init(&d, cases[i].kind, MU, cases[i].alpha));
        double rho = rhos[j] * MU, e, v1, v2;
        int var_ok = !(cases[i].kind == SPOT_DIST_PARETO && cases[i].alpha <= 4);
        spot_mc_t me, mv1, mv2;
        CHECK_MOK(spot_energy_mean(&d, &r, rho, &e));
        CHECK_MOK(spot_mc_energy(&d, &r, rho, SPOT_VAR_V1, K, (spot_sampler_t)how, &g, &me, var_ok ? &mv1 : NULL));
        CHECK_MC(me, e);
        if (!var_ok)
          continue; /* fourth moment infinite: see the top of the file */
        CHECK_MOK(spot_energy_var(&d, &r, rho, SPOT_VAR_V1, &v1));
        CHECK_MOK(spot_energy_var(&d, &r, rho, SPOT_VAR_V2, &v2));
        CHECK_MC(mv1, v1);
        CHECK_MOK(spot_mc_energy(&d, &r, rho, SPOT_VAR_V2, K, (spot_sampler_t)how, &g, &me, &mv2));
        CHECK_MC(mv2, v2);
      }
}

static void test_billing(void) {
  spot_rates_t r;
  spot_rates_default(&r);
  spot_rng_t g;
  spot_rng_seed(&g, 777);
  struct {
    spot_dist_kind_t kind;
    double alpha;
  } cases[] = {{SPOT_DIST_UNIFORM, 0}, {SPOT_DIST_EXPONENTIAL, 0}, {SPOT_DIST_PARETO, 2.5}, {SPOT_DIST_PARETO, 5}};
  for (size_t i = 0; i < 4; i++)
    for (int how = 0; how < 2; how++) {
      spot_dist_t d, s;
      CHECK_MOK(spot_dist_init(&d, cases[i].kind, MU, cases[i].alpha));
      CHECK_MOK(spot_dist_shaped(&s, &d, 40));
      double theta, bmin, badhoc;
      CHECK_MOK(spot_billing_optimum(&s, &r, &theta, &bmin));
      CHECK_MOK(spot_billing(&s, &r, s.mu, &badhoc));
      spot_mc_t m;
      CHECK_MOK(spot_mc_billing(&d, 40, 0, &r, theta, K, (spot_sampler_t)how, &g, &m));
      CHECK_MC(m, bmin);
      CHECK_MOK(spot_mc_billing(&d, 40, 0, &r, s.mu, K, (spot_sampler_t)how, &g, &m));
      CHECK_MC(m, badhoc);
    }
}

static void test_conv(void) {
  static double work[4 * 2048];
  spot_rates_t r;
  spot_rates_default(&r);
  spot_rng_t g;
  spot_rng_seed(&g, 99);
  for (int kind = SPOT_DIST_UNIFORM; kind <= SPOT_DIST_PARETO; kind++) {
    spot_dist_t d;
    spot_conv_t c;
    CHECK_MOK(spot_dist_init(&d, (spot_dist_kind_t)kind, MU, 3.5));
    CHECK_MOK(spot_conv_init(&c, &d, 20, 2048, 1e-6, work, sizeof work / sizeof work[0]));
    double theta, bmin;
    CHECK_MOK(spot_conv_optimum(&c, &r, &theta, &bmin, NULL, NULL));
    spot_mc_t m;
    CHECK_MOK(spot_mc_billing(&d, 20, 1, &r, theta, K / 4, SPOT_SAMPLE_INVERSE, &g, &m));
    CHECK_MC(m, bmin);
  }
}

static void test_invalid(void) {
  spot_rates_t r;
  spot_rates_default(&r);
  spot_rng_t g;
  spot_rng_seed(&g, 1);
  spot_dist_t d;
  spot_mc_t m;
  CHECK_MOK(spot_dist_init(&d, SPOT_DIST_PARETO, MU, 1.5));
  CHECK_MRC(spot_mc_energy(&d, &r, MU, SPOT_VAR_V1, 100, SPOT_SAMPLE_INVERSE, &g, &m, &m), SPOT_MODEL_EALPHA2);
  CHECK_MRC(spot_mc_energy(&d, &r, MU, SPOT_VAR_V1, 1, SPOT_SAMPLE_INVERSE, &g, &m, NULL), SPOT_MODEL_ESAMPLES);
  CHECK_MRC(spot_mc_billing(&d, 2.5, 1, &r, MU, 100, SPOT_SAMPLE_INVERSE, &g, &m), SPOT_MODEL_EDEVICES);
  CHECK_MRC(spot_mc_billing(&d, 2, 1, &r, -1, 100, SPOT_SAMPLE_INVERSE, &g, &m), SPOT_MODEL_EQUOTA);
}

static const spot_test_t tests[] = {
    {"energy", test_energy}, {"billing", test_billing}, {"conv", test_conv}, {"invalid", test_invalid}, {NULL, NULL}};
SPOT_TEST_MAIN(tests)
