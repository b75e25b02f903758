/*
 * spot/log.h: durable append-only logs (the storage contract of DESIGN.md).
 *
 * A log has a fixed element size (1 byte to 64 MiB) and a fixed history H: it keeps the newest H elements, older
 * ones expire. Every append gets the next 64-bit sequence number, starting at 1, dense and never repeated, even with
 * many threads and processes appending at once. One memory-mapped file per log.
 *
 * Durability (chosen at create, see spot_sync_t) says what a returned append promises:
 *   SPOT_SYNC_NONE    in the page cache: survives a killed process, not a power cut;
 *   SPOT_SYNC_BATCH   group commit: one sync, at most every batch interval, covers all appends made before it;
 *   SPOT_SYNC_ALWAYS  a sync before the append returns (concurrent appenders share syncs).
 * spot_log_append_async() returns the sequence number at once; spot_log_wait_durable() then blocks until a sync
 * covers it, so one writer can pipeline many appends per sync.
 *
 * A failed write or sync makes the handle refuse appends (SPOT_EFAILED) until the log is reopened; it is never
 * retried silently. Opening a log recovers it: a torn tail (appends cut short by a crash or a power cut) is
 * repaired; damage in the middle is reported (spot_log_report_t) and only the damaged elements are unreadable
 * (SPOT_ECORRUPT, with a detail line naming `spot check`); every intact element stays readable. Sequence numbers
 * never go back, whatever is damaged.
 *
 * Thread safety: a spot_log_t may be shared by the threads of a process; other processes open their own.
 */
#ifndef SPOT_LOG_H
#define SPOT_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "spot/io.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct spot_log spot_log_t;

typedef enum spot_sync { SPOT_SYNC_NONE = 0, SPOT_SYNC_BATCH = 1, SPOT_SYNC_ALWAYS = 2 } spot_sync_t;

#define SPOT_ELEM_MAX (64u << 20)         /* largest element size */
#define SPOT_LOG_BYTES_MAX (1ull << 40)   /* largest log file */
#define SPOT_BATCH_US_DEFAULT 2000u       /* default group-commit interval */

typedef struct spot_log_config {
  uint32_t elem_size; /* bytes per element, 1..SPOT_ELEM_MAX */
  uint64_t history;   /* elements kept, >= 1 */
  spot_sync_t sync;
  uint32_t batch_us;  /* SPOT_SYNC_BATCH: longest wait before a sync; 0 means SPOT_BATCH_US_DEFAULT */
} spot_log_config_t;

typedef struct spot_log_info {
  uint32_t elem_size;
  uint64_t history;
  spot_sync_t sync;
  uint32_t batch_us;
  uint64_t latest;   /* newest sequence number, 0 if the log is empty */
  uint64_t earliest; /* oldest readable sequence number, 0 if the log is empty */
  uint64_t durable;  /* every sequence number <= durable is known to be on disk in this boot */
  uint64_t file_bytes;
  uint64_t log_id;   /* random identity chosen at create */
  uint64_t created_ns; /* wall clock at create, ns since the epoch */
} spot_log_info_t;

/* What recovery (at open) or spot_log_verify found and did. Elements of the window [earliest, latest] are intact
 * (readable), lost (a tombstone: damaged and marked by SPOT_LOG_FIX, or not on disk when the machine went down;
 * reads fail with SPOT_EEXPIRED and say which) or damaged (reads fail with SPOT_ECORRUPT until SPOT_LOG_FIX). */
typedef struct spot_log_report {
  uint64_t latest;          /* newest sequence number after recovery (never lower than one handed out before) */
  uint64_t earliest;        /* oldest sequence number of the window after recovery, 0 if empty */
  uint64_t valid_slots;     /* elements of the window whose data is intact */
  uint64_t torn_slots;      /* slots of a torn tail (appends cut short by a crash or power cut), repaired */
  uint64_t dropped;         /* intact elements dropped below the window (after a power cut: older than a torn
                               slot at the bottom, whose overwrite was under way) */
  uint64_t damaged;         /* damaged elements found in the window (SPOT_LOG_FIX marks them lost) */
  uint64_t damaged_seq;     /* the first of them, 0 if none */
  uint64_t lost;            /* tombstones in the window after recovery (including those SPOT_LOG_FIX just made) */
  uint64_t lost_seq;        /* the first of them, 0 if none */
  uint64_t marked;          /* intact elements whose handler has not ended (a node runs them when it runs) */
  uint64_t bad_marks;       /* intact elements with a damaged handler mark (set by hand, a flipped bit): it blocks
                               nothing and runs nothing; SPOT_LOG_FIX restores the mark the checksum covers */
  uint64_t bad_mark_seq;    /* the first of them, 0 if none */
  int power_loss;           /* 1 if the machine restarted since the log was last open */
  int repaired;             /* 1 if recovery changed the file */
  int scanned_all;          /* 1 if recovery read every slot (after a restart without a usable high-water mark,
                               with SPOT_LOG_FIX, or when the header disagreed with the slots); 0 if it read only
                               the slots the header points at */
} spot_log_report_t;

