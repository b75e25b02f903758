/*
 * model_billing_test.c: cloud billing (MODEL.md sections 4 and 5). B(theta) against GSL's integration of (6), the
 * derivatives (15)/(16), the optimal quota (17) against brute-force minimisation, the printed closed forms of the
 * tables, the saving, the devices per aggregator and (21) by round trip, the joint design (22), the convolution
 * aggregate (exact Gamma against GSL, the lattice against the exact law and closed forms) and invalid inputs.
 */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>

#include "model_check.h"

#define MU 8192.0
#define TOL 1e-9

static spot_rates_t rates(void) {
  spot_rates_t r;
  spot_rates_default(&r);
  return r;
}

typedef struct ctx {
  const spot_dist_t *s;
  const spot_rates_t *r;
  double theta;
} ctx_t;

static double f_idle(double x, void *p) {
  ctx_t *c = p;
  return c->r->b_i * (c->theta - x) * spot_dist_pdf(c->s, x);
}
static double f_active(double x, void *p) {
  ctx_t *c = p;
  return c->r->b_a * (x - c->theta) * spot_dist_pdf(c->s, x);
}

static double lo_end(const spot_dist_t *d) { return d->form == SPOT_DIST_PARETO ? d->xm : 0; }
static double hi_end(const spot_dist_t *d) { return d->form == SPOT_DIST_UNIFORM ? d->xm : INFINITY; }

/* B by (6), integrated. */
static double billing_ref(const spot_dist_t *s, const spot_rates_t *r, double theta) {
  ctx_t c = {s, r, theta};
  double lo = lo_end(s), hi = hi_end(s), b = r->b_t * s->mu;
  integral_scale = s->mu;
  if (theta > lo)
    b += integral(f_idle, &c, lo, theta < hi ? theta : hi);
  if (theta < hi)
    b += integral(f_active, &c, theta > lo ? theta : lo, hi);
  return b;
}

/* Golden-section search of a convex function on [a, b]. */
static double golden(const spot_dist_t *s, const spot_rates_t *r, double a, double b) {
  const double g = (sqrt(5.0) - 1) / 2;
  double x1 = b - g * (b - a), x2 = a + g * (b - a), f1, f2;
  spot_billing(s, r, x1, &f1);
  spot_billing(s, r, x2, &f2);
  for (int i = 0; i < 200 && b - a > 1e-12 * b; i++) {
    if (f1 < f2) {
      b = x2, x2 = x1, f2 = f1, x1 = b - g * (b - a);
      spot_billing(s, r, x1, &f1);
    } else {
      a = x1, x1 = x2, f1 = f2, x2 = a + g * (b - a);
      spot_billing(s, r, x2, &f2);
    }
  }
  return (a + b) / 2;
}

