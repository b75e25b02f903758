/*
 * dispatch/dispatch.h: what the dispatch files share, and what the network (src/net) uses of dispatch: the state
 * dispatch keeps with a namespace (its own logs and the registry cache), the process's handler table, the
 * namespace's handler registry, the event log and trigger queue, and running one invocation.
 */
#ifndef SPOT_DISPATCH_H
#define SPOT_DISPATCH_H

#include <stdatomic.h>

#include "core/event.h"
#include "platform/platform.h"
#include "spot/node.h"
#include "store/store.h"

/* ---- what dispatch keeps with a namespace (nsctx.c) ---- */

#define SPOT__EVENTS_HISTORY_DEFAULT 65536u
#define SPOT__REG_RECORD 256u

typedef struct spot__reg_entry {
  uint32_t id;      /* sequence number of the name's first registration */
  char name[64];
  char file[176];   /* object file under .spot/handlers/, "" for a handler built into the node's program */
  uint64_t version; /* sequence number of the latest registration */
} spot__reg_entry_t;

#define SPOT__BIND_RECORD 256u
#define SPOT__BIND_HISTORY 4096u

/* A log's binding as the cache holds it (bindings.c). */
typedef struct spot__bind_entry {
  char log[64];
  char handler[64]; /* "" : unbound */
  uint64_t seq;     /* the record of .spot/bindings.log that says so (its newest for this log) */
} spot__bind_entry_t;

/* Attached to the spot_ns_t (spot__ns_attach) the first time dispatch uses it; dropped by spot_ns_close. */
typedef struct spot__nsctx {
  spot_log_t *events;     /* .spot/events.log, the event log; opened on first use, owned by the ns's log table */
  spot_log_t *triggers;   /* .spot/triggers.log, the trigger queue; likewise */
  spot_log_t *registry;   /* .spot/handlers.log, the handler registry; likewise */
  spot__mutex_t mu;       /* guards the registry cache below */
  uint64_t registry_seen; /* registry records loaded into reg[] */
  spot__reg_entry_t *reg;
  size_t nreg, capreg;
  spot_log_t *_Atomic bindings;   /* .spot/bindings.log (bindings.c); NULL until found (older namespaces lack it) */
  _Atomic uint64_t bind_retry_ns; /* when a put may look for a missing bindings.log again (monotonic) */
  spot__mutex_t bmu;              /* guards the binding cache below and serialises changes from this process */
  _Atomic uint64_t bind_seen;     /* binding records loaded into bind[] */
  _Atomic size_t nbound;          /* entries of bind[] with a handler: 0 keeps puts on the fast path */
  spot__bind_entry_t *bind;
  size_t nbind, capbind;
  void *status;            /* the node's counters (dispatch/status.h) mapped in this process, or NULL */
  spot_file_t *status_file; /* its file, open while mapped */
} spot__nsctx_t;

/* dispatch's state of ns, made on first use. SPOT_ENOMEM. */
int spot__nsctx_get(spot_ns_t *ns, spot__nsctx_t **out);
/* The node's event log, trigger queue and handler registry of ns (owned by ns). SPOT_ENOTFOUND names `spot init`. */
int spot__nsctx_events(spot_ns_t *ns, spot_log_t **out);
int spot__nsctx_triggers(spot_ns_t *ns, spot_log_t **out);
int spot__nsctx_registry(spot_ns_t *ns, spot_log_t **out);
/* spot_ns_init through io (the store's spot__ns_init_io with dispatch's files): tests inject faults with it. */
int spot__nsctx_init_io(const char *dir, spot_io_t *io);

/* The process's handler called name, or NULL. */
spot_handler_fn spot__handler_find(const char *name);
/* Calls fn for every handler registered in this process. */
int spot__handler_each(int (*fn)(const spot_handler_def_t *, void *), void *arg);
/* dlopens a handler object; fn is called for each SPOT_HANDLER it registers. */
int spot__handler_load(const char *path, int (*fn)(const spot_handler_def_t *, void *), void *arg);

/* The registry entry of a handler, by name (SPOT_ENOTFOUND with a detail line if unknown) or by id. */
int spot__registry_lookup(spot_ns_t *ns, const char *name, spot__reg_entry_t *out);
int spot__registry_by_id(spot_ns_t *ns, uint32_t id, spot__reg_entry_t *out);

