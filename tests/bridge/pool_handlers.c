/*
 * pool_handlers.c: the handlers pool_test gives its pool members (built with `spot build-handler`).
 *  - pooled: a little work (1 ms; POOL_TEST_SLOW_MS in the member's environment: that long), then the element put to
 *    log `out`: what each member ran, by origin payload.
 *  - refuse: always fails (status 7), so its work ends in the pool's dead letters after max deliver runs.
 */
#include <stdlib.h>
#include <time.h>

#include <spot/handler.h>

static int pooled(spot_ctx_t *ctx, const spot_event_t *ev) {
  const char *slow = getenv("POOL_TEST_SLOW_MS"); /* a slow consumer: the member pool_test starts with it */
  long ms = slow ? atol(slow) : 1;
  struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
  return spot_ctx_put(ctx, "out", ev->data, ev->size, NULL, NULL);
}
SPOT_HANDLER(pooled)

static int refuse(spot_ctx_t *ctx, const spot_event_t *ev) {
  (void)ctx;
  (void)ev;
  return 7;
}
SPOT_HANDLER(refuse)
