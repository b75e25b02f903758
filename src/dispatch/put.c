/*
 * put.c: puts through the platform (spot_put) and the context handlers use (spot_ctx_*). A local put looks its
 * handler up and opens what it will write (anything refused here wrote nothing), then hands the put to its life
 * (life.c: mark, durability, put event, trigger). A put to another node's log goes through the network's method
 * table (dispatch/remote.h).
 *
 * Failures and retries: once the element is appended and as durable as the log promises, the put has happened: a
 * failure to write its put event or its trigger (a full trigger queue, say) is not returned (a retry would store
 * the element twice); the element stays marked and the node recovers it (pending.c, at its start and every few
 * seconds while it runs). A failed sync is returned: the log refuses writes until reopened, and whether the
 * element reached the disk is unknown (its mark is cleared: no handler runs for it).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "dispatch/dispatch.h"
#include "dispatch/remote.h"
#include "spot/events.h"

int spot__put(spot_ns_t *ns, const char *log, const void *data, size_t len, const char *handler,
              const spot_cause_t *cause, uint64_t *seq) {
  spot__reg_entry_t h = {0};
  char bound[64];
  int rc = 0;
  if (handler == NULL) { /* a put that names no handler runs the log's bound one, if any (bindings.c) */
    if ((rc = spot__bindings_find(ns, log, bound)) < 0)
      return rc;
    handler = rc == 1 ? bound : NULL;
  }
  if (handler != NULL && (rc = spot__registry_lookup(ns, handler, &h)) != 0)
    return rc;
  spot_log_t *l, *internal;
  if ((rc = spot__ns_log(ns, log, &l)) != 0 || (rc = spot__nsctx_events(ns, &internal)) != 0 ||
      (h.id != 0 && (rc = spot__nsctx_triggers(ns, &internal)) != 0))
    return rc; /* before anything is written */
  return spot__life_put(ns, l, log, data, len, h.id, handler, cause, seq);
}

int spot_put(spot_ns_t *ns, const char *log, const void *data, size_t len, const char *handler,
             const spot_cause_t *cause, uint64_t *seq) {
  if (spot_is_remote(log)) /* another node's log: through the network's method table (dispatch/remote.h) */
    return spot__remote_put(log, data, len, handler, cause, seq);
  return spot__put(ns, log, data, len, handler, cause, seq);
}

/* Records in ns's event log a put to another node's log that has happened (url, seq, handler, cause): a put event
 * whose log is the remote name, so a trace can follow the chain to the other node. */
static int note_remote_put(spot_ns_t *ns, const char *url, uint64_t seq, const char *handler,
                           const spot_cause_t *cause, int64_t time_ns, uint64_t *id) {
  spot__event_t e;
  spot__event_put_init(&e, url, seq, 0, handler, cause ? cause->node : 0, cause ? cause->event : 0);
  e.time_ns = (uint64_t)time_ns;
  return spot__events_append(ns, &e, id);
}

static int remote_name_fits(const char *url) {
  spot__event_t e;
  if (strlen(url) >= sizeof e.log)
    return spot__fail(SPOT_EINVAL, "remote name %s is longer than the event log keeps (%zu characters)", url,
                      sizeof e.log - 1);
  return 0;
}

int spot_events_note_remote_put(spot_ns_t *ns, const char *url, uint64_t seq, const char *handler,
                                const spot_cause_t *cause, uint64_t *id) {
  if (ns == NULL || url == NULL || !spot_is_remote(url) || seq == 0)
    return spot__fail(SPOT_EINVAL, "spot_events_note_remote_put wants a namespace, a remote name (spot://...) and "
                                   "the sequence number the other node returned");
  int rc = remote_name_fits(url);
  return rc ? rc : note_remote_put(ns, url, seq, handler, cause, 0, id);
}

/* A handler's put to a log of another node: sent with cause (this invocation, or what the handler named), and
 * recorded here as a put event whose log is the remote name, so a trace can follow the chain to the other node. */
