/*
 * core/logfmt.h: the on-disk format of a log file (version 4), shared by the store, recovery and `spot check`.
 *
 *   offset 0     header, SPOT__HDR_BYTES (4096): an immutable part protected by hdr_crc, then the shared mutable
 *                state (the published frontier `next`, sync progress, the boot that last recovered the file);
 *   offset 4096  history slots of slot_bytes each: {seq u64, crc u32, mark u32} then elem_size data bytes, padded
 *                to 16. Sequence number s lives in slot (s-1) % history. seq 0 marks an empty or invalidated slot.
 *                crc = crc32c(data) extended over the 8 bytes of seq, XOR spot__mark_code(seq, mark), so a slot
 *                with the right data under the wrong number, or with a mark nobody set, is caught too. crc and
 *                mark form one 64-bit word (crc in the low half): a mark changes together with its crc, atomically.
 *                A slot whose seq is s | SPOT__SEQ_LOST is the tombstone of element s: s was handed out but its
 *                data is gone (damaged, cut off by a crash, or its writer died); its mark says why (SPOT__LOST_*)
 *                and its crc is spot__tomb_crc(). Readers report a tombstone as lost, never as data. A slot whose
 *                seq is SPOT__SEQ_PENDING | pid is reserved by process pid, which is writing it.
 * All integers are little-endian (the byte order of every target spot builds for; the magic catches others).
 *
 * The commit protocol of one append (version 3: no lock). `next` is the published frontier: every number below it
 * is committed (an element or a tombstone) and readable. A writer (1) takes the first number r >= next whose slot
 * does not hold r (nor a reservation: in [next, next + history) a reservation can only be r's) by a compare-and-swap
 * of the slot's seq from the old element's number to SPOT__SEQ_PENDING | its pid: the reservation and its owner
 * are one word; (2) writes data and crc+mark; (3) commits: slot.seq = r (release); (4) publishes: while the slot of
 * `next` holds `next` committed, anyone raises `next` by one (compare-and-swap), and the writer returns once
 * next > r. So readers see committed elements in order, and concurrent writers never wait for a lock, only for the
 * publication of earlier numbers still being written. A writer that dies between (1) and (3) leaves a reservation
 * that the others find stuck at `next`: once its pid is gone they bury that number (a tombstone, SPOT__LOST_WRITER)
 * and go on, so a dead writer never blocks the others. Readers check slot.seq before and after copying, and the
 * crc, so they never return a torn element. `next` only ever grows: recovery never lowers it, so a sequence number
 * is never handed out twice.
 *
 * Version 4 adds the high-water mark of durable logs (batch, always): the header's `hwm` is a number that no slot on
 * disk exceeds. A sync round raises it to the newest number + span before its sync and then raises `hwm_on_disk`;
 * an append never reserves a number above `hwm_on_disk` (it runs a round first). So after a restart recovery reads
 * only the slots of numbers from the durable hint up to the mark (at most a few MiB), not the whole ring; a mark
 * that fails its check, or that the header or slots contradict, sends recovery to the full scan. Version 3 files
 * migrate by writing the version (their mark is 0: not trusted, the first restart scans, the next round sets it).
 *
 * Version 1 (before marks were under the crc) is migrated at open by the only opener: the crc of every marked
 * slot is extended by its mark's code. Version 2 (appends under a robust process-shared mutex in the header,
 * which qemu-user cannot provide) has the same slots: migration only writes the new version.
 */
#ifndef SPOT_CORE_LOGFMT_H
#define SPOT_CORE_LOGFMT_H

#include <stddef.h>
#include <stdint.h>

#define SPOT__LOG_MAGIC "SPOTLOG"   /* 8 bytes with its NUL */
#define SPOT__LOG_VERSION 4u
#define SPOT__LOG_VERSION_OLDEST 1u /* the oldest version open() migrates */
#define SPOT__SEQ_LOST (1ull << 63) /* slot.seq = s | SPOT__SEQ_LOST: the tombstone of element s */
#define SPOT__LOST_DAMAGED 1u       /* tombstone mark: the element was damaged; `spot check --fix` marked it */
#define SPOT__LOST_CRASH 2u         /* tombstone mark: the element was not on disk when the machine went down */
#define SPOT__LOST_WRITER 3u        /* tombstone mark: its writer died before it finished the element */
#define SPOT__SEQ_PENDING (1ull << 62) /* slot.seq = SPOT__SEQ_PENDING | pid: reserved, being written by pid */
#define SPOT__HDR_BYTES 4096u
#define SPOT__SLOT_HDR 16u
/* The format's limits. The public API states the same numbers (spot/log.h: SPOT_ELEM_MAX, SPOT_LOG_BYTES_MAX,
 * spot_sync_t); the core does not include it, and src/core/logfmt_test.c checks at compile time that they agree. */
#define SPOT__ELEM_MAX (64u << 20)       /* largest element size */
#define SPOT__LOG_BYTES_MAX (1ull << 40) /* largest log file */
#define SPOT__SYNC_MODE_MAX 2u           /* sync modes are 0 (none), 1 (batch), 2 (always) */

