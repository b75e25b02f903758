/*
 * store_damage_test.c: damage to a log's slots, as a flipped bit or a hand edit leaves it (issue 9, defects 1 and 2).
 *
 * What must hold: sequence numbers never go back, whatever is damaged (the newest element, every element, a torn
 * tail after a power cut); one damaged element never makes the others unreadable, and `--fix` (SPOT_LOG_FIX) marks
 * only the damaged ones lost; a handler mark is under the slot's checksum, so a mark set by hand neither blocks
 * appends nor runs a handler, and is reported and repaired; a version-1 file (marks outside the checksum) is
 * migrated at open. All on the in-memory io, which lets a test reach into the file's bytes.
 */
#include <string.h>

#include "core/logfmt.h"
#include "spot/io_mem.h"
#include "spot/log.h"
#include "store/store.h"
#include "test.h"

static uint8_t *bytes_of(spot_io_t *io, const char *path) {
  void *p = NULL;
  size_t n;
  return spot_io_mem_get_file(io, path, &p, &n) == 0 ? p : NULL;
}

static spot__slot_t *slot_of(uint8_t *file, uint64_t seq) {
  spot__loghdr_t *h = (spot__loghdr_t *)file;
  return (spot__slot_t *)(file + SPOT__HDR_BYTES + ((seq - 1) % h->history) * h->slot_bytes);
}

/* Creates path with 8-byte elements and appends 1..n (element i holds the number i); returns the file's bytes. */
static uint8_t *make_log(spot_io_t *io, const char *path, uint64_t history, uint64_t n, spot_sync_t sync) {
  spot_log_config_t c = {.elem_size = 8, .history = history, .sync = sync, .batch_us = 100};
  spot_log_t *log;
  if (spot_log_create(path, &c, io) != 0 || spot_log_open(path, 0, io, &log, NULL) != 0)
    return NULL;
  for (uint64_t i = 1; i <= n; i++)
    if (spot_log_append_async(log, &i, sizeof i, NULL) != 0)
      return NULL;
  if (spot_log_wait_durable(log, n) != 0)
    return NULL;
  spot_log_close(log);
  return bytes_of(io, path);
}

/* Defect 1: the newest element damaged. Before: open refused, --fix dropped all 999 others and left a log that
 * no longer opened, and a second --fix restarted the numbers at 1. */
static void newest_damaged(spot_sync_t sync, uint64_t history, uint64_t n) {
  spot_io_t *io = spot_io_mem_new(901);
  uint8_t *f = make_log(io, "x", history, n, sync);
  CHECK(f != NULL);
  spot__slot_data(slot_of(f, n))[0] ^= 0x01; /* one flipped bit in the data of the newest element */
  spot_log_t *log;
  spot_log_report_t rep;
  uint64_t v, seq, keep = n < history ? n : history;
  CHECK_OK(spot_log_open("x", 0, io, &log, &rep));
  CHECK_EQ(rep.latest, n);
  CHECK_EQ(rep.damaged, 1);
  CHECK_EQ(rep.damaged_seq, n);
  CHECK_OK(spot_log_read(log, n - 1, &v, 8));
  CHECK_EQ(v, n - 1);
  CHECK_RC(spot_log_read(log, n, &v, 8), SPOT_ECORRUPT);
  CHECK(strstr(spot_errdetail(), "spot check") != NULL);
  spot_log_close(log);
  for (int round = 0; round < 2; round++) { /* --fix twice: the second finds nothing to do */
    CHECK_OK(spot_log_open("x", SPOT_LOG_FIX, io, &log, &rep));
    CHECK_EQ(rep.latest, n);
    CHECK_EQ(rep.dropped, 0);
    CHECK_EQ(rep.valid_slots, keep - 1);
    CHECK_EQ(rep.lost, 1);
    CHECK_EQ(rep.lost_seq, n);
    CHECK_EQ(rep.damaged, round == 0 ? 1 : 0);
    CHECK_OK(spot_log_verify(log, NULL));
    spot_log_close(log);
  }
  CHECK_OK(spot_log_open("x", 0, io, &log, &rep));
  CHECK_EQ(rep.repaired, 0);
  CHECK_OK(spot_log_read(log, n - keep + 1, &v, 8));
  CHECK_EQ(v, n - keep + 1);
  CHECK_OK(spot_log_append(log, &v, 8, &seq));
  CHECK_EQ(seq, n + 1);
  spot_log_close(log);
  spot_io_mem_free(io);
}

