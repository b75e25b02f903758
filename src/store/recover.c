/*
 * recover.c: recovery of a log at open by its only opener, the migration of older formats, and the read-only check
 * of an open log.
 *
 * Recovery finds `top`, the newest sequence number the file shows was handed out, and the window [floor, top] of
 * the elements still kept; every element of the window ends up intact, lost (a tombstone) or, without
 * SPOT_LOG_FIX, damaged and reported. Slots outside the window are cleared. `next` becomes top + 1 and never goes
 * back: the header's `next` and every intact element or tombstone in a slot are proof of numbers handed out.
 *
 * Same boot, plain open (recover_fast): the header's `next` says where to look. Only the appends under way at
 * `next` and the newest SPOT__RECOVER_TAIL elements are read, so an open costs the same for 1 MiB and 1 TiB; a
 * header that disagrees with those slots falls back to the full scan below. A file is created as recovered in the
 * boot that creates it, so its first open reads no slot either.
 *
 * Same boot, full scan (SPOT_LOG_FIX, or a header that disagrees): the page cache is the truth. top is
 * `next - 1`, extended by an append that finished writing its slot but died before publishing it. The oldest slot
 * of a full ring may be cleared by an append cut short (it invalidates the slot first): that element expires.
 * Every other element of the window that is not intact is damage in the middle: reported by number, left as it is
 * (reads of it fail with SPOT_ECORRUPT, every other element stays readable), and marked lost by SPOT_LOG_FIX.
 *
 * After a restart (a power cut): the header's durable hint X (<= the last acknowledged durable element) is the
 * start. Durable logs never overwrite an element newer than X (log.c), so every element from X up to the last
 * acknowledged one is intact: E is the end of the run of intact elements going up from X; elements above E that
 * are not intact are a torn tail of unacknowledged appends and become tombstones (lost in the crash), with no
 * SPOT_LOG_FIX needed. Below, the floor is where the intact run going down from E stops: slots there may have been
 * torn by overwrites in flight, which cannot be told apart from damage. A `none` log promises nothing across a
 * power cut; its E is the newest intact element.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "store/log_impl.h"

typedef struct scan {
  uint8_t *valid; /* bit per slot: holds the intact data of the element of its number */
  uint64_t max;   /* newest intact element, 0 if none */
  uint64_t top;   /* newest number a slot proves was handed out (intact data or a tombstone), 0 if none */
} scan_t;

static int bit(const uint8_t *b, uint64_t i) { return (b[i >> 3] >> (i & 7)) & 1; }

static int scan_slots(spot_log_t *log, scan_t *sc) {
  memset(sc, 0, sizeof *sc);
  sc->valid = calloc((size_t)(log->history + 7) / 8, 1);
  if (sc->valid == NULL)
    return SPOT_ENOMEM;
  for (uint64_t i = 0; i < log->history; i++) {
    spot__slot_t *slot = (spot__slot_t *)(log->slots + i * log->slot_bytes);
    uint64_t s = slot->seq & ~SPOT__SEQ_LOST;
    if (s == 0 || (slot->seq & SPOT__SEQ_PENDING) || (s - 1) % log->history != i)
      continue;
    spot__slot_state_t st = spot__slot_state(log, s, NULL);
    if (st == SPOT__SLOT_INTACT || st == SPOT__SLOT_BADMARK) {
      sc->valid[i >> 3] |= (uint8_t)(1u << (i & 7));
      if (s > sc->max)
        sc->max = s;
    }
    if ((st == SPOT__SLOT_INTACT || st == SPOT__SLOT_BADMARK || st == SPOT__SLOT_LOST) && s > sc->top)
      sc->top = s;
  }
  return 0;
}

/* Element s is intact (from the scan). */
static int intact(const spot_log_t *log, const scan_t *sc, uint64_t s) {
  if (s == 0)
    return 0;
  uint64_t i = (s - 1) % log->history;
  return bit(sc->valid, i) && spot__slot_at(log, s)->seq == s;
}

static uint64_t walk_up(const spot_log_t *log, const scan_t *sc, uint64_t from) {
  uint64_t e = from;
  while (intact(log, sc, e + 1) && e + 1 - from <= log->history)
    e++;
  return e;
}

