/*
 * put.c: puts through the platform (spot_put), the event log writes they make, and the context handlers use.
 *
 * A put naming a handler: (1) look the handler up in the registry (refused if unknown, before anything is
 * written); (2) append the element marked with the handler's id, so the ring cannot overwrite it before the
 * handler ends; (3) wait for the log's durability setting; (4) append the put event to the event log; (5) queue it,
 * marked, in the trigger queue, which is what the node follows. The queue's append wakes a sleeping node within
 * microseconds (a futex in its mapping). Handlers' start and end events go to the event log only, which never waits,
 * so a full trigger queue can never stop the handlers that would drain it. If a crash falls between (2) and (5), the
 * node finds the marked element without a trigger and runs the handler then (pending.c: at its start, and every
 * few seconds while it runs), so no acknowledged put is lost and no marked element blocks the ring for long.
 *
 * Failures and retries: everything that can be checked is checked before the element is appended (the handler,
 * the log, the event log and the trigger queue open), so a refused put wrote nothing and may be retried. Once the
 * element is appended and as durable as the log promises, the put has happened: a failure to write its put event
 * or its trigger (a full trigger queue, say) is not returned (a retry would store the element twice); the element
 * stays marked and the node recovers it as above. A failed sync (step 3) is returned: the log refuses writes until
 * reopened, and whether the element reached the disk is unknown (its mark is cleared: no handler runs for it).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "dispatch/dispatch.h"
#include "dispatch/remote.h"
#include "store/store.h"

int spot__ns_event(spot_ns_t *ns, spot__event_t *e, uint64_t *id) {
  spot_log_t *events;
  int rc = spot__ns_events(ns, &events);
  if (rc != 0)
    return rc;
  e->node = ns->node_id;
  if (e->time_ns == 0)
    e->time_ns = spot__wall_ns();
  uint8_t rec[SPOT__EVENT_BYTES];
  spot__event_encode(e, rec);
  return spot_log_append_async(events, rec, sizeof rec, id);
}

static int read_record(spot_ns_t *ns, spot_log_t *log, const char *what, uint64_t seq, spot__event_t *e) {
  uint8_t rec[SPOT__EVENT_BYTES];
  int rc = spot_log_read(log, seq, rec, sizeof rec);
  if (rc == 0 && (rc = spot__event_decode(rec, e)) != 0)
    rc = spot__fail(rc, "%s %llu of %s does not decode", what, (unsigned long long)seq, ns->dir);
  return rc;
}

int spot__ns_event_read(spot_ns_t *ns, uint64_t id, spot__event_t *e) {
  spot_log_t *events;
  int rc = spot__ns_events(ns, &events);
  if (rc == 0 && (rc = read_record(ns, events, "event", id, e)) == 0)
    e->id = id;
  return rc;
}

int spot__ns_trigger(spot_ns_t *ns, const spot__event_t *e, uint32_t hid, uint64_t *slot) {
  spot_log_t *triggers;
  int rc = spot__ns_triggers(ns, &triggers);
  if (rc != 0)
    return rc;
  uint8_t rec[SPOT__EVENT_BYTES];
  spot__event_encode(e, rec);
  return spot__log_append_pending(triggers, rec, sizeof rec, hid, slot);
}

int spot__ns_trigger_read(spot_ns_t *ns, uint64_t tseq, spot__event_t *e) {
  spot_log_t *triggers;
  int rc = spot__ns_triggers(ns, &triggers);
  if (rc == 0 && (rc = read_record(ns, triggers, "trigger", tseq, e)) == 0)
    e->trigger = tseq;
  return rc;
}

int spot__put(spot_ns_t *ns, const char *log, const void *data, size_t len, const char *handler,
              const spot_cause_t *cause, uint64_t *seq) {
  spot__reg_entry_t h = {0};
  int rc = 0;
  if (handler != NULL && (rc = spot__ns_handler_lookup(ns, handler, &h)) != 0)
    return rc;
  spot_log_t *l, *internal;
  if ((rc = spot__ns_log(ns, log, &l)) != 0 || (rc = spot__ns_events(ns, &internal)) != 0 ||
      (h.id != 0 && (rc = spot__ns_triggers(ns, &internal)) != 0))
    return rc; /* before anything is written */
  spot__event_t e;
  memset(&e, 0, sizeof e);
  e.type = SPOT__EV_PUT;
  e.time_ns = spot__wall_ns(); /* the put's start: put-to-handler latency is measured from here */
  uint64_t s;
  if ((rc = spot__log_append_pending(l, data, len, h.id, &s)) != 0)
    return rc;
  spot_log_info_t info;
  spot_log_info(l, &info);
  if (info.sync != SPOT_SYNC_NONE && (rc = spot_log_wait_durable(l, s)) != 0) {
    spot__log_release(l, s);
    return rc;
  }
  if (cause) {
    e.cause_node = cause->node;
    e.cause_id = cause->event;
  }
  e.seq = s;
  e.handler_id = h.id;
  snprintf(e.log, sizeof e.log, "%s", log);
  if (handler)
    snprintf(e.handler, sizeof e.handler, "%s", handler);
  if ((rc = spot__ns_event(ns, &e, &e.id)) == 0 && h.id != 0)
    rc = spot__ns_trigger(ns, &e, h.id, NULL);
  if (rc != 0)
    spot__clear_detail(); /* the put happened: its marked element is recovered by the node (see above) */
  if (seq)
    *seq = s;
  return 0;
}