/* The handler bound to log `log` of ns (bindings.c): 1 and its name in handler, 0 if none, or a negative SPOT_E*
 * code (the bindings log cannot be read). One atomic read when no binding changed and none is bound. */
int spot__bindings_find(spot_ns_t *ns, const char *log, char handler[64]);

/* ---- the event log (events.c) and the trigger queue (life.c) ---- */

/* Appends e to the node's event log (e->node is set to the namespace's node id, e->time_ns to now if 0). *id (may
 * be NULL) gets its event id. */
int spot__events_append(spot_ns_t *ns, spot__event_t *e, uint64_t *id);

/* Queues put event e (e->id set) in the trigger queue, marked with handler id hid until its handler ends. */
int spot__life_trigger(spot_ns_t *ns, const spot__event_t *e, uint32_t hid, uint64_t *slot);

/* Reads the put event queued in trigger slot tseq (e->trigger = tseq, e->id = the put's event id). */
int spot__life_trigger_read(spot_ns_t *ns, uint64_t tseq, spot__event_t *e);

/* Reads event id (SPOT_EEXPIRED, SPOT_ENOTYET as spot_log_read; SPOT_ECORRUPT if it does not decode). */
int spot__events_read(spot_ns_t *ns, uint64_t id, spot__event_t *e);

/* ---- a put's life (life.c) ---- */

/* The context a handler's run gets (its puts record the run as their cause). */
struct spot_ctx {
  spot_ns_t *ns;
  spot_cause_t cause; /* this invocation's start event */
  const char *handler;
  size_t printed;     /* bytes spot_print wrote in this run (at most SPOT__PRINT_LIMIT; then one note) */
  int print_cut;      /* the note was written */
  int captured;       /* worker mode: the run's output is captured and prefixed (spot__runout_t), so spot_print
                         writes its lines bare */
  char detail[sizeof(((spot__event_t *)0)->reason)]; /* spot_fail(ctx, ...)'s line, "" if none */
  char tail[sizeof(((spot__event_t *)0)->reason)];   /* the last line spot_print wrote in this run */
};

/* Worker mode: what becomes of a run's standard output and error. spot__invoke calls flush once the handler has
 * returned and before it writes the end or fail event: flush writes the run's captured output to the node's
 * output, each line prefixed "[HANDLER #START] ", and leaves the last non-empty line in tail (cap bytes, "" if
 * none) for the fail event. */
typedef struct spot__runout {
  void (*flush)(void *arg, const char *prefix, char *tail, size_t cap);
  void *arg;
} spot__runout_t;

/* Bytes of spot_print output one run may write (both modes; worker mode also bounds stdout and stderr). */
#define SPOT__PRINT_LIMIT 65536u

/* A run that another thread may time out (thread mode's watchdog, node.c). state is (run number << 2 | phase):
 * spot__invoke starts a new run number in phase SPOT__RUN_HANDLER (with put, start_id and start_ns written before)
 * while the handler function runs, and moves it to SPOT__RUN_IDLE when the function returns, by compare-and-swap:
 * if spot__watch_expire took that run first (SPOT__RUN_TIMED_OUT), the fail event and the release of the marks were
 * its, and spot__invoke writes nothing more. The run number keeps a watchdog from taking a later run by mistake. */
enum { SPOT__RUN_IDLE = 0, SPOT__RUN_HANDLER = 1, SPOT__RUN_TIMED_OUT = 2 };
typedef struct spot__watch {
  _Atomic uint64_t state;
  _Atomic uint64_t start_ns; /* monotonic, when the handler function was called */
  uint64_t start_id;         /* the run's start event */
  spot__event_t put;         /* the run's put, read by the watchdog only after it took the run */
} spot__watch_t;

/* If w's handler has run longer than limit_ns at now (monotonic, read after w's start), takes the run: writes its
 * fail event ("timed out after timeout_ms ms", status SPOT_ETIMEDOUT) and releases its marks. 1 if it took the run,
 * 0 if not (not running, not overrun, or it ended first). The handler's thread is not stopped. */
int spot__watch_expire(spot_ns_t *ns, spot__watch_t *w, uint64_t now, uint64_t limit_ns, uint32_t timeout_ms);