/* Lowest a such that every element of [a, e] is intact and inside e's window (a == e + 1 if e is not intact). */
static uint64_t walk_down(const spot_log_t *log, const scan_t *sc, uint64_t e) {
  uint64_t lo = e >= log->history ? e - log->history + 1 : 1;
  uint64_t a = e + 1;
  while (a > lo && intact(log, sc, a - 1))
    a--;
  return a;
}

static uint64_t max_u64(uint64_t a, uint64_t b) { return a > b ? a : b; }

/* The oldest number of top's window that is not below floor. */
static uint64_t window_lo(const spot_log_t *log, uint64_t top, uint64_t floor) {
  uint64_t lo = top >= log->history ? top - log->history + 1 : 1;
  return max_u64(lo, floor ? floor : 1);
}

/* Brings every element of [a, top] to intact, lost or (without SPOT_LOG_FIX) reported damage. Elements above
 * tail_from that are not intact are a torn tail: buried as lost in a crash (after a restart) or with their dead
 * writer (in the same boot). */
static void settle_window(spot_log_t *log, uint64_t a, uint64_t top, uint64_t tail_from, int same_boot,
                          unsigned flags, spot_log_report_t *rep) {
  for (uint64_t s = a; s <= top && s != 0; s++) {
    uint32_t good = 0;
    spot__slot_state_t st = spot__slot_state(log, s, &good);
    if (st == SPOT__SLOT_INTACT || st == SPOT__SLOT_BADMARK) {
      rep->valid_slots++;
      spot__slot_t *slot = spot__slot_at(log, s);
      uint64_t w = atomic_load_explicit(spot__slot_word(slot), memory_order_relaxed);
      if (st == SPOT__SLOT_BADMARK) {
        rep->bad_marks++;
        if (rep->bad_mark_seq == 0)
          rep->bad_mark_seq = s;
        if (!(flags & SPOT_LOG_FIX))
          continue;
        /* the crc covers `good`: restore it (0 for a mark set by hand, the unflipped one otherwise) */
        w = spot__word((uint32_t)w, good);
        atomic_store_explicit(spot__slot_word(slot), w, memory_order_release);
        rep->repaired = 1;
      }
      if ((w >> 32) != 0)
        rep->marked++;
      continue;
    }
    if (st != SPOT__SLOT_LOST) {
      if (s > tail_from) {
        rep->torn_slots++;
        /* in the same boot, an append whose writer died (a reservation below a committed element) */
        spot__slot_bury(log, s, same_boot ? SPOT__LOST_WRITER : SPOT__LOST_CRASH);
        rep->repaired = 1;
      } else {
        rep->damaged++;
        if (rep->damaged_seq == 0)
          rep->damaged_seq = s;
        if (!(flags & SPOT_LOG_FIX))
          continue;
        spot__slot_bury(log, s, SPOT__LOST_DAMAGED);
        rep->repaired = 1;
      }
    }
    rep->lost++;
    if (rep->lost_seq == 0)
      rep->lost_seq = s;
  }
}

/* Clears every slot that does not belong to an element of [a, top]. */
static void clear_outside(spot_log_t *log, const scan_t *sc, uint64_t a, uint64_t top, spot_log_report_t *rep) {
  for (uint64_t i = 0; i < log->history; i++) {
    /* the newest number <= top that lives in slot i, if any, is in the window when it is >= a */
    if (top >= i + 1 && top - (top - 1 - i) % log->history >= a)
      continue;
    spot__slot_t *slot = (spot__slot_t *)(log->slots + i * log->slot_bytes);
    if (slot->seq == 0 && slot->crc == 0 && slot->pending == 0)
      continue;
    if (bit(sc->valid, i))
      rep->dropped++;
    else
      rep->torn_slots++;
    slot->seq = 0;
    atomic_store_explicit(spot__slot_word(slot), 0, memory_order_relaxed);
    rep->repaired = 1;
  }
}

/* Writes the outcome of a recovery that settled the window [a, top] (a > top: no element is kept) into the header
 * (`next` is top + 1, never back: every caller has top >= next - 1; `floor` is a, or top + 1 for an empty window)
 * and into the report (latest, earliest: 0 for an empty window). A header that changes counts as a repair. */
