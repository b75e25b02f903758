/*
 * bindings.c: handlers bound to logs (an event-source mapping). `spot bind LOG HANDLER` makes every put to LOG that
 * names no handler run HANDLER, whoever puts: a local program, a remote client through the node's server, a
 * handler's spot_ctx_put. The lookup is in the put path (put.c: spot__put), not in the tools.
 *
 * One handler per log: an element carries one handler mark (its slot's mark, under its CRC), and that mark is what
 * makes a run exactly once while the node is up and at least once across crashes (backpressure, orphan recovery).
 * A put that names a handler runs that one instead.
 *
 * Stored in DIR/.spot/bindings.log (`always`, like handlers.log): one 256-byte record per change, holding the log's
 * whole binding after it (a handler name, or "" once unbound); the newest record of a log is its binding. Each
 * change waits for its sync before it returns, and a reader waits for the sync of what it read before a put uses it,
 * so a binding a put ran by is never lost to a power cut. The log is a ring, so records that are still current must
 * never be overwritten: before each append, a record still current among the next BIND_AHEAD to be overwritten is
 * appended again (that copy overwrites the oldest slot, which is stale), so the slot an append overwrites never
 * holds a current record, and a copy cut by a power cut loses only a stale slot. At most SPOT_BIND_MAX logs may be
 * bound, a quarter of the ring. Changes of one namespace in one process are serialised by the nsctx's bind lock;
 * changes from different processes at once are not (the last record wins, and the BIND_AHEAD margin keeps up to that
 * many concurrent appends from overwriting a current record).
 *
 * Readers keep a cache (nsctx) refreshed when the log's newest number moves: one atomic read per put when nothing
 * changed. A namespace made before bindings existed has no bindings.log until its first bind (or `spot init`): puts
 * there look for it again at most once a second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"
#include "core/name.h"
#include "dispatch/dispatch.h"

#define BIND_MAGIC 0x31444e42u /* "BND1" */
#define BIND_AHEAD 8u          /* slots ahead of the next overwrite kept free of current records */
#define BIND_RETRY_NS 1000000000ull

typedef struct record {
  uint32_t magic;
  uint32_t reserved;
  char log[64];
  char handler[64]; /* "" : unbound */
} record_t;

/* Loads records newer than c->bind_seen. Caller holds c->bmu. */
static int refresh(spot__nsctx_t *c, spot_log_t *l) {
  uint64_t hi, lo;
  spot_log_latest(l, &hi);
  if (hi == atomic_load(&c->bind_seen))
    return 0;
  spot_log_earliest(l, &lo);
  uint8_t buf[SPOT__BIND_RECORD];
  for (uint64_t s = atomic_load(&c->bind_seen) + 1; s <= hi; s++) {
    if (s < lo)
      continue;
    int rc = spot_log_read(l, s, buf, sizeof buf);
    if (rc == SPOT_EEXPIRED)
      continue; /* a tombstone: a change cut by a power cut before it was acknowledged */
    if (rc != 0)
      return rc;
    record_t r;
    memcpy(&r, buf, sizeof r);
    r.log[63] = r.handler[63] = '\0';
    if (r.magic != BIND_MAGIC || spot__name_check(r.log, "log") != 0)
      continue;
    size_t i;
    for (i = 0; i < c->nbind && strcmp(c->bind[i].log, r.log) != 0; i++) {
    }
    if (i == c->nbind) {
      if ((rc = spot__grow(&c->bind, &c->capbind, c->nbind, sizeof *c->bind, 16)) != 0)
        return rc;
      memset(&c->bind[i], 0, sizeof c->bind[i]);
      memcpy(c->bind[i].log, r.log, sizeof r.log);
      c->nbind++;
    }
    memcpy(c->bind[i].handler, r.handler, sizeof r.handler);
    c->bind[i].seq = s;
  }
  /* durable before a put runs a handler by it (another process may still be waiting for this sync) */
  int rc = spot_log_wait_durable(l, hi);
  if (rc != 0)
    return rc;
  size_t bound = 0;
  for (size_t i = 0; i < c->nbind; i++)
    bound += c->bind[i].handler[0] != '\0';
  atomic_store(&c->nbound, bound);
  atomic_store(&c->bind_seen, hi);
  return 0;
}

