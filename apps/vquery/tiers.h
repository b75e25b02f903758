/*
 * apps/vquery/tiers.h: what the three tiers' programs share inside the application (not part of the contract in
 * vquery.h): clocks, the detail line of vq_tiers_detail(), log creation, and command-line number parsing.
 */
#ifndef VQUERY_TIERS_H
#define VQUERY_TIERS_H

#include <stddef.h>
#include <stdint.h>

#include <spot/ns.h>

/* The device's scratch log for calibration: its queries are put here (no handler), so that a calibrated query
 * includes the put into a log as a query of the run does (vq_device_setup makes it). */
#define VQ_LOG_REHEARSAL "calibration-queries"

/* CLOCK_REALTIME in ns (the clock of put_ns, answered_ns and --start-ns). */
int64_t vq_now_ns(void);
/* This thread's CPU time in seconds (CLOCK_THREAD_CPUTIME_ID): what the device's meter reads. */
double vq_thread_cpu_s(void);
/* Sleeps until CLOCK_REALTIME reaches t_ns, or until *stop becomes non-zero (checked every 50 ms; stop may be
 * NULL). Returns at once if t_ns has passed. */
void vq_sleep_until(int64_t t_ns, volatile const int *stop);

/* Records a detail line for vq_tiers_detail() and returns rc. */
int vq_tiers_fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Copies spot_errdetail() (prefixed by what) into the detail line and returns rc. */
int vq_tiers_spot_fail(int rc, const char *what);

/* Creates log name in ns with elem_size, history and sync unless it exists; an existing log of another element
 * size is refused (SPOT_EINVAL, naming it). */
int vq_ensure_log(spot_ns_t *ns, const char *name, uint32_t elem_size, uint64_t history, int sync);

/* The last path component of dir (the namespace's name in spot:// names) into out; SPOT_EINVAL if it does not fit. */
int vq_ns_name(const char *dir, char *out, size_t cap);

/* Parses a whole decimal number (int64 / double) or fails with a usage line naming opt. */
int vq_parse_i64(const char *opt, const char *text, int64_t lo, int64_t hi, int64_t *out);
int vq_parse_double(const char *opt, const char *text, double lo, double hi, double *out);

/* Command-line options: a table of {"--name", kind, where, lo, hi}; numbers are range-checked, FLAG sets an int
 * to 1. Returns 0, 1 when --help was given, or 2 after printing a usage line to stderr (prefixed by verb). */
typedef enum vq_opt_kind { VQ_OPT_STR, VQ_OPT_I64, VQ_OPT_DBL, VQ_OPT_FLAG } vq_opt_kind_t;
typedef struct vq_opt {
  const char *name;
  vq_opt_kind_t kind;
  void *ptr; /* const char **, int64_t *, double * or int * */
  double lo, hi;
} vq_opt_t;
int vq_opts_parse(const char *verb, const vq_opt_t *opts, size_t n, int argc, char **argv);

#endif
