/*
 * admin.c: a node's side of a remote `spot check` and `spot rm`, and the bytes a check's result travels as.
 *
 * A plain check (the get right) opens the log beside whoever has it open, as a local `spot check` does while a node
 * runs. `check --fix` and `rm` (the admin right) need the log to themselves: nothing may hold it open, and a
 * serving node holds every log of its namespace. So the server first drops its own handle of the log (its thread
 * is the only one that uses the logs of its table, devices' logs aside, which are refused), then asks the program
 * that runs the node to step aside for the operation (spot_server_set_exclusive: spotd stops its node, runs the
 * operation on a namespace handle of its own, and starts the node again); without such a program the operation
 * runs at once, and the store refuses it (SPOT_EBUSY, naming what holds the log) if anything still has the log.
 *
 * The CHECK reply's data (little-endian): i32 verify status, u16 detail length + detail text, then the open's and
 * the verify's reports, each as 12 u64 (latest, earliest, valid_slots, torn_slots, dropped, damaged, damaged_seq,
 * lost, lost_seq, marked, bad_marks, bad_mark_seq) and 3 u8 (power_loss, repaired, scanned_all). The decoder
 * wants exactly that many bytes.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "net/net_impl.h"
#include "spot/node.h"
#include "store/store.h"

#define REPORT_BYTES (12u * 8u + 3u)

static void put_le(uint8_t **p, uint64_t v, unsigned bytes) {
  for (unsigned i = 0; i < bytes; i++)
    (*p)[i] = (uint8_t)(v >> (8 * i));
  *p += bytes;
}

static uint64_t get_le(const uint8_t **p, unsigned bytes) {
  uint64_t v = 0;
  for (unsigned i = 0; i < bytes; i++)
    v |= (uint64_t)(*p)[i] << (8 * i);
  *p += bytes;
  return v;
}

static void report_put(uint8_t **p, const spot_log_report_t *r) {
  const uint64_t v[12] = {r->latest,  r->earliest,    r->valid_slots, r->torn_slots, r->dropped,   r->damaged,
                          r->damaged_seq, r->lost, r->lost_seq,    r->marked,     r->bad_marks, r->bad_mark_seq};
  for (int i = 0; i < 12; i++)
    put_le(p, v[i], 8);
  put_le(p, r->power_loss != 0, 1);
  put_le(p, r->repaired != 0, 1);
  put_le(p, r->scanned_all != 0, 1);
}

static void report_get(const uint8_t **p, spot_log_report_t *r) {
  uint64_t *f[12] = {&r->latest,      &r->earliest, &r->valid_slots, &r->torn_slots, &r->dropped,   &r->damaged,
                     &r->damaged_seq, &r->lost,     &r->lost_seq,    &r->marked,     &r->bad_marks, &r->bad_mark_seq};
  for (int i = 0; i < 12; i++)
    *f[i] = get_le(p, 8);
  r->power_loss = (int)get_le(p, 1);
  r->repaired = (int)get_le(p, 1);
  r->scanned_all = (int)get_le(p, 1);
}

int spot__net_check_encode(const spot_check_result_t *c, uint8_t *buf, size_t cap, uint32_t *len) {
  size_t dlen = strnlen(c->detail, sizeof c->detail);
  if (dlen > SPOT__WIRE_DETAIL_MAX)
    dlen = SPOT__WIRE_DETAIL_MAX;
  size_t n = 4 + 2 + dlen + 2 * REPORT_BYTES;
  if (n > cap)
    return spot__fail(SPOT_ERANGE, "a check's result needs %zu bytes, the reply has %zu", n, cap);
  uint8_t *p = buf;
  put_le(&p, (uint32_t)c->status, 4);
  put_le(&p, dlen, 2);
  memcpy(p, c->detail, dlen);
  p += dlen;
  report_put(&p, &c->opened);
  report_put(&p, &c->verified);
  *len = (uint32_t)n;
  return 0;
}

int spot__net_check_decode(const uint8_t *buf, size_t len, spot_check_result_t *out) {
  if (len < 6)
    return spot__fail(SPOT_ECORRUPT, "a check's result of %zu bytes is cut short", len);
  spot_check_result_t c;
  memset(&c, 0, sizeof c);
  const uint8_t *p = buf;
  c.status = (int32_t)(uint32_t)get_le(&p, 4);
  size_t dlen = (size_t)get_le(&p, 2);
  if (c.status > 0 || dlen > SPOT__WIRE_DETAIL_MAX || len != 6 + dlen + 2 * REPORT_BYTES)
    return spot__fail(SPOT_ECORRUPT, "a check's result of %zu bytes does not hold what it says (status %d, detail of "
                      "%zu bytes)", len, c.status, dlen);
  for (size_t i = 0; i < dlen; i++)
    c.detail[i] = p[i] >= 0x20 && p[i] != 0x7f ? (char)p[i] : '?';
  p += dlen;
  report_get(&p, &c.opened);
  report_get(&p, &c.verified);
  *out = c;
  return 0;
}

/* ---- the server's side ---- */

typedef struct admin_op {
  int type; /* SPOT__WIRE_CHECK (with fix) or SPOT__WIRE_RM */
  const char *log;
  spot_check_result_t *result; /* CHECK */
  char detail[600];            /* the operation's detail line, kept across the node's restart */
} admin_op_t;

/* Runs the operation on a namespace handle of its own (the node's and the server's are out of the way). */
static int run_op(const char *dir, void *arg) {
  admin_op_t *op = arg;
  spot_ns_t *ns;
  int rc = spot_ns_open(dir, NULL, &ns);
  if (rc == 0) {
    rc = op->type == SPOT__WIRE_RM ? spot_ns_remove_log(ns, op->log) : spot_ns_check_log(ns, op->log, 1, op->result);
    spot_ns_close(ns);
  }
  if (rc != 0)
    snprintf(op->detail, sizeof op->detail, "%s", spot_errdetail());
  return rc;
}

int spot__net_admin(spot_ns_t *ns, const char *dir, int type, const char *log, int fix,
                    spot_server_exclusive_fn exclusive, void *exclusive_arg, spot_check_result_t *result) {
  if (type == SPOT__WIRE_CHECK && !fix)
    return spot_ns_check_log(ns, log, 0, result);
  int rc = spot__ns_drop_log(ns, log);
  if (rc != 0)
    return rc;
  admin_op_t op = {.type = type, .log = log, .result = result};
  rc = exclusive ? exclusive(exclusive_arg, run_op, &op) : run_op(dir, &op);
  if (rc != 0 && op.detail[0])
    return spot__fail(rc, "%s", op.detail);
  return rc;
}