typedef struct spot__loghdr {
  /* immutable after create: covered by hdr_crc */
  char magic[8];
  uint32_t version;
  uint32_t header_bytes;
  uint32_t elem_size;
  uint32_t slot_bytes;
  uint64_t history;
  uint32_t sync_mode;
  uint32_t batch_us;
  uint64_t log_id;
  uint64_t created_ns;
  uint32_t hdr_crc; /* crc32c of every byte before this field */
  uint32_t pad0;
  uint8_t reserved0[128 - 64];
  /* shared mutable state, offset 128 */
  /* Version 2's robust append mutex was here (64 bytes). Since version 3 the first word is the writers' turn
   * (store/lease.c): advisory only, so files of versions 3 and 4 written before it are read alike. */
  _Alignas(64) uint64_t lease;
  uint8_t v2_mutex_rest[56];
  _Alignas(64) uint64_t next;     /* published frontier: every number below is committed (latest + 1) */
  uint64_t floor;                 /* no sequence number below this is readable (set by recovery) */
  uint64_t durable_hint;          /* written before each sync: the `synced` value then, so on disk it is <= durable */
  uint64_t synced;                /* every element <= this is on disk, as far as this boot knows */
  uint64_t hint_on_disk;          /* the durable_hint value that the last completed sync carried to disk */
  uint8_t ready_boot[16];         /* boot in which the file was last recovered */
  uint32_t ready;                 /* 1 once recovery in ready_boot finished */
  uint32_t pad1;
  uint64_t recoveries;            /* how many times the file was recovered */
  uint32_t wake;                  /* futex word: bumped after an append when `sleepers` is non-zero */
  uint32_t sleepers;              /* threads (any process) waiting in spot_log_wait_newer */
  /* version 4: the high-water mark of durable logs (0 in `none` logs and in files of older versions) */
  uint64_t hwm;                   /* no slot on disk holds a number above the hwm on disk (raised, then synced) */
  uint32_t hwm_check;             /* spot__hwm_check(header, hwm): a damaged mark is seen, and not trusted */
  uint32_t pad2;
  uint64_t hwm_on_disk;           /* the hwm that a completed sync carried to disk: appends never go above it */
} spot__loghdr_t;

typedef struct spot__slot {
  uint64_t seq;
  uint32_t crc;
  uint32_t pending; /* the mark, under the crc: non-zero while a handler named by the put has not ended (the
                       handler's id), so the ring must not overwrite the element yet; a tombstone's SPOT__LOST_* */
  /* elem_size data bytes follow */
} spot__slot_t;

_Static_assert(sizeof(spot__loghdr_t) <= SPOT__HDR_BYTES, "log header larger than its page");
_Static_assert(sizeof(spot__slot_t) == SPOT__SLOT_HDR, "slot header size");
_Static_assert(offsetof(spot__loghdr_t, hdr_crc) == 56, "header layout moved");
_Static_assert(offsetof(spot__loghdr_t, lease) == 128, "header layout moved");
_Static_assert(offsetof(spot__loghdr_t, hwm_on_disk) + 8 <= 512, "the mark must share the first sector with next");

/* Bytes of one slot for an element size. */
static inline uint32_t spot__slot_bytes(uint32_t elem_size) { return (SPOT__SLOT_HDR + elem_size + 15u) & ~15u; }

/* The data bytes of a slot. */
static inline uint8_t *spot__slot_data(spot__slot_t *s) { return (uint8_t *)s + SPOT__SLOT_HDR; }

/* The checksum stored in a slot for element seq with data of n bytes. */
uint32_t spot__slot_crc(uint64_t seq, const void *data, size_t n);
/* The same, from the crc32c of the data alone (lets an appender checksum outside its lock). */
uint32_t spot__slot_crc_finish(uint32_t data_crc, uint64_t seq);

/* What a mark adds (XOR) to a slot's crc: 0 for mark 0, else a crc32c of seq and mark. Changing a mark from a to
 * b changes the crc by spot__mark_code(seq, a) ^ spot__mark_code(seq, b), without reading the data. */
uint32_t spot__mark_code(uint64_t seq, uint32_t mark);

/* The crc of the tombstone of element seq (seq without SPOT__SEQ_LOST) for reason mark. */
uint32_t spot__tomb_crc(uint64_t seq, uint32_t mark);

/* Does a slot of element seq whose data has crc dcrc = spot__slot_crc(seq, data, n) hold intact data, given its
 * stored crc and mark? 1 if crc == dcrc ^ code(mark); 2 if the data is intact but the mark is not the one the crc
 * covers (a mark set by hand, or one bit of it flipped): *good_mark (may be NULL) then receives the mark the crc
 * does cover; 0 if the data or crc is damaged. */
int spot__slot_check(uint64_t seq, uint32_t dcrc, uint32_t crc, uint32_t mark, uint32_t *good_mark);

/* How far above the newest element a sync round raises the high-water mark of a durable log: 2 MiB of slots, and
 * at most half the ring, at least 1. Recovery after a restart reads the slots from the durable hint up to the mark
 * (about two spans); an asynchronous append above the mark on disk waits for a round (one sync per span). */
static inline uint64_t spot__hwm_span(uint32_t slot_bytes, uint64_t history) {
  uint64_t k = (2u << 20) / slot_bytes, half = history / 2;
  if (k > half)
    k = half;
  return k ? k : 1;
}

/* The check word of high-water mark hwm in header h: a crc32c of hwm, the log's id and its history. */
uint32_t spot__hwm_check(const spot__loghdr_t *h, uint64_t hwm);

/* crc32c of the immutable part of a header. */
uint32_t spot__hdr_crc(const spot__loghdr_t *h);

/* Checks the immutable part of a header read from a file of file_bytes bytes. Returns 0 (the version may be any of
 * SPOT__LOG_VERSION_OLDEST..SPOT__LOG_VERSION: older ones are the opener's to migrate), SPOT_ECORRUPT or
 * SPOT_EVERSION with a detail line naming path. */
int spot__hdr_check(const spot__loghdr_t *h, uint64_t file_bytes, const char *path);

#endif