static void check_billing(const spot_dist_t *s, const spot_rates_t *r) {
  static const double ts[] = {0, 0.1, 0.5, 0.9, 1.0, 1.3, 2.0, 2.4, 5.0};
  for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
    double theta = ts[i] * s->mu, b, db, d2b;
    CHECK_MOK(spot_billing(s, r, theta, &b));
    CHECK_NEAR(b, billing_ref(s, r, theta), TOL);
    CHECK_MOK(spot_billing_deriv(s, r, theta, &db, &d2b));
    CHECK(fabs(db - ((r->b_i + r->b_a) * spot_dist_cdf(s, theta) - r->b_a)) <= 1e-15 * r->b_a);
    CHECK(d2b >= 0); /* (16): convex */
    if (theta > 0 && fabs(theta - s->xm) > 1e-3 * s->mu && fabs(theta - hi_end(s)) > 1e-3 * s->mu) {
      double h = 1e-5 * s->mu, bp, bm;
      CHECK_MOK(spot_billing(s, r, theta + h, &bp));
      CHECK_MOK(spot_billing(s, r, theta - h, &bm));
      CHECK(fabs((bp - bm) / (2 * h) - db) <= 1e-6 * r->b_a);
    }
  }
  /* (17) against brute force */
  double theta, bmin, c, adhoc, saving, bm, bb;
  CHECK_MOK(spot_billing_optimum(s, r, &theta, &bmin));
  double brute = golden(s, r, 0, 20 * s->mu);
  CHECK_MOK(spot_billing(s, r, brute, &bb));
  CHECK(fabs(brute - theta) <= 1e-5 * s->mu);
  CHECK_MOK(spot_billing(s, r, theta, &bm));
  CHECK_NEAR(bm, bmin, 1e-12); /* the closed form B* = m c_D is B at theta* */
  CHECK(bmin <= bb * (1 + 1e-14));
  CHECK_NEAR(spot_dist_cdf(s, theta), r->b_a / (r->b_a + r->b_i), 1e-12);
  /* the generic minimum of (17): B* = (b_t - b_i) E[S] + (b_i + b_a) E[S 1{S > theta*}] */
  CHECK_NEAR(bmin, (r->b_t - r->b_i) * s->mu + (r->b_i + r->b_a) * spot_dist_pmoment(s, 1, theta), 1e-12);
  CHECK_MOK(spot_billing_coef(s, r, &c, &adhoc));
  CHECK_NEAR(bmin, s->mu * c, 1e-14);
  CHECK_MOK(spot_billing(s, r, s->mu, &bb));
  CHECK_NEAR(bb, s->mu * adhoc, 1e-12);
  CHECK_MOK(spot_billing_saving(s, r, &saving));
  CHECK_NEAR(saving, 1 - bmin / bb, 1e-12);
}

static void test_billing(void) {
  spot_rates_t r = rates(), r2 = r;
  r2.b_i = 3e-11, r2.b_a = 2e-11, r2.b_t = 0;
  const spot_rates_t *rs[] = {&r, &r2};
  for (int k = 0; k < 2; k++)
    for (int kind = SPOT_DIST_UNIFORM; kind <= SPOT_DIST_PARETO; kind++)
      for (int ai = 0; ai < (kind == SPOT_DIST_PARETO ? 3 : 1); ai++) {
        spot_dist_t d, s;
        CHECK_MOK(spot_dist_init(&d, (spot_dist_kind_t)kind, MU, (double[]){1.5, 3.0, 10.0}[ai]));
        CHECK_MOK(spot_dist_shaped(&s, &d, 40));
        check_billing(&s, rs[k]);
      }
}

