/*
 * dispatch/node_impl.h: the insides of a spot_node_t, shared by node.c (thread mode) and workers.c (worker mode).
 */
#ifndef SPOT_DISPATCH_NODE_IMPL_H
#define SPOT_DISPATCH_NODE_IMPL_H

#include <stdatomic.h>

#include "dispatch/dispatch.h"

#define SPOT__MAX_WORKERS 64

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
  spot__thread_t threads[SPOT__MAX_WORKERS];
  unsigned nthreads;
  spot__workers_t *workers;    /* worker mode */
  spot__thread_t janitor;      /* recovers orphaned puts after the start (pending.c) */
  int janitor_started;
  spot_file_t *lock;           /* DIR/.spot/node.lock, held while the node runs: one node per namespace */
  _Atomic uint64_t started, ended, failed, rerun_total, worker_restarts;
};

#endif
