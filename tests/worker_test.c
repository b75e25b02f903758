/*
 * worker_test.c: worker mode in a program that embeds the node (spotd is the worker program). A replacement worker
 * (forked after a crash) finishes its handler when the node stops; the node never reaps the program's own
 * children; its shared memory and descriptors are released at stop; a handler's standard output is bounded per
 * run, and short output comes out once per run, prefixed, on its own stream; a burst of short handlers under a
 * time limit kills no healthy worker; a worker that dies after its run's end event gets no fail event; a node
 * whose dispatcher and workers poll before sleeping runs every put once. Every wait is bounded.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/event.h"
#include "dispatch/dispatch.h"
#include "spot.h"
#include "support.h"
#include "test.h"

static char dir[4200];

static const char *env(const char *name) {
  const char *v = getenv(name);
  return v ? v : "";
}

/* A namespace with the test handlers (test_handlers.c, worker_handlers.c) and logs x and seen. */
static int setup(const char *tag) {
  snprintf(dir, sizeof dir, "%s/ns", spot_test_dir(tag));
  char out[4096], err[4096];
  int rc = spot_test_sh(out, sizeof out, err, sizeof err,
                        "S=%s && $S init %s && $S -n %s build-handler %s/tests/handlers/test_handlers.c && "
                        "$S -n %s build-handler %s/tests/handlers/worker_handlers.c && "
                        "$S -n %s create x --size 16 --history 100000 && "
                        "$S -n %s create seen --size 8 --history 100000",
                        spot_test_bin(), dir, dir, env("SPOT_SRC"), dir, env("SPOT_SRC"), dir, dir);
  if (rc != 0)
    fprintf(stderr, "  setup failed: %s%s\n", out, err);
  return rc;
}

static int start(unsigned workers, uint32_t timeout_ms, spot_node_t **node) {
  spot_node_opts_t o = {.mode = SPOT_MODE_WORKER, .workers = workers, .timeout_ms = timeout_ms, .quiet = 1,
                        .worker_exe = env("SPOTD_BIN")};
  return spot_node_start(dir, &o, node);
}

typedef struct tally {
  unsigned starts, ends, fails;
  char reasons[1024];
} tally_t;

/* Counts the start, end and fail events of handler h. */
static tally_t count(const char *h) {
  tally_t t;
  memset(&t, 0, sizeof t);
  spot_ns_t *ns;
  if (spot_ns_open(dir, NULL, &ns) != 0)
    return t;
  spot_log_t *events;
  uint64_t lo = 0, hi = 0;
  if (spot__nsctx_events(ns, &events) == 0) {
    spot_log_earliest(events, &lo);
    spot_log_latest(events, &hi);
  }
  for (uint64_t id = lo; lo && id <= hi; id++) {
    spot__event_t e;
    if (spot__events_read(ns, id, &e) != 0 || strcmp(e.handler, h) != 0)
      continue;
    t.starts += e.type == SPOT__EV_START;
    t.ends += e.type == SPOT__EV_END;
    if (e.type == SPOT__EV_FAIL) {
      t.fails++;
      if (strlen(t.reasons) + strlen(e.reason) + 3 < sizeof t.reasons)
        strcat(strcat(t.reasons, e.reason), "; ");
    }
  }
  spot_ns_close(ns);
  return t;
}

static int put(const char *handler, int n) {
  spot_ns_t *ns;
  int rc = spot_ns_open(dir, NULL, &ns);
  for (int i = 0; rc == 0 && i < n; i++) {
    uint64_t v = (uint64_t)i;
    rc = spot_put(ns, "x", &v, 8, handler, NULL, NULL);
  }
  if (rc == 0)
    spot_ns_close(ns);
  return rc;
}

/* A worker started to replace a crashed one is the dispatcher's child: it must still finish its handler when the
 * node stops (before, it died with the dispatcher thread, mid-handler). */
