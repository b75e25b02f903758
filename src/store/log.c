/*
 * log.c: the log store's handles: create, open (with the locking that decides who recovers), close, append and
 * read. Recovery is in recover.c, group commit in durable.c, the dispatcher's marks in marks.c, faulting mappings in
 * ahead in prefault.c, the file format in core/logfmt.h.
 *
 * Who recovers: every handle holds an advisory lock on its file, shared while open. An opener first tries the lock
 * exclusively; if it gets it, no other handle is open anywhere, so it may recover the file (and clear what dead
 * writers left), then it downgrades to shared.
 *
 * Appends take no lock (core/logfmt.h, "commit protocol"): reserve a slot with a compare-and-swap that names the
 * writer's pid, write it, commit it, publish it in order; waits (for earlier numbers to be published, for room in
 * the ring) check whether the writer they wait for is still alive and bury its number when it is not. Otherwise it waits for a shared lock and uses the live state,
 * once the header says that recovery finished in the current boot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crc32c.h"
#include "core/error.h"
#include "store/log_impl.h"
#include "store/store.h"

/* The format's own limits (core/logfmt.h) are the public API's (spot/log.h): core does not see the latter. */
_Static_assert(SPOT__ELEM_MAX == SPOT_ELEM_MAX, "core and public element size limits differ");
_Static_assert(SPOT__LOG_BYTES_MAX == SPOT_LOG_BYTES_MAX, "core and public log size limits differ");
_Static_assert(SPOT__SYNC_MODE_MAX == SPOT_SYNC_ALWAYS && SPOT_SYNC_NONE == 0 && SPOT_SYNC_BATCH == 1,
               "core and public sync modes differ");

const char *spot_sync_name(spot_sync_t s) {
  switch (s) {
  case SPOT_SYNC_NONE:
    return "none";
  case SPOT_SYNC_BATCH:
    return "batch";
  case SPOT_SYNC_ALWAYS:
    return "always";
  }
  return "?";
}

int spot_sync_parse(const char *text, spot_sync_t *out) {
  for (int s = SPOT_SYNC_NONE; s <= SPOT_SYNC_ALWAYS; s++)
    if (text && strcmp(text, spot_sync_name((spot_sync_t)s)) == 0) {
      *out = (spot_sync_t)s;
      return 0;
    }
  return spot__fail(SPOT_EINVAL, "durability '%s' is not one of none, batch, always", text ? text : "");
}

static int write_all(spot_io_t *io, spot_file_t *f, uint64_t off, const void *buf, size_t n) {
  const uint8_t *p = buf;
  while (n > 0) {
    size_t put = 0;
    int rc = io->write(f, off, p, n, &put);
    if (rc != 0)
      return rc;
    if (put == 0)
      return SPOT_EIO;
    p += put;
    off += put;
    n -= put;
  }
  return 0;
}

static int read_all(spot_io_t *io, spot_file_t *f, uint64_t off, void *buf, size_t n) {
  uint8_t *p = buf;
  while (n > 0) {
    size_t got = 0;
    int rc = io->read(f, off, p, n, &got);
    if (rc != 0)
      return rc;
    if (got == 0)
      return SPOT_ECORRUPT; /* end of file inside the header: callers checked the size, so it shrank */
    p += got;
    off += got;
    n -= got;
  }
  return 0;
}

