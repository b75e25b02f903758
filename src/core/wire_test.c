/*
 * wire_test.c: every message type round trips with edge values; truncated, corrupted, oversized, trailing and
 * wrong-version messages, and bad names, are refused cleanly; the byte layout is pinned by a golden message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/event.h"
#include "core/name.h"
#include "core/wire.h"
#include "test.h"

/* ---- sample messages ---- */

static char name63[SPOT_NAME_MAX + 1];
static char obj127[SPOT__WIRE_OBJECT_MAX + 1];
static char detail_max[SPOT__WIRE_DETAIL_MAX + 1];
static uint8_t data16[16];
static uint8_t events2[2 * SPOT__EVENT_BYTES];

static void init_buffers(void) {
  memset(name63, 'n', SPOT_NAME_MAX);
  name63[0] = '_';
  memset(obj127, 'o', SPOT__WIRE_OBJECT_MAX);
  memcpy(obj127 + SPOT__WIRE_OBJECT_MAX - 3, ".so", 3);
  for (size_t i = 0; i < SPOT__WIRE_DETAIL_MAX; i++)
    detail_max[i] = (char)(' ' + i % 95);
  for (size_t i = 0; i < sizeof data16; i++)
    data16[i] = (uint8_t)(i * 37 + 1);
  spot__event_t e;
  memset(&e, 0, sizeof e);
  e.type = SPOT__EV_PUT;
  e.node = 7;
  e.id = 42;
  strcpy(e.log, "temp");
  spot__event_encode(&e, events2);
  e.type = SPOT__EV_FAIL;
  e.status = SPOT_ETIMEDOUT;
  e.id = UINT64_MAX;
  strcpy(e.reason, "overran");
  spot__event_encode(&e, events2 + SPOT__EVENT_BYTES);
}

static spot__msg_t req(uint8_t type, uint64_t id, const char *ns, const char *log) {
  spot__msg_t m;
  memset(&m, 0, sizeof m);
  m.type = type;
  m.id = id;
  m.ns = spot__wire_cstr(ns);
  m.log = spot__wire_cstr(log);
  return m;
}

static spot__msg_t rep(uint8_t type, uint64_t id, int32_t status) {
  spot__msg_t m;
  memset(&m, 0, sizeof m);
  m.type = type;
  m.flags = SPOT__WIRE_REPLY;
  m.id = id;
  m.status = status;
  return m;
}

/* Fills out[] with messages of every type, request and reply, with edge values; returns how many. Only the
 * fields the type uses are set, so a decoded copy compares equal field by field. */
