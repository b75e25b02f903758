/*
 * apps/vquery/tiers.c: the helpers the tiers' programs share (tiers.h): clocks, the per-thread detail line behind
 * vq_tiers_detail(), idempotent log creation and number parsing for the command lines.
 */
#include "tiers.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <spot/error.h>
#include <spot/log.h>

#include "vquery.h"

static _Thread_local char detail[512];

const char *vq_tiers_detail(void) { return detail; }

int vq_tiers_fail(int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  return spot_fail(rc, "%s", detail); /* spot_errdetail() says the same, until the next spot call */
}

int vq_tiers_spot_fail(int rc, const char *what) {
  const char *d = spot_errdetail();
  return vq_tiers_fail(rc, "%s: %s%s%s", what, spot_strerror(rc), d[0] ? ": " : "", d);
}

int64_t vq_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double vq_thread_cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void vq_sleep_until(int64_t t_ns, volatile const int *stop) {
  for (;;) {
    if (stop && *stop)
      return;
    int64_t left = t_ns - vq_now_ns();
    if (left <= 0)
      return;
    if (left > 50000000)
      left = 50000000;
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)left};
    nanosleep(&ts, NULL);
  }
}

int vq_ensure_log(spot_ns_t *ns, const char *name, uint32_t elem_size, uint64_t history, int sync) {
  spot_log_config_t cfg = {.elem_size = elem_size, .history = history, .sync = (spot_sync_t)sync};
  int rc = spot_ns_create_log(ns, name, &cfg);
  if (rc == 0)
    return 0;
  if (rc != SPOT_EEXIST)
    return vq_tiers_spot_fail(rc, name);
  spot_log_t *log;
  if ((rc = spot_ns_open_log(ns, name, 0, &log, NULL)) != 0)
    return vq_tiers_spot_fail(rc, name);
  spot_log_info_t info;
  rc = spot_log_info(log, &info);
  spot_log_close(log);
  if (rc != 0)
    return vq_tiers_spot_fail(rc, name);
  if (info.elem_size != elem_size)
    return vq_tiers_fail(SPOT_EINVAL,
                         "log %s of %s has elements of %u bytes, this program's records are %u (a namespace of "
                         "another version: make a new one)",
                         name, spot_ns_dir(ns), info.elem_size, elem_size);
  return 0;
}

int vq_ns_name(const char *dir, char *out, size_t cap) {
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/')
    n--;
  size_t start = n;
  while (start > 0 && dir[start - 1] != '/')
    start--;
  if (n == start || n - start + 1 > cap)
    return vq_tiers_fail(SPOT_EINVAL, "namespace directory %s has no usable base name", dir);
  memcpy(out, dir + start, n - start);
  out[n - start] = '\0';
  return 0;
}

int vq_parse_i64(const char *opt, const char *text, int64_t lo, int64_t hi, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno || end == text || *end || v < lo || v > hi)
    return vq_tiers_fail(SPOT_EINVAL, "%s wants a whole number from %lld to %lld, not '%s'", opt, (long long)lo,
                         (long long)hi, text);
  *out = v;
  return 0;
}

int vq_parse_double(const char *opt, const char *text, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  if (errno || end == text || *end || !isfinite(v) || v < lo || v > hi)
    return vq_tiers_fail(SPOT_EINVAL, "%s wants a number from %g to %g, not '%s'", opt, lo, hi, text);
  *out = v;
  return 0;
}

int vq_opts_parse(const char *verb, const vq_opt_t *opts, size_t n, int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
      return 1;
    size_t j = 0;
    while (j < n && strcmp(opts[j].name, argv[i]) != 0)
      j++;
    if (j == n) {
      fprintf(stderr, "spot vquery %s: unknown option '%s' (see --help)\n", verb, argv[i]);
      return 2;
    }
    const vq_opt_t *o = &opts[j];
    if (o->kind == VQ_OPT_FLAG) {
      *(int *)o->ptr = 1;
      continue;
    }
    if (i + 1 >= argc) {
      fprintf(stderr, "spot vquery %s: %s needs a value\n", verb, o->name);
      return 2;
    }
    const char *v = argv[++i];
    int rc = 0;
    if (o->kind == VQ_OPT_STR)
      *(const char **)o->ptr = v;
    else if (o->kind == VQ_OPT_I64)
      rc = vq_parse_i64(o->name, v, (int64_t)o->lo, (int64_t)o->hi, (int64_t *)o->ptr);
    else
      rc = vq_parse_double(o->name, v, o->lo, o->hi, (double *)o->ptr);
    if (rc != 0) {
      fprintf(stderr, "spot vquery %s: %s\n", verb, vq_tiers_detail());
      return 2;
    }
  }
  return 0;
}