static void test_replacement_finishes_at_stop(void) {
  CHECK_OK(setup("worker-respawn"));
  spot_node_t *node;
  CHECK_OK(start(1, 0, &node));
  CHECK_OK(put("crash", 1));
  spot_node_stats_t st;
  for (int i = 0; i < 10000; i++) { /* at most 10 s */
    spot_node_stats(node, &st);
    if (st.failed == 1 && st.worker_restarts == 1)
      break;
    usleep(1000);
  }
  CHECK_EQ(st.worker_restarts, 1);
  CHECK_OK(put("nap", 2));
  for (int i = 0; i < 5000 && count("nap").starts == 0; i++)
    usleep(1000);
  CHECK_OK(spot_node_stop(node)); /* while the replacement runs the first nap */
  tally_t t = count("nap");
  if (t.fails)
    fprintf(stderr, "  nap failed: %s\n", t.reasons);
  CHECK_EQ(t.fails, 0);
  CHECK_EQ(t.ends, 2);
}

/* The node waits only for its own workers: a child of the embedding program is the program's to reap. */
static void test_program_children_left_alone(void) {
  CHECK_OK(setup("worker-reap"));
  spot_node_t *node;
  CHECK_OK(start(1, 0, &node));
  pid_t child = fork();
  if (child == 0)
    _exit(7);
  usleep(200000); /* the node supervises its workers every 10 ms meanwhile */
  int st = 0;
  pid_t got = waitpid(child, &st, 0);
  spot_node_stop(node);
  CHECK_EQ(got, child);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
}

static int open_fds(void) {
  char out[64];
  spot_test_sh(out, sizeof out, NULL, 0, "ls /proc/%d/fd | wc -l", (int)getpid());
  return atoi(out);
}

static int worker_maps(void) {
  char out[64];
  spot_test_sh(out, sizeof out, NULL, 0, "grep -c spot-workers /proc/%d/maps", (int)getpid());
  return atoi(out);
}

/* The workers' shared memory is unmapped and its descriptor closed when the node stops. */
static void test_shared_memory_released(void) {
  CHECK_OK(setup("worker-shm"));
  int fds = open_fds();
  spot_node_t *node;
  CHECK_OK(start(2, 0, &node));
  CHECK(worker_maps() >= 1);
  CHECK_OK(spot_node_stop(node));
  CHECK_EQ(worker_maps(), 0);
  CHECK_EQ(open_fds(), fds);
}

/* Runs handler h on n puts with one worker while this process's stdout (and stderr, if err_path) go to the files
 * named, which the worker inherits; waits (bounded) for the n ends, stops the node and restores the streams. */
