/*
 * store_lease_test.c: writers of one log take turns (src/store/lease.c; docs/DESIGN.md, "Turns between writers").
 * Two processes that append at the same time get long runs of consecutive numbers each instead of alternating
 * numbers (which moved the cache lines of `next` and of the slots between processors on every append), and
 * nothing is lost or reordered; a turn held by a thread that is gone, or by one that never stops appending, delays
 * another writer by one turn at most: its appends go through and the turn becomes its own. The processes are forked
 * after the parent appended, so they also prove that a forked child gets its own thread id.
 */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/log_impl.h"
#include "spot/log.h"
#include "support.h"
#include "test.h"

typedef struct {
  uint32_t writer;
  uint32_t pad;
  uint64_t counter;
} elem_t;

static void make_log(const char *tag, uint64_t history, char *path, size_t cap, spot_log_t **log) {
  snprintf(path, cap, "%s/turns.log", spot_test_dir(tag));
  spot_log_config_t c = {.elem_size = 64, .history = history, .sync = SPOT_SYNC_NONE};
  CHECK_OK(spot_log_create(path, &c, NULL));
  CHECK_OK(spot_log_open(path, 0, NULL, log, NULL));
}

/* Reads elements from..to back: each writer's counters run 0, 1, 2, ... in number order; *changes is how many
 * times the writer changes from one number to the next. */
static void switches(spot_log_t *log, uint64_t from, uint64_t to, uint32_t writers, uint64_t per_writer,
                     uint64_t *changes) {
  uint64_t next[4] = {0};
  *changes = 0;
  uint32_t last = UINT32_MAX;
  for (uint64_t s = from; s <= to; s++) {
    uint8_t buf[64];
    CHECK_OK(spot_log_read(log, s, buf, sizeof buf));
    elem_t e;
    memcpy(&e, buf, sizeof e);
    CHECK(e.writer < writers);
    CHECK_EQ(e.counter, next[e.writer]);
    next[e.writer] = e.counter + 1;
    *changes += last != UINT32_MAX && e.writer != last;
    last = e.writer;
  }
  for (uint32_t w = 0; w < writers; w++)
    CHECK_EQ(next[w], per_writer);
}

