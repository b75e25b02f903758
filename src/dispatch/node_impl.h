/*
 * dispatch/node_impl.h: the insides of a spot_node_t, shared by node.c (thread mode) and workers.c (worker mode).
 */
#ifndef SPOT_DISPATCH_NODE_IMPL_H
#define SPOT_DISPATCH_NODE_IMPL_H

#include <stdatomic.h>

#include "dispatch/dispatch.h"

#define SPOT__MAX_WORKERS 64
#define SPOT__MAX_THREADS (2 * SPOT__MAX_WORKERS) /* thread mode: live threads and abandoned ones */

/* A thread of thread mode: FREE -> LIVE (started) -> EXITED (returned, to be joined) -> FREE; or LIVE -> ABANDONED
 * when the watchdog failed its run for overrunning the time limit (the thread cannot be stopped: it ends, EXITED,
 * when its handler returns). Phases move under the node's slots_mu, except the thread's own store of EXITED. */
enum { SPOT__SLOT_FREE = 0, SPOT__SLOT_LIVE, SPOT__SLOT_ABANDONED, SPOT__SLOT_EXITED };
typedef struct spot__slot {
  spot__thread_t thread;
  atomic_int phase;
  spot__watch_t watch; /* its current run, for the watchdog */
  struct spot_node *node;
} spot__slot_t;

struct spot_node {
  spot_ns_t *ns;
  spot_node_opts_t opts;
  spot_log_t *triggers;        /* the trigger queue, owned by ns */
  uint64_t loaded_upto;        /* registry records whose objects this process has loaded */
  _Atomic uint64_t cursor;     /* the next trigger slot to claim */
  atomic_int stop;
  uint64_t *rerun;             /* trigger slots left pending by an earlier run */
  size_t nrerun;
  atomic_size_t rerun_next;
  spot__slot_t slots[SPOT__MAX_THREADS]; /* thread mode */
  spot__mutex_t slots_mu;
  spot__thread_t watchdog;     /* thread mode with a time limit: fails overrunning runs (node.c) */
  int watchdog_started;
  atomic_int watchdog_stop;
  atomic_uint refs;            /* 1 for the owner until spot_node_stop, plus 1 per abandoned thread still running:
                                  the last one frees the node and closes its namespace */
  spot__workers_t *workers;    /* worker mode */
  spot__thread_t janitor;      /* recovers orphaned puts after the start (pending.c) */
  int janitor_started;
  spot_file_t *lock;           /* DIR/.spot/node.lock, held while the node runs: one node per namespace */
  _Atomic uint64_t started, ended, failed, rerun_total, worker_restarts;
};

#endif
