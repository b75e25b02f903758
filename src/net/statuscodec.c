/*
 * statuscodec.c: a node's status as bytes (net/statuscodec.h). Every read goes through one bounds-checked take().
 */
#include "net/statuscodec.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define VERSION 1u
#define HEAD_BYTES (12u + 13u * 8u)
#define HANDLER_MIN (1u + 4u + 4u * 8u)
#define LOG_MIN (1u + 2u * 8u)

typedef struct wr {
  uint8_t *p;
  size_t n;
} wr_t;

static void w_uint(wr_t *w, uint64_t v, unsigned bytes) {
  for (unsigned i = 0; i < bytes; i++)
    w->p[w->n++] = (uint8_t)(v >> (8 * i));
}

static void w_name(wr_t *w, const char *s, size_t cap) {
  size_t n = strnlen(s, cap - 1);
  w->p[w->n++] = (uint8_t)n;
  memcpy(w->p + w->n, s, n);
  w->n += n;
}

size_t spot__statusc_size(const spot_status_t *st) {
  size_t n = HEAD_BYTES + 1 + (size_t)SPOT_STATUS_BUCKETS * 8 + 4 + 4;
  for (size_t i = 0; i < st->nhandlers; i++)
    n += HANDLER_MIN + strnlen(st->handlers[i].name, sizeof st->handlers[i].name - 1);
  for (size_t i = 0; i < st->nlogs; i++)
    n += LOG_MIN + strnlen(st->logs[i].name, sizeof st->logs[i].name - 1);
  return n;
}

int spot__statusc_encode(const spot_status_t *st, uint8_t *buf, size_t cap, size_t *len) {
  size_t need = spot__statusc_size(st);
  if (cap < need)
    return spot__fail(SPOT_ERANGE, "a status of %zu bytes does not fit %zu", need, cap);
  wr_t w = {buf, 0};
  w_uint(&w, VERSION, 1);
  w_uint(&w, st->served ? 1 : 0, 1);
  w_uint(&w, (uint64_t)st->mode, 1);
  w_uint(&w, (uint64_t)st->power_source, 1);
  w_uint(&w, (uint32_t)st->pid, 4);
  w_uint(&w, st->workers, 4);
  const uint64_t head[] = {st->node,     st->started_ns, st->uptime_ns,       st->milliwatts,      st->queue_depth,
                           st->runs,     st->failures,   st->cpu_ns,          st->energy_nj,       st->worker_restarts,
                           st->latency_sum_ns, st->p50_ns, st->p99_ns};
  for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
    w_uint(&w, head[i], 8);
  w_uint(&w, SPOT_STATUS_BUCKETS, 1);
  for (unsigned b = 0; b < SPOT_STATUS_BUCKETS; b++)
    w_uint(&w, st->latency[b], 8);
  w_uint(&w, st->nhandlers, 4);
  for (size_t i = 0; i < st->nhandlers; i++) {
    const spot_status_handler_t *h = &st->handlers[i];
    w_name(&w, h->name, sizeof h->name);
    w_uint(&w, h->id, 4);
    w_uint(&w, h->runs, 8);
    w_uint(&w, h->failures, 8);
    w_uint(&w, h->cpu_ns, 8);
    w_uint(&w, h->energy_nj, 8);
  }
  w_uint(&w, st->nlogs, 4);
  for (size_t i = 0; i < st->nlogs; i++) {
    w_name(&w, st->logs[i].name, sizeof st->logs[i].name);
    w_uint(&w, st->logs[i].puts, 8);
    w_uint(&w, st->logs[i].bytes, 8);
  }
  *len = w.n;
  return 0;
}

typedef struct rd {
  const uint8_t *p;
  size_t left;
} rd_t;

static int take(rd_t *r, size_t n, const char *what, const uint8_t **out) {
  if (n > r->left)
    return spot__fail(SPOT_ECORRUPT, "status: %s needs %zu bytes, %zu are left", what, n, r->left);
  *out = r->p;
  r->p += n;
  r->left -= n;
  return 0;
}

static int r_uint(rd_t *r, unsigned bytes, const char *what, uint64_t *v) {
  const uint8_t *p = NULL;
  int rc = take(r, bytes, what, &p);
  if (rc != 0)
    return rc;
  uint64_t x = 0;
  for (unsigned i = 0; i < bytes; i++)
    x |= (uint64_t)p[i] << (8 * i);
  *v = x;
  return 0;
}

static int r_name(rd_t *r, char out[64]) {
  uint64_t n = 0;
  const uint8_t *p = NULL;
  int rc = r_uint(r, 1, "name length", &n);
  if (rc == 0 && n > 63)
    rc = spot__fail(SPOT_ECORRUPT, "status: a name of %u bytes is longer than 63", (unsigned)n);
  if (rc == 0)
    rc = take(r, (size_t)n, "name", &p);
  if (rc == 0 && memchr(p, 0, (size_t)n) != NULL)
    rc = spot__fail(SPOT_ECORRUPT, "status: a name has a NUL byte");
  if (rc == 0) {
    memcpy(out, p, (size_t)n);
    out[n] = '\0';
  }
  return rc;
}