int spot_log_create(const char *path, const spot_log_config_t *cfg, spot_io_t *io) {
  if (io == NULL)
    io = spot_io_posix();
  if (path == NULL || cfg == NULL)
    return spot__fail(SPOT_EINVAL, "spot_log_create needs a path and a config");
  if (cfg->elem_size == 0 || cfg->elem_size > SPOT_ELEM_MAX)
    return spot__fail(SPOT_EINVAL, "element size %u is out of range (1 to %u bytes)", cfg->elem_size,
                      SPOT_ELEM_MAX);
  uint32_t slot_bytes = spot__slot_bytes(cfg->elem_size);
  if (cfg->history == 0 || cfg->history > (SPOT_LOG_BYTES_MAX - SPOT__HDR_BYTES) / slot_bytes)
    return spot__fail(SPOT_EINVAL, "history %llu is out of range (1 to %llu elements of %u bytes: files stop at 1 TiB)",
                      (unsigned long long)cfg->history,
                      (unsigned long long)((SPOT_LOG_BYTES_MAX - SPOT__HDR_BYTES) / slot_bytes), cfg->elem_size);
  if (cfg->sync > SPOT_SYNC_ALWAYS)
    return spot__fail(SPOT_EINVAL, "unknown durability setting %d", (int)cfg->sync);
  if (cfg->batch_us > 1000000)
    return spot__fail(SPOT_EINVAL, "batch interval %u us is longer than one second", cfg->batch_us);

  spot__loghdr_t *h = calloc(1, SPOT__HDR_BYTES);
  size_t tmplen = strlen(path) + 32;
  char *tmp = malloc(tmplen);
  if (h == NULL || tmp == NULL) {
    free(h);
    free(tmp);
    return SPOT_ENOMEM;
  }
  memcpy(h->magic, SPOT__LOG_MAGIC, 8);
  h->version = SPOT__LOG_VERSION;
  h->header_bytes = SPOT__HDR_BYTES;
  h->elem_size = cfg->elem_size;
  h->slot_bytes = slot_bytes;
  h->history = cfg->history;
  h->sync_mode = (uint32_t)cfg->sync;
  h->batch_us = cfg->batch_us ? cfg->batch_us : SPOT_BATCH_US_DEFAULT;
  spot__random(&h->log_id, sizeof h->log_id);
  h->created_ns = spot__wall_ns();
  h->hdr_crc = spot__hdr_crc(h);
  h->next = 1;
  h->floor = 1;
  /* A durable log starts with a true mark, so even its first open after a restart reads almost nothing. A `none`
   * log keeps no mark (it never syncs). */
  if (cfg->sync != SPOT_SYNC_NONE) {
    h->hwm_check = spot__hwm_check(h, 0); /* true: no slot holds a number; the first append runs a round */
  } else {
    h->hwm_check = ~spot__hwm_check(h, 0);
  }
  /* An empty file is recovered as it is: its first open in this boot reads no slot (recover.c). */
  if (io->boot_id(io, h->ready_boot) != 0)
    memset(h->ready_boot, 0, sizeof h->ready_boot);

  /* Build the whole file under a temporary name, then rename it into place: readers see all of it or nothing. */
  snprintf(tmp, tmplen, "%s.tmp-%016llx", path, (unsigned long long)h->log_id);
  spot_file_t *f = NULL;
  uint64_t total = SPOT__HDR_BYTES + cfg->history * slot_bytes;
  int rc = io->open(io, tmp, SPOT_IO_CREATE | SPOT_IO_EXCL, &f);
  if (rc != 0) {
    rc = spot__fail(rc, "cannot create %s: %s", tmp, spot_strerror(rc));
    goto out;
  }
  rc = io->allocate(f, total);
  if (rc == 0)
    rc = write_all(io, f, 0, h, SPOT__HDR_BYTES);
  if (rc == 0)
    rc = io->sync(f);
  int crc = io->close(f);
  if (rc == 0)
    rc = crc;
  if (rc == 0)
    rc = io->rename(io, tmp, path);
  if (rc != 0) {
    io->remove(io, tmp);
    if (rc == SPOT_EEXIST)
      rc = spot__fail(rc, "log %s already exists", path);
    else if (rc == SPOT_ENOSPC)
      rc = spot__fail(rc, "no space for log %s (%llu bytes): free space or choose a smaller history", path,
                      (unsigned long long)total);
    else
      rc = spot__fail(rc, "cannot create log %s: %s", path, spot_strerror(rc));
  }
out:
  free(h);
  free(tmp);
  return rc;
}

/* Takes the file's lock, exclusively if no other handle exists (then *exclusive = 1), else shared once the file
 * has been recovered in this boot. */
static int take_lock(spot_log_t *log, const uint8_t boot[16], int boot_known, int *exclusive) {
  for (int attempt = 0; attempt < 10000; attempt++) {
    int rc = log->io->lock(log->file, SPOT_IO_LOCK_EXCL_TRY);
    if (rc == 0) {
      *exclusive = 1;
      return 0;
    }
    if (rc != SPOT_EBUSY)
      return spot__fail(rc, "cannot lock %s: %s", log->path, spot_strerror(rc));
    rc = log->io->lock(log->file, SPOT_IO_LOCK_SHARED);
    if (rc != 0)
      return spot__fail(rc, "cannot lock %s: %s", log->path, spot_strerror(rc));
    if (atomic_load_explicit((_Atomic uint32_t *)&log->hdr->ready, memory_order_acquire) == 1 &&
        (!boot_known || memcmp(log->hdr->ready_boot, boot, 16) == 0)) {
      *exclusive = 0;
      return 0;
    }
    /* The other holder has not recovered the file (it is recovering, or failed to): let it finish, try again. */
    log->io->lock(log->file, SPOT_IO_UNLOCK);
    spot__sleep_ns(1000000);
  }
  return spot__fail(SPOT_EBUSY, "log %s is held by a process that does not finish recovering it", log->path);
}

static void free_handle(spot_log_t *log) {
  free((void *)log->prefaulted); /* spot__prefault_init's */
  if (log->map)
    log->io->unmap(log->file, log->map, log->map_bytes);
  if (log->file)
    log->io->close(log->file);
  spot__cond_destroy(&log->sync_cv);
  spot__mutex_destroy(&log->sync_mu);
  free(log->path);
  free(log);
}

