/*
 * device.c: the device runtime (device/device.h): logs in a retained RAM arena in the host's element format, a
 * handler table filled by the firmware's SPOT_HANDLER constructors, a run queue and the event log.
 *
 * Arena layout: a header (magic, version, size, node id; under a crc, written once at format), the boot counter,
 * the link's last put, the outbox's progress (the last put the edge took: one aligned 32-bit store, which a reset
 * cannot tear), SPOT__DEV_LOGS_MAX directory entries (name, geometry, offset; each under its own crc, so a reset while a log is
 * created loses at most that log), then the logs' slots. A slot is a host slot (core/logfmt.h): the same crc, the
 * same commit order (seq 0, data and crc+mark, seq), so recovery is the host's rule: keep what checks out.
 */
#include "device/device.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/crc32c.h"
#include "core/error.h"
#include "core/event.h"
#include "core/logfmt.h"
#include "core/name.h"
#include "platform/platform.h"

#define ARENA_MAGIC 0x56445053u /* "SPDV" */
#define ARENA_VERSION 2u /* 2: the outbox log and its progress (up_done) */
#define DEV_NAME_MAX 31u

typedef struct dirent_ {
  char name[DEV_NAME_MAX + 1];
  uint32_t elem_size, slot_bytes, history, offset;
  uint32_t crc; /* crc32c of the fields above; 0 with name[0] == 0: unused */
} dirent_t;

typedef struct arena_hdr {
  uint32_t magic, version, bytes, pad;
  uint64_t node;
  uint32_t crc; /* crc32c of the fields above */
  uint32_t boots;
  uint64_t last_id, last_seq; /* the link's last put (spot__dev_last_put) */
  uint32_t last_crc;          /* crc32c of last_id and last_seq */
  uint32_t up_done;           /* the outbox's puts up to this one were taken by the edge (or refused) */
  dirent_t dir[SPOT__DEV_LOGS_MAX];
} arena_hdr_t;

typedef struct runlog {
  const dirent_t *d;
  uint8_t *slots;
  uint64_t next; /* the number the next append gets */
} runlog_t;

typedef struct qent {
  uint8_t log;
  uint32_t mark;
  uint64_t seq, put_id;
} qent_t;

struct spot_ctx {
  uint64_t start_id;
  char detail[sizeof(((spot__event_t *)0)->reason)]; /* spot_fail(ctx, ...)'s line for the fail event, "" if none */
  char tail[sizeof(((spot__event_t *)0)->reason)];   /* the run's last spot_print line (without its prefix) */
};

static struct {
  arena_hdr_t *hdr;
  uint8_t *base;
  size_t bytes;
  runlog_t logs[SPOT__DEV_LOGS_MAX];
  unsigned nlogs;
  qent_t queue[SPOT__DEV_QUEUE_MAX];
  unsigned qhead, qlen;
  int rescan; /* pending marks left in the arena that did not fit the queue */
  spot__dev_stats_t stats;
  void (*console)(const char *text, size_t len);
} dev;

static const spot_handler_def_t *handlers[SPOT__DEV_HANDLERS_MAX];
static unsigned nhandlers;

/* ---- handlers ---- */

/* A handler's mark: a non-zero hash of its name, the same in every firmware build that links it. */
static uint32_t mark_of(const char *name) {
  uint32_t m = spot__crc32c(0, name, strlen(name));
  return m ? m : 1;
}

void spot_handler_register(const spot_handler_def_t *def) {
  if (def == NULL || def->abi != SPOT_HANDLER_ABI || nhandlers == SPOT__DEV_HANDLERS_MAX)
    return; /* the firmware's self-test lists what registered */
  for (unsigned i = 0; i < nhandlers; i++)
    if (strcmp(handlers[i]->name, def->name) == 0)
      return;
  handlers[nhandlers++] = def;
}

static const spot_handler_def_t *handler_by_mark(uint32_t mark) {
  for (unsigned i = 0; i < nhandlers; i++)
    if (mark_of(handlers[i]->name) == mark)
      return handlers[i];
  return NULL;
}

static const spot_handler_def_t *handler_by_name(const char *name) {
  for (unsigned i = 0; i < nhandlers; i++)
    if (strcmp(handlers[i]->name, name) == 0)
      return handlers[i];
  return NULL;
}

/* ---- slots ---- */

