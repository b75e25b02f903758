/*
 * dispatch_test.c: handlers in an embedded node (thread mode): refused puts, exactly-once runs in a burst of
 * 100,000 puts, puts made while no node runs, backpressure (SPOT_EBUSY), causes recorded along a chain, and a
 * polling node (poll_us) that runs every put once whether it comes while the threads look or after they slept.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/event.h"
#include "dispatch/dispatch.h"
#include "store/store.h"
#include "spot.h"
#include "support.h"
#include "test.h"

#define BURST 100000

static _Atomic uint32_t runs[BURST + 2];

static int count(spot_ctx_t *ctx, const spot_event_t *ev) {
  uint64_t v;
  memcpy(&v, ev->data, sizeof v);
  if (ev->seq <= BURST && v == ev->seq * 7)
    atomic_fetch_add(&runs[ev->seq], 1);
  return 0;
}
SPOT_HANDLER(count)

static int chain_a(spot_ctx_t *ctx, const spot_event_t *ev) {
  return spot_ctx_put(ctx, "b", ev->data, 8, "chain_b", NULL);
}
SPOT_HANDLER(chain_a)

static int chain_b(spot_ctx_t *ctx, const spot_event_t *ev) { return spot_ctx_put(ctx, "c", ev->data, 8, NULL, NULL); }
SPOT_HANDLER(chain_b)

static int failing(spot_ctx_t *ctx, const spot_event_t *ev) { return 42; }
SPOT_HANDLER(failing)

static void test_refused_puts(void) {
  const char *dir = spot_test_ns("disp-refuse", 16);
  CHECK(dir != NULL);
  spot_node_t *node;
  spot_node_opts_t o = {.mode = SPOT_MODE_THREAD, .workers = 1, .quiet = 1};
  CHECK_OK(spot_node_start(dir, &o, &node)); /* registers this program's handlers */
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  uint64_t v = 7, seq;
  CHECK_RC(spot_put(ns, "a", &v, 8, "nosuch", NULL, &seq), SPOT_ENOTFOUND);
  CHECK(strstr(spot_errdetail(), "not registered") != NULL);
  CHECK_RC(spot_put(ns, "a", &v, 8, "../evil", NULL, &seq), SPOT_EBADNAME);
  CHECK_RC(spot_put(ns, "nolog", &v, 8, "count", NULL, &seq), SPOT_ENOTFOUND);
  uint64_t hi;
  spot_log_t *a;
  CHECK_OK(spot_ns_open_log(ns, "a", 0, &a, NULL));
  spot_log_latest(a, &hi);
  CHECK_EQ(hi, 0); /* nothing was written by the refused puts */
  spot_log_close(a);
  spot_ns_close(ns);
  spot_node_stop(node);
}

static void test_burst_exactly_once(void) {
  const char *dir = spot_test_ns("disp-burst", 1 << 17);
  CHECK(dir != NULL);
  memset(runs, 0, sizeof runs);
  spot_node_t *node;
  spot_node_opts_t o = {.mode = SPOT_MODE_THREAD, .workers = 2, .quiet = 1};
  CHECK_OK(spot_node_start(dir, &o, &node));
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  for (uint64_t i = 1; i <= BURST; i++) {
    uint64_t v = i * 7, seq;
    CHECK_OK(spot_put(ns, "a", &v, 8, "count", NULL, &seq));
    CHECK_EQ(seq, i);
  }
  CHECK_OK(spot_test_wait_done(node, BURST));
  spot_node_stats_t st;
  spot_node_stats(node, &st);
  CHECK_EQ(st.ended, BURST);
  CHECK_EQ(st.failed, 0);
  for (uint64_t i = 1; i <= BURST; i++)
    CHECK_EQ(atomic_load(&runs[i]), 1);
  spot_ns_close(ns);
  spot_node_stop(node);
  printf("  %d puts, %d handler runs, each exactly once\n", BURST, BURST);
}

/* A node whose idle threads poll before they sleep: puts that come within the window (back to back) and after it
 * (a pause of 2 ms after every 50: the threads sleep and a put wakes them) each run exactly once, and the node
 * stops promptly while its threads poll. */
