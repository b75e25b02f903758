/*
 * bench_net.c: network benchmarks (issue 6), JSON lines as the other bench_* programs.
 *
 * First the baseline, measured in the same run: a bare libzmq CURVE request/reply between two processes over
 * loopback with a message the size of a small remote put (about 100 bytes each way), `baseline_zmq_curve_rtt`:
 * p50/p99 over 10,000 sequential requests after 1,000 warm-up ones (server: a forked child). Then spot itself,
 * against a real `spotd --listen` (thread mode) in a scratch namespace, keys made with `spot keygen`:
 *   remote_put_rtt          10,000 sequential spot_remote_put of 16-byte elements, no handler;
 *   remote_put_to_start     10,000 sequential remote puts naming a no-op handler, each waited for (its start event
 *                           read back from the node's event log): from the client's put call (wall clock) to the
 *                           node's start stamp (the same clock: one host);
 *   remote_puts_pipelined   one client keeping 64 puts in flight on its connection for a second;
 *   remote_puts_in_flight   4 client threads, each with its own connection and one put at a time, for a second.
 * Each figure is also given as a ratio of its p50 to the baseline's. spot and spotd are taken from the build
 * directory next to this program (or $SPOT_CLI, $SPOT_SPOTD).
 *
 * remote_interleaved (only when asked for by name) measures before and after in the same run: rounds that each take
 * the bare round trip, then the remote put's p50 and the synchronous rates of one and of four clients against this
 * build's spotd and, when $SPOT_SPOTD_BEFORE names another spotd (an older build), against that one too; reported as
 * min and median over the rounds of each figure and of the ratios taken within a round.
 *
 *   bench_net [FILTER]      # only figures whose name contains FILTER
 *   SPOT_SPOTD_BEFORE=/path/to/old/spotd bench_net remote_interleaved
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#include <zmq.h>

#include "common.h"
#include "spot.h"
#include "spot/net.h"

#define WARMUP 1000
#define ROUNDS 10000
#define MSG_BYTES 100



/* The server: REP socket with CURVE, answers every request with a reply of the same size, until killed. */
static void serve(const char *endpoint, const char *server_secret) {
  void *ctx = zmq_ctx_new();
  void *rep = zmq_socket(ctx, ZMQ_REP);
  int one = 1;
  zmq_setsockopt(rep, ZMQ_CURVE_SERVER, &one, sizeof one);
  zmq_setsockopt(rep, ZMQ_CURVE_SECRETKEY, server_secret, 40);
  if (zmq_bind(rep, endpoint) != 0)
    _exit(2);
  char buf[MSG_BYTES * 2];
  for (;;) {
    int n = zmq_recv(rep, buf, sizeof buf, 0);
    if (n < 0)
      _exit(0);
    zmq_send(rep, buf, (size_t)n, 0);
  }
}

static double baseline_p50_us;
static char base_pub[41], base_sec[41], base_endpoint[64];
static pid_t base_pid;

/* Starts the bare REP server (a forked child) once; baseline_stop ends it. */
static void baseline_start(void) {
  if (base_pid > 0)
    return;
  if (zmq_curve_keypair(base_pub, base_sec) != 0) {
    fprintf(stderr, "bench_net: libzmq has no CURVE (built without libsodium?)\n");
    exit(1);
  }
  snprintf(base_endpoint, sizeof base_endpoint, "tcp://127.0.0.1:%d", 20000 + (int)(getpid() % 20000));
  base_pid = fork();
  if (base_pid == 0)
    serve(base_endpoint, base_sec);
}

static void baseline_stop(void) {
  if (base_pid > 0) {
    kill(base_pid, SIGKILL);
    waitpid(base_pid, NULL, 0);
    base_pid = 0;
  }
}

