/*
 * store_mark_test.c: the high-water mark of durable logs (log format 4, issue 14): the first open after a restart
 * reads only the slots from the durable hint up to the mark, and a mark that lies is caught.
 *
 * What must hold: after a restart (a power cut on the in-memory io, or a boot id changed through SPOT_TEST_BOOT_ID
 * on the real files) a durable log opens without reading every slot (spot_log_report_t.scanned_all == 0), every
 * acknowledged element reads back, numbers never go back; a mark that is damaged (fails its check), too low (a slot
 * or the header's next shows a number above it) or too high (farther above next than a round can set it) makes
 * recovery read every slot (scanned_all == 1) and lose nothing; `none` logs keep the full scan; a version-3 file
 * migrates and gets its mark from the next sync round. Behaviour only: no timings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/logfmt.h"
#include "spot/io_mem.h"
#include "spot/log.h"
#include "store/store.h"
#include "support.h"
#include "test.h"

#define HISTORY 20000u

static spot__loghdr_t *hdr_of(spot_io_t *io, const char *path) {
  void *p = NULL;
  size_t n;
  return spot_io_mem_get_file(io, path, &p, &n) == 0 ? p : NULL;
}

/* Creates path (8-byte elements, element i holds i), appends 1..n and waits until they are durable, then appends
 * `extra` more without waiting, closes and cuts the power (the extra ones may or may not survive). */
static void make(spot_io_t *io, const char *path, spot_sync_t sync, uint64_t n, uint64_t extra) {
  spot_log_config_t c = {.elem_size = 8, .history = HISTORY, .sync = sync, .batch_us = 100};
  spot_log_t *log;
  CHECK_OK(spot_log_create(path, &c, io));
  CHECK_OK(spot_log_open(path, 0, io, &log, NULL));
  for (uint64_t i = 1; i <= n + extra; i++) {
    CHECK_OK(spot_log_append_async(log, &i, sizeof i, NULL));
    if (i == n || (i < n && i % 1000 == 0))
      CHECK_OK(spot_log_wait_durable(log, i));
  }
  spot_log_close(log);
  spot_io_mem_power_cut(io);
}

/* Opens path after the restart and checks: 1..acked read back, numbers go on after the newest the file shows. */
static void reopen_check(spot_io_t *io, const char *path, uint64_t acked, uint64_t at_most, int scanned_all) {
  spot_log_t *log;
  spot_log_report_t rep;
  CHECK_OK(spot_log_open(path, 0, io, &log, &rep));
  CHECK_EQ(rep.power_loss, 1);
  CHECK_EQ(rep.scanned_all, scanned_all);
  CHECK(rep.latest >= acked && rep.latest <= at_most);
  for (uint64_t i = 1; i <= acked; i++) {
    uint64_t v = 0;
    CHECK_OK(spot_log_read(log, i, &v, 8));
    CHECK_EQ(v, i);
  }
  uint64_t seq, x = 7;
  CHECK_OK(spot_log_append(log, &x, 8, &seq));
  CHECK_EQ(seq, rep.latest + 1);
  spot_log_close(log);
}

static void test_restart_reads_from_mark(void) {
  spot_sync_t modes[] = {SPOT_SYNC_BATCH, SPOT_SYNC_ALWAYS};
  for (int m = 0; m < 2; m++)
    for (uint64_t seed = 1; seed <= 6; seed++) {
      spot_io_t *io = spot_io_mem_new(seed * 31 + (uint64_t)m);
      make(io, "m.log", modes[m], 3000 + seed * 100, seed * 40);
      reopen_check(io, "m.log", 3000 + seed * 100, 3000 + seed * 140, 0);
      /* and again: the restart's own recovery left a good mark */
      spot_io_mem_power_cut(io);
      reopen_check(io, "m.log", 3000 + seed * 100, 3000 + seed * 140 + 1, 0);
      spot_io_mem_free(io);
    }
}

