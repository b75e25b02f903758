/*
 * life.c: the life of a put that names a handler, in one place: mark, trigger, claim, start, end (or fail),
 * release. Every other dispatch file goes through the functions here; spot__life_release is the only code that
 * clears a mark.
 *
 *   mark     spot__life_put appends the element marked with the handler id (the ring keeps it), waits for the
 *            log's durability, writes the put event and queues a marked trigger (the node follows the queue);
 *   claim    a run checks that the element's mark names its handler (else the trigger is stale) and sets the
 *            mark's running bit (a second trigger for the element is skipped);
 *   start    the start event, then the handler on a private copy of the element;
 *   end      the end or fail event (spot__invoke_failed for a run that could not start or whose worker died,
 *            which writes nothing if the run had ended);
 *   release  the element's mark and the trigger's, after the end event: a crash in between reruns the handler
 *            (at least once), and the restart scan (pending.c) finds the end event and only releases.
 * What a crash interrupts is finished by pending.c: marked triggers are rerun, marked elements without a
 * trigger (orphans) get one.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "dispatch/dispatch.h"
#include "dispatch/cpumeter.h"
#include "dispatch/status.h"
#include "store/store.h"

/* ---- the trigger queue (the put events of the puts whose handlers have not ended) ---- */

static int read_record(spot_ns_t *ns, spot_log_t *log, const char *what, uint64_t seq, spot__event_t *e) {
  uint8_t rec[SPOT__EVENT_BYTES];
  uint32_t bytes = spot__log_elem_size(log);
  int rc = bytes <= sizeof rec ? spot_log_read(log, seq, rec, bytes) : SPOT_ECORRUPT;
  if (rc == 0 && (rc = spot__event_decode(rec, bytes, e)) != 0)
    rc = spot__fail(rc, "%s %llu of %s does not decode", what, (unsigned long long)seq, spot_ns_dir(ns));
  return rc;
}

int spot__life_trigger(spot_ns_t *ns, const spot__event_t *e, uint32_t hid, uint64_t *slot) {
  spot_log_t *triggers;
  int rc = spot__nsctx_triggers(ns, &triggers);
  if (rc != 0)
    return rc;
  uint8_t rec[SPOT__EVENT_BYTES];
  uint32_t bytes = spot__log_elem_size(triggers); /* SPOT__EVENT_V1_BYTES: a put needs no version-2 field */
  if ((rc = spot__event_encode_as(e, rec, bytes)) != 0)
    return spot__fail(SPOT_ECORRUPT, "the trigger queue of %s has %u-byte elements, not event records",
                      spot_ns_dir(ns), (unsigned)bytes);
  return spot__log_append_pending(triggers, rec, bytes, hid, slot);
}

int spot__life_trigger_read(spot_ns_t *ns, uint64_t tseq, spot__event_t *e) {
  spot_log_t *triggers;
  int rc = spot__nsctx_triggers(ns, &triggers);
  if (rc == 0 && (rc = read_record(ns, triggers, "trigger", tseq, e)) == 0)
    e->trigger = tseq;
  return rc;
}

/* ---- marks ---- */

void spot__life_release(spot_ns_t *ns, const char *log, uint64_t seq, uint64_t trigger) {
  spot_log_t *l, *triggers;
  if (log != NULL && seq != 0 && spot__ns_log(ns, log, &l) == 0)
    spot__log_release(l, seq);
  if (trigger != 0 && spot__nsctx_triggers(ns, &triggers) == 0)
    spot__log_release(triggers, trigger);
}

/* ---- mark and trigger ---- */

int spot__life_put(spot_ns_t *ns, spot_log_t *l, const char *log, const void *data, size_t len, uint32_t hid,
                   const char *handler, const spot_cause_t *cause, uint64_t *seq) {
  int rc;
  uint64_t t0 = spot__wall_ns(); /* the put's start: put-to-handler latency is measured from here */
  uint64_t s;
  if ((rc = spot__log_append_pending(l, data, len, hid, &s)) != 0)
    return rc;
  spot_log_info_t info;
  spot_log_info(l, &info);
  if (info.sync != SPOT_SYNC_NONE && (rc = spot_log_wait_durable(l, s)) != 0) {
    spot__life_release(ns, log, s, 0);
    return rc;
  }
  spot__event_t e;
  spot__event_put_init(&e, log, s, hid, handler, cause ? cause->node : 0, cause ? cause->event : 0);
  e.time_ns = t0;
  if ((rc = spot__events_append(ns, &e, &e.id)) == 0 && hid != 0)
    rc = spot__life_trigger(ns, &e, hid, NULL);
  if (rc != 0)
    spot__clear_detail(); /* the put happened: its marked element is recovered by the node (put.c) */
  if (seq)
    *seq = s;
  return 0;
}