static spot__slot_t *slot_at(const runlog_t *l, uint64_t seq) {
  return (spot__slot_t *)(l->slots + (size_t)((seq - 1) % l->d->history) * l->d->slot_bytes);
}

static uint32_t dirent_crc(const dirent_t *d) { return spot__crc32c(0, d, offsetof(dirent_t, crc)); }

static int find_log(const char *name, runlog_t **out) {
  for (unsigned i = 0; i < dev.nlogs; i++)
    if (strcmp(dev.logs[i].d->name, name) == 0) {
      *out = &dev.logs[i];
      return 0;
    }
  return spot__fail(SPOT_ENOTFOUND, "the device has no log %s (create it first)", name);
}

/* The commit protocol of one append (core/logfmt.h): seq 0, data and crc+mark, seq, next. */
static uint64_t append(runlog_t *l, const void *data, size_t len, uint32_t mark) {
  uint64_t s = l->next;
  spot__slot_t *slot = slot_at(l, s);
  uint8_t *d = spot__slot_data(slot);
  /* one core, no other writer: only the order of the stores matters (a reset may come between any two) */
  *(volatile uint64_t *)&slot->seq = 0;
  __asm__ volatile("" ::: "memory");
  memcpy(d, data, len);
  memset(d + len, 0, l->d->elem_size - len);
  slot->crc = spot__slot_crc(s, d, l->d->elem_size) ^ spot__mark_code(s, mark);
  slot->pending = mark;
  __asm__ volatile("" ::: "memory");
  *(volatile uint64_t *)&slot->seq = s;
  l->next = s + 1;
  return s;
}

/* 1 if the slot holds element seq intact (its mark, the one the crc covers, into *mark), else 0. */
static int slot_ok(const runlog_t *l, const spot__slot_t *slot, uint64_t seq, uint32_t *mark) {
  if (slot->seq != seq)
    return 0;
  uint32_t dcrc = spot__slot_crc(seq, spot__slot_data((spot__slot_t *)slot), l->d->elem_size);
  uint32_t good = slot->pending;
  int ok = spot__slot_check(seq, dcrc, slot->crc, slot->pending, &good);
  if (ok == 0)
    return 0;
  *mark = ok == 1 ? slot->pending : good;
  return 1;
}

static uint64_t earliest_of(const runlog_t *l) {
  if (l->next <= 1)
    return 0;
  uint64_t lo = l->next > l->d->history ? l->next - l->d->history : 1;
  for (uint64_t s = lo; s < l->next; s++) /* the oldest intact element of the window */
    if (slot_at(l, s)->seq == s)
      return s;
  return 0;
}

/* ---- the event log ---- */

static uint64_t record(spot__event_t *e) {
  uint8_t rec[SPOT__EVENT_V1_BYTES]; /* the device's own records are version 1 (format() says why) */
  runlog_t *ev = &dev.logs[0];
  e->node = dev.hdr->node;
  e->time_ns = spot__wall_ns();
  e->id = ev->next;
  if (ev->d->elem_size != sizeof rec || spot__event_encode_as(e, rec, sizeof rec) != 0)
    return 0;
  return append(ev, rec, sizeof rec, 0);
}

/* ---- start: recover or format ---- */

static int add_runlog(const dirent_t *d) {
  runlog_t *l = &dev.logs[dev.nlogs];
  l->d = d;
  l->slots = dev.base + d->offset;
  l->next = 1;
  dev.nlogs++;
  return 0;
}

/* Recovers log l: keeps intact slots, clears torn ones, sets next, queues pending marks. */
static void recover(runlog_t *l, unsigned index) {
  uint64_t top = 0;
  for (uint32_t i = 0; i < l->d->history; i++) {
    spot__slot_t *slot = (spot__slot_t *)(l->slots + (size_t)i * l->d->slot_bytes);
    uint64_t s = slot->seq;
    uint32_t mark;
    if (s == 0)
      continue;
    if ((s - 1) % l->d->history != i || !slot_ok(l, slot, s, &mark)) {
      slot->seq = 0;
      dev.stats.torn++;
      continue;
    }
    dev.stats.recovered++;
    if (s > top)
      top = s;
  }
  l->next = top + 1;
  (void)index;
}

