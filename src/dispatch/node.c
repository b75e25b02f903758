/*
 * node.c: the node runtime: start (register built-in handlers, load handler objects, find what an earlier run left
 * pending), thread mode, stop.
 *
 * Thread mode: N threads share one cursor over the trigger queue. A thread claims the next slot with an atomic
 * add, sleeps on the queue's futex until that slot is written, and runs its handler if the trigger is still marked.
 * Each slot is claimed once, so each handler runs once while the node is up. With a time limit, a watchdog thread
 * fails runs that overrun it and replaces their threads (which cannot be stopped: they are abandoned and end when
 * their handlers return). Worker mode (workers.c) replaces the threads with one dispatcher
 * thread and worker processes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "dispatch/dispatch.h"
#include "dispatch/node_impl.h"
#include "dispatch/status.h"
#include "store/store.h"

/* ---- handler objects ---- */

typedef struct load_ctx {
  spot_ns_t *ns;
  int rc;
} load_ctx_t;

/* Loading objects is process-wide (dlopen): one thread at a time, so two never load the same version twice. */
static spot__mutex_t load_mu;
static int load_mu_ready;

static void load_lock(void) {
  int expected = 0;
  if (__atomic_compare_exchange_n(&load_mu_ready, &expected, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    spot__mutex_init(&load_mu);
    __atomic_store_n(&load_mu_ready, 2, __ATOMIC_RELEASE);
  }
  while (__atomic_load_n(&load_mu_ready, __ATOMIC_ACQUIRE) != 2) {
  }
  spot__mutex_lock(&load_mu);
}

static int load_locked(spot_ns_t *ns, uint64_t *loaded_upto);

int spot__node_load_handlers(spot_ns_t *ns, uint64_t *loaded_upto) {
  load_lock();
  int rc = load_locked(ns, loaded_upto);
  spot__mutex_unlock(&load_mu);
  return rc;
}

static int load_locked(spot_ns_t *ns, uint64_t *loaded_upto) {
  spot_log_t *reg;
  int rc = spot__nsctx_registry(ns, &reg);
  if (rc != 0)
    return rc;
  uint64_t hi;
  spot_log_latest(reg, &hi);
  if (hi <= *loaded_upto)
    return 0;
  spot__reg_entry_t *copy = NULL;
  size_t n = 0;
  spot__reg_entry_t probe;
  spot__nsctx_t *c;
  if ((rc = spot__nsctx_get(ns, &c)) != 0)
    return rc;
  (void)spot__registry_by_id(ns, 0, &probe); /* refresh the registry cache */
  spot__mutex_lock(&c->mu);
  n = c->nreg;
  copy = n ? malloc(n * sizeof *copy) : NULL;
  if (copy)
    memcpy(copy, c->reg, n * sizeof *copy);
  spot__mutex_unlock(&c->mu);
  if (n && copy == NULL)
    return SPOT_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    if (copy[i].file[0] == '\0' || copy[i].version <= *loaded_upto)
      continue;
    char rel[256], path[4096];
    snprintf(rel, sizeof rel, "handlers/%s", copy[i].file);
    if (spot__ns_path(ns, rel, path, sizeof path) != 0)
      continue;
    int lrc = spot__handler_load(path, NULL, NULL);
    if (lrc != 0)
      fprintf(stderr, "spot: %s\n", spot_errdetail()); /* its puts will fail with "not loaded" */
  }
  free(copy);
  __atomic_store_n(loaded_upto, hi, __ATOMIC_RELEASE);
  return 0;
}

spot_handler_fn spot__node_handler(spot_ns_t *ns, const spot__event_t *e, uint64_t *loaded_upto) {
  spot_log_t *reg;
  uint64_t hi = 0;
  if (spot__nsctx_registry(ns, &reg) == 0)
    spot_log_latest(reg, &hi);
  if (hi > __atomic_load_n(loaded_upto, __ATOMIC_ACQUIRE))
    spot__node_load_handlers(ns, loaded_upto); /* a new handler or version was deployed */
  return spot__handler_find(e->handler);
}