/* ---- claim, start, end, release ---- */

#define ENDED_SCAN_MAX (1u << 20) /* events looked at for an end of a run whose worker died */

/* 1 if the event log has an end or fail event for put event `put` after event `from`. */
static int has_ended(spot_ns_t *ns, const spot__event_t *put, uint64_t from) {
  spot_log_t *events;
  uint64_t lo, hi;
  if (spot__nsctx_events(ns, &events) != 0 || spot_log_earliest(events, &lo) != 0 || spot_log_latest(events, &hi) != 0)
    return 0;
  if (from < lo)
    from = lo;
  if (hi > from + ENDED_SCAN_MAX)
    from = hi - ENDED_SCAN_MAX;
  for (uint64_t id = from; lo && id <= hi; id++) {
    spot__event_t e;
    if (spot__events_read(ns, id, &e) == 0 && (e.type == SPOT__EV_END || e.type == SPOT__EV_FAIL) &&
        e.ref == put->id && e.seq == put->seq && strcmp(e.log, put->log) == 0)
      return 1;
  }
  return 0;
}

int spot__invoke_failed(spot_ns_t *ns, const spot__event_t *put, uint64_t start_id, int status, const char *reason,
                        uint64_t duration_ns) {
  if (put->id && has_ended(ns, put, (start_id ? start_id : put->id) + 1)) {
    /* it ended just before its worker died: finish what the run could not */
    spot__life_release(ns, put->log, put->seq, put->trigger);
    return 0;
  }
  spot__event_t f;
  spot__event_run_init(&f, SPOT__EV_FAIL, put, spot_ns_node_id(ns), start_id ? start_id : put->id);
  f.status = status;
  f.time_ns = spot__wall_ns();
  f.duration_ns = duration_ns;
  snprintf(f.reason, sizeof f.reason, "%s", reason);
  /* its CPU time is unknown here (a run that could not start used next to none; a dead worker's is gone) */
  spot__status_run(spot__status_of(ns), put->handler_id, 1, 0, 0);
  int rc = spot__events_append(ns, &f, NULL);
  spot__life_release(ns, put->log, put->seq, put->trigger);
  return rc ? rc : 1;
}

int spot__watch_expire(spot_ns_t *ns, spot__watch_t *w, uint64_t now, uint64_t limit_ns, uint32_t timeout_ms) {
  uint64_t state = atomic_load(&w->state);
  if ((state & 3u) != SPOT__RUN_HANDLER)
    return 0;
  uint64_t start = atomic_load(&w->start_ns); /* this run's, or a later one's (then the CAS below fails) */
  if (!spot__workers_overran(now, start, limit_ns))
    return 0;
  if (!atomic_compare_exchange_strong(&w->state, &state, (state & ~(uint64_t)3u) | SPOT__RUN_TIMED_OUT))
    return 0; /* it returned just now */
  char reason[48];
  snprintf(reason, sizeof reason, "timed out after %u ms (thread abandoned)", timeout_ms);
  spot__invoke_failed(ns, &w->put, w->start_id, SPOT_ETIMEDOUT, reason, now - start);
  return 1;
}

/* Claims the element of put for this run. 0: run it. Otherwise it ended already or runs elsewhere (a second trigger
 * for the same element, as a node restart may make): this trigger is released and nothing runs. */