/* The printed closed forms of section 4's table. */
static void test_tables(void) {
  spot_rates_t r = rates();
  double bi = r.b_i, ba = r.b_a, bt = r.b_t, m = 40 * MU, ratio = ba / bi, b, theta, bmin, c, a;
  spot_dist_t s;
  CHECK_MOK(spot_dist_init(&s, SPOT_DIST_UNIFORM, m, 0));
  CHECK_MOK(spot_billing(&s, &r, 0.7 * m, &b));
  CHECK_NEAR(b, bt * m + (bi * 0.49 * m * m + ba * pow(1.3 * m, 2)) / (4 * m), 1e-13);
  CHECK_MOK(spot_billing(&s, &r, 2.5 * m, &b));
  CHECK_NEAR(b, bt * m + bi * 1.5 * m, 1e-13);
  CHECK_MOK(spot_billing_optimum(&s, &r, &theta, &bmin));
  CHECK_NEAR(theta, 2 * m * ba / (ba + bi), 1e-14);
  CHECK_NEAR(bmin, m * (bt + ba * bi / (ba + bi)), 1e-14);
  CHECK_MOK(spot_billing_coef(&s, &r, &c, &a));
  CHECK_NEAR(a, bt + (bi + ba) / 4, 1e-14);
  CHECK_MOK(spot_dist_init(&s, SPOT_DIST_EXPONENTIAL, m, 0));
  CHECK_MOK(spot_billing(&s, &r, 0.7 * m, &b));
  CHECK_NEAR(b, bt * m + bi * (0.7 * m - m) + (bi + ba) * m * exp(-0.7), 1e-13);
  CHECK_MOK(spot_billing_optimum(&s, &r, &theta, &bmin));
  CHECK_NEAR(theta, m * log(1 + ratio), 1e-14);
  CHECK_NEAR(bmin, m * (bt + bi * log(1 + ratio)), 1e-14);
  CHECK_MOK(spot_billing_coef(&s, &r, &c, &a));
  CHECK_NEAR(a, bt + (bi + ba) / exp(1), 1e-14);
  double al = 2.5, sm = m * (al - 1) / al;
  CHECK_MOK(spot_dist_init(&s, SPOT_DIST_PARETO, m, al));
  CHECK_MOK(spot_billing(&s, &r, 1.7 * m, &b));
  CHECK_NEAR(b, bt * m + bi * 0.7 * m + (bi + ba) * pow(sm, al) * pow(1.7 * m, 1 - al) / (al - 1), 1e-12);
  CHECK_MOK(spot_billing(&s, &r, 0.5 * sm, &b));
  CHECK_NEAR(b, bt * m + ba * (m - 0.5 * sm), 1e-14);
  CHECK_MOK(spot_billing_optimum(&s, &r, &theta, &bmin));
  CHECK_NEAR(theta, sm * pow(1 + ratio, 1 / al), 1e-14);
  CHECK_NEAR(bmin, m * (bt + bi * (pow(1 + ratio, 1 / al) - 1)), 1e-13);
  CHECK_MOK(spot_billing_coef(&s, &r, &c, &a));
  CHECK_NEAR(a, bt + (bi + ba) * pow(al - 1, al - 1) / pow(al, al), 1e-13);
  /* (43): the fixed volume, and Pareto approaching it */
  CHECK_MOK(spot_dist_init(&s, SPOT_DIST_FIXED, m, 0));
  CHECK_MOK(spot_billing_optimum(&s, &r, &theta, &bmin));
  CHECK(theta == m && bmin == bt * m);
  CHECK_MOK(spot_dist_init(&s, SPOT_DIST_PARETO, m, 1e5));
  CHECK_MOK(spot_billing_optimum(&s, &r, &theta, &bmin));
  CHECK_NEAR(theta, m, 1e-4);
  CHECK_NEAR(bmin, bt * m, 1e-3);
}

/* MODEL.md section 4: with the default rates the largest Pareto saving is about 12% (alpha near 3); the
 * exponential's and uniform's savings do not depend on N or mu. */
static void test_saving(void) {
  spot_rates_t r = rates();
  double best = 0, best_a = 0;
  for (double a = 1.05; a < 30; a += 0.01) {
    spot_dist_t s;
    double sv;
    CHECK_MOK(spot_dist_init(&s, SPOT_DIST_PARETO, MU, a));
    CHECK_MOK(spot_billing_saving(&s, &r, &sv));
    if (sv > best)
      best = sv, best_a = a;
  }
  CHECK(best > 0.11 && best < 0.125);
  CHECK(best_a > 2.5 && best_a < 3.5);
  double s1, s2;
  spot_dist_t a, b;
  CHECK_MOK(spot_dist_init(&a, SPOT_DIST_EXPONENTIAL, MU, 0));
  CHECK_MOK(spot_dist_init(&b, SPOT_DIST_EXPONENTIAL, 77 * MU, 0));
  CHECK_MOK(spot_billing_saving(&a, &r, &s1));
  CHECK_MOK(spot_billing_saving(&b, &r, &s2));
  CHECK_NEAR(s1, s2, 1e-14);
}