/* Queues the handler runs whose marks are set in the arena (at start, and when the queue had no room). */
static void scan_marks(void) {
  dev.rescan = 0;
  for (unsigned li = 2; li < dev.nlogs; li++) { /* not the event log nor the outbox: they carry no marks */
    runlog_t *l = &dev.logs[li];
    uint64_t lo = l->next > l->d->history ? l->next - l->d->history : 1;
    for (uint64_t s = lo; s < l->next; s++) {
      uint32_t mark;
      spot__slot_t *slot = slot_at(l, s);
      if (!slot_ok(l, slot, s, &mark) || mark == 0)
        continue;
      int queued = 0;
      for (unsigned k = 0; k < dev.qlen; k++) {
        const qent_t *q = &dev.queue[(dev.qhead + k) % SPOT__DEV_QUEUE_MAX];
        queued |= q->log == li && q->seq == s;
      }
      if (queued)
        continue;
      if (dev.qlen == SPOT__DEV_QUEUE_MAX) {
        dev.rescan = 1;
        return;
      }
      dev.queue[(dev.qhead + dev.qlen++) % SPOT__DEV_QUEUE_MAX] = (qent_t){(uint8_t)li, mark, s, 0};
      dev.stats.rerun++;
    }
  }
}

static int format(uint32_t events_history, uint64_t node) {
  arena_hdr_t *h = dev.hdr;
  memset(h, 0, sizeof *h);
  h->magic = ARENA_MAGIC;
  h->version = ARENA_VERSION;
  h->bytes = (uint32_t)dev.bytes;
  if (node == 0) {
    spot__random(&node, sizeof node);
    node |= 1;
  }
  h->node = node;
  h->crc = spot__crc32c(0, h, offsetof(arena_hdr_t, crc));
  /* version-1 records (256 bytes, a 47-byte reason): the device measures no CPU time or energy per run, and
   * version 2's 384 bytes would leave the 7 KiB arena too little room for the logs beside it; the link sends
   * them as version 2 */
  int rc = spot__dev_create(SPOT__DEV_EVENTS_LOG, SPOT__EVENT_V1_BYTES, events_history);
  return rc ? rc : spot__dev_create(SPOT__DEV_OUTBOX_LOG, sizeof(spot__dev_up_t), SPOT__DEV_UP_HISTORY);
}

int spot__dev_start(void *arena, size_t bytes, uint32_t events_history, uint64_t node) {
  if (arena == NULL || bytes < sizeof(arena_hdr_t) + 64 || events_history == 0)
    return spot__fail(SPOT_EINVAL, "device arena of %u bytes is too small", (unsigned)bytes);
  memset(&dev.logs, 0, sizeof dev.logs);
  dev.nlogs = 0;
  dev.qhead = dev.qlen = 0;
  memset(&dev.stats, 0, sizeof dev.stats);
  dev.hdr = arena;
  dev.base = arena;
  dev.bytes = bytes;
  arena_hdr_t *h = dev.hdr;
  int intact = h->magic == ARENA_MAGIC && h->version == ARENA_VERSION && h->bytes == bytes &&
               h->crc == spot__crc32c(0, h, offsetof(arena_hdr_t, crc));
  if (intact) {
    for (unsigned i = 0; i < SPOT__DEV_LOGS_MAX; i++) {
      dirent_t *d = &h->dir[i];
      if (d->name[0] == '\0' || d->crc != dirent_crc(d))
        break; /* entries are written in order: the first bad one ends the directory (a create cut by a reset) */
      add_runlog(d);
    }
    intact = dev.nlogs > 1 && strcmp(dev.logs[0].d->name, SPOT__DEV_EVENTS_LOG) == 0 &&
             strcmp(dev.logs[1].d->name, SPOT__DEV_OUTBOX_LOG) == 0;
  }
  if (!intact) {
    dev.nlogs = 0;
    int rc = format(events_history, node);
    if (rc != 0)
      return rc;
  }
  h->boots++;
  dev.stats.boots = h->boots;
  for (unsigned i = 0; i < dev.nlogs; i++)
    recover(&dev.logs[i], i);
  scan_marks();
  return 0;
}

uint64_t spot__dev_node(void) { return dev.hdr ? dev.hdr->node : 0; }
const spot__dev_stats_t *spot__dev_stats(void) { return &dev.stats; }

