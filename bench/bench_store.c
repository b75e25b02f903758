/*
 * bench_store.c: append and read throughput and latency of the log store (DESIGN.md, "Budgets"; issue 3).
 *
 * Run without arguments it prints one JSON object per line per figure and finishes within about a minute:
 *   append_{64B,1KiB}_{none,batch,always}_{1,2,16}t   appends by N threads sharing one handle; for batch and always
 *                                                   the synchronous spot_log_append (returns once durable)
 *   append_{64B,1KiB}_batch_pipelined_{1,2}t        spot_log_append_async from N writer threads while one more thread
 *                                                   calls spot_log_wait_durable on the latest sequence number in a
 *                                                   loop: durable (acknowledged) appends per second, and latency from
 *                                                   the append call to the acknowledgement
 *   read_{64B,1KiB}_{1,2}t                           random reads inside the window of a full log
 *   append_64B_none_{1,2,4}p                        spot_log_append_async from N processes, a handle each (4: more
 *                                                   writers than this machine's 2 cores); also
 *                                                   _cpu: appends per CPU-second of the writers (less load-bound)
 *   open_{fresh,written}_{1MiB,64MiB,1GiB}           spot_log_open of a new log, and of one after 100,000 appends
 *   open_reboot_{fresh,written}_{1MiB,64MiB,1GiB}    the same for a durable (batch) log, opened as after a restart
 *                                                   (min, median, max of RUNS runs, a new file each, in ms)
 * Each figure runs RUNS times for about SECONDS/RUNS each (or until a cap on operations): ops_per_s is the median of
 * the runs' rates; p50_us/p99_us come from per-operation timings (clock_gettime) of every run, pooled. Each log is
 * filled once (history elements) before it is timed, so page faults of a fresh file are not measured.
 *
 * Environment: SPOT_BENCH_DIR (scratch directory, default a new one under /tmp; files are removed afterwards),
 * SPOT_BENCH_SECONDS (time per figure, default 1.0). Argument: a substring to run only the figures named so.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spot/error.h"
#include "spot/log.h"

#define RUNS 3
#define MAX_THREADS 16
#define SAMPLES_PER_THREAD_MAX (4u << 20) /* per run; operations stop there */
#define PIPE_RING (8u << 20)             /* append timestamps kept for the pipelined figure */

static double g_seconds = 1.0;
static char g_dir[4096];
static const char *g_filter;
static int g_logno;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int rc) {
  fprintf(stderr, "bench_store: %s: %s (%s)\n", what, spot_errname(rc), spot_errdetail());
  exit(1);
}

/* ---- latency samples ---- */

typedef struct samples {
  uint32_t *ns; /* one per operation (capped at ~4.29 s) */
  size_t n, cap;
} samples_t;

