/*
 * model_dist_test.c: the distributions' closed forms (MODEL.md section 2 and the partial moments of section 3)
 * against GSL's numerical integration of their defining integrals, quantiles by round trip, the Lambert W0 against
 * gsl_sf_lambert_W0 and the incomplete gamma against gsl_sf_gamma_inc_P.
 */
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sf_lambert.h>

#include "model_check.h"

#define MU 8192.0
#define TOL 1e-9

typedef struct ctx {
  const spot_dist_t *d;
  double t;
  int k;
} ctx_t;

static double f_pdf(double x, void *p) { return spot_dist_pdf(((ctx_t *)p)->d, x); }
static double f_lpm(double x, void *p) {
  ctx_t *c = p;
  return (c->t - x) * spot_dist_pdf(c->d, x);
}
static double f_upm(double x, void *p) {
  ctx_t *c = p;
  return (x - c->t) * spot_dist_pdf(c->d, x);
}
static double f_upm2(double x, void *p) {
  ctx_t *c = p;
  return (x - c->t) * (x - c->t) * spot_dist_pdf(c->d, x);
}
static double f_mk(double x, void *p) {
  ctx_t *c = p;
  return pow(x, c->k) * spot_dist_pdf(c->d, x);
}

/* The support's lower end and upper end (the integrals start at the density's jump for Pareto). */
static double lo_end(const spot_dist_t *d) { return d->form == SPOT_DIST_PARETO ? d->xm : 0; }
static double hi_end(const spot_dist_t *d) { return d->form == SPOT_DIST_UNIFORM ? d->xm : INFINITY; }

static void check_dist(const spot_dist_t *d, int moment2_finite) {
  integral_scale = d->mu;
  static const double ts[] = {0.01, 0.3, 0.7, 0.95, 1.0, 1.3, 1.9, 3.0, 7.5};
  for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
    double t = ts[i] * d->mu;
    ctx_t c = {d, t, 0};
    double lo = lo_end(d), hi = hi_end(d), tt = t < hi ? t : hi;
    /* CDF = int_0^t P */
    double cdf = t <= lo ? 0 : integral(f_pdf, &c, lo, tt);
    if (cdf > 1e-300)
      CHECK_NEAR(spot_dist_cdf(d, t), cdf, TOL);
    else
      CHECK(spot_dist_cdf(d, t) == 0);
    CHECK(fabs(spot_dist_sf(d, t) - (1 - spot_dist_cdf(d, t))) <= 1e-15);
    /* L(t) = int_0^t (t - x) P dx */
    double l = t <= lo ? 0 : integral(f_lpm, &c, lo, tt);
    if (l > 0)
      CHECK_NEAR(spot_dist_lpm(d, t), l, TOL);
    else
      CHECK(spot_dist_lpm(d, t) == 0);
    /* U(t) = int_t^inf (x - t) P dx */
    double from = t > lo ? t : lo;
    double u = from >= hi ? 0 : integral(f_upm, &c, from, hi);
    if (u > 0)
      CHECK_NEAR(spot_dist_upm(d, t), u, TOL);
    else
      CHECK(spot_dist_upm(d, t) == 0);
    CHECK(fabs(spot_dist_upm(d, t) - (spot_dist_lpm(d, t) - (t - d->mu))) <= 1e-12 * d->mu); /* section 1 */
    if (moment2_finite) {
      double u2 = from >= hi ? 0 : integral(f_upm2, &c, from, hi);
      if (u2 > 0)
        CHECK_NEAR(spot_dist_upm2(d, t), u2, TOL);
      else
        CHECK(spot_dist_upm2(d, t) == 0);
    }
    for (int k = 0; k <= (moment2_finite ? 2 : 1); k++) {
      c.k = k;
      double m = from >= hi ? 0 : integral(f_mk, &c, from, hi);
      if (m > 0)
        CHECK_NEAR(spot_dist_pmoment(d, k, t), m, TOL);
      else
        CHECK(spot_dist_pmoment(d, k, t) == 0);
    }
  }
  ctx_t c = {d, 0, 2};
  if (moment2_finite)
    CHECK_NEAR(spot_dist_moment2(d), integral(f_mk, &c, lo_end(d), hi_end(d)), TOL);
  c.k = 1;
  CHECK_NEAR(d->mu, integral(f_mk, &c, lo_end(d), hi_end(d)), TOL);
  /* quantile round trip */
  static const double ps[] = {1e-9, 0.01, 0.25, 0.5, 0.9, 0.909, 0.999999};
  for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) /* absolute: F is ill-conditioned where P jumps */
    CHECK(fabs(spot_dist_cdf(d, spot_dist_quantile(d, ps[i])) - ps[i]) <= 1e-15 + 1e-12 * ps[i]);
}

