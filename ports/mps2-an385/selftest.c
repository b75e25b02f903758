/*
 * selftest.c: the firmware's self-test, run under QEMU (ctest mcu_selftest): CRC32C and the slot checksum give
 * the host's values; RAM logs append, expire, refuse a damaged element; a put runs two linked-in handlers in a
 * chain (examples/chain, built unchanged) and the event log holds the causal chain; a restart on the same arena
 * (as after a reset) keeps every element and runs again a handler whose run had not ended. Prints one line per
 * check to the semihosting console and exits with the number of failures (0: all passed).
 */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "core/crc32c.h"
#include "core/error.h"
#include "core/event.h"
#include "core/logfmt.h"
#include "device/device.h"

static int failed;

#define CHECK(cond)                                                                                 \
  do {                                                                                              \
    if (!(cond)) {                                                                                  \
      spot__bm_printf("FAIL %s:%d: %s (%s)\n", __FILE__, __LINE__, #cond, spot_errdetail());        \
      failed++;                                                                                     \
      return;                                                                                       \
    }                                                                                               \
  } while (0)

static void same_checksums_as_host(void) {
  CHECK(spot__crc32c(0, "123456789", 9) == 0xE3069283u);
  /* the host computes these from core/logfmt.c too (frame_test and logfmt_test run the same code there) */
  CHECK(spot__slot_crc(1, "spot", 4) == 0x6534BCAEu);
  CHECK(spot__mark_code(7, 0x1234) == 0xB30668F8u);
}

static void appends_and_expiry(void) {
  CHECK(spot__dev_create("ring", 12, 8) == 0);
  CHECK(spot__dev_create("ring", 12, 8) == SPOT_EEXIST);
  CHECK(spot__dev_create("../x", 12, 8) == SPOT_EBADNAME);
  for (uint32_t i = 1; i <= 20; i++) {
    uint64_t s;
    char e[12] = {0};
    memcpy(e, &i, sizeof i);
    CHECK(spot__dev_put("ring", e, sizeof e, NULL, NULL, &s) == 0);
    CHECK(s == i);
  }
  uint64_t latest, earliest;
  CHECK(spot__dev_info("ring", &latest, &earliest, NULL, NULL) == 0);
  CHECK(latest == 20 && earliest == 13);
  for (uint32_t i = 13; i <= 20; i++) {
    char e[12];
    uint32_t v;
    CHECK(spot__dev_get("ring", i, e, sizeof e) == 0);
    memcpy(&v, e, sizeof v);
    CHECK(v == i);
  }
  char e[12];
  CHECK(spot__dev_get("ring", 12, e, sizeof e) == SPOT_EEXPIRED);
  CHECK(spot__dev_get("ring", 21, e, sizeof e) == SPOT_ENOTYET);
  CHECK(spot__dev_put("ring", e, 13, NULL, NULL, NULL) == SPOT_ETOOBIG);
  CHECK(spot__dev_put("nolog", e, 1, NULL, NULL, NULL) == SPOT_ENOTFOUND);
}

/* Flips one data bit of element 15 of `ring` in the arena: the read must refuse it, the others stay readable. */
static void damaged_element_refused(void) {
  uint8_t *a = spot__mps2_arena;
  size_t found = 0;
  for (size_t off = 0; off + 16 <= SPOT__MPS2_ARENA_BYTES; off += 16) {
    spot__slot_t *s = (spot__slot_t *)(a + off);
    uint32_t v;
    memcpy(&v, a + off + 16, sizeof v);
    if (s->seq == 15 && v == 15) {
      found = off;
      break;
    }
  }
  CHECK(found != 0);
  a[found + 16] ^= 0x40;
  char e[12];
  CHECK(spot__dev_get("ring", 15, e, sizeof e) == SPOT_ECORRUPT);
  CHECK(spot__dev_get("ring", 16, e, sizeof e) == 0);
  a[found + 16] ^= 0x40;
  CHECK(spot__dev_get("ring", 15, e, sizeof e) == 0);
}

static int event(uint64_t id, spot__event_t *e) {
  uint8_t rec[SPOT__EVENT_BYTES];
  int rc = spot__dev_event(id, rec);
  return rc ? rc : spot__event_decode(rec, e);
}

static void chain_of_two_handlers(void) {
  CHECK(spot__dev_create("a", 16, 4) == 0);
  CHECK(spot__dev_create("b", 16, 4) == 0);
  CHECK(spot__dev_create("c", 16, 4) == 0);
  uint64_t ev0;
  CHECK(spot__dev_info(SPOT__DEV_EVENTS_LOG, &ev0, NULL, NULL, NULL) == 0);
  spot_cause_t cause = {0x77, 5};
  uint64_t s;
  CHECK(spot__dev_put("a", "from the cloud", 14, "chain_a", &cause, &s) == 0);
  CHECK(spot__dev_put("a", "x", 1, "no_such_handler", NULL, NULL) == SPOT_ENOTFOUND);
  CHECK(spot__dev_pending() == 1);
  CHECK(spot__dev_run_pending(0) == 2); /* chain_a, then the chain_b its put queued */
  char got[16];
  uint64_t latest;
  CHECK(spot__dev_info("c", &latest, NULL, NULL, NULL) == 0 && latest == 1);
  CHECK(spot__dev_get("c", 1, got, sizeof got) == 0);
  CHECK(memcmp(got, "from the cloud", 14) == 0);
  /* put a, start chain_a, put b, end chain_a, start chain_b, put c, end chain_b */
  spot__event_t e[7];
  for (int i = 0; i < 7; i++)
    CHECK(event(ev0 + 1 + (uint64_t)i, &e[i]) == 0);
  CHECK(e[0].type == SPOT__EV_PUT && strcmp(e[0].log, "a") == 0 && e[0].cause_node == 0x77 && e[0].cause_id == 5);
  CHECK(e[1].type == SPOT__EV_START && strcmp(e[1].handler, "chain_a") == 0 && e[1].cause_id == e[0].id);
  CHECK(e[2].type == SPOT__EV_PUT && strcmp(e[2].log, "b") == 0 && e[2].cause_id == e[1].id &&
        e[2].cause_node == spot__dev_node());
  CHECK(e[3].type == SPOT__EV_END && e[3].cause_id == e[1].id);
  CHECK(e[4].type == SPOT__EV_START && strcmp(e[4].handler, "chain_b") == 0 && e[4].cause_id == e[2].id);
  CHECK(e[5].type == SPOT__EV_PUT && strcmp(e[5].log, "c") == 0 && e[5].cause_id == e[4].id);
  CHECK(e[6].type == SPOT__EV_END && e[6].cause_id == e[4].id);
  const spot__dev_stats_t *st = spot__dev_stats();
  CHECK(st->started == 2 && st->ended == 2 && st->failed == 0);
}

static void restart_keeps_logs_and_reruns(void) {
  uint64_t node = spot__dev_node();
  CHECK(spot__dev_put("b", "pending", 7, "chain_b", NULL, NULL) == 0); /* queued, never run: then "reset" */
  CHECK(spot__dev_start(spot__mps2_arena, SPOT__MPS2_ARENA_BYTES, 10, 0) == 0);
  CHECK(spot__dev_node() == node);
  const spot__dev_stats_t *st = spot__dev_stats();
  CHECK(st->boots == 2 && st->rerun == 1 && st->torn == 0);
  uint64_t latest, earliest;
  CHECK(spot__dev_info("ring", &latest, &earliest, NULL, NULL) == 0 && latest == 20 && earliest == 13);
  CHECK(spot__dev_run_pending(0) == 1);
  CHECK(spot__dev_info("c", &latest, NULL, NULL, NULL) == 0 && latest == 2);
  char got[16];
  CHECK(spot__dev_get("c", 2, got, sizeof got) == 0 && memcmp(got, "pending", 7) == 0);
  /* an append cut by a reset (seq published as 0, data half written) is dropped, numbers go on */
  uint64_t s;
  CHECK(spot__dev_put("ring", "torn", 4, NULL, NULL, &s) == 0 && s == 21);
  uint8_t *a = spot__mps2_arena;
  for (size_t off = 0; off + 16 <= SPOT__MPS2_ARENA_BYTES; off += 16) {
    spot__slot_t *sl = (spot__slot_t *)(a + off);
    if (sl->seq == 21 && memcmp(a + off + 16, "torn", 4) == 0) {
      a[off + 17] ^= 1; /* the crc no longer matches: as if the reset came mid-copy */
      break;
    }
  }
  CHECK(spot__dev_start(spot__mps2_arena, SPOT__MPS2_ARENA_BYTES, 10, 0) == 0);
  CHECK(spot__dev_stats()->torn == 1);
  CHECK(spot__dev_info("ring", &latest, NULL, NULL, NULL) == 0 && latest == 20);
}

static void hello_prints(void) {
  CHECK(spot__dev_create("greetings", 8, 2) == 0);
  CHECK(spot__dev_put("greetings", "device", 6, "hello", NULL, NULL) == 0);
  CHECK(spot__dev_run_pending(0) == 1);
  CHECK(spot__dev_stats()->ended == 1); /* counted since the last start */
}

int main(void) {
  spot__dev_set_console(spot__bm_console);
  int rc = spot__dev_start(spot__mps2_arena, SPOT__MPS2_ARENA_BYTES, 10, 0);
  if (rc != 0) {
    spot__bm_printf("FAIL start: %s\n", spot_errdetail());
    return 1;
  }
  struct {
    const char *name;
    void (*fn)(void);
  } tests[] = {{"same_checksums_as_host", same_checksums_as_host},
               {"appends_and_expiry", appends_and_expiry},
               {"damaged_element_refused", damaged_element_refused},
               {"chain_of_two_handlers", chain_of_two_handlers},
               {"restart_keeps_logs_and_reruns", restart_keeps_logs_and_reruns},
               {"hello_prints", hello_prints}};
  for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
    int before = failed;
    tests[i].fn();
    spot__bm_printf("%s %s\n", failed == before ? "ok  " : "FAIL", tests[i].name);
  }
  spot__bm_printf("mcu selftest: %d failed\n", failed);
  return failed;
}
