/*
 * events_api_test.c: the public event-log API (spot/events.h): puts show up as events read by id with their
 * cause, the range and the follow wait, and a raw record of the event log decodes into the same public struct;
 * wrong lengths and damaged records are refused. A namespace made before event record version 2 (a 256-byte event
 * log) keeps working: its events are written and read in version 1.
 */
#include <stdio.h>
#include <string.h>

#include "spot.h"
#include "support.h"
#include "test.h"

static void test_read_range_wait(void) {
  const char *dir = spot_test_ns("events_api", 16);
  CHECK(dir != NULL);
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  uint64_t lo = 99, hi = 99;
  CHECK_OK(spot_events_range(ns, &lo, &hi));
  CHECK(lo == 0 && hi == 0);
  spot_cause_t cause = {0xabcdef, 7};
  uint64_t seq;
  CHECK_OK(spot_put(ns, "a", "x", 1, NULL, NULL, &seq));
  CHECK_OK(spot_put(ns, "b", "y", 1, NULL, &cause, &seq));
  CHECK_OK(spot_events_range(ns, &lo, &hi));
  CHECK_EQ(lo, 1);
  CHECK_EQ(hi, 2);
  spot_eventrec_t e;
  CHECK_OK(spot_events_read(ns, 1, &e));
  CHECK_EQ(e.type, SPOT_EVENT_PUT);
  CHECK_EQ(e.id, 1);
  CHECK(e.node == spot_ns_node_id(ns));
  CHECK(strcmp(e.log, "a") == 0 && e.seq == 1 && e.handler[0] == '\0');
  CHECK(e.cause.node == 0 && e.cause.event == 0);
  CHECK(e.time_ns > 0);
  CHECK_OK(spot_events_read(ns, 2, &e));
  CHECK(strcmp(e.log, "b") == 0 && e.cause.node == 0xabcdef && e.cause.event == 7);
  CHECK(strcmp(spot_events_type_name(e.type), "put") == 0);
  CHECK(strcmp(spot_events_type_name(42), "?") == 0);
  memset(&e, 0x5a, sizeof e);
  spot_eventrec_t copy = e;
  CHECK_RC(spot_events_read(ns, 3, &e), SPOT_ENOTYET);
  CHECK(memcmp(&e, &copy, sizeof e) == 0); /* untouched on failure */
  CHECK_OK(spot_events_wait(ns, 1, 1000000));                      /* event 2 exists: at once */
  CHECK_RC(spot_events_wait(ns, 2, 1000000), SPOT_ETIMEDOUT);      /* nothing newer within 1 ms */
  spot_ns_close(ns);
}

static void test_decode(void) {
  const char *dir = spot_test_ns("events_decode", 16);
  CHECK(dir != NULL);
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  spot_cause_t cause = {5, 6};
  uint64_t seq;
  CHECK_OK(spot_put(ns, "c", "z", 1, NULL, &cause, &seq));
  spot_eventrec_t want, got;
  CHECK_OK(spot_events_read(ns, 1, &want));
  char path[4096];
  snprintf(path, sizeof path, "%s/.spot/events.log", dir);
  spot_log_t *log;
  CHECK_OK(spot_log_open(path, 0, NULL, &log, NULL));
  uint8_t rec[SPOT_EVENT_BYTES];
  CHECK_OK(spot_log_read(log, 1, rec, sizeof rec));
  spot_log_close(log);
  CHECK_OK(spot_events_decode(rec, sizeof rec, &got));
  /* the record in the log does not carry its own id (reads fill it in); everything else is the same */
  CHECK(got.type == want.type && got.status == want.status && got.node == want.node);
  CHECK(got.cause.node == 5 && got.cause.event == 6 && want.cause.node == 5 && want.cause.event == 6);
  CHECK(got.ref == want.ref && got.time_ns == want.time_ns && got.duration_ns == want.duration_ns);
  CHECK(got.seq == want.seq && got.handler_id == want.handler_id);
  CHECK(strcmp(got.log, want.log) == 0 && strcmp(got.handler, want.handler) == 0);
  CHECK(strcmp(got.reason, want.reason) == 0);
  CHECK_RC(spot_events_decode(rec, sizeof rec - 1, &got), SPOT_EINVAL);
  rec[0] = 9; /* no such type */
  CHECK_RC(spot_events_decode(rec, sizeof rec, &got), SPOT_ECORRUPT);
  spot_ns_close(ns);
}

static void test_old_event_log(void) {
  const char *dir = spot_test_ns("events_v1", 16);
  CHECK(dir != NULL);
  char path[4096];
  snprintf(path, sizeof path, "%s/.spot/events.log", dir);
  CHECK_EQ(remove(path), 0);
  spot_log_config_t cfg = {.elem_size = SPOT_EVENT_V1_BYTES, .history = 64, .sync = SPOT_SYNC_NONE};
  CHECK_OK(spot_log_create(path, &cfg, NULL));
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  spot_cause_t cause = {3, 4};
  uint64_t seq;
  CHECK_OK(spot_put(ns, "a", "x", 1, NULL, &cause, &seq));
  spot_eventrec_t e;
  CHECK_OK(spot_events_read(ns, 1, &e));
  CHECK(e.type == SPOT_EVENT_PUT && e.seq == seq && strcmp(e.log, "a") == 0 && e.cause.node == 3);
  CHECK(e.cpu_ns == 0 && e.energy_nj == 0);
  spot_ns_close(ns);
  /* the raw record is a version-1 one and decodes at its own size */
  spot_log_t *log;
  CHECK_OK(spot_log_open(path, 0, NULL, &log, NULL));
  uint8_t rec[SPOT_EVENT_V1_BYTES];
  CHECK_OK(spot_log_read(log, 1, rec, sizeof rec));
  spot_log_close(log);
  CHECK_EQ(rec[1], 1);
  CHECK_OK(spot_events_decode(rec, sizeof rec, &e));
  CHECK(e.seq == seq && e.cause.event == 4);
}

static const spot_test_t tests[] = {
    {"old_event_log", test_old_event_log},
    {"read_range_wait", test_read_range_wait},
    {"decode", test_decode},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
