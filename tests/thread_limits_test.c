/*
 * thread_limits_test.c: thread mode's time limit and output bound. A handler that overruns the node's time limit
 * gets a fail event (SPOT_ETIMEDOUT, "timed out after N ms") and its element is released while it still runs; a
 * thread cannot be stopped, so it is abandoned and a new one runs the next puts (with one thread configured); when
 * the handler finally returns its result is ignored (no end event, not counted) but what it did (a put) stands.
 * spot_node_stop with such a handler still running returns, and the handler's namespace stays usable until it
 * returns. spot_print output of one run is bounded (64 KiB, then one note), per run. The stuck handler waits for a
 * flag the test sets, never for a time, so the order asserted here does not depend on timing.
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dispatch/dispatch.h"
#include "spot.h"
#include "support.h"
#include "test.h"

static atomic_int entered, released, returned, quick_runs;

/* Waits (at most 10 s) for the test to release it, then puts to "b" and returns 0. */
static int stuck(spot_ctx_t *ctx, const spot_event_t *ev) {
  atomic_store(&entered, 1);
  for (int i = 0; i < 10000 && !atomic_load(&released); i++)
    usleep(1000);
  uint64_t v = 99;
  int rc = spot_ctx_put(ctx, "b", &v, sizeof v, NULL, NULL);
  atomic_store(&returned, rc == 0 ? 1 : -1);
  return 0;
}
SPOT_HANDLER(stuck)

static int quick(spot_ctx_t *ctx, const spot_event_t *ev) {
  atomic_fetch_add(&quick_runs, 1);
  return 0;
}
SPOT_HANDLER(quick)

static int chatty(spot_ctx_t *ctx, const spot_event_t *ev) {
  for (int i = 0; i < 2000; i++) /* about 200 KB */
    spot_print(ctx, "line %04d %s", i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
  return 0;
}
SPOT_HANDLER(chatty)

static int wait_flag(atomic_int *f, int want) {
  for (int i = 0; i < 10000; i++) {
    if (atomic_load(f) == want)
      return 0;
    usleep(1000);
  }
  return -1;
}

/* Finds (waiting at most 10 s) an event of type `type` whose put is put_id (for a put: whose seq in log is put_id). */
static int find_event_for(spot_ns_t *ns, int type, const char *log, uint64_t seq, spot_eventrec_t *out, int tries_max) {
  for (int tries = 0; tries < tries_max; tries++) {
    uint64_t lo = 0, hi = 0;
    if (spot_events_range(ns, &lo, &hi) != 0)
      return -1;
    for (uint64_t id = lo; lo && id <= hi; id++) {
      spot_eventrec_t e;
      if (spot_events_read(ns, id, &e) == 0 && (int)e.type == type && e.seq == seq && strcmp(e.log, log) == 0) {
        *out = e;
        return 0;
      }
    }
    if (tries + 1 < tries_max)
      spot_events_wait(ns, hi, 10000000ull);
  }
  return -1;
}

static int find_event(spot_ns_t *ns, int type, const char *log, uint64_t seq, spot_eventrec_t *out) {
  return find_event_for(ns, type, log, seq, out, 1000);
}

static void reset(void) {
  atomic_store(&entered, 0);
  atomic_store(&released, 0);
  atomic_store(&returned, 0);
  atomic_store(&quick_runs, 0);
}

static void test_overrun_fails_and_replaces_thread(void) {
  reset();
  const char *dir = spot_test_ns("thr-limit", 64);
  CHECK(dir != NULL);
  spot_node_t *node;
  spot_node_opts_t o = {.mode = SPOT_MODE_THREAD, .workers = 1, .timeout_ms = 100, .quiet = 1};
  CHECK_OK(spot_node_start(dir, &o, &node));
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  uint64_t v = 1, s1, s2;
  CHECK_OK(spot_put(ns, "a", &v, 8, "stuck", NULL, &s1));
  spot_eventrec_t put, fail, end;
  CHECK_OK(find_event(ns, SPOT_EVENT_PUT, "a", s1, &put));
  CHECK_OK(find_event(ns, SPOT_EVENT_FAIL, "a", s1, &fail));
  CHECK_EQ(fail.status, SPOT_ETIMEDOUT);
  CHECK_EQ(fail.ref, put.id);
  CHECK(strstr(fail.reason, "timed out after 100 ms") != NULL);
  CHECK_EQ(atomic_load(&entered), 1);
  CHECK_EQ(atomic_load(&returned), 0); /* still running: the fail event came from the watchdog */
  spot_log_t *a;
  CHECK_OK(spot__ns_log(ns, "a", &a));
  for (int i = 0; i < 1000 && spot__log_pending(a, s1) != 0; i++) /* released just after the fail event */
    usleep(1000);
  CHECK_EQ(spot__log_pending(a, s1), 0); /* released: the ring may overwrite it */
  /* the one configured thread is stuck; a new one takes the next put */
  CHECK_OK(spot_put(ns, "a", &v, 8, "quick", NULL, &s2));
  CHECK_OK(find_event(ns, SPOT_EVENT_END, "a", s2, &end));
  CHECK_EQ(atomic_load(&quick_runs), 1);
  CHECK_EQ(atomic_load(&returned), 0);
  CHECK_OK(spot_test_wait_done(node, 2)); /* counted just after the end event */
  spot_node_stats_t st;
  spot_node_stats(node, &st);
  CHECK_EQ(st.failed, 1);
  CHECK_EQ(st.ended, 1);
  /* released, it returns: its put stands, its result is ignored */
  atomic_store(&released, 1);
  CHECK_OK(wait_flag(&returned, 1));
  spot_log_t *b;
  CHECK_OK(spot__ns_log(ns, "b", &b));
  uint64_t latest_b = 0;
  for (int i = 0; i < 1000 && latest_b == 0; i++, usleep(1000))
    spot_log_latest(b, &latest_b);
  CHECK_EQ(latest_b, 1);
  usleep(50000);
  spot_node_stats(node, &st);
  CHECK_EQ(st.failed, 1); /* its return was not counted again */
  CHECK_EQ(st.ended, 1);
  CHECK_OK(spot_node_stop(node)); /* joins the abandoned thread, which has returned */
  CHECK(find_event_for(ns, SPOT_EVENT_END, "a", s1, &end, 1) != 0); /* no end event for the stuck run */
  spot_ns_close(ns);
}

static void test_stop_leaves_overrun_handler_running(void) {
  reset();
  const char *dir = spot_test_ns("thr-stop", 64);
  CHECK(dir != NULL);
  spot_node_t *node;
  spot_node_opts_t o = {.mode = SPOT_MODE_THREAD, .workers = 2, .timeout_ms = 50, .quiet = 1};
  CHECK_OK(spot_node_start(dir, &o, &node));
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  uint64_t v = 1, s1;
  CHECK_OK(spot_put(ns, "a", &v, 8, "stuck", NULL, &s1));
  spot_eventrec_t fail;
  CHECK_OK(find_event(ns, SPOT_EVENT_FAIL, "a", s1, &fail));
  CHECK_OK(spot_node_stop(node)); /* returns although the handler has not */
  CHECK_EQ(atomic_load(&returned), 0);
  atomic_store(&released, 1);
  CHECK_OK(wait_flag(&returned, 1)); /* its put went through the stopped node's namespace handle, kept for it */
  spot_log_t *b;
  CHECK_OK(spot__ns_log(ns, "b", &b));
  uint64_t latest_b = 0;
  for (int i = 0; i < 1000 && latest_b == 0; i++, usleep(1000))
    spot_log_latest(b, &latest_b);
  CHECK_EQ(latest_b, 1);
  usleep(100000); /* the abandoned thread frees the node as it ends (ASan checks that it does so cleanly) */
  spot_ns_close(ns);
}

/* Bytes of handler lines and count of notes in what `handler` printed to the file at path. */
static void count_output(const char *path, size_t *bytes, int *notes) {
  *bytes = 0;
  *notes = 0;
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return;
  char line[2048];
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "[chatty #", 9) != 0)
      continue;
    if (strstr(line, "[spot: this run printed") != NULL)
      (*notes)++;
    else
      *bytes += strlen(line);
  }
  fclose(f);
}

