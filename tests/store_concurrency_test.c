/*
 * store_concurrency_test.c: many processes and threads appending to one log at once (DESIGN.md, "Storage
 * contract"; issue 3, "concurrency").
 *
 * Each run forks 4 writer processes; each opens its own handle and starts 4 threads that share it. Every thread is
 * one writer: it appends elements that carry (writer id, counter, run tag, length, checksum) followed by filler
 * bytes derived from those fields, so the parent can rebuild every element's exact bytes. Lengths vary, so the
 * zero padding up to the element size is checked too. Afterwards the parent reopens the log and checks that:
 *   - every sequence number 1..N is present and holds an intact element (so each append is there exactly once,
 *     because per-writer counters are dense and N is the number of appends);
 *   - each element's bytes are the ones written, zero-padded;
 *   - each writer's counters appear dense and in increasing sequence-number order.
 * Variants: durability none; `batch` with synchronous spot_log_append, so group commit runs in every process at
 * once; `always`; `batch` pipelined (asynchronous appends with a wait for durability every 64); and small histories where the ring wraps, where only the window is checked while the parent reads
 * concurrently (a read returns an intact element or SPOT_EEXPIRED, never a torn one).
 *
 * Counts shrink with SPOT_TEST_QUICK=1 (the sanitizer run). Every wait is bounded: a run that does not finish in
 * 90 s is killed and reported as a deadlock.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spot/log.h"
#include "spot/ns.h"
#include "elem.h"
#include "support.h"
#include "test.h"

#define NPROC 4
#define NTHREAD 4
#define NWRITER (NPROC * NTHREAD)
#define ELEM_MAGIC 0x43545053u /* "SPTC" */
#define DEADLINE_S 90

/* ---- elements: header {magic, writer, counter, tag, len, sum} then filler ---- */

static size_t make_elem(uint8_t *buf, uint32_t elem_size, uint32_t writer, uint64_t counter, uint64_t tag) {
  return elem_make(buf, elem_size, ELEM_MAGIC, writer, counter, tag);
}

/* Checks that got (elem_size bytes) is exactly an element that make_elem builds; fills *h. 0 or -1 with a line. */
static int check_elem(const uint8_t *got, uint32_t elem_size, uint64_t tag, uint8_t *scratch, elem_hdr_t *h,
                      uint64_t seq) {
  memcpy(h, got, sizeof *h);
  if (h->magic != ELEM_MAGIC || h->writer >= NWRITER || h->tag != tag || h->len < ELEM_HDR || h->len > elem_size) {
    fprintf(stderr, "  seq %llu: bad element header (magic %08x writer %u tag %llu len %u)\n",
            (unsigned long long)seq, h->magic, h->writer, (unsigned long long)h->tag, h->len);
    return -1;
  }
  make_elem(scratch, elem_size, h->writer, h->counter, tag);
  if (memcmp(scratch, got, elem_size) != 0) {
    fprintf(stderr, "  seq %llu: bytes differ from what writer %u wrote as counter %llu\n", (unsigned long long)seq,
            h->writer, (unsigned long long)h->counter);
    return -1;
  }
  return 0;
}

/* ---- writer processes ---- */

typedef struct run {
  const char *name; /* test name, for the scratch dir and messages */
  uint32_t elem_size;
  uint64_t history;
  spot_sync_t sync;
  uint32_t batch_us;
  uint64_t per_thread; /* appends per writer thread */
  uint64_t tag;
  int async_every; /* > 0: spot_log_append_async, and spot_log_wait_durable every so many appends and at the end */
  char path[4096];
} run_t;

typedef struct writer_arg {
  const run_t *run;
  spot_log_t *log;
  uint32_t writer;
  int failed;
} writer_arg_t;