int spot_log_open(const char *path, unsigned flags, spot_io_t *io, spot_log_t **out, spot_log_report_t *report) {
  spot_log_report_t rep_local;
  spot_log_report_t *rep = report ? report : &rep_local;
  memset(rep, 0, sizeof *rep);
  if (io == NULL)
    io = spot_io_posix();
  if (path == NULL || out == NULL)
    return spot__fail(SPOT_EINVAL, "spot_log_open needs a path and an output handle");
  spot_log_t *log = calloc(1, sizeof *log);
  if (log == NULL || (log->path = strdup(path)) == NULL) {
    free(log);
    return SPOT_ENOMEM;
  }
  log->io = io;
  spot__mutex_init(&log->sync_mu);
  spot__cond_init(&log->sync_cv);

  spot__loghdr_t *h = malloc(SPOT__HDR_BYTES);
  uint64_t size = 0;
  int rc = h ? io->open(io, path, 0, &log->file) : SPOT_ENOMEM;
  if (rc == SPOT_ENOTFOUND) {
    rc = spot__fail(rc, "no log file %s", path);
    goto fail;
  }
  if (rc != 0) {
    rc = spot__fail(rc, "cannot open %s: %s", path, spot_strerror(rc));
    goto fail;
  }
  rc = io->size(log->file, &size);
  if (rc == 0 && size < SPOT__HDR_BYTES)
    rc = spot__fail(SPOT_ECORRUPT, "%s is too short (%llu bytes) to be a spot log", path, (unsigned long long)size);
  if (rc == 0)
    rc = read_all(io, log->file, 0, h, SPOT__HDR_BYTES);
  if (rc == 0)
    rc = spot__hdr_check(h, size, path);
  if (rc != 0)
    goto fail;
  log->elem_size = h->elem_size;
  log->slot_bytes = h->slot_bytes;
  log->history = h->history;
  log->sync = (spot_sync_t)h->sync_mode;
  log->batch_ns = (uint64_t)h->batch_us * 1000u;
  log->busy_ns = (uint64_t)SPOT_BUSY_MS_DEFAULT * 1000000u;
  log->map_bytes = SPOT__HDR_BYTES + h->history * h->slot_bytes;
  spot__prefault_init(log);
  rc = io->map(log->file, log->map_bytes, (void **)&log->map);
  if (rc != 0) {
    log->map = NULL;
    rc = spot__fail(rc, "cannot map %s (%llu bytes): %s", path, (unsigned long long)log->map_bytes,
                    spot_strerror(rc));
    goto fail;
  }
  log->hdr = (spot__loghdr_t *)log->map;
  log->slots = log->map + SPOT__HDR_BYTES;

  uint8_t boot[16];
  int boot_known = io->boot_id(io, boot) == 0;
  int exclusive = 0;
  rc = take_lock(log, boot, boot_known, &exclusive);
  if (rc != 0)
    goto fail;
  if (!exclusive && (flags & SPOT_LOG_FIX)) {
    rc = spot__fail(SPOT_EBUSY,
                    "cannot repair %s while another process has it open (a running spotd?); stop it and run `spot "
                    "check LOG --fix` again",
                    path);
    goto fail;
  }
  if (!exclusive && log->hdr->version != SPOT__LOG_VERSION) {
    rc = spot__fail(SPOT_EVERSION,
                    "%s (log format version %u) is open in an older spot; stop that program, then open the log again "
                    "to migrate it to version %u",
                    path, log->hdr->version, SPOT__LOG_VERSION);
    goto fail;
  }
  if (exclusive) {
    int same_boot = boot_known && memcmp(log->hdr->ready_boot, boot, 16) == 0;
    atomic_store_explicit((_Atomic uint32_t *)&log->hdr->ready, 0, memory_order_release);
    if (log->hdr->version != SPOT__LOG_VERSION)
      rc = spot__log_migrate(log);
    if (rc == 0)
      rc = spot__log_recover(log, same_boot, flags, rep);
    if (rc != 0)
      goto fail;
    if (boot_known)
      memcpy(log->hdr->ready_boot, boot, 16);
    atomic_store_explicit((_Atomic uint64_t *)&log->hdr->lease, 0, memory_order_relaxed); /* no writer is left */
    log->hdr->recoveries++;
    atomic_store_explicit((_Atomic uint32_t *)&log->hdr->ready, 1, memory_order_release);
    rc = io->lock(log->file, SPOT_IO_LOCK_SHARED); /* downgrade: other openers may come in now */
    if (rc != 0)
      goto fail;
  } else {
    spot_log_latest(log, &rep->latest);
    spot_log_earliest(log, &rep->earliest);
  }
  spot__crash_arm(log);
  free(h);
  *out = log;
  return 0;
fail:
  free(h);
  free_handle(log);
  return rc;
}

