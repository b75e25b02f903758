/*
 * spot/node.h: puts that run handlers, the handler registry of a namespace, and the node runtime that runs them.
 *
 * spot_put() appends an element and, if it names a handler, marks it so that handler runs on it exactly once while
 * the node is up (at least once across crashes). Every put through spot_put is recorded in the node's event log
 * with its cause. The node runtime (spot_node_start, or the spotd daemon) watches the event log and runs handlers:
 * on its own threads (SPOT_MODE_THREAD, lowest latency) or, in spotd, in worker processes (a crashing handler
 * takes down only its worker).
 */
#ifndef SPOT_NODE_H
#define SPOT_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "spot/handler.h"
#include "spot/ns.h"

#ifdef __cplusplus
extern "C" {
#endif

/* spot_cause_t, the event that caused a put, is in spot/handler.h (included above). */

/* Appends len bytes (zero-padded) to log `log` of ns and records the put in the node's event log. If handler is not
 * NULL it must be registered in ns (SPOT_ENOTFOUND otherwise, refused before anything is written), and it will run
 * on the new element; if it is NULL, the handler bound to the log (spot_bind) runs, if any. A remote name (spot://host:port/namespace/log) goes to that node instead, with this process's
 * client (keys from $SPOT_KEY, $SPOT_NODE_KEY or known_nodes; see spot/net.h). Returns when the log's durability setting holds. cause may be NULL. SPOT_EBUSY when the log or
 * the event log is full of elements whose handlers have not ended (the node is down or behind). */
int spot_put(spot_ns_t *ns, const char *log, const void *data, size_t len, const char *handler,
             const spot_cause_t *cause, uint64_t *seq);

/* 1 if name is a remote name (spot://host:port/namespace/log, or the alias woof://), else 0. Pure; every build has
 * it. A build without the network (-DSPOT_NET=OFF) refuses remote names in spot_put and the spot_ctx_* calls with
 * SPOT_ENOTSUP. */
int spot_is_remote(const char *name);

typedef struct spot_handler_info {
  uint32_t id;      /* stable id (sequence number of its first registration) */
  uint64_t version; /* sequence number of its latest registration */
  char name[64];
  char file[176];   /* its object under DIR/.spot/handlers/, "" when built into the node's program */
} spot_handler_info_t;

/* Registers (or re-registers with a new object file) handler `name` in ns. file: a plain file name under
 * DIR/.spot/handlers/, or "" for a handler compiled into the program that runs the node. */
int spot_ns_register_handler(spot_ns_t *ns, const char *name, const char *file);

/* Installs a handler object (object: len bytes of a shared object built against spot/handler.h) in ns: writes it
 * synced under a new name made from stem (its file name, e.g. "frost.so") in DIR/.spot/handlers/, loads it in a
 * short-lived child process to learn which SPOT_HANDLERs it defines (an object whose constructors crash, hang or
 * exit is refused and removed: SPOT_EINVAL naming why), and registers each. names gets their names (at most cap),
 * *n how many (written only on success). A running node loads the new version for the puts that follow. */
int spot_ns_install_handlers(spot_ns_t *ns, const char *stem, const void *object, size_t len, char (*names)[64],
                             int cap, int *n);

/* Removes handler `name` from ns's registry (a durable record, as a registration): puts can no longer name it, and
 * a later registration of the name gets a new id. SPOT_ENOTFOUND if it is not registered; SPOT_EBUSY (naming the
 * log and `spot unbind`) while a log is bound to it. Its object file stays in DIR/.spot/handlers/ (other handlers
 * of the same object, and a running node's workers, may use it). Puts made earlier whose handler has not run yet
 * get a fail event ("not registered") when the node reaches them. */
int spot_ns_remove_handler(spot_ns_t *ns, const char *name);

/* Calls fn for every registered handler, in id order; a non-zero return stops and is returned. */
typedef int (*spot_ns_handler_fn)(const spot_handler_info_t *info, void *arg);
int spot_ns_handlers(spot_ns_t *ns, spot_ns_handler_fn fn, void *arg);

/* ---- bindings: a handler that runs on every put to a log (an event-source mapping) ---- */

/* Logs of one namespace that may have a bound handler at once. */
#define SPOT_BIND_MAX 1024u

/* Binds handler to log: from then on every put to log that names no handler runs it (spot_put, the node's server
 * for remote clients, handlers' spot_ctx_put alike); a put that names a handler runs that one instead. One handler
 * per log. Stored durably in the namespace (DIR/.spot/bindings.log, synced before this returns), so it survives a
 * node restart and a power cut. Both must exist: SPOT_ENOTFOUND (with a detail line) for an unknown log or a
 * handler not registered. 0 if log is bound to handler already; SPOT_EEXIST if it is bound to another (unbind
 * first); SPOT_ERANGE beyond SPOT_BIND_MAX bound logs. Local names only. */
int spot_bind(spot_ns_t *ns, const char *log, const char *handler);

/* Removes the binding of log. handler NULL: whichever handler is bound; else it must be the one bound
 * (SPOT_ENOTFOUND naming the bound one otherwise). SPOT_ENOTFOUND if log has no binding. Puts after it run no
 * handler unless they name one; puts already made keep theirs. Synced before it returns. */
int spot_unbind(spot_ns_t *ns, const char *log, const char *handler);

/* Calls fn(log, handler, arg) for every bound log, in log name order; a non-zero return stops and is returned.
 * The strings are valid during the call only. */
typedef int (*spot_binding_fn)(const char *log, const char *handler, void *arg);
int spot_bindings(spot_ns_t *ns, spot_binding_fn fn, void *arg);

/* Removes log `name` of ns: its binding (synced), then its file. Refused with SPOT_EBUSY and a detail line while a
 * node serves the namespace or any process (this one included: a log spot_put or spot_bind used stays open in ns)
 * has the log open; SPOT_ENOTFOUND if there is none. Its elements are gone; a log created later under the name
 * starts empty and unbound, with new sequence numbers from 1. */
int spot_ns_remove_log(spot_ns_t *ns, const char *name);

/* ---- the node runtime ---- */

typedef struct spot_node spot_node_t;

typedef enum spot_mode { SPOT_MODE_THREAD = 0, SPOT_MODE_WORKER = 1 } spot_mode_t;

typedef struct spot_node_opts {
  spot_mode_t mode;    /* SPOT_MODE_WORKER needs worker_exe */
  unsigned workers;    /* threads or worker processes; 0 means 2 */
  uint32_t timeout_ms; /* a handler running longer fails with a fail event "timed out after N ms" (0: no limit).
                          Worker mode kills its worker. Thread mode cannot stop a thread safely: the run is
                          recorded as failed and its element released, its thread is abandoned (the handler keeps
                          running until it returns; its puts still happen, its return value is ignored) and a new
                          thread takes its place; spot_node_stop waits one more time limit for it, then leaves it
                          running with the node's namespace handle open until it returns */
  const char *worker_exe; /* worker mode: the program to start as `worker_exe --worker FD INDEX DIR` (spotd) */
  int quiet;           /* 1: no lines on stderr about the node's life */
  double watts;        /* the power figure of one busy CPU, for the energy of runs (end and fail events, status):
                          energy = CPU time x watts; 0 means SPOT_NODE_WATTS_DEFAULT. Where RAPL is readable
                          (/sys/class/powercap/intel-rapl:0) the node measures the figure instead */
  uint32_t poll_us;    /* 0 (the default): an idle node sleeps until a put wakes it. N: before sleeping, the node's
                          threads (thread mode), its dispatcher and its idle worker processes (worker mode) keep
                          looking for new work for N microseconds, so a put that comes meanwhile starts its handler
                          without a wake-up (on a virtual machine a sleeping CPU takes 10-20 us to wake). Costs up to
                          N us of CPU per idle thread after each burst of work: for servers that want latency, not
                          for devices on batteries. At most 100000 */
} spot_node_opts_t;

#define SPOT_NODE_WATTS_DEFAULT 10.0
#define SPOT_NODE_POLL_US_MAX 100000u

/* Starts a node serving namespace dir in this process: registers this program's SPOT_HANDLERs in the namespace,
 * loads the namespace's handler objects, runs every handler left pending by an earlier run (put while no node ran,
 * or running when a node died), then follows the event log. *out is the caller's until spot_node_stop(). */
int spot_node_start(const char *dir, const spot_node_opts_t *opts, spot_node_t **out);

/* Stops taking new events, waits for running handlers to end (or, with a time limit, to be timed out), and frees
 * the node. Handlers whose puts arrive meanwhile stay pending and run at the next start. In thread mode, a handler
 * that overran its time limit and has still not returned one time limit later is left running on its own thread:
 * the node's memory and namespace handle are freed when it returns (the process may also exit before). */
int spot_node_stop(spot_node_t *node);

/* Counters of a running node. */
typedef struct spot_node_stats {
  uint64_t started, ended, failed; /* invocations since start; failed: every non-zero return, crash or time-out */
  uint64_t rerun;                  /* pending invocations found at start and run again */
  uint64_t worker_restarts;
} spot_node_stats_t;
void spot_node_stats(spot_node_t *node, spot_node_stats_t *out);

/* Runs one worker process of a worker-mode node (what `spotd --worker` calls). */
int spot_node_worker_main(int shm_fd, unsigned index, const char *dir);

#ifdef __cplusplus
}
#endif
#endif
