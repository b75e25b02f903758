/*
 * selftest.c: the firmware's self-test, run under QEMU (ctest mcu_selftest): CRC32C and the slot checksum give
 * the host's values; RAM logs append, expire, refuse a damaged element; a put runs two linked-in handlers in a
 * chain (examples/chain, built unchanged) and the event log holds the causal chain; a restart on the same arena
 * (as after a reset) keeps every element and runs again a handler whose run had not ended; the serial link's
 * device end NAKs a damaged frame, answers the frame sent again, and answers a put sent twice once; a failing
 * handler's fail event says why (spot_fail's line, or the run's last spot_print line); the device's puts to other
 * nodes go up as UP frames in order, kept across a restart, and are recorded when the edge answers. Prints one
 * line per check to the semihosting console and exits with the number of failures (0: all passed).
 */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "core/crc32c.h"
#include "core/error.h"
#include "core/event.h"
#include "core/frame.h"
#include "core/logfmt.h"
#include "core/wire.h"
#include "device/device.h"
#include "device/link.h"
#include "spot/handler.h"

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
  return rc ? rc : spot__event_decode(rec, sizeof rec, e);
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

/* Two handlers that fail: one says why with spot_fail, one only prints before it returns a status of its own. */
static int refuse(spot_ctx_t *ctx, const spot_event_t *ev) {
  spot_fail(ctx, "reading %.2s out of range", (const char *)ev->data);
  return SPOT_ERANGE;
}
SPOT_HANDLER(refuse)

static int grumble(spot_ctx_t *ctx, const spot_event_t *ev) {
  (void)ev;
  spot_print(ctx, "the last words");
  return 5;
}
SPOT_HANDLER(grumble)

