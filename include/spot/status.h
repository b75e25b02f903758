/*
 * spot/status.h: what a running node is doing, read from outside it.
 *
 * A node (spot_node_start, spotd) keeps its counters in DIR/.spot/status, a small file every process of the node
 * maps and adds to without locks (the node's threads, its worker processes). spot_status_read copies them from
 * any process that can open the namespace; spot_remote_status (spot/net.h) asks another node for the same over the
 * network. What is counted: handler runs and failures (every non-zero return, crash or time-out) since the node
 * started, their CPU time and energy per handler, the put-to-start latency of runs in a log2 histogram, and, read
 * from the logs themselves, the puts and bytes of every log since it was made. All structs are the caller's.
 */
#ifndef SPOT_STATUS_H
#define SPOT_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "spot/ns.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Latency buckets: bucket i counts runs whose put-to-start latency was below SPOT_STATUS_BUCKET_NS(i) and at least
 * the bound of bucket i - 1; the last bucket has no upper bound. */
#define SPOT_STATUS_BUCKETS 28u
#define SPOT_STATUS_BUCKET_NS(i) (1000ull << (i)) /* 1 us, 2 us, 4 us ... about 67 s; the last is +Inf */

#define SPOT_STATUS_POWER_FIGURE 0 /* energy = CPU time x the configured figure (spotd --watts) */
#define SPOT_STATUS_POWER_RAPL 1   /* energy = CPU time x the package power RAPL measures, shared over the CPUs */

typedef struct spot_status_handler {
  char name[64];
  uint32_t id;
  uint64_t runs, failures; /* since the node started */
  uint64_t cpu_ns, energy_nj;
} spot_status_handler_t;

typedef struct spot_status_log {
  char name[64];
  uint64_t puts;  /* elements ever appended (its latest sequence number) */
  uint64_t bytes; /* puts x element size */
} spot_status_log_t;

typedef struct spot_status {
  int served;          /* 1: a node runs on this namespace now */
  int pid;             /* of the node (the last one, when served is 0; 0 if none ever ran) */
  uint64_t node;       /* the namespace's node id */
  uint64_t started_ns; /* wall clock when the node started */
  uint64_t uptime_ns;
  int mode;            /* SPOT_MODE_THREAD or SPOT_MODE_WORKER */
  unsigned workers;
  int power_source;    /* SPOT_STATUS_POWER_* */
  uint64_t milliwatts; /* the power figure in use per busy CPU */
  uint64_t queue_depth; /* handler puts the node has not taken yet */
  uint64_t runs, failures, cpu_ns, energy_nj, worker_restarts;
  uint64_t latency[SPOT_STATUS_BUCKETS]; /* put-to-start latency histogram (counts) */
  uint64_t latency_sum_ns;
  uint64_t p50_ns, p99_ns; /* from the histogram (linear within a bucket): 0 when nothing ran */
  size_t nhandlers;
  spot_status_handler_t *handlers; /* the registered handlers, in id order */
  size_t nlogs;
  spot_status_log_t *logs; /* the namespace's logs, by name */
} spot_status_t;

/* Reads the status of the node serving ns into *out (handlers and logs allocated: free with spot_status_free). A
 * namespace no node serves gives served = 0 and the counters of the last node (zero if none ever ran). SPOT_ENOMEM,
 * SPOT_EIO, SPOT_ECORRUPT (a status file of another layout: restart the node). */
int spot_status_read(spot_ns_t *ns, spot_status_t *out);

/* Frees what spot_status_read or spot_remote_status allocated in st (st itself is the caller's). */
void spot_status_free(spot_status_t *st);

/* The q-quantile (0 < q < 1) of the latency histogram, in ns: linear within the bucket it falls in. 0 if empty. */
uint64_t spot_status_quantile(const spot_status_t *st, double q);

#ifdef __cplusplus
}
#endif
#endif
