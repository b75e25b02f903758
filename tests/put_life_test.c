/*
 * put_life_test.c: a put's life when part of it fails (thread mode). A put whose trigger cannot be queued (the
 * trigger queue is full) has happened all the same: it returns its sequence number, nothing is stored twice, and
 * its handler runs once a node drains the queue. A put killed between its two appends while the node runs is
 * recovered by the running node, not at its next start. A stale trigger (kept by the `none` trigger queue across a
 * power cut that took its element, whose number was then given to another put) does not run its handler on the
 * new element. Every wait is bounded.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/event.h"
#include "dispatch/dispatch.h"
#include "spot.h"
#include "store/store.h"
#include "support.h"
#include "test.h"

#define QUEUE 65536u /* the trigger queue's history (SPOT__EVENTS_HISTORY_DEFAULT) */

static _Atomic uint32_t runs[QUEUE + 8];

static int tally(spot_ctx_t *ctx, const spot_event_t *ev) {
  (void)ctx;
  if (ev->seq < QUEUE + 8)
    atomic_fetch_add(&runs[ev->seq], 1);
  return 0;
}
SPOT_HANDLER(tally)

static _Atomic uint32_t wrong_runs;

static int other(spot_ctx_t *ctx, const spot_event_t *ev) {
  (void)ctx;
  (void)ev;
  atomic_fetch_add(&wrong_runs, 1);
  return 0;
}
SPOT_HANDLER(other)

static int wait_runs(uint64_t lo, uint64_t hi, int seconds) {
  for (int i = 0; i < seconds * 100; i++) {
    uint64_t s = lo;
    while (s <= hi && atomic_load(&runs[s]) > 0)
      s++;
    if (s > hi)
      return 0;
    usleep(10000);
  }
  return -1;
}

static void test_full_trigger_queue(void) {
  const char *dir = spot_test_ns("life-full", QUEUE + 8);
  CHECK(dir != NULL);
  memset(runs, 0, sizeof runs);
  spot_node_t *node;
  spot_node_opts_t o = {.mode = SPOT_MODE_THREAD, .workers = 2, .quiet = 1};
  CHECK_OK(spot_node_start(dir, &o, &node)); /* registers `tally`, then stops: the queue fills */
  spot_node_stop(node);
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  spot_ns_set_busy_timeout(ns, 100);
  uint64_t v = 1, seq = 0;
  for (uint64_t i = 1; i <= QUEUE; i++)
    CHECK_OK(spot_put(ns, "a", &v, 8, "tally", NULL, &seq));
  /* the queue is full: the element is stored and marked, its trigger is not; before, this failed with SPOT_EBUSY
   * after the element was stored (a retry stored it twice), and its mark was cleared (its handler never ran) */
  CHECK_OK(spot_put(ns, "a", &v, 8, "tally", NULL, &seq));
  CHECK_EQ(seq, QUEUE + 1);
  spot_log_t *a;
  CHECK_OK(spot__ns_log(ns, "a", &a));
  CHECK(spot__log_pending(a, seq) != 0);
  spot_ns_close(ns);
  CHECK_OK(spot_node_start(dir, &o, &node));
  CHECK_OK(wait_runs(1, QUEUE + 1, 60));
  spot_node_stop(node);
  for (uint64_t i = 1; i <= QUEUE + 1; i++)
    CHECK_EQ(atomic_load(&runs[i]), 1);
}

static void test_cut_short_while_running(void) {
  const char *dir = spot_test_ns("life-cut", 100);
  CHECK(dir != NULL);
  memset(runs, 0, sizeof runs);
  spot_node_t *node;
  spot_node_opts_t o = {.mode = SPOT_MODE_THREAD, .workers = 1, .quiet = 1};
  CHECK_OK(spot_node_start(dir, &o, &node));
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  uint64_t v = 1, seq;
  CHECK_OK(spot_put(ns, "a", &v, 8, "tally", NULL, &seq)); /* a whole put, run at once */
  CHECK_OK(wait_runs(1, 1, 10));
  usleep(300000); /* the node's first look for interrupted puts is under way or over */
  spot__reg_entry_t h;
  CHECK_OK(spot__registry_lookup(ns, "tally", &h));
  spot_log_t *a;
  CHECK_OK(spot__ns_log(ns, "a", &a));
  CHECK_OK(spot__log_append_pending(a, &v, 8, h.id, &seq)); /* a putter killed here: no put event, no trigger */
  CHECK_EQ(seq, 2);
  int rc = wait_runs(2, 2, 20); /* before: it ran only at the node's next start */
  spot_node_stop(node);
  CHECK_OK(rc);
  CHECK_EQ(atomic_load(&runs[2]), 1);
  CHECK_EQ(spot__log_pending(a, 2), 0); /* released: it no longer holds the ring */
  spot_ns_close(ns);
}

static void test_stale_trigger(void) {
  const char *dir = spot_test_ns("life-stale", 100);
  CHECK(dir != NULL);
  memset(runs, 0, sizeof runs);
  atomic_store(&wrong_runs, 0);
  spot_node_t *node;
  spot_node_opts_t o = {.mode = SPOT_MODE_THREAD, .workers = 1, .quiet = 1};
  CHECK_OK(spot_node_start(dir, &o, &node)); /* registers `tally` and `other` */
  spot_node_stop(node);
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  spot__reg_entry_t h;
  CHECK_OK(spot__registry_lookup(ns, "other", &h));
  /* the trigger of a put of element a#1 for `other`, whose element a power cut took */
  spot__event_t stale;
  memset(&stale, 0, sizeof stale);
  stale.type = SPOT__EV_PUT;
  stale.seq = 1;
  stale.handler_id = h.id;
  snprintf(stale.log, sizeof stale.log, "a");
  snprintf(stale.handler, sizeof stale.handler, "other");
  CHECK_OK(spot__events_append(ns, &stale, &stale.id));
  CHECK_OK(spot__life_trigger(ns, &stale, h.id, NULL));
  /* a#1 again, put for `tally` */
  uint64_t v = 1, seq;
  CHECK_OK(spot_put(ns, "a", &v, 8, "tally", NULL, &seq));
  CHECK_EQ(seq, 1);
  spot_ns_close(ns);
  CHECK_OK(spot_node_start(dir, &o, &node));
  int rc = wait_runs(1, 1, 10);
  usleep(100000);
  spot_node_stop(node);
  CHECK_OK(rc);
  CHECK_EQ(atomic_load(&runs[1]), 1);
  CHECK_EQ(atomic_load(&wrong_runs), 0); /* before: `other` ran on tally's element */
}

static const spot_test_t tests[] = {
    {"stale_trigger", test_stale_trigger},
    {"full_trigger_queue", test_full_trigger_queue},
    {"cut_short_while_running", test_cut_short_while_running},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