/* ---- thread mode ---- */

/* Runs the handler of trigger tseq on this slot's thread. 1 if the watchdog failed the run for overrunning its time
 * limit (the handler has returned since: the thread is abandoned and must end), else 0. */
static int run_put(spot_node_t *node, spot__slot_t *slot, uint64_t tseq) {
  spot__event_t e;
  if (spot__life_trigger_read(node->ns, tseq, &e) != 0 || e.type != SPOT__EV_PUT)
    return 0;
  spot_handler_fn fn = spot__node_handler(node->ns, &e, &node->loaded_upto);
  atomic_fetch_add(&node->started, 1);
  int rc = spot__invoke(node->ns, &e, fn, NULL, node->opts.timeout_ms ? &slot->watch : NULL, NULL);
  if (rc == SPOT_ETIMEDOUT && (atomic_load(&slot->watch.state) & 3u) == SPOT__RUN_TIMED_OUT)
    return 1; /* counted as failed by the watchdog */
  atomic_fetch_add(rc == 0 ? &node->ended : &node->failed, 1);
  return 0;
}

/* Drops a reference to node; the last one frees it (its namespace handle stays open until then). */
static void node_unref(spot_node_t *node) {
  if (atomic_fetch_sub(&node->refs, 1) != 1)
    return;
  spot_ns_close(node->ns);
  spot__mutex_destroy(&node->slots_mu);
  free(node->rerun);
  free(node);
}

static void *thread_main(void *arg) {
  spot__slot_t *slot = arg;
  spot_node_t *node = slot->node;
  int abandoned = 0;
  for (;;) {
    size_t r = atomic_fetch_add(&node->rerun_next, 1);
    if (r >= node->nrerun || (abandoned = run_put(node, slot, node->rerun[r])))
      break;
  }
  while (!abandoned && !atomic_load(&node->stop)) {
    uint64_t t = atomic_fetch_add(&node->cursor, 1);
    int stopped = 0;
    if (node->opts.poll_us) /* look for it a while before sleeping (spot_node_opts_t.poll_us) */
      spot__log_poll_newer(node->triggers, t - 1, (uint64_t)node->opts.poll_us * 1000u);
    while (spot_log_wait_newer(node->triggers, t - 1, 50000000ull) == SPOT_ETIMEDOUT)
      if ((stopped = atomic_load(&node->stop)) != 0)
        break; /* t stays unclaimed: still marked, it runs at the next start */
    if (stopped)
      break;
    spot__status_taken(spot__status_of(node->ns), t);
    if (spot__log_pending(node->triggers, t) != 0)
      abandoned = run_put(node, slot, t);
  }
  if (abandoned && !node->opts.quiet)
    fprintf(stderr, "spot: handler %s on %s #%llu returned after its time limit; its result is ignored and its "
            "thread ends\n", slot->watch.put.handler, slot->watch.put.log, (unsigned long long)slot->watch.put.seq);
  atomic_store(&slot->phase, SPOT__SLOT_EXITED); /* the last touch of the slot */
  if (abandoned)
    node_unref(node);
  return NULL;
}

/* Starts a thread in a free slot. Caller holds slots_mu. 0, SPOT_EBUSY when every slot is taken, SPOT_ENOMEM. */
static int start_thread(spot_node_t *node) {
  for (unsigned i = 0; i < SPOT__MAX_THREADS; i++) {
    spot__slot_t *slot = &node->slots[i];
    if (atomic_load(&slot->phase) != SPOT__SLOT_FREE)
      continue;
    slot->node = node;
    atomic_store(&slot->watch.state, (atomic_load(&slot->watch.state) >> 2) << 2); /* idle, same run number */
    atomic_store(&slot->phase, SPOT__SLOT_LIVE);
    int rc = spot__thread_start(&slot->thread, thread_main, slot);
    if (rc != 0)
      atomic_store(&slot->phase, SPOT__SLOT_FREE);
    return rc;
  }
  return SPOT_EBUSY;
}