static void test_newest_damaged_none_1500(void) { newest_damaged(SPOT_SYNC_NONE, 1000, 1500); }
static void test_newest_damaged_always_10(void) { newest_damaged(SPOT_SYNC_ALWAYS, 10, 10); }
static void test_newest_damaged_batch_short(void) { newest_damaged(SPOT_SYNC_BATCH, 100, 10); }

/* Every element of the window damaged: --fix marks them all lost, and numbering goes on. */
static void test_all_damaged_numbers_go_on(void) {
  spot_io_t *io = spot_io_mem_new(902);
  uint8_t *f = make_log(io, "a", 4, 6, SPOT_SYNC_NONE);
  CHECK(f != NULL);
  for (uint64_t s = 3; s <= 6; s++)
    slot_of(f, s)->crc ^= 0x100;
  spot_log_t *log;
  spot_log_report_t rep;
  CHECK_OK(spot_log_open("a", SPOT_LOG_FIX, io, &log, &rep));
  CHECK_EQ(rep.damaged, 4);
  CHECK_EQ(rep.lost, 4);
  CHECK_EQ(rep.latest, 6);
  spot_log_close(log);
  CHECK_OK(spot_log_open("a", SPOT_LOG_FIX, io, &log, &rep));
  uint64_t v = 7, seq;
  CHECK_OK(spot_log_append(log, &v, 8, &seq));
  CHECK_EQ(seq, 7);
  spot_log_close(log);
  spot_io_mem_free(io);
}

/* A damaged `next` in the header (far ahead of every slot): plain opens refuse rather than let every element
 * expire; --fix goes on from it (numbers never go back). */
static void test_damaged_next_in_header(void) {
  spot_io_t *io = spot_io_mem_new(909);
  uint8_t *f = make_log(io, "n", 10, 8, SPOT_SYNC_NONE);
  CHECK(f != NULL);
  ((spot__loghdr_t *)f)->next += 1000;
  spot_log_t *log;
  spot_log_report_t rep;
  uint64_t v = 0, seq;
  CHECK_RC(spot_log_open("n", 0, io, &log, &rep), SPOT_ECORRUPT);
  CHECK(strstr(spot_errdetail(), "--fix") != NULL);
  CHECK_OK(spot_log_open("n", SPOT_LOG_FIX, io, &log, &rep));
  CHECK_EQ(rep.latest, 1008);
  CHECK_EQ(rep.valid_slots, 0); /* 1000..1008 were never seen: lost; 1..8 expired */
  CHECK_EQ(rep.lost, 9);        /* 999's slot is empty, as if its overwrite had begun: it expired */
  CHECK_OK(spot_log_append(log, &v, 8, &seq));
  CHECK_EQ(seq, 1009);
  spot_log_close(log);
  spot_io_mem_free(io);
}

/* --fix needs the log to itself: with another handle open it refuses rather than silently doing nothing. */
static void test_fix_needs_the_log_alone(void) {
  spot_io_t *io = spot_io_mem_new(908);
  uint8_t *f = make_log(io, "b", 10, 5, SPOT_SYNC_NONE);
  CHECK(f != NULL);
  spot_log_t *a, *b;
  spot_log_report_t rep;
  CHECK_OK(spot_log_open("b", 0, io, &a, NULL));
  spot__slot_data(slot_of(f, 3))[1] ^= 2;
  CHECK_RC(spot_log_open("b", SPOT_LOG_FIX, io, &b, &rep), SPOT_EBUSY);
  CHECK(strstr(spot_errdetail(), "another process") != NULL);
  spot_log_close(a);
  CHECK_OK(spot_log_open("b", SPOT_LOG_FIX, io, &b, &rep));
  CHECK_EQ(rep.lost, 1);
  spot_log_close(b);
  spot_io_mem_free(io);
}