int spot__dev_create(const char *name, uint32_t elem_size, uint64_t history) {
  int rc = spot__name_check(name, "log");
  if (rc != 0 && strcmp(name, SPOT__DEV_EVENTS_LOG) != 0 && strcmp(name, SPOT__DEV_OUTBOX_LOG) != 0)
    return rc;
  if (strlen(name) > DEV_NAME_MAX)
    return spot__fail(SPOT_EBADNAME, "log name %s is longer than a device keeps (%u characters)", name, DEV_NAME_MAX);
  if (elem_size == 0 || elem_size > SPOT__ELEM_MAX || history == 0)
    return spot__fail(SPOT_EINVAL, "log %s: element size must be 1..%u and history at least 1", name, SPOT__ELEM_MAX);
  runlog_t *l;
  if (find_log(name, &l) == 0)
    return spot__fail(SPOT_EEXIST, "the device has a log %s already", name);
  if (dev.nlogs == SPOT__DEV_LOGS_MAX)
    return spot__fail(SPOT_ENOSPC, "the device has %u logs, all it can hold", SPOT__DEV_LOGS_MAX);
  uint32_t used = (uint32_t)((sizeof(arena_hdr_t) + 15u) & ~15u);
  for (unsigned i = 0; i < dev.nlogs; i++) {
    uint32_t end = dev.logs[i].d->offset + dev.logs[i].d->slot_bytes * dev.logs[i].d->history;
    if (end > used)
      used = end;
  }
  uint32_t slot_bytes = spot__slot_bytes(elem_size);
  if (history > (dev.bytes - used) / slot_bytes)
    return spot__fail(SPOT_ENOSPC, "log %s needs %llu bytes; the device's arena has %u left", name,
                      (unsigned long long)(history * slot_bytes), (unsigned)(dev.bytes - used));
  dirent_t *d = &dev.hdr->dir[dev.nlogs];
  memset(dev.base + used, 0, (size_t)history * slot_bytes); /* no slot of an earlier life survives */
  memset(d, 0, sizeof *d);
  memcpy(d->name, name, strlen(name));
  d->elem_size = elem_size;
  d->slot_bytes = slot_bytes;
  d->history = (uint32_t)history;
  d->offset = used;
  d->crc = dirent_crc(d); /* the entry counts from here on */
  spot__clear_detail();
  return add_runlog(d);
}

/* ---- puts, gets ---- */

static int put_local(const char *log, const void *data, size_t len, const char *handler, const spot_cause_t *cause,
                     uint64_t *seq) {
  runlog_t *l;
  int rc = find_log(log, &l);
  if (rc != 0)
    return rc;
  if (l == &dev.logs[0] || l == &dev.logs[1])
    return spot__fail(SPOT_EPERM, "the device's %s log is written by the device only", log + 1);
  if (len > l->d->elem_size)
    return spot__fail(SPOT_ETOOBIG, "element of %u bytes for log %s of %u-byte elements", (unsigned)len, log,
                      (unsigned)l->d->elem_size);
  uint32_t mark = 0;
  if (handler != NULL) {
    if (handler_by_name(handler) == NULL)
      return spot__fail(SPOT_ENOTFOUND, "handler %s is not linked into this firmware", handler);
    if (dev.qlen == SPOT__DEV_QUEUE_MAX)
      return spot__fail(SPOT_EBUSY, "the device has %u handler runs waiting; try again", SPOT__DEV_QUEUE_MAX);
    mark = mark_of(handler);
  }
  spot__slot_t *victim = slot_at(l, l->next);
  uint32_t vmark;
  if (victim->seq != 0 && slot_ok(l, victim, victim->seq, &vmark) && vmark != 0)
    return spot__fail(SPOT_EBUSY, "log %s: element %llu, which this put would overwrite, waits for its handler",
                      log, (unsigned long long)victim->seq);
  uint64_t s = append(l, data, len, mark);
  spot__event_t e;
  spot__event_put_init(&e, log, s, mark, handler, cause ? cause->node : 0, cause ? cause->event : 0);
  uint64_t put_id = record(&e);
  if (handler)
    dev.queue[(dev.qhead + dev.qlen++) % SPOT__DEV_QUEUE_MAX] = (qent_t){(uint8_t)(l - dev.logs), mark, s, put_id};
  if (seq)
    *seq = s;
  spot__clear_detail();
  return 0;
}

int spot__dev_put(const char *log, const void *data, size_t len, const char *handler, const spot_cause_t *cause,
                  uint64_t *seq) {
  if (log == NULL || (data == NULL && len > 0))
    return spot__fail(SPOT_EINVAL, "put needs a log name and data");
  return put_local(log, data, len, handler, cause, seq);
}