static void samples_add(samples_t *s, uint64_t ns) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 1u << 16;
    uint32_t *p = realloc(s->ns, cap * sizeof *p);
    if (p == NULL)
      return; /* keep what we have: percentiles of a subset */
    s->ns = p;
    s->cap = cap;
  }
  s->ns[s->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

static double pct_us(samples_t *s, double p) {
  if (s->n == 0)
    return 0;
  size_t i = (size_t)(p * (double)(s->n - 1) + 0.5);
  return s->ns[i] / 1000.0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* ---- figures ---- */

typedef struct figure {
  char name[96];
  const char *op; /* "append", "append_pipelined", "read" */
  uint32_t elem;
  spot_sync_t sync;
  int threads;
  uint64_t history;
} figure_t;

typedef struct result {
  double rate[RUNS];
  double cpu_rate[RUNS]; /* append_procs: appends per CPU-second of the writers (0 elsewhere) */
  uint64_t ops;
  double secs;
  samples_t lat;
} result_t;

static void emit(const figure_t *f, result_t *r) {
  double rates[RUNS];
  memcpy(rates, r->rate, sizeof rates);
  qsort(rates, RUNS, sizeof rates[0], cmp_double);
  qsort(r->lat.ns, r->lat.n, sizeof r->lat.ns[0], cmp_u32);
  if (r->cpu_rate[0] > 0) {
    double c[RUNS];
    memcpy(c, r->cpu_rate, sizeof c);
    qsort(c, RUNS, sizeof c[0], cmp_double);
    printf("{\"name\":\"%s_cpu\",\"op\":\"%s\",\"elem_bytes\":%u,\"processes\":%d,\"ops_per_cpu_s\":%.0f,"
           "\"ops_per_cpu_s_min\":%.0f,\"ops_per_cpu_s_max\":%.0f}\n",
           f->name, f->op, f->elem, f->threads, c[RUNS / 2], c[0], c[RUNS - 1]);
  }
  printf("{\"name\":\"%s\",\"op\":\"%s\",\"elem_bytes\":%u,\"sync\":\"%s\",\"threads\":%d,\"ops\":%" PRIu64
         ",\"seconds\":%.3f,\"runs\":%d,\"ops_per_s\":%.0f,\"ops_per_s_min\":%.0f,\"ops_per_s_max\":%.0f,"
         "\"p50_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,\"max_us\":%.2f}\n",
         f->name, f->op, f->elem, spot_sync_name(f->sync), f->threads, r->ops, r->secs, RUNS, rates[RUNS / 2],
         rates[0], rates[RUNS - 1], pct_us(&r->lat, 0.50), pct_us(&r->lat, 0.99), pct_us(&r->lat, 0.999),
         pct_us(&r->lat, 1.0));
  fflush(stdout);
}

/* A fresh log for one figure, filled with history elements (untimed) so the whole file is paged in. */
static spot_log_t *make_log(const figure_t *f, char *path, size_t cap) {
  snprintf(path, cap, "%s/bench-%d.log", g_dir, g_logno++);
  spot_log_config_t cfg = {f->elem, f->history, f->sync, 0};
  int rc = spot_log_create(path, &cfg, NULL);
  if (rc != 0)
    die("create", rc);
  spot_log_t *log;
  rc = spot_log_open(path, 0, NULL, &log, NULL);
  if (rc != 0)
    die("open", rc);
  uint8_t *buf = calloc(1, f->elem);
  for (uint64_t i = 0; i < f->history; i++) {
    memset(buf, (int)(i & 0xff), f->elem < 16 ? f->elem : 16);
    rc = spot_log_append_async(log, buf, f->elem, NULL);
    if (rc != 0)
      die("fill", rc);
  }
  free(buf);
  uint64_t hi;
  spot_log_latest(log, &hi);
  if (f->sync != SPOT_SYNC_NONE && (rc = spot_log_wait_durable(log, hi)) != 0)
    die("fill sync", rc);
  return log;
}

static void drop_log(spot_log_t *log, const char *path) {
  spot_log_close(log);
  unlink(path);
}

typedef struct worker {
  const figure_t *f;
  spot_log_t *log;
  pthread_barrier_t *start;
  uint64_t deadline_ns; /* set by the first thread through the barrier: all share it */
  uint64_t max_ops;
  uint64_t ops;
  uint64_t t0, t1;
  uint64_t seed;
  samples_t lat;
  /* pipelined */
  _Atomic uint64_t *stamps; /* append call time by seq % PIPE_RING */
  _Atomic int *writers_left;
} worker_t;

static void *append_worker(void *p) {
  worker_t *w = p;
  uint8_t buf[1024];
  memset(buf, 0xab, sizeof buf);
  pthread_barrier_wait(w->start);
  uint64_t t = now_ns(), end = t + w->deadline_ns;
  w->t0 = t;
  for (uint64_t i = 0; i < w->max_ops && t < end; i++) {
    memcpy(buf, &i, sizeof i);
    int rc = spot_log_append(w->log, buf, w->f->elem, NULL);
    if (rc != 0)
      die("append", rc);
    uint64_t t2 = now_ns();
    samples_add(&w->lat, t2 - t);
    t = t2;
    w->ops++;
  }
  w->t1 = t;
  return NULL;
}

static void *read_worker(void *p) {
  worker_t *w = p;
  uint8_t buf[1024];
  uint64_t x = w->seed | 1;
  pthread_barrier_wait(w->start);
  uint64_t t = now_ns(), end = t + w->deadline_ns;
  w->t0 = t;
  for (uint64_t i = 0; i < w->max_ops && t < end; i++) {
    uint64_t lo, hi;
    spot_log_latest(w->log, &hi);
    spot_log_earliest(w->log, &lo);
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    uint64_t seq = lo + (x * 0x2545f4914f6cdd1dull) % (hi - lo + 1);
    int rc = spot_log_read(w->log, seq, buf, sizeof buf);
    if (rc != 0)
      die("read", rc);
    uint64_t t2 = now_ns();
    samples_add(&w->lat, t2 - t);
    t = t2;
    w->ops++;
  }
  w->t1 = t;
  return NULL;
}

static void *pipelined_writer(void *p) {
  worker_t *w = p;
  uint8_t buf[1024];
  memset(buf, 0xcd, sizeof buf);
  pthread_barrier_wait(w->start);
  uint64_t t = now_ns(), end = t + w->deadline_ns;
  w->t0 = t;
  for (uint64_t i = 0; i < w->max_ops && t < end; i++) {
    uint64_t seq;
    memcpy(buf, &i, sizeof i);
    int rc = spot_log_append_async(w->log, buf, w->f->elem, &seq);
    if (rc != 0)
      die("append_async", rc);
    atomic_store_explicit(&w->stamps[seq % PIPE_RING], t, memory_order_relaxed);
    t = now_ns();
    w->ops++;
  }
  w->t1 = t;
  atomic_fetch_sub(w->writers_left, 1);
  return NULL;
}

/* The acknowledging thread of the pipelined figure: waits for durability of the latest element, over and over,
 * and times each acknowledged append from its append call. Returns (in w) the durable count and the end time. */
static void *pipelined_waiter(void *p) {
  worker_t *w = p;
  uint64_t done;
  spot_log_latest(w->log, &done);
  uint64_t base = done;
  pthread_barrier_wait(w->start);
  w->t0 = now_ns();
  for (;;) {
    int last_round = atomic_load(w->writers_left) == 0;
    uint64_t hi;
    spot_log_latest(w->log, &hi);
    if (hi > done) {
      int rc = spot_log_wait_durable(w->log, hi);
      if (rc != 0)
        die("wait_durable", rc);
      uint64_t t = now_ns();
      for (uint64_t s = done + 1; s <= hi; s++) {
        uint64_t t0 = atomic_exchange_explicit(&w->stamps[s % PIPE_RING], 0, memory_order_relaxed);
        if (t0 != 0 && t0 <= t)
          samples_add(&w->lat, t - t0);
      }
      done = hi;
      w->t1 = t;
    } else if (last_round) {
      break;
    } else {
      sched_yield();
    }
  }
  w->ops = done - base;
  return NULL;
}

static void run_figure(const figure_t *f) {
  if (g_filter && !strstr(f->name, g_filter))
    return;
  char path[4200];
  spot_log_t *log = make_log(f, path, sizeof path);
  result_t res;
  memset(&res, 0, sizeof res);
  int pipelined = strcmp(f->op, "append_pipelined") == 0;
  int nworkers = f->threads + (pipelined ? 1 : 0);
  _Atomic uint64_t *stamps = NULL;
  if (pipelined) {
    stamps = calloc(PIPE_RING, sizeof *stamps);
    if (stamps == NULL)
      die("memory", SPOT_ENOMEM);
  }
  uint64_t box = (uint64_t)(g_seconds / RUNS * 1e9);
  for (int run = 0; run < RUNS; run++) {
    worker_t w[MAX_THREADS + 1];
    pthread_t th[MAX_THREADS + 1];
    pthread_barrier_t start;
    _Atomic int writers_left = f->threads;
    pthread_barrier_init(&start, NULL, (unsigned)nworkers);
    for (int i = 0; i < nworkers; i++) {
      w[i] = (worker_t){.f = f, .log = log, .start = &start, .deadline_ns = box,
                        .max_ops = SAMPLES_PER_THREAD_MAX, .seed = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1 + run * 64),
                        .stamps = stamps, .writers_left = &writers_left};
      void *(*fn)(void *) = strcmp(f->op, "read") == 0 ? read_worker : append_worker;
      if (pipelined)
        fn = i < f->threads ? pipelined_writer : pipelined_waiter;
      if (pthread_create(&th[i], NULL, fn, &w[i]) != 0)
        die("pthread_create", SPOT_ENOMEM);
    }
    for (int i = 0; i < nworkers; i++)
      pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    uint64_t t0 = UINT64_MAX, t1 = 0, ops = 0;
    int from = pipelined ? f->threads : 0; /* pipelined: count what the waiter saw acknowledged */
    for (int i = from; i < nworkers; i++) {
      if (w[i].t0 < t0)
        t0 = w[i].t0;
      if (w[i].t1 > t1)
        t1 = w[i].t1;
      ops += w[i].ops;
    }
    for (int i = 0; i < nworkers; i++) {
      for (size_t k = 0; k < w[i].lat.n; k++)
        samples_add(&res.lat, w[i].lat.ns[k]);
      free(w[i].lat.ns);
    }
    double secs = t1 > t0 ? (double)(t1 - t0) / 1e9 : 1e-9;
    res.rate[run] = (double)ops / secs;
    res.ops += ops;
    res.secs += secs;
  }
  free(stamps);
  drop_log(log, path);
  emit(f, &res);
  free(res.lat.ns);
}

static void figure(const char *op, uint32_t elem, spot_sync_t sync, int threads) {
  figure_t f = {.op = op, .elem = elem, .sync = sync, .threads = threads};
  const char *size = elem == 64 ? "64B" : "1KiB";
  if (strcmp(op, "append_pipelined") == 0)
    snprintf(f.name, sizeof f.name, "append_%s_%s_pipelined_%dt", size, spot_sync_name(sync), threads);
  else if (strcmp(op, "read") == 0)
    snprintf(f.name, sizeof f.name, "read_%s_%dt", size, threads);
  else
    snprintf(f.name, sizeof f.name, "append_%s_%s_%dt", size, spot_sync_name(sync), threads);
  /* Rings of 64 Ki elements: big enough that group commit never waits for room, small enough to page in fast. */
  f.history = 1u << 16;
  run_figure(&f);
}

/* ---- writer processes ---- */

/* append_<size>_none_<N>p: N processes, each with its own handle on one log (the cross-process case: before
 * version 3 they took the robust process-shared mutex in the mapping), call spot_log_append_async for the run's
 * time box; ops/s is the sum of their appends over the span from the first start to the last end. */
static void proc_figure(uint32_t elem, int nproc) {
  figure_t f = {.op = "append_procs", .elem = elem, .sync = SPOT_SYNC_NONE, .threads = nproc, .history = 1u << 16};
  snprintf(f.name, sizeof f.name, "append_%s_none_%dp", elem == 64 ? "64B" : "1KiB", nproc);
  if (g_filter && !strstr(f.name, g_filter))
    return;
  char path[4200];
  spot_log_t *log = make_log(&f, path, sizeof path);
  result_t res;
  memset(&res, 0, sizeof res);
  uint64_t box = (uint64_t)(g_seconds / RUNS * 1e9);
  for (int run = 0; run < RUNS; run++) {
    int ready[2], go[2], back[2];
    if (pipe(ready) != 0 || pipe(go) != 0 || pipe(back) != 0)
      die("pipe", SPOT_EIO);
    fflush(NULL);
    for (int i = 0; i < nproc; i++) {
      pid_t pid = fork();
      if (pid < 0)
        die("fork", SPOT_EIO);
      if (pid > 0)
        continue;
      close(go[1]);
      spot_log_t *mine;
      if (spot_log_open(path, 0, NULL, &mine, NULL) != 0)
        _exit(2);
      uint8_t buf[1024];
      memset(buf, 0xab, sizeof buf);
      char c = 'r';
      if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 0) /* go: the parent closes its end */
        _exit(3);
      struct timespec c0, c1;
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
      uint64_t t0 = now_ns(), t = t0, ops = 0;
      for (; ops < SAMPLES_PER_THREAD_MAX && t - t0 < box; ops++) {
        memcpy(buf, &ops, sizeof ops);
        if (spot_log_append_async(mine, buf, elem, NULL) != 0)
          _exit(4);
        if ((ops & 255) == 0)
          t = now_ns();
      }
      t = now_ns();
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
      uint64_t cpu = (uint64_t)(c1.tv_sec - c0.tv_sec) * 1000000000ull + (uint64_t)c1.tv_nsec - (uint64_t)c0.tv_nsec;
      uint64_t rec[4] = {t0, t, ops, cpu};
      if (write(back[1], rec, sizeof rec) != (ssize_t)sizeof rec)
        _exit(5);
      spot_log_close(mine);
      _exit(0);
    }
    close(go[0]);
    for (int i = 0; i < nproc; i++) {
      char c;
      if (read(ready[0], &c, 1) != 1)
        die("child start", SPOT_EIO);
    }
    close(go[1]);
    uint64_t t0 = UINT64_MAX, t1 = 0, ops = 0, cpu = 0;
    for (int i = 0; i < nproc; i++) {
      uint64_t rec[4];
      if (read(back[0], rec, sizeof rec) != (ssize_t)sizeof rec)
        die("child result", SPOT_EIO);
      t0 = rec[0] < t0 ? rec[0] : t0;
      t1 = rec[1] > t1 ? rec[1] : t1;
      ops += rec[2];
      cpu += rec[3];
    }
    for (int i = 0; i < nproc; i++)
      wait(NULL);
    close(ready[0]);
    close(ready[1]);
    close(back[0]);
    close(back[1]);
    double secs = t1 > t0 ? (double)(t1 - t0) / 1e9 : 1e-9;
    res.rate[run] = (double)ops / secs;
    res.cpu_rate[run] = cpu ? (double)ops / ((double)cpu / 1e9) : 0;
    res.ops += ops;
    res.secs += secs;
  }
  drop_log(log, path);
  emit(&f, &res);
}