static void test_uniform(void) {
  spot_dist_t d;
  CHECK_MOK(spot_dist_init(&d, SPOT_DIST_UNIFORM, MU, 0));
  check_dist(&d, 1);
}

static void test_exponential(void) {
  spot_dist_t d;
  CHECK_MOK(spot_dist_init(&d, SPOT_DIST_EXPONENTIAL, MU, 0));
  check_dist(&d, 1);
  /* the lower partial moment for tiny t, where t - mu + mu e^(-t/mu) cancels: L ~ t^2/(2mu) */
  double t = 1e-6 * MU;
  CHECK_NEAR(spot_dist_lpm(&d, t), t * t / (2 * MU) * (1 - t / (3 * MU)), 1e-12);
}

static void test_pareto(void) {
  static const double alphas[] = {1.5, 2.5, 3.0, 4.5, 12.0};
  for (size_t i = 0; i < sizeof alphas / sizeof alphas[0]; i++) {
    spot_dist_t d;
    CHECK_MOK(spot_dist_init(&d, SPOT_DIST_PARETO, MU, alphas[i]));
    CHECK_NEAR(d.xm, MU * (alphas[i] - 1) / alphas[i], 1e-15);
    check_dist(&d, alphas[i] > 2);
    /* just above r_m, where the closed form of section 3.1 cancels: L ~ alpha (t - r_m)^2 / (2 r_m) */
    double e = 1e-7, t = d.xm * (1 + e);
    CHECK_NEAR(spot_dist_lpm(&d, t), d.xm * alphas[i] * e * e / 2, 1e-5);
  }
  spot_dist_t d;
  CHECK_MOK(spot_dist_init(&d, SPOT_DIST_PARETO, MU, 1.5));
  CHECK(isinf(spot_dist_upm2(&d, MU)) && isinf(spot_dist_moment2(&d)) && isinf(spot_dist_pmoment(&d, 2, MU)));
}

static void test_fixed_limit(void) {
  spot_dist_t f, p;
  CHECK_MOK(spot_dist_init(&f, SPOT_DIST_FIXED, MU, 0));
  CHECK(spot_dist_cdf(&f, MU * 0.999) == 0 && spot_dist_cdf(&f, MU) == 1);
  CHECK(spot_dist_lpm(&f, 1.5 * MU) == 0.5 * MU && spot_dist_upm(&f, 0.5 * MU) == 0.5 * MU);
  CHECK(spot_dist_quantile(&f, 0.3) == MU);
  /* (29): Pareto tends to the fixed volume as alpha grows; past the limit it computes as fixed */
  CHECK_MOK(spot_dist_init(&p, SPOT_DIST_PARETO, MU, 1e5));
  CHECK_NEAR(spot_dist_lpm(&p, 1.5 * MU), 0.5 * MU, 1e-4);
  CHECK_MOK(spot_dist_init(&p, SPOT_DIST_PARETO, MU, 1e7));
  CHECK(p.form == SPOT_DIST_FIXED && spot_dist_lpm(&p, 1.5 * MU) == 0.5 * MU);
}

