/*
 * nsctx.c: what dispatch keeps with a namespace, and the namespace as dispatch makes it.
 *
 * The store knows namespaces as directories of logs with a table of open handles; the node's own files are
 * dispatch's: DIR/.spot/events.log (the event log: every put, start, end and fail, never blocking), triggers.log
 * (the trigger queue: the puts whose handlers have not ended, kept by the ring until they do), handlers.log (the
 * handler registry) and handlers/ (handler objects). spot_ns_init asks the store to make them; the first time
 * dispatch uses an open namespace it attaches a spot__nsctx_t to it (store/store.h: spot__ns_attach) with the
 * handles of those logs (owned by the namespace's log table) and the registry's cache; spot_ns_close drops it.
 */
#include <stddef.h>
#include <stdlib.h>

#include "core/error.h"
#include "dispatch/dispatch.h"

/* The node's own files. handlers.log and bindings.log (bindings.c) are durable (`always`): a handler's id is a sequence number of it, and marked
 * elements of durable logs name that id across a power cut, so an id must never be handed out twice. The event log
 * and the trigger queue are `none`: after a power cut, a durable put whose trigger was lost is found by its mark and
 * recovered (pending.c), and a stale trigger whose handler id does not match the mark of the element it names is
 * dropped (life.c). The event log holds version-2 event records (core/event.h); the trigger queue keeps version-1
 * ones (a put has no CPU time or energy), so it stays as small as before. An event log made before version 2 keeps
 * its 256-byte records: it is written in version 1 and read in either. */
static const spot__ns_file_t node_files[] = {
    {"handlers", 0, 0, SPOT_SYNC_NONE},
    {"events.log", SPOT__EVENT_BYTES, SPOT__EVENTS_HISTORY_DEFAULT, SPOT_SYNC_NONE},
    {"triggers.log", SPOT__EVENT_V1_BYTES, SPOT__EVENTS_HISTORY_DEFAULT, SPOT_SYNC_NONE},
    {"handlers.log", SPOT__REG_RECORD, 4096, SPOT_SYNC_ALWAYS},
    {"bindings.log", SPOT__BIND_RECORD, SPOT__BIND_HISTORY, SPOT_SYNC_ALWAYS},
};

int spot__nsctx_init_io(const char *dir, spot_io_t *io) {
  return spot__ns_init_io(dir, io, node_files, sizeof node_files / sizeof node_files[0]);
}

int spot_ns_init(const char *dir) { return spot__nsctx_init_io(dir, spot_io_posix()); }

static int make(spot_ns_t *ns, void **out) {
  spot__nsctx_t *c = calloc(1, sizeof *c);
  if (c == NULL)
    return SPOT_ENOMEM;
  spot__mutex_init(&c->mu);
  spot__mutex_init(&c->bmu);
  *out = c;
  return 0;
}

static void drop(void *arg) {
  spot__nsctx_t *c = arg;
  if (c->status_file)
    spot_io_posix()->close(c->status_file); /* unmaps the counters too */
  spot__mutex_destroy(&c->mu);
  spot__mutex_destroy(&c->bmu);
  free(c->reg);
  free(c->bind);
  free(c);
}

int spot__nsctx_get(spot_ns_t *ns, spot__nsctx_t **out) {
  void *c;
  int rc = spot__ns_attach(ns, make, drop, &c);
  if (rc == 0)
    *out = c;
  return rc;
}

/* The handle of .spot/<rel>, kept in *slot after the first call (the table gives every caller the same handle, so
 * two threads racing here store the same pointer). */
static int own_log(spot_ns_t *ns, size_t field, const char *rel, spot_log_t **out) {
  spot__nsctx_t *c;
  int rc = spot__nsctx_get(ns, &c);
  if (rc != 0)
    return rc;
  spot_log_t **slot = (spot_log_t **)((char *)c + field);
  spot_log_t *l = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
  if (l == NULL) {
    if ((rc = spot__ns_own_log(ns, rel, &l)) != 0)
      return rc;
    spot__log_no_turns(l); /* one record at a time from many threads: turns would only add a hand-over each */
    __atomic_store_n(slot, l, __ATOMIC_RELEASE);
  }
  *out = l;
  return 0;
}

int spot__nsctx_events(spot_ns_t *ns, spot_log_t **out) {
  return own_log(ns, offsetof(spot__nsctx_t, events), "events.log", out);
}

int spot__nsctx_triggers(spot_ns_t *ns, spot_log_t **out) {
  return own_log(ns, offsetof(spot__nsctx_t, triggers), "triggers.log", out);
}

int spot__nsctx_registry(spot_ns_t *ns, spot_log_t **out) {
  return own_log(ns, offsetof(spot__nsctx_t, registry), "handlers.log", out);
}