/* ---- open ---- */

static double ms_since(uint64_t t0) { return (double)(now_ns() - t0) / 1e6; }

/* open_{fresh,written}_<size>: the time of spot_log_open on a log file of about `bytes` (64-byte elements). fresh:
 * the first open of a log just created (its recovery); written: an open after 100,000 appends and a close (the
 * next opener recovers again). RUNS runs each, a new file per run; min and median in milliseconds. */
static void open_figure(const char *label, uint64_t bytes) {
  static const char *kinds[] = {"fresh", "written", "reboot_fresh", "reboot_written"};
  for (int k = 0; k < 4; k++) {
    char name[96];
    snprintf(name, sizeof name, "open_%s_%s", kinds[k], label);
    if (g_filter && !strstr(name, g_filter))
      continue;
    double ms[RUNS];
    uint64_t file_bytes = 0;
    for (int run = 0; run < RUNS; run++) {
      char path[4200];
      snprintf(path, sizeof path, "%s/open-%d.log", g_dir, g_logno++);
      /* reboot_*: a `batch` log whose appends are durable, opened as after a restart (SPOT_TEST_BOOT_ID names
       * another boot, as the tests do): before format 4 this read every slot */
      spot_log_config_t cfg = {64, bytes / 80, k >= 2 ? SPOT_SYNC_BATCH : SPOT_SYNC_NONE, 0};
      int rc = spot_log_create(path, &cfg, NULL);
      if (rc != 0)
        die("create", rc);
      spot_log_t *log;
      if (k == 1 || k == 3) {
        if ((rc = spot_log_open(path, 0, NULL, &log, NULL)) != 0)
          die("open", rc);
        uint8_t buf[64] = {1};
        uint64_t seq = 0;
        for (int i = 0; i < 100000; i++)
          if ((rc = spot_log_append_async(log, buf, sizeof buf, &seq)) != 0)
            die("append", rc);
        if (k == 3 && (rc = spot_log_wait_durable(log, seq)) != 0)
          die("wait_durable", rc);
        spot_log_close(log);
      }
      char boot[64];
      snprintf(boot, sizeof boot, "bench-boot-%d-%d", getpid(), g_logno);
      if (k >= 2)
        setenv("SPOT_TEST_BOOT_ID", boot, 1);
      uint64_t t0 = now_ns();
      if ((rc = spot_log_open(path, 0, NULL, &log, NULL)) != 0)
        die("open", rc);
      ms[run] = ms_since(t0);
      unsetenv("SPOT_TEST_BOOT_ID");
      spot_log_info_t info;
      spot_log_info(log, &info);
      file_bytes = info.file_bytes;
      drop_log(log, path);
    }
    qsort(ms, RUNS, sizeof ms[0], cmp_double);
    printf("{\"name\":\"%s\",\"op\":\"open\",\"file_bytes\":%" PRIu64 ",\"runs\":%d,\"ms_min\":%.3f,"
           "\"ms_median\":%.3f,\"ms_max\":%.3f}\n",
           name, file_bytes, RUNS, ms[0], ms[RUNS / 2], ms[RUNS - 1]);
    fflush(stdout);
  }
}