static void finish_header(spot_log_t *log, uint64_t a, uint64_t top, spot_log_report_t *rep) {
  spot__loghdr_t *h = log->hdr;
  uint64_t floor = a > top ? top + 1 : a;
  if (h->next != top + 1 || h->floor != floor)
    rep->repaired = 1;
  h->next = top + 1;
  h->floor = floor;
  rep->latest = top;
  rep->earliest = a <= top ? a : 0;
}

/* In the same boot, the sync positions (synced, the durable hint and its copy on disk) cannot be above top. */
static void clamp_sync_positions(spot__loghdr_t *h, uint64_t top) {
  if (h->synced > top)
    h->synced = top;
  if (h->durable_hint > top)
    h->durable_hint = top;
  if (h->hint_on_disk > top)
    h->hint_on_disk = top;
}

/* ---- the same boot without a scan ---- */

/* 1 if the slot of r, for r in [next, next + history), is taken by r: its element (intact or not), its tombstone,
 * or a reservation (which there can only be r's; core/logfmt.h). */
static int taken(const spot_log_t *log, uint64_t r) {
  uint64_t v = spot__slot_at(log, r)->seq;
  return (v & SPOT__SEQ_PENDING) || (v & ~SPOT__SEQ_LOST) == r;
}

/* 1 if element s was displaced by an append of s + history under way when the writers died: its slot is reserved
 * or cleared (seq 0, an append cut short in version 2), and s + history is not beyond the appends under way (end:
 * the first number past them). */
static int displaced(const spot_log_t *log, uint64_t s, uint64_t end) {
  uint64_t v = spot__slot_at(log, s)->seq;
  return (v == 0 || (v & SPOT__SEQ_PENDING)) && s + log->history <= end;
}

/* The first number from next on whose slot is not taken by it: [next, end) are the appends under way. */
static uint64_t under_way_end(const spot_log_t *log, uint64_t next) {
  uint64_t end = next;
  while (end < next + log->history && taken(log, end))
    end++;
  return end;
}

/* Recovery in the same boot that reads only what the header points at: the slots of the appends that were under
 * way at `next` (an append that finished its slot but not `next`, or one cut short) and the newest
 * SPOT__RECOVER_TAIL elements of the window, so an open costs the same at any size. The page cache is the truth
 * and earlier recoveries cleared everything outside the window, so nothing else can have changed; damage anywhere
 * else is found by reads (checksums) and by `spot check` (spot_log_verify reads the whole window). Returns 1 when
 * done; 0 when the header does not agree with the slots (the full scan must judge: damage), without changing
 * anything. */
static int recover_fast(spot_log_t *log, spot_log_report_t *rep) {
  spot__loghdr_t *h = log->hdr;
  uint64_t H = log->history, N = h->next, floor = h->floor;
  if (N == 0 || N >= SPOT__SEQ_LOST || floor > N)
    return 0;
  /* The appends under way at N: committed (not yet published), reserved, or (version 2) cut short. */
  uint64_t end = under_way_end(log, N), top = N - 1;
  for (uint64_t r = N; r < end; r++) {
    spot__slot_state_t st = spot__slot_state(log, r, NULL);
    if (st == SPOT__SLOT_INTACT || st == SPOT__SLOT_BADMARK || st == SPOT__SLOT_LOST)
      top = r;
  }
  /* The header agrees with the slots when the newest published element is in its slot (or was displaced). */
  if (N > 1 && (spot__slot_at(log, N - 1)->seq & ~SPOT__SEQ_LOST) != N - 1 && !displaced(log, N - 1, end))
    return 0;
  uint64_t a = window_lo(log, top, floor);
  if (end > H)
    a = max_u64(a, end - H);
  while (a <= top && displaced(log, a, end))
    a++;
  uint64_t from = top >= SPOT__RECOVER_TAIL ? top - SPOT__RECOVER_TAIL + 1 : 1;
  settle_window(log, max_u64(a, from), top, N - 1, 1, 0, rep);
  for (uint64_t r = top + 1; r < end; r++) { /* reserved or damaged above the newest whole one: unacknowledged */
    spot__slot_t *slot = spot__slot_at(log, r);
    slot->seq = 0;
    atomic_store_explicit(spot__slot_word(slot), 0, memory_order_relaxed);
    rep->torn_slots++;
    rep->repaired = 1;
  }
  spot__slot_t *cut = spot__slot_at(log, end); /* an append cut short after it cleared its slot */
  if (cut->seq == 0 && atomic_load_explicit(spot__slot_word(cut), memory_order_relaxed) != 0) {
    atomic_store_explicit(spot__slot_word(cut), 0, memory_order_relaxed);
    rep->torn_slots++;
    rep->repaired = 1;
  }
  finish_header(log, a, top, rep);
  clamp_sync_positions(h, top);
  return 1;
}

