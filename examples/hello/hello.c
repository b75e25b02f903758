/*
 * hello.c: the smallest spot handler. Put anything to a log naming `hello` and the node prints a greeting with the
 * element's text.
 */
#include <spot/handler.h>

static int hello(spot_ctx_t *ctx, const spot_event_t *ev) {
  spot_print(ctx, "hello, %.*s! (element %llu of log %s)", (int)ev->size, (const char *)ev->data,
             (unsigned long long)ev->seq, ev->log);
  return 0;
}
SPOT_HANDLER(hello)