/* A REQ socket (in its own context *ctx) connected to the bare server, with a fresh client key. */
static void *baseline_client(void **ctx) {
  char client_pub[41], client_sec[41];
  zmq_curve_keypair(client_pub, client_sec);
  *ctx = zmq_ctx_new();
  void *req = zmq_socket(*ctx, ZMQ_REQ);
  zmq_setsockopt(req, ZMQ_CURVE_SERVERKEY, base_pub, 40);
  zmq_setsockopt(req, ZMQ_CURVE_PUBLICKEY, client_pub, 40);
  zmq_setsockopt(req, ZMQ_CURVE_SECRETKEY, client_sec, 40);
  int timeout = 5000, linger = 0;
  zmq_setsockopt(req, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
  zmq_setsockopt(req, ZMQ_LINGER, &linger, sizeof linger);
  zmq_connect(req, base_endpoint);
  return req;
}

static void baseline(void) {
  baseline_start();
  void *ctx, *req = baseline_client(&ctx);
  char msg[MSG_BYTES], back[MSG_BYTES * 2];
  memset(msg, 'p', sizeof msg);
  static uint64_t lat[ROUNDS];
  int ok = 1;
  uint64_t start = 0;
  for (int i = 0; i < WARMUP + ROUNDS && ok; i++) {
    if (i == WARMUP)
      start = bench_now_ns();
    uint64_t t0 = bench_now_ns();
    ok = zmq_send(req, msg, sizeof msg, 0) == (int)sizeof msg && zmq_recv(req, back, sizeof back, 0) == (int)sizeof msg;
    if (i >= WARMUP)
      lat[i - WARMUP] = bench_now_ns() - t0;
  }
  double seconds = (double)(bench_now_ns() - start) / 1e9;
  zmq_close(req);
  zmq_ctx_term(ctx);
  if (!ok) {
    fprintf(stderr, "bench_net: the baseline server did not answer (port in use?)\n");
    exit(1);
  }
  qsort(lat, ROUNDS, sizeof lat[0], bench_cmp_u64);
  baseline_p50_us = bench_pct_us(lat, ROUNDS, 0.5);
  printf("{\"name\":\"baseline_zmq_curve_rtt\",\"transport\":\"tcp loopback\",\"curve\":true,\"msg_bytes\":%d,"
         "\"n\":%d,\"ops_per_s\":%.0f,\"p50_us\":%.2f,\"p90_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,"
         "\"max_us\":%.2f}\n",
         MSG_BYTES, ROUNDS, ROUNDS / seconds, bench_pct_us(lat, ROUNDS, 0.5), bench_pct_us(lat, ROUNDS, 0.9), bench_pct_us(lat, ROUNDS, 0.99),
         bench_pct_us(lat, ROUNDS, 0.999), bench_pct_us(lat, ROUNDS, 1.0));
  fflush(stdout);
}

/* ---- spot over the network ---- */

static char bindir[4096];

/* A spotd serving a scratch namespace `home` with log `a`, with its own keys. */
typedef struct node {
  char scratch[4200], nsdir[4300], endpoint[64], url[256];
  pid_t pid;
} node_t;

static node_t nodes[2]; /* [0] the spotd of this build (or $SPOT_SPOTD); [1] $SPOT_SPOTD_BEFORE, when given */
static node_t *nd = &nodes[0]; /* the one the figures measure */

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...) {
  char cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  if (system(cmd) != 0) {
    fprintf(stderr, "bench_net: `%s` failed\n", cmd);
    exit(1);
  }
}

static void tool(char *out, size_t cap, const char *env, const char *name) {
  const char *e = getenv(env);
  if (e && e[0])
    snprintf(out, cap, "%s", e);
  else
    snprintf(out, cap, "%s/%s", bindir, name);
}

/* Starts *nd: the spotd at $<spotd_env> (else this build's), on a port of its own (which = 0 or 1). */
static void node_up(const char *spotd_env, int which) {
  bench_build_dir(bindir, sizeof bindir);
  char spot[4200], spotd_bin[4200];
  tool(spot, sizeof spot, "SPOT_CLI", "spot");
  tool(spotd_bin, sizeof spotd_bin, spotd_env, "spotd");
  snprintf(nd->scratch, sizeof nd->scratch, "/tmp/spot-bench-net-XXXXXX");
  if (mkdtemp(nd->scratch) == NULL)
    exit(1);
  snprintf(nd->nsdir, sizeof nd->nsdir, "%s/home", nd->scratch);
  int port = 20000 + (int)((getpid() + 7919 + 1009 * which) % 20000);
  snprintf(nd->endpoint, sizeof nd->endpoint, "127.0.0.1:%d", port);
  snprintf(nd->url, sizeof nd->url, "spot://%s/home/a", nd->endpoint);
  FILE *h = fopen("/tmp/spot-bench-net-noop.c", "w");
  fputs("#include <spot/handler.h>\nstatic int net_noop(spot_ctx_t *c, const spot_event_t *e) { return 0; }\n"
        "SPOT_HANDLER(net_noop)\n", h);
  fclose(h);
  run("cd %s && %s keygen node >/dev/null && %s keygen client >/dev/null && %s init %s >/dev/null && "
      "%s -n %s create a --size 16 --history 1048576 && %s -n %s build-handler /tmp/spot-bench-net-noop.c >/dev/null && "
      "echo \"$(cat client.pub) get,put,create\" > %s/access",
      nd->scratch, spot, spot, spot, nd->nsdir, spot, nd->nsdir, spot, nd->nsdir, nd->nsdir);
  nd->pid = fork();
  if (nd->pid == 0) {
    char key[4400];
    snprintf(key, sizeof key, "%s/node.key", nd->scratch);
    execl(spotd_bin, "spotd", "-n", nd->nsdir, "--quiet", "--mode", "thread", "--listen", nd->endpoint, "--key", key,
          (char *)NULL);
    _exit(127);
  }
}