static int claim(spot_ns_t *ns, const spot__event_t *put) {
  spot_log_t *l;
  if (spot__ns_log(ns, put->log, &l) != 0)
    return 0; /* the run itself reports the log's error */
  /* a trigger names its element and handler: if the element's mark names another handler, the trigger is stale
   * (a none trigger queue that kept a trigger whose element a power cut took, the number then given again) */
  uint32_t mark = spot__log_pending(l, put->seq) & ~SPOT__MARK_RUNNING;
  int rc = mark != 0 && mark != put->handler_id ? SPOT_ENOTFOUND : spot__log_claim(l, put->seq);
  if (rc != 0)
    spot__life_release(ns, NULL, 0, put->trigger);
  return rc;
}

int spot__invoke(spot_ns_t *ns, const spot__event_t *put, spot_handler_fn fn, uint64_t *start_id_out,
                 spot__watch_t *watch, const spot__runout_t *out) {
  if (claim(ns, put) != 0)
    return 0;
  spot__event_t st;
  spot__event_run_init(&st, SPOT__EV_START, put, put->node, put->id);
  uint64_t start_id = 0;
  int rc = spot__events_append(ns, &st, &start_id);
  if (rc != 0)
    return rc; /* the event log refuses writes: leave the put pending for the next start */
  if (start_id_out)
    __atomic_store_n(start_id_out, start_id, __ATOMIC_RELEASE);
  uint64_t t0 = st.time_ns;
  spot__status_shm_t *stat = spot__status_of(ns);
  spot__status_latency(stat, t0 > put->time_ns ? t0 - put->time_ns : 0);
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
  struct spot_ctx ctx = {.ns = ns, .cause = {spot_ns_node_id(ns), start_id}, .handler = put->handler,
                         .captured = out != NULL};
  spot_event_t ev = {.log = put->log, .seq = put->seq, .data = buf, .size = info.elem_size,
                     .handler = put->handler, .node = spot_ns_node_id(ns), .event_id = start_id, .put_id = put->id};
  uint64_t run = 0;
  if (watch) {
    run = ((atomic_load(&watch->state) >> 2) + 1) << 2;
    watch->put = *put;
    watch->start_id = start_id;
    atomic_store(&watch->start_ns, spot__now_ns());
    atomic_store(&watch->state, run | SPOT__RUN_HANDLER);
  }
  spot__clear_detail(); /* what is left after the run is the detail of a call that failed in it */
  uint64_t mono0 = spot__cpumeter_start(); /* the handler's thread: in worker mode, the worker's only one */
  int status = fn(&ctx, &ev);
  uint64_t cpu = spot__cpumeter_stop(mono0); /* an upper bound of its CPU time (dispatch/cpumeter.h) */
  if (buf != small)
    free(buf);
  char tail[sizeof ctx.tail] = "";
  if (out) {
    char prefix[96];
    snprintf(prefix, sizeof prefix, "[%s #%llu] ", put->handler, (unsigned long long)start_id);
    out->flush(out->arg, prefix, tail, sizeof tail);
  }
  uint64_t running = run | SPOT__RUN_HANDLER;
  if (watch && !atomic_compare_exchange_strong(&watch->state, &running, run | SPOT__RUN_IDLE))
    return SPOT_ETIMEDOUT; /* the watchdog wrote its fail event and released the marks: this run is over */
  spot__event_t end;
  spot__event_run_init(&end, status == 0 ? SPOT__EV_END : SPOT__EV_FAIL, put, spot_ns_node_id(ns), start_id);
  end.status = status;
  end.time_ns = spot__wall_ns();
  end.duration_ns = end.time_ns > t0 ? end.time_ns - t0 : 0;
  end.cpu_ns = cpu;
  end.energy_nj = spot__status_energy(stat, cpu);
  spot__status_run(stat, put->handler_id, status != 0, end.cpu_ns, end.energy_nj);
  if (status != 0) {
    const char *detail = ctx.detail[0] ? ctx.detail : spot_errdetail()[0] ? spot_errdetail() : out ? tail : ctx.tail;
    spot__event_reason(end.reason, sizeof end.reason, status, detail);
  }
  rc = spot__events_append(ns, &end, NULL);
  /* after the end event: a crash in between reruns the handler (at least once) */
  spot__life_release(ns, put->log, put->seq, put->trigger);
  spot__cpumeter_settle_self(); /* a CPU clock reading the meter wants, now that the run is logged */
  return rc ? rc : status;
}
