/*
 * pool_handlers.c: the handlers pool_test gives its pool members (built with `spot build-handler`).
 *  - pooled: a little work (1 ms), then the element put to log `out`: what each member ran, by origin payload.
 *  - refuse: always fails (status 7), so its work ends in the pool's dead letters after max deliver runs.
 */
#include <time.h>

#include <spot/handler.h>

static int pooled(spot_ctx_t *ctx, const spot_event_t *ev) {
  struct timespec t = {.tv_nsec = 1000000};
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