/* ---- after a restart, from the high-water mark ---- */

/* 1 if the slot of s holds element s with intact data. */
static int whole(const spot_log_t *log, uint64_t s) {
  if (s == 0)
    return 0;
  spot__slot_state_t st = spot__slot_state(log, s, NULL);
  return st == SPOT__SLOT_INTACT || st == SPOT__SLOT_BADMARK;
}

/* Recovery after a restart of a durable log that reads only the slots of numbers in (X, M], X the durable hint on
 * disk (its element intact or a tombstone) and M the high-water mark on disk (core/logfmt.h, version 4), plus a few beyond M: every element up to X was
 * synced, and no slot on disk holds a number above M, so the slots of (X, M] are the only ones the crash can have
 * touched; every other slot holds an element of [M - history + 1, X], intact as synced. It finds what the full scan
 * below would (the same rules: walk up from X, down from there, torn tail buried, outside cleared) in those slots.
 * A mark that fails its check, or that the header or the slots contradict (a number above M, next or X above M, M
 * absurdly far above next, X's slot holding neither X nor its tombstone), returns 0 without changing anything: the full scan judges.
 * What the mark cannot show: a damaged slot outside (X, M] that holds a number above M (reads and `spot check`
 * find damage there as before). */
static int recover_mark(spot_log_t *log, spot_log_report_t *rep) {
  spot__loghdr_t *h = log->hdr;
  uint64_t H = log->history, K = spot__hwm_span(log->slot_bytes, log->history), M = h->hwm, X = h->durable_hint, N = h->next;
  if (log->sync == SPOT_SYNC_NONE || h->hwm_check != spot__hwm_check(h, M))
    return 0;
  if (N == 0 || N > SPOT__SEQ_PENDING || M >= SPOT__SEQ_PENDING || N - 1 > M || X > M || X > N - 1)
    return 0;
  if (M - (N - 1) > H + K || M - X >= H) /* too high to be a mark a round set, or nothing to gain */
    return 0;
  if (X > 0 && !whole(log, X) && spot__slot_state(log, X, NULL) != SPOT__SLOT_LOST)
    return 0; /* X was synced: a slot that holds neither it nor its tombstone is damage, for the full scan */
  uint64_t probe_end = M - X + 64 < H ? M + 64 : X + H;
  for (uint64_t r = X + 1; r <= probe_end; r++) {
    uint64_t v = spot__slot_at(log, r)->seq;
    if (!(v & SPOT__SEQ_PENDING) && (v & ~SPOT__SEQ_LOST) > M)
      return 0; /* the mark is too low: the full scan must find every such number */
  }
  /* E: the end of the intact run from X. top: the newest number shown handed out. */
  uint64_t E = X, top = N - 1;
  while (E < M && whole(log, E + 1))
    E++;
  for (uint64_t r = X + 1; r <= M; r++) {
    spot__slot_state_t st = spot__slot_state(log, r, NULL);
    if ((st == SPOT__SLOT_INTACT || st == SPOT__SLOT_BADMARK || st == SPOT__SLOT_LOST) && r > top)
      top = r;
  }
  top = max_u64(top, E);
  /* a: walk down from E. Elements of [M - H + 1, X] were synced and their slots untouched since: intact. */
  uint64_t lo = E >= H ? E - H + 1 : 1, a = E + 1, trusted_lo = M >= H ? M - H + 1 : 1;
  while (whole(log, E) && a > lo) { /* (as the full scan: a tombstone at E keeps nothing below it) */
    uint64_t s = a - 1;
    if (s <= X && s >= trusted_lo) {
      a = max_u64(lo, trusted_lo);
      continue;
    }
    if (!whole(log, s))
      break;
    a--;
  }
  a = max_u64(a, window_lo(log, top, 1));
  settle_window(log, max_u64(a, X + 1), top, E, 0, 0, rep);
  /* Clear the slots of (X, M] that hold nothing of the window [a, top]. */
  for (uint64_t r = X + 1; r <= M; r++) {
    uint64_t w = r <= top ? r : (r > H ? r - H : 0);
    if (w != 0 && w >= a && w <= top)
      continue;
    spot__slot_t *slot = spot__slot_at(log, r);
    if (slot->seq == 0 && slot->crc == 0 && slot->pending == 0)
      continue;
    uint64_t at = slot->seq & ~SPOT__SEQ_LOST;
    if (!(slot->seq & SPOT__SEQ_PENDING) && at != 0 && whole(log, at))
      rep->dropped++;
    else
      rep->torn_slots++;
    slot->seq = 0;
    atomic_store_explicit(spot__slot_word(slot), 0, memory_order_relaxed);
    rep->repaired = 1;
  }
  finish_header(log, a, top, rep);
  return 1;
}