/* A damaged sequence number (the slot's own number field) is damage too, not expiry. */
static void test_damaged_number_field(void) {
  spot_io_t *io = spot_io_mem_new(903);
  uint8_t *f = make_log(io, "d", 10, 8, SPOT_SYNC_NONE);
  CHECK(f != NULL);
  slot_of(f, 5)->seq ^= 1ull << 20;
  spot_log_t *log;
  spot_log_report_t rep;
  uint64_t v;
  CHECK_OK(spot_log_open("d", 0, io, &log, &rep));
  CHECK_EQ(rep.damaged, 1);
  CHECK_EQ(rep.damaged_seq, 5);
  CHECK_RC(spot_log_read(log, 5, &v, 8), SPOT_ECORRUPT);
  CHECK_OK(spot_log_read(log, 6, &v, 8));
  spot_log_close(log);
  spot_io_mem_free(io);
}

/* An open in the same boot reads only the newest elements (O(1) open): damage deep in the window is not looked
 * for there, but a read of it fails on its checksum, spot_log_verify (`spot check`) reports it, and --fix (the
 * full scan) marks it lost. Damage within the newest SPOT__RECOVER_TAIL elements is still reported at open. */
static void test_open_reads_only_the_tail(void) {
  spot_io_t *io = spot_io_mem_new(910);
  uint8_t *f = make_log(io, "o", 1000, 500, SPOT_SYNC_NONE);
  CHECK(f != NULL);
  spot__slot_data(slot_of(f, 10))[0] ^= 0x04;
  spot__slot_data(slot_of(f, 490))[0] ^= 0x04;
  spot_log_t *log;
  spot_log_report_t rep;
  uint64_t v;
  CHECK_OK(spot_log_open("o", 0, io, &log, &rep));
  CHECK_EQ(rep.latest, 500);
  CHECK_EQ(rep.earliest, 1);
  CHECK_EQ(rep.damaged, 1); /* 490, in the tail */
  CHECK_EQ(rep.damaged_seq, 490);
  CHECK(rep.valid_slots < 100);
  CHECK_RC(spot_log_read(log, 10, &v, 8), SPOT_ECORRUPT);
  CHECK_OK(spot_log_read(log, 11, &v, 8));
  CHECK_EQ(v, 11);
  CHECK_RC(spot_log_verify(log, &rep), SPOT_ECORRUPT);
  CHECK_EQ(rep.damaged, 2);
  CHECK_EQ(rep.damaged_seq, 10);
  spot_log_close(log);
  CHECK_OK(spot_log_open("o", SPOT_LOG_FIX, io, &log, &rep));
  CHECK_EQ(rep.damaged, 2);
  CHECK_EQ(rep.lost, 2);
  CHECK_EQ(rep.valid_slots, 498);
  CHECK_OK(spot_log_verify(log, NULL));
  spot_log_close(log);
  spot_io_mem_free(io);
}

/* After a power cut, the header reached the disk but the newest slots did not: those numbers were handed out, so
 * they are lost (a torn tail, repaired without --fix), never handed out again. */
static void test_power_cut_tail_numbers_stay(void) {
  spot_io_t *io = spot_io_mem_new(904);
  uint8_t *f = make_log(io, "p", 16, 10, SPOT_SYNC_NONE);
  CHECK(f != NULL);
  for (uint64_t s = 8; s <= 10; s++)
    memset(slot_of(f, s), 0, SPOT__SLOT_HDR + 8);
  spot__loghdr_t *h = (spot__loghdr_t *)f;
  h->ready_boot[0] ^= 0xff; /* another boot recovered it last: this open comes after a restart */
  spot_log_t *log;
  spot_log_report_t rep;
  uint64_t v, seq;
  CHECK_OK(spot_log_open("p", 0, io, &log, &rep));
  CHECK_EQ(rep.power_loss, 1);
  CHECK_EQ(rep.latest, 10);
  CHECK_EQ(rep.torn_slots, 3);
  CHECK_EQ(rep.lost, 3);
  CHECK_EQ(rep.damaged, 0);
  CHECK_RC(spot_log_read(log, 9, &v, 8), SPOT_EEXPIRED);
  CHECK(strstr(spot_errdetail(), "not on disk yet") != NULL);
  CHECK_OK(spot_log_read(log, 7, &v, 8));
  CHECK_EQ(v, 7);
  CHECK_OK(spot_log_verify(log, NULL));
  CHECK_OK(spot_log_append(log, &v, 8, &seq));
  CHECK_EQ(seq, 11);
  spot_log_close(log);
  spot_io_mem_free(io);
}

