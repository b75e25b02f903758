/*
 * model.c: the model's error sentences and its rates (MODEL.md sections 6 and 8).
 *
 * The codes are the validity conditions of the model; each sentence says which bound was crossed so that the
 * planner can print it as it stands.
 */
#include <math.h>

#include "spot/model.h"

const char *spot_model_strerror(int err) {
  switch (err) {
  case 0:
    return "success";
#define SPOT__MODEL_ERR_TEXT(name, value, text) \
  case value:                                   \
    return text;
    SPOT_MODEL_ERRORS(SPOT__MODEL_ERR_TEXT)
#undef SPOT__MODEL_ERR_TEXT
  }
  return "unknown model error";
}

const char *spot_model_errname(int err) {
  switch (err) {
  case 0:
    return "SPOT_OK";
#define SPOT__MODEL_ERR_NAME(name, value, text) \
  case value:                                   \
    return "SPOT_MODEL_" #name;
    SPOT_MODEL_ERRORS(SPOT__MODEL_ERR_NAME)
#undef SPOT__MODEL_ERR_NAME
  }
  return "SPOT_MODEL_E?";
}

void spot_rates_default(spot_rates_t *r) {
  r->eps_a = SPOT_EPS_A_DEFAULT;
  r->eps_i = SPOT_EPS_I_DEFAULT;
  r->b_i = SPOT_B_I_DEFAULT;
  r->b_a = SPOT_B_A_DEFAULT;
  r->b_t = SPOT_B_T_DEFAULT;
}

static int positive(double x) { return x > 0 && isfinite(x); }

int spot_rates_check(const spot_rates_t *r) {
  if (!positive(r->eps_a))
    return SPOT_MODEL_EEPSA;
  if (!positive(r->eps_i))
    return SPOT_MODEL_EEPSI;
  if (!positive(r->b_i))
    return SPOT_MODEL_EBI;
  if (!positive(r->b_a))
    return SPOT_MODEL_EBA;
  if (!(r->b_t >= 0) || !isfinite(r->b_t))
    return SPOT_MODEL_EBT;
  return 0;
}
