/*
 * powercut_test.c: simulated power cuts through the in-memory io. For each durability setting, history and seed,
 * one or two writer threads append (plain appends, asynchronous ones, waits for durability) until the power is
 * cut, either between two operations or in the middle of a sync; then the log is reopened "after the restart":
 *   - it opens (a torn tail is repaired, never reported as corruption);
 *   - latest >= every sequence number whose durability was acknowledged;
 *   - every acknowledged durable element that no later append had begun to overwrite reads back exactly;
 *   - every element from earliest to latest reads back, and is one that a writer appended (self-checking
 *     contents), under the number that writer was given: nothing torn or stale is returned as valid; or it is
 *     reported lost (a number handed out, never acknowledged, whose append did not reach the disk);
 *   - the log takes new appends, numbered after latest.
 * Elements carry (writer, counter, check), so a reader can tell a real element from garbage without knowing the
 * sequence number in advance.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spot/io_mem.h"
#include "spot/log.h"
#include "test.h"

#define MAX_APPENDS 300
#define WRITERS 2

typedef struct elem {
  uint32_t writer;
  uint32_t pad;
  uint64_t counter;
  uint64_t check;
} elem_t;

static uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t x = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull);
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  return x ^ (x >> 29);
}

typedef struct run {
  spot_io_t *io;
  spot_log_t *log;
  spot_sync_t mode;
  uint64_t seed;
  int cut_after; /* writer 0 cuts the power after this many of its appends (0: the cut comes in a sync) */
  atomic_int cut;
  _Atomic uint64_t acked;    /* highest sequence number whose durability a writer saw acknowledged */
  _Atomic uint64_t assigned; /* highest sequence number handed out */
  uint64_t seq_of[WRITERS][MAX_APPENDS + 1]; /* the number each append got (0: never returned) */
} run_t;

typedef struct writer {
  run_t *run;
  uint32_t id;
} writer_t;

static void raise_to(_Atomic uint64_t *a, uint64_t v) {
  uint64_t cur = atomic_load(a);
  while (cur < v && !atomic_compare_exchange_weak(a, &cur, v)) {
  }
}

static void *write_loop(void *arg) {
  writer_t *w = arg;
  run_t *r = w->run;
  uint64_t x = mix(r->seed, w->id);
  for (uint64_t c = 1; c <= MAX_APPENDS && !atomic_load(&r->cut); c++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    elem_t e = {.writer = w->id, .counter = c, .check = mix(w->id, c)};
    uint64_t seq = 0;
    int rc, durable = 0;
    switch ((x >> 59) % 4) {
    case 0: /* plain append: durable when it returns, for batch and always */
      rc = spot_log_append(r->log, &e, sizeof e, &seq);
      durable = rc == 0 && r->mode != SPOT_SYNC_NONE;
      break;
    case 1: /* asynchronous append, then wait for it */
      rc = spot_log_append_async(r->log, &e, sizeof e, &seq);
      if (rc == 0) {
        r->seq_of[w->id][c] = seq;
        raise_to(&r->assigned, seq);
        rc = spot_log_wait_durable(r->log, seq);
        durable = rc == 0;
      }
      break;
    default: /* asynchronous, no wait */
      rc = spot_log_append_async(r->log, &e, sizeof e, &seq);
      break;
    }
    if (seq) {
      r->seq_of[w->id][c] = seq;
      raise_to(&r->assigned, seq);
    }
    if (durable)
      raise_to(&r->acked, seq);
    if (rc != 0)
      break; /* the power is gone */
    if (w->id == 0 && r->cut_after && (int)c == r->cut_after) {
      atomic_store(&r->cut, 1);
      spot_io_mem_power_cut(r->io);
    }
  }
  return NULL;
}

static int g_failed_case;