/* The bindings log of ns, or 0 with *out NULL when the namespace has none yet (made before bindings existed). */
static int bind_log(spot_ns_t *ns, spot__nsctx_t *c, int create, spot_log_t **out) {
  spot_log_t *l = atomic_load(&c->bindings);
  if (l != NULL) {
    *out = l;
    return 0;
  }
  if (!create && spot__now_ns() < atomic_load(&c->bind_retry_ns)) {
    *out = NULL;
    return 0;
  }
  int rc = spot__ns_own_log(ns, "bindings.log", &l);
  if (rc == SPOT_ENOTFOUND && create && (rc = spot__nsctx_init_io(spot_ns_dir(ns), spot__ns_io(ns))) == 0)
    rc = spot__ns_own_log(ns, "bindings.log", &l); /* init adds only what is missing */
  if (rc == SPOT_ENOTFOUND && !create) {
    spot__clear_detail();
    atomic_store(&c->bind_retry_ns, spot__now_ns() + BIND_RETRY_NS);
    *out = NULL;
    return 0;
  }
  if (rc != 0)
    return rc;
  atomic_store(&c->bindings, l);
  *out = l;
  return 0;
}

int spot__bindings_find(spot_ns_t *ns, const char *log, char handler[64]) {
  spot__nsctx_t *c;
  spot_log_t *l;
  int rc = spot__nsctx_get(ns, &c);
  if (rc == 0)
    rc = bind_log(ns, c, 0, &l);
  if (rc != 0 || l == NULL)
    return rc;
  uint64_t hi;
  spot_log_latest(l, &hi);
  if (hi == atomic_load(&c->bind_seen) && atomic_load(&c->nbound) == 0)
    return 0; /* the hot path: nothing bound, nothing changed */
  spot__mutex_lock(&c->bmu);
  rc = refresh(c, l);
  int found = 0;
  for (size_t i = 0; rc == 0 && i < c->nbind; i++)
    if (strcmp(c->bind[i].log, log) == 0) {
      if (c->bind[i].handler[0]) {
        memcpy(handler, c->bind[i].handler, 64);
        found = 1;
      }
      break;
    }
  spot__mutex_unlock(&c->bmu);
  return rc ? rc : found;
}

/* Whether record s is the current binding of a bound log. Caller holds c->bmu, cache refreshed. */
static const spot__bind_entry_t *current(const spot__nsctx_t *c, uint64_t s) {
  for (size_t i = 0; i < c->nbind; i++)
    if (c->bind[i].seq == s && c->bind[i].handler[0])
      return &c->bind[i];
  return NULL;
}

static int append(spot_log_t *l, const char *log, const char *handler) {
  record_t r;
  memset(&r, 0, sizeof r);
  r.magic = BIND_MAGIC;
  snprintf(r.log, sizeof r.log, "%s", log);
  snprintf(r.handler, sizeof r.handler, "%s", handler);
  uint8_t buf[SPOT__BIND_RECORD] = {0};
  memcpy(buf, &r, sizeof r);
  uint64_t seq;
  int rc = spot_log_append(l, buf, sizeof buf, &seq);
  if (rc == 0)
    rc = spot_log_wait_durable(l, seq); /* durable before the change is acknowledged, whatever the setting */
  return rc;
}

/* Copies forward every current record among the next BIND_AHEAD slots the ring will overwrite (see the top).
 * Caller holds c->bmu. */
static int make_room(spot__nsctx_t *c, spot_log_t *l) {
  spot_log_info_t info;
  spot_log_info(l, &info);
  for (;;) {
    int rc = refresh(c, l);
    if (rc != 0)
      return rc;
    uint64_t hi = atomic_load(&c->bind_seen);
    if (hi + BIND_AHEAD <= info.history)
      return 0; /* the next BIND_AHEAD appends overwrite nothing: the ring has not come round yet */
    /* the records the next BIND_AHEAD appends overwrite: from the one the next append overwrites (if the ring is
     * full already) to hi + BIND_AHEAD - history */
    uint64_t first = hi + 1 > info.history ? hi + 1 - info.history : 1, last = hi + BIND_AHEAD - info.history;
    const spot__bind_entry_t *e = NULL;
    for (uint64_t s = first; e == NULL && s <= last; s++)
      e = current(c, s);
    if (e == NULL)
      return 0;
    char log[64], handler[64];
    memcpy(log, e->log, sizeof log);
    memcpy(handler, e->handler, sizeof handler);
    if ((rc = append(l, log, handler)) != 0)
      return rc;
  }
}