static void node_down(void) {
  kill(nd->pid, SIGTERM);
  waitpid(nd->pid, NULL, 0);
  run("rm -rf %s", nd->scratch);
}

static spot_remote_t *client(void) {
  char key[4400], node[4400];
  snprintf(key, sizeof key, "%s/client.key", nd->scratch);
  snprintf(node, sizeof node, "%s/node.pub", nd->scratch);
  spot_remote_t *r;
  if (spot_remote_new(key, node, 5000, &r) != 0) {
    fprintf(stderr, "bench_net: %s\n", spot_errdetail());
    exit(1);
  }
  for (int i = 0; i < 100; i++) { /* wait for the node */
    uint64_t seq;
    if (spot_remote_latest(r, nd->url, &seq) == 0)
      return r;
    usleep(100000);
  }
  fprintf(stderr, "bench_net: spotd did not come up: %s\n", spot_errdetail());
  exit(1);
}

static void report(const char *name, uint64_t *lat, size_t n, double seconds, const char *extra) {
  qsort(lat, n, sizeof lat[0], bench_cmp_u64);
  double p50 = bench_pct_us(lat, n, 0.5);
  printf("{\"name\":\"%s\",\"transport\":\"tcp loopback\",\"curve\":true,\"n\":%zu,\"ops_per_s\":%.0f,"
         "\"p50_us\":%.2f,\"p90_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,\"max_us\":%.2f,"
         "\"baseline_p50_us\":%.2f,\"ratio_p50_to_baseline\":%.2f%s}\n",
         name, n, (double)n / seconds, p50, bench_pct_us(lat, n, 0.9), bench_pct_us(lat, n, 0.99), bench_pct_us(lat, n, 0.999),
         bench_pct_us(lat, n, 1.0), baseline_p50_us, baseline_p50_us > 0 ? p50 / baseline_p50_us : 0, extra);
  fflush(stdout);
}

static void remote_put_rtt(void) {
  spot_remote_t *r = client();
  static uint64_t lat[ROUNDS];
  uint64_t seq, start = 0;
  for (int i = 0; i < WARMUP + ROUNDS; i++) {
    if (i == WARMUP)
      start = bench_now_ns();
    uint64_t t0 = bench_now_ns();
    if (spot_remote_put(r, nd->url, "0123456789abcdef", 16, NULL, NULL, &seq) != 0) {
      fprintf(stderr, "bench_net: %s\n", spot_errdetail());
      exit(1);
    }
    if (i >= WARMUP)
      lat[i - WARMUP] = bench_now_ns() - t0;
  }
  report("remote_put_rtt", lat, ROUNDS, (double)(bench_now_ns() - start) / 1e9, ",\"budget_ratio\":1.3");
  spot_remote_free(r);
}