static int read_log(runlog_t *l, uint64_t seq, void *buf, size_t cap) {
  if (cap < l->d->elem_size)
    return spot__fail(SPOT_ERANGE, "buffer of %u bytes for %u-byte elements", (unsigned)cap,
                      (unsigned)l->d->elem_size);
  if (seq == 0 || seq >= l->next)
    return spot__fail(SPOT_ENOTYET, "log %s has no element %llu yet", l->d->name, (unsigned long long)seq);
  spot__slot_t *slot = slot_at(l, seq);
  uint32_t mark;
  if (slot->seq != seq || seq + l->d->history < l->next)
    return spot__fail(SPOT_EEXPIRED, "element %llu of log %s has expired", (unsigned long long)seq, l->d->name);
  if (!slot_ok(l, slot, seq, &mark))
    return spot__fail(SPOT_ECORRUPT, "element %llu of log %s is damaged", (unsigned long long)seq, l->d->name);
  memcpy(buf, spot__slot_data(slot), l->d->elem_size);
  return 0;
}

int spot__dev_get(const char *log, uint64_t seq, void *buf, size_t cap) {
  runlog_t *l;
  int rc = find_log(log, &l);
  if (rc == 0)
    rc = read_log(l, seq, buf, cap);
  if (rc == 0)
    spot__clear_detail();
  return rc;
}

int spot__dev_peek(const char *log, uint64_t seq, const void **data, uint32_t *size) {
  runlog_t *l;
  int rc = find_log(log, &l);
  if (rc != 0)
    return rc;
  uint32_t mark;
  if (seq == 0 || seq >= l->next)
    return spot__fail(SPOT_ENOTYET, "log %s has no element %llu yet", log, (unsigned long long)seq);
  spot__slot_t *slot = slot_at(l, seq);
  if (slot->seq != seq || seq + l->d->history < l->next)
    return spot__fail(SPOT_EEXPIRED, "element %llu of log %s has expired", (unsigned long long)seq, log);
  if (!slot_ok(l, slot, seq, &mark))
    return spot__fail(SPOT_ECORRUPT, "element %llu of log %s is damaged", (unsigned long long)seq, log);
  *data = spot__slot_data(slot);
  *size = l->d->elem_size;
  spot__clear_detail();
  return 0;
}

static uint32_t last_crc(const arena_hdr_t *h) {
  uint32_t c = spot__crc32c(0, &h->last_id, sizeof h->last_id);
  return spot__crc32c(c, &h->last_seq, sizeof h->last_seq);
}

void spot__dev_last_put(uint64_t *id, uint64_t *seq) {
  int ok = dev.hdr && dev.hdr->last_crc == last_crc(dev.hdr);
  *id = ok ? dev.hdr->last_id : 0;
  *seq = ok ? dev.hdr->last_seq : 0;
}

void spot__dev_set_last_put(uint64_t id, uint64_t seq) {
  dev.hdr->last_crc = 0; /* a reset in the middle leaves a record that fails its crc: no memory, not a wrong one */
  dev.hdr->last_id = id;
  dev.hdr->last_seq = seq;
  dev.hdr->last_crc = last_crc(dev.hdr);
}

int spot__dev_event(uint64_t id, uint8_t *out) {
  uint8_t rec[SPOT__EVENT_V1_BYTES];
  spot__event_t e;
  int rc = read_log(&dev.logs[0], id, rec, sizeof rec);
  if (rc == 0 && spot__event_decode(rec, sizeof rec, &e) != 0)
    rc = spot__fail(SPOT_ECORRUPT, "event %llu of the device does not decode", (unsigned long long)id);
  if (rc == 0)
    spot__event_encode(&e, out); /* the network carries version 2 */
  return rc;
}

int spot__dev_info(const char *log, uint64_t *latest, uint64_t *earliest, uint32_t *elem_size, uint64_t *history) {
  runlog_t *l;
  int rc = find_log(log, &l);
  if (rc != 0)
    return rc;
  if (latest)
    *latest = l->next - 1;
  if (earliest)
    *earliest = earliest_of(l);
  if (elem_size)
    *elem_size = l->d->elem_size;
  if (history)
    *history = l->d->history;
  return 0;
}

/* ---- puts to other nodes: the outbox ---- */