/* A mark set by hand (outside any put): before, every append that reached its slot waited 5 s and failed with
 * SPOT_EBUSY while verify said ok. Now the checksum shows it: it blocks nothing, runs nothing, is reported, and
 * --fix restores the mark the checksum covers (none). */
static void test_hand_set_mark(void) {
  spot_io_t *io = spot_io_mem_new(905);
  uint8_t *f = make_log(io, "m", 4, 4, SPOT_SYNC_NONE);
  CHECK(f != NULL);
  slot_of(f, 1)->pending = 3; /* a handler id, by hand: the crc does not cover it */
  spot_log_t *log;
  spot_log_report_t rep;
  uint64_t v, seq;
  CHECK_OK(spot_log_open("m", 0, io, &log, &rep));
  CHECK_EQ(rep.bad_marks, 1);
  CHECK_EQ(rep.bad_mark_seq, 1);
  CHECK_EQ(spot__log_pending(log, 1), 0); /* no handler runs for it */
  CHECK_OK(spot_log_read(log, 1, &v, 8)); /* its data is intact */
  CHECK_EQ(v, 1);
  CHECK_RC(spot_log_verify(log, &rep), SPOT_ECORRUPT);
  CHECK(strstr(spot_errdetail(), "handler mark") != NULL);
  CHECK_EQ(rep.bad_marks, 1);
  spot_log_set_busy_timeout(log, 200);
  CHECK_OK(spot_log_append(log, &v, 8, &seq)); /* overwrites element 1: must not wait for the false mark */
  CHECK_EQ(seq, 5);
  /* set by hand on a live log, then repaired by --fix */
  slot_of(f, 2)->pending = 0x40;
  CHECK_RC(spot_log_verify(log, &rep), SPOT_ECORRUPT);
  CHECK_EQ(rep.bad_mark_seq, 2);
  spot_log_close(log);
  CHECK_OK(spot_log_open("m", SPOT_LOG_FIX, io, &log, &rep));
  CHECK_EQ(rep.bad_marks, 1);
  CHECK_EQ(slot_of(f, 2)->pending, 0);
  CHECK_OK(spot_log_verify(log, &rep));
  CHECK_EQ(rep.marked, 0);
  spot_log_close(log);
  spot_io_mem_free(io);
}

/* Real marks live under the checksum through claim, unclaim and release; a flipped bit in one is repaired. */
static void test_marks_under_crc(void) {
  spot_io_t *io = spot_io_mem_new(906);
  CHECK(make_log(io, "k", 8, 0, SPOT_SYNC_NONE) != NULL);
  spot_log_t *log;
  spot_log_report_t rep;
  uint64_t v = 42, seq, seq2;
  CHECK_OK(spot_log_open("k", 0, io, &log, NULL));
  CHECK_OK(spot__log_append_pending(log, &v, 8, 7, &seq));
  CHECK_OK(spot__log_append_pending(log, &v, 8, 9, &seq2));
  CHECK_EQ(spot__log_pending(log, seq), 7);
  CHECK_OK(spot__log_claim(log, seq));
  CHECK_RC(spot__log_claim(log, seq), SPOT_EBUSY);
  CHECK_EQ(spot__log_pending(log, seq), 7 | SPOT__MARK_RUNNING);
  CHECK_OK(spot_log_read(log, seq, &v, 8));
  CHECK_OK(spot_log_verify(log, &rep));
  CHECK_EQ(rep.marked, 2);
  spot__log_unclaim(log, seq);
  CHECK_EQ(spot__log_pending(log, seq), 7);
  spot__log_release(log, seq);
  CHECK_EQ(spot__log_pending(log, seq), 0);
  CHECK_RC(spot__log_claim(log, seq), SPOT_ENOTFOUND);
  CHECK_OK(spot_log_read(log, seq, &v, 8));
  CHECK_EQ(v, 42);
  CHECK_OK(spot_log_verify(log, &rep));
  CHECK_EQ(rep.marked, 1);
  spot_log_close(log);
  uint8_t *f = bytes_of(io, "k");
  slot_of(f, seq2)->pending ^= 1u << 4; /* 9 -> 25 */
  CHECK_OK(spot_log_open("k", 0, io, &log, &rep));
  CHECK_EQ(rep.bad_marks, 1);
  CHECK_EQ(spot__log_pending(log, seq2), 0);
  spot_log_close(log);
  CHECK_OK(spot_log_open("k", SPOT_LOG_FIX, io, &log, &rep));
  CHECK_EQ(spot__log_pending(log, seq2), 9); /* the mark the checksum covers */
  CHECK_OK(spot_log_verify(log, &rep));
  CHECK_EQ(rep.marked, 1);
  spot_log_close(log);
  spot_io_mem_free(io);
}

