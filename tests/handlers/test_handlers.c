/*
 * test_handlers.c: handlers that misbehave on purpose, built into a shared object by the spotd tests with
 * `spot build-handler`. `count` records each run by putting the element's sequence number to log `seen`; `crash`
 * dereferences NULL; `boom` aborts; `slow` spins past any time limit; `sleepy` takes a few milliseconds, then
 * counts like `count`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <spot/handler.h>

static int count(spot_ctx_t *ctx, const spot_event_t *ev) {
  uint64_t v = ev->seq;
  return spot_ctx_put(ctx, "seen", &v, sizeof v, NULL, NULL);
}
SPOT_HANDLER(count)

static int crash(spot_ctx_t *ctx, const spot_event_t *ev) {
  volatile int *p = NULL;
  return *p;
}
SPOT_HANDLER(crash)

static int boom(spot_ctx_t *ctx, const spot_event_t *ev) { abort(); }
SPOT_HANDLER(boom)

static int slow(spot_ctx_t *ctx, const spot_event_t *ev) {
  struct timespec t = {.tv_sec = 30};
  nanosleep(&t, NULL);
  return 0;
}
SPOT_HANDLER(slow)

static int sleepy(spot_ctx_t *ctx, const spot_event_t *ev) {
  struct timespec t = {.tv_nsec = 3000000};
  nanosleep(&t, NULL);
  return count(ctx, ev);
}
SPOT_HANDLER(sleepy)
