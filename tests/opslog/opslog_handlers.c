/*
 * opslog_handlers.c: handlers for the operator's-log test (opslog_test.sh, issue 12): one that prints on every
 * stream, one that says why it fails with spot_fail, one that fails with no more than a last line of output, and
 * one that crashes. Built with `spot build-handler` by the test.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <spot/handler.h>

/* Writes to stdout, stderr and through spot_print: all three must reach spotd's log, prefixed with the run. */
static int noisy(spot_ctx_t *ctx, const spot_event_t *ev) {
  printf("noisy-stdout %.*s\n", (int)ev->size, (const char *)ev->data);
  fflush(stdout);
  fprintf(stderr, "noisy-stderr %.*s\n", (int)ev->size, (const char *)ev->data);
  spot_print(ctx, "noisy-print %.*s", (int)ev->size, (const char *)ev->data);
  return 0;
}
SPOT_HANDLER(noisy)

/* Refuses a reading out of -60..60 and says why. */
static int picky(spot_ctx_t *ctx, const spot_event_t *ev) {
  double t = atof((const char *)ev->data);
  if (t < -60 || t > 60) {
    spot_fail(ctx, "reading %.1f out of range", t);
    return SPOT_ERANGE;
  }
  return 0;
}
SPOT_HANDLER(picky)

/* Fails with a status that is no SPOT_E* code, after one line on stderr. */
static int grumpy(spot_ctx_t *ctx, const spot_event_t *ev) {
  (void)ctx;
  (void)ev;
  fprintf(stderr, "grumpy: the last words\n");
  return 3;
}
SPOT_HANDLER(grumpy)

/* Prints a line, then crashes its worker: the line must still reach the log and the fail event. */
static int crashy(spot_ctx_t *ctx, const spot_event_t *ev) {
  (void)ctx;
  (void)ev;
  fprintf(stderr, "crashy: falling\n");
  raise(SIGSEGV);
  return 0;
}
SPOT_HANDLER(crashy)