static void test_devices(void) {
  spot_rates_t r = rates();
  for (int kind = SPOT_DIST_UNIFORM; kind <= SPOT_DIST_PARETO; kind++) {
    spot_dist_t d, s;
    CHECK_MOK(spot_dist_init(&d, (spot_dist_kind_t)kind, MU, 2.5));
    double bbar = 1e-3, n, bmin, mu;
    CHECK_MOK(spot_billing_devices(&d, &r, bbar, &n));
    CHECK_MOK(spot_dist_shaped(&s, &d, n));
    CHECK_MOK(spot_billing_optimum(&s, &r, NULL, &bmin));
    CHECK_NEAR(bmin, bbar, 1e-13); /* (22): B*(N) = bbar */
    CHECK_MOK(spot_dist_shaped(&s, &d, floor(n)));
    CHECK_MOK(spot_billing_optimum(&s, &r, NULL, &bmin));
    CHECK(bmin <= bbar); /* floor(N) keeps B* under the target */
    CHECK_MOK(spot_billing_volume((spot_dist_kind_t)kind, 2.5, &r, bbar, n, &mu)); /* (21) */
    CHECK_NEAR(mu, MU, 1e-13);
    CHECK_MRC(spot_billing_devices(&d, &r, 0, &n), SPOT_MODEL_EBILLING);
    CHECK_MRC(spot_billing_devices(&d, &r, -1, &n), SPOT_MODEL_EBILLING);
    CHECK_MRC(spot_billing_devices(&d, &r, 1e-9, &n), SPOT_MODEL_EBILLINGLOW);
    CHECK_MRC(spot_billing_volume((spot_dist_kind_t)kind, 2.5, &r, 1e-3, 0.5, &mu), SPOT_MODEL_EDEVICES);
  }
}

static void test_design(void) {
  spot_rates_t r = rates();
  for (int kind = SPOT_DIST_UNIFORM; kind <= SPOT_DIST_PARETO; kind++) {
    spot_design_t x = {.kind = (spot_dist_kind_t)kind, .alpha = 3, .n = 40, .mu = MU, .energy = 2.5,
                       .reading = SPOT_VAR_V1};
    CHECK_MOK(spot_design_run(&x, &r));
    CHECK_NEAR(x.energy_j, 2.5, 1e-12);
    CHECK(x.threshold_bits > 0 && x.variability_j2 > 0);
    CHECK_NEAR(x.billing_min_usd / x.billing_adhoc_usd, 1 - x.saving_fraction, 1e-12);
    CHECK_NEAR(x.devices_real, 40 / (1 - x.saving_fraction), 1e-12); /* default target: the ad-hoc billing */
    CHECK(x.devices == floor(x.devices_real));
    /* the other way round: rho fixed, mu from the energy target */
    spot_design_t y = x;
    y.mu = 0, y.rho = x.threshold_bits, y.billing = 1e-3;
    CHECK_MOK(spot_design_run(&y, &r));
    CHECK_NEAR(y.volume_bits, MU, 1e-9);
    spot_dist_t d;
    double n;
    CHECK_MOK(spot_dist_init(&d, (spot_dist_kind_t)kind, MU, 3));
    CHECK_MOK(spot_billing_devices(&d, &r, 1e-3, &n));
    CHECK_NEAR(y.devices_real, n, 1e-9);
    y.billing = -1;
    CHECK_MRC(spot_design_run(&y, &r), SPOT_MODEL_EBILLING);
    y = x, y.energy = 1;
    CHECK_MRC(spot_design_run(&y, &r), SPOT_MODEL_EENERGYMU);
    y = x, y.n = 0;
    CHECK_MRC(spot_design_run(&y, &r), SPOT_MODEL_EDEVICES);
  }
  spot_design_t p = {.kind = SPOT_DIST_PARETO, .alpha = 1.8, .n = 10, .mu = MU, .energy = 3};
  p.reading = SPOT_VAR_V1;
  CHECK_MOK(spot_design_run(&p, &r));
  CHECK(isinf(p.variability_j2)); /* alpha <= 2: reported infinite, the rest still designed */
}

