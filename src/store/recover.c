/*
 * recover.c: recovery of a log at open by its only opener, and the read-only check of an open log.
 *
 * Recovery finds the newest element E and the oldest readable one (the floor), clears every slot outside that
 * window that is torn or would otherwise read as valid, and rewrites the header's progress fields.
 *
 * Same boot (the machine has not restarted since the file was last recovered): the page cache is the truth. E is
 * `next - 1`, extended by an append that finished writing its slot but died before publishing it. Every element
 * of the window must be intact except the oldest, whose slot the next append may have been overwriting; any other
 * damaged slot is corruption in the middle: refused, unless SPOT_LOG_FIX, which keeps the newest intact run.
 *
 * After a restart (a power cut): the header's durable hint X (<= the last acknowledged durable element) is the
 * start. Durable logs never overwrite an element newer than X (log.c), so every element from X up to the last
 * acknowledged one is intact: E is the end of the run of intact elements going up from X, and whatever lies past a
 * gap above is a torn tail of unacknowledged appends. Below, the floor is where the intact run going down from E
 * stops (slots there may have been torn by overwrites in flight). A `none` log promises nothing across a power
 * cut; its E is the newest intact element.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "store/log_impl.h"

typedef struct scan {
  uint8_t *valid; /* bit per slot: holds an intact element of the right number */
  uint64_t max;   /* newest intact element, 0 if none */
  uint64_t nvalid;
  uint64_t torn; /* slots neither empty nor intact */
} scan_t;

static int bit(const uint8_t *b, uint64_t i) { return (b[i >> 3] >> (i & 7)) & 1; }