static size_t samples(spot__msg_t *out) {
  size_t n = 0;
  spot__msg_t m;
  /* CREATE */
  m = req(SPOT__WIRE_CREATE, 1, "ns", "temp");
  m.elem_size = 64;
  m.history = 1000;
  m.sync = 1;
  out[n++] = m;
  m = req(SPOT__WIRE_CREATE, UINT64_MAX, name63, name63);
  m.elem_size = UINT32_MAX;
  m.history = UINT64_MAX;
  m.sync = SPOT__WIRE_SYNC_MAX;
  out[n++] = m;
  out[n++] = rep(SPOT__WIRE_CREATE, 1, 0);
  m = rep(SPOT__WIRE_CREATE, 2, SPOT_EEXIST);
  m.detail = spot__wire_cstr("log 'temp' already exists");
  out[n++] = m;
  /* PUT */
  m = req(SPOT__WIRE_PUT, 3, "ns", "temp");
  m.data = data16;
  m.data_len = sizeof data16;
  out[n++] = m;
  m = req(SPOT__WIRE_PUT, 0, name63, name63);
  m.handler = spot__wire_cstr(name63);
  m.cause_node = UINT64_MAX;
  m.cause_event = UINT64_MAX - 1;
  out[n++] = m; /* empty data, every name at its longest */
  m = req(SPOT__WIRE_PUT, 4, "a", "b");
  m.handler = spot__wire_cstr("h");
  m.cause_node = 1;
  m.cause_event = 2;
  m.data = data16;
  m.data_len = 1;
  out[n++] = m;
  m = rep(SPOT__WIRE_PUT, 3, 0);
  m.seq = UINT64_MAX;
  out[n++] = m;
  m = rep(SPOT__WIRE_PUT, 4, SPOT_ETOOBIG);
  m.detail.ptr = detail_max;
  m.detail.len = SPOT__WIRE_DETAIL_MAX;
  out[n++] = m;
  /* GET */
  m = req(SPOT__WIRE_GET, 5, "ns", "temp");
  m.seq = UINT64_MAX;
  out[n++] = m;
  m = req(SPOT__WIRE_GET, 6, "ns", "temp");
  out[n++] = m; /* seq 0 */
  m = rep(SPOT__WIRE_GET, 5, 0);
  m.data = data16;
  m.data_len = sizeof data16;
  out[n++] = m;
  out[n++] = rep(SPOT__WIRE_GET, 6, 0); /* empty data */
  out[n++] = rep(SPOT__WIRE_GET, 7, SPOT_EEXPIRED); /* error without detail */
  /* LATEST, EARLIEST */
  out[n++] = req(SPOT__WIRE_LATEST, 8, "ns", "temp");
  out[n++] = req(SPOT__WIRE_EARLIEST, 9, name63, "x");
  m = rep(SPOT__WIRE_LATEST, 8, 0);
  m.seq = 123456789;
  out[n++] = m;
  out[n++] = rep(SPOT__WIRE_EARLIEST, 9, 0); /* seq 0: empty log */
  m = rep(SPOT__WIRE_EARLIEST, 10, SPOT_ENOTFOUND);
  m.detail = spot__wire_cstr("no log 'x' in namespace 'ns'");
  out[n++] = m;
  /* INFO */
  out[n++] = req(SPOT__WIRE_INFO, 11, "ns", "temp");
  m = rep(SPOT__WIRE_INFO, 11, 0);
  m.elem_size = UINT32_MAX;
  m.history = UINT64_MAX;
  m.sync = 2;
  m.latest = UINT64_MAX;
  m.earliest = UINT64_MAX - 5;
  m.durable = 17;
  out[n++] = m;
  out[n++] = rep(SPOT__WIRE_INFO, 12, 0); /* all zero */
  /* EVENTS */
  m = req(SPOT__WIRE_EVENTS, 13, "ns", NULL);
  m.from = UINT64_MAX;
  m.max = UINT32_MAX;
  out[n++] = m;
  m = rep(SPOT__WIRE_EVENTS, 13, 0);
  m.events = events2;
  m.count = 2;
  out[n++] = m;
  out[n++] = rep(SPOT__WIRE_EVENTS, 14, 0); /* no records */
  out[n++] = rep(SPOT__WIRE_EVENTS, 15, SPOT_EPERM);
  /* DEPLOY */
  m = req(SPOT__WIRE_DEPLOY, 16, "ns", NULL);
  m.object = spot__wire_cstr("frost.so");
  m.data = data16;
  m.data_len = sizeof data16;
  out[n++] = m;
  m = req(SPOT__WIRE_DEPLOY, 17, name63, NULL);
  m.object = spot__wire_cstr(obj127);
  out[n++] = m; /* empty object, longest name */
  out[n++] = rep(SPOT__WIRE_DEPLOY, 16, 0);
  m = rep(SPOT__WIRE_DEPLOY, 17, -1000); /* a code from a newer peer */
  m.detail = spot__wire_cstr("x");
  out[n++] = m;
  /* LIST, HANDLERS: text replies */
  out[n++] = req(SPOT__WIRE_LIST, 18, "ns", NULL);
  m = rep(SPOT__WIRE_LIST, 18, 0);
  m.data = (const uint8_t *)"temp\t16\t1000\tbatch\t7\thello\n";
  m.data_len = (uint32_t)strlen((const char *)m.data);
  out[n++] = m;
  out[n++] = req(SPOT__WIRE_HANDLERS, 19, name63, NULL);
  out[n++] = rep(SPOT__WIRE_HANDLERS, 19, 0); /* no handlers */
  /* BIND, UNBIND */
  m = req(SPOT__WIRE_BIND, 20, "ns", "temp");
  m.handler = spot__wire_cstr(name63);
  out[n++] = m;
  out[n++] = rep(SPOT__WIRE_BIND, 20, 0);
  out[n++] = req(SPOT__WIRE_UNBIND, 21, "ns", "temp"); /* whichever is bound */
  m = req(SPOT__WIRE_UNBIND, 22, "ns", "temp");
  m.handler = spot__wire_cstr("h");
  out[n++] = m;
  m = rep(SPOT__WIRE_UNBIND, 21, SPOT_EPERM);
  m.detail = spot__wire_cstr("refused admin");
  out[n++] = m;
  /* STATUS: the namespace; the reply's data is opaque here */
  out[n++] = req(SPOT__WIRE_STATUS, 23, "ns", NULL);
  m = rep(SPOT__WIRE_STATUS, 23, 0);
  m.data = data16;
  m.data_len = sizeof data16;
  out[n++] = m;
  out[n++] = rep(SPOT__WIRE_STATUS, 24, SPOT_EPERM);
  /* CHECK: look, or fix; the reply's data is opaque here. RM: the names only */
  out[n++] = req(SPOT__WIRE_CHECK, 25, "ns", "temp");
  m = req(SPOT__WIRE_CHECK, 26, name63, "x");
  m.fix = 1;
  out[n++] = m;
  m = rep(SPOT__WIRE_CHECK, 25, 0);
  m.data = data16;
  m.data_len = sizeof data16;
  out[n++] = m;
  out[n++] = rep(SPOT__WIRE_CHECK, 26, SPOT_EPERM);
  out[n++] = req(SPOT__WIRE_RM, 27, "ns", "temp");
  out[n++] = rep(SPOT__WIRE_RM, 27, 0);
  return n;
}

