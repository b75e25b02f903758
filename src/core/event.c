/*
 * event.c: encoding of event records (core/event.h). Fixed offsets, little-endian, so a record written on one
 * machine reads the same on another (the network and the microcontroller link carry them too).
 */
#include "core/event.h"

#include <stdio.h>
#include <string.h>

#include "spot/error.h"

/* Offsets of both layouts (core/event.h). The first 80 bytes are the same; version 2 adds cpu_ns and energy_nj
 * and grows reason. */
enum { O_TYPE = 0, O_VERSION = 1, O_STATUS = 4, O_NODE = 8, O_ID = 16, O_CNODE = 24, O_CID = 32, O_REF = 40,
       O_TIME = 48, O_DUR = 56, O_SEQ = 64, O_HID = 72 };
enum { V1_LOG = 80, V1_HANDLER = 144, V1_REASON = 208 };
enum { V2_CPU = 80, V2_ENERGY = 88, V2_LOG = 96, V2_HANDLER = 160, V2_REASON = 224, V2_END = 352 };

_Static_assert(V1_REASON + SPOT__EVENT_V1_REASON == SPOT__EVENT_V1_BYTES, "version-1 layout");
_Static_assert(V2_END <= SPOT__EVENT_BYTES, "version-2 layout");

static void put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}
static uint64_t get64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v |= (uint64_t)p[i] << (8 * i);
  return v;
}
static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void put_str(uint8_t *p, const char *s, size_t cap) {
  size_t n = strnlen(s, cap - 1);
  memcpy(p, s, n);
  memset(p + n, 0, cap - n);
}
static int get_str(const uint8_t *p, char *s, size_t cap) {
  if (memchr(p, 0, cap) == NULL)
    return SPOT_ECORRUPT;
  memcpy(s, p, cap);
  return 0;
}

static void encode_common(const spot__event_t *e, uint8_t *out, unsigned version) {
  out[O_TYPE] = e->type;
  out[O_VERSION] = (uint8_t)version;
  put32(out + O_STATUS, (uint32_t)e->status);
  put64(out + O_NODE, e->node);
  put64(out + O_ID, e->id);
  put64(out + O_CNODE, e->cause_node);
  put64(out + O_CID, e->cause_id);
  put64(out + O_REF, e->ref);
  put64(out + O_TIME, e->time_ns);
  put64(out + O_DUR, e->duration_ns);
  put64(out + O_SEQ, e->seq);
  put32(out + O_HID, e->handler_id);
}

void spot__event_encode(const spot__event_t *e, uint8_t out[SPOT__EVENT_BYTES]) {
  memset(out, 0, SPOT__EVENT_BYTES);
  encode_common(e, out, SPOT__EVENT_VERSION);
  put64(out + V2_CPU, e->cpu_ns);
  put64(out + V2_ENERGY, e->energy_nj);
  put_str(out + V2_LOG, e->log, sizeof e->log);
  put_str(out + V2_HANDLER, e->handler, sizeof e->handler);
  put_str(out + V2_REASON, e->reason, sizeof e->reason);
}

int spot__event_encode_as(const spot__event_t *e, void *out, size_t bytes) {
  if (bytes == SPOT__EVENT_BYTES) {
    spot__event_encode(e, out);
    return 0;
  }
  if (bytes != SPOT__EVENT_V1_BYTES)
    return SPOT_EINVAL;
  uint8_t *o = out;
  memset(o, 0, SPOT__EVENT_V1_BYTES);
  encode_common(e, o, 1);
  put_str(o + V1_LOG, e->log, sizeof e->log);
  put_str(o + V1_HANDLER, e->handler, sizeof e->handler);
  put_str(o + V1_REASON, e->reason, SPOT__EVENT_V1_REASON);
  return 0;
}

int spot__event_decode(const void *record, size_t len, spot__event_t *e) {
  const uint8_t *in = record;
  unsigned version = len == SPOT__EVENT_BYTES ? SPOT__EVENT_VERSION : len == SPOT__EVENT_V1_BYTES ? 1u : 0u;
  if (version == 0)
    return SPOT_EINVAL;
  if (in[O_TYPE] < SPOT__EV_PUT || in[O_TYPE] > SPOT__EV_FAIL || in[O_VERSION] != version)
    return SPOT_ECORRUPT;
  spot__event_t d;
  memset(&d, 0, sizeof d);
  d.type = in[O_TYPE];
  d.status = (int32_t)get32(in + O_STATUS);
  d.node = get64(in + O_NODE);
  d.id = get64(in + O_ID);
  d.cause_node = get64(in + O_CNODE);
  d.cause_id = get64(in + O_CID);
  d.ref = get64(in + O_REF);
  d.time_ns = get64(in + O_TIME);
  d.duration_ns = get64(in + O_DUR);
  d.seq = get64(in + O_SEQ);
  d.handler_id = get32(in + O_HID);
  int bad;
  if (version == 1) {
    bad = get_str(in + V1_LOG, d.log, sizeof d.log) || get_str(in + V1_HANDLER, d.handler, sizeof d.handler) ||
          get_str(in + V1_REASON, d.reason, SPOT__EVENT_V1_REASON);
  } else {
    d.cpu_ns = get64(in + V2_CPU);
    d.energy_nj = get64(in + V2_ENERGY);
    bad = get_str(in + V2_LOG, d.log, sizeof d.log) || get_str(in + V2_HANDLER, d.handler, sizeof d.handler) ||
          get_str(in + V2_REASON, d.reason, sizeof d.reason);
  }
  if (bad)
    return SPOT_ECORRUPT;
  *e = d;
  return 0;
}

static void copy_str(char *dst, size_t cap, const char *src) {
  size_t n = src ? strnlen(src, cap - 1) : 0;
  if (n)
    memcpy(dst, src, n);
  dst[n] = '\0';
}

void spot__event_put_init(spot__event_t *e, const char *log, uint64_t seq, uint32_t handler_id, const char *handler,
                          uint64_t cause_node, uint64_t cause_id) {
  memset(e, 0, sizeof *e);
  e->type = SPOT__EV_PUT;
  e->cause_node = cause_node;
  e->cause_id = cause_id;
  e->seq = seq;
  e->handler_id = handler_id;
  copy_str(e->log, sizeof e->log, log);
  copy_str(e->handler, sizeof e->handler, handler);
}

void spot__event_run_init(spot__event_t *e, int type, const spot__event_t *put, uint64_t cause_node,
                          uint64_t cause_id) {
  memset(e, 0, sizeof *e);
  e->type = (uint8_t)type;
  e->cause_node = cause_node;
  e->cause_id = cause_id;
  e->ref = put->id;
  e->seq = put->seq;
  e->handler_id = put->handler_id;
  memcpy(e->log, put->log, sizeof e->log);
  memcpy(e->handler, put->handler, sizeof e->handler);
}

const char *spot__event_type_name(int type) {
  switch (type) {
  case SPOT__EV_PUT:
    return "put";
  case SPOT__EV_START:
    return "start";
  case SPOT__EV_END:
    return "end";
  case SPOT__EV_FAIL:
    return "fail";
  }
  return "?";
}

void spot__event_reason(char *out, size_t cap, int status, const char *detail) {
  if (cap == 0)
    return;
  const char *name = spot_errname(status);
  char num[24];
  if (status >= 0 || strcmp(name, "SPOT_E?") == 0) {
    snprintf(num, sizeof num, "returned %d", status);
    name = num;
  }
  if (detail && detail[0])
    snprintf(out, cap, "%s: %s", name, detail);
  else
    snprintf(out, cap, "%s", name);
}