int spot__dev_up_put(const char *url, const void *data, size_t len, const char *handler, uint64_t cause) {
  runlog_t *o = &dev.logs[1];
  if (url == NULL || (data == NULL && len > 0))
    return spot__fail(SPOT_EINVAL, "put needs a log name and data");
  if (strlen(url) > SPOT__DEV_URL_MAX || (handler && strlen(handler) > SPOT__DEV_URL_MAX))
    return spot__fail(SPOT_EINVAL, "remote name %s (or its handler's name) is longer than a device keeps (%u "
                      "characters)", url, SPOT__DEV_URL_MAX);
  if (len > SPOT__DEV_UP_DATA)
    return spot__fail(SPOT_ETOOBIG, "a device puts at most %u bytes to another node, not %u", SPOT__DEV_UP_DATA,
                      (unsigned)len);
  if (o->next - 1 - dev.hdr->up_done >= o->d->history)
    return spot__fail(SPOT_EBUSY, "the device's outbox holds %u puts its edge has not taken (is the edge away?); "
                      "try again", (unsigned)o->d->history);
  spot__dev_up_t up;
  memset(&up, 0, sizeof up);
  up.cause = cause;
  up.data_len = (uint32_t)len;
  memcpy(up.url, url, strlen(url));
  if (handler)
    memcpy(up.handler, handler, strlen(handler));
  if (len)
    memcpy(up.data, data, len);
  append(o, &up, sizeof up, 0);
  spot__clear_detail();
  return 0;
}

int spot__dev_up_next(uint64_t *id, const spot__dev_up_t **up) {
  runlog_t *o = &dev.logs[1];
  for (uint64_t k = (uint64_t)dev.hdr->up_done + 1; k < o->next; k++) {
    uint32_t mark;
    spot__slot_t *slot = slot_at(o, k);
    if (slot_ok(o, slot, k, &mark)) {
      *id = k;
      *up = (const spot__dev_up_t *)spot__slot_data(slot);
      return 0;
    }
    dev.hdr->up_done = (uint32_t)k; /* torn by a reset before its append returned: never acknowledged, skipped */
  }
  return SPOT_ENOTFOUND;
}

void spot__dev_up_done(uint64_t id, int status, uint64_t seq, const char *why) {
  runlog_t *o = &dev.logs[1];
  uint32_t mark;
  spot__slot_t *slot = slot_at(o, id);
  if (id != (uint64_t)dev.hdr->up_done + 1 || !slot_ok(o, slot, id, &mark))
    return; /* not the one outstanding (a late answer) */
  const spot__dev_up_t *up = (const spot__dev_up_t *)spot__slot_data(slot);
  spot__event_t e;
  spot__event_put_init(&e, up->url, status == 0 ? seq : 0, 0, up->handler, dev.hdr->node, up->cause);
  if (status != 0) {
    e.status = status;
    snprintf(e.reason, sizeof e.reason, "not delivered: %s", why && why[0] ? why : spot_strerror(status));
  }
  record(&e);
  /* after the event: a reset in between sends the put again, which the edge answers from its memory */
  dev.hdr->up_done = (uint32_t)id;
}

/* ---- running handlers ---- */

unsigned spot__dev_pending(void) { return dev.qlen; }

/* Clears the mark of element seq (its crc changes with it, core/logfmt.h). */
static void unmark(runlog_t *l, uint64_t seq, uint32_t mark) {
  spot__slot_t *slot = slot_at(l, seq);
  if (slot->seq != seq)
    return;
  slot->crc ^= spot__mark_code(seq, mark);
  slot->pending = 0;
}

static void run_one(const qent_t *q) {
  runlog_t *l = &dev.logs[q->log];
  spot__slot_t *slot = slot_at(l, q->seq);
  uint32_t mark;
  if (!slot_ok(l, slot, q->seq, &mark) || mark != q->mark)
    return; /* the run happened already (a duplicate), or the element is gone */
  const spot_handler_def_t *h = handler_by_mark(mark);
  spot__event_t put, e;
  spot__event_put_init(&put, l->d->name, q->seq, mark, h ? h->name : "?", 0, 0);
  put.id = q->put_id;
  spot__event_run_init(&e, SPOT__EV_START, &put, dev.hdr->node, q->put_id);
  if (h == NULL) { /* an element marked for a handler this firmware does not link: fail it, never drop silently */
    e.type = SPOT__EV_FAIL;
    e.status = SPOT_ENOTFOUND;
    snprintf(e.reason, sizeof e.reason, "handler not in this firmware");
    record(&e);
    unmark(l, q->seq, mark);
    dev.stats.failed++;
    return;
  }
  uint64_t start_id = record(&e);
  dev.stats.started++;
  struct spot_ctx ctx = {.start_id = start_id};
  spot__clear_detail(); /* what is left after the run is the detail of a call that failed in it */
  spot_event_t ev = {l->d->name, q->seq, spot__slot_data(slot), l->d->elem_size, h->name, dev.hdr->node, start_id,
                     q->put_id};
  uint64_t t0 = spot__now_ns();
  int status = h->fn(&ctx, &ev);
  spot__event_run_init(&e, status == 0 ? SPOT__EV_END : SPOT__EV_FAIL, &put, dev.hdr->node, start_id);
  e.status = status;
  e.duration_ns = spot__now_ns() - t0;
  if (status != 0)
    spot__event_reason(e.reason, sizeof e.reason, status,
                       ctx.detail[0] ? ctx.detail : spot_errdetail()[0] ? spot_errdetail() : ctx.tail);
  record(&e);
  unmark(l, q->seq, mark);
  if (status == 0)
    dev.stats.ended++;
  else
    dev.stats.failed++;
}

