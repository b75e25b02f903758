/*
 * worker_handlers.c: handlers for the worker-mode tests (tests/worker_test.c), built with `spot build-handler`.
 * `nap` takes 300 ms, then records the element's sequence number in log `seen`; `chatty` writes 4 MB to its
 * standard output; `talker` writes one
 * short line to each of its standard output and error, naming its element.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <spot/handler.h>

static int nap(spot_ctx_t *ctx, const spot_event_t *ev) {
  struct timespec t = {.tv_nsec = 300000000};
  nanosleep(&t, NULL);
  uint64_t v = ev->seq;
  return spot_ctx_put(ctx, "seen", &v, sizeof v, NULL, NULL);
}
SPOT_HANDLER(nap)

static int chatty(spot_ctx_t *ctx, const spot_event_t *ev) {
  (void)ctx;
  (void)ev;
  char line[1024];
  memset(line, 'x', sizeof line - 1);
  line[sizeof line - 1] = '\0';
  for (int i = 0; i < 4096; i++)
    printf("%s\n", line);
  return 0;
}
SPOT_HANDLER(chatty)

static int talker(spot_ctx_t *ctx, const spot_event_t *ev) {
  (void)ctx;
  printf("out of #%llu\n", (unsigned long long)ev->seq);
  fprintf(stderr, "err of #%llu\n", (unsigned long long)ev->seq);
  return 0;
}
SPOT_HANDLER(talker)