/* Joins the threads that have ended and counts those in phase `phase`. Caller holds slots_mu. */
static unsigned reap_threads(spot_node_t *node, int phase) {
  unsigned n = 0;
  for (unsigned i = 0; i < SPOT__MAX_THREADS; i++) {
    spot__slot_t *slot = &node->slots[i];
    int p = atomic_load(&slot->phase);
    if (p == SPOT__SLOT_EXITED) {
      spot__thread_join(&slot->thread);
      atomic_store(&slot->phase, SPOT__SLOT_FREE);
    } else if (p == phase) {
      n++;
    }
  }
  return n;
}

/* Thread mode with a time limit: a run whose handler overruns it gets its fail event and its marks released
 * (spot__watch_expire); its thread cannot be stopped safely, so it is abandoned (it ends when the handler returns;
 * what the handler does meanwhile, its puts, still happens) and a new thread takes its place. */
static void *watchdog_main(void *arg) {
  spot_node_t *node = arg;
  uint64_t limit = (uint64_t)node->opts.timeout_ms * 1000000u;
  while (!atomic_load(&node->watchdog_stop)) {
    for (unsigned i = 0; i < SPOT__MAX_THREADS; i++) {
      spot__slot_t *slot = &node->slots[i];
      if (atomic_load(&slot->phase) != SPOT__SLOT_LIVE)
        continue;
      atomic_fetch_add(&node->refs, 1); /* the thread's, should it be abandoned (it may end at once) */
      if (!spot__watch_expire(node->ns, &slot->watch, spot__now_ns(), limit, node->opts.timeout_ms)) {
        atomic_fetch_sub(&node->refs, 1); /* never the last: the owner holds one while this thread runs */
        continue;
      }
      atomic_fetch_add(&node->failed, 1);
      int live = SPOT__SLOT_LIVE;
      atomic_compare_exchange_strong(&slot->phase, &live, SPOT__SLOT_ABANDONED);
      spot__mutex_lock(&node->slots_mu);
      int rc = atomic_load(&node->stop) ? 0 : start_thread(node);
      spot__mutex_unlock(&node->slots_mu);
      if (!node->opts.quiet)
        fprintf(stderr, "spot: handler %s on %s #%llu timed out after %u ms; a thread cannot be stopped, so it is "
                "left to finish (its result will be ignored)%s\n", slot->watch.put.handler, slot->watch.put.log,
                (unsigned long long)slot->watch.put.seq, node->opts.timeout_ms,
                rc == 0 ? " and a new thread takes its place" : "; no thread could replace it");
    }
    spot__mutex_lock(&node->slots_mu);
    reap_threads(node, SPOT__SLOT_FREE);
    spot__mutex_unlock(&node->slots_mu);
    spot__sleep_ns(limit < 40000000u ? limit / 4 + 1 : 10000000u);
  }
  return NULL;
}

/* Stops thread mode: live threads finish their runs (the watchdog fails those that overrun), abandoned ones get one
 * more time limit to return; those still running then are detached, each keeping the node (and its namespace
 * handle) alive until its handler returns. */
