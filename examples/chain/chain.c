/*
 * chain.c: two handlers in a chain. A put to log `a` naming chain_a runs chain_a, which puts the same bytes to log
 * `b` naming chain_b; chain_b puts them to log `c`. Each put records the handler invocation that made it as its
 * cause, so `spot trace a 1` shows the whole chain.
 */
#include <spot/handler.h>

static int chain_a(spot_ctx_t *ctx, const spot_event_t *ev) {
  return spot_ctx_put(ctx, "b", ev->data, ev->size, "chain_b", NULL);
}
SPOT_HANDLER(chain_a)

static int chain_b(spot_ctx_t *ctx, const spot_event_t *ev) {
  return spot_ctx_put(ctx, "c", ev->data, ev->size, NULL, NULL);
}
SPOT_HANDLER(chain_b)