int main(int argc, char **argv) {
  if (argc > 1) {
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
      printf("usage: bench_store [NAME-SUBSTRING]   (env SPOT_BENCH_DIR, SPOT_BENCH_SECONDS)\n");
      return 0;
    }
    g_filter = argv[1];
  }
  const char *secs = getenv("SPOT_BENCH_SECONDS");
  if (secs && atof(secs) > 0)
    g_seconds = atof(secs);
  const char *dir = getenv("SPOT_BENCH_DIR");
  int made_dir = 0;
  if (dir && dir[0]) {
    snprintf(g_dir, sizeof g_dir, "%s", dir);
  } else {
    snprintf(g_dir, sizeof g_dir, "/tmp/spot-bench-XXXXXX");
    if (mkdtemp(g_dir) == NULL) {
      perror("bench_store: mkdtemp");
      return 1;
    }
    made_dir = 1;
  }
  static const uint32_t sizes[] = {64, 1024};
  static const spot_sync_t syncs[] = {SPOT_SYNC_NONE, SPOT_SYNC_BATCH, SPOT_SYNC_ALWAYS};
  for (int si = 0; si < 2; si++)
    for (int yi = 0; yi < 3; yi++) {
      figure("append", sizes[si], syncs[yi], 1);
      figure("append", sizes[si], syncs[yi], 2);
      if (syncs[yi] != SPOT_SYNC_NONE)
        figure("append", sizes[si], syncs[yi], 16);
    }
  proc_figure(64, 1);
  proc_figure(64, 2);
  proc_figure(64, 4);
  figure("append_pipelined", 64, SPOT_SYNC_BATCH, 1);
  figure("append_pipelined", 64, SPOT_SYNC_BATCH, 2);
  figure("append_pipelined", 1024, SPOT_SYNC_BATCH, 1);
  for (int si = 0; si < 2; si++) {
    figure("read", sizes[si], SPOT_SYNC_NONE, 1);
    figure("read", sizes[si], SPOT_SYNC_NONE, 2);
  }
  open_figure("1MiB", 1ull << 20);
  open_figure("64MiB", 64ull << 20);
  open_figure("1GiB", 1ull << 30);
  if (made_dir)
    rmdir(g_dir);
  return 0;
}