int spot_log_close(spot_log_t *log) {
  if (log == NULL)
    return 0;
  free_handle(log);
  return 0;
}

/* Waits, before reserving number s, while the element in its slot still has a handler pending. SPOT_EBUSY after
 * the handle's busy timeout. A mark that its slot's crc does not cover (set by hand, a flipped bit, damaged data) is
 * not trusted: *untrusted is set and the append may overwrite the element. */
static int wait_not_pending(spot_log_t *log, uint64_t s, int *untrusted) {
  spot__slot_t *slot = spot__slot_at(log, s);
  uint64_t old = s - log->history, start = spot__now_ns(), pause = 20000;
  /* The ring cannot reach the slot while it is marked, and mark changes keep its crc consistent: safe to check. */
  if (spot__slot_state(log, old, NULL) != SPOT__SLOT_INTACT &&
      atomic_load_explicit((_Atomic uint64_t *)&slot->seq, memory_order_acquire) == old) {
    *untrusted = 1;
    return 0;
  }
  for (;;) {
    uint32_t p = (uint32_t)(atomic_load_explicit(spot__slot_word(slot), memory_order_acquire) >> 32);
    if (p == 0 || atomic_load_explicit((_Atomic uint64_t *)&slot->seq, memory_order_acquire) != old)
      return 0;
    if (spot__now_ns() - start >= log->busy_ns)
      return spot__fail(SPOT_EBUSY,
                        "log %s is full of elements whose handlers have not run: element %llu would be overwritten "
                        "before its handler ended (is spotd running and keeping up?)",
                        log->path, (unsigned long long)old);
    spot__sleep_ns(pause);
    if (pause < 1000000)
      pause *= 2;
  }
}

/* ---- crash points for kill tests (store/log_impl.h) ---- */

_Noreturn void spot__crash_exit(void) { _Exit(SPOT__CRASH_EXIT); }

void spot__crash_arm(spot_log_t *log) {
  const char *v = getenv("SPOT_TEST_APPEND_EXIT");
  if (v == NULL || *v == '\0')
    return;
  char *end;
  unsigned long step = strtoul(v, &end, 10);
  if (*end != ':' || step == 0 || step > SPOT__AT_STEPS)
    return;
  unsigned long long nth = strtoull(end + 1, &end, 10);
  if (*end != '\0' || nth == 0)
    return;
  log->crash_step = (uint32_t)step;
  log->crash_nth = nth;
}

static _Atomic uint64_t *seq_of(spot__slot_t *slot) { return (_Atomic uint64_t *)&slot->seq; }

/* Raises `next` over every committed number (an element or a tombstone in its slot). Any writer may do it for any
 * other: the compare-and-swap makes each step once. */
static void publish(spot_log_t *log) {
  _Atomic uint64_t *next = (_Atomic uint64_t *)&log->hdr->next;
  uint64_t n = atomic_load_explicit(next, memory_order_acquire);
  for (;;) {
    uint64_t v = atomic_load_explicit(seq_of(spot__slot_at(log, n)), memory_order_acquire);
    if ((v & ~SPOT__SEQ_LOST) != n)
      return; /* reserved and not committed yet (or not reserved): its writer publishes it */
    if (atomic_compare_exchange_weak_explicit(next, &n, n + 1, memory_order_acq_rel, memory_order_acquire))
      n++;
  }
}

/* Writes element data (len bytes, zero-padded; dcrc its crc32c with the padding) into the slot reserved for r and
 * commits it with mark. The writer owns the slot (its seq is SPOT__SEQ_PENDING | pid). */
static void commit(spot_log_t *log, spot__slot_t *slot, uint64_t r, const void *data, size_t len, uint32_t dcrc,
                   uint32_t mark, uint64_t nth) {
  atomic_thread_fence(memory_order_release); /* readers of the old element see the reservation before new bytes */
  uint8_t *d = spot__slot_data(slot);
  if (log->crash_step == SPOT__AT_TORN && nth == log->crash_nth) {
    memcpy(d, data, len / 2);
    spot__crash_exit();
  }
  if (len)
    memcpy(d, data, len);
  if (len < log->elem_size)
    memset(d + len, 0, log->elem_size - len);
  uint32_t crc = spot__slot_crc_finish(dcrc, r);
  if (mark)
    crc ^= spot__mark_code(r, mark);
  atomic_store_explicit(spot__slot_word(slot), spot__word(crc, mark), memory_order_relaxed);
  SPOT__CRASH_POINT(log, SPOT__AT_WRITTEN, nth);
  atomic_store_explicit(seq_of(slot), r, memory_order_release);
}

/* If the number at `next` is reserved by a process that is gone, buries it (a tombstone: its writer died) so that
 * publication goes on. Takes the reservation over first (compare-and-swap to our pid), so two helpers never write
 * the slot together; a helper that dies meanwhile leaves it reserved by a dead pid again. 1 if it buried one. */