static void *writer_main(void *p) {
  writer_arg_t *w = p;
  uint32_t es = w->run->elem_size;
  uint8_t *buf = malloc(es);
  if (buf == NULL) {
    w->failed = 1;
    return NULL;
  }
  uint64_t prev = 0;
  for (uint64_t c = 0; c < w->run->per_thread; c++) {
    size_t len = make_elem(buf, es, w->writer, c, w->run->tag);
    uint64_t seq = 0;
    int rc;
    if (w->run->async_every > 0) {
      rc = spot_log_append_async(w->log, buf, len, &seq);
      if (rc == 0 && ((c + 1) % (uint64_t)w->run->async_every == 0 || c + 1 == w->run->per_thread))
        rc = spot_log_wait_durable(w->log, seq);
    } else {
      rc = spot_log_append(w->log, buf, len, &seq);
    }
    if (rc != 0) {
      fprintf(stderr, "  writer %u: append %llu failed: %s (%s)\n", w->writer, (unsigned long long)c,
              spot_errname(rc), spot_errdetail());
      w->failed = 1;
      break;
    }
    if (seq <= prev) { /* this thread's own appends must get increasing numbers */
      fprintf(stderr, "  writer %u: seq %llu after %llu\n", w->writer, (unsigned long long)seq,
              (unsigned long long)prev);
      w->failed = 1;
      break;
    }
    prev = seq;
  }
  free(buf);
  return NULL;
}

/* The body of one writer process: its own handle, NTHREAD threads sharing it. Never returns. */
static void writer_process(const run_t *run, int proc) {
  spot_log_t *log = NULL;
  int rc = spot_log_open(run->path, 0, NULL, &log, NULL);
  if (rc != 0) {
    fprintf(stderr, "  process %d: open failed: %s (%s)\n", proc, spot_errname(rc), spot_errdetail());
    _exit(2);
  }
  pthread_t th[NTHREAD];
  writer_arg_t args[NTHREAD];
  int started = 0, bad = 0;
  for (int t = 0; t < NTHREAD; t++) {
    args[t] = (writer_arg_t){run, log, (uint32_t)(proc * NTHREAD + t), 0};
    if (pthread_create(&th[t], NULL, writer_main, &args[t]) != 0) {
      bad = 1;
      break;
    }
    started++;
  }
  for (int t = 0; t < started; t++) {
    pthread_join(th[t], NULL);
    bad |= args[t].failed;
  }
  spot_log_close(log);
  _exit(bad ? 1 : 0);
}

/* ---- the parent: concurrent reader and final checks ---- */

/* Reads random elements of the window while writers run: each read is intact or expired/not yet, never torn. */
static int read_while_writing(const run_t *run, spot_log_t *log, uint64_t *reads_ok) {
  uint8_t *got = malloc(run->elem_size), *want = malloc(run->elem_size);
  if (got == NULL || want == NULL) {
    free(got);
    free(want);
    return -1;
  }
  uint64_t rnd = 0x9e3779b97f4a7c15ull ^ run->tag;
  int rc = 0;
  for (int i = 0; i < 200000; i++) {
    uint64_t lo, hi; /* two snapshots: the window may move (or first fill) between them */
    spot_log_latest(log, &hi);
    spot_log_earliest(log, &lo);
    if (lo == 0 || lo > hi)
      continue;
    rnd = mix64(rnd + (uint64_t)i);
    uint64_t seq = lo + rnd % (hi - lo + 1);
    int r = spot_log_read(log, seq, got, run->elem_size);
    if (r == SPOT_EEXPIRED)
      continue;
    if (r != 0) {
      fprintf(stderr, "  concurrent read of %llu (window %llu..%llu): %s (%s)\n", (unsigned long long)seq,
              (unsigned long long)lo, (unsigned long long)hi, spot_errname(r), spot_errdetail());
      rc = -1;
      break;
    }
    elem_hdr_t h;
    if (check_elem(got, run->elem_size, run->tag, want, &h, seq) != 0) {
      rc = -1;
      break;
    }
    (*reads_ok)++;
  }
  free(got);
  free(want);
  return rc;
}

