/*
 * ioerror_test.c: the SQLite-style I/O error loop. A scenario (create a log, open it, append with syncs, read,
 * close, reopen, append, read) runs again and again with the 1st, 2nd, 3rd ... I/O operation failing, until a run
 * completes without reaching the fault. Each run must either succeed or report the error (no crash, no hang),
 * and afterwards, with the faults off, the log must open and hold every append that was acknowledged. It runs
 * for each fault kind: EIO once, EIO from then on, ENOSPC from then on, and short writes.
 */
#include <stdio.h>
#include <string.h>

#include "spot/io_mem.h"
#include "spot/log.h"
#include "test.h"

#define N 12

typedef struct outcome {
  int created;     /* the log file exists (create returned 0) */
  uint64_t acked;  /* how many appends (1..acked) were acknowledged */
  int completed;   /* every step succeeded */
} outcome_t;

static void value(uint64_t i, uint8_t out[32]) {
  for (int k = 0; k < 32; k++)
    out[k] = (uint8_t)(i * 31 + (uint64_t)k * 7);
}

static void scenario(spot_io_t *io, outcome_t *o) {
  memset(o, 0, sizeof *o);
  spot_log_config_t cfg = {.elem_size = 32, .history = 64, .sync = SPOT_SYNC_ALWAYS};
  if (spot_log_create("e.log", &cfg, io) != 0)
    return;
  o->created = 1;
  spot_log_t *log;
  if (spot_log_open("e.log", 0, io, &log, NULL) != 0)
    return;
  uint8_t buf[32], got[32];
  int ok = 1;
  for (uint64_t i = 1; i <= N / 2 && ok; i++) {
    uint64_t seq;
    value(i, buf);
    ok = spot_log_append(log, buf, sizeof buf, &seq) == 0 && seq == i;
    if (ok)
      o->acked = i;
  }
  for (uint64_t i = 1; i <= o->acked && ok; i++)
    ok = spot_log_read(log, i, got, sizeof got) == 0;
  spot_log_close(log);
  if (!ok || spot_log_open("e.log", 0, io, &log, NULL) != 0)
    return;
  for (uint64_t i = N / 2 + 1; i <= N && ok; i++) {
    uint64_t seq;
    value(i, buf);
    ok = spot_log_append(log, buf, sizeof buf, &seq) == 0 && seq == i;
    if (ok)
      o->acked = i;
  }
  spot_log_close(log);
  o->completed = ok && o->acked == N;
}

static void run_kind(int kind, int sticky, const char *label) {
  uint64_t n;
  int runs = 0, errors = 0;
  for (n = 1; n < 1000; n++) {
    spot_io_t *io = spot_io_mem_new(n);
    spot_io_mem_fail_at(io, n, kind, sticky);
    outcome_t o;
    scenario(io, &o);
    uint64_t ops = spot_io_mem_ops(io);
    spot_io_mem_fail_at(io, 0, 0, 0);
    runs++;
    if (!o.completed)
      errors++;
    /* with the faults off: the log is intact and holds every acknowledged append */
    spot_log_t *log;
    if (o.created) {
      spot_log_report_t rep;
      CHECK_OK(spot_log_open("e.log", 0, io, &log, &rep));
      uint64_t hi;
      spot_log_latest(log, &hi);
      CHECK(hi >= o.acked);
      for (uint64_t i = 1; i <= o.acked; i++) {
        uint8_t want[32], got[32];
        value(i, want);
        CHECK_OK(spot_log_read(log, i, got, sizeof got));
        CHECK(memcmp(want, got, sizeof got) == 0);
      }
      CHECK_OK(spot_log_verify(log, NULL));
      uint64_t seq;
      CHECK_OK(spot_log_append(log, "after", 5, &seq));
      CHECK_EQ(seq, hi + 1);
      spot_log_close(log);
    } else {
      CHECK_RC(spot_log_open("e.log", 0, io, &log, NULL), SPOT_ENOTFOUND); /* no half-made log is left */
    }
    spot_io_mem_free(io);
    if (o.completed && ops < n)
      break; /* the fault lay beyond the last operation: the run completed */
  }
  CHECK(n < 1000);
  printf("  %s: %d runs, %d reported an error, all left the log intact\n", label, runs, errors);
}

static void test_eio_once(void) { run_kind(SPOT_IO_MEM_FAIL_EIO, 0, "EIO once"); }
static void test_eio_sticky(void) { run_kind(SPOT_IO_MEM_FAIL_EIO, 1, "EIO from then on"); }
static void test_enospc(void) { run_kind(SPOT_IO_MEM_FAIL_ENOSPC, 1, "ENOSPC from then on"); }
static void test_short_writes(void) { run_kind(SPOT_IO_MEM_FAIL_SHORT, 1, "short writes"); }

static const spot_test_t tests[] = {
    {"eio_once", test_eio_once},
    {"eio_sticky", test_eio_sticky},
    {"enospc", test_enospc},
    {"short_writes", test_short_writes},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