/* A version-1 file (marks outside the checksum) is migrated at open; unknown versions are refused. */
static void test_version_1_migrated(void) {
  spot_io_t *io = spot_io_mem_new(907);
  CHECK(make_log(io, "o", 8, 2, SPOT_SYNC_NONE) != NULL);
  spot_log_t *log;
  uint64_t v = 3, seq;
  CHECK_OK(spot_log_open("o", 0, io, &log, NULL));
  CHECK_OK(spot__log_append_pending(log, &v, 8, 11, &seq));
  spot_log_close(log);
  /* make it what version 1 wrote: the crc of element 3 without its mark */
  uint8_t *f = bytes_of(io, "o");
  spot__loghdr_t *h = (spot__loghdr_t *)f;
  slot_of(f, seq)->crc ^= spot__mark_code(seq, 11);
  h->version = 1;
  h->hdr_crc = spot__hdr_crc(h);
  spot_log_report_t rep;
  CHECK_OK(spot_log_open("o", 0, io, &log, &rep));
  CHECK_EQ(h->version, SPOT__LOG_VERSION);
  CHECK_EQ(h->hdr_crc, spot__hdr_crc(h));
  CHECK_EQ(rep.bad_marks, 0);
  CHECK_EQ(spot__log_pending(log, seq), 11);
  CHECK_OK(spot_log_read(log, seq, &v, 8));
  CHECK_EQ(v, 3);
  CHECK_OK(spot_log_verify(log, &rep));
  CHECK_EQ(rep.valid_slots, 3);
  spot_log_close(log);
  for (uint32_t bad = 0; bad <= SPOT__LOG_VERSION + 1; bad += SPOT__LOG_VERSION + 1) {
    h->version = bad;
    h->hdr_crc = spot__hdr_crc(h);
    CHECK_RC(spot_log_open("o", 0, io, &log, NULL), SPOT_EVERSION);
    CHECK(strstr(spot_errdetail(), "version") != NULL);
  }
  spot_io_mem_free(io);
}

static const spot_test_t tests[] = {
    {"newest_damaged_none_1500", test_newest_damaged_none_1500},
    {"newest_damaged_always_10", test_newest_damaged_always_10},
    {"newest_damaged_batch_short", test_newest_damaged_batch_short},
    {"all_damaged_numbers_go_on", test_all_damaged_numbers_go_on},
    {"damaged_number_field", test_damaged_number_field},
    {"open_reads_only_the_tail", test_open_reads_only_the_tail},
    {"fix_needs_the_log_alone", test_fix_needs_the_log_alone},
    {"damaged_next_in_header", test_damaged_next_in_header},
    {"power_cut_tail_numbers_stay", test_power_cut_tail_numbers_stay},
    {"hand_set_mark", test_hand_set_mark},
    {"marks_under_crc", test_marks_under_crc},
    {"version_1_migrated", test_version_1_migrated},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