/* The one way a binding changes: check(entry or NULL) decides, then the new record. */
static int change(spot_ns_t *ns, const char *log, const char *handler, const char *expect) {
  spot__nsctx_t *c;
  spot_log_t *l;
  int rc = spot__nsctx_get(ns, &c);
  if (rc == 0)
    rc = bind_log(ns, c, 1, &l);
  if (rc != 0)
    return rc;
  spot__mutex_lock(&c->bmu);
  if ((rc = refresh(c, l)) != 0)
    goto fail;
  const spot__bind_entry_t *cur = NULL;
  for (size_t i = 0; i < c->nbind; i++)
    if (strcmp(c->bind[i].log, log) == 0 && c->bind[i].handler[0])
      cur = &c->bind[i];
  if (handler[0]) { /* bind */
    if (cur && strcmp(cur->handler, handler) == 0)
      goto fail; /* bound to it already: nothing to write */
    if (cur) {
      rc = spot__fail(SPOT_EEXIST, "log %s already runs handler %s on every put (one handler per log); "
                      "`spot unbind %s` first, or name the other handler in the put", log, cur->handler, log);
      goto fail;
    }
    if (atomic_load(&c->nbound) >= SPOT_BIND_MAX) {
      rc = spot__fail(SPOT_ERANGE, "%s has %u logs with a bound handler, the most a namespace keeps; unbind one "
                      "first", spot_ns_dir(ns), SPOT_BIND_MAX);
      goto fail;
    }
  } else { /* unbind */
    if (cur == NULL) {
      rc = spot__fail(SPOT_ENOTFOUND, "log %s has no bound handler (see `spot ls`)", log);
      goto fail;
    }
    if (expect && strcmp(cur->handler, expect) != 0) {
      rc = spot__fail(SPOT_ENOTFOUND, "log %s is bound to handler %s, not %s (`spot unbind %s %s`)", log,
                      cur->handler, expect, log, cur->handler);
      goto fail;
    }
  }
  if ((rc = make_room(c, l)) == 0 && (rc = append(l, log, handler)) == 0)
    rc = refresh(c, l);
fail:
  spot__mutex_unlock(&c->bmu);
  return rc;
}

int spot_bind(spot_ns_t *ns, const char *log, const char *handler) {
  int rc = spot__name_check(log, "log");
  if (rc != 0)
    return rc;
  if (handler == NULL || handler[0] == '\0')
    return spot__fail(SPOT_EINVAL, "spot_bind needs a handler name (to unbind: spot_unbind)");
  spot__reg_entry_t h;
  spot_log_t *l;
  if ((rc = spot__registry_lookup(ns, handler, &h)) != 0 || (rc = spot__ns_log(ns, log, &l)) != 0)
    return rc;
  return change(ns, log, handler, NULL);
}

int spot_unbind(spot_ns_t *ns, const char *log, const char *handler) {
  int rc = spot__name_check(log, "log");
  if (rc == 0 && handler != NULL)
    rc = spot__name_check(handler, "handler");
  return rc ? rc : change(ns, log, "", handler);
}

static int by_log(const void *a, const void *b) {
  return strcmp(((const spot__bind_entry_t *)a)->log, ((const spot__bind_entry_t *)b)->log);
}

int spot_bindings(spot_ns_t *ns, spot_binding_fn fn, void *arg) {
  spot__nsctx_t *c;
  spot_log_t *l;
  int rc = spot__nsctx_get(ns, &c);
  if (rc == 0)
    rc = bind_log(ns, c, 0, &l);
  if (rc != 0 || l == NULL)
    return rc;
  spot__mutex_lock(&c->bmu);
  rc = refresh(c, l);
  size_t n = c->nbind;
  spot__bind_entry_t *copy = n ? malloc(n * sizeof *copy) : NULL;
  if (rc == 0 && n && copy == NULL)
    rc = SPOT_ENOMEM;
  if (rc == 0 && n)
    memcpy(copy, c->bind, n * sizeof *copy);
  spot__mutex_unlock(&c->bmu);
  if (rc == 0 && n)
    qsort(copy, n, sizeof *copy, by_log);
  for (size_t i = 0; rc == 0 && i < n; i++)
    if (copy[i].handler[0])
      rc = fn(copy[i].log, copy[i].handler, arg);
  free(copy);
  return rc;
}

/* rm's step under the locks: a removed log keeps no binding (a log created later under its name starts unbound). */
static int unbind_if_bound(spot_ns_t *ns, const char *log) {
  char h[64];
  int rc = spot__bindings_find(ns, log, h);
  if (rc < 0)
    return rc;
  return rc == 1 ? spot_unbind(ns, log, NULL) : 0;
}

int spot_ns_remove_log(spot_ns_t *ns, const char *name) { return spot__ns_remove_log(ns, name, unbind_if_bound); }