static void test_print_bounded_per_run(void) {
  const char *dir = spot_test_ns("thr-print", 64);
  CHECK(dir != NULL);
  char path[4300];
  snprintf(path, sizeof path, "%s/../stderr.txt", dir);
  fflush(stderr);
  int saved = dup(2), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  CHECK(saved >= 0 && fd >= 0);
  dup2(fd, 2);
  close(fd);
  spot_node_t *node = NULL;
  spot_node_opts_t o = {.mode = SPOT_MODE_THREAD, .workers = 1, .quiet = 1};
  int rc = spot_node_start(dir, &o, &node);
  spot_ns_t *ns = NULL;
  if (rc == 0)
    rc = spot_ns_open(dir, NULL, &ns);
  uint64_t v = 1;
  for (int i = 0; i < 2 && rc == 0; i++)
    rc = spot_put(ns, "a", &v, 8, "chatty", NULL, NULL);
  if (rc == 0)
    rc = spot_test_wait_done(node, 2);
  if (node)
    spot_node_stop(node);
  spot_ns_close(ns);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  CHECK_OK(rc);
  size_t bytes;
  int notes;
  count_output(path, &bytes, &notes);
  CHECK_EQ(notes, 2);                        /* each run reached the bound, and said so once */
  CHECK(bytes <= 2 * SPOT__PRINT_LIMIT);      /* ~400 KB were printed, at most 64 KiB per run got through */
  CHECK(bytes > 2 * (SPOT__PRINT_LIMIT - 1200)); /* and each run got its whole budget */
}

static const spot_test_t tests[] = {
    {"overrun_fails_and_replaces_thread", test_overrun_fails_and_replaces_thread},
    {"stop_leaves_overrun_handler_running", test_stop_leaves_overrun_handler_running},
    {"print_bounded_per_run", test_print_bounded_per_run},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