static int bury_dead_writer(spot_log_t *log) {
  uint64_t n = atomic_load_explicit((_Atomic uint64_t *)&log->hdr->next, memory_order_acquire);
  spot__slot_t *slot = spot__slot_at(log, n);
  uint64_t v = atomic_load_explicit(seq_of(slot), memory_order_acquire);
  if (!(v & SPOT__SEQ_PENDING) || (v & SPOT__SEQ_LOST))
    return 0;
  int pid = (int)(v & 0xffffffffu);
  if (pid == spot__pid_self() || spot__pid_alive(pid))
    return 0;
  uint64_t mine = SPOT__SEQ_PENDING | (uint64_t)(uint32_t)spot__pid_self();
  if (!atomic_compare_exchange_strong_explicit(seq_of(slot), &v, mine, memory_order_acq_rel, memory_order_acquire))
    return 0;
  atomic_thread_fence(memory_order_release);
  memset(spot__slot_data(slot), 0, log->elem_size);
  atomic_store_explicit(spot__slot_word(slot), spot__word(spot__tomb_crc(n, SPOT__LOST_WRITER), SPOT__LOST_WRITER),
                        memory_order_relaxed);
  atomic_store_explicit(seq_of(slot), n | SPOT__SEQ_LOST, memory_order_release);
  publish(log);
  return 1;
}

/* Waits until `next` is above r: spins briefly (the writer of an earlier number is usually a few instructions from
 * its commit), then yields, then sleeps; from 1 ms on it checks every millisecond whether the writer holding `next`
 * died, and buries its number. Never fails: a live writer finishes its slot without waiting for anything. */
static void wait_published(spot_log_t *log, uint64_t r) {
  _Atomic uint64_t *next = (_Atomic uint64_t *)&log->hdr->next;
  uint64_t t0 = 0, checked = 0, pause = 1000;
  for (unsigned i = 0;; i++) {
    publish(log);
    if (atomic_load_explicit(next, memory_order_acquire) > r)
      return;
    if (i < 64)
      continue;
    uint64_t now = spot__now_ns();
    if (t0 == 0)
      t0 = checked = now;
    if (now - t0 < 200000u) {
      spot__yield();
      continue;
    }
    if (now - checked >= 1000000u) {
      checked = now;
      bury_dead_writer(log);
      continue;
    }
    spot__sleep_ns(pause);
    if (pause < 200000)
      pause *= 2;
  }
}

/* Reserves, writes, commits and publishes one element whose data crc is dcrc (the caller holds the writers' turn,
 * or waited its share for it). */
static int append_element(spot_log_t *log, const void *data, size_t len, uint32_t dcrc, uint32_t pending,
                          uint64_t *seq) {
  spot__loghdr_t *h = log->hdr;
  const uint64_t H = log->history;
  const uint64_t nth = log->crash_step ? atomic_fetch_add(&log->crash_appends, 1) + 1 : 0; /* kill tests only */
  const uint64_t mine = SPOT__SEQ_PENDING | (uint64_t)(uint32_t)spot__pid_self();
  uint64_t r, untrusted_at = 0;
  spot__slot_t *slot = NULL;
  for (;;) {
    uint64_t n = atomic_load_explicit((_Atomic uint64_t *)&h->next, memory_order_acquire), v = 0;
    /* The first number from `next` on whose slot holds an older element (or none): not it, not a reservation
     * (which can only be its). A slot that already holds a newer number means `next` moved on while we looked
     * (other writers wrapped the ring): reserving r there would hand out a number again, so start over. */
    int stale = 0;
    for (r = n; r < n + H; r++) {
      slot = spot__slot_at(log, r);
      v = atomic_load_explicit(seq_of(slot), memory_order_acquire);
      if (v & SPOT__SEQ_PENDING)
        continue;
      uint64_t at = v & ~SPOT__SEQ_LOST;
      if (at == r)
        continue;
      stale = at > r;
      break;
    }
    /* Unless `next` is still n: then no writer can have put a newer element there, and the number is damage that
     * the append overwrites as before. */
    if (stale && atomic_load_explicit((_Atomic uint64_t *)&h->next, memory_order_acquire) != n)
      continue;
    if (r == n + H) {
      /* every slot is being written by appends not yet published: wait for the oldest */
      wait_published(log, n);
      continue;
    }
    int rc = 0, untrusted = 0;
    if (r > H && r != untrusted_at && v == r - H &&
        (atomic_load_explicit(spot__slot_word(slot), memory_order_acquire) >> 32) != 0) {
      /* backpressure: the element this append would overwrite still waits for its handler */
      rc = wait_not_pending(log, r, &untrusted);
      if (untrusted)
        untrusted_at = r;
    } else if (log->sync != SPOT_SYNC_NONE && r > H &&
               r - H > atomic_load_explicit((_Atomic uint64_t *)&h->hint_on_disk, memory_order_acquire)) {
      /* A durable log must not overwrite an element newer than the durable hint on disk (core/logfmt.h). */
      rc = spot__log_wait_hint(log, r - H);
    } else if (log->sync != SPOT_SYNC_NONE &&
               r > atomic_load_explicit((_Atomic uint64_t *)&h->hwm_on_disk, memory_order_acquire)) {
      /* No slot on disk may hold a number above the mark on disk (core/logfmt.h, version 4). */
      rc = spot__log_wait_hwm(log, r);
    } else if (atomic_compare_exchange_weak_explicit(seq_of(slot), &v, mine, memory_order_acq_rel,
                                                     memory_order_relaxed)) {
      break;
    }
    if (rc != 0)
      return rc;
  }
  SPOT__CRASH_POINT(log, SPOT__AT_RESERVED, nth);
  commit(log, slot, r, data, len, dcrc, pending, nth);
  SPOT__CRASH_POINT(log, SPOT__AT_COMMITTED, nth);
  wait_published(log, r);
  SPOT__CRASH_POINT(log, SPOT__AT_PUBLISHED, nth);
  if (atomic_load_explicit((_Atomic uint32_t *)&h->sleepers, memory_order_seq_cst) != 0) {
    atomic_fetch_add_explicit((_Atomic uint32_t *)&h->wake, 1, memory_order_seq_cst);
    spot__futex_wake(&h->wake);
  }
  SPOT__CRASH_POINT(log, SPOT__AT_WOKEN, nth);
  spot__prefault_ahead(log, r); /* after publishing: no other writer waits for this one meanwhile */
  if (seq)
    *seq = r;
  return 0;
}