/* Waits for the writer processes (bounded); kills them all if they overrun. 0 if every one exited 0. */
static int wait_writers(pid_t *pids, int n, const run_t *run, spot_log_t *reader) {
  int bad = 0, left = n;
  uint64_t reads_ok = 0;
  time_t start = time(NULL);
  while (left > 0) {
    if (reader && read_while_writing(run, reader, &reads_ok) != 0) {
      bad = 1;
      reader = NULL; /* stop reading, keep waiting */
    }
    for (int i = 0; i < n; i++) {
      if (pids[i] <= 0)
        continue;
      int st;
      pid_t r = waitpid(pids[i], &st, WNOHANG);
      if (r == pids[i]) {
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
          fprintf(stderr, "  %s: writer process %d ended with status 0x%x\n", run->name, i, st);
          bad = 1;
        }
        pids[i] = 0;
        left--;
      }
    }
    if (left > 0 && time(NULL) - start > DEADLINE_S) {
      fprintf(stderr, "  %s: writers still running after %d s: deadlock? killing them\n", run->name, DEADLINE_S);
      for (int i = 0; i < n; i++)
        if (pids[i] > 0) {
          kill(pids[i], SIGKILL);
          waitpid(pids[i], NULL, 0);
          pids[i] = 0;
        }
      return -1;
    }
    if (left > 0 && reader == NULL)
      usleep(2000);
  }
  if (reads_ok)
    printf("  %s: %llu concurrent reads checked\n", run->name, (unsigned long long)reads_ok);
  return bad ? -1 : 0;
}

/* Runs the writers on a fresh log and checks it. Returns 0 or -1 (after printing why). */
static int run_writers(run_t *run, int read_concurrently) {
  const char *dir = spot_test_dir(run->name);
  snprintf(run->path, sizeof run->path, "%s/conc.log", dir);
  spot_log_config_t cfg = {run->elem_size, run->history, run->sync, run->batch_us};
  int rc = spot_log_create(run->path, &cfg, NULL);
  if (rc != 0) {
    fprintf(stderr, "  create: %s (%s)\n", spot_errname(rc), spot_errdetail());
    return -1;
  }
  fflush(NULL);
  pid_t pids[NPROC];
  for (int p = 0; p < NPROC; p++) {
    pids[p] = fork();
    if (pids[p] < 0) {
      perror("fork");
      for (int q = 0; q < p; q++) {
        kill(pids[q], SIGKILL);
        waitpid(pids[q], NULL, 0);
      }
      return -1;
    }
    if (pids[p] == 0)
      writer_process(run, p);
  }
  spot_log_t *reader = NULL;
  if (read_concurrently) {
    rc = spot_log_open(run->path, 0, NULL, &reader, NULL);
    if (rc != 0) {
      fprintf(stderr, "  reader open: %s (%s)\n", spot_errname(rc), spot_errdetail());
      reader = NULL;
    }
  }
  int w = wait_writers(pids, NPROC, run, reader);
  if (reader)
    spot_log_close(reader);
  if (read_concurrently && reader == NULL)
    return -1;
  return w;
}

/* Reopens the log and checks the window: intact elements, exact bytes, per-writer counters dense and increasing
 * in sequence order. full: nothing expired, so the window is 1..N and every writer wrote all its elements. */