static void test_polling_exactly_once(void) {
  const int n = 2000;
  const char *dir = spot_test_ns("disp-poll", 4096);
  CHECK(dir != NULL);
  memset(runs, 0, sizeof runs);
  spot_node_t *node;
  spot_node_opts_t o = {.mode = SPOT_MODE_THREAD, .workers = 2, .quiet = 1, .poll_us = 500};
  CHECK_OK(spot_node_start(dir, &o, &node));
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  for (uint64_t i = 1; i <= (uint64_t)n; i++) {
    uint64_t v = i * 7, seq;
    CHECK_OK(spot_put(ns, "a", &v, 8, "count", NULL, &seq));
    if (i % 50 == 0)
      usleep(2000);
  }
  CHECK_OK(spot_test_wait_done(node, (unsigned long long)n));
  spot_node_stats_t st;
  spot_node_stats(node, &st);
  CHECK_EQ(st.ended, (uint64_t)n);
  for (uint64_t i = 1; i <= (uint64_t)n; i++)
    CHECK_EQ(atomic_load(&runs[i]), 1);
  spot_ns_close(ns);
  uint64_t t0 = spot__now_ns();
  CHECK_OK(spot_node_stop(node));
  uint64_t stop_ms = (spot__now_ns() - t0) / 1000000u;
  printf("  %d puts to a node polling 500 us, each run once; stopped in %llu ms\n", n, (unsigned long long)stop_ms);
}

static void test_pending_runs_at_start(void) {
  const char *dir = spot_test_ns("disp-pending", 1000);
  CHECK(dir != NULL);
  memset(runs, 0, sizeof runs);
  spot_node_t *node;
  spot_node_opts_t o = {.mode = SPOT_MODE_THREAD, .workers = 2, .quiet = 1};
  CHECK_OK(spot_node_start(dir, &o, &node)); /* registers `count`, then stops */
  spot_node_stop(node);
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  for (uint64_t i = 1; i <= 500; i++) {
    uint64_t v = i * 7;
    CHECK_OK(spot_put(ns, "a", &v, 8, "count", NULL, NULL)); /* no node runs: kept */
  }
  spot_ns_close(ns);
  CHECK_OK(spot_node_start(dir, &o, &node));
  CHECK_OK(spot_test_wait_done(node, 500));
  spot_node_stats_t st;
  spot_node_stats(node, &st);
  CHECK_EQ(st.rerun, 500);
  for (uint64_t i = 1; i <= 500; i++)
    CHECK_EQ(atomic_load(&runs[i]), 1);
  spot_node_stop(node);
  /* a third start finds nothing left */
  CHECK_OK(spot_node_start(dir, &o, &node));
  spot_node_stats(node, &st);
  CHECK_EQ(st.rerun, 0);
  spot_node_stop(node);
}

static void test_backpressure_busy(void) {
  const char *dir = spot_test_ns("disp-busy", 8);
  CHECK(dir != NULL);
  spot_node_t *node;
  spot_node_opts_t o = {.mode = SPOT_MODE_THREAD, .workers = 1, .quiet = 1};
  CHECK_OK(spot_node_start(dir, &o, &node));
  spot_node_stop(node);
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  spot_ns_set_busy_timeout(ns, 200);
  uint64_t v = 7;
  for (int i = 0; i < 8; i++)
    CHECK_OK(spot_put(ns, "a", &v, 8, "count", NULL, NULL));
  CHECK_RC(spot_put(ns, "a", &v, 8, "count", NULL, NULL), SPOT_EBUSY);
  CHECK(strstr(spot_errdetail(), "handlers have not run") != NULL);
  CHECK_OK(spot_put(ns, "n", &v, 8, NULL, NULL, NULL)); /* other logs are not held up */
  spot_ns_close(ns);
  /* once a node runs the handlers, the ring moves again */
  CHECK_OK(spot_node_start(dir, &o, &node));
  CHECK_OK(spot_test_wait_done(node, 8));
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  CHECK_OK(spot_put(ns, "a", &v, 8, "count", NULL, NULL));
  spot_ns_close(ns);
  spot_node_stop(node);
}