int spot__log_append_pending(spot_log_t *log, const void *data, size_t len, uint32_t pending, uint64_t *seq) {
  if (len > log->elem_size)
    return spot__fail(SPOT_ETOOBIG, "element of %zu bytes is longer than the log's element size (%u bytes)", len,
                      log->elem_size);
  if (data == NULL && len > 0)
    return spot__fail(SPOT_EINVAL, "append of %zu bytes from a NULL buffer", len);
  int failed = atomic_load_explicit(&log->failed, memory_order_relaxed);
  if (failed)
    return spot__fail(SPOT_EFAILED, "log %s refuses appends after a failed %s (%s); close and reopen it", log->path,
                      "sync", spot_strerror(failed));
  /* Take turns with other writers (lease.c): the holder goes on at once; another writer checksums first, then waits. */
  const uint32_t me = log->no_turns ? 0 : spot__thread_id(); /* never 0 for a thread: 0 here means no turns */
  const uint64_t turn = me ? spot__lease_enter(log, me) : 0;
  /* Checksum the data (and its zero padding) before reserving; the sequence number is folded in after. */
  uint32_t dcrc = spot__crc32c(0, data, len);
  if (len < log->elem_size) {
    static const uint8_t zeros[256];
    for (size_t left = log->elem_size - len; left > 0;) {
      size_t n = left < sizeof zeros ? left : sizeof zeros;
      dcrc = spot__crc32c(dcrc, zeros, n);
      left -= n;
    }
  }
  if (turn != 0)
    spot__lease_wait(log, me, turn);
  int rc = append_element(log, data, len, dcrc, pending, seq);
  if (me)
    spot__lease_leave(log, me);
  return rc;
}

int spot_log_append_async(spot_log_t *log, const void *data, size_t len, uint64_t *seq) {
  return spot__log_append_pending(log, data, len, 0, seq);
}

int spot_log_wait_newer(spot_log_t *log, uint64_t after, uint64_t timeout_ns) {
  spot__loghdr_t *h = log->hdr;
  _Atomic uint64_t *next = (_Atomic uint64_t *)&h->next;
  if (atomic_load_explicit(next, memory_order_acquire) - 1 > after)
    return 0;
  uint64_t deadline = timeout_ns ? spot__now_ns() + timeout_ns : 0;
  atomic_fetch_add_explicit((_Atomic uint32_t *)&h->sleepers, 1, memory_order_seq_cst);
  int rc = 0;
  for (;;) {
    uint32_t w = atomic_load_explicit((_Atomic uint32_t *)&h->wake, memory_order_seq_cst);
    if (atomic_load_explicit(next, memory_order_seq_cst) - 1 > after)
      break;
    uint64_t left = 0;
    if (deadline) {
      uint64_t now = spot__now_ns();
      if (now >= deadline) {
        rc = SPOT_ETIMEDOUT;
        break;
      }
      left = deadline - now;
    }
    spot__futex_wait(&h->wake, w, left);
  }
  atomic_fetch_sub_explicit((_Atomic uint32_t *)&h->sleepers, 1, memory_order_seq_cst);
  return rc;
}