static void remote_put_to_start(void) {
  spot_remote_t *r = client();
  spot_ns_t *ns;
  if (spot_ns_open(nd->nsdir, NULL, &ns) != 0 || spot_events_range(ns, NULL, NULL) != 0)
    exit(1);
  static uint64_t lat[ROUNDS];
  size_t n = 0;
  uint64_t start = bench_now_ns(), cursor;
  spot_events_range(ns, NULL, &cursor);
  for (int i = 0; i < WARMUP / 4 + ROUNDS; i++) {
    uint64_t seq, put_ns = 0;
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall); /* the node stamps its events with the same clock (one host) */
    uint64_t call_ns = (uint64_t)wall.tv_sec * 1000000000u + (uint64_t)wall.tv_nsec;
    if (spot_remote_put(r, nd->url, "handler", 7, "net_noop", NULL, &seq) != 0) {
      fprintf(stderr, "bench_net: %s\n", spot_errdetail());
      exit(1);
    }
    /* the put event and the start event, both stamped by the node */
    for (int spins = 0; spins < 100000; spins++) {
      uint64_t hi;
      spot_events_range(ns, NULL, &hi);
      int done = 0;
      for (; cursor < hi; cursor++) {
        spot_eventrec_t e;
        if (spot_events_read(ns, cursor + 1, &e) != 0)
          continue;
        if (e.type == SPOT_EVENT_PUT && e.seq == seq && strcmp(e.log, "a") == 0)
          put_ns = e.time_ns;
        if (e.type == SPOT_EVENT_START && e.seq == seq && put_ns) {
          if (i >= WARMUP / 4 && n < ROUNDS)
            lat[n++] = e.time_ns > call_ns ? e.time_ns - call_ns : 0;
          done = 1;
        }
      }
      if (done)
        break;
      spot_events_wait(ns, hi, 10000000ull);
    }
    if (i == WARMUP / 4 - 1)
      start = bench_now_ns();
  }
  report("remote_put_to_start", lat, n, (double)(bench_now_ns() - start) / 1e9,
         ",\"handler\":\"net_noop\",\"budget_ratio\":2.0,\"measured_from\":\"the client's put call\"");
  spot_ns_close(ns);
  spot_remote_free(r);
}

#define IN_FLIGHT 4

static volatile int stop_flag;
static uint64_t done_count[IN_FLIGHT];

static void *put_loop(void *arg) {
  int k = (int)(intptr_t)arg;
  spot_remote_t *r = client();
  const char *url = nd->url; /* nd does not change while the loops run */
  while (!stop_flag) {
    uint64_t seq;
    if (spot_remote_put(r, url, "pipelined", 9, NULL, NULL, &seq) == 0)
      __atomic_add_fetch(&done_count[k], 1, __ATOMIC_RELAXED);
  }
  spot_remote_free(r);
  return NULL;
}

#define WINDOW 64

/* One client keeping WINDOW puts in flight on its connection. */
static void remote_puts_pipelined(void) {
  spot_remote_t *r = client();
  uint64_t sent = 0, acked = 0, ticket, seq;
  uint64_t t0 = bench_now_ns(), until = t0 + 1000000000ull;
  while (bench_now_ns() < until) {
    while (sent - acked < WINDOW) {
      if (spot_remote_put_async(r, nd->url, "pipelined", 9, NULL, NULL, &ticket) != 0) {
        fprintf(stderr, "bench_net: %s\n", spot_errdetail());
        exit(1);
      }
      sent++;
    }
    if (spot_remote_put_result(r, nd->url, &ticket, &seq) != 0) {
      fprintf(stderr, "bench_net: %s\n", spot_errdetail());
      exit(1);
    }
    acked++;
  }
  double seconds = (double)(bench_now_ns() - t0) / 1e9;
  uint64_t in_time = acked;
  while (acked < sent && spot_remote_put_result(r, nd->url, &ticket, &seq) == 0) /* drain what is still in flight */
    acked++;
  printf("{\"name\":\"remote_puts_pipelined\",\"transport\":\"tcp loopback\",\"curve\":true,\"clients\":1,"
         "\"in_flight\":%d,\"ops_per_s\":%.0f,\"budget_ops_per_s\":50000}\n",
         WINDOW, (double)in_time / seconds);
  fflush(stdout);
  spot_remote_free(r);
}

static void remote_puts_in_flight(void) {
  pthread_t t[IN_FLIGHT];
  for (int k = 0; k < IN_FLIGHT; k++)
    pthread_create(&t[k], NULL, put_loop, (void *)(intptr_t)k);
  usleep(300000); /* connected and warm */
  uint64_t before = 0, after = 0;
  for (int k = 0; k < IN_FLIGHT; k++)
    before += done_count[k];
  uint64_t t0 = bench_now_ns();
  usleep(1000000);
  for (int k = 0; k < IN_FLIGHT; k++)
    after += done_count[k];
  double seconds = (double)(bench_now_ns() - t0) / 1e9;
  stop_flag = 1;
  for (int k = 0; k < IN_FLIGHT; k++)
    pthread_join(t[k], NULL);
  printf("{\"name\":\"remote_puts_in_flight\",\"transport\":\"tcp loopback\",\"curve\":true,\"clients\":%d,"
         "\"ops_per_s\":%.0f,\"budget_ops_per_s\":50000}\n",
         IN_FLIGHT, (double)(after - before) / seconds);
  fflush(stdout);
}