#define MAX_SAMPLES 64

static int str_eq(spot__wire_str_t a, spot__wire_str_t b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static int msg_eq(const spot__msg_t *a, const spot__msg_t *b) {
  return a->type == b->type && a->flags == b->flags && a->id == b->id && str_eq(a->ns, b->ns) &&
         str_eq(a->log, b->log) && str_eq(a->handler, b->handler) && str_eq(a->object, b->object) &&
         a->elem_size == b->elem_size && a->history == b->history && a->sync == b->sync &&
         a->cause_node == b->cause_node && a->cause_event == b->cause_event && a->seq == b->seq &&
         a->from == b->from && a->max == b->max && a->fix == b->fix && a->data_len == b->data_len &&
         (a->data_len == 0 || memcmp(a->data, b->data, a->data_len) == 0) && a->status == b->status &&
         str_eq(a->detail, b->detail) && a->latest == b->latest && a->earliest == b->earliest &&
         a->durable == b->durable && a->count == b->count &&
         (a->count == 0 || memcmp(a->events, b->events, (size_t)a->count * SPOT__EVENT_BYTES) == 0);
}

/* Encodes m into a fresh buffer (caller frees). */
static uint8_t *encode(const spot__msg_t *m, size_t *len) {
  size_t n;
  if (spot__wire_encoded_size(m, &n) != 0)
    return NULL;
  uint8_t *buf = malloc(n);
  if (buf != NULL && spot__wire_encode(m, buf, n, len) != 0) {
    free(buf);
    return NULL;
  }
  return buf;
}

static void set_bodylen(uint8_t *buf, size_t total) {
  uint32_t b = (uint32_t)(total - SPOT__WIRE_HDR_BYTES);
  for (int i = 0; i < 4; i++)
    buf[8 + i] = (uint8_t)(b >> (8 * i));
}

/* ---- tests ---- */

static void test_roundtrip(void) {
  init_buffers();
  spot__msg_t s[MAX_SAMPLES];
  size_t ns = samples(s);
  int seen[2][SPOT__WIRE_LAST + 1] = {{0}};
  for (size_t i = 0; i < ns; i++) {
    size_t want, len;
    CHECK_OK(spot__wire_encoded_size(&s[i], &want));
    uint8_t *buf = malloc(want + 1);
    CHECK(buf != NULL);
    CHECK_RC(spot__wire_encode(&s[i], buf, want - 1, &len), SPOT_ERANGE);
    CHECK_OK(spot__wire_encode(&s[i], buf, want + 1, &len));
    CHECK_EQ(len, want);
    spot__msg_t d;
    CHECK_OK(spot__wire_decode(buf, len, &d));
    CHECK(msg_eq(&s[i], &d));
    /* zero copy: strings and data point into buf */
    CHECK(d.ns.len == 0 || ((const uint8_t *)d.ns.ptr >= buf && (const uint8_t *)d.ns.ptr < buf + len));
    CHECK(d.data_len == 0 || (d.data >= buf && d.data + d.data_len <= buf + len));
    seen[s[i].flags & 1][s[i].type]++;
    free(buf);
  }
  for (int t = SPOT__WIRE_CREATE; t <= SPOT__WIRE_LAST; t++)
    CHECK(seen[0][t] > 0 && seen[1][t] > 0);
}

/* The largest data a message may carry, and one byte more. */
static void test_max_data(void) {
  uint8_t *big = calloc(1, SPOT__WIRE_MAX_DATA + 1u);
  uint8_t *buf = malloc(SPOT__WIRE_MAX);
  CHECK(big != NULL && buf != NULL);
  big[SPOT__WIRE_MAX_DATA - 1] = 0xab;
  spot__msg_t m = req(SPOT__WIRE_PUT, 1, "ns", "big");
  m.data = big;
  m.data_len = SPOT__WIRE_MAX_DATA;
  size_t len;
  CHECK_OK(spot__wire_encode(&m, buf, SPOT__WIRE_MAX, &len));
  CHECK(len <= SPOT__WIRE_MAX);
  spot__msg_t d;
  CHECK_OK(spot__wire_decode(buf, len, &d));
  CHECK(msg_eq(&m, &d));
  CHECK_RC(spot__wire_decode(buf, len - 1, &d), SPOT_ECORRUPT);
  m.data_len = SPOT__WIRE_MAX_DATA + 1u;
  CHECK_RC(spot__wire_encoded_size(&m, &len), SPOT_ETOOBIG);
  spot__msg_t e = rep(SPOT__WIRE_EVENTS, 1, 0);
  e.events = big;
  e.count = SPOT__WIRE_MAX_EVENTS;
  CHECK_OK(spot__wire_encode(&e, buf, SPOT__WIRE_MAX, &len));
  CHECK_OK(spot__wire_decode(buf, len, &d));
  CHECK_EQ(d.count, SPOT__WIRE_MAX_EVENTS);
  e.count++;
  CHECK_RC(spot__wire_encoded_size(&e, &len), SPOT_ETOOBIG);
  free(big);
  free(buf);
}

/* Every prefix of every message fails, both as received (the header's length disagrees) and with the header's
 * length patched to the prefix (so the body parser meets the cut). */
static void test_truncation(void) {
  init_buffers();
  spot__msg_t s[MAX_SAMPLES];
  size_t ns = samples(s);
  for (size_t i = 0; i < ns; i++) {
    size_t len;
    uint8_t *buf = encode(&s[i], &len);
    CHECK(buf != NULL);
    uint8_t *cut = malloc(len);
    CHECK(cut != NULL);
    spot__msg_t d;
    memset(&d, 0x5a, sizeof d);
    for (size_t k = 0; k < len; k++) {
      memcpy(cut, buf, k);
      CHECK_RC(spot__wire_decode(k ? cut : NULL, k, &d), SPOT_ECORRUPT);
      if (k >= SPOT__WIRE_HDR_BYTES) {
        set_bodylen(cut, k);
        CHECK_RC(spot__wire_decode(cut, k, &d), SPOT_ECORRUPT);
        CHECK(strstr(spot_errdetail(), "cut short") != NULL);
      }
    }
    CHECK_EQ(d.id, 0x5a5a5a5a5a5a5a5aull); /* never written on failure */
    free(cut);
    free(buf);
  }
}

/* Single-byte changes never crash; what still decodes re-encodes to exactly the changed bytes. */
static void test_corruption(void) {
  init_buffers();
  spot__msg_t s[MAX_SAMPLES];
  size_t ns = samples(s);
  static const uint8_t xors[] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff};
  long decoded = 0, refused = 0;
  for (size_t i = 0; i < ns; i++) {
    size_t len;
    uint8_t *buf = encode(&s[i], &len);
    CHECK(buf != NULL);
    uint8_t *again = malloc(len);
    CHECK(again != NULL);
    for (size_t k = 0; k < len; k++) {
      for (size_t x = 0; x < sizeof xors + 2; x++) {
        uint8_t old = buf[k];
        buf[k] = x < sizeof xors ? (uint8_t)(old ^ xors[x]) : x == sizeof xors ? 0 : 0xff;
        if (buf[k] == old)
          continue;
        spot__msg_t d;
        if (spot__wire_decode(buf, len, &d) == 0) {
          size_t n2;
          CHECK_OK(spot__wire_encode(&d, again, len, &n2));
          CHECK_EQ(n2, len);
          CHECK(memcmp(again, buf, len) == 0);
          decoded++;
        } else {
          refused++;
        }
        buf[k] = old;
      }
    }
    free(again);
    free(buf);
  }
  CHECK(decoded > 0 && refused > 0);
}

