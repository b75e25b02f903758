/*
 * store/log_impl.h: the insides of a spot_log_t, shared by the store's files (log.c: open/append/read,
 * recover.c: recovery at open, durable.c: group commit, marks.c: the dispatcher's marks, prefault.c: faulting a
 * handle's mapping in ahead).
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
  uint64_t prefault_slots; /* this mapping's slots are faulted in by chunks of this many, a power of two (log.c) */
  _Atomic uint64_t *prefaulted; /* a bit per chunk this handle has faulted in (NULL: none, out of memory) */
  _Atomic uint64_t prefault_left; /* chunks not faulted in yet: 0 stops the checks */
  int no_turns;          /* appends skip the writers' turns (spot__log_no_turns) */
  atomic_int failed;     /* 0, or the SPOT_E* code of the write or sync that failed: appends are refused */
  char *path;

  /* group commit (durable.c), process-local */
  spot__mutex_t sync_mu;
  spot__cond_t sync_cv;
  int syncing;           /* a thread of this process is syncing */
  int waiting;           /* threads of this process in wait_durable */
  uint64_t last_sync_ns; /* when this process's last sync started */

  /* kill tests only (SPOT_TEST_APPEND_EXIT, read at open): exit at step crash_step of the crash_nth append (sync
   * round, for the SPOT__AT_SYNC_* steps) through this handle; crash_step 0 (always, outside such tests): never */
  uint32_t crash_step;
  uint64_t crash_nth;
  _Atomic uint64_t crash_appends, crash_rounds;
};

/* The crash points of an append, for kill tests (tests/store_killpoint_test.c). A process whose environment holds
 * SPOT_TEST_APPEND_EXIT="STEP:NTH" when it opens a log ends with _Exit(SPOT__CRASH_EXIT) at STEP of the NTH append
 * through that handle (counted from 1), or, for the two sync steps, of the NTH sync round the handle leads. The
 * variable is read once per open; a handle opened without it costs one compare per point. */
enum {
  SPOT__AT_RESERVED = 1, /* the slot is reserved under the writer's pid, nothing written */
  SPOT__AT_TORN,         /* half the element's bytes written, no crc */
  SPOT__AT_WRITTEN,      /* all bytes and the crc/mark word written, the number not committed */
  SPOT__AT_COMMITTED,    /* the number committed in the slot, `next` not raised past it (not published) */
  SPOT__AT_PUBLISHED,    /* published, sleepers not woken, the append not returned */
  SPOT__AT_WOKEN,        /* everything but the return to the caller */
  SPOT__AT_SYNC_MARKED,  /* a sync round raised the durable hint and high-water mark, before its sync */
  SPOT__AT_SYNCED,       /* a sync round synced, before it raised `synced` and the marks on disk */
  SPOT__AT_STEPS = SPOT__AT_SYNCED
};
#define SPOT__CRASH_EXIT 86

/* Exits the process if the handle's crash point is (step, nth); see above. */
#define SPOT__CRASH_POINT(log, step, nth)                                                                          \
  do {                                                                                                             \
    if ((log)->crash_step == (step) && (nth) == (log)->crash_nth)                                                  \
      spot__crash_exit();                                                                                          \
  } while (0)
/* _Exit(SPOT__CRASH_EXIT): no atexit handlers, no flush, like a kill. */
_Noreturn void spot__crash_exit(void);
/* Sizes the handle's chunks and allocates its bit per chunk (prefault.c, at open; after slot_bytes and history). */
void spot__prefault_init(spot_log_t *log);
/* Called with each number a handle writes (an append, a claim, a release): at the first slot of a chunk, faults
 * that chunk and the next into the handle's mapping, each once (prefault.c). */
void spot__prefault_ahead(spot_log_t *log, uint64_t r);

/* Turns between writers (lease.c). The word in the header: the holder's thread id (bits 0-31), whether it is inside
 * an append (bit 32), a count it bumps on every append (bits 33-39), when its turn began (bits 40-63).
 * spot__lease_enter: the holder marks itself inside and gets 0; any other writer gets the word it saw, and must
 * call spot__lease_wait with it (which takes the turn, at most one turn later) before it reserves a number.
 * spot__lease_leave after the append, whatever its result. */
