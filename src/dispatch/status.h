/*
 * dispatch/status.h: the counters of a running node, kept in DIR/.spot/status (spot/status.h reads them).
 *
 * The file is a fixed-size struct every process of the node maps shared: the node (which makes it at start and
 * clears `running` at stop), its worker processes (which add their runs) and readers (spot status, the metrics
 * endpoint). Every counter is a relaxed atomic add; nothing on the put path touches it (puts per log are read from
 * the logs). Host byte order: the file never leaves the machine (the network carries spot_status_t, net/).
 */
#ifndef SPOT_DISPATCH_STATUS_H
#define SPOT_DISPATCH_STATUS_H

#include <stdatomic.h>
#include <stdint.h>

#include "spot/status.h"

#define SPOT__STATUS_MAGIC 0x5441545354544f50ull /* "POTSTSTAT"-ish: any other value is not a status file */
#define SPOT__STATUS_VERSION 1u
#define SPOT__STATUS_HANDLERS 256u /* handler slots (by id, probed); runs of more handlers count in the totals only */

typedef struct spot__status_handler {
  _Atomic uint32_t id; /* 0: free */
  uint32_t pad;
  _Atomic uint64_t runs, failures, cpu_ns, energy_nj;
  uint64_t pad2[3];
} spot__status_handler_t;

typedef struct spot__status_shm {
  uint64_t magic;
  uint32_t version, bytes;
  _Atomic uint32_t running; /* 1 while the node runs (a killed node leaves it: readers check the pid) */
  int32_t pid;
  uint32_t mode, workers;
  uint32_t power_source; /* SPOT_STATUS_POWER_* */
  uint32_t pad;
  uint64_t node, started_ns;
  _Atomic uint64_t milliwatts;              /* per busy CPU */
  _Atomic uint64_t rapl_uj, rapl_ns;        /* the last RAPL sample (power_source RAPL) */
  _Alignas(64) _Atomic uint64_t taken;      /* trigger slots the node has taken */
  _Alignas(64) _Atomic uint64_t runs, failures, cpu_ns, energy_nj, worker_restarts, latency_sum_ns;
  _Atomic uint64_t latency[SPOT_STATUS_BUCKETS];
  spot__status_handler_t h[SPOT__STATUS_HANDLERS];
} spot__status_shm_t;

typedef struct spot_ns spot_ns_t;

/* Makes DIR/.spot/status for a node starting on ns (which holds the node lock) and maps it in this process:
 * counters from zero, pid, mode, workers, and the power figure: RAPL where readable, else watts (> 0). */
int spot__status_serve(spot_ns_t *ns, int mode, unsigned workers, double watts);
/* Marks the node stopped (the file and its counters stay for readers). */
void spot__status_unserve(spot_ns_t *ns);
/* Maps the status file of a node serving ns in this process (a worker process). */
int spot__status_attach(spot_ns_t *ns);
/* The counters mapped in this process, or NULL (a process that is not part of the node). */
spot__status_shm_t *spot__status_of(spot_ns_t *ns);

/* The energy of cpu_ns of CPU time at the node's power figure, in nJ (refreshes a RAPL figure once a second). */
uint64_t spot__status_energy(spot__status_shm_t *s, uint64_t cpu_ns);
/* One run of handler hid ended: failed (non-zero return, crash, time-out) or not, with its CPU time and energy. */
void spot__status_run(spot__status_shm_t *s, uint32_t hid, int failed, uint64_t cpu_ns, uint64_t energy_nj);
/* A run started latency_ns after its put. */
void spot__status_latency(spot__status_shm_t *s, uint64_t latency_ns);
/* The node has taken trigger slots up to `upto`. */
void spot__status_taken(spot__status_shm_t *s, uint64_t upto);

#endif