/* A ring that wrapped many times: the mark still bounds what is read, and the window is whole. */
static void test_restart_after_wraps(void) {
  spot_io_t *io = spot_io_mem_new(77);
  make(io, "w.log", SPOT_SYNC_BATCH, 3 * HISTORY + 123, 0);
  spot_log_t *log;
  spot_log_report_t rep;
  CHECK_OK(spot_log_open("w.log", 0, io, &log, &rep));
  CHECK_EQ(rep.scanned_all, 0);
  CHECK_EQ(rep.latest, 3 * HISTORY + 123);
  CHECK_EQ(rep.earliest, 2 * HISTORY + 124);
  for (uint64_t i = rep.earliest; i <= rep.latest; i++) {
    uint64_t v = 0;
    CHECK_OK(spot_log_read(log, i, &v, 8));
    CHECK_EQ(v, i);
  }
  CHECK_OK(spot_log_verify(log, NULL));
  spot_log_close(log);
  spot_io_mem_free(io);
}

static void test_none_scans_all(void) {
  spot_io_t *io = spot_io_mem_new(5);
  make(io, "n.log", SPOT_SYNC_NONE, 500, 0);
  spot_log_t *log;
  spot_log_report_t rep;
  CHECK_OK(spot_log_open("n.log", 0, io, &log, &rep));
  CHECK_EQ(rep.scanned_all, 1); /* a `none` log never syncs, so it keeps no mark */
  spot_log_close(log);
  spot_io_mem_free(io);
}

static void test_mark_damaged(void) {
  for (int bit = 0; bit < 64; bit += 9) {
    spot_io_t *io = spot_io_mem_new(100 + (uint64_t)bit);
    make(io, "d.log", SPOT_SYNC_BATCH, 2000, 0);
    spot__loghdr_t *h = hdr_of(io, "d.log");
    CHECK(h != NULL && h->hwm != 0 && h->hwm_check == spot__hwm_check(h, h->hwm));
    h->hwm ^= 1ull << bit;
    reopen_check(io, "d.log", 2000, 2000, 1);
    spot_io_mem_power_cut(io); /* the full scan reset the mark, the append's round synced it: good again */
    reopen_check(io, "d.log", 2000, 2001, 0);
    spot_io_mem_free(io);
  }
}

/* The mark says less than the slots show: the header claims an old state (next and the mark at 2000) while the
 * disk holds elements up to 2050. Recovery must find 2050: numbers never go back. */
static void test_mark_too_low(void) {
  spot_io_t *io = spot_io_mem_new(9);
  make(io, "l.log", SPOT_SYNC_ALWAYS, 2050, 0);
  spot__loghdr_t *h = hdr_of(io, "l.log");
  CHECK(h != NULL);
  h->next = 2001;
  h->durable_hint = 1990;
  h->hwm = 2000;
  h->hwm_check = spot__hwm_check(h, h->hwm);
  reopen_check(io, "l.log", 2050, 2050, 1);
  spot_io_mem_free(io);
  /* below the header's own next */
  io = spot_io_mem_new(10);
  make(io, "l.log", SPOT_SYNC_ALWAYS, 2050, 0);
  h = hdr_of(io, "l.log");
  h->hwm = 1500;
  h->hwm_check = spot__hwm_check(h, h->hwm);
  reopen_check(io, "l.log", 2050, 2050, 1);
  spot_io_mem_free(io);
}

static void test_mark_too_high(void) {
  uint64_t ups[] = {HISTORY + 1, 1ull << 40, (1ull << 62) - 1};
  for (int k = 0; k < 3; k++) {
    spot_io_t *io = spot_io_mem_new(20 + (uint64_t)k);
    make(io, "t.log", SPOT_SYNC_BATCH, 1000, 0);
    spot__loghdr_t *h = hdr_of(io, "t.log");
    h->hwm = h->next - 1 + ups[k];
    h->hwm_check = spot__hwm_check(h, h->hwm);
    reopen_check(io, "t.log", 1000, 1000, 1);
    spot_io_mem_free(io);
  }
}

