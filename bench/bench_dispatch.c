/*
 * bench_dispatch.c: put to handler start latency and sustained handler invocations (DESIGN.md, "Budgets"; issue 4,
 * part 7).
 *
 * Run without arguments it prints one JSON object per line per figure and finishes in well under a minute:
 *   put_to_start_thread   N sequential puts to an embedded node in thread mode (2 threads); each put waits until
 *                         its handler has ended before the next is made, so nothing queues
 *   put_to_start_worker   the same against a real `spotd -n DIR --workers 2 --quiet` (worker mode) started as a
 *                         child process, the handler compiled into a shared object and registered in the namespace
 *                         (with `spot build-handler`, or with cc and spot_ns_register_handler if that fails)
 *   sustained_thread      200,000 puts made as fast as spot_put returns (no waiting), then handler invocations per
 *   sustained_worker      second from the first put event to the last end event, the count of handlers run vs
 *                         puts made, and the rate at which the node drains what queued after the last put; the
 *                         median of 3 runs, each with a fresh namespace (and spotd)
 * Latencies are not timed here: they are read back from the node's event log after the run (start event time_ns
 * minus the time_ns of the put event it refers to, start.ref == put id), both wall-clock stamps taken inside spot.
 * The trivial handler `bench_noop` returns 0.
 *
 * Environment: SPOT_BENCH_DIR (scratch directory, default a new one under /tmp; what the bench makes there is
 * removed), SPOT_SPOTD (the spotd program; default: spotd in the parent directory of this program's directory, as
 * in a build tree), SPOT_CLI (the spot program, for `spot build-handler`; default next to spotd), SPOT_INCLUDE_DIR
 * (spot's headers, for compiling the handler object without `spot build-handler`; default derived from this file's
 * path), SPOT_BENCH_LAT_N (sequential puts per latency figure, default 10,000), SPOT_BENCH_SUSTAINED_N (puts per
 * sustained run, default 200,000), SPOT_BENCH_WORKERS (node threads or worker processes, default 2),
 * SPOT_BENCH_POLL_US (the node's poll_us, spotd --poll-us; default 0).
 * Argument: a substring to run only the figures named so.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* prctl, nftw */
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spot.h"
#include "spot/handler.h"
#include "spot/node.h"

#define WARMUP 500
#define RUNS 3 /* sustained figures: the median of RUNS runs */
#define LAT_N_DEFAULT 10000
#define SUSTAINED_N_DEFAULT 200000
#define ELEM_HISTORY (1u << 18)     /* the element log "a": never the limit */
#define SUSTAINED_EVENTS (1u << 20) /* event log history for the sustained figures: holds 3 events per put */
#define WAIT_SECONDS 60             /* longest wait for a handler to end (a stuck node fails the bench) */

static char g_dir[4096];
static const char *g_filter;
static char g_spotd[4200], g_cli[4200];
static int g_nsno;
static unsigned g_workers = 2; /* node threads or worker processes */
static unsigned g_poll_us;     /* spot_node_opts_t.poll_us / spotd --poll-us (SPOT_BENCH_POLL_US, default 0) */
static uint64_t g_lat_n = LAT_N_DEFAULT, g_sus_n = SUSTAINED_N_DEFAULT;
static pid_t g_spotd_pid; /* the running spotd child, if any */
static int g_made_dir;    /* g_dir is ours (mkdtemp): removed on exit, also after a failure */

static int bench_noop(spot_ctx_t *ctx, const spot_event_t *ev) {
  (void)ctx;
  (void)ev;
  return 0;
}
SPOT_HANDLER(bench_noop)

/* The same handler, as source for the worker-mode shared object. */
static const char handler_src[] = "#include <spot/handler.h>\n"
                                  "static int bench_noop(spot_ctx_t *ctx, const spot_event_t *ev) {\n"
                                  "  (void)ctx;\n"
                                  "  (void)ev;\n"
                                  "  return 0;\n"
                                  "}\n"
                                  "SPOT_HANDLER(bench_noop)\n";

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void stop_spotd(void) {
  if (g_spotd_pid > 0) {
    kill(g_spotd_pid, SIGTERM);
    int st;
    while (waitpid(g_spotd_pid, &st, 0) < 0 && errno == EINTR) {
    }
    g_spotd_pid = 0;
  }
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  remove(path);
  return 0;
}