static int check_log(const run_t *run, int full) {
  spot_log_t *log = NULL;
  spot_log_report_t rep;
  int rc = spot_log_open(run->path, 0, NULL, &log, &rep);
  if (rc != 0) {
    fprintf(stderr, "  reopen: %s (%s)\n", spot_errname(rc), spot_errdetail());
    return -1;
  }
  uint64_t n = (uint64_t)NWRITER * run->per_thread;
  uint64_t lo, hi;
  spot_log_earliest(log, &lo);
  spot_log_latest(log, &hi);
  uint64_t want_lo = full ? 1 : (n > run->history ? n - run->history + 1 : 1);
  uint8_t *got = malloc(run->elem_size), *want = malloc(run->elem_size);
  int64_t last[NWRITER];
  int bad = 0;
  if (got == NULL || want == NULL) {
    bad = 1;
    goto out;
  }
  if (hi != n || lo != want_lo || rep.torn_slots != 0 || rep.dropped != 0) {
    fprintf(stderr, "  %s: window %llu..%llu, wanted %llu..%llu (torn %llu, dropped %llu)\n", run->name,
            (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)want_lo, (unsigned long long)n,
            (unsigned long long)rep.torn_slots, (unsigned long long)rep.dropped);
    bad = 1;
    goto out;
  }
  if (lo > 1 && (rc = spot_log_read(log, lo - 1, got, run->elem_size)) != SPOT_EEXPIRED) {
    fprintf(stderr, "  %s: reading %llu below the window gave %s\n", run->name, (unsigned long long)(lo - 1),
            spot_errname(rc));
    bad = 1;
    goto out;
  }
  if ((rc = spot_log_read(log, hi + 1, got, run->elem_size)) != SPOT_ENOTYET) {
    fprintf(stderr, "  %s: reading past latest gave %s\n", run->name, spot_errname(rc));
    bad = 1;
    goto out;
  }
  for (int i = 0; i < NWRITER; i++)
    last[i] = -1;
  for (uint64_t s = lo; s <= hi; s++) {
    rc = spot_log_read(log, s, got, run->elem_size);
    if (rc != 0) {
      fprintf(stderr, "  %s: seq %llu missing: %s (%s)\n", run->name, (unsigned long long)s, spot_errname(rc),
              spot_errdetail());
      bad = 1;
      goto out;
    }
    elem_hdr_t h;
    if (check_elem(got, run->elem_size, run->tag, want, &h, s) != 0) {
      bad = 1;
      goto out;
    }
    /* Dense and increasing: the next element of this writer in sequence order is its next counter. In a wrapped
     * window a writer's first element there may have any counter. */
    int64_t expect = last[h.writer] + 1;
    if ((full || last[h.writer] >= 0) && (int64_t)h.counter != expect) {
      fprintf(stderr, "  %s: seq %llu holds writer %u counter %llu, wanted counter %lld\n", run->name,
              (unsigned long long)s, h.writer, (unsigned long long)h.counter, (long long)expect);
      bad = 1;
      goto out;
    }
    last[h.writer] = (int64_t)h.counter;
  }
  /* Every writer's last element is its final counter (in a wrapped window: if the writer appears at all). */
  for (int i = 0; i < NWRITER; i++)
    if ((full || last[i] >= 0) && last[i] != (int64_t)run->per_thread - 1) {
      fprintf(stderr, "  %s: writer %d ends at counter %lld of %llu\n", run->name, i, (long long)last[i],
              (unsigned long long)run->per_thread);
      bad = 1;
      goto out;
    }
  if (run->sync != SPOT_SYNC_NONE) {
    spot_log_info_t info;
    spot_log_info(log, &info);
    if (info.durable < n) { /* every append returned after its sync: all are durable */
      fprintf(stderr, "  %s: durable %llu < %llu after synchronous appends\n", run->name,
              (unsigned long long)info.durable, (unsigned long long)n);
      bad = 1;
    }
  }
out:
  free(got);
  free(want);
  spot_log_close(log);
  if (!bad) { /* leave a failing run's files for a look; remove the passing ones (they are tens of MB) */
    unlink(run->path);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", run->path);
    char *slash = strrchr(dir, '/');
    if (slash) {
      *slash = '\0';
      rmdir(dir);
    }
  }
  return bad ? -1 : 0;
}

/* ---- tests ---- */

static void test_none_4x4(void) {
  run_t run = {.name = "conc-none", .elem_size = 64, .sync = SPOT_SYNC_NONE, .tag = 1};
  run.per_thread = spot_test_quick() ? 2000 : 20000;
  run.history = NWRITER * run.per_thread + 16; /* keeps everything */
  CHECK(run_writers(&run, 0) == 0);
  CHECK(check_log(&run, 1) == 0);
}