/* The durable hint's own element damaged: the mark is not trusted (the full scan decides, and refuses as before). */
static void test_hint_element_damaged(void) {
  spot_io_t *io = spot_io_mem_new(31);
  make(io, "h.log", SPOT_SYNC_BATCH, 2500, 0);
  spot__loghdr_t *h = hdr_of(io, "h.log");
  uint64_t x = h->durable_hint;
  CHECK(x > 0);
  uint8_t *slot = (uint8_t *)h + SPOT__HDR_BYTES + ((x - 1) % h->history) * h->slot_bytes;
  slot[SPOT__SLOT_HDR] ^= 0x10;
  spot_log_t *log;
  spot_log_report_t rep;
  int rc = spot_log_open("h.log", 0, io, &log, &rep);
  if (rc == 0) {
    CHECK_EQ(rep.scanned_all, 1);
    CHECK(rep.latest >= 2500);
    spot_log_close(log);
  } else {
    CHECK_RC(rc, SPOT_ECORRUPT);
    CHECK(strstr(spot_errdetail(), "spot check") != NULL);
  }
  spot_io_mem_free(io);
}

/* A version-3 file (no mark; the bytes where version 4 keeps it hold anything) migrates, scans once, then opens
 * from its mark. */
static void test_version_3_migrated(void) {
  spot_io_t *io = spot_io_mem_new(41);
  make(io, "v.log", SPOT_SYNC_BATCH, 1200, 0);
  spot__loghdr_t *h = hdr_of(io, "v.log");
  h->version = 3;
  h->hdr_crc = spot__hdr_crc(h);
  memset(&h->hwm, 0xa5, sizeof h->hwm + sizeof h->hwm_check + sizeof h->pad2 + sizeof h->hwm_on_disk);
  reopen_check(io, "v.log", 1200, 1200, 1);
  CHECK_EQ(hdr_of(io, "v.log")->version, SPOT__LOG_VERSION);
  spot_io_mem_power_cut(io);
  reopen_check(io, "v.log", 1200, 1201, 0);
  spot_io_mem_free(io);
}

/* The real files: a reboot simulated by SPOT_TEST_BOOT_ID (the boot id decides "same boot", recover.c). */
static void test_reboot_by_boot_id(void) {
  const char *dir = spot_test_dir("mark");
  char path[4096];
  snprintf(path, sizeof path, "%s/r.log", dir);
  spot_log_config_t c = {.elem_size = 8, .history = 1u << 20, .sync = SPOT_SYNC_BATCH};
  spot_log_t *log;
  spot_log_report_t rep;
  CHECK_OK(spot_log_create(path, &c, NULL));
  CHECK_OK(spot_log_open(path, 0, NULL, &log, &rep));
  for (uint64_t i = 1; i <= 5000; i++)
    CHECK_OK(spot_log_append_async(log, &i, 8, NULL));
  CHECK_OK(spot_log_wait_durable(log, 5000));
  spot_log_close(log);
  const char *boots[] = {"spot-test-boot-2", "spot-test-boot-3"};
  for (int b = 0; b < 2; b++) {
    CHECK_EQ(setenv("SPOT_TEST_BOOT_ID", boots[b], 1), 0);
    CHECK_OK(spot_log_open(path, 0, NULL, &log, &rep));
    CHECK_EQ(rep.power_loss, 1);
    CHECK_EQ(rep.scanned_all, 0);
    CHECK_EQ(rep.latest, 5000 + (uint64_t)b);
    uint64_t v = 0, seq;
    CHECK_OK(spot_log_read(log, 1, &v, 8));
    CHECK_EQ(v, 1);
    CHECK_OK(spot_log_read(log, 5000, &v, 8));
    CHECK_EQ(v, 5000);
    CHECK_OK(spot_log_append(log, &v, 8, &seq));
    CHECK_EQ(seq, 5001 + (uint64_t)b);
    spot_log_close(log);
  }
  /* the same boot again: the O(1) open of the same boot */
  CHECK_OK(spot_log_open(path, 0, NULL, &log, &rep));
  CHECK_EQ(rep.power_loss, 0);
  CHECK_EQ(rep.scanned_all, 0);
  spot_log_close(log);
  unsetenv("SPOT_TEST_BOOT_ID");
}

static const spot_test_t tests[] = {
    {"restart_reads_from_mark", test_restart_reads_from_mark},
    {"restart_after_wraps", test_restart_after_wraps},
    {"none_scans_all", test_none_scans_all},
    {"mark_damaged", test_mark_damaged},
    {"mark_too_low", test_mark_too_low},
    {"mark_too_high", test_mark_too_high},
    {"hint_element_damaged", test_hint_element_damaged},
    {"version_3_migrated", test_version_3_migrated},
    {"reboot_by_boot_id", test_reboot_by_boot_id},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