static void rm_tree(const char *path) { nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* Stops spotd, removes the scratch directory if it is ours, exits 1. */
static void bail(void) {
  stop_spotd();
  if (g_made_dir)
    rm_tree(g_dir);
  exit(1);
}

static void die(const char *what, int rc) {
  fprintf(stderr, "bench_dispatch: %s: %s (%s)\n", what, rc ? spot_errname(rc) : "failed", rc ? spot_errdetail() : "");
  bail();
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* Percentile p of n sorted nanosecond samples, in microseconds. */
static double pct_us(const uint64_t *v, size_t n, double p) {
  if (n == 0)
    return 0;
  return (double)v[(size_t)(p * (double)(n - 1) + 0.5)] / 1000.0;
}

/* ---- namespaces ---- */

/* A fresh namespace g_dir/<tag>-<n> with log "a" (8-byte elements). events_history 0 keeps the default event log;
 * otherwise the event log is created with that history before spot_ns_init (which keeps an existing one). */
static void make_ns(const char *tag, uint64_t events_history, char *dir, size_t cap) {
  snprintf(dir, cap, "%s/%s-%d", g_dir, tag, g_nsno++);
  int rc;
  if (events_history) {
    char sub[4200], path[4300];
    snprintf(sub, sizeof sub, "%s/.spot", dir);
    if (mkdir(dir, 0755) != 0 || mkdir(sub, 0755) != 0)
      die("mkdir namespace", SPOT_EIO);
    snprintf(path, sizeof path, "%s/events.log", sub);
    spot_log_config_t c = {.elem_size = SPOT_EVENT_BYTES, .history = events_history, .sync = SPOT_SYNC_NONE};
    if ((rc = spot_log_create(path, &c, NULL)) != 0)
      die("create the event log", rc);
  }
  if ((rc = spot_ns_init(dir)) != 0)
    die("spot_ns_init", rc);
  spot_ns_t *ns;
  if ((rc = spot_ns_open(dir, NULL, &ns)) != 0)
    die("spot_ns_open", rc);
  spot_log_config_t c = {.elem_size = 8, .history = ELEM_HISTORY, .sync = SPOT_SYNC_NONE};
  if ((rc = spot_ns_create_log(ns, "a", &c)) != 0)
    die("create log a", rc);
  spot_ns_close(ns);
}

static int find_handler(const spot_handler_info_t *info, void *arg) {
  return strcmp(info->name, (const char *)arg) == 0 ? 1 : 0;
}

/* Runs argv with stdout and stderr to /dev/null (quiet) or inherited; returns its exit status, -1 if it did not
 * exit normally. */
static int run(char *const argv[], int quiet) {
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    if (quiet) {
      int fd = open("/dev/null", O_WRONLY);
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execvp(argv[0], argv);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* spot's include directory: SPOT_INCLUDE_DIR, else <repo>/include from this file's path (<repo>/bench/...). */
static void include_dir(char *buf, size_t cap) {
  const char *env = getenv("SPOT_INCLUDE_DIR");
  if (env && env[0]) {
    snprintf(buf, cap, "%s", env);
    return;
  }
  snprintf(buf, cap, "%s", __FILE__);
  char *b = strstr(buf, "bench/bench_dispatch.c");
  if (b)
    snprintf(b, cap - (size_t)(b - buf), "include");
  else
    snprintf(buf, cap, "include");
}

/* Builds bench_noop into a shared object and registers it in namespace dir: with `spot build-handler` if that
 * works, else by calling cc itself. Returns how ("spot build-handler" or "cc"). */
static const char *install_handler(const char *dir) {
  char src[4200];
  snprintf(src, sizeof src, "%s/bench_noop.c", g_dir);
  FILE *f = fopen(src, "w");
  if (f == NULL || fputs(handler_src, f) < 0 || fclose(f) != 0)
    die("write the handler source", SPOT_EIO);
  spot_ns_t *ns;
  int rc = spot_ns_open(dir, NULL, &ns);
  if (rc != 0)
    die("spot_ns_open", rc);
  const char *how = "spot build-handler";
  char *argv1[] = {g_cli, "build-handler", src, "-n", (char *)dir, NULL};
  if (access(g_cli, X_OK) != 0 || run(argv1, 1) != 0 || spot_ns_handlers(ns, find_handler, "bench_noop") != 1) {
    how = "cc";
    char inc[4200], incflag[4300], so[4300];
    include_dir(inc, sizeof inc);
    snprintf(incflag, sizeof incflag, "-I%s", inc);
    snprintf(so, sizeof so, "%s/.spot/handlers/bench-1.so", dir);
    char *argv2[] = {"cc", "-shared", "-fPIC", "-O2", "-std=c11", incflag, src, "-o", so, NULL};
    const char *cc = getenv("CC");
    if (cc && cc[0])
      argv2[0] = (char *)cc;
    if (run(argv2, 0) != 0)
      die("compile the handler object (set SPOT_INCLUDE_DIR to spot's include directory?)", 0);
    if ((rc = spot_ns_register_handler(ns, "bench_noop", "bench-1.so")) != 0)
      die("register the handler", rc);
  }
  spot_ns_close(ns);
  unlink(src);
  return how;
}

static void start_spotd(const char *dir) {
  if (access(g_spotd, X_OK) != 0) {
    fprintf(stderr, "bench_dispatch: no spotd at %s (set SPOT_SPOTD)\n", g_spotd);
    bail();
  }
  char workers[16];
  snprintf(workers, sizeof workers, "%u", g_workers);
  char poll[16];
  snprintf(poll, sizeof poll, "%u", g_poll_us);
  char *argv[] = {g_spotd, "-n", (char *)dir, "--workers", workers, "--quiet", "--poll-us", poll, NULL};
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0)
    die("fork", SPOT_EIO);
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlive the bench */
    if (getppid() != parent)
      _exit(1);
    execv(argv[0], argv);
    _exit(127);
  }
  g_spotd_pid = pid;
}

static void check_spotd(void) {
  int st;
  if (g_spotd_pid > 0 && waitpid(g_spotd_pid, &st, WNOHANG) == g_spotd_pid) {
    g_spotd_pid = 0;
    fprintf(stderr, "bench_dispatch: spotd exited (status %d)\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    bail();
  }
}

/* ---- following the event log ---- */

/* Reads events after *cursor until the handler of element seq of log "a" has ended (or failed), sleeping on the
 * event log between reads. *cursor ends at the last event read. */
static void wait_end(spot_ns_t *ns, uint64_t *cursor, uint64_t seq) {
  uint64_t deadline = now_ns() + (uint64_t)WAIT_SECONDS * 1000000000ull;
  for (;;) {
    uint64_t hi;
    spot_events_range(ns, NULL, &hi);
    while (*cursor < hi) {
      spot_eventrec_t e;
      int rc = spot_events_read(ns, ++*cursor, &e);
      if (rc != 0)
        die("read the event log", rc);
      if ((e.type == SPOT_EVENT_END || e.type == SPOT_EVENT_FAIL) && e.seq == seq && strcmp(e.log, "a") == 0) {
        if (e.type == SPOT_EVENT_FAIL) {
          fprintf(stderr, "bench_dispatch: handler failed: %s (status %d)\n", e.reason, (int)e.status);
          bail();
        }
        return;
      }
    }
    if (spot_events_wait(ns, hi, 100000000ull) == SPOT_ETIMEDOUT) {
      check_spotd();
      if (now_ns() > deadline)
        die("waiting for a handler to end", SPOT_ETIMEDOUT);
    }
  }
}

/* What the event log says about the puts with event ids after `base`. */
typedef struct scan {
  uint64_t puts, starts, ends, fails, matched, skew;
  uint64_t ends_after_puts; /* ends stamped after the last put (the node draining what queued) */
  uint64_t first_put_ns, last_put_ns, last_end_ns;
  uint64_t *lat; /* put to start, ns, one per matched start, sorted */
} scan_t;

static void scan_events(spot_ns_t *ns, uint64_t base, scan_t *s) {
  memset(s, 0, sizeof *s);
  uint64_t hi;
  spot_events_range(ns, NULL, &hi);
  uint64_t span = hi > base ? hi - base : 0;
  uint64_t *put_ns = calloc(span + 1, sizeof *put_ns);
  s->lat = malloc((span + 1) * sizeof *s->lat);
  if (put_ns == NULL || s->lat == NULL)
    die("memory", SPOT_ENOMEM);
  for (uint64_t id = base + 1; id <= hi; id++) {
    spot_eventrec_t e;
    int rc = spot_events_read(ns, id, &e);
    if (rc != 0)
      die("read the event log (is it large enough?)", rc);
    if (e.type == SPOT_EVENT_PUT && strcmp(e.handler, "bench_noop") == 0) {
      s->puts++;
      put_ns[id - base] = e.time_ns;
      if (s->first_put_ns == 0 || e.time_ns < s->first_put_ns)
        s->first_put_ns = e.time_ns;
      if (e.time_ns > s->last_put_ns)
        s->last_put_ns = e.time_ns;
      s->ends_after_puts = 0; /* counts the ends logged after the last put */
    } else if (e.type == SPOT_EVENT_START && e.ref > base && e.ref <= hi && put_ns[e.ref - base]) {
      s->starts++;
      uint64_t p = put_ns[e.ref - base];
      if (e.time_ns < p)
        s->skew++; /* the wall clock stepped back: count it, record 0 */
      s->lat[s->matched++] = e.time_ns > p ? e.time_ns - p : 0;
    } else if ((e.type == SPOT_EVENT_END || e.type == SPOT_EVENT_FAIL) && e.ref > base && e.ref <= hi &&
               put_ns[e.ref - base]) {
      if (e.type == SPOT_EVENT_END)
        s->ends++, s->ends_after_puts++;
      else
        s->fails++;
      if (e.time_ns > s->last_end_ns)
        s->last_end_ns = e.time_ns;
    }
  }
  free(put_ns);
  qsort(s->lat, s->matched, sizeof *s->lat, cmp_u64);
}

/* ---- figures ---- */

typedef struct target {
  const char *mode; /* "thread" or "worker" */
  const char *build; /* worker: how the handler object was made */
  spot_node_t *node; /* thread mode: the embedded node */
  char dir[4200];
} target_t;

static void target_start(target_t *t, const char *mode, const char *tag, uint64_t events_history) {
  memset(t, 0, sizeof *t);
  t->mode = mode;
  make_ns(tag, events_history, t->dir, sizeof t->dir);
  int rc;
  if (strcmp(mode, "thread") == 0) {
    spot_node_opts_t o = {.mode = SPOT_MODE_THREAD, .workers = g_workers, .quiet = 1, .poll_us = g_poll_us};
    if ((rc = spot_node_start(t->dir, &o, &t->node)) != 0)
      die("spot_node_start", rc);
  } else {
    t->build = install_handler(t->dir);
    start_spotd(t->dir);
  }
}

static void target_stop(target_t *t) {
  if (t->node)
    spot_node_stop(t->node);
  stop_spotd();
  rm_tree(t->dir);
}

/* Puts one element naming bench_noop and waits for its handler to end, n times. */
static void sequential_puts(spot_ns_t *ns, uint64_t *cursor, uint64_t n) {
  for (uint64_t i = 0; i < n; i++) {
    uint64_t v = i, seq;
    int rc = spot_put(ns, "a", &v, sizeof v, "bench_noop", NULL, &seq);
    if (rc != 0)
      die("spot_put", rc);
    wait_end(ns, cursor, seq);
  }
}

static int wanted(const char *name) { return g_filter == NULL || strstr(name, g_filter) != NULL; }

static void put_to_start(const char *mode) {
  char name[64];
  snprintf(name, sizeof name, "put_to_start_%s", mode);
  if (!wanted(name))
    return;
  target_t t;
  target_start(&t, mode, name, 0);
  spot_ns_t *ns;
  int rc = spot_ns_open(t.dir, NULL, &ns);
  if (rc == 0)
    rc = spot_events_range(ns, NULL, NULL); /* the namespace has an event log */
  if (rc != 0)
    die("open the namespace", rc);
  uint64_t cursor;
  spot_events_range(ns, NULL, &cursor);
  sequential_puts(ns, &cursor, WARMUP); /* also: spotd is up and its workers have loaded the handler */
  uint64_t base;
  spot_events_range(ns, NULL, &base);
  uint64_t t0 = now_ns();
  sequential_puts(ns, &cursor, g_lat_n);
  uint64_t t1 = now_ns();
  scan_t s;
  scan_events(ns, base, &s);
  spot_ns_close(ns);
  target_stop(&t);
  double secs = (double)(t1 - t0) / 1e9;
  double p50 = pct_us(s.lat, s.matched, 0.50), p99 = pct_us(s.lat, s.matched, 0.99);
  int thread = strcmp(mode, "thread") == 0;
  double b50 = thread ? 20 : 50, b99 = thread ? 200 : 0;
  printf("{\"name\":\"%s\",\"mode\":\"%s\",\"workers\":%u,\"poll_us\":%u,\"n\":%" PRIu64 ",\"puts\":%" PRIu64
         ",\"handlers_run\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"seconds\":%.3f,\"ops_per_s\":%.0f,"
         "\"p50_us\":%.2f,\"p90_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,\"max_us\":%.2f,\"budget_p50_us\":%.0f,",
         name, mode, g_workers, g_poll_us, s.matched, s.puts, s.ends, s.fails, secs, (double)g_lat_n / secs, p50,
         pct_us(s.lat, s.matched, 0.90), p99, pct_us(s.lat, s.matched, 0.999), pct_us(s.lat, s.matched, 1.0), b50);
  if (b99 > 0)
    printf("\"budget_p99_us\":%.0f,", b99);
  if (t.build)
    printf("\"handler_build\":\"%s\",", t.build);
  if (s.skew)
    printf("\"clock_steps\":%" PRIu64 ",", s.skew);
  printf("\"within_budget\":%s}\n", p50 <= b50 && (b99 == 0 || p99 <= b99) && s.matched == g_lat_n ? "true" : "false");
  fflush(stdout);
  free(s.lat);
}

/* One run of a sustained figure. */
typedef struct sus_run {
  double rate, drain_rate, put_secs, secs;
  uint64_t puts, ends, fails, lost;
  uint64_t node_ended, node_failed;
} sus_run_t;

static void sustained_run(const char *mode, const char *name, sus_run_t *r, uint64_t **lat, size_t *nlat,
                          const char **build) {
  target_t t;
  target_start(&t, mode, name, SUSTAINED_EVENTS);
  *build = t.build;
  spot_ns_t *ns;
  int rc = spot_ns_open(t.dir, NULL, &ns);
  if (rc == 0)
    rc = spot_events_range(ns, NULL, NULL); /* the namespace has an event log */
  if (rc != 0)
    die("open the namespace", rc);
  spot_ns_set_busy_timeout(ns, WAIT_SECONDS * 1000u); /* a full trigger queue makes puts wait, never fail */
  uint64_t cursor;
  spot_events_range(ns, NULL, &cursor);
  sequential_puts(ns, &cursor, 100); /* spotd is up, its workers have loaded the handler */
  uint64_t base;
  spot_events_range(ns, NULL, &base);
  uint64_t t0 = now_ns();
  for (uint64_t i = 0; i < g_sus_n; i++) {
    uint64_t v = i;
    if ((rc = spot_put(ns, "a", &v, sizeof v, "bench_noop", NULL, NULL)) != 0)
      die("spot_put", rc);
  }
  uint64_t t1 = now_ns();
  /* wait (bounded) until every put has its start and its end or fail: 3 events each */
  uint64_t want = base + 3 * g_sus_n, hi = 0, last_hi = 0, last_progress = now_ns();
  for (;;) {
    spot_events_range(ns, NULL, &hi);
    if (hi >= want)
      break;
    if (hi != last_hi)
      last_hi = hi, last_progress = now_ns();
    else if (now_ns() - last_progress > 10000000000ull)
      break; /* no progress for 10 s: report what ran */
    check_spotd();
    /* poll, do not sleep on the event log: a sleeper there would make every start and end event wake us */
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  memset(r, 0, sizeof *r);
  if (t.node) {
    spot_node_stats_t st;
    spot_node_stats(t.node, &st);
    r->node_ended = st.ended;
    r->node_failed = st.failed;
  }
  scan_t s;
  scan_events(ns, base, &s);
  spot_ns_close(ns);
  target_stop(&t);
  r->secs = s.last_end_ns > s.first_put_ns ? (double)(s.last_end_ns - s.first_put_ns) / 1e9 : 1e-9;
  r->rate = (double)s.ends / r->secs;
  if (s.last_end_ns > s.last_put_ns)
    r->drain_rate = (double)s.ends_after_puts / ((double)(s.last_end_ns - s.last_put_ns) / 1e9);
  r->put_secs = (double)(t1 - t0) / 1e9;
  r->puts = s.puts;
  r->ends = s.ends;
  r->fails = s.fails;
  r->lost = g_sus_n > s.ends ? g_sus_n - s.ends : 0;
  uint64_t *v = realloc(*lat, (*nlat + s.matched) * sizeof *v);
  if (v == NULL)
    die("memory", SPOT_ENOMEM);
  memcpy(v + *nlat, s.lat, s.matched * sizeof *v);
  *lat = v;
  *nlat += s.matched;
  free(s.lat);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void sustained(const char *mode) {
  char name[64];
  snprintf(name, sizeof name, "sustained_%s", mode);
  if (!wanted(name))
    return;
  sus_run_t r[RUNS], sum = {0};
  double rates[RUNS], drains[RUNS], puts_per_s[RUNS];
  uint64_t *lat = NULL;
  size_t nlat = 0;
  const char *build = NULL;
  for (int i = 0; i < RUNS; i++) {
    sustained_run(mode, name, &r[i], &lat, &nlat, &build);
    rates[i] = r[i].rate;
    drains[i] = r[i].drain_rate;
    puts_per_s[i] = (double)g_sus_n / r[i].put_secs;
    sum.puts += r[i].puts;
    sum.ends += r[i].ends;
    sum.fails += r[i].fails;
    sum.lost += r[i].lost;
    sum.secs += r[i].secs;
    sum.node_ended += r[i].node_ended;
    sum.node_failed += r[i].node_failed;
  }
  qsort(rates, RUNS, sizeof rates[0], cmp_double);
  qsort(drains, RUNS, sizeof drains[0], cmp_double);
  qsort(puts_per_s, RUNS, sizeof puts_per_s[0], cmp_double);
  qsort(lat, nlat, sizeof *lat, cmp_u64);
  double rate = rates[RUNS / 2];
  printf("{\"name\":\"%s\",\"mode\":\"%s\",\"workers\":%u,\"poll_us\":%u,\"runs\":%d,\"puts\":%" PRIu64
         ",\"handlers_run\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"lost\":%" PRIu64 ",\"seconds\":%.3f,"
         "\"ops_per_s\":%.0f,\"ops_per_s_min\":%.0f,\"ops_per_s_max\":%.0f,\"drain_ops_per_s\":%.0f,"
         "\"puts_per_s\":%.0f,\"p50_us\":%.2f,\"p99_us\":%.2f,\"max_us\":%.2f,",
         name, mode, g_workers, g_poll_us, RUNS, sum.puts, sum.ends, sum.fails, sum.lost, sum.secs, rate, rates[0],
         rates[RUNS - 1], drains[RUNS / 2], puts_per_s[RUNS / 2], pct_us(lat, nlat, 0.50), pct_us(lat, nlat, 0.99),
         pct_us(lat, nlat, 1.0));
  if (strcmp(mode, "thread") == 0)
    printf("\"node_ended\":%" PRIu64 ",\"node_failed\":%" PRIu64 ",", sum.node_ended, sum.node_failed);
  if (build)
    printf("\"handler_build\":\"%s\",", build);
  printf("\"budget_ops_per_s\":100000,\"within_budget\":%s}\n",
         rate >= 100000 && sum.lost == 0 && sum.fails == 0 && sum.puts == RUNS * g_sus_n ? "true" : "false");
  fflush(stdout);
  free(lat);
}

/* spotd: SPOT_SPOTD, else ../spotd from this program's directory (build/X/bench/bench_dispatch -> build/X/spotd);
 * the spot CLI likewise (SPOT_CLI, else next to spotd). */
static void find_programs(void) {
  const char *env = getenv("SPOT_SPOTD");
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash)
    *slash = '\0';
  slash = strrchr(exe, '/');
  if (slash)
    *slash = '\0';
  if (env && env[0])
    snprintf(g_spotd, sizeof g_spotd, "%s", env);
  else
    snprintf(g_spotd, sizeof g_spotd, "%s/spotd", exe);
  env = getenv("SPOT_CLI");
  if (env && env[0]) {
    snprintf(g_cli, sizeof g_cli, "%s", env);
  } else {
    snprintf(g_cli, sizeof g_cli, "%s", g_spotd);
    slash = strrchr(g_cli, '/');
    snprintf(slash ? slash + 1 : g_cli, sizeof g_cli - (size_t)(slash ? slash + 1 - g_cli : 0), "spot");
  }
}

int main(int argc, char **argv) {
  if (argc > 1) {
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
      printf("usage: bench_dispatch [NAME-SUBSTRING]   (env SPOT_BENCH_DIR, SPOT_SPOTD, SPOT_CLI, SPOT_INCLUDE_DIR, "
             "SPOT_BENCH_LAT_N, SPOT_BENCH_SUSTAINED_N, SPOT_BENCH_WORKERS, SPOT_BENCH_POLL_US)\n");
      return 0;
    }
    g_filter = argv[1];
  }
  const char *env = getenv("SPOT_BENCH_LAT_N");
  if (env && atoll(env) > 0)
    g_lat_n = (uint64_t)atoll(env);
  env = getenv("SPOT_BENCH_WORKERS");
  if (env && atoi(env) > 0 && atoi(env) <= 64)
    g_workers = (unsigned)atoi(env);
  env = getenv("SPOT_BENCH_POLL_US");
  if (env && atoi(env) >= 0 && atoi(env) <= 100000)
    g_poll_us = (unsigned)atoi(env);
  env = getenv("SPOT_BENCH_SUSTAINED_N");
  if (env && atoll(env) > 0)
    g_sus_n = (uint64_t)atoll(env);
  find_programs();
  const char *dir = getenv("SPOT_BENCH_DIR");
  if (dir && dir[0]) {
    snprintf(g_dir, sizeof g_dir, "%s", dir);
  } else {
    snprintf(g_dir, sizeof g_dir, "/tmp/spot-bench-XXXXXX");
    if (mkdtemp(g_dir) == NULL) {
      perror("bench_dispatch: mkdtemp");
      return 1;
    }
    g_made_dir = 1;
  }
  put_to_start("thread");
  put_to_start("worker");
  sustained("thread");
  sustained("worker");
  if (g_made_dir)
    rmdir(g_dir);
  return 0;
}