static void test_none_4x4_odd_size(void) {
  run_t run = {.name = "conc-odd", .elem_size = 1001, .sync = SPOT_SYNC_NONE, .tag = 2};
  run.per_thread = spot_test_quick() ? 500 : 4000;
  run.history = NWRITER * run.per_thread;
  CHECK(run_writers(&run, 1) == 0);
  CHECK(check_log(&run, 1) == 0);
}

static void test_batch_sync_4x4(void) {
  /* Synchronous appends on a batch log: every process runs group-commit rounds at once. */
  run_t run = {.name = "conc-batch", .elem_size = 64, .sync = SPOT_SYNC_BATCH, .batch_us = 1000, .tag = 3};
  run.per_thread = spot_test_quick() ? 40 : 150;
  run.history = NWRITER * run.per_thread;
  CHECK(run_writers(&run, 0) == 0);
  CHECK(check_log(&run, 1) == 0);
}

static void test_always_sync_4x4(void) {
  /* Every append syncs before it returns; concurrent appenders of a process share syncs. */
  run_t run = {.name = "conc-always", .elem_size = 64, .sync = SPOT_SYNC_ALWAYS, .tag = 7};
  run.per_thread = spot_test_quick() ? 30 : 100;
  run.history = NWRITER * run.per_thread;
  CHECK(run_writers(&run, 0) == 0);
  CHECK(check_log(&run, 1) == 0);
}

static void test_batch_async_4x4(void) {
  /* Pipelined: asynchronous appends, a wait for durability every 64 of them, in every process at once. */
  run_t run = {.name = "conc-basync", .elem_size = 256, .sync = SPOT_SYNC_BATCH, .batch_us = 1000, .tag = 8,
               .async_every = 64};
  run.per_thread = spot_test_quick() ? 1000 : 6000;
  run.history = NWRITER * run.per_thread;
  CHECK(run_writers(&run, 1) == 0);
  CHECK(check_log(&run, 1) == 0);
}

static void test_none_wrap(void) {
  run_t run = {.name = "conc-wrap", .elem_size = 128, .history = 509, .sync = SPOT_SYNC_NONE, .tag = 4};
  run.per_thread = spot_test_quick() ? 1000 : 10000;
  CHECK(run_writers(&run, 1) == 0);
  CHECK(check_log(&run, 0) == 0);
}

static void test_batch_wrap(void) {
  /* A durable log whose ring wraps: appends wait for the durable hint (backpressure), in every process. */
  run_t run = {.name = "conc-bwrap", .elem_size = 64, .history = 24, .sync = SPOT_SYNC_BATCH, .batch_us = 500,
               .tag = 5};
  run.per_thread = spot_test_quick() ? 30 : 100;
  CHECK(run_writers(&run, 1) == 0);
  CHECK(check_log(&run, 0) == 0);
}

static void test_history_one(void) {
  /* The smallest ring: every append overwrites the only slot. */
  run_t run = {.name = "conc-h1", .elem_size = 48, .history = 1, .sync = SPOT_SYNC_NONE, .tag = 6};
  run.per_thread = spot_test_quick() ? 300 : 3000;
  CHECK(run_writers(&run, 1) == 0);
  CHECK(check_log(&run, 0) == 0);
}

static const spot_test_t tests[] = {
    {"none_4x4", test_none_4x4},         {"none_4x4_odd_size", test_none_4x4_odd_size},
    {"batch_sync_4x4", test_batch_sync_4x4}, {"always_sync_4x4", test_always_sync_4x4},
    {"batch_async_4x4", test_batch_async_4x4}, {"none_wrap", test_none_wrap},
    {"batch_wrap", test_batch_wrap},     {"history_one", test_history_one},
    {NULL, NULL}};
SPOT_TEST_MAIN(tests)