static void fail_events_say_why(void) {
  CHECK(spot__dev_create("why", 8, 4) == 0);
  uint64_t ev0, s;
  CHECK(spot__dev_info(SPOT__DEV_EVENTS_LOG, &ev0, NULL, NULL, NULL) == 0);
  CHECK(spot__dev_put("why", "99", 2, "refuse", NULL, &s) == 0);
  CHECK(spot__dev_put("why", "x", 1, "grumble", NULL, &s) == 0);
  unsigned failed_before = spot__dev_stats()->failed;
  CHECK(spot__dev_run_pending(0) == 2);
  spot__event_t e[6]; /* put, put, start, fail, start, fail */
  for (int i = 0; i < 6; i++)
    CHECK(event(ev0 + 1 + (uint64_t)i, &e[i]) == 0);
  CHECK(e[3].type == SPOT__EV_FAIL && e[3].status == SPOT_ERANGE);
  CHECK(strcmp(e[3].reason, "SPOT_ERANGE: reading 99 out of range") == 0);
  CHECK(e[5].type == SPOT__EV_FAIL && e[5].status == 5 && strcmp(e[5].reason, "returned 5: the last words") == 0);
  CHECK(spot__dev_stats()->failed == failed_before + 2);
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

/* ---- the link over an in-memory byte stream ---- */

static uint8_t in[256], out[1024];
static size_t in_len, in_pos, out_len;
static int fake_get(void) { return in_pos < in_len ? in[in_pos++] : -1; }
static void fake_put(uint8_t b) {
  if (out_len < sizeof out)
    out[out_len++] = b;
}

/* The frames the device sent since the last call, decoded one by one into kinds[] (payload of the last REP in
 * rep_buf). */
static int sent_frames(uint8_t *kinds, int max, uint8_t *rep_buf, size_t *rep_len) {
  static uint8_t buf[700];
  spot__frame_rx_t rx;
  spot__frame_rx_init(&rx, buf, sizeof buf);
  int n = 0;
  for (size_t i = 0; i < out_len; i++) {
    spot__frame_t f;
    for (int rc = spot__frame_rx_push(&rx, out[i], &f); rc != 0; rc = spot__frame_rx_more(&rx, &f))
      if (rc == 1 && n < max) {
        kinds[n++] = f.kind;
        if (f.kind == SPOT__FRAME_REP && rep_buf) {
          memcpy(rep_buf, f.payload, f.len);
          *rep_len = f.len;
        }
      }
  }
  out_len = 0;
  return n;
}

static void send_request(const spot__msg_t *m, int flip) {
  uint8_t msg[200];
  size_t n, fl;
  in_len = in_pos = 0;
  if (spot__wire_encode(m, msg, sizeof msg, &n) != 0 ||
      spot__frame_encode(SPOT__FRAME_REQ, 1, msg, n, in, sizeof in, &fl) != 0)
    return;
  if (flip)
    in[fl / 2] ^= 0x10; /* a bit flipped on the wire */
  in_len = fl;
  spot__dev_link_poll();
}

static void link_naks_damage_and_dedups(void) {
  uint8_t kinds[8], rep_buf[700];
  size_t rep_len = 0;
  out_len = 0;
  spot__dev_link_start(fake_get, fake_put);
  CHECK(sent_frames(kinds, 8, NULL, NULL) == 1 && kinds[0] == SPOT__FRAME_HELLO);
  spot__msg_t put;
  memset(&put, 0, sizeof put);
  put.type = SPOT__WIRE_PUT;
  put.id = 0x5150;
  put.ns = spot__wire_cstr("dev");
  put.log = spot__wire_cstr("greetings");
  put.data = (const uint8_t *)"on wire";
  put.data_len = 7;
  send_request(&put, 1); /* damaged: a NAK, nothing appended */
  CHECK(sent_frames(kinds, 8, NULL, NULL) == 1 && kinds[0] == SPOT__FRAME_NAK);
  uint64_t before;
  CHECK(spot__dev_info("greetings", &before, NULL, NULL, NULL) == 0);
  send_request(&put, 0); /* sent again, intact: appended, answered */
  CHECK(sent_frames(kinds, 8, rep_buf, &rep_len) == 1 && kinds[0] == SPOT__FRAME_REP);
  spot__msg_t rep;
  CHECK(spot__wire_decode(rep_buf, rep_len, &rep) == 0);
  CHECK(rep.status == 0 && rep.id == 0x5150 && rep.seq == before + 1);
  send_request(&put, 0); /* the same request id again (its reply was lost): the same answer, no second element */
  CHECK(sent_frames(kinds, 8, rep_buf, &rep_len) == 1);
  CHECK(spot__wire_decode(rep_buf, rep_len, &rep) == 0 && rep.status == 0 && rep.seq == before + 1);
  uint64_t after;
  CHECK(spot__dev_info("greetings", &after, NULL, NULL, NULL) == 0 && after == before + 1);
  CHECK(spot__dev_link_stats()->duplicates == 1 && spot__dev_link_stats()->naks_sent == 1);
  /* a NAK from the edge: the last reply again */
  size_t fl;
  CHECK(spot__frame_encode(SPOT__FRAME_NAK, 2, NULL, 0, in, sizeof in, &fl) == 0);
  in_len = fl;
  in_pos = 0;
  spot__dev_link_poll();
  CHECK(sent_frames(kinds, 8, rep_buf, &rep_len) == 1 && kinds[0] == SPOT__FRAME_REP);
  /* an error travels as a reply with its detail */
  put.id = 0x5151;
  put.log = spot__wire_cstr("nolog");
  send_request(&put, 0);
  CHECK(sent_frames(kinds, 8, rep_buf, &rep_len) == 1);
  CHECK(spot__wire_decode(rep_buf, rep_len, &rep) == 0 && rep.status == SPOT_ENOTFOUND && rep.detail.len > 0);
}

/* Feeds the device a REP to its UP id (status, seq, detail) and polls. */
static void send_up_reply(uint64_t id, int status, uint64_t seq, const char *detail) {
  spot__msg_t rep;
  memset(&rep, 0, sizeof rep);
  rep.type = SPOT__WIRE_PUT;
  rep.flags = SPOT__WIRE_REPLY;
  rep.id = id;
  rep.status = status;
  rep.seq = seq;
  if (detail)
    spot__wire_set_detail(&rep, detail);
  uint8_t msg[200];
  size_t n, fl;
  in_len = in_pos = 0;
  if (spot__wire_encode(&rep, msg, sizeof msg, &n) != 0 ||
      spot__frame_encode(SPOT__FRAME_REP, 3, msg, n, in, sizeof in, &fl) != 0)
    return;
  in_len = fl;
  spot__dev_link_poll();
}

/* The device's UP frames since the last call: how many, and the request id and data of the last. */
static int sent_ups(uint64_t *id, char *data, size_t cap) {
  static uint8_t buf[700];
  spot__frame_rx_t rx;
  spot__frame_rx_init(&rx, buf, sizeof buf);
  int n = 0;
  for (size_t i = 0; i < out_len; i++) {
    spot__frame_t f;
    for (int rc = spot__frame_rx_push(&rx, out[i], &f); rc != 0; rc = spot__frame_rx_more(&rx, &f)) {
      char hp[SPOT__FRAME_HOSTPORT_MAX + 1];
      const uint8_t *msg;
      size_t mlen;
      spot__msg_t m;
      if (rc != 1 || f.kind != SPOT__FRAME_UP || spot__frame_up_decode(f.payload, f.len, hp, sizeof hp, &msg, &mlen) ||
          spot__wire_decode(msg, mlen, &m) || strcmp(hp, "10.0.0.7:7401") || m.cause_node != spot__dev_node() ||
          m.cause_event != 77 || m.data_len >= cap)
        continue;
      n++;
      *id = m.id;
      memcpy(data, m.data, m.data_len);
      data[m.data_len] = '\0';
    }
  }
  out_len = 0;
  return n;
}

/* The newest event of the device, decoded. */
static int newest_event(spot__event_t *e) {
  uint64_t latest;
  if (spot__dev_info(SPOT__DEV_EVENTS_LOG, &latest, NULL, NULL, NULL) != 0)
    return -1;
  return event(latest, e);
}

static void ups_in_order_across_restart(void) {
  const char *url = "spot://10.0.0.7:7401/cloud/from_device";
  uint64_t id = 0, id2 = 0;
  char data[80];
  out_len = 0;
  CHECK(spot__dev_up_put(url, "one", 3, NULL, 77) == 0);
  CHECK(spot__dev_up_put(url, "two", 3, NULL, 77) == 0);
  spot__dev_link_poll(); /* the first goes out, the second waits for its answer */
  CHECK(sent_ups(&id, data, sizeof data) == 1 && strcmp(data, "one") == 0);
  /* a reset before the edge answered: the outbox is in the arena, the same put goes out again with the same id */
  CHECK(spot__dev_start(spot__mps2_arena, SPOT__MPS2_ARENA_BYTES, 10, 0) == 0);
  spot__dev_link_start(fake_get, fake_put);
  in_len = in_pos = 0;
  spot__dev_link_poll();
  CHECK(sent_ups(&id2, data, sizeof data) == 1 && id2 == id && strcmp(data, "one") == 0);
  send_up_reply(id, 0, 42, NULL); /* delivered: recorded, and the next one goes */
  spot__event_t e;
  CHECK(newest_event(&e) == 0 && e.type == SPOT__EV_PUT && strcmp(e.log, url) == 0 && e.seq == 42 &&
        e.cause_node == spot__dev_node() && e.cause_id == 77);
  CHECK(sent_ups(&id2, data, sizeof data) == 1 && id2 == id + 1 && strcmp(data, "two") == 0);
  send_up_reply(id + 1, SPOT_ETIMEDOUT, 0, "cloud away"); /* away for now: kept, sent again later */
  CHECK(newest_event(&e) == 0 && e.seq == 42);
  send_up_reply(id + 1, SPOT_EPERM, 0, "refused by the cloud"); /* refused: recorded with the reason */
  CHECK(newest_event(&e) == 0 && e.type == SPOT__EV_PUT && e.seq == 0 && strstr(e.reason, "refused") != NULL);
  const spot__dev_up_t *up;
  CHECK(spot__dev_up_next(&id2, &up) == SPOT_ENOTFOUND); /* the outbox is empty */
  CHECK(spot__dev_link_stats()->ups_done == 1 && spot__dev_link_stats()->ups_refused == 1);
  /* full while the edge is away: SPOT_EBUSY, nothing lost */
  for (unsigned i = 0; i < SPOT__DEV_UP_HISTORY; i++)
    CHECK(spot__dev_up_put(url, "more", 4, NULL, 77) == 0);
  CHECK(spot__dev_up_put(url, "more", 4, NULL, 77) == SPOT_EBUSY);
  CHECK(spot__dev_up_put("spot://10.0.0.7:7401/cloud/x", "x", SPOT__DEV_UP_DATA + 1, NULL, 77) == SPOT_ETOOBIG);
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
               {"hello_prints", hello_prints},
               {"fail_events_say_why", fail_events_say_why},
               {"link_naks_damage_and_dedups", link_naks_damage_and_dedups},
               {"ups_in_order_across_restart", ups_in_order_across_restart}};
  for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
    int before = failed;
    tests[i].fn();
    spot__bm_printf("%s %s\n", failed == before ? "ok  " : "FAIL", tests[i].name);
  }
  spot__bm_printf("mcu selftest: %d failed\n", failed);
  return failed;
}