int spot_put(spot_ns_t *ns, const char *log, const void *data, size_t len, const char *handler,
             const spot_cause_t *cause, uint64_t *seq) {
  if (spot_is_remote(log)) /* another node's log: through the network's method table (dispatch/remote.h) */
    return spot__remote_put(log, data, len, handler, cause, seq);
  return spot__put(ns, log, data, len, handler, cause, seq);
}

/* ---- running one invocation ---- */

struct spot_ctx {
  spot_ns_t *ns;
  spot_cause_t cause; /* this invocation's start event */
  const char *handler;
};

/* A handler's put to a log of another node: sent with this invocation as its cause, and recorded here as a put
 * event whose log is the remote name, so a trace can follow the chain to the other node. */
static int remote_put(spot_ctx_t *ctx, const char *url, const void *data, size_t len, const char *handler,
                      uint64_t *seq) {
  spot__event_t e;
  memset(&e, 0, sizeof e);
  if (strlen(url) >= sizeof e.log)
    return spot__fail(SPOT_EINVAL, "remote name %s is longer than the event log keeps (%zu characters)", url,
                      sizeof e.log - 1);
  uint64_t s = 0;
  e.time_ns = spot__wall_ns();
  int rc = spot__remote_put(url, data, len, handler, &ctx->cause, &s);
  if (rc != 0)
    return rc;
  e.type = SPOT__EV_PUT;
  e.cause_node = ctx->cause.node;
  e.cause_id = ctx->cause.event;
  e.seq = s;
  snprintf(e.log, sizeof e.log, "%s", url);
  if (handler)
    snprintf(e.handler, sizeof e.handler, "%s", handler);
  spot__ns_event(ctx->ns, &e, NULL); /* the put happened: a failure to record it does not undo it */
  if (seq)
    *seq = s;
  return 0;
}