static int decode_lists(rd_t *r, spot_status_t *st) {
  uint64_t n;
  int rc = r_uint(r, 4, "handler count", &n);
  if (rc == 0 && n > r->left / HANDLER_MIN)
    rc = spot__fail(SPOT_ECORRUPT, "status: %llu handlers cannot fit %zu bytes", (unsigned long long)n, r->left);
  if (rc == 0 && n > 0 && (st->handlers = calloc((size_t)n, sizeof *st->handlers)) == NULL)
    rc = SPOT_ENOMEM;
  for (uint64_t i = 0; rc == 0 && i < n; i++) {
    spot_status_handler_t *h = &st->handlers[i];
    uint64_t id = 0;
    st->nhandlers++;
    if ((rc = r_name(r, h->name)) == 0 && (rc = r_uint(r, 4, "handler id", &id)) == 0 &&
        (rc = r_uint(r, 8, "runs", &h->runs)) == 0 && (rc = r_uint(r, 8, "failures", &h->failures)) == 0 &&
        (rc = r_uint(r, 8, "cpu", &h->cpu_ns)) == 0)
      rc = r_uint(r, 8, "energy", &h->energy_nj);
    h->id = (uint32_t)id;
  }
  if (rc == 0)
    rc = r_uint(r, 4, "log count", &n);
  if (rc == 0 && n > r->left / LOG_MIN)
    rc = spot__fail(SPOT_ECORRUPT, "status: %llu logs cannot fit %zu bytes", (unsigned long long)n, r->left);
  if (rc == 0 && n > 0 && (st->logs = calloc((size_t)n, sizeof *st->logs)) == NULL)
    rc = SPOT_ENOMEM;
  for (uint64_t i = 0; rc == 0 && i < n; i++) {
    spot_status_log_t *g = &st->logs[i];
    st->nlogs++;
    if ((rc = r_name(r, g->name)) == 0 && (rc = r_uint(r, 8, "puts", &g->puts)) == 0)
      rc = r_uint(r, 8, "bytes", &g->bytes);
  }
  return rc;
}

int spot__statusc_decode(const uint8_t *buf, size_t len, spot_status_t *out) {
  rd_t r = {buf, len};
  spot_status_t st;
  memset(&st, 0, sizeof st);
  uint64_t v[6];
  const char *names[6] = {"version", "served", "mode", "power source", "pid", "workers"};
  const unsigned sizes[6] = {1, 1, 1, 1, 4, 4};
  int rc = 0;
  for (int i = 0; i < 6 && rc == 0; i++)
    rc = r_uint(&r, sizes[i], names[i], &v[i]);
  if (rc == 0 && v[0] != VERSION)
    rc = spot__fail(SPOT_ECORRUPT, "status version %u is unknown (this spot reads version %u)", (unsigned)v[0],
                    VERSION);
  if (rc == 0 && (v[1] > 1 || v[2] > 1 || v[3] > 1))
    rc = spot__fail(SPOT_ECORRUPT, "status: served, mode or power source out of range");
  if (rc != 0)
    return rc;
  st.served = (int)v[1];
  st.mode = (int)v[2];
  st.power_source = (int)v[3];
  st.pid = (int)(int32_t)(uint32_t)v[4];
  st.workers = (unsigned)v[5];
  uint64_t *head[] = {&st.node, &st.started_ns, &st.uptime_ns, &st.milliwatts, &st.queue_depth, &st.runs,
                      &st.failures, &st.cpu_ns, &st.energy_nj, &st.worker_restarts, &st.latency_sum_ns, &st.p50_ns,
                      &st.p99_ns};
  for (size_t i = 0; i < sizeof head / sizeof head[0] && rc == 0; i++)
    rc = r_uint(&r, 8, "counter", head[i]);
  uint64_t nb = 0;
  if (rc == 0 && (rc = r_uint(&r, 1, "bucket count", &nb)) == 0 && nb != SPOT_STATUS_BUCKETS)
    rc = spot__fail(SPOT_ECORRUPT, "status has %u latency buckets, not %u", (unsigned)nb, SPOT_STATUS_BUCKETS);
  for (unsigned b = 0; b < SPOT_STATUS_BUCKETS && rc == 0; b++)
    rc = r_uint(&r, 8, "latency bucket", &st.latency[b]);
  if (rc == 0)
    rc = decode_lists(&r, &st);
  if (rc == 0 && r.left != 0)
    rc = spot__fail(SPOT_ECORRUPT, "status has %zu trailing bytes", r.left);
  if (rc != 0) {
    free(st.handlers);
    free(st.logs);
    return rc;
  }
  *out = st;
  return 0;
}