int spot__log_poll_newer(spot_log_t *log, uint64_t after, uint64_t poll_ns) {
  _Atomic uint64_t *next = (_Atomic uint64_t *)&log->hdr->next;
  spot__spin_t s = {0};
  while (atomic_load_explicit(next, memory_order_acquire) - 1 <= after)
    if (!spot__spin(&s, poll_ns))
      return SPOT_ETIMEDOUT;
  return 0;
}

void spot_log_set_busy_timeout(spot_log_t *log, uint32_t ms) { log->busy_ns = (uint64_t)ms * 1000000u; }

int spot_log_append(spot_log_t *log, const void *data, size_t len, uint64_t *seq) {
  uint64_t s;
  int rc = spot__log_append_pending(log, data, len, 0, &s);
  if (rc == 0 && log->sync != SPOT_SYNC_NONE)
    rc = spot_log_wait_durable(log, s);
  if (rc == 0 && seq)
    *seq = s;
  return rc;
}

int spot_log_latest(spot_log_t *log, uint64_t *seq) {
  *seq = atomic_load_explicit((_Atomic uint64_t *)&log->hdr->next, memory_order_acquire) - 1;
  return 0;
}

int spot_log_earliest(spot_log_t *log, uint64_t *seq) {
  uint64_t hi = atomic_load_explicit((_Atomic uint64_t *)&log->hdr->next, memory_order_acquire) - 1;
  uint64_t floor = atomic_load_explicit((_Atomic uint64_t *)&log->hdr->floor, memory_order_relaxed);
  if (hi == 0 || floor > hi) {
    *seq = 0;
    return 0;
  }
  uint64_t lo = hi >= log->history ? hi - log->history + 1 : 1;
  if (lo < floor)
    lo = floor;
  /* The oldest slots are the ones appends under way overwrite (reserved for lo + history): skip them. */
  while (lo < hi) {
    uint64_t v = atomic_load_explicit((_Atomic uint64_t *)&spot__slot_at(log, lo)->seq, memory_order_acquire);
    uint64_t at = v & ~SPOT__SEQ_LOST;
    if (at == lo || !((v & SPOT__SEQ_PENDING) || (at > lo && (at - lo) % log->history == 0) ||
                      (v == 0 && lo + log->history == hi + 1)))
      break;
    lo++;
  }
  *seq = lo;
  return 0;
}

spot__slot_state_t spot__slot_state(const spot_log_t *log, uint64_t seq, uint32_t *good_mark) {
  spot__slot_t *slot = spot__slot_at(log, seq);
  uint64_t w = atomic_load_explicit(spot__slot_word(slot), memory_order_acquire);
  uint64_t at = atomic_load_explicit((_Atomic uint64_t *)&slot->seq, memory_order_acquire);
  if (seq == 0 || seq >= SPOT__SEQ_PENDING)
    return SPOT__SLOT_OTHER;
  if (at == (seq | SPOT__SEQ_LOST))
    return (uint32_t)w == spot__tomb_crc(seq, (uint32_t)(w >> 32)) ? SPOT__SLOT_LOST : SPOT__SLOT_OTHER;
  if (at != seq)
    return SPOT__SLOT_OTHER;
  uint32_t dcrc = spot__slot_crc(seq, spot__slot_data(slot), log->elem_size);
  switch (spot__slot_check(seq, dcrc, (uint32_t)w, (uint32_t)(w >> 32), good_mark)) {
  case 1:
    return SPOT__SLOT_INTACT;
  case 2:
    return SPOT__SLOT_BADMARK;
  default:
    return SPOT__SLOT_DAMAGED;
  }
}

int spot__slot_valid(const spot_log_t *log, uint64_t seq) {
  return spot__slot_state(log, seq, NULL) == SPOT__SLOT_INTACT;
}