int spot__log_recover(spot_log_t *log, int same_boot, unsigned flags, spot_log_report_t *rep) {
  spot__loghdr_t *h = log->hdr;
  rep->power_loss = !same_boot;
  if (same_boot && !(flags & SPOT_LOG_FIX) && recover_fast(log, rep)) {
    if (log->sync != SPOT_SYNC_NONE && h->hwm_check != spot__hwm_check(h, h->hwm)) {
      /* a damaged mark: the next round writes a good one before any append goes above `next` */
      h->hwm = h->next - 1;
      h->hwm_check = spot__hwm_check(h, h->hwm);
      h->hwm_on_disk = 0;
    }
    return 0;
  }
  if (!same_boot && !(flags & SPOT_LOG_FIX) && recover_mark(log, rep)) {
    int rc = 0;
    if (h->durable_hint > rep->latest)
      h->durable_hint = rep->latest;
    if (rep->repaired) {
      h->durable_hint = rep->latest;
      rc = spot__log_sync_all(log);
      if (rc != 0)
        return spot__fail(rc, "cannot sync the recovered log %s: %s", log->path, spot_strerror(rc));
    }
    h->synced = rep->latest;
    h->hint_on_disk = h->durable_hint;
    h->hwm_on_disk = h->hwm; /* read from the disk (or synced just now) */
    return 0;
  }
  memset(rep, 0, sizeof *rep);
  rep->power_loss = !same_boot;
  rep->scanned_all = 1;
  scan_t sc;
  int rc = scan_slots(log, &sc);
  if (rc != 0)
    return rc;
  uint64_t next = h->next ? h->next : 1, E, a, top, tail_from;
  if (next > SPOT__SEQ_LOST) {
    /* No log ever reaches 2^63 appends: the header's next is damaged. Only the slots can say what was handed out. */
    if (same_boot && !(flags & SPOT_LOG_FIX)) {
      rc = spot__fail(SPOT_ECORRUPT,
                      "log %s is damaged: its header's next sequence number (%llu) is impossible; run `spot check "
                      "LOG --fix` to go on after the newest number in its slots (%llu)",
                      log->path, (unsigned long long)next, (unsigned long long)sc.top);
      goto out;
    }
    next = sc.top + 1;
  }

  if (same_boot) {
    /* (The newest element may be missing only when history is 1 and an append was overwriting it.) */
    E = walk_up(log, &sc, next - 1);
    top = max_u64(E, sc.top);
    a = window_lo(log, top, h->floor <= top + 1 ? h->floor : 1); /* a floor above top is damage: ignore it */
    if (sc.max != 0 && sc.max < a && !(flags & SPOT_LOG_FIX)) {
      /* Every intact element lies below the window: in the same boot only a damaged `next` does that. Numbers
       * cannot go back, so keeping them means letting them expire: only on request. */
      rep->damaged_seq = a;
      rc = spot__fail(SPOT_ECORRUPT,
                      "log %s is damaged: its header says the latest element is %llu, but the newest intact one is "
                      "%llu; run `spot check LOG --fix` to go on from %llu (the older elements then expire)",
                      log->path, (unsigned long long)top, (unsigned long long)sc.max, (unsigned long long)top);
      goto out;
    }
    /* Appends under way overwrote the oldest slots of a full ring (reserved, or cleared by version 2): those
     * elements have expired. Above the published `next - 1`, what is not intact was never acknowledged. */
    uint64_t end = next <= SPOT__SEQ_PENDING ? under_way_end(log, next) : next;
    if (end > log->history)
      a = max_u64(a, end - log->history);
    while (a <= top && displaced(log, a, end))
      a++;
    tail_from = next - 1 < top ? next - 1 : top;
  } else if (log->sync != SPOT_SYNC_NONE && h->durable_hint > sc.max && !(flags & SPOT_LOG_FIX)) {
    /* Durable elements are gone: refuse, unless asked to keep what is intact. */
    rep->damaged_seq = sc.max + 1;
    rc = spot__fail(SPOT_ECORRUPT,
                    "log %s is damaged: elements up to %llu were on disk but the newest intact one is %llu; run "
                    "`spot check LOG --fix` to keep what is intact and mark the rest lost",
                    log->path, (unsigned long long)h->durable_hint, (unsigned long long)sc.max);
    goto out;
  } else {
    if (log->sync == SPOT_SYNC_NONE || h->durable_hint > sc.max) {
      /* A `none` log promises nothing across a power cut (its ring does not wait for syncs, so even a synced
       * element may have been overwritten): keep the newest intact run. */
      E = sc.max;
      a = walk_down(log, &sc, E);
    } else {
      E = walk_up(log, &sc, h->durable_hint);
      a = intact(log, &sc, E) ? walk_down(log, &sc, E) : E + 1;
    }
    top = max_u64(max_u64(E, next - 1), sc.top);
    a = max_u64(a, window_lo(log, top, 1));
    /* Above E: a torn tail of appends not acknowledged, except that durable elements (up to the hint) are damage */
    tail_from = log->sync == SPOT_SYNC_NONE ? E : max_u64(E, h->durable_hint);
  }

  settle_window(log, a, top, tail_from, same_boot, flags, rep);
  clear_outside(log, &sc, a, top, rep);
  finish_header(log, a, top, rep); /* top >= next - 1: never back */
  if (same_boot) {
    clamp_sync_positions(h, top);
    if (rep->repaired && (flags & SPOT_LOG_FIX)) {
      rc = spot__log_sync_all(log); /* what --fix did lasts */
      if (rc != 0)
        rc = spot__fail(rc, "cannot sync the repaired log %s: %s", log->path, spot_strerror(rc));
    }
  } else {
    /* What survived a restart was read from the disk, so it is durable. Repairs are synced, so that a later power
     * cut cannot bring back a slot that was cleared here. */
    if (h->durable_hint > top)
      h->durable_hint = top;
    if (rep->repaired) {
      h->durable_hint = top;
      rc = spot__log_sync_all(log);
      if (rc != 0) {
        rc = spot__fail(rc, "cannot sync the recovered log %s: %s", log->path, spot_strerror(rc));
        goto out;
      }
    }
    h->synced = top;
    h->hint_on_disk = h->durable_hint;
  }
  /* After a restart every number on disk is <= top (the scan read them all): the mark starts again from there and
   * reaches the disk with the next round, before any append goes above top. In the same boot a good mark stays. */
  if (!same_boot || h->hwm_check != spot__hwm_check(h, h->hwm) || h->hwm < top) {
    h->hwm = log->sync != SPOT_SYNC_NONE ? top : 0;
    h->hwm_check = spot__hwm_check(h, h->hwm);
    h->hwm_on_disk = 0;
  }
out:
  free(sc.valid);
  return rc;
}

