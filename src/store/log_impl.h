/*
 * store/log_impl.h: the insides of a spot_log_t, shared by the store's files (log.c: open/append/read,
 * recover.c: recovery at open, durable.c: group commit).
 */
#ifndef SPOT_STORE_LOG_IMPL_H
#define SPOT_STORE_LOG_IMPL_H

#include <stdatomic.h>

#include "core/logfmt.h"
#include "platform/platform.h"
#include "spot/log.h"

struct spot_log {
  spot_io_t *io;
  spot_file_t *file;
  uint8_t *map;          /* the whole file, mapped shared */
  uint64_t map_bytes;
  spot__loghdr_t *hdr;   /* == (spot__loghdr_t *)map */
  uint8_t *slots;        /* map + SPOT__HDR_BYTES */
  uint32_t elem_size;
  uint32_t slot_bytes;
  uint64_t history;
  spot_sync_t sync;
  uint64_t batch_ns;
  uint64_t busy_ns;      /* longest wait of an append for a pending handler (backpressure) */
  atomic_int failed;     /* 0, or the SPOT_E* code of the write or sync that failed: appends are refused */
  char *path;

  /* group commit (durable.c), process-local */
  spot__mutex_t sync_mu;
  spot__cond_t sync_cv;
  int syncing;           /* a thread of this process is syncing */
  int waiting;           /* threads of this process in wait_durable */
  uint64_t last_sync_ns; /* when this process's last sync started */
};

static inline spot__slot_t *spot__slot_at(const spot_log_t *log, uint64_t seq) {
  return (spot__slot_t *)(log->slots + ((seq - 1) % log->history) * log->slot_bytes);
}

/* 1 if the slot of seq holds element seq intact (number and checksum). Not safe against a concurrent writer. */
int spot__slot_valid(const spot_log_t *log, uint64_t seq);

/* Runs sync rounds until the durable hint on disk is >= v (the backpressure of durable logs, see durable.c). */
int spot__log_wait_hint(spot_log_t *log, uint64_t v);

/* Recovers the log (the caller is the only opener): see recover.c. */
int spot__log_recover(spot_log_t *log, int same_boot, unsigned flags, spot_log_report_t *rep);

#endif
