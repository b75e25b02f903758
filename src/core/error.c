/*
 * error.c: error texts, names and the per-thread detail line behind spot/error.h.
 *
 * A failing function records a detail line with spot__fail(code, fmt, ...), which formats the explanation into a
 * thread-local buffer and returns the code, so an error site reads `return spot__fail(SPOT_EEXPIRED, "...")`.
 */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char detail[512];

const char *spot_strerror(int err) {
  switch (err) {
  case 0:
    return "success";
#define SPOT__ERR_TEXT(name, value, text) \
  case value:                             \
    return text;
    SPOT_ERRORS(SPOT__ERR_TEXT)
#undef SPOT__ERR_TEXT
  }
  return "unknown error";
}

const char *spot_errname(int err) {
  switch (err) {
  case 0:
    return "SPOT_OK";
#define SPOT__ERR_NAME(name, value, text) \
  case value:                             \
    return "SPOT_" #name;
    SPOT_ERRORS(SPOT__ERR_NAME)
#undef SPOT__ERR_NAME
  }
  return "SPOT_E?";
}

const char *spot_errdetail(void) { return detail; }

int spot__fail(int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  return err;
}

int spot_fail(int err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  return err;
}

void spot__clear_detail(void) { detail[0] = '\0'; }