int spot__log_migrate(spot_log_t *log) {
  spot__loghdr_t *h = log->hdr;
  if (h->version < 1 || h->version > 3)
    return spot__fail(SPOT_EVERSION, "%s has log format version %u, which this spot cannot migrate", log->path,
                      h->version);
  /* Version 1 kept marks outside the crc. Extend the crc of every marked slot whose crc is a version-1 one; a slot
   * already extended (a migration cut short) or damaged is left for recovery to judge. Version 2 has the slots of
   * version 3 (its appends took a mutex instead of reserving): only the version changes. Version 3 lacks the
   * high-water mark: its fields are zero (never trusted), the next sync round sets them. */
  for (uint64_t i = 0; h->version == 1 && i < log->history; i++) {
    spot__slot_t *slot = (spot__slot_t *)(log->slots + i * log->slot_bytes);
    uint64_t s = slot->seq;
    uint64_t w = atomic_load_explicit(spot__slot_word(slot), memory_order_relaxed);
    uint32_t mark = (uint32_t)(w >> 32);
    if (s == 0 || s >= SPOT__SEQ_LOST || (s - 1) % log->history != i || mark == 0)
      continue;
    uint32_t dcrc = spot__slot_crc(s, spot__slot_data(slot), log->elem_size);
    if ((uint32_t)w == dcrc)
      atomic_store_explicit(spot__slot_word(slot), spot__word(dcrc ^ spot__mark_code(s, mark), mark),
                            memory_order_relaxed);
  }
  h->hwm = 0; /* a version-3 file never set these bytes: the mark starts untrusted, appends wait for a round */
  h->hwm_check = ~spot__hwm_check(h, 0);
  h->pad2 = 0;
  h->hwm_on_disk = 0;
  int rc = spot__log_sync_all(log);
  if (rc == 0) {
    h->version = SPOT__LOG_VERSION;
    h->hdr_crc = spot__hdr_crc(h);
    rc = spot__log_sync_all(log);
  }
  if (rc != 0)
    return spot__fail(rc, "cannot migrate %s to log format version %u: %s", log->path, SPOT__LOG_VERSION,
                      spot_strerror(rc));
  return 0;
}