static void test_processes_take_turns(void) {
  const uint64_t n = spot_test_quick() ? 50000 : 200000; /* per writer */
  char path[4200];
  spot_log_t *log = NULL;
  make_log("lease_procs", 1u << 19, path, sizeof path, &log);
  uint8_t buf[64] = {0};
  CHECK_OK(spot_log_append(log, buf, sizeof buf, NULL)); /* number 1: this thread's id is cached before the fork */
  int go[2];
  CHECK(pipe(go) == 0);
  pid_t kids[2];
  for (uint32_t k = 0; k < 2; k++) {
    kids[k] = fork();
    CHECK(kids[k] >= 0);
    if (kids[k] == 0) {
      close(go[1]);
      spot_log_t *mine;
      char c;
      if (spot_log_open(path, 0, NULL, &mine, NULL) != 0 || read(go[0], &c, 1) != 0)
        _exit(2);
      if (spot__thread_id() == (uint32_t)getppid())
        _exit(3); /* the parent's id, inherited through the fork */
      for (uint64_t i = 0; i < n; i++) {
        elem_t e = {.writer = k, .counter = i};
        memcpy(buf, &e, sizeof e);
        if (spot_log_append_async(mine, buf, sizeof buf, NULL) != 0)
          _exit(4);
      }
      spot_log_close(mine);
      _exit(0);
    }
  }
  close(go[0]);
  close(go[1]); /* go */
  for (int k = 0; k < 2; k++) {
    int st = 0;
    CHECK(waitpid(kids[k], &st, 0) == kids[k]);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  uint64_t latest = 0;
  CHECK_OK(spot_log_latest(log, &latest));
  CHECK_EQ(latest, 2 * n + 1);
  uint64_t changes = 0;
  switches(log, 2, latest, 2, n, &changes);
  printf("two processes, %llu appends each: the writer changed %llu times\n", (unsigned long long)n,
         (unsigned long long)changes);
  /* Turns of 100 us hold thousands of appends (here a few hundred changes in 400,000 appends); writers that
   * alternated numbers would change ~n times. Loose on purpose: how often a turn ends depends on the machine. */
  CHECK(changes <= 2 * n / 16);
  spot_log_close(log);
}

typedef struct {
  spot_log_t *log;
  atomic_int stop;
  uint32_t holder;
} busy_t;

/* Plays a holder that appends without end: bumps the count of a turn it began, never leaving it. */
static void *busy_holder(void *arg) {
  busy_t *b = arg;
  _Atomic uint64_t *word = (_Atomic uint64_t *)&b->log->hdr->lease;
  uint64_t w = atomic_load(word);
  while (!atomic_load(&b->stop)) {
    w = (w & ~SPOT__LEASE_COUNT) | ((w + (1ull << 33)) & SPOT__LEASE_COUNT);
    uint64_t cur = atomic_load(word);
    if ((uint32_t)cur != b->holder && (uint32_t)cur != 0)
      break; /* taken over: done */
    atomic_store(word, w);
    for (int i = 0; i < 50; i++)
      spot__cpu_relax();
  }
  return NULL;
}

static void test_gone_or_endless_holder(void) {
  char path[4200];
  spot_log_t *log = NULL;
  make_log("lease_gone", 1024, path, sizeof path, &log);
  _Atomic uint64_t *word = (_Atomic uint64_t *)&log->hdr->lease;
  uint8_t buf[64] = {0};
  uint64_t seq = 0;
  /* A holder that is gone, inside an append, its turn just begun: the append waits out the turn, then goes on. */
  atomic_store(word, spot__lease_word(0x7ffffff0u, spot__now_ns()));
  CHECK_OK(spot_log_append(log, buf, sizeof buf, &seq));
  CHECK_EQ(seq, 1);
  CHECK_EQ((uint32_t)atomic_load(word), spot__thread_id());
  CHECK(!(atomic_load(word) & SPOT__LEASE_INSIDE)); /* left after the append */
  /* The same outside any append (a burst ended): taken at once. */
  atomic_store(word, spot__lease_word(0x7ffffff0u, spot__now_ns()) & ~SPOT__LEASE_INSIDE);
  CHECK_OK(spot_log_append(log, buf, sizeof buf, &seq));
  CHECK_EQ(seq, 2);
  CHECK_EQ((uint32_t)atomic_load(word), spot__thread_id());
  /* A holder that keeps appending: the turn ends, the append goes through, the turn is ours. */
  busy_t b = {.log = log, .holder = 0x7ffffff1u};
  atomic_store(word, spot__lease_word(b.holder, spot__now_ns()));
  pthread_t t;
  uint64_t began = spot__now_ns();
  CHECK(pthread_create(&t, NULL, busy_holder, &b) == 0);
  CHECK_OK(spot_log_append(log, buf, sizeof buf, &seq));
  /* not before the holder's turn (100 us, counted in 1,024 ns steps from a truncated start) was over */
  CHECK(spot__now_ns() - began >= 98000u);
  for (int i = 0; i < 2; i++)
    CHECK_OK(spot_log_append(log, buf, sizeof buf, &seq));
  CHECK_EQ(seq, 5);
  atomic_store(&b.stop, 1);
  pthread_join(t, NULL);
  CHECK_OK(spot_log_append(log, buf, sizeof buf, &seq)); /* (the last store of the stopped thread may be the newest) */
  CHECK_EQ((uint32_t)atomic_load(word), spot__thread_id());
  /* The only opener recovers, and no writer is left then: the turn is nobody's. */
  atomic_store(word, spot__lease_word(0x7ffffff2u, spot__now_ns()));
  spot_log_close(log);
  CHECK_OK(spot_log_open(path, 0, NULL, &log, NULL));
  CHECK_EQ(atomic_load((_Atomic uint64_t *)&log->hdr->lease), 0);
  spot_log_close(log);
}

static const spot_test_t tests[] = {
    {"processes_take_turns", test_processes_take_turns},
    {"gone_or_endless_holder", test_gone_or_endless_holder},
    {NULL, NULL},
};

SPOT_TEST_MAIN(tests)
