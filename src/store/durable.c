/*
 * durable.c: group commit. spot_log_wait_durable() and the backpressure that keeps durable logs recoverable.
 *
 * One thread per process leads a sync round at a time; the others wait on a condition variable and are released
 * by the round that covers them, so N concurrent waiters cost one sync, not N. A round (1) notes the latest
 * sequence number, (2) stores the current `synced` value as the header's durable hint, (3) syncs the file, then
 * (4) raises `synced` to the noted number and `hint_on_disk` to the hint it carried. For SPOT_SYNC_BATCH, when other
 * threads of the process are waiting too, a round starts no sooner than batch_us after the previous one, so the
 * appends made meanwhile share it; a lone waiter syncs at once (like PostgreSQL's commit_siblings), so batch is
 * never slower than always for a single writer. The
 * progress fields live in the shared header, so a round run by one process releases waiters in every process.
 * Where the file's sync does not cover bytes written through the map (platform/platform.h), a round first hands
 * the io's flush the header and the slots appended since the last round. A failed flush or sync marks the handle
 * failed for good (the state of unsynced data on disk is unknown). A durable log's round also carries the
 * high-water mark (core/logfmt.h): raised to the newest number plus a span before the sync, `hwm_on_disk` after it.
 */
#include "core/error.h"
#include "store/log_impl.h"

static uint64_t load_u64(const uint64_t *p) {
  return atomic_load_explicit((_Atomic uint64_t *)p, memory_order_acquire);
}

static void raise_u64(uint64_t *p, uint64_t v) {
  _Atomic uint64_t *a = (_Atomic uint64_t *)p;
  uint64_t cur = atomic_load_explicit(a, memory_order_relaxed);
  while (cur < v && !atomic_compare_exchange_weak_explicit(a, &cur, v, memory_order_release, memory_order_relaxed)) {
  }
}

/* Hands the slots of elements (after, upto] and the header to the io's flush (see spot/io.h and
 * platform/platform.h: only where the file's sync does not cover bytes written through the map). Every element up
 * to `after` was flushed by an earlier round, so these are the bytes written since. */
static int flush_written(spot_log_t *log, uint64_t after, uint64_t upto) {
  spot_io_t *io = log->io;
  int rc = io->flush(log->file, 0, SPOT__HDR_BYTES);
  if (rc != 0 || upto <= after)
    return rc;
  uint64_t n = upto - after, H = log->history, sb = log->slot_bytes;
  if (n >= H)
    return io->flush(log->file, SPOT__HDR_BYTES, H * sb);
  uint64_t i0 = after % H, i1 = (upto - 1) % H; /* slots of after + 1 and of upto */
  if (i0 <= i1)
    return io->flush(log->file, SPOT__HDR_BYTES + i0 * sb, (i1 - i0 + 1) * sb);
  rc = io->flush(log->file, SPOT__HDR_BYTES + i0 * sb, (H - i0) * sb);
  if (rc == 0)
    rc = io->flush(log->file, SPOT__HDR_BYTES, (i1 + 1) * sb);
  return rc;
}

int spot__log_sync_all(spot_log_t *log) {
  int rc = log->io->flush ? log->io->flush(log->file, 0, log->map_bytes) : 0;
  return rc == 0 ? log->io->sync(log->file) : rc;
}

static int sync_round(spot_log_t *log) {
  spot__loghdr_t *h = log->hdr;
  uint64_t target = load_u64(&h->next) - 1;
  uint64_t carried = load_u64(&h->synced), mark = 0;
  raise_u64(&h->durable_hint, carried);
  if (log->sync != SPOT_SYNC_NONE) {
    /* the high-water mark: this round carries it to disk, then appends may go up to it */
    raise_u64(&h->hwm, target + spot__hwm_span(log->slot_bytes, log->history));
    mark = load_u64(&h->hwm);
    atomic_store_explicit((_Atomic uint32_t *)&h->hwm_check, spot__hwm_check(h, mark), memory_order_release);
  }
  uint64_t nth = log->crash_step ? atomic_fetch_add(&log->crash_rounds, 1) + 1 : 0; /* kill tests only */
  SPOT__CRASH_POINT(log, SPOT__AT_SYNC_MARKED, nth);
  int rc = log->io->flush ? flush_written(log, carried, target) : 0;
  if (rc == 0)
    rc = log->io->sync(log->file);
  if (rc != 0)
    return rc;
  SPOT__CRASH_POINT(log, SPOT__AT_SYNCED, nth);
  raise_u64(&h->synced, target);
  raise_u64(&h->hint_on_disk, carried);
  if (mark)
    raise_u64(&h->hwm_on_disk, mark);
  return 0;
}

/* Runs sync rounds (leading one, or waiting for another thread's) until *field >= v. */
static int wait_field(spot_log_t *log, uint64_t *field, uint64_t v) {
  int rc = 0;
  spot__mutex_lock(&log->sync_mu);
  log->waiting++;
  for (;;) {
    int failed = atomic_load_explicit(&log->failed, memory_order_acquire);
    if (failed) {
      rc = spot__fail(SPOT_EFAILED, "log %s refuses writes after a failed sync (%s); close and reopen it", log->path,
                      spot_strerror(failed));
      break;
    }
    if (load_u64(field) >= v)
      break;
    if (log->syncing) {
      spot__cond_wait(&log->sync_cv, &log->sync_mu);
      continue;
    }
    log->syncing = 1;
    uint64_t now = spot__now_ns();
    uint64_t due = log->last_sync_ns + log->batch_ns;
    spot__mutex_unlock(&log->sync_mu);
    if (log->sync == SPOT_SYNC_BATCH && now < due && log->waiting > 1) {
      spot__sleep_ns(due - now); /* let more appends join this round */
      now = spot__now_ns();
    }
    int src = sync_round(log);
    spot__mutex_lock(&log->sync_mu);
    log->last_sync_ns = now;
    log->syncing = 0;
    if (src != 0) {
      atomic_store_explicit(&log->failed, src, memory_order_release);
      rc = spot__fail(src, "sync of log %s failed (%s); the log refuses writes until reopened", log->path,
                      spot_strerror(src));
      spot__cond_broadcast(&log->sync_cv);
      break;
    }
    spot__cond_broadcast(&log->sync_cv);
  }
  log->waiting--;
  spot__mutex_unlock(&log->sync_mu);
  return rc;
}

int spot_log_wait_durable(spot_log_t *log, uint64_t seq) {
  uint64_t hi = load_u64(&log->hdr->next) - 1;
  if (seq > hi)
    return spot__fail(SPOT_ENOTYET, "log %s has no element %llu yet (latest is %llu)", log->path,
                      (unsigned long long)seq, (unsigned long long)hi);
  if (seq == 0)
    return 0;
  return wait_field(log, &log->hdr->synced, seq);
}

int spot__log_wait_hint(spot_log_t *log, uint64_t v) { return wait_field(log, &log->hdr->hint_on_disk, v); }

int spot__log_wait_hwm(spot_log_t *log, uint64_t r) {
  raise_u64(&log->hdr->hwm, r - 1 + spot__hwm_span(log->slot_bytes, log->history));
  return wait_field(log, &log->hdr->hwm_on_disk, r);
}