/* Convolution, exponential devices: Gamma(N, mu) exactly, against GSL. */
static void test_conv_gamma(void) {
  spot_rates_t r = rates();
  spot_dist_t d;
  spot_conv_t c;
  CHECK_MOK(spot_dist_init(&d, SPOT_DIST_EXPONENTIAL, MU, 0));
  CHECK_MOK(spot_conv_init(&c, &d, 40, 0, 0, NULL, 0));
  double m = 40 * MU;
  static const double xs[] = {0.3, 0.8, 1.0, 1.2, 2.0};
  for (size_t i = 0; i < 5; i++) {
    double x = xs[i] * m, f, l, u;
    CHECK_MOK(spot_conv_cdf(&c, x, &f));
    CHECK_NEAR(f, gsl_cdf_gamma_P(x, 40, MU), 1e-10);
    CHECK_MOK(spot_conv_lpm(&c, x, &l));
    CHECK_MOK(spot_conv_upm(&c, x, &u));
    /* L(x) = x F(x; N) - N mu F(x; N+1) */
    double lref = x * gsl_cdf_gamma_P(x, 40, MU) - m * gsl_cdf_gamma_P(x, 41, MU);
    CHECK_NEAR(l, lref, 1e-8);
    CHECK(fabs(u - (l - (x - m))) <= 1e-10 * m);
  }
  double theta, bmin, badhoc, saving;
  CHECK_MOK(spot_conv_optimum(&c, &r, &theta, &bmin, &badhoc, &saving));
  CHECK_NEAR(theta, gsl_cdf_gamma_Pinv(10.0 / 11.0, 40, MU), 1e-10);
  /* MODEL.md section 5: theta* ~ 1.22 m under convolution against 2.40 m shaped, for N = 40 and r = 10 */
  CHECK(fabs(theta / m - 1.22) < 0.01);
  /* brute force: theta* minimises the convolved B */
  for (int k = -5; k <= 5; k++) {
    double b;
    if (k == 0)
      continue;
    CHECK_MOK(spot_conv_billing(&c, &r, theta * (1 + k * 1e-3), &b));
    CHECK(b >= bmin);
  }
  CHECK_NEAR(saving, 1 - bmin / badhoc, 1e-14);
  CHECK(saving > 0);
}

/* The lattice: the uniform N = 1 and N = 2 against
 * their closed forms (U[0, 2mu] and the triangle on [0, 4mu]), N = 40 against the normal limit, the lattice
 * quota against brute force, Pareto devices between the mean and the shaped quota. */
static void test_conv_lattice(void) {
  static double work[4 * 2048];
  spot_rates_t r = rates();
  spot_dist_t d;
  spot_conv_t c, g;
  CHECK_MOK(spot_dist_init(&d, SPOT_DIST_UNIFORM, MU, 0));
  CHECK_MOK(spot_conv_init(&c, &d, 1, 2048, 1e-6, work, sizeof work / sizeof work[0]));
  for (double x = 0.1; x < 2; x += 0.3) {
    double f, l;
    CHECK_MOK(spot_conv_cdf(&c, x * MU, &f));
    CHECK(fabs(f - x / 2) < 1e-6);
    CHECK_MOK(spot_conv_lpm(&c, x * MU, &l));
    CHECK(fabs(l - spot_dist_lpm(&d, x * MU)) < 1e-6 * MU);
  }
  CHECK_MOK(spot_conv_init(&c, &d, 2, 2048, 1e-6, work, sizeof work / sizeof work[0]));
  for (double x = 0.1; x < 4; x += 0.3) {
    double f, want = x <= 2 ? x * x / 8 : 1 - (4 - x) * (4 - x) / 8; /* triangle on [0, 4mu] */
    CHECK_MOK(spot_conv_cdf(&c, x * MU, &f));
    CHECK(fabs(f - want) < 1e-5);
  }
  /* N = 40 uniform: against the normal limit loosely, and the quota against brute force on the lattice */
  CHECK_MOK(spot_conv_init(&c, &d, 40, 2048, 1e-6, work, sizeof work / sizeof work[0]));
  double theta, bmin, badhoc, saving, f;
  CHECK_MOK(spot_conv_optimum(&c, &r, &theta, &bmin, &badhoc, &saving));
  CHECK_MOK(spot_conv_cdf(&c, theta, &f));
  CHECK_NEAR(f, 10.0 / 11.0, 1e-9);
  double z = (theta - 40 * MU) / (MU / sqrt(3.0) * sqrt(40.0));
  CHECK(fabs(z - 1.335) < 0.02); /* Phi^-1(10/11) = 1.3352 */
  for (int k = -5; k <= 5; k++) {
    double b;
    if (k == 0)
      continue;
    CHECK_MOK(spot_conv_billing(&c, &r, theta * (1 + k * 1e-3), &b));
    CHECK(b >= bmin);
  }
  /* Pareto devices: the lattice runs and gives a quota between the mean and the shaped one */
  spot_dist_t p, s;
  CHECK_MOK(spot_dist_init(&p, SPOT_DIST_PARETO, MU, 2.5));
  CHECK_MOK(spot_conv_init(&c, &p, 40, 2048, 1e-4, work, sizeof work / sizeof work[0]));
  CHECK_MOK(spot_conv_optimum(&c, &r, &theta, &bmin, &badhoc, &saving));
  double shaped;
  CHECK_MOK(spot_dist_shaped(&s, &p, 40));
  CHECK_MOK(spot_billing_optimum(&s, &r, &shaped, NULL));
  CHECK(theta > 40 * MU && theta < shaped);
  /* Pareto of large shape is nearly the fixed volume: the convolved quota tends to N mu */
  CHECK_MOK(spot_dist_init(&p, SPOT_DIST_PARETO, MU, 200));
  CHECK_MOK(spot_conv_init(&g, &p, 40, 2048, 1e-6, work, sizeof work / sizeof work[0]));
  CHECK_MOK(spot_conv_optimum(&g, &r, &theta, NULL, NULL, NULL));
  CHECK(fabs(theta / (40 * MU) - 1) < 0.02);
}