static void test_chain_causes(void) {
  const char *dir = spot_test_ns("disp-chain", 100);
  CHECK(dir != NULL);
  spot_node_t *node;
  spot_node_opts_t o = {.mode = SPOT_MODE_THREAD, .workers = 2, .quiet = 1};
  CHECK_OK(spot_node_start(dir, &o, &node));
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  uint64_t v = 99, seq;
  CHECK_OK(spot_put(ns, "a", &v, 8, "chain_a", NULL, &seq));
  CHECK_OK(spot_put(ns, "n", &v, 8, "failing", NULL, &seq));
  CHECK_OK(spot_test_wait_done(node, 3));
  spot_node_stop(node);
  /* walk the event log: put(a) -> start(chain_a) -> put(b) -> start(chain_b) -> put(c) */
  spot_log_t *events;
  CHECK_OK(spot__nsctx_events(ns, &events));
  spot_log_t *triggers;
  CHECK_OK(spot__nsctx_triggers(ns, &triggers));
  (void)triggers;
  uint64_t hi;
  spot_log_latest(events, &hi);
  uint64_t put_a = 0, start_a = 0, put_b = 0, start_b = 0, put_c = 0, fail_n = 0;
  for (uint64_t id = 1; id <= hi; id++) {
    spot__event_t e;
    CHECK_OK(spot__events_read(ns, id, &e));
    CHECK_EQ(e.node, spot_ns_node_id(ns));
    if (e.type == SPOT__EV_PUT && strcmp(e.log, "a") == 0)
      put_a = id;
    if (e.type == SPOT__EV_START && strcmp(e.handler, "chain_a") == 0 && e.cause_id == put_a)
      start_a = id;
    if (e.type == SPOT__EV_PUT && strcmp(e.log, "b") == 0 && e.cause_id == start_a)
      put_b = id;
    if (e.type == SPOT__EV_START && strcmp(e.handler, "chain_b") == 0 && e.cause_id == put_b)
      start_b = id;
    if (e.type == SPOT__EV_PUT && strcmp(e.log, "c") == 0 && e.cause_id == start_b)
      put_c = id;
    if (e.type == SPOT__EV_FAIL && strcmp(e.handler, "failing") == 0 && e.status == 42)
      fail_n = id;
  }
  CHECK(put_a && start_a && put_b && start_b && put_c && fail_n);
  spot_ns_close(ns);
}

/* A put cut short between its two appends (an element marked for `count`, no trigger) runs once the node has found
 * it; a second trigger for an element whose handler already ran is skipped; one node per namespace. */
static void test_orphans_and_duplicates(void) {
  const char *dir = spot_test_ns("disp-orphan", 100);
  CHECK(dir != NULL);
  memset(runs, 0, sizeof runs);
  spot_node_t *node;
  spot_node_opts_t o = {.mode = SPOT_MODE_THREAD, .workers = 2, .quiet = 1};
  CHECK_OK(spot_node_start(dir, &o, &node));
  spot_node_t *second;
  CHECK_RC(spot_node_start(dir, &o, &second), SPOT_EBUSY);
  CHECK(strstr(spot_errdetail(), "already served") != NULL);
  spot_node_stop(node);

  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  spot__reg_entry_t h;
  CHECK_OK(spot__registry_lookup(ns, "count", &h));
  spot_log_t *a;
  CHECK_OK(spot__ns_log(ns, "a", &a));
  uint64_t v1 = 1 * 7, v2 = 2 * 7, seq;
  CHECK_OK(spot__log_append_pending(a, &v1, 8, h.id, &seq)); /* the putter died here: no put event, no trigger */
  CHECK_EQ(seq, 1);
  CHECK_OK(spot_put(ns, "a", &v2, 8, "count", NULL, &seq)); /* a whole put ... */
  CHECK_EQ(seq, 2);
  spot__event_t put;
  memset(&put, 0, sizeof put);
  put.type = SPOT__EV_PUT;
  put.seq = 2;
  put.handler_id = h.id;
  snprintf(put.log, sizeof put.log, "a");
  snprintf(put.handler, sizeof put.handler, "count");
  CHECK_OK(spot__events_append(ns, &put, &put.id));
  CHECK_OK(spot__life_trigger(ns, &put, h.id, NULL)); /* ... and a second trigger for the same element */
  CHECK_OK(spot_node_start(dir, &o, &node));
  for (int i = 0; i < 10000 && (atomic_load(&runs[1]) == 0 || atomic_load(&runs[2]) == 0); i++)
    usleep(1000);
  usleep(100000); /* let a duplicate run, if there were one */
  CHECK_EQ(atomic_load(&runs[1]), 1);
  CHECK_EQ(atomic_load(&runs[2]), 1);
  CHECK_EQ(spot__log_pending(a, 1), 0);
  CHECK_EQ(spot__log_pending(a, 2), 0);
  spot_node_stop(node);
  spot_ns_close(ns);
}

static const spot_test_t tests[] = {
    {"orphans_and_duplicates", test_orphans_and_duplicates},
    {"refused_puts", test_refused_puts},
    {"burst_exactly_once", test_burst_exactly_once},
    {"polling_exactly_once", test_polling_exactly_once},
    {"pending_runs_at_start", test_pending_runs_at_start},
    {"backpressure_busy", test_backpressure_busy},
    {"chain_causes", test_chain_causes},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