/* Creates the log file at path, fully initialised, atomically (a crash leaves either no file or a whole one).
 * io NULL means spot_io_posix(). SPOT_EEXIST if path exists, SPOT_EINVAL for a bad config, SPOT_ENOSPC. */
int spot_log_create(const char *path, const spot_log_config_t *cfg, spot_io_t *io);

/* Open flags. */
#define SPOT_LOG_FIX 0x1u /* mark damaged elements lost (tombstones) and repair damaged marks (spot check --fix);
                             only the only opener can: SPOT_EBUSY while another handle has the log open */

/* Opens the log at path, recovering it if no other handle has it open. On success *out is the caller's until
 * spot_log_close(); report (may be NULL) says what recovery found. SPOT_ENOTFOUND, SPOT_ECORRUPT, SPOT_EVERSION. */
int spot_log_open(const char *path, unsigned flags, spot_io_t *io, spot_log_t **out, spot_log_report_t *report);

/* Closes the handle (waits for nothing: call spot_log_wait_durable first if you need durability). */
int spot_log_close(spot_log_t *log);

/* Appends one element: len <= elem_size bytes, zero-padded to elem_size. Returns when the log's durability setting
 * holds for it; *seq (may be NULL) receives its sequence number. SPOT_ETOOBIG, SPOT_EFAILED, SPOT_EIO. */
int spot_log_append(spot_log_t *log, const void *data, size_t len, uint64_t *seq);

/* Appends without waiting for any sync: the element is visible to readers and survives a killed process. */
int spot_log_append_async(spot_log_t *log, const void *data, size_t len, uint64_t *seq);

/* Blocks until the log's latest sequence number is greater than `after` (an append by any thread or process), or
 * timeout_ns passed (0: no limit): 0 or SPOT_ETIMEDOUT. Wakes within microseconds (a futex in the mapping). */
int spot_log_wait_newer(spot_log_t *log, uint64_t after, uint64_t timeout_ns);

/* Appends wait while the element they would overwrite has a handler that has not ended (backpressure); after
 * this many milliseconds they fail with SPOT_EBUSY. Default SPOT_BUSY_MS_DEFAULT. */
#define SPOT_BUSY_MS_DEFAULT 5000u
void spot_log_set_busy_timeout(spot_log_t *log, uint32_t ms);

/* Blocks until every element up to seq is on disk (for SPOT_SYNC_BATCH at the next group commit; otherwise a sync
 * at once, shared with concurrent callers). SPOT_EFAILED/SPOT_EIO if the sync failed: the handle is then failed. */
int spot_log_wait_durable(spot_log_t *log, uint64_t seq);

/* Copies element seq into buf (cap >= elem_size). SPOT_EEXPIRED if it was overwritten or is lost (the detail line
 * says which), SPOT_ENOTYET if not written yet, SPOT_ECORRUPT if it is damaged. Never returns a torn or garbage
 * element. */
int spot_log_read(spot_log_t *log, uint64_t seq, void *buf, size_t cap);

/* Newest sequence number (0 if empty) and oldest readable one (0 if empty). */
int spot_log_latest(spot_log_t *log, uint64_t *seq);
int spot_log_earliest(spot_log_t *log, uint64_t *seq);

/* Calls fn for every readable element with from <= seq <= to in order; elements that expire meanwhile, and lost
 * ones, are skipped; a damaged one stops the walk with SPOT_ECORRUPT. data points into a private copy valid only during the call. A non-zero return from fn stops the walk
 * and is returned. */
typedef int (*spot_log_iter_fn)(uint64_t seq, const void *data, size_t size, void *arg);
int spot_log_iterate(spot_log_t *log, uint64_t from, uint64_t to, spot_log_iter_fn fn, void *arg);

int spot_log_info(spot_log_t *log, spot_log_info_t *out);

/* Checks every slot of the window of an open log without changing anything, and counts intact, lost, damaged and
 * marked elements into report (may be NULL): SPOT_ECORRUPT (with a detail line naming the first damaged element
 * and `spot check --fix`) if an element or a handler mark is damaged. */
int spot_log_verify(spot_log_t *log, spot_log_report_t *report);

const char *spot_sync_name(spot_sync_t s);                /* "none", "batch", "always" */
int spot_sync_parse(const char *text, spot_sync_t *out); /* the reverse; SPOT_EINVAL */

#ifdef __cplusplus
}
#endif
#endif