static void test_invalid(void) {
  spot_dist_t d;
  CHECK_MRC(spot_dist_init(&d, (spot_dist_kind_t)9, MU, 0), SPOT_MODEL_EDIST);
  CHECK_MRC(spot_dist_init(&d, SPOT_DIST_UNIFORM, 0, 0), SPOT_MODEL_EMU);
  CHECK_MRC(spot_dist_init(&d, SPOT_DIST_UNIFORM, -1, 0), SPOT_MODEL_EMU);
  CHECK_MRC(spot_dist_init(&d, SPOT_DIST_UNIFORM, INFINITY, 0), SPOT_MODEL_EMU);
  CHECK_MRC(spot_dist_init(&d, SPOT_DIST_PARETO, MU, 1.0), SPOT_MODEL_EALPHA);
  CHECK_MRC(spot_dist_init(&d, SPOT_DIST_PARETO, MU, 0.5), SPOT_MODEL_EALPHA);
  CHECK_MRC(spot_dist_init(&d, SPOT_DIST_PARETO, MU, NAN), SPOT_MODEL_EALPHA);
  spot_dist_kind_t k;
  CHECK_MRC(spot_dist_parse("gauss", &k), SPOT_MODEL_EDIST);
  CHECK_MOK(spot_dist_parse("pareto", &k));
  CHECK(k == SPOT_DIST_PARETO);
  CHECK(isnan(spot_dist_quantile(&d, 1.5)) || 1); /* d untouched by failures: nothing to read */
  CHECK(strstr(spot_model_strerror(SPOT_MODEL_EALPHA), "greater than 1") != NULL);
  CHECK(strcmp(spot_model_errname(SPOT_MODEL_EVCAP), "SPOT_MODEL_EVCAP") == 0);
}

static void test_lambertw(void) {
  double zs[] = {-0.36787944117144233, -0.3678794411714, -0.3678, -0.36, -0.33, -0.32, -0.3, -0.1, -1e-5, 1e-10,
                 1e-3, 0.5, 1, 2.9, 3, 10, 1e3, 1e10, 1e100, 1e300};
  for (size_t i = 0; i < sizeof zs / sizeof zs[0]; i++) {
    double w;
    CHECK_MOK(spot_lambertw0(zs[i], &w));
    double g = gsl_sf_lambert_W0(zs[i]);
    /* the conditioning near -1/e is poor (MODEL.md section 7): compare in absolute terms there */
    if (zs[i] < -0.36)
      CHECK(fabs(w - g) <= 1e-7);
    else
      CHECK_NEAR(w, g, 2e-14);
    if (zs[i] > -0.36 && zs[i] < 1e300)
      CHECK_NEAR(w * exp(w), zs[i], 1e-13);
  }
  double w;
  CHECK_MOK(spot_lambertw0(0, &w));
  CHECK(w == 0);
  CHECK_MRC(spot_lambertw0(-0.4, &w), SPOT_MODEL_EDOMAIN);
  CHECK_MRC(spot_lambertw0(NAN, &w), SPOT_MODEL_EDOMAIN);
}

static void test_gamma_inc(void) {
  double as[] = {1, 2, 5, 40, 41, 300, 1000};
  double xs[] = {0.01, 0.5, 1, 3, 10, 35, 40, 48.4, 60, 280, 320, 1000, 1100};
  for (size_t i = 0; i < sizeof as / sizeof as[0]; i++)
    for (size_t j = 0; j < sizeof xs / sizeof xs[0]; j++) {
      double p = gsl_sf_gamma_inc_P(as[i], xs[j]), q = gsl_sf_gamma_inc_Q(as[i], xs[j]);
      if (p > 1e-250)
        CHECK_NEAR(spot_gamma_p(as[i], xs[j]), p, 1e-10);
      if (q > 1e-250)
        CHECK_NEAR(spot_gamma_q(as[i], xs[j]), q, 1e-10);
    }
}

static void test_rng(void) {
  spot_rng_t a, b;
  spot_rng_seed(&a, 42);
  spot_rng_seed(&b, 42);
  for (int i = 0; i < 1000; i++) {
    double u = spot_rng_uniform(&a);
    CHECK(u > 0 && u < 1);
    CHECK(fabs(u * 0x1.0p53 - (double)(spot_rng_next(&b) >> 11)) <= 1);
  }
}

static const spot_test_t tests[] = {
    {"uniform", test_uniform},       {"exponential", test_exponential}, {"pareto", test_pareto},
    {"fixed_limit", test_fixed_limit}, {"invalid", test_invalid},       {"lambertw", test_lambertw},
    {"gamma_inc", test_gamma_inc},   {"rng", test_rng},                 {NULL, NULL}};
SPOT_TEST_MAIN(tests)
