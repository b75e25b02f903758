/*
 * listing.c: what a node tells a client about its namespace as a whole: its logs (LIST: geometry, newest number,
 * bound handler) and its handlers (HANDLERS: id, version, object, bound logs), as the text lines core/wire.h
 * describes. `spot ls` and `spot handlers` on a remote name print them; the get right reads them.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "net/net_impl.h"
#include "spot/node.h"

typedef struct out {
  spot_ns_t *ns;
  char *buf;
  size_t cap, n;
  int full;
  const char *want; /* HANDLERS: the handler whose bound logs are being written; LIST: NULL */
  char log[64];     /* LIST: the log whose handler is being written */
  int shown;
} out_t;

static void emit(out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(out_t *o, const char *fmt, ...) {
  if (o->full)
    return;
  va_list ap;
  va_start(ap, fmt);
  int w = vsnprintf(o->buf + o->n, o->cap - o->n, fmt, ap);
  va_end(ap);
  if (w < 0 || (size_t)w >= o->cap - o->n)
    o->full = 1;
  else
    o->n += (size_t)w;
}

static int bound_of(const char *log, const char *handler, void *arg) {
  out_t *o = arg;
  if (o->want == NULL && strcmp(log, o->log) == 0) /* LIST: the log's handler */
    emit(o, "%s", handler), o->shown = 1;
  else if (o->want != NULL && strcmp(handler, o->want) == 0) /* HANDLERS: the handler's logs */
    emit(o, "%s%s", o->shown++ ? "," : "", log);
  return 0;
}

static int one_log(const char *name, void *arg) {
  out_t *o = arg;
  spot_log_t *l;
  if (spot_ns_open_log(o->ns, name, 0, &l, NULL) != 0)
    return 0; /* damaged or being made: `spot check` on it tells more */
  spot_log_info_t i;
  spot_log_info(l, &i);
  spot_log_close(l);
  emit(o, "%s\t%u\t%" PRIu64 "\t%s\t%" PRIu64 "\t", name, i.elem_size, i.history, spot_sync_name(i.sync), i.latest);
  snprintf(o->log, sizeof o->log, "%s", name);
  o->want = NULL;
  o->shown = 0;
  int rc = spot_bindings(o->ns, bound_of, o);
  emit(o, "%s\n", o->shown ? "" : "-");
  return rc;
}

static int one_handler(const spot_handler_info_t *h, void *arg) {
  out_t *o = arg;
  emit(o, "%u\t%s\t%" PRIu64 "\t%s\t", h->id, h->name, h->version, h->file[0] ? h->file : "-");
  o->want = h->name;
  o->shown = 0;
  int rc = spot_bindings(o->ns, bound_of, o);
  emit(o, "%s\n", o->shown ? "" : "-");
  return rc;
}

int spot__net_listing(spot_ns_t *ns, int logs, uint8_t *buf, size_t cap, uint32_t *len) {
  out_t o = {.ns = ns, .buf = (char *)buf, .cap = cap};
  int rc = logs ? spot_ns_list(ns, one_log, &o) : spot_ns_handlers(ns, one_handler, &o);
  if (rc == 0 && o.full)
    rc = spot__fail(SPOT_ETOOBIG, "the list of %s is longer than one reply holds (%zu bytes)",
                    logs ? "logs" : "handlers", cap);
  if (rc == 0)
    *len = (uint32_t)o.n;
  return rc;
}