/* ---- before and after in the same run, interleaved ---- */

#define ROUNDS_IL 5
#define CYCLES_IL 10
#define LAT_BLOCK 200                  /* round trips per latency block */
#define RATE_BLOCK_NS 60000000ull      /* each rate block: 60 ms after a 20 ms warm-up */
#define TARGETS 3                      /* 0: this build's spotd, 1: $SPOT_SPOTD_BEFORE's, 2: the bare REP server */

/* Client threads that stay connected for the whole run, four per target, each doing one synchronous request at a
 * time while the controller has made its target and index active, and asleep otherwise. */
static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int target, n, quit; /* the active target and how many of its threads run (target -1: none) */
  uint64_t count[TARGETS][IN_FLIGHT];
  int busy[TARGETS][IN_FLIGHT]; /* in a request now */
} il = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, -1, 0, 0, {{0}}, {{0}}};

static void *il_worker(void *arg) {
  int target = (int)(intptr_t)arg / IN_FLIGHT, k = (int)(intptr_t)arg % IN_FLIGHT;
  spot_remote_t *r = NULL;
  void *ctx = NULL, *req = NULL;
  const char *url = NULL;
  if (target < 2) {
    pthread_mutex_lock(&il.mu);
    nd = &nodes[target];
    r = client();
    url = nodes[target].url;
    pthread_mutex_unlock(&il.mu);
  } else {
    req = baseline_client(&ctx);
  }
  char msg[MSG_BYTES], back[MSG_BYTES * 2];
  memset(msg, 'p', sizeof msg);
  for (;;) {
    pthread_mutex_lock(&il.mu);
    while (!il.quit && !(il.target == target && k < il.n))
      pthread_cond_wait(&il.cv, &il.mu);
    int quit = il.quit;
    il.busy[target][k] = 1;
    pthread_mutex_unlock(&il.mu);
    if (quit)
      break;
    while (__atomic_load_n(&il.target, __ATOMIC_RELAXED) == target && k < __atomic_load_n(&il.n, __ATOMIC_RELAXED)) {
      uint64_t seq;
      int ok = r ? spot_remote_put(r, url, "interleaved", 11, NULL, NULL, &seq) == 0
                 : zmq_send(req, msg, sizeof msg, 0) == (int)sizeof msg &&
                       zmq_recv(req, back, sizeof back, 0) == (int)sizeof msg;
      if (ok)
        __atomic_add_fetch(&il.count[target][k], 1, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&il.busy[target][k], 0, __ATOMIC_RELEASE);
  }
  if (r)
    spot_remote_free(r);
  if (req) {
    zmq_close(req);
    zmq_ctx_term(ctx);
  }
  return NULL;
}

static void il_set(int target, int n) {
  pthread_mutex_lock(&il.mu);
  __atomic_store_n(&il.target, target, __ATOMIC_RELAXED);
  __atomic_store_n(&il.n, n, __ATOMIC_RELAXED);
  pthread_cond_broadcast(&il.cv);
  pthread_mutex_unlock(&il.mu);
}

static uint64_t il_sum(int target) {
  uint64_t sum = 0;
  for (int k = 0; k < IN_FLIGHT; k++)
    sum += __atomic_load_n(&il.count[target][k], __ATOMIC_RELAXED);
  return sum;
}

/* Runs n of target's threads for one block; adds the round trips done and the seconds taken to *ops, *secs. */
static void il_rate_block(int target, int n, double *ops, double *secs) {
  il_set(target, n);
  usleep(20000); /* all n running */
  uint64_t before = il_sum(target), t0 = bench_now_ns();
  usleep((useconds_t)(RATE_BLOCK_NS / 1000u));
  uint64_t after = il_sum(target), t1 = bench_now_ns();
  il_set(-1, 0);
  for (int k = 0; k < IN_FLIGHT; k++) /* the last requests finish before the next block starts */
    while (__atomic_load_n(&il.busy[target][k], __ATOMIC_ACQUIRE))
      usleep(100);
  *ops += (double)(after - before);
  *secs += (double)(t1 - t0) / 1e9;
}

/* LAT_BLOCK sequential round trips to target on the controller's own connection, latencies appended at lat. */
static void il_lat_block(int target, spot_remote_t *r, void *req, uint64_t *lat) {
  char msg[MSG_BYTES], back[MSG_BYTES * 2];
  memset(msg, 'p', sizeof msg);
  for (int i = 0; i < LAT_BLOCK; i++) {
    uint64_t seq, t0 = bench_now_ns();
    int ok = target < 2 ? spot_remote_put(r, nodes[target].url, "0123456789abcdef", 16, NULL, NULL, &seq) == 0
                        : zmq_send(req, msg, sizeof msg, 0) == (int)sizeof msg &&
                              zmq_recv(req, back, sizeof back, 0) == (int)sizeof msg;
    if (!ok) {
      fprintf(stderr, "bench_net: %s\n", target < 2 ? spot_errdetail() : "the bare server did not answer");
      exit(1);
    }
    lat[i] = bench_now_ns() - t0;
  }
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* ,"name_min":x,"name_median":y of v[0..n) (sorted in place). */
static void min_median(const char *name, double *v, int n, const char *fmt) {
  qsort(v, (size_t)n, sizeof v[0], cmp_dbl);
  double med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  printf(",\"%s_min\":", name);
  printf(fmt, v[0]);
  printf(",\"%s_median\":", name);
  printf(fmt, med);
}

/* ROUNDS_IL rounds. A round is CYCLES_IL cycles; a cycle runs, for each target in turn (the order rotates), a block
 * of LAT_BLOCK sequential puts (round trips for the bare server) on one connection, then a rate block of one
 * synchronous client and one of four. So every target sees the same minutes of a shared machine. A round gives
 * each target its p50 (over its CYCLES_IL * LAT_BLOCK samples) and its rates (round trips over seconds, summed over
 * its blocks); the ratios are taken within the round; each figure is reported as min and median over the rounds. */
static void remote_interleaved(int nnodes) {
  int targets[TARGETS], nt = 0;
  for (int i = 0; i < nnodes; i++)
    targets[nt++] = i;
  targets[nt++] = 2;
  pthread_t t[TARGETS * IN_FLIGHT];
  int nthreads = 0;
  for (int i = 0; i < nt; i++)
    for (int k = 0; k < IN_FLIGHT; k++)
      pthread_create(&t[nthreads++], NULL, il_worker, (void *)(intptr_t)(targets[i] * IN_FLIGHT + k));
  spot_remote_t *r[2] = {NULL, NULL};
  for (int i = 0; i < nnodes; i++) {
    pthread_mutex_lock(&il.mu);
    nd = &nodes[i];
    r[i] = client();
    pthread_mutex_unlock(&il.mu);
  }
  void *ctx, *req = baseline_client(&ctx);
  static uint64_t lat[TARGETS][CYCLES_IL * LAT_BLOCK];
  static double p50[TARGETS][ROUNDS_IL], ratio[2][ROUNDS_IL], one[TARGETS][ROUNDS_IL], four[TARGETS][ROUNDS_IL],
      eff[TARGETS][ROUNDS_IL];
  for (int round = 0; round < ROUNDS_IL; round++) {
    double ops1[TARGETS] = {0}, secs1[TARGETS] = {0}, ops4[TARGETS] = {0}, secs4[TARGETS] = {0};
    for (int c = 0; c < CYCLES_IL; c++)
      for (int j = 0; j < nt; j++) {
        int tg = targets[(j + c + round) % nt];
        il_lat_block(tg, tg < 2 ? r[tg] : NULL, req, &lat[tg][c * LAT_BLOCK]);
        il_rate_block(tg, 1, &ops1[tg], &secs1[tg]);
        il_rate_block(tg, IN_FLIGHT, &ops4[tg], &secs4[tg]);
      }
    for (int j = 0; j < nt; j++) {
      int tg = targets[j];
      qsort(lat[tg], CYCLES_IL * LAT_BLOCK, sizeof lat[tg][0], bench_cmp_u64);
      p50[tg][round] = bench_pct_us(lat[tg], CYCLES_IL * LAT_BLOCK, 0.5);
      one[tg][round] = ops1[tg] / secs1[tg];
      four[tg][round] = ops4[tg] / secs4[tg];
      eff[tg][round] = four[tg][round] / (IN_FLIGHT * one[tg][round]);
    }
    for (int i = 0; i < nnodes; i++)
      ratio[i][round] = p50[i][round] / p50[2][round];
    fprintf(stderr, "bench_net: round %d: bare %.1f us, put %.1f us (%.3fx)", round + 1, p50[2][round], p50[0][round],
            ratio[0][round]);
    if (nnodes > 1)
      fprintf(stderr, ", before %.1f us (%.3fx)", p50[1][round], ratio[1][round]);
    fprintf(stderr, "; 4 clients / 4x one: %.2f", eff[0][round]);
    if (nnodes > 1)
      fprintf(stderr, ", before %.2f", eff[1][round]);
    fprintf(stderr, ", bare %.2f (one client %.0f/s, bare %.0f/s)\n", eff[2][round], one[0][round], one[2][round]);
  }
  pthread_mutex_lock(&il.mu);
  il.quit = 1;
  pthread_cond_broadcast(&il.cv);
  pthread_mutex_unlock(&il.mu);
  for (int i = 0; i < nthreads; i++)
    pthread_join(t[i], NULL);
  for (int i = 0; i < nnodes; i++)
    spot_remote_free(r[i]);
  zmq_close(req);
  zmq_ctx_term(ctx);
  for (int i = 0; i < nnodes; i++) {
    printf("{\"name\":\"remote_interleaved\",\"spotd\":\"%s\",\"rounds\":%d,\"samples_per_round\":%d",
           i ? "before ($SPOT_SPOTD_BEFORE)" : "this build", ROUNDS_IL, CYCLES_IL * LAT_BLOCK);
    double b[ROUNDS_IL];
    memcpy(b, p50[2], sizeof b);
    min_median("baseline_p50_us", b, ROUNDS_IL, "%.2f");
    min_median("put_p50_us", p50[i], ROUNDS_IL, "%.2f");
    min_median("ratio_p50_to_baseline", ratio[i], ROUNDS_IL, "%.3f");
    min_median("one_client_ops_per_s", one[i], ROUNDS_IL, "%.0f");
    min_median("four_clients_ops_per_s", four[i], ROUNDS_IL, "%.0f");
    min_median("four_of_4x_one", eff[i], ROUNDS_IL, "%.3f");
    memcpy(b, eff[2], sizeof b);
    min_median("bare_four_of_4x_one", b, ROUNDS_IL, "%.3f");
    printf(",\"target_ratio\":1.15,\"target_four_of_4x_one\":0.85}\n");
  }
  fflush(stdout);
}

int main(int argc, char **argv) {
  const char *filter = argc > 1 ? argv[1] : "";
  if (strcmp(filter, "remote_interleaved") == 0) { /* only on request: about 30 s */
    baseline_start();
    const char *before = getenv("SPOT_SPOTD_BEFORE");
    int n = before && before[0] ? 2 : 1;
    for (int i = 0; i < n; i++) {
      nd = &nodes[i];
      node_up(i ? "SPOT_SPOTD_BEFORE" : "SPOT_SPOTD", i);
    }
    remote_interleaved(n);
    for (int i = 0; i < n; i++) {
      nd = &nodes[i];
      node_down();
    }
    baseline_stop();
    remove("/tmp/spot-bench-net-noop.c");
    return 0;
  }
  baseline(); /* always: the other figures are ratios to it */
  baseline_stop();
  int spot_figures = strstr("remote_put_rtt", filter) || strstr("remote_put_to_start", filter) ||
                     strstr("remote_puts_in_flight", filter) || strstr("remote_puts_pipelined", filter);
  if (!spot_figures)
    return 0;
  node_up("SPOT_SPOTD", 0);
  if (strstr("remote_put_rtt", filter))
    remote_put_rtt();
  if (strstr("remote_put_to_start", filter))
    remote_put_to_start();
  if (strstr("remote_puts_pipelined", filter))
    remote_puts_pipelined();
  if (strstr("remote_puts_in_flight", filter))
    remote_puts_in_flight();
  node_down();
  remove("/tmp/spot-bench-net-noop.c");
  return 0;
}
