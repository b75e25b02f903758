/*
 * store_killpoint_test.c: a writer killed at any step of the lock-free append never blocks the other writers and
 * loses nothing it acknowledged (issue 14, "Done when"; DESIGN.md, "Storage contract").
 *
 * Unlike store_crash_test's died_* tests, which imitate an append through the store's insides, the writer here
 * runs the real spot_log_append and dies inside it: its environment holds SPOT_TEST_APPEND_EXIT="STEP:NTH"
 * (store/log_impl.h), so its handle ends the process with _Exit at that step of its NTH append (or, for the two
 * sync steps, of the NTH sync round it leads): slot reserved, half written, written but not committed, committed
 * but not published, published but not returned, woken but not returned, a sync round that raised the marks before
 * its sync, and one that synced before raising `synced`.
 *
 * Each case forks the victim and two surviving writers on one log. Each writer has its own handle and, after
 * every append that returned, writes {seq, writer, counter} to its pipe (24 bytes: whole records only). The victim
 * starts once both survivors acknowledged an append (so they hold the log open: no recovery at an open clears its
 * death); the survivors append a first batch, wait for the parent's word (sent once the victim is dead and
 * reaped), and append a second batch, so they always append past the dead writer's number. Every wait is bounded (30 s, then the
 * children are killed and the case fails as blocked). Then the parent reopens the log alone (recovery) and checks:
 *   - the victim died at its hook (exit status 86) having acknowledged exactly NTH-1 appends (append steps);
 *   - every acknowledged append of every writer reads back with its exact bytes, each number once;
 *   - every number in the window is an intact element or the tombstone of a dead writer's number; the victim's
 *     unacknowledged element is there iff it was committed (steps from "committed" on), else its number is the
 *     tombstone (when the ring has not overwritten it);
 *   - the log verifies, takes the next append at latest + 1, and `spot check` exits 0.
 * Logs: durability none with a history the writers do not fill and one they wrap (16), `always` and `batch` for the
 * sync steps and two append steps. SPOT_TEST_QUICK=1 (the sanitizer run) appends fewer elements and runs 11 of
 * the 18 cases: every step on the unwrapped log, two on the wrapped one, each sync step once.
 */
#include <errno.h>
#include <poll.h>
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
#include "store/log_impl.h" /* SPOT__AT_*, SPOT__CRASH_EXIT */
#include "elem.h"
#include "platform/platform.h"
#include "support.h"
#include "test.h"

#define ELEM_MAGIC 0x4b505053u /* "SPPK" */
#define ES 64u
#define NW 3 /* writer 0 is the victim */
#define DEADLINE_NS (30ull * 1000000000ull)

typedef struct ack {
  uint64_t seq;
  uint32_t writer, pad;
  uint64_t counter;
} ack_t;

/* Child: appends `first` elements, then (gofd >= 0) waits for a byte on gofd, then appends `second` more, acking
 * each to ackfd. hook: SPOT_TEST_APPEND_EXIT for this process, or NULL. Exits 0, or 2-9 on a failure. */
static void writer_main(const char *path, uint64_t tag, uint32_t id, int first, int second, int gofd, int ackfd,
                        const char *hook) {
  if (hook && setenv("SPOT_TEST_APPEND_EXIT", hook, 1) != 0)
    _exit(2);
  spot_log_t *log = NULL;
  if (spot_log_open(path, 0, NULL, &log, NULL) != 0)
    _exit(3);
  uint8_t buf[ES];
  for (int c = 0; c < first + second; c++) {
    if (c == first && gofd >= 0) {
      struct pollfd pf = {.fd = gofd, .events = POLLIN};
      char go;
      if (poll(&pf, 1, 30000) != 1 || read(gofd, &go, 1) != 1)
        _exit(4);
    }
    size_t len = elem_make(buf, ES, ELEM_MAGIC, id, (uint64_t)c, tag);
    ack_t a = {0, id, 0, (uint64_t)c};
    if (spot_log_append(log, buf, len, &a.seq) != 0)
      _exit(5);
    if (write(ackfd, &a, sizeof a) != (ssize_t)sizeof a)
      _exit(6);
  }
  spot_log_close(log);
  _exit(0);
}