static int run_captured(const char *h, int n, const char *out_path, const char *err_path) {
  const char *paths[2] = {out_path, err_path};
  int saved[2] = {-1, -1};
  fflush(stdout);
  fflush(stderr);
  for (int k = 0; k < 2; k++) {
    if (paths[k] == NULL)
      continue;
    int fd = open(paths[k], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    saved[k] = dup(k + 1);
    if (fd >= 0 && saved[k] >= 0)
      dup2(fd, k + 1);
    if (fd >= 0)
      close(fd);
  }
  spot_node_t *node;
  int rc = start(1, 0, &node);
  if (rc == 0) {
    rc = put(h, n);
    for (int i = 0; rc == 0 && i < 10000 && count(h).ends < (unsigned)n; i++)
      usleep(1000);
    spot_node_stop(node);
  }
  fflush(stdout);
  fflush(stderr);
  for (int k = 0; k < 2; k++)
    if (saved[k] >= 0) {
      dup2(saved[k], k + 1);
      close(saved[k]);
    }
  return rc;
}

/* What a handler prints is bounded per run: 4 MB of stdout leave at most 64 KiB and a note; each line kept is
 * prefixed with its run ([chatty #ID]), which the bound does not count. */
static void test_output_bounded(void) {
  CHECK_OK(setup("worker-output"));
  char path[4400];
  snprintf(path, sizeof path, "%s/../out.txt", dir);
  int rc = run_captured("chatty", 2, path, NULL);
  CHECK_OK(rc);
  CHECK_EQ(count("chatty").ends, 2);
  struct stat sb;
  CHECK(stat(path, &sb) == 0);
  char out[256];
  spot_test_sh(out, sizeof out, NULL, 0, "grep -vc '^\\[chatty #[0-9]*\\] ' %s", path);
  CHECK_EQ(atoi(out), 0); /* no line without its prefix */
  CHECK_EQ(spot_test_sh(out, sizeof out, NULL, 0, "sed 's/^\\[chatty #[0-9]*\\] //' %s | wc -c", path), 0);
  printf("  2 runs of 4 MB each left %lld bytes of output, %ld without the line prefixes\n", (long long)sb.st_size,
         atol(out));
  CHECK(atol(out) > 0 && atol(out) <= 2 * (65536 + 400));
  spot_test_sh(out, sizeof out, NULL, 0, "grep -c 'the rest was dropped' %s", path);
  CHECK_EQ(atoi(out), 2);
}

/* Short output from every run comes out once, prefixed with its run, on the stream it was written to: the worker
 * looks at its pipes with one poll after each run and reads only a pipe that holds something. */
static void test_output_small(void) {
  CHECK_OK(setup("worker-small-output"));
  char path[2][4400];
  for (int k = 0; k < 2; k++)
    snprintf(path[k], sizeof path[k], "%s/../%s.txt", dir, k ? "err" : "out");
  int rc = run_captured("talker", 20, path[0], path[1]);
  CHECK_OK(rc);
  CHECK_EQ(count("talker").ends, 20);
  for (int k = 0; k < 2; k++) {
    char out[256];
    spot_test_sh(out, sizeof out, NULL, 0, "grep -c '^\\[talker #[0-9]*\\] %s of #[0-9]*$' %s", k ? "err" : "out",
                 path[k]);
    CHECK_EQ(atoi(out), 20); /* every run's line, prefixed, on its own stream */
    spot_test_sh(out, sizeof out, NULL, 0, "grep -o '#[0-9]*$' %s | sort -u | wc -l", path[k]);
    CHECK_EQ(atoi(out), 20); /* each element's line once */
    spot_test_sh(out, sizeof out, NULL, 0, "grep -c '%s of' %s", k ? "out" : "err", path[k]);
    CHECK_EQ(atoi(out), 0); /* nothing on the other stream */
  }
}

/* Worker mode with polling (poll_us): the dispatcher and idle workers look for work before they sleep; puts that
 * come back to back and after pauses (every 25, 2 ms: everyone sleeps) each run once. */
static void test_polling(void) {
  CHECK_OK(setup("worker-poll"));
  spot_node_t *node;
  spot_node_opts_t o = {.mode = SPOT_MODE_WORKER, .workers = 2, .quiet = 1, .poll_us = 500,
                        .worker_exe = env("SPOTD_BIN")};
  CHECK_OK(spot_node_start(dir, &o, &node));
  spot_ns_t *ns;
  int rc = spot_ns_open(dir, NULL, &ns);
  for (int i = 0; rc == 0 && i < 500; i++) {
    uint64_t v = (uint64_t)i;
    rc = spot_put(ns, "x", &v, 8, "count", NULL, NULL);
    if (i % 25 == 24)
      usleep(2000);
  }
  if (rc == 0)
    spot_ns_close(ns);
  for (int i = 0; rc == 0 && i < 20000 && count("count").ends < 500; i++)
    usleep(1000);
  spot_node_stop(node);
  CHECK_OK(rc);
  tally_t t = count("count");
  CHECK_EQ(t.starts, 500);
  CHECK_EQ(t.ends, 500);
  CHECK_EQ(t.fails, 0);
  /* each element of x counted once in seen by its handler */
  static unsigned char once[501];
  memset(once, 0, sizeof once);
  spot_log_t *seen;
  uint64_t hi = 0;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  CHECK_OK(spot_ns_open_log(ns, "seen", 0, &seen, NULL));
  spot_log_latest(seen, &hi);
  CHECK_EQ(hi, 500);
  for (uint64_t s = 1; s <= hi; s++) {
    uint64_t v = 0;
    CHECK_OK(spot_log_read(seen, s, &v, sizeof v));
    CHECK(v >= 1 && v <= 500 && !once[v]);
    once[v] = 1;
  }
  spot_log_close(seen);
  spot_ns_close(ns);
}

/* Many short handlers under a (generous) time limit: no healthy worker is taken for one that overran. */
static void test_no_false_timeouts(void) {
  CHECK_OK(setup("worker-timeout"));
  spot_node_t *node;
  CHECK_OK(start(2, 60000, &node));
  const int n = 20000;
  CHECK_OK(put("count", n));
  spot_node_stats_t st;
  spot_ns_t *ns;
  spot_log_t *seen;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  CHECK_OK(spot__ns_log(ns, "seen", &seen));
  uint64_t hi = 0;
  for (int i = 0; i < 6000; i++) { /* at most 60 s */
    spot_log_latest(seen, &hi);
    spot_node_stats(node, &st);
    if (hi + st.failed >= (uint64_t)n)
      break;
    usleep(10000);
  }
  spot_ns_close(ns);
  spot_node_stats(node, &st);
  spot_node_stop(node);
  CHECK_EQ(st.failed, 0);
  CHECK_EQ(st.worker_restarts, 0);
  CHECK_EQ(hi, n); /* every run recorded itself (the event log is too short to hold all their events) */
}

/* A worker that dies after its run wrote the end event: no fail event follows the end (the supervisor only
 * finishes the release). Played by hand: the run ends here, then the supervisor's path for a dead worker runs. */
static void test_no_fail_after_end(void) {
  CHECK_OK(setup("worker-end"));
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  uint64_t v = 1;
  CHECK_OK(spot_put(ns, "x", &v, 8, "count", NULL, NULL));
  spot_log_t *triggers;
  CHECK_OK(spot__nsctx_triggers(ns, &triggers));
  uint64_t tseq;
  CHECK_OK(spot_log_latest(triggers, &tseq));
  spot__event_t put_ev;
  CHECK_OK(spot__life_trigger_read(ns, tseq, &put_ev));
  /* the handler itself is not loaded in this program: any handler that ends will do */
  uint64_t start_id = 0;
  spot__invoke(ns, &put_ev, NULL, &start_id, NULL, NULL); /* ends with a fail event ("not loaded") */
  tally_t before = count("count");
  CHECK_EQ(before.fails, 1);
  CHECK_EQ(spot__invoke_failed(ns, &put_ev, start_id, SPOT_EIO, "worker killed by SIGKILL", 0), 0);
  tally_t after = count("count");
  CHECK_EQ(after.fails, 1); /* no second ending */
  spot_ns_close(ns);
}

/* The time-limit check with a run taken after the clock was read (start later than now): before, now - start
 * wrapped to about 584 years, and the healthy worker was killed as timed out. */
static void test_overrun_check(void) {
  CHECK_EQ(spot__workers_overran(1000, 1001, 500), 0);
  CHECK_EQ(spot__workers_overran(1000, 1000, 500), 0);
  CHECK_EQ(spot__workers_overran(1000, 400, 500), 1);
  CHECK_EQ(spot__workers_overran(1000, 500, 500), 0);
}

static const spot_test_t tests[] = {
    {"overrun_check", test_overrun_check},
    {"replacement_finishes_at_stop", test_replacement_finishes_at_stop},
    {"program_children_left_alone", test_program_children_left_alone},
    {"shared_memory_released", test_shared_memory_released},
    {"output_bounded", test_output_bounded},
    {"output_small", test_output_small},
    {"polling", test_polling},
    {"no_false_timeouts", test_no_false_timeouts},
    {"no_fail_after_end", test_no_fail_after_end},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