static void stop_threads(spot_node_t *node) {
  for (;;) {
    spot__mutex_lock(&node->slots_mu);
    unsigned live = reap_threads(node, SPOT__SLOT_LIVE);
    spot__mutex_unlock(&node->slots_mu);
    if (live == 0)
      break;
    spot__sleep_ns(1000000);
  }
  uint64_t until = spot__now_ns() + (uint64_t)node->opts.timeout_ms * 1000000u;
  unsigned left = 0;
  for (;;) {
    spot__mutex_lock(&node->slots_mu);
    left = reap_threads(node, SPOT__SLOT_ABANDONED);
    spot__mutex_unlock(&node->slots_mu);
    if (left == 0 || spot__now_ns() > until)
      break;
    spot__sleep_ns(1000000);
  }
  if (node->watchdog_started) {
    atomic_store(&node->watchdog_stop, 1);
    spot__thread_join(&node->watchdog);
    node->watchdog_started = 0;
  }
  spot__mutex_lock(&node->slots_mu);
  left = reap_threads(node, SPOT__SLOT_ABANDONED);
  for (unsigned i = 0; i < SPOT__MAX_THREADS; i++)
    if (atomic_load(&node->slots[i].phase) == SPOT__SLOT_ABANDONED)
      spot__thread_detach(&node->slots[i].thread);
  spot__mutex_unlock(&node->slots_mu);
  if (left && !node->opts.quiet)
    fprintf(stderr, "spot: node %016llx stopped; %u handler(s) that overran their time limit still run on abandoned "
            "threads (their failures are recorded; the namespace stays open for them until they return)\n",
            (unsigned long long)spot_ns_node_id(node->ns), left);
}

/* ---- start and stop ---- */

#define ORPHAN_GRACE_NS 2000000000ull
#define ORPHAN_PERIOD_NS 3000000000ull

/* Recovers puts cut short between their appends, at the start and then every few seconds while the node runs: a
 * putter killed halfway (or whose trigger could not be queued) must not block the ring until the next start. */
static void *janitor_main(void *arg) {
  spot_node_t *node = arg;
  while (!atomic_load(&node->stop)) {
    if (spot__node_orphans(node->ns, &node->stop, ORPHAN_GRACE_NS) != 0 && !node->opts.quiet)
      fprintf(stderr, "spot: recovering interrupted puts: %s\n", spot_errdetail());
    for (uint64_t slept = 0; slept < ORPHAN_PERIOD_NS && !atomic_load(&node->stop); slept += 10000000)
      spot__sleep_ns(10000000);
  }
  return NULL;
}

/* Takes DIR/.spot/node.lock (one node per namespace) and writes this process's id in it. */
static int lock_namespace(spot_node_t *node) {
  char path[4096];
  spot_io_t *io = spot_io_posix();
  int rc = spot__ns_path(node->ns, "node.lock", path, sizeof path);
  if (rc == 0)
    rc = io->open(io, path, SPOT_IO_CREATE, &node->lock);
  if (rc != 0)
    return spot__fail(rc, "cannot open %s: %s", path, spot_strerror(rc));
  rc = io->lock(node->lock, SPOT_IO_LOCK_EXCL_TRY);
  if (rc == SPOT_EBUSY) {
    char other[32] = "";
    size_t got = 0;
    if (io->read(node->lock, 0, other, sizeof other - 1, &got) == 0)
      other[got] = '\0';
    other[strcspn(other, "\n")] = '\0';
    io->close(node->lock);
    node->lock = NULL;
    return spot__fail(SPOT_EBUSY, "%s is already served by a node (pid %s); stop it first", spot_ns_dir(node->ns),
                      other[0] ? other : "?");
  }
  if (rc != 0)
    return spot__fail(rc, "cannot lock %s: %s", path, spot_strerror(rc));
  char pid[32];
  int len = snprintf(pid, sizeof pid, "%d\n", spot__getpid());
  size_t put;
  io->allocate(node->lock, 0);
  io->write(node->lock, 0, pid, (size_t)len, &put);
  return 0;
}

static int register_builtin(const spot_handler_def_t *def, void *arg) {
  spot_ns_t *ns = arg;
  spot__reg_entry_t cur;
  if (spot__registry_lookup(ns, def->name, &cur) == 0)
    return 0; /* known already (maybe as an object): keep it */
  return spot_ns_register_handler(ns, def->name, "");
}