int spot_log_verify(spot_log_t *log, spot_log_report_t *report) {
  spot_log_report_t r;
  memset(&r, 0, sizeof r);
  int rc = 0;
  uint64_t hi, lo;
  spot_log_latest(log, &hi);
  spot_log_earliest(log, &lo);
  r.latest = hi;
  r.earliest = lo;
  for (uint64_t s = lo; lo != 0 && s <= hi; s++) {
    spot__slot_state_t st = spot__slot_state(log, s, NULL);
    if (st != SPOT__SLOT_INTACT) {
      /* Appends run meanwhile: an element whose slot a newer append reserved (before it touched the bytes) has
       * expired, it is not damage. */
      atomic_thread_fence(memory_order_acquire);
      uint64_t v = atomic_load_explicit((_Atomic uint64_t *)&spot__slot_at(log, s)->seq, memory_order_acquire);
      uint64_t at = v & ~SPOT__SEQ_LOST;
      if ((v & SPOT__SEQ_PENDING) || (at > s && (at - s) % log->history == 0)) {
        r.earliest = s + 1;
        continue;
      }
    }
    switch (st) {
    case SPOT__SLOT_INTACT:
      r.valid_slots++;
      if ((atomic_load_explicit(spot__slot_word(spot__slot_at(log, s)), memory_order_relaxed) >> 32) != 0)
        r.marked++;
      break;
    case SPOT__SLOT_BADMARK:
      r.valid_slots++;
      r.bad_marks++;
      if (r.bad_mark_seq == 0)
        r.bad_mark_seq = s;
      break;
    case SPOT__SLOT_LOST:
      r.lost++;
      if (r.lost_seq == 0)
        r.lost_seq = s;
      break;
    default:
      r.damaged++;
      if (r.damaged_seq == 0)
        r.damaged_seq = s;
    }
  }
  if (r.damaged)
    rc = spot__fail(SPOT_ECORRUPT,
                    "log %s: %llu element(s) damaged, the first is %llu; every other element is readable: run `spot "
                    "check LOG --fix` to mark the damaged ones lost",
                    log->path, (unsigned long long)r.damaged, (unsigned long long)r.damaged_seq);
  else if (r.bad_marks)
    rc = spot__fail(SPOT_ECORRUPT,
                    "log %s: %llu element(s) carry a damaged handler mark, the first is %llu (their data is intact); "
                    "run `spot check LOG --fix` to repair the marks",
                    log->path, (unsigned long long)r.bad_marks, (unsigned long long)r.bad_mark_seq);
  if (report)
    *report = r;
  return rc;
}
