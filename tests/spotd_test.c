/*
 * spotd_test.c: the node daemon with real processes: handlers built with `spot build-handler`, run by `spotd` in
 * worker mode. A handler that crashes, aborts or overruns its time limit takes down only its worker (a fail event
 * says why, and later handlers still run); a burst of puts runs each handler exactly once; after `kill -9` of spotd
 * in the middle of running handlers, a restart runs every handler that had not ended and none that had; SIGTERM
 * stops it cleanly, also when it was started with SIGTERM blocked; a second spotd on a served namespace fails and
 * leaves the first one's pid file alone (also with --daemon). Runs in /tmp scratch namespaces; every wait is
 * bounded.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* A namespace with the test handlers installed and logs x (handler inputs) and seen (what `count` records). */
static int setup(const char *tag, uint64_t history) {
  snprintf(dir, sizeof dir, "%s/ns", spot_test_dir(tag));
  char out[4096], err[4096];
  int rc = spot_test_sh(out, sizeof out, err, sizeof err,
                        "%s init %s && %s -n %s build-handler %s/tests/handlers/test_handlers.c && "
                        "%s -n %s create x --size 16 --history %llu && %s -n %s create seen --size 8 --history %llu",
                        spot_test_bin(), dir, spot_test_bin(), dir, env("SPOT_SRC"), spot_test_bin(), dir,
                        (unsigned long long)history, spot_test_bin(), dir, (unsigned long long)(history * 4));
  if (rc != 0)
    fprintf(stderr, "  setup failed: %s%s\n", out, err);
  return rc;
}

static pid_t started[16];
static int nstarted;

/* Kills every spotd a test started, also when a failed CHECK left early. */
static void kill_started(void) {
  for (int i = 0; i < nstarted; i++)
    if (started[i] > 0 && kill(started[i], SIGKILL) == 0)
      waitpid(started[i], NULL, 0);
}

static pid_t start_spotd(const char *extra) {
  if (nstarted == 0)
    atexit(kill_started);
  pid_t pid = fork();
  if (pid == 0) {
    /* Under ASan, let SIGSEGV and SIGABRT kill the worker as they would in a normal build. */
    char asan[512];
    snprintf(asan, sizeof asan, "%s:handle_segv=0:handle_abort=0", env("ASAN_OPTIONS"));
    setenv("ASAN_OPTIONS", asan, 1);
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "exec %s -n %s --quiet %s >/dev/null", env("SPOTD_BIN"), dir, extra);
    execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
    _exit(127);
  }
  if (nstarted < 16)
    started[nstarted++] = pid;
  return pid;
}