#define SPOT__LEASE_INSIDE (1ull << 32)
#define SPOT__LEASE_COUNT (0x7full << 33)
static inline uint64_t spot__lease_enter(spot_log_t *log, uint32_t me) {
  _Atomic uint64_t *word = (_Atomic uint64_t *)&log->hdr->lease;
  uint64_t w = atomic_load_explicit(word, memory_order_relaxed);
  if ((uint32_t)w != me)
    return w ? w : SPOT__LEASE_INSIDE; /* never 0: 0 means "held" to the caller */
  atomic_store_explicit(word, (w & ~SPOT__LEASE_COUNT) | ((w + (1ull << 33)) & SPOT__LEASE_COUNT) | SPOT__LEASE_INSIDE,
                        memory_order_relaxed);
  return 0;
}
void spot__lease_wait(spot_log_t *log, uint32_t me, uint64_t w);
static inline void spot__lease_leave(spot_log_t *log, uint32_t me) {
  _Atomic uint64_t *word = (_Atomic uint64_t *)&log->hdr->lease;
  uint64_t w = atomic_load_explicit(word, memory_order_relaxed);
  if ((uint32_t)w == me) /* a waiter may take it between these two: then it is theirs again at its next append */
    atomic_store_explicit(word, w & ~SPOT__LEASE_INSIDE, memory_order_relaxed);
}
/* The word of a turn that holder began at now_ns, inside an append (for tests). */
uint64_t spot__lease_word(uint32_t holder, uint64_t now_ns);

/* Reads SPOT_TEST_APPEND_EXIT into the handle (log.c, at open). */
void spot__crash_arm(spot_log_t *log);

static inline spot__slot_t *spot__slot_at(const spot_log_t *log, uint64_t seq) {
  return (spot__slot_t *)(log->slots + ((seq - 1) % log->history) * log->slot_bytes);
}

/* The 64-bit word of a slot's crc (low half) and mark (high half): marks change with their crc, atomically. */
static inline _Atomic uint64_t *spot__slot_word(spot__slot_t *slot) { return (_Atomic uint64_t *)(void *)&slot->crc; }
static inline uint64_t spot__word(uint32_t crc, uint32_t mark) { return (uint64_t)crc | (uint64_t)mark << 32; }

/* What the slot of seq holds, for readers, recovery and `spot check`. Not safe against a concurrent writer of
 * that slot (callers are the only opener, re-check the slot afterwards, or know the ring cannot reach it). */
typedef enum spot__slot_state {
  SPOT__SLOT_INTACT,   /* element seq, data and mark under the crc */
  SPOT__SLOT_BADMARK,  /* element seq with intact data, but a mark the crc does not cover (*good_mark does) */
  SPOT__SLOT_DAMAGED,  /* element seq whose data or crc fails the check */
  SPOT__SLOT_LOST,     /* the tombstone of seq */
  SPOT__SLOT_OTHER,    /* anything else: empty, being written, another element, garbage */
} spot__slot_state_t;
spot__slot_state_t spot__slot_state(const spot_log_t *log, uint64_t seq, uint32_t *good_mark);

/* 1 if the slot of seq holds element seq intact (number and checksum). Not safe against a concurrent writer. */
int spot__slot_valid(const spot_log_t *log, uint64_t seq);

/* Turns the slot of seq into its tombstone, for reason mark (SPOT__LOST_*). */
void spot__slot_bury(spot_log_t *log, uint64_t seq, uint32_t mark);

/* Makes the whole file durable: every byte of the map through the io's flush (if it has one), then sync. For
 * recovery and migration, which may write anywhere. 0 or the io's error. */
int spot__log_sync_all(spot_log_t *log);

/* Runs sync rounds until the durable hint on disk is >= v (the backpressure of durable logs, see durable.c). */
int spot__log_wait_hint(spot_log_t *log, uint64_t v);

/* Raises the high-water mark to at least r (plus a span) and runs sync rounds until the mark on disk is >= r, so
 * that element r may be written (durable logs only). 0 or the sync's error. */
int spot__log_wait_hwm(spot_log_t *log, uint64_t r);

/* Migrates a log of an older format version to SPOT__LOG_VERSION, in place and crash-safely (the caller is the only
 * opener): see recover.c. 0, SPOT_EVERSION or the sync's error. */
int spot__log_migrate(spot_log_t *log);

/* Elements at the top of the window that recovery in the same boot checks (recover.c); the rest is left to reads
 * and `spot check`, so that an open costs the same at any size. */
#define SPOT__RECOVER_TAIL 64u

/* Recovers the log (the caller is the only opener): see recover.c. */
int spot__log_recover(spot_log_t *log, int same_boot, unsigned flags, spot_log_report_t *rep);

#endif