static void test_invalid(void) {
  spot_rates_t r = rates(), bad;
  spot_dist_t d;
  spot_conv_t c;
  double x, work[64];
  CHECK_MOK(spot_dist_init(&d, SPOT_DIST_UNIFORM, MU, 0));
  bad = r, bad.b_i = 0;
  CHECK_MRC(spot_billing(&d, &bad, 1, &x), SPOT_MODEL_EBI);
  bad = r, bad.b_a = -1;
  CHECK_MRC(spot_billing_optimum(&d, &bad, &x, &x), SPOT_MODEL_EBA);
  bad = r, bad.b_t = -1e-12;
  CHECK_MRC(spot_billing_saving(&d, &bad, &x), SPOT_MODEL_EBT);
  CHECK_MRC(spot_billing(&d, &r, -1, &x), SPOT_MODEL_EQUOTA);
  CHECK_MRC(spot_billing_deriv(&d, &r, NAN, &x, &x), SPOT_MODEL_EQUOTA);
  CHECK_MRC(spot_dist_shaped(&d, &d, 0.5), SPOT_MODEL_EDEVICES);
  CHECK_MRC(spot_conv_init(&c, &d, 2.5, 16, 1e-6, work, 64), SPOT_MODEL_EDEVICES);
  CHECK_MRC(spot_conv_init(&c, &d, 4, 32, 1e-6, work, 64), SPOT_MODEL_EWORK);
  CHECK_MRC(spot_conv_init(&c, &d, 4, 16, 0, work, 64), SPOT_MODEL_EPROB);
  CHECK_MOK(spot_conv_init(&c, &d, 4, 16, 1e-6, work, 64));
  CHECK_MRC(spot_conv_cdf(&c, 100 * MU, &x), SPOT_MODEL_EGRID);
  CHECK_MRC(spot_conv_quantile(&c, 1.0, &x), SPOT_MODEL_EPROB);
  CHECK(strstr(spot_model_strerror(SPOT_MODEL_EBILLING), "billing target must be positive") != NULL);
}

static const spot_test_t tests[] = {{"billing", test_billing},         {"tables", test_tables},
                                    {"saving", test_saving},           {"devices", test_devices},
                                    {"design", test_design},           {"conv_gamma", test_conv_gamma},
                                    {"conv_lattice", test_conv_lattice}, {"invalid", test_invalid},
                                    {NULL, NULL}};
SPOT_TEST_MAIN(tests)