unsigned spot__dev_run_pending(unsigned max) {
  unsigned ran = 0;
  while (max == 0 || ran < max) {
    if (dev.qlen == 0 && dev.rescan)
      scan_marks();
    if (dev.qlen == 0)
      break;
    qent_t q = dev.queue[dev.qhead];
    dev.qhead = (dev.qhead + 1) % SPOT__DEV_QUEUE_MAX;
    dev.qlen--;
    run_one(&q);
    ran++;
  }
  return ran;
}

/* ---- what handlers call (spot/handler.h) ---- */

int spot_ctx_put(spot_ctx_t *ctx, const char *log, const void *data, size_t len, const char *handler, uint64_t *seq) {
  spot_cause_t cause = {dev.hdr->node, ctx ? ctx->start_id : 0};
  if (spot_is_remote(log)) { /* through the edge, later: the number is not known yet */
    int rc = spot__dev_up_put(log, data, len, handler, cause.event);
    if (rc == 0 && seq)
      *seq = 0;
    return rc;
  }
  return spot__dev_put(log, data, len, handler, &cause, seq);
}

int spot_ctx_put_cause(spot_ctx_t *ctx, const char *log, const void *data, size_t len, const char *handler,
                       const spot_cause_t *cause, uint64_t *seq) {
  if (cause == NULL || (cause->node == 0 && cause->event == 0))
    return spot_ctx_put(ctx, log, data, len, handler, seq);
  if (spot_is_remote(log))
    return spot__fail(SPOT_ENOTSUP, "a device handler cannot put to %s: the device reaches other nodes only "
                                    "through its edge, which this firmware does not do yet", log);
  return spot__dev_put(log, data, len, handler, cause, seq);
}

int spot_ctx_get(spot_ctx_t *ctx, const char *log, uint64_t seq, void *buf, size_t cap) {
  (void)ctx;
  if (spot_is_remote(log))
    return spot__fail(SPOT_ENOTSUP, "a device handler cannot read %s (other nodes)", log);
  return spot__dev_get(log, seq, buf, cap);
}

int spot_ctx_latest(spot_ctx_t *ctx, const char *log, uint64_t *seq) {
  (void)ctx;
  if (spot_is_remote(log))
    return spot__fail(SPOT_ENOTSUP, "a device handler cannot read %s (other nodes)", log);
  return spot__dev_info(log, seq, NULL, NULL, NULL);
}

void spot__dev_set_console(void (*write)(const char *text, size_t len)) { dev.console = write; }

void spot_print(spot_ctx_t *ctx, const char *fmt, ...) {
  char line[160];
  int n = snprintf(line, sizeof line, "[e%lu] ", ctx ? (unsigned long)ctx->start_id : 0ul);
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  va_end(ap);
  size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
  if (len > sizeof line - 2)
    len = sizeof line - 2;
  if (ctx) {
    size_t t = len - (size_t)n < sizeof ctx->tail - 1 ? len - (size_t)n : sizeof ctx->tail - 1;
    memcpy(ctx->tail, line + n, t);
    ctx->tail[t] = '\0';
  }
  line[len++] = '\n';
  if (dev.console)
    dev.console(line, len);
}

void spot_ctx_fail(spot_ctx_t *ctx, const char *fmt, ...) {
  if (ctx == NULL || fmt == NULL)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ctx->detail, sizeof ctx->detail, fmt, ap);
  va_end(ap);
}