static int scan_slots(spot_log_t *log, scan_t *sc) {
  memset(sc, 0, sizeof *sc);
  sc->valid = calloc((size_t)(log->history + 7) / 8, 1);
  if (sc->valid == NULL)
    return SPOT_ENOMEM;
  for (uint64_t i = 0; i < log->history; i++) {
    spot__slot_t *slot = (spot__slot_t *)(log->slots + i * log->slot_bytes);
    uint64_t s = slot->seq;
    if (s != 0 && (s - 1) % log->history == i && spot__slot_valid(log, s)) {
      sc->valid[i >> 3] |= (uint8_t)(1u << (i & 7));
      sc->nvalid++;
      if (s > sc->max)
        sc->max = s;
    } else if (s != 0 || slot->crc != 0) {
      sc->torn++;
    }
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

int spot__log_recover(spot_log_t *log, int same_boot, unsigned flags, spot_log_report_t *rep) {
  spot__loghdr_t *h = log->hdr;
  scan_t sc;
  int rc = scan_slots(log, &sc);
  if (rc != 0)
    return rc;
  uint64_t next = h->next, E, a;
  rep->power_loss = !same_boot;
  rep->valid_slots = sc.nvalid;

  if (same_boot && next >= 1 && next - 1 <= sc.max + 1) {
    /* (The newest element may be missing only when history is 1 and an append was overwriting it.) */
    E = walk_up(log, &sc, next - 1);
    a = walk_down(log, &sc, E);
    uint64_t ring_lo = E >= log->history ? E - log->history + 1 : 1;
    uint64_t lo = ring_lo < h->floor ? h->floor : ring_lo;
    /* Only the oldest slot of the ring may be missing (the overwrite of an append cut short). */
    uint64_t allowed = (lo == ring_lo && E >= log->history) ? lo + 1 : lo;
    if (E > 0 && a > allowed && !(flags & SPOT_LOG_FIX)) {
      rep->damaged_seq = a - 1;
      rc = spot__fail(SPOT_ECORRUPT,
                      "log %s is damaged in the middle: element %llu fails its checksum while newer ones are intact; "
                      "run `spot check LOG --fix` to keep elements %llu to %llu and drop the older ones",
                      log->path, (unsigned long long)(a - 1), (unsigned long long)a, (unsigned long long)E);
      goto out;
    }
  } else if (same_boot || (log->sync != SPOT_SYNC_NONE && h->durable_hint > sc.max)) {
    /* The header disagrees with the slots (same boot), or durable elements are gone: refuse, unless asked to
     * keep the newest intact run. */
    if (!(flags & SPOT_LOG_FIX)) {
      uint64_t claimed = same_boot ? next - 1 : h->durable_hint;
      rep->damaged_seq = sc.max + 1;
      rc = spot__fail(SPOT_ECORRUPT,
                      "log %s is damaged: its header says elements up to %llu exist but the newest intact one is "
                      "%llu; run `spot check LOG --fix` to keep what is intact",
                      log->path, (unsigned long long)claimed, (unsigned long long)sc.max);
      goto out;
    }
    E = sc.max;
    a = walk_down(log, &sc, E);
  } else if (log->sync == SPOT_SYNC_NONE) {
    /* A `none` log promises nothing across a power cut (its ring does not wait for syncs, so even a synced
     * element may have been overwritten): keep the newest intact run. */
    E = sc.max;
    a = walk_down(log, &sc, E);
  } else {
    E = walk_up(log, &sc, h->durable_hint);
    a = intact(log, &sc, E) ? walk_down(log, &sc, E) : E + 1;
  }

  /* Clear every slot that does not hold an element of [a, E]. */
  uint64_t kept = 0;
  for (uint64_t i = 0; i < log->history; i++) {
    spot__slot_t *slot = (spot__slot_t *)(log->slots + i * log->slot_bytes);
    int keep = bit(sc.valid, i) && slot->seq >= a && slot->seq <= E;
    if (keep) {
      kept++;
      continue;
    }
    if (slot->seq == 0 && slot->crc == 0)
      continue;
    if (bit(sc.valid, i))
      rep->dropped++;
    else
      rep->torn_slots++;
    slot->seq = 0;
    slot->crc = 0;
    slot->pending = 0;
    rep->repaired = 1;
  }
  uint64_t floor = a > E ? E + 1 : a;
  if (h->next != E + 1 || h->floor != floor)
    rep->repaired = 1;
  h->next = E + 1;
  h->floor = floor;
  rep->latest = E;
  rep->earliest = kept ? a : 0;
  rep->valid_slots = kept;
  if (same_boot) {
    if (h->synced > E)
      h->synced = E;
    if (h->durable_hint > E)
      h->durable_hint = E;
    if (h->hint_on_disk > E)
      h->hint_on_disk = E;
  } else {
    /* What survived a restart was read from the disk, so it is durable. Repairs are synced, so that a later power
     * cut cannot bring back a slot that was cleared here. */
    if (h->durable_hint > E)
      h->durable_hint = E;
    if (rep->repaired) {
      h->durable_hint = E;
      rc = log->io->sync(log->file);
      if (rc != 0) {
        rc = spot__fail(rc, "cannot sync the recovered log %s: %s", log->path, spot_strerror(rc));
        goto out;
      }
    }
    h->synced = E;
    h->hint_on_disk = h->durable_hint;
  }
out:
  free(sc.valid);
  return rc;
}

int spot_log_verify(spot_log_t *log, spot_log_report_t *report) {
  spot_log_report_t r;
  memset(&r, 0, sizeof r);
  int rc = 0;
  spot__pmutex_lock(log->hdr->mutex); /* no append runs meanwhile: the window is stable */
  uint64_t hi, lo;
  spot_log_latest(log, &hi);
  spot_log_earliest(log, &lo);
  r.latest = hi;
  r.earliest = lo;
  for (uint64_t s = lo; lo != 0 && s <= hi; s++) {
    if (spot__slot_valid(log, s)) {
      r.valid_slots++;
    } else if (r.damaged_seq == 0) {
      r.damaged_seq = s;
    }
  }
  spot__pmutex_unlock(log->hdr->mutex);
  if (r.damaged_seq)
    rc = spot__fail(SPOT_ECORRUPT, "log %s: element %llu is damaged (checksum mismatch); run `spot check LOG --fix`",
                    log->path, (unsigned long long)r.damaged_seq);
  if (report)
    *report = r;
  return rc;
}