typedef struct acks {
  ack_t *v;
  size_t n, cap;
} acks_t;

/* Reads what fd has (non-blocking use: called after poll said so). 0 at EOF, 1 if more may come, -1 on error. */
static int drain(int fd, acks_t *a) {
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 1024;
    ack_t *v = realloc(a->v, cap * sizeof *v);
    if (v == NULL)
      return -1;
    a->v = v, a->cap = cap;
  }
  ssize_t got = read(fd, &a->v[a->n], sizeof(ack_t));
  if (got == 0)
    return 0;
  if (got != (ssize_t)sizeof(ack_t))
    return got < 0 && errno == EINTR ? 1 : -1;
  a->n++;
  return 1;
}

/* Drains every open ack pipe until `until` returns 1 or the deadline passes (-1). */
static int pump(int *fds, acks_t *a, uint64_t deadline, int (*until)(void *), void *arg) {
  for (;;) {
    if (until(arg))
      return 0;
    if (spot__now_ns() > deadline)
      return -1;
    struct pollfd pf[NW];
    int n = 0;
    for (int i = 0; i < NW; i++)
      pf[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    n = poll(pf, NW, 10);
    for (int i = 0; n > 0 && i < NW; i++)
      if (fds[i] >= 0 && (pf[i].revents & (POLLIN | POLLHUP))) {
        int rc = drain(fds[i], a);
        if (rc < 0)
          return -1;
        if (rc == 0) {
          close(fds[i]);
          fds[i] = -1;
        }
      }
  }
}

typedef struct reap {
  pid_t *pids;
  int *status;
  int from, to; /* children [from, to) */
} reap_t;

/* 1 once every child of [from, to) has exited (reaped, its status kept). */
static int reaped(void *arg) {
  reap_t *r = arg;
  int all = 1;
  for (int i = r->from; i < r->to; i++) {
    if (r->pids[i] <= 0)
      continue;
    int st;
    if (waitpid(r->pids[i], &st, WNOHANG) == r->pids[i])
      r->status[i] = st, r->pids[i] = 0;
    else
      all = 0;
  }
  return all;
}

/* 1 once every survivor (writers 1..NW-1) acknowledged an append. */
static int survivors_in(void *arg) {
  const acks_t *a = arg;
  int seen[NW] = {0};
  for (size_t i = 0; i < a->n; i++)
    seen[a->v[i].writer < NW ? a->v[i].writer : 0] = 1;
  for (int w = 1; w < NW; w++)
    if (!seen[w])
      return 0;
  return 1;
}

static void kill_all(pid_t *pids) {
  for (int i = 0; i < NW; i++)
    if (pids[i] > 0) {
      kill(pids[i], SIGKILL);
      waitpid(pids[i], NULL, 0);
      pids[i] = 0;
    }
}

static int cmp_seq(const void *a, const void *b) {
  uint64_t x = ((const ack_t *)a)->seq, y = ((const ack_t *)b)->seq;
  return x < y ? -1 : x > y;
}

/* The element of (writer, counter) at seq? */
static int holds(spot_log_t *log, uint64_t tag, uint64_t seq, uint32_t writer, uint64_t counter) {
  uint8_t got[ES], want[ES];
  if (spot_log_read(log, seq, got, ES) != 0)
    return 0;
  elem_make(want, ES, ELEM_MAGIC, writer, counter, tag);
  return memcmp(got, want, ES) == 0;
}

/* One case: the victim dies at step of its nth append (or sync round) on a log of history h and durability sync;
 * the survivors append first + second each. */
static void kill_case(int step, uint64_t nth, uint64_t h, spot_sync_t sync, int first, int second) {
  const uint64_t tag = (uint64_t)step * 1000 + h;
  spot_ns_t *ns;
  spot_log_config_t cfg = {ES, h, sync, 500};
  char path[4096];
  CHECK_OK(spot_test_ns_log("killpoint", "k", &cfg, &ns, path, sizeof path));
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", spot_ns_dir(ns)); /* used after the namespace is closed */
  char hook[64];
  snprintf(hook, sizeof hook, "%d:%llu", step, (unsigned long long)nth);

  int ackfd[NW], gow[NW] = {-1, -1, -1};
  pid_t pids[NW] = {0};
  int status[NW] = {0};
  for (int i = 0; i < NW; i++) {
    int p[2];
    CHECK(pipe(p) == 0);
    int g[2] = {-1, -1};
    CHECK(pipe(g) == 0);
    fflush(NULL);
    pids[i] = fork();
    if (pids[i] == 0) {
      close(p[0]);
      close(g[1]);
      if (i == 0) /* the victim starts on the parent's word and appends until its hook ends it */
        writer_main(path, tag, 0, 0, (int)nth + 1000, g[0], p[1], hook);
      writer_main(path, tag, (uint32_t)i, first, second, g[0], p[1], NULL);
    }
    close(p[1]);
    ackfd[i] = p[0];
    close(g[0]);
    gow[i] = g[1];
    if (pids[i] < 0) {
      kill_all(pids);
      CHECK(!"fork failed");
    }
  }

  acks_t a = {0};
  reap_t victim = {pids, status, 0, 1}, all = {pids, status, 0, NW};
  /* The victim starts once both survivors hold the log open (each acknowledged an append): its death is then never
   * cleared by a recovery at a survivor's open, and they must go past its number. */
  int rc = pump(ackfd, &a, spot__now_ns() + DEADLINE_NS, survivors_in, &a);
  int went = write(gow[0], "g", 1) == 1;
  if (rc == 0 && went)
    rc = pump(ackfd, &a, spot__now_ns() + DEADLINE_NS, reaped, &victim);
  for (int i = 1; i < NW; i++)
    went &= write(gow[i], "g", 1) == 1;
  if (rc == 0 && went)
    rc = pump(ackfd, &a, spot__now_ns() + DEADLINE_NS, reaped, &all);
  for (int i = 0; i < NW; i++)
    close(gow[i]);
  if (rc != 0)
    fprintf(stderr, "  step %d: writers still running after %llu s: blocked? killing them\n", step,
            DEADLINE_NS / 1000000000ull);
  kill_all(pids);
  for (int i = 0; i < NW; i++) /* the rest of the acks, to EOF */
    while (ackfd[i] >= 0) {
      int d = drain(ackfd[i], &a);
      if (d <= 0) {
        close(ackfd[i]);
        ackfd[i] = -1;
      }
    }
  CHECK_EQ(rc, 0);
  CHECK(went);
  CHECK(WIFEXITED(status[0]) && WEXITSTATUS(status[0]) == SPOT__CRASH_EXIT);
  for (int i = 1; i < NW; i++)
    CHECK(WIFEXITED(status[i]) && WEXITSTATUS(status[i]) == 0);

  uint64_t victim_acks = 0;
  for (size_t i = 0; i < a.n; i++)
    victim_acks += a.v[i].writer == 0;
  CHECK_EQ(a.n - victim_acks, (uint64_t)(NW - 1) * (uint64_t)(first + second));
  int append_step = step < SPOT__AT_SYNC_MARKED;
  if (append_step)
    CHECK_EQ(victim_acks, nth - 1);

  /* Reopened alone: recovery; every acknowledged append is there, each number once. */
  spot_log_t *log = NULL;
  spot_log_report_t rep;
  CHECK_OK(spot_log_open(path, 0, NULL, &log, &rep));
  uint64_t lo, hi;
  CHECK_OK(spot_log_latest(log, &hi));
  CHECK_OK(spot_log_earliest(log, &lo));
  qsort(a.v, a.n, sizeof *a.v, cmp_seq);
  for (size_t i = 0; i < a.n; i++) {
    CHECK(i == 0 || a.v[i].seq != a.v[i - 1].seq);
    CHECK(a.v[i].seq <= hi);
    if (a.v[i].seq >= lo)
      CHECK(holds(log, tag, a.v[i].seq, a.v[i].writer, a.v[i].counter));
  }
  /* The window: elements and dead writers' tombstones only; the victim's unacknowledged append. */
  unsigned tombs = 0, unacked = 0;
  for (uint64_t s = lo; s <= hi; s++) {
    uint8_t got[ES];
    int r = spot_log_read(log, s, got, ES);
    if (r == SPOT_EEXPIRED) {
      CHECK(strstr(spot_errdetail(), "writer died") != NULL);
      tombs++;
      continue;
    }
    CHECK_OK(r);
    elem_hdr_t eh;
    memcpy(&eh, got, sizeof eh);
    CHECK(eh.magic == ELEM_MAGIC && eh.writer < NW && eh.tag == tag);
    CHECK(holds(log, tag, s, eh.writer, eh.counter));
    if (eh.writer == 0 && eh.counter >= victim_acks)
      unacked++;
  }
  if (append_step && step <= SPOT__AT_WRITTEN) {
    CHECK_EQ(unacked, 0);
    CHECK(tombs <= 1);
    if (h > hi) /* nothing overwritten: the dead writer's number is there, buried */
      CHECK_EQ(tombs, 1);
  } else {
    CHECK_EQ(tombs, 0);
    if (append_step && h > hi)
      CHECK_EQ(unacked, 1); /* committed: kept, though never acknowledged */
  }
  CHECK_OK(spot_log_verify(log, NULL));
  uint8_t buf[ES];
  size_t len = elem_make(buf, ES, ELEM_MAGIC, 9, 0, tag);
  uint64_t got = 0;
  CHECK_OK(spot_log_append(log, buf, len, &got));
  CHECK_EQ(got, hi + 1);
  spot_log_close(log);
  spot_ns_close(ns);
  free(a.v);
  char out[512], err[512];
  int crc = spot_test_sh(out, sizeof out, err, sizeof err, "'%s' -n '%s' check k", spot_test_bin(), dir);
  if (crc != 0)
    fprintf(stderr, "  spot check: %s%s", out, err);
  CHECK_EQ(crc, 0);
  spot_test_sh(out, sizeof out, err, sizeof err, "rm -rf '%s'", dir);
}

static int n_first(void) { return spot_test_quick() ? 150 : 400; }

static void test_none(void) {
  for (int step = SPOT__AT_RESERVED; step <= SPOT__AT_WOKEN; step++) {
    kill_case(step, 50, 4096, SPOT_SYNC_NONE, n_first(), n_first());
    if (spot_test_failed_)
      fprintf(stderr, "  (none, step %d)\n", step);
    if (spot_test_failed_)
      return;
  }
}

static void test_none_wrapped(void) {
  for (int step = SPOT__AT_RESERVED; step <= SPOT__AT_WOKEN; step++) {
    if (spot_test_quick() && step != SPOT__AT_RESERVED && step != SPOT__AT_COMMITTED)
      continue; /* the sanitizer run: the steps either side of the commit */
    kill_case(step, 50, 16, SPOT_SYNC_NONE, n_first(), n_first());
    if (spot_test_failed_) {
      fprintf(stderr, "  (none, history 16, step %d)\n", step);
      return;
    }
  }
}

static void test_durable(void) {
  static const struct {
    int step;
    spot_sync_t sync;
  } cases[] = {{SPOT__AT_RESERVED, SPOT_SYNC_BATCH}, {SPOT__AT_COMMITTED, SPOT_SYNC_ALWAYS},
               {SPOT__AT_SYNC_MARKED, SPOT_SYNC_ALWAYS}, {SPOT__AT_SYNCED, SPOT_SYNC_ALWAYS},
               {SPOT__AT_SYNC_MARKED, SPOT_SYNC_BATCH}, {SPOT__AT_SYNCED, SPOT_SYNC_BATCH}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (spot_test_quick() && (i == 1 || i >= 4))
      continue; /* the sanitizer run: an append step and each sync step once */
    kill_case(cases[i].step, 5, 4096, cases[i].sync, 20, 20);
    if (spot_test_failed_) {
      fprintf(stderr, "  (%s, step %d)\n", spot_sync_name(cases[i].sync), cases[i].step);
      return;
    }
  }
}

static const spot_test_t tests[] = {
    {"none", test_none}, {"none_wrapped", test_none_wrapped}, {"durable", test_durable}, {NULL, NULL}};
SPOT_TEST_MAIN(tests)