static void test_bad_names(void) {
  const char *bad[] = {"", "..", ".", "a/b", "/etc", "-rf", "a b", "a.log", "x\n", "caf\xc3\xa9"};
  char toolong[SPOT_NAME_MAX + 2];
  memset(toolong, 'x', SPOT_NAME_MAX + 1);
  toolong[SPOT_NAME_MAX + 1] = '\0';
  size_t len;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0] + 1; i++) {
    const char *b = i < sizeof bad / sizeof bad[0] ? bad[i] : toolong;
    spot__msg_t m = req(SPOT__WIRE_GET, 1, b, "temp");
    CHECK_RC(spot__wire_encoded_size(&m, &len), SPOT_EBADNAME);
    CHECK(strstr(spot_errdetail(), "namespace name") != NULL);
    m = req(SPOT__WIRE_INFO, 1, "ns", b);
    CHECK_RC(spot__wire_encoded_size(&m, &len), SPOT_EBADNAME);
    CHECK(strstr(spot_errdetail(), "log name") != NULL);
    m = req(SPOT__WIRE_PUT, 1, "ns", "temp");
    m.handler = spot__wire_cstr(b);
    if (b[0] != '\0') /* an empty handler means none */
      CHECK_RC(spot__wire_encoded_size(&m, &len), SPOT_EBADNAME);
  }
  /* a NUL inside a counted name */
  spot__msg_t m = req(SPOT__WIRE_GET, 1, "ns", "temp");
  m.log.ptr = "te\0p";
  m.log.len = 4;
  CHECK_RC(spot__wire_encoded_size(&m, &len), SPOT_EBADNAME);
  /* deploy object names */
  const char *objs_bad[] = {"", "../x.so", "a/b.so", ".hidden.so", "-x.so", "a..so", "x so", "x.so\n", "\xc3\xa9.so"};
  for (size_t i = 0; i < sizeof objs_bad / sizeof objs_bad[0]; i++) {
    m = req(SPOT__WIRE_DEPLOY, 1, "ns", NULL);
    m.object = spot__wire_cstr(objs_bad[i]);
    CHECK_RC(spot__wire_encoded_size(&m, &len), SPOT_EBADNAME);
    CHECK(strstr(spot_errdetail(), "deploy object name") != NULL);
  }
  const char *objs_ok[] = {"h.so", "frost_v2.so", "my-handler.c", "a.b.c", "9.so", "x"};
  for (size_t i = 0; i < sizeof objs_ok / sizeof objs_ok[0]; i++)
    CHECK_OK(spot__wire_object_check(objs_ok[i], strlen(objs_ok[i])));
  char objlong[SPOT__WIRE_OBJECT_MAX + 1];
  memset(objlong, 'o', sizeof objlong);
  CHECK_RC(spot__wire_object_check(objlong, sizeof objlong), SPOT_EBADNAME);

  /* the decoder refuses them too: patch a valid message's name bytes in place */
  const struct {
    const char *ns, *log, *handler;
    size_t at;   /* offset of the patched byte in the message */
    char to;
  } cases[] = {
      {"ns", "temp", "", SPOT__WIRE_HDR_BYTES + 1, '/'},         /* ns "/s" */
      {"ns", "temp", "", SPOT__WIRE_HDR_BYTES + 1, '-'},         /* ns "-s" */
      {"ns", "temp", "", SPOT__WIRE_HDR_BYTES + 4, '.'},         /* log ".emp" */
      {"ns", "temp", "", SPOT__WIRE_HDR_BYTES + 5, '\0'},        /* log "t\0mp" */
      {"ns", "temp", "hh", SPOT__WIRE_HDR_BYTES + 9, '/'},       /* handler "/h" */
      {"ns", "..", "", SPOT__WIRE_HDR_BYTES + 3, 2},              /* log ".." */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    m = req(SPOT__WIRE_PUT, 1, cases[i].ns, strcmp(cases[i].log, "..") == 0 ? "ab" : cases[i].log);
    m.handler = spot__wire_cstr(cases[i].handler);
    uint8_t *buf = encode(&m, &len);
    CHECK(buf != NULL);
    buf[cases[i].at] = (uint8_t)cases[i].to;
    if (strcmp(cases[i].log, "..") == 0)
      buf[SPOT__WIRE_HDR_BYTES + 4] = buf[SPOT__WIRE_HDR_BYTES + 5] = '.';
    spot__msg_t d;
    int rc = spot__wire_decode(buf, len, &d);
    free(buf);
    CHECK_RC(rc, SPOT_EBADNAME);
  }
  /* an empty namespace on the wire, and a 64-byte log name with all its bytes present */
  m = req(SPOT__WIRE_LATEST, 1, "n", "temp");
  uint8_t *buf = encode(&m, &len);
  CHECK(buf != NULL);
  uint8_t empty_ns[64];
  memcpy(empty_ns, buf, SPOT__WIRE_HDR_BYTES);
  empty_ns[SPOT__WIRE_HDR_BYTES] = 0;
  memcpy(empty_ns + SPOT__WIRE_HDR_BYTES + 1, buf + SPOT__WIRE_HDR_BYTES + 2, len - SPOT__WIRE_HDR_BYTES - 2);
  set_bodylen(empty_ns, len - 1);
  spot__msg_t d;
  int rc = spot__wire_decode(empty_ns, len - 1, &d);
  free(buf);
  CHECK_RC(rc, SPOT_EBADNAME);
  uint8_t long_log[SPOT__WIRE_HDR_BYTES + 2 + 1 + 64];
  memset(long_log, 'x', sizeof long_log);
  memcpy(long_log, "SW\x02\x04\x00\x00\x00\x00", 8);
  memset(long_log + 12, 0, 8);
  set_bodylen(long_log, sizeof long_log);
  long_log[SPOT__WIRE_HDR_BYTES] = 1;
  long_log[SPOT__WIRE_HDR_BYTES + 2] = 64;
  CHECK_RC(spot__wire_decode(long_log, sizeof long_log, &d), SPOT_EBADNAME);
  long_log[SPOT__WIRE_HDR_BYTES + 2] = 63; /* one byte left over instead */
  CHECK_RC(spot__wire_decode(long_log, sizeof long_log, &d), SPOT_ECORRUPT);
}

