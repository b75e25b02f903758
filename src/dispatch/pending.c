/*
 * pending.c: what a node must run when it starts: every put whose handler never ended.
 *
 * A trigger stays marked (store/store.h) until its handler's end or fail event is written and the mark cleared;
 * the ring keeps marked triggers. So the marked triggers are exactly the handlers that were never started, or were
 * running when a node died, plus those whose end was written just before a crash cleared the mark: the scan drops
 * those (an end or fail event in the event log refers to their put) and clears their marks, so a handler that
 * ended is never run again. Elements claimed by a run of the earlier node are unclaimed (nothing runs now).
 *
 * Orphans, marked elements that no trigger names, are puts cut short between their two appends. A live putter may
 * be between them right now (even for seconds, held by backpressure), so they are handled after the node runs,
 * from a background thread: an element marked and unnamed both before and after a grace period gets its put event
 * and trigger then. Should the putter still append its own trigger later, the handler runs once all the same: a
 * run first claims the element's mark (spot__log_claim), and the second trigger finds it claimed or released.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"
#include "dispatch/dispatch.h"
#include "store/store.h"


typedef struct idset {
  uint64_t *v;
  size_t n, cap;
} idset_t;

static int push(idset_t *s, uint64_t id) {
  int rc = spot__grow(&s->v, &s->cap, s->n, sizeof *s->v, 64);
  if (rc != 0)
    return rc;
  s->v[s->n++] = id;
  return 0;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static int has(const idset_t *s, uint64_t id) { return s->n && bsearch(&id, s->v, s->n, sizeof id, cmp_u64) != NULL; }

/* (log, seq) pairs, sorted, to ask "does a trigger name this element?" in O(log n). */
typedef struct elem_key {
  char log[64];
  uint64_t seq;
} elem_key_t;

typedef struct keyset {
  elem_key_t *v;
  size_t n, cap;
} keyset_t;

static int key_cmp(const void *a, const void *b) {
  const elem_key_t *x = a, *y = b;
  int c = strcmp(x->log, y->log);
  return c ? c : (x->seq < y->seq ? -1 : x->seq > y->seq);
}

static int key_push(keyset_t *k, const char *log, uint64_t seq) {
  int rc = spot__grow(&k->v, &k->cap, k->n, sizeof *k->v, 256);
  if (rc != 0)
    return rc;
  memset(&k->v[k->n], 0, sizeof k->v[k->n]);
  snprintf(k->v[k->n].log, sizeof k->v[k->n].log, "%s", log);
  k->v[k->n++].seq = seq;
  return 0;
}

static int key_has(const keyset_t *k, const char *log, uint64_t seq) {
  elem_key_t probe;
  memset(&probe, 0, sizeof probe);
  snprintf(probe.log, sizeof probe.log, "%s", log);
  probe.seq = seq;
  return k->n && bsearch(&probe, k->v, k->n, sizeof probe, key_cmp) != NULL;
}

/* Adds the elements named by the triggers in slots [from, to] to k, and sorts it. */
static int key_add_triggers(spot_ns_t *ns, keyset_t *k, uint64_t from, uint64_t to) {
  int rc = 0;
  for (uint64_t t = from; from && t <= to && rc == 0; t++) {
    spot__event_t e;
    if (spot__life_trigger_read(ns, t, &e) == 0)
      rc = key_push(k, e.log, e.seq);
  }
  if (rc == 0 && k->n)
    qsort(k->v, k->n, sizeof *k->v, key_cmp);
  return rc;
}

typedef struct orphan_ctx {
  spot_ns_t *ns;
  const keyset_t *queued; /* elements some trigger names (NULL: only unclaim) */
  keyset_t orphans;       /* marked elements no trigger names */
} orphan_ctx_t;

static int scan_log(const char *name, void *arg) {
  orphan_ctx_t *c = arg;
  spot_log_t *l;
  if (spot__ns_log(c->ns, name, &l) != 0)
    return 0; /* a damaged log is reported when used; it does not stop the node */
  uint64_t lo, hi;
  spot_log_earliest(l, &lo);
  spot_log_latest(l, &hi);
  for (uint64_t s = lo; lo && s <= hi; s++) {
    uint32_t mark = spot__log_pending(l, s);
    if (mark == 0)
      continue;
    if (c->queued == NULL) {
      if (mark & SPOT__MARK_RUNNING)
        spot__log_unclaim(l, s);
    } else if (!key_has(c->queued, name, s)) {
      int rc = key_push(&c->orphans, name, s);
      if (rc != 0)
        return rc;
    }
  }
  return 0;
}