static void check_case(spot_sync_t mode, uint64_t history, uint64_t seed, int writers) {
  static run_t r;
  memset(&r, 0, sizeof r);
  r.io = spot_io_mem_new(seed);
  r.mode = mode;
  r.seed = seed;
  uint64_t pick = mix(seed, 99);
  if (pick % 2)
    r.cut_after = 1 + (int)(pick / 2 % MAX_APPENDS);
  else
    spot_io_mem_power_cut_at_sync(r.io, 2 + pick / 2 % 40); /* sync 1 belongs to create */
  spot_log_config_t cfg = {.elem_size = sizeof(elem_t), .history = history, .sync = mode, .batch_us = 50};
  CHECK_OK(spot_log_create("p.log", &cfg, r.io));
  CHECK_OK(spot_log_open("p.log", 0, r.io, &r.log, NULL));
  pthread_t t[WRITERS];
  writer_t w[WRITERS];
  for (int i = 0; i < writers; i++) {
    w[i] = (writer_t){.run = &r, .id = (uint32_t)i};
    pthread_create(&t[i], NULL, write_loop, &w[i]);
  }
  for (int i = 0; i < writers; i++)
    pthread_join(t[i], NULL);
  if (!atomic_load(&r.cut))
    spot_io_mem_power_cut(r.io); /* the writers finished first, or the sync cut happened: cut (again) now */
  spot_log_close(r.log);
  spot_io_mem_power_cut_at_sync(r.io, 0); /* the restart itself runs on steady power */

  /* after the restart */
  spot_log_t *log;
  spot_log_report_t rep;
  g_failed_case = 1;
  CHECK_OK(spot_log_open("p.log", 0, r.io, &log, &rep));
  CHECK_EQ(rep.power_loss, 1);
  uint64_t lo, hi, acked = atomic_load(&r.acked);
  uint64_t A = atomic_load(&r.assigned) + (uint64_t)writers; /* appends under way at the cut may have a number */
  spot_log_latest(log, &hi);
  spot_log_earliest(log, &lo);
  /* `none` promises nothing across a power cut (its ring does not wait for syncs): only the checks below hold. */
  if (mode == SPOT_SYNC_NONE)
    acked = 0;
  CHECK(hi >= acked);
  for (int i = 0; i < writers; i++)
    for (uint64_t c = 1; c <= MAX_APPENDS; c++) {
      uint64_t s = r.seq_of[i][c];
      if (s == 0 || s > acked || s + history <= A)
        continue; /* not promised: never durable, or overwritten by a later append */
      elem_t e;
      CHECK_OK(spot_log_read(log, s, &e, sizeof e));
      CHECK_EQ(e.writer, (uint64_t)i);
      CHECK_EQ(e.counter, c);
    }
  for (uint64_t s = lo; lo && s <= hi; s++) {
    elem_t e;
    int rc = spot_log_read(log, s, &e, sizeof e);
    if (rc == SPOT_EEXPIRED && strstr(spot_errdetail(), "not on disk yet") != NULL) {
      /* a number handed out whose append did not reach the disk: lost, never handed out again */
      CHECK(s > acked && s <= A);
      continue;
    }
    CHECK_OK(rc);
    CHECK(e.writer < (uint32_t)writers && e.counter >= 1 && e.counter <= MAX_APPENDS);
    CHECK(e.check == mix(e.writer, e.counter));
    uint64_t given = r.seq_of[e.writer][e.counter];
    CHECK(given == 0 || given == s);
  }
  CHECK_OK(spot_log_verify(log, NULL));
  uint64_t seq;
  elem_t e = {.writer = 0, .counter = 1, .check = mix(0, 1)};
  CHECK_OK(spot_log_append(log, &e, sizeof e, &seq));
  CHECK_EQ(seq, hi + 1);
  spot_log_close(log);
  spot_io_mem_free(r.io);
  g_failed_case = 0;
}

static void run_matrix(int writers) {
  const char *quick = getenv("SPOT_TEST_QUICK");
  const char *many = getenv("SPOT_TEST_SEEDS"); /* for long soak runs by hand */
  uint64_t seeds = many ? strtoull(many, NULL, 10) : quick && quick[0] == '1' ? 12 : 40;
  uint64_t histories[] = {3, 16, 1000};
  spot_sync_t modes[] = {SPOT_SYNC_NONE, SPOT_SYNC_BATCH, SPOT_SYNC_ALWAYS};
  int cases = 0;
  for (int m = 0; m < 3; m++)
    for (int h = 0; h < 3; h++)
      for (uint64_t seed = 1; seed <= seeds; seed++) {
        check_case(modes[m], histories[h], seed * 1000 + (uint64_t)writers, writers);
        if (g_failed_case) {
          fprintf(stderr, "  failing case: sync %s, history %llu, seed %llu, writers %d\n",
                  spot_sync_name(modes[m]), (unsigned long long)histories[h],
                  (unsigned long long)(seed * 1000 + (uint64_t)writers), writers);
          CHECK(0);
        }
        cases++;
      }
  printf("  power cut: %d cases with %d writer(s), every acknowledged durable append survived\n", cases, writers);
}

static void test_one_writer(void) { run_matrix(1); }
static void test_two_writers(void) { run_matrix(2); }

static const spot_test_t tests[] = {
    {"one_writer", test_one_writer},
    {"two_writers", test_two_writers},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