static void test_trailing(void) {
  init_buffers();
  spot__msg_t s[MAX_SAMPLES];
  size_t ns = samples(s);
  for (size_t i = 0; i < ns; i++) {
    size_t len;
    uint8_t *buf = encode(&s[i], &len);
    CHECK(buf != NULL);
    uint8_t *more = malloc(len + 8);
    CHECK(more != NULL);
    memcpy(more, buf, len);
    memset(more + len, 0, 8);
    spot__msg_t d;
    for (size_t extra = 1; extra <= 8; extra++) {
      CHECK_RC(spot__wire_decode(more, len + extra, &d), SPOT_ECORRUPT); /* header length disagrees */
      set_bodylen(more, len + extra);
      CHECK_RC(spot__wire_decode(more, len + extra, &d), SPOT_ECORRUPT); /* left over after the last field */
      CHECK(strstr(spot_errdetail(), "left over") != NULL);
      set_bodylen(more, len);
    }
    free(more);
    free(buf);
  }
}

static void put32le(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static void test_oversized(void) {
  init_buffers();
  size_t len;
  spot__msg_t d;
  /* a body length above the maximum, refused before anything else is read */
  spot__msg_t m = req(SPOT__WIRE_LATEST, 1, "ns", "temp");
  uint8_t *buf = encode(&m, &len);
  CHECK(buf != NULL);
  put32le(buf + 8, SPOT__WIRE_MAX);
  CHECK_RC(spot__wire_decode(buf, len, &d), SPOT_ECORRUPT);
  put32le(buf + 8, UINT32_MAX);
  CHECK_RC(spot__wire_decode(buf, len, &d), SPOT_ECORRUPT);
  spot__wire_hdr_t h;
  CHECK_RC(spot__wire_peek(buf, len, &h), SPOT_ECORRUPT);
  free(buf);
  /* a data length above the maximum (PUT request: data length is the last 4 bytes of an empty put) */
  m = req(SPOT__WIRE_PUT, 1, "ns", "temp");
  buf = encode(&m, &len);
  CHECK(buf != NULL);
  put32le(buf + len - 4, SPOT__WIRE_MAX_DATA + 1u);
  CHECK_RC(spot__wire_decode(buf, len, &d), SPOT_ECORRUPT);
  CHECK(strstr(spot_errdetail(), "above the maximum") != NULL);
  put32le(buf + len - 4, UINT32_MAX);
  CHECK_RC(spot__wire_decode(buf, len, &d), SPOT_ECORRUPT);
  put32le(buf + len - 4, 1); /* within the maximum but longer than the message */
  CHECK_RC(spot__wire_decode(buf, len, &d), SPOT_ECORRUPT);
  free(buf);
  /* an event count above the maximum, and one that would overflow a 32-bit size_t times 256 */
  m = rep(SPOT__WIRE_EVENTS, 1, 0);
  buf = encode(&m, &len);
  CHECK(buf != NULL);
  put32le(buf + len - 4, SPOT__WIRE_MAX_EVENTS + 1u);
  CHECK_RC(spot__wire_decode(buf, len, &d), SPOT_ECORRUPT);
  put32le(buf + len - 4, 0x01000001u);
  CHECK_RC(spot__wire_decode(buf, len, &d), SPOT_ECORRUPT);
  free(buf);
  /* a detail length above the maximum, with all its bytes present */
  uint8_t big[SPOT__WIRE_HDR_BYTES + 6 + SPOT__WIRE_DETAIL_MAX + 1];
  memset(big, 'a', sizeof big);
  m = rep(SPOT__WIRE_GET, 1, SPOT_EIO);
  char toolong[SPOT__WIRE_DETAIL_MAX + 1];
  memset(toolong, 'd', sizeof toolong);
  m.detail.ptr = toolong;
  m.detail.len = sizeof toolong;
  CHECK_RC(spot__wire_encoded_size(&m, &len), SPOT_EINVAL);
  m.detail.len = SPOT__WIRE_DETAIL_MAX;
  CHECK_OK(spot__wire_encode(&m, big, sizeof big, &len));
  CHECK_EQ(len, sizeof big - 1);
  big[SPOT__WIRE_HDR_BYTES + 4] = (uint8_t)((SPOT__WIRE_DETAIL_MAX + 1) & 0xff);
  big[SPOT__WIRE_HDR_BYTES + 5] = (uint8_t)((SPOT__WIRE_DETAIL_MAX + 1) >> 8);
  big[sizeof big - 1] = 'a';
  set_bodylen(big, sizeof big);
  CHECK_RC(spot__wire_decode(big, sizeof big, &d), SPOT_ECORRUPT);
}

static void test_version_and_header(void) {
  spot__msg_t m = req(SPOT__WIRE_GET, 0x1122334455667788ull, "ns", "temp");
  size_t len;
  uint8_t *buf = encode(&m, &len);
  CHECK(buf != NULL);
  spot__msg_t d;
  CHECK_OK(spot__wire_decode(buf, len, &d));
  const struct {
    size_t at;
    uint8_t to;
    int rc;
  } cases[] = {
      {2, 0, SPOT_EVERSION}, {2, 1, SPOT_EVERSION}, {2, 0xff, SPOT_EVERSION}, /* version (1: before event v2) */
      {0, 'X', SPOT_ECORRUPT}, {1, 'w', SPOT_ECORRUPT},                       /* magic */
      {3, 0, SPOT_ECORRUPT}, {3, SPOT__WIRE_LAST + 1, SPOT_ECORRUPT}, {3, 0xff, SPOT_ECORRUPT}, /* type */
      {4, 2, SPOT_ECORRUPT}, {4, 0x81, SPOT_ECORRUPT},                        /* flags */
      {5, 1, SPOT_ECORRUPT}, {6, 1, SPOT_ECORRUPT}, {7, 0x80, SPOT_ECORRUPT}, /* reserved */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t old = buf[cases[i].at];
    buf[cases[i].at] = cases[i].to;
    CHECK_RC(spot__wire_decode(buf, len, &d), cases[i].rc);
    if (cases[i].rc == SPOT_EVERSION) {
      CHECK(strstr(spot_errdetail(), "version") != NULL);
      /* the node can still read whom to answer */
      spot__wire_hdr_t h;
      CHECK_OK(spot__wire_peek(buf, len, &h));
      CHECK_EQ(h.version, cases[i].to);
      CHECK_EQ(h.type, SPOT__WIRE_GET);
      CHECK(h.id == 0x1122334455667788ull);
      CHECK_EQ(h.total, len);
    }
    buf[cases[i].at] = old;
  }
  CHECK_OK(spot__wire_decode(buf, len, &d));
  free(buf);
  /* the encoder refuses what the decoder would */
  m.type = 0;
  CHECK_RC(spot__wire_encoded_size(&m, &len), SPOT_EINVAL);
  m.type = SPOT__WIRE_LAST + 1;
  CHECK_RC(spot__wire_encoded_size(&m, &len), SPOT_EINVAL);
  m.type = SPOT__WIRE_GET;
  m.flags = 2;
  CHECK_RC(spot__wire_encoded_size(&m, &len), SPOT_EINVAL);
  m = req(SPOT__WIRE_CREATE, 1, "ns", "temp");
  m.sync = SPOT__WIRE_SYNC_MAX + 1;
  CHECK_RC(spot__wire_encoded_size(&m, &len), SPOT_EINVAL);
  m = req(SPOT__WIRE_PUT, 1, "ns", "temp");
  m.data_len = 1; /* NULL data */
  CHECK_RC(spot__wire_encoded_size(&m, &len), SPOT_EINVAL);
  /* a check's fix is 0 or 1, both ways */
  m = req(SPOT__WIRE_CHECK, 1, "ns", "temp");
  m.fix = 2;
  CHECK_RC(spot__wire_encoded_size(&m, &len), SPOT_EINVAL);
  m.fix = 1;
  uint8_t chk[64];
  CHECK_OK(spot__wire_encode(&m, chk, sizeof chk, &len));
  chk[len - 1] = 2;
  CHECK_RC(spot__wire_decode(chk, len, &d), SPOT_ECORRUPT);
}

static void test_status(void) {
  spot__msg_t m = rep(SPOT__WIRE_PUT, 1, 1);
  size_t len;
  CHECK_RC(spot__wire_encoded_size(&m, &len), SPOT_EINVAL);
  m.status = SPOT_EIO;
  m.seq = 99; /* not sent with an error */
  m.detail = spot__wire_cstr("disk\tgone");
  CHECK_RC(spot__wire_encoded_size(&m, &len), SPOT_EINVAL);
  spot__wire_set_detail(&m, "disk gone\nsecond line");
  CHECK_EQ(m.detail.len, strlen("disk gone"));
  uint8_t buf[128];
  CHECK_OK(spot__wire_encode(&m, buf, sizeof buf, &len));
  spot__msg_t d;
  CHECK_OK(spot__wire_decode(buf, len, &d));
  CHECK_EQ(d.status, SPOT_EIO);
  CHECK_EQ(d.seq, 0);
  char text[64];
  CHECK_OK(spot__wire_copy(d.detail, text, sizeof text));
  CHECK(strcmp(text, "disk gone") == 0);
  /* a positive status on the wire */
  buf[SPOT__WIRE_HDR_BYTES] = 1;
  buf[SPOT__WIRE_HDR_BYTES + 1] = buf[SPOT__WIRE_HDR_BYTES + 2] = buf[SPOT__WIRE_HDR_BYTES + 3] = 0;
  CHECK_RC(spot__wire_decode(buf, len, &d), SPOT_ECORRUPT);
  /* a control byte in the detail on the wire */
  CHECK_OK(spot__wire_encode(&m, buf, sizeof buf, &len));
  buf[len - 1] = '\033';
  CHECK_RC(spot__wire_decode(buf, len, &d), SPOT_ECORRUPT);
  /* a long detail line is cut to the maximum */
  char longtext[SPOT__WIRE_DETAIL_MAX + 50];
  memset(longtext, 'z', sizeof longtext - 1);
  longtext[sizeof longtext - 1] = '\0';
  spot__wire_set_detail(&m, longtext);
  CHECK_EQ(m.detail.len, SPOT__WIRE_DETAIL_MAX);
  spot__wire_set_detail(&m, NULL);
  CHECK_EQ(m.detail.len, 0);
}

/* The exact bytes of one message: the format must not change by accident. */
static void test_golden(void) {
  spot__msg_t m = req(SPOT__WIRE_GET, 0x0102030405060708ull, "ns", "t");
  m.seq = 0x1122334455667788ull;
  static const uint8_t want[] = {
      'S', 'W', 2, SPOT__WIRE_GET, 0, 0, 0, 0,            /* magic, version, type, flags, reserved */
      13, 0, 0, 0,                                         /* body length */
      8, 7, 6, 5, 4, 3, 2, 1,                              /* request id */
      2, 'n', 's', 1, 't',                                 /* ns, log */
      0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};     /* seq */
  uint8_t buf[64];
  size_t len;
  CHECK_OK(spot__wire_encode(&m, buf, sizeof buf, &len));
  CHECK_EQ(len, sizeof want);
  CHECK(memcmp(buf, want, len) == 0);
  spot__msg_t r = rep(SPOT__WIRE_GET, 0x0102030405060708ull, SPOT_ENOTYET);
  r.detail = spot__wire_cstr("no");
  static const uint8_t want_rep[] = {'S', 'W', 2, SPOT__WIRE_GET, SPOT__WIRE_REPLY, 0, 0, 0, 8, 0, 0, 0,
                                     8,   7,   6, 5, 4, 3, 2, 1,
                                     0xfa, 0xff, 0xff, 0xff, /* status -6 */
                                     2,   0,   'n', 'o'};
  CHECK_OK(spot__wire_encode(&r, buf, sizeof buf, &len));
  CHECK_EQ(len, sizeof want_rep);
  CHECK(memcmp(buf, want_rep, len) == 0);
}

/* A byte stream holding two messages is split with spot__wire_peek. */
static void test_peek_stream(void) {
  spot__msg_t a = req(SPOT__WIRE_LATEST, 1, "ns", "temp"), b = rep(SPOT__WIRE_LATEST, 1, 0);
  b.seq = 5;
  uint8_t stream[256];
  size_t la, lb;
  CHECK_OK(spot__wire_encode(&a, stream, sizeof stream, &la));
  CHECK_OK(spot__wire_encode(&b, stream + la, sizeof stream - la, &lb));
  spot__wire_hdr_t h;
  CHECK_RC(spot__wire_peek(stream, SPOT__WIRE_HDR_BYTES - 1, &h), SPOT_ERANGE);
  CHECK_OK(spot__wire_peek(stream, la + lb, &h));
  CHECK_EQ(h.total, la);
  CHECK_OK(spot__wire_peek(stream + la, lb, &h));
  CHECK_EQ(h.total, lb);
  CHECK_EQ(h.flags, SPOT__WIRE_REPLY);
  spot__msg_t d;
  CHECK_RC(spot__wire_decode(stream, la + lb, &d), SPOT_ECORRUPT);
  CHECK_OK(spot__wire_decode(stream + la, lb, &d));
  CHECK_EQ(d.seq, 5);
}

static void test_copy(void) {
  init_buffers();
  char out[SPOT_NAME_MAX + 1];
  CHECK_OK(spot__wire_copy(spot__wire_cstr(name63), out, sizeof out));
  CHECK(strcmp(out, name63) == 0);
  CHECK_OK(spot__wire_copy(spot__wire_cstr(NULL), out, sizeof out));
  CHECK(out[0] == '\0');
  char small[4];
  CHECK_RC(spot__wire_copy(spot__wire_cstr("four"), small, sizeof small), SPOT_ERANGE);
  spot__wire_str_t nul = {"a\0b", 3};
  CHECK_RC(spot__wire_copy(nul, out, sizeof out), SPOT_ERANGE);
  CHECK(strcmp(spot__wire_type_name(SPOT__WIRE_EVENTS), "events") == 0);
  CHECK(strcmp(spot__wire_type_name(0), "?") == 0);
}

static const spot_test_t tests[] = {
    {"roundtrip", test_roundtrip},
    {"max_data", test_max_data},
    {"truncation", test_truncation},
    {"corruption", test_corruption},
    {"bad_names", test_bad_names},
    {"trailing", test_trailing},
    {"oversized", test_oversized},
    {"version_and_header", test_version_and_header},
    {"status", test_status},
    {"golden", test_golden},
    {"peek_stream", test_peek_stream},
    {"copy", test_copy},
    {NULL, NULL},
};

SPOT_TEST_MAIN(tests)