/* The marked elements that no trigger in the queue's current window names. */
static int find_orphans(spot_ns_t *ns, keyset_t *out) {
  spot_log_t *triggers;
  int rc = spot__nsctx_triggers(ns, &triggers);
  if (rc != 0)
    return rc;
  uint64_t tlo, thi;
  spot_log_earliest(triggers, &tlo);
  spot_log_latest(triggers, &thi);
  keyset_t queued = {0};
  rc = key_add_triggers(ns, &queued, tlo, thi);
  orphan_ctx_t oc = {.ns = ns, .queued = &queued};
  if (rc == 0)
    rc = spot_ns_list(ns, scan_log, &oc);
  free(queued.v);
  if (rc == 0 && oc.orphans.n)
    qsort(oc.orphans.v, oc.orphans.n, sizeof *oc.orphans.v, key_cmp);
  if (rc != 0)
    free(oc.orphans.v);
  else
    *out = oc.orphans;
  return rc;
}

int spot__node_orphans(spot_ns_t *ns, atomic_int *stop, uint64_t grace_ns) {
  keyset_t before = {0}, after = {0};
  int rc = find_orphans(ns, &before);
  for (uint64_t slept = 0; rc == 0 && before.n && slept < grace_ns && !atomic_load(stop); slept += 10000000)
    spot__sleep_ns(10000000);
  if (rc == 0 && before.n && !atomic_load(stop))
    rc = find_orphans(ns, &after);
  for (size_t i = 0; rc == 0 && i < after.n; i++) {
    const char *log = after.v[i].log;
    uint64_t seq = after.v[i].seq;
    spot_log_t *l;
    if (!key_has(&before, log, seq) || spot__ns_log(ns, log, &l) != 0)
      continue; /* marked only recently: its putter is on its way */
    uint32_t hid = spot__log_pending(l, seq) & ~SPOT__MARK_RUNNING;
    spot__reg_entry_t h;
    if (hid == 0)
      continue;
    if (spot__registry_by_id(ns, hid, &h) != 0) {
      spot__life_release(ns, log, seq, 0); /* a handler id the registry does not know: nothing can run it */
      continue;
    }
    spot__event_t put;
    spot__event_put_init(&put, log, seq, hid, h.name, 0, 0);
    snprintf(put.reason, sizeof put.reason, "put recovered by the node");
    rc = spot__events_append(ns, &put, &put.id);
    if (rc == 0)
      rc = spot__life_trigger(ns, &put, hid, NULL);
  }
  free(before.v);
  free(after.v);
  return rc;
}

int spot__node_pending(spot_ns_t *ns, uint64_t **ids, size_t *n, uint64_t *scanned_upto) {
  spot_log_t *events, *triggers;
  int rc = spot__nsctx_events(ns, &events);
  if (rc == 0)
    rc = spot__nsctx_triggers(ns, &triggers);
  if (rc != 0)
    return rc;
  uint64_t tlo, thi, lo, hi;
  spot_log_earliest(triggers, &tlo);
  spot_log_latest(triggers, &thi);
  idset_t marked = {0}, ended = {0}, run = {0};
  for (uint64_t t = tlo; tlo && t <= thi && rc == 0; t++)
    if (spot__log_pending(triggers, t))
      rc = push(&marked, t);
  spot_log_earliest(events, &lo);
  spot_log_latest(events, &hi);
  for (uint64_t id = lo; lo && id <= hi && rc == 0 && marked.n; id++) {
    spot__event_t e;
    if (spot__events_read(ns, id, &e) == 0 && (e.type == SPOT__EV_END || e.type == SPOT__EV_FAIL))
      rc = push(&ended, e.ref);
  }
  if (rc == 0 && ended.n)
    qsort(ended.v, ended.n, sizeof *ended.v, cmp_u64);
  for (size_t i = 0; rc == 0 && i < marked.n; i++) {
    spot__event_t e;
    if (spot__life_trigger_read(ns, marked.v[i], &e) != 0)
      continue;
    if (!has(&ended, e.id)) {
      rc = push(&run, marked.v[i]);
      continue;
    }
    /* it ended, but the node died before clearing the marks */
    spot__life_release(ns, e.log, e.seq, marked.v[i]);
  }

  /* nothing of an earlier run is running now */
  orphan_ctx_t unclaim = {.ns = ns, .queued = NULL};
  if (rc == 0)
    rc = spot_ns_list(ns, scan_log, &unclaim);
  free(marked.v);
  free(ended.v);
  if (rc != 0) {
    free(run.v);
    return rc;
  }
  *ids = run.v;
  *n = run.n;
  *scanned_upto = thi;
  return 0;
}