/* Appends the element of a put to l (log `log` of ns), marked with handler id hid (0: no handler, no mark, no
 * trigger); waits for the log's durability; writes the put event (cause may be NULL) and queues the trigger. *seq
 * (may be NULL) gets the element's number. Errors before the element is stored are returned; after it, only a
 * failed sync is (see put.c). */
int spot__life_put(spot_ns_t *ns, spot_log_t *l, const char *log, const void *data, size_t len, uint32_t hid,
                   const char *handler, const spot_cause_t *cause, uint64_t *seq);

/* Clears the mark of element seq of log `log` (log NULL or seq 0: none) and of trigger slot `trigger` (0: none).
 * The only place that clears marks. */
void spot__life_release(spot_ns_t *ns, const char *log, uint64_t seq, uint64_t trigger);

/* Puts with an explicit cause (spot_put and handlers' spot_ctx_put). */
int spot__put(spot_ns_t *ns, const char *log, const void *data, size_t len, const char *handler,
              const spot_cause_t *cause, uint64_t *seq);

/* Runs the handler of put event `put` (already read) on this thread: writes the start event, calls the handler,
 * writes the end or fail event, then releases the element and the put event. fn NULL: the handler is not loaded in
 * this process (a fail event says so). *start_id (may be NULL) gets the start event's id as soon as it is written.
 * watch (may be NULL) lets a watchdog time the handler out (above): then SPOT_ETIMEDOUT is returned when the
 * handler finally returns, and nothing more is written. out (may be NULL: thread mode) is the worker's output
 * capture (above). A fail event's reason is "ENAME: detail" (spot__event_reason): the detail is the run's
 * spot_fail line, else the detail line of the spot call that failed last on this thread during the run, else the
 * last line of its output (the capture's, or spot_print's). Returns the handler's status. */
int spot__invoke(spot_ns_t *ns, const spot__event_t *put, spot_handler_fn fn, uint64_t *start_id,
                 spot__watch_t *watch, const spot__runout_t *out);

/* Writes a fail event for put event `put` whose handler could not run or did not finish (reason in words, and how
 * long it had run), and releases the element and the trigger. If the event log already has an end or fail event
 * for this put after start_id (a worker that died just after its run ended), no second one is written: the marks
 * are released and 0 returned. 1 when the fail event was written, or a negative SPOT_E* code. */
int spot__invoke_failed(spot_ns_t *ns, const spot__event_t *put, uint64_t start_id, int status, const char *reason,
                        uint64_t duration_ns);

/* ---- the node (node.c, workers.c) ---- */

/* Loads the objects of registry entries not loaded yet into this process (dlopen). */
int spot__node_load_handlers(spot_ns_t *ns, uint64_t *loaded_upto);

/* The handler to run for put event e in this process, loading new objects if the registry changed. */
spot_handler_fn spot__node_handler(spot_ns_t *ns, const spot__event_t *e, uint64_t *loaded_upto);

/* Finds what an earlier run left pending (puts whose handlers never ended) and returns their trigger slots, oldest
 * first, in *ids (malloc'ed, the caller frees). Triggers newer than *scanned_upto are for the caller to follow. */
int spot__node_pending(spot_ns_t *ns, uint64_t **ids, size_t *n, uint64_t *scanned_upto);

/* Gives marked elements that no trigger names, before and after grace_ns, their put event and trigger (run while
 * the node already dispatches; returns early when *stop is set). */
int spot__node_orphans(spot_ns_t *ns, atomic_int *stop, uint64_t grace_ns);

/* Worker mode: start the workers and the dispatcher thread; stop them. */
typedef struct spot__workers spot__workers_t;
int spot__workers_start(spot_node_t *node, spot__workers_t **out);
void spot__workers_stop(spot__workers_t *w);
/* Adds the runs w's workers ended (returned 0) and failed (returned non-zero) to *ended and *failed; a run whose
 * worker died is counted by the node itself. */
void spot__workers_counts(spot__workers_t *w, uint64_t *ended, uint64_t *failed);
/* Whether a run that started at start_ns (monotonic) has overrun limit_ns at now. A worker may take a new trigger
 * after now was read, so start_ns can be later than now: that run has not overrun anything (no unsigned wrap). */
int spot__workers_overran(uint64_t now, uint64_t start_ns, uint64_t limit_ns);

#endif