int spot_node_start(const char *dir, const spot_node_opts_t *opts, spot_node_t **out) {
  spot_node_t *node = calloc(1, sizeof *node);
  if (node == NULL)
    return SPOT_ENOMEM;
  if (opts)
    node->opts = *opts;
  if (node->opts.workers == 0)
    node->opts.workers = 2;
  if (node->opts.workers > SPOT__MAX_WORKERS)
    node->opts.workers = SPOT__MAX_WORKERS;
  if (node->opts.poll_us > SPOT_NODE_POLL_US_MAX)
    node->opts.poll_us = SPOT_NODE_POLL_US_MAX;
  int rc = spot_ns_open(dir, NULL, &node->ns);
  if (rc != 0) {
    free(node);
    return rc;
  }
  atomic_store(&node->refs, 1);
  spot__mutex_init(&node->slots_mu);
  rc = lock_namespace(node);
  if (rc == 0)
    rc = spot__status_serve(node->ns, (int)node->opts.mode, node->opts.workers,
                            node->opts.watts > 0 ? node->opts.watts : SPOT_NODE_WATTS_DEFAULT);
  if (rc == 0)
    rc = spot__nsctx_triggers(node->ns, &node->triggers);
  if (rc == 0)
    rc = spot__handler_each(register_builtin, node->ns);
  if (rc == 0 && node->opts.mode != SPOT_MODE_WORKER) /* worker mode: objects are loaded by the workers only */
    rc = spot__node_load_handlers(node->ns, &node->loaded_upto);
  uint64_t upto = 0;
  if (rc == 0)
    rc = spot__node_pending(node->ns, &node->rerun, &node->nrerun, &upto);
  if (rc != 0) {
    if (node->lock)
      spot_io_posix()->close(node->lock);
    node_unref(node);
    return rc;
  }
  atomic_store(&node->rerun_total, node->nrerun);
  atomic_store(&node->cursor, upto + 1);
  if (!node->opts.quiet && node->nrerun)
    fprintf(stderr, "spot: node %016llx: %zu handler(s) left pending by an earlier run will run now\n",
            (unsigned long long)spot_ns_node_id(node->ns), node->nrerun);
  if (node->opts.mode == SPOT_MODE_WORKER) {
    rc = spot__workers_start(node, &node->workers);
  } else {
    spot__mutex_lock(&node->slots_mu);
    for (unsigned i = 0; i < node->opts.workers && rc == 0; i++)
      rc = start_thread(node);
    spot__mutex_unlock(&node->slots_mu);
    if (rc == 0 && node->opts.timeout_ms)
      node->watchdog_started = (rc = spot__thread_start(&node->watchdog, watchdog_main, node)) == 0;
  }
  if (rc == 0)
    rc = spot__thread_start(&node->janitor, janitor_main, node);
  node->janitor_started = rc == 0;
  if (rc != 0) {
    spot_node_stop(node);
    return rc;
  }
  *out = node;
  return 0;
}

int spot_node_stop(spot_node_t *node) {
  if (node == NULL)
    return 0;
  atomic_store(&node->stop, 1);
  stop_threads(node);
  if (node->janitor_started)
    spot__thread_join(&node->janitor);
  if (node->workers)
    spot__workers_stop(node->workers);
  spot__status_unserve(node->ns);
  if (node->lock)
    spot_io_posix()->close(node->lock);
  node_unref(node);
  return 0;
}

void spot_node_stats(spot_node_t *node, spot_node_stats_t *out) {
  out->started = atomic_load(&node->started);
  out->ended = atomic_load(&node->ended);
  out->failed = atomic_load(&node->failed);
  if (node->workers) /* worker mode: the workers count their own runs' returns */
    spot__workers_counts(node->workers, &out->ended, &out->failed);
  out->rerun = atomic_load(&node->rerun_total);
  out->worker_restarts = atomic_load(&node->worker_restarts);
}