int spot_ctx_put(spot_ctx_t *ctx, const char *log, const void *data, size_t len, const char *handler,
                 uint64_t *seq) {
  if (spot_is_remote(log))
    return remote_put(ctx, log, data, len, handler, seq);
  return spot__put(ctx->ns, log, data, len, handler, &ctx->cause, seq);
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

void spot_print(spot_ctx_t *ctx, const char *fmt, ...) {
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  fprintf(stderr, "[%s #%llu] %s\n", ctx->handler, (unsigned long long)ctx->cause.event, line);
}

/* Releases the element and the trigger of an invocation that has ended. */
static void release(spot_ns_t *ns, const spot__event_t *put) {
  spot_log_t *l, *triggers;
  if (spot__ns_log(ns, put->log, &l) == 0)
    spot__log_release(l, put->seq);
  if (put->trigger && spot__ns_triggers(ns, &triggers) == 0)
    spot__log_release(triggers, put->trigger);
}

#define ENDED_SCAN_MAX (1u << 20) /* events looked at for an end of a run whose worker died */

/* 1 if the event log has an end or fail event for put event `put` after event `from`. */
static int has_ended(spot_ns_t *ns, const spot__event_t *put, uint64_t from) {
  spot_log_t *events;
  uint64_t lo, hi;
  if (spot__ns_events(ns, &events) != 0 || spot_log_earliest(events, &lo) != 0 || spot_log_latest(events, &hi) != 0)
    return 0;
  if (from < lo)
    from = lo;
  if (hi > from + ENDED_SCAN_MAX)
    from = hi - ENDED_SCAN_MAX;
  for (uint64_t id = from; lo && id <= hi; id++) {
    spot__event_t e;
    if (spot__ns_event_read(ns, id, &e) == 0 && (e.type == SPOT__EV_END || e.type == SPOT__EV_FAIL) &&
        e.ref == put->id && e.seq == put->seq && strcmp(e.log, put->log) == 0)
      return 1;
  }
  return 0;
}

int spot__invoke_failed(spot_ns_t *ns, const spot__event_t *put, uint64_t start_id, int status, const char *reason,
                        uint64_t duration_ns) {
  if (put->id && has_ended(ns, put, (start_id ? start_id : put->id) + 1)) {
    release(ns, put); /* it ended just before its worker died: finish what the run could not */
    return 0;
  }
  spot__event_t f;
  memset(&f, 0, sizeof f);
  f.type = SPOT__EV_FAIL;
  f.status = status;
  f.cause_node = ns->node_id;
  f.cause_id = start_id ? start_id : put->id;
  f.ref = put->id;
  f.seq = put->seq;
  f.handler_id = put->handler_id;
  f.time_ns = spot__wall_ns();
  f.duration_ns = duration_ns;
  memcpy(f.log, put->log, sizeof f.log);
  memcpy(f.handler, put->handler, sizeof f.handler);
  snprintf(f.reason, sizeof f.reason, "%s", reason);
  int rc = spot__ns_event(ns, &f, NULL);
  release(ns, put);
  return rc ? rc : 1;
}

/* Claims the element of put for this run. 0: run it. Otherwise it ended already or runs elsewhere (a second trigger
 * for the same element, as a node restart may make): this trigger is released and nothing runs. */
static int claim(spot_ns_t *ns, const spot__event_t *put) {
  spot_log_t *l, *triggers;
  if (spot__ns_log(ns, put->log, &l) != 0)
    return 0; /* the run itself reports the log's error */
  /* a trigger names its element and handler: if the element's mark names another handler, the trigger is stale
   * (a none trigger queue that kept a trigger whose element a power cut took, the number then given again) */
  uint32_t mark = spot__log_pending(l, put->seq) & ~SPOT__MARK_RUNNING;
  int rc = mark != 0 && mark != put->handler_id ? SPOT_ENOTFOUND : spot__log_claim(l, put->seq);
  if (rc != 0 && put->trigger && spot__ns_triggers(ns, &triggers) == 0)
    spot__log_release(triggers, put->trigger);
  return rc;
}

int spot__invoke(spot_ns_t *ns, const spot__event_t *put, spot_handler_fn fn, uint64_t *start_id_out) {
  if (claim(ns, put) != 0)
    return 0;
  spot__event_t st;
  memset(&st, 0, sizeof st);
  st.type = SPOT__EV_START;
  st.cause_node = put->node;
  st.cause_id = put->id;
  st.ref = put->id;
  st.seq = put->seq;
  st.handler_id = put->handler_id;
  memcpy(st.log, put->log, sizeof st.log);
  memcpy(st.handler, put->handler, sizeof st.handler);
  uint64_t start_id = 0;
  int rc = spot__ns_event(ns, &st, &start_id);
  if (rc != 0)
    return rc; /* the event log refuses writes: leave the put pending for the next start */
  if (start_id_out)
    __atomic_store_n(start_id_out, start_id, __ATOMIC_RELEASE);
  uint64_t t0 = st.time_ns;
  if (fn == NULL)
    return spot__invoke_failed(ns, put, start_id, SPOT_ENOTFOUND, "handler is not loaded in this node", 0),
           SPOT_ENOTFOUND;
  spot_log_t *l;
  spot_log_info_t info;
  if ((rc = spot__ns_log(ns, put->log, &l)) != 0)
    return spot__invoke_failed(ns, put, start_id, rc, "cannot open the element's log", 0), rc;
  spot_log_info(l, &info);
  /* a private copy for the handler: small elements on the stack */
  uint8_t small[4096];
  uint8_t *buf = info.elem_size <= sizeof small ? small : malloc(info.elem_size);
  if (buf == NULL)
    return spot__invoke_failed(ns, put, start_id, SPOT_ENOMEM, "out of memory for the element", 0), SPOT_ENOMEM;
  rc = spot_log_read(l, put->seq, buf, info.elem_size);
  if (rc != 0) {
    if (buf != small)
      free(buf);
    return spot__invoke_failed(ns, put, start_id, rc, "cannot read the element", 0), rc;
  }
  struct spot_ctx ctx = {.ns = ns, .cause = {ns->node_id, start_id}, .handler = put->handler};
  spot_event_t ev = {.log = put->log, .seq = put->seq, .data = buf, .size = info.elem_size,
                     .handler = put->handler, .node = ns->node_id, .event_id = start_id, .put_id = put->id};
  int status = fn(&ctx, &ev);
  if (buf != small)
    free(buf);
  spot__event_t end;
  memset(&end, 0, sizeof end);
  end.type = status == 0 ? SPOT__EV_END : SPOT__EV_FAIL;
  end.status = status;
  end.cause_node = ns->node_id;
  end.cause_id = start_id;
  end.ref = put->id;
  end.seq = put->seq;
  end.handler_id = put->handler_id;
  end.time_ns = spot__wall_ns();
  end.duration_ns = end.time_ns > t0 ? end.time_ns - t0 : 0;
  memcpy(end.log, put->log, sizeof end.log);
  memcpy(end.handler, put->handler, sizeof end.handler);
  if (status != 0)
    snprintf(end.reason, sizeof end.reason, "handler returned %d", status);
  rc = spot__ns_event(ns, &end, NULL);
  release(ns, put); /* after the end event: a crash in between reruns the handler (at least once) */
  return rc ? rc : status;
}