void spot__slot_bury(spot_log_t *log, uint64_t seq, uint32_t mark) {
  spot__slot_t *slot = spot__slot_at(log, seq);
  atomic_store_explicit((_Atomic uint64_t *)&slot->seq, 0, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  memset(spot__slot_data(slot), 0, log->elem_size);
  atomic_store_explicit(spot__slot_word(slot), spot__word(spot__tomb_crc(seq, mark), mark), memory_order_relaxed);
  atomic_store_explicit((_Atomic uint64_t *)&slot->seq, seq | SPOT__SEQ_LOST, memory_order_release);
}

int spot_log_read(spot_log_t *log, uint64_t seq, void *buf, size_t cap) {
  if (cap < log->elem_size)
    return spot__fail(SPOT_EINVAL, "read buffer of %zu bytes is smaller than the element size (%u)", cap,
                      log->elem_size);
  uint64_t hi = atomic_load_explicit((_Atomic uint64_t *)&log->hdr->next, memory_order_acquire) - 1;
  if (seq == 0 || seq > hi)
    return spot__fail(SPOT_ENOTYET, "log %s has no element %llu yet (latest is %llu)", log->path,
                      (unsigned long long)seq, (unsigned long long)hi);
  uint64_t floor = atomic_load_explicit((_Atomic uint64_t *)&log->hdr->floor, memory_order_relaxed);
  if (seq < floor || hi - seq >= log->history)
    goto expired;
  spot__slot_t *slot = spot__slot_at(log, seq);
  uint64_t at = atomic_load_explicit((_Atomic uint64_t *)&slot->seq, memory_order_acquire);
  if (at != seq) {
    if (at == (seq | SPOT__SEQ_LOST)) {
      uint32_t why = (uint32_t)(atomic_load_explicit(spot__slot_word(slot), memory_order_acquire) >> 32);
      return spot__fail(SPOT_EEXPIRED, "log %s: element %llu is lost (%s); the other elements are readable",
                        log->path, (unsigned long long)seq,
                        why == SPOT__LOST_CRASH    ? "it was not on disk yet when the machine went down"
                        : why == SPOT__LOST_WRITER ? "its writer died before it finished the element"
                                                   : "it was damaged, and `spot check --fix` marked it lost");
    }
    if (at & SPOT__SEQ_PENDING)
      goto expired; /* reserved by the append of seq + history, which is overwriting it */
    /* A newer element or its tombstone: the ring moved on. The oldest element of a full ring may be under
     * overwrite (its slot's number is 0 meanwhile): expired too. Anything else in a slot of the window is damage
     * to the slot's number. */
    uint64_t other = at & ~SPOT__SEQ_LOST;
    if (other > seq && (other - seq) % log->history == 0)
      goto expired;
    hi = atomic_load_explicit((_Atomic uint64_t *)&log->hdr->next, memory_order_acquire) - 1;
    if (hi - seq + 1 >= log->history)
      goto expired;
    goto damaged;
  }
  memcpy(buf, spot__slot_data(slot), log->elem_size);
  uint64_t w = atomic_load_explicit(spot__slot_word(slot), memory_order_relaxed);
  atomic_thread_fence(memory_order_acquire);
  if (atomic_load_explicit((_Atomic uint64_t *)&slot->seq, memory_order_relaxed) != seq)
    goto expired; /* overwritten while we copied */
  /* Data that fits its crc is served even when the mark does not (spot__slot_check's 2): the data is intact. */
  uint32_t dcrc = spot__slot_crc(seq, buf, log->elem_size);
  if (w != spot__word(dcrc, 0) && spot__slot_check(seq, dcrc, (uint32_t)w, (uint32_t)(w >> 32), NULL) == 0)
    goto damaged;
  return 0;
damaged:
  return spot__fail(SPOT_ECORRUPT,
                    "log %s: element %llu is damaged (checksum mismatch); the other elements are readable: run "
                    "`spot check LOG` to list the damage (`--fix` marks damaged elements lost)",
                    log->path, (unsigned long long)seq);
expired:
  return spot__fail(SPOT_EEXPIRED, "log %s: element %llu has expired (the log keeps %llu elements; latest is %llu)",
                    log->path, (unsigned long long)seq, (unsigned long long)log->history, (unsigned long long)hi);
}

int spot_log_iterate(spot_log_t *log, uint64_t from, uint64_t to, spot_log_iter_fn fn, void *arg) {
  uint64_t lo, hi;
  spot_log_earliest(log, &lo);
  spot_log_latest(log, &hi);
  if (from < lo)
    from = lo;
  if (to > hi)
    to = hi;
  if (lo == 0 || from > to)
    return 0;
  uint8_t *buf = malloc(log->elem_size);
  if (buf == NULL)
    return SPOT_ENOMEM;
  int rc = 0;
  for (uint64_t s = from; s <= to && rc == 0; s++) {
    rc = spot_log_read(log, s, buf, log->elem_size);
    if (rc == SPOT_EEXPIRED) {
      rc = 0;
      continue;
    }
    if (rc == 0)
      rc = fn(s, buf, log->elem_size, arg);
  }
  free(buf);
  return rc;
}

uint32_t spot__log_elem_size(const spot_log_t *log) { return log->elem_size; }

void spot__log_no_turns(spot_log_t *log) { log->no_turns = 1; }

int spot_log_info(spot_log_t *log, spot_log_info_t *out) {
  memset(out, 0, sizeof *out);
  out->elem_size = log->elem_size;
  out->history = log->history;
  out->sync = log->sync;
  out->batch_us = log->hdr->batch_us;
  spot_log_latest(log, &out->latest);
  spot_log_earliest(log, &out->earliest);
  out->durable = atomic_load_explicit((_Atomic uint64_t *)&log->hdr->synced, memory_order_acquire);
  out->file_bytes = log->map_bytes;
  out->log_id = log->hdr->log_id;
  out->created_ns = log->hdr->created_ns;
  return 0;
}