static int remote_put(spot_ctx_t *ctx, const char *url, const void *data, size_t len, const char *handler,
                      const spot_cause_t *cause, uint64_t *seq) {
  int rc = remote_name_fits(url);
  if (rc != 0)
    return rc;
  uint64_t s = 0;
  int64_t t = (int64_t)spot__wall_ns();
  if ((rc = spot__remote_put(url, data, len, handler, cause, &s)) != 0)
    return rc;
  note_remote_put(ctx->ns, url, s, handler, cause, t, NULL); /* the put happened: a failure to record it does not
                                                               * undo it */
  if (seq)
    *seq = s;
  return 0;
}

int spot_ctx_put(spot_ctx_t *ctx, const char *log, const void *data, size_t len, const char *handler,
                 uint64_t *seq) {
  if (spot_is_remote(log))
    return remote_put(ctx, log, data, len, handler, &ctx->cause, seq);
  return spot__put(ctx->ns, log, data, len, handler, &ctx->cause, seq);
}

int spot_ctx_put_cause(spot_ctx_t *ctx, const char *log, const void *data, size_t len, const char *handler,
                       const spot_cause_t *cause, uint64_t *seq) {
  if (cause == NULL || (cause->node == 0 && cause->event == 0))
    cause = &ctx->cause;
  if (spot_is_remote(log))
    return remote_put(ctx, log, data, len, handler, cause, seq);
  return spot__put(ctx->ns, log, data, len, handler, cause, seq);
}

int spot_ctx_get(spot_ctx_t *ctx, const char *log, uint64_t seq, void *buf, size_t cap) {
  if (spot_is_remote(log))
    return spot__remote_get(log, seq, buf, cap);
  spot_log_t *l;
  int rc = spot__ns_log(ctx->ns, log, &l);
  return rc ? rc : spot_log_read(l, seq, buf, cap);
}

int spot_ctx_latest(spot_ctx_t *ctx, const char *log, uint64_t *seq) {
  if (spot_is_remote(log))
    return spot__remote_latest(log, seq);
  spot_log_t *l;
  int rc = spot__ns_log(ctx->ns, log, &l);
  return rc ? rc : spot_log_latest(l, seq);
}

/* One run prints at most SPOT__PRINT_LIMIT bytes through here, in either mode (a thread-mode handler shares the
 * node's stderr, which cannot be bounded per thread; what it writes with printf is not counted); past the limit,
 * one note says what was dropped. */
void spot_print(spot_ctx_t *ctx, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  size_t t = strnlen(line, sizeof ctx->tail - 1); /* the run's last line, for its fail event */
  memcpy(ctx->tail, line, t);
  ctx->tail[t] = '\0';
  char out[1200];
  int n = ctx->captured ? snprintf(out, sizeof out, "%s\n", line) /* the capture prefixes each line */
                        : snprintf(out, sizeof out, "[%s #%llu] %s\n", ctx->handler,
                                   (unsigned long long)ctx->cause.event, line);
  size_t len = n < 0 ? 0 : (size_t)n < sizeof out ? (size_t)n : sizeof out - 1;
  if (ctx->printed + len > SPOT__PRINT_LIMIT) {
    if (!ctx->print_cut)
      fprintf(stderr, "[%s #%llu] [spot: this run printed %zu bytes; the rest of its spot_print output (limit %u "
              "bytes per run) is dropped]\n", ctx->handler, (unsigned long long)ctx->cause.event, ctx->printed,
              SPOT__PRINT_LIMIT);
    ctx->print_cut = 1;
    return;
  }
  ctx->printed += len;
  fputs(out, stderr);
}

void spot_ctx_fail(spot_ctx_t *ctx, const char *fmt, ...) {
  if (ctx == NULL || fmt == NULL)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx->detail, sizeof ctx->detail, fmt, ap);
  va_end(ap);
}