static int stop_spotd(pid_t pid, int sig) {
  for (int i = 0; i < nstarted; i++)
    if (started[i] == pid)
      started[i] = 0;
  kill(pid, sig);
  int st = 0;
  for (int i = 0; i < 20000; i++) { /* at most 20 s */
    if (waitpid(pid, &st, WNOHANG) == pid)
      return st;
    usleep(1000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &st, 0);
  return -1;
}

typedef struct tally {
  uint64_t puts, starts, ends, fails;
  uint64_t ends_of[200001]; /* end events per put event id (ids stay small in these tests) */
  char reasons[1024];
} tally_t;

static tally_t tally;

static void count_events(spot_ns_t *ns) {
  memset(&tally, 0, sizeof tally);
  spot_log_t *events;
  if (spot__nsctx_events(ns, &events) != 0)
    return;
  uint64_t lo, hi;
  spot_log_earliest(events, &lo);
  spot_log_latest(events, &hi);
  for (uint64_t id = lo; lo && id <= hi; id++) {
    spot__event_t e;
    if (spot__events_read(ns, id, &e) != 0)
      continue;
    if (e.type == SPOT__EV_PUT && strcmp(e.log, "x") == 0)
      tally.puts++;
    if (e.type == SPOT__EV_START)
      tally.starts++;
    if (e.type == SPOT__EV_END || e.type == SPOT__EV_FAIL) {
      e.type == SPOT__EV_END ? tally.ends++ : tally.fails++;
      if (e.ref < sizeof tally.ends_of / sizeof tally.ends_of[0])
        tally.ends_of[e.ref]++;
      if (e.type == SPOT__EV_FAIL && strlen(tally.reasons) + strlen(e.reason) + 3 < sizeof tally.reasons) {
        strcat(tally.reasons, e.reason);
        strcat(tally.reasons, "; ");
      }
    }
  }
}

/* Waits (at most 60 s) until `want` handler runs have ended or failed. */
static int wait_ended(uint64_t want) {
  for (int i = 0; i < 600; i++) {
    spot_ns_t *ns;
    if (spot_ns_open(dir, NULL, &ns) == 0) {
      count_events(ns);
      spot_ns_close(ns);
      if (tally.ends + tally.fails >= want)
        return 0;
    }
    usleep(100000);
  }
  return -1;
}

static void test_crash_isolation(void) {
  CHECK_OK(setup("spotd-crash", 1000));
  pid_t pid = start_spotd("--workers 2 --timeout-ms 2000");
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  uint64_t v = 1;
  CHECK_OK(spot_put(ns, "x", &v, 8, "crash", NULL, NULL));
  CHECK_OK(spot_put(ns, "x", &v, 8, "boom", NULL, NULL));
  CHECK_OK(spot_put(ns, "x", &v, 8, "slow", NULL, NULL));
  for (int i = 0; i < 50; i++)
    CHECK_OK(spot_put(ns, "x", &v, 8, "count", NULL, NULL));
  CHECK_OK(wait_ended(53));
  count_events(ns);
  CHECK_EQ(tally.ends, 50);
  CHECK_EQ(tally.fails, 3);
  CHECK(strstr(tally.reasons, "SIGSEGV") != NULL);
  CHECK(strstr(tally.reasons, "SIGABRT") != NULL);
  CHECK(strstr(tally.reasons, "timed out after 2000 ms") != NULL);
  spot_log_t *seen;
  CHECK_OK(spot_ns_open_log(ns, "seen", 0, &seen, NULL));
  uint64_t hi;
  spot_log_latest(seen, &hi);
  CHECK_EQ(hi, 50);
  spot_log_close(seen);
  spot_ns_close(ns);
  int st = stop_spotd(pid, SIGTERM);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_burst_exactly_once(void) {
  const char *quick = getenv("SPOT_TEST_QUICK");
  uint64_t n = quick && quick[0] == '1' ? 20000 : 100000;
  CHECK_OK(setup("spotd-burst", 1 << 17));
  pid_t pid = start_spotd("--workers 2");
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  for (uint64_t i = 1; i <= n; i++) {
    uint64_t seq;
    CHECK_OK(spot_put(ns, "x", &i, 8, "count", NULL, &seq));
    CHECK_EQ(seq, i);
  }
  spot_log_t *seen;
  CHECK_OK(spot_ns_open_log(ns, "seen", 0, &seen, NULL));
  uint64_t hi = 0;
  for (int i = 0; i < 600 && hi < n; i++) {
    usleep(100000);
    spot_log_latest(seen, &hi);
  }
  CHECK_EQ(hi, n);
  static uint8_t ran[200001];
  memset(ran, 0, sizeof ran);
  for (uint64_t s = 1; s <= hi; s++) {
    uint64_t v;
    CHECK_OK(spot_log_read(seen, s, &v, 8));
    CHECK(v >= 1 && v <= n);
    ran[v]++;
  }
  for (uint64_t i = 1; i <= n; i++)
    CHECK_EQ(ran[i], 1);
  spot_log_close(seen);
  spot_ns_close(ns);
  CHECK_EQ(WEXITSTATUS(stop_spotd(pid, SIGTERM)), 0);
  printf("  worker mode: %llu puts, each handler ran exactly once\n", (unsigned long long)n);
}

static void test_kill9_restart(void) {
  CHECK_OK(setup("spotd-kill", 1000));
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  pid_t pid = start_spotd("--workers 2");
  for (uint64_t i = 1; i <= 300; i++)
    CHECK_OK(spot_put(ns, "x", &i, 8, "sleepy", NULL, NULL));
  /* kill it once some have ended, while some are running and most are waiting */
  for (int i = 0; i < 3000; i++) {
    count_events(ns);
    if (tally.ends >= 20)
      break;
    usleep(1000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  usleep(100000); /* its workers die with it */
  count_events(ns);
  uint64_t ended_before = tally.ends;
  static uint64_t ended_ids[200001];
  memcpy(ended_ids, tally.ends_of, sizeof ended_ids);
  CHECK(ended_before >= 20 && ended_before < 300);
  pid = start_spotd("--workers 2");
  CHECK_OK(wait_ended(300));
  count_events(ns);
  uint64_t put_ids = 0;
  spot_log_t *events;
  CHECK_OK(spot__nsctx_events(ns, &events));
  uint64_t hi;
  spot_log_latest(events, &hi);
  for (uint64_t id = 1; id <= hi; id++) {
    spot__event_t e;
    if (spot__events_read(ns, id, &e) != 0 || e.type != SPOT__EV_PUT || strcmp(e.log, "x") != 0)
      continue;
    put_ids++;
    CHECK(tally.ends_of[id] >= 1);       /* every handler ran */
    if (ended_ids[id])
      CHECK_EQ(tally.ends_of[id], 1);    /* none that had ended ran again */
  }
  CHECK_EQ(put_ids, 300);
  CHECK_EQ(WEXITSTATUS(stop_spotd(pid, SIGTERM)), 0);
  spot_ns_close(ns);
  printf("  kill -9 with %llu of 300 ended: after restart all 300 ran, none of the ended ones twice\n",
         (unsigned long long)ended_before);
}

static int wait_pidfile(const char *path, long pid);

static void test_one_spotd_per_namespace(void) {
  CHECK_OK(setup("spotd-one", 10));
  char pidfile[4400], extra[4600];
  snprintf(pidfile, sizeof pidfile, "%s/../spotd.pid", dir);
  snprintf(extra, sizeof extra, "--workers 1 --pidfile %s", pidfile);
  pid_t pid = start_spotd(extra);
  CHECK_OK(wait_pidfile(pidfile, pid)); /* the first one serves (a fixed sleep lost the race under load) */
  char out[1024], err[1024];
  int rc = spot_test_sh(out, sizeof out, err, sizeof err, "timeout 20 %s -n %s --quiet", env("SPOTD_BIN"), dir);
  CHECK(rc != 0);
  CHECK(strstr(err, "already served") != NULL);
  CHECK_EQ(WEXITSTATUS(stop_spotd(pid, SIGTERM)), 0);
  rc = spot_test_sh(out, sizeof out, err, sizeof err, "%s -n /nonexistent/ns --quiet", env("SPOTD_BIN"));
  CHECK(rc != 0);
  CHECK(strstr(err, "spot init") != NULL);
}

/* Reads the pid in the pid file at path (0 if none). */
static long read_pidfile(const char *path) {
  FILE *f = fopen(path, "r");
  long pid = 0;
  if (f != NULL) {
    if (fscanf(f, "%ld", &pid) != 1)
      pid = 0;
    fclose(f);
  }
  return pid;
}

/* Waits (at most 20 s) until the pid file at path names pid. */
static int wait_pidfile(const char *path, long pid) {
  for (int i = 0; i < 2000; i++) {
    if (read_pidfile(path) == pid)
      return 0;
    usleep(10000);
  }
  return -1;
}

/* A second spotd on a served namespace fails clearly and leaves the first one's pid file alone, in the foreground
 * and with --daemon (before the fix it wrote its own pid there, then failed). The first one removes its pid file
 * when it stops. */
static void test_second_spotd_keeps_pidfile(void) {
  CHECK_OK(setup("spotd-pid", 10));
  char pidfile[4400], extra[4600], out[1024], err[2048];
  snprintf(pidfile, sizeof pidfile, "%s/../spotd.pid", dir);
  snprintf(extra, sizeof extra, "--workers 1 --pidfile %s", pidfile);
  pid_t pid = start_spotd(extra);
  CHECK_OK(wait_pidfile(pidfile, pid));
  int rc = spot_test_sh(out, sizeof out, err, sizeof err, "timeout 20 %s -n %s --quiet --pidfile %s",
                        env("SPOTD_BIN"), dir, pidfile);
  CHECK(rc == 1);
  CHECK(strstr(err, "already served") != NULL);
  CHECK_EQ(read_pidfile(pidfile), pid);
  rc = spot_test_sh(out, sizeof out, err, sizeof err, "timeout 20 %s -n %s --quiet --daemon --pidfile %s",
                    env("SPOTD_BIN"), dir, pidfile);
  CHECK(rc == 1); /* the starting process waits for the detached one and reports its failure */
  CHECK(strstr(err, "already served") != NULL);
  CHECK_EQ(read_pidfile(pidfile), pid);
  CHECK_EQ(WEXITSTATUS(stop_spotd(pid, SIGTERM)), 0);
  CHECK_EQ(read_pidfile(pidfile), 0); /* removed: it was its own */
  /* --daemon on a free namespace: exits 0 once the detached spotd serves, whose pid the pid file then holds */
  rc = spot_test_sh(out, sizeof out, err, sizeof err, "timeout 20 %s -n %s --quiet --daemon --workers 1 --pidfile %s",
                    env("SPOTD_BIN"), dir, pidfile);
  CHECK_EQ(rc, 0);
  long dpid = read_pidfile(pidfile);
  CHECK(dpid > 0);
  CHECK_EQ(kill((pid_t)dpid, SIGTERM), 0);
  for (int i = 0; i < 2000 && kill((pid_t)dpid, 0) == 0; i++)
    usleep(10000);
  CHECK(kill((pid_t)dpid, 0) != 0);
  CHECK_EQ(read_pidfile(pidfile), 0);
}

/* spotd started with SIGTERM blocked (a mask inherited from its parent, as some supervisors leave it) still stops
 * cleanly on SIGTERM: it sleeps in sigsuspend with the stop signals open. Before the fix, pause() never woke and
 * the stop timed out. A SIGTERM sent while it starts (here: as soon as it is running) is kept, not lost. */
static void test_stop_signal_never_missed(void) {
  CHECK_OK(setup("spotd-sig", 10));
  char pidfile[4400];
  snprintf(pidfile, sizeof pidfile, "%s/../spotd.pid", dir);
  if (nstarted == 0)
    atexit(kill_started);
  pid_t pid = fork();
  if (pid == 0) {
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, NULL);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    execl(env("SPOTD_BIN"), "spotd", "-n", dir, "--quiet", "--workers", "1", "--pidfile", pidfile, (char *)NULL);
    _exit(127);
  }
  if (nstarted < 16)
    started[nstarted++] = pid;
  CHECK_OK(wait_pidfile(pidfile, pid));
  int st = stop_spotd(pid, SIGTERM);
  CHECK(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK_EQ(read_pidfile(pidfile), 0);
  /* SIGTERM at once after the start, many times: each run stops cleanly (exit 0) or, if the signal came before
   * spotd could block it, dies of it; it never hangs */
  for (int i = 0; i < 10; i++) {
    pid = start_spotd("--workers 1");
    usleep((useconds_t)(i * 20000));
    st = stop_spotd(pid, SIGTERM);
    CHECK(st != -1);
    CHECK((WIFEXITED(st) && WEXITSTATUS(st) == 0) || (WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM));
  }
}

static const spot_test_t tests[] = {
    {"crash_isolation", test_crash_isolation},
    {"burst_exactly_once", test_burst_exactly_once},
    {"kill9_restart", test_kill9_restart},
    {"one_spotd_per_namespace", test_one_spotd_per_namespace},
    {"second_spotd_keeps_pidfile", test_second_spotd_keeps_pidfile},
    {"stop_signal_never_missed", test_stop_signal_never_missed},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
