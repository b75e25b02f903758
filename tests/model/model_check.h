/*
 * tests/model/model_check.h: what the model's tests share: CHECK_NEAR (relative error), CHECK_MRC (a model call
 * returning a SPOT_MODEL_E* code) and the GSL integral that serves as the independent oracle.
 */
#ifndef SPOT_MODEL_CHECK_H
#define SPOT_MODEL_CHECK_H

#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <math.h>

#include "spot/model.h"
#include "test.h"

/* |a - b| <= rel * max(|b|, tiny) */
#define CHECK_NEAR(a, b, rel)                                                                                    \
  do {                                                                                                           \
    double a_ = (a), b_ = (b), s_ = fabs(b_) > 1e-300 ? fabs(b_) : 1e-300;                                      \
    if (!(fabs(a_ - b_) <= (rel) * s_) && !(a_ == b_)) {                                                         \
      fprintf(stderr, "  %s:%d: %s ~ %s failed: %.17g vs %.17g (rel %.3g > %.3g)\n", __FILE__, __LINE__, #a, #b, \
              a_, b_, fabs(a_ - b_) / s_, (double)(rel));                                                        \
      spot_test_failed_ = 1;                                                                                     \
      return;                                                                                                    \
    }                                                                                                            \
  } while (0)

#define CHECK_MRC(call, rc)                                                                                  \
  do {                                                                                                       \
    int got_ = (call);                                                                                       \
    if (got_ != (rc)) {                                                                                      \
      fprintf(stderr, "  %s:%d: %s returned %s, wanted %s\n", __FILE__, __LINE__, #call,                     \
              spot_model_errname(got_), spot_model_errname(rc));                                             \
      spot_test_failed_ = 1;                                                                                 \
      return;                                                                                                \
    }                                                                                                        \
  } while (0)

#define CHECK_MOK(call) CHECK_MRC(call, 0)

typedef double (*integrand_fn)(double x, void *p);

/* The scale of an integral over [0, inf): set it to the distribution's mean. */
static double integral_scale = 1;

typedef struct scaled {
  integrand_fn f;
  void *p;
  double a, s;
} scaled_t;

static inline double scaled_fn(double y, void *p) {
  scaled_t *c = p;
  return c->s * c->f(c->a + c->s * y, c->p);
}

/* int_a^b f (b may be +inf), to a relative error of about 1e-13. The variable is rescaled to y = (x - a)/s with s
 * the interval's length (or a, or integral_scale, for an infinite one) so that GSL's rules work at unit scale. */
static inline double integral(integrand_fn f, void *p, double a, double b) {
  static gsl_integration_workspace *ws;
  if (ws == NULL) {
    ws = gsl_integration_workspace_alloc(4000);
    gsl_set_error_handler_off();
  }
  if (a >= b)
    return 0;
  double s = isinf(b) ? (a > 0 ? a : integral_scale) : b - a;
  scaled_t c = {f, p, a, s};
  gsl_function g = {scaled_fn, &c};
  double res = NAN, err;
  if (isinf(b))
    gsl_integration_qagiu(&g, 0, 0, 1e-13, 4000, ws, &res, &err);
  else
    gsl_integration_qags(&g, 0, 1, 0, 1e-13, 4000, ws, &res, &err);
  return res;
}

#endif
