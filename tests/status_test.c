/*
 * status_test.c: a node's counters and energy figures. In-process (thread mode, --watts 5): every end and fail event
 * carries the run's CPU time and energy = CPU x 5 W, spot_status_read counts runs and failures (a non-zero return
 * counts) in all and per handler, latency lands in the histogram, and after the node stops the namespace reads as
 * not served with the counters kept. With a real spotd (--metrics, --listen): a Prometheus scrape (curl) parses
 * (HELP and TYPE before every family, spot_* names, numeric values) and its counters move with puts; `spot status
 * --json` locally and over the network (the get right) agree; `spot trace` prints the total of a tree; a stopped
 * node makes `spot status` exit 3. Every wait is bounded.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/platform.h"
#include "spot.h"
#include "support.h"
#include "test.h"

static volatile unsigned sink;

static int st_ok(spot_ctx_t *ctx, const spot_event_t *ev) {
  (void)ctx, (void)ev;
  for (unsigned i = 0; i < 200000; i++) /* some CPU time to measure */
    sink += i;
  return 0;
}
SPOT_HANDLER(st_ok)

static int st_bad(spot_ctx_t *ctx, const spot_event_t *ev) {
  (void)ctx, (void)ev;
  return 7;
}
SPOT_HANDLER(st_bad)

/* 20 ms of this thread's CPU time, however long that takes on a loaded machine */
static int st_busy(spot_ctx_t *ctx, const spot_event_t *ev) {
  (void)ctx, (void)ev;
  uint64_t c0 = spot__thread_cpu_ns();
  while (spot__thread_cpu_ns() - c0 < 20000000u)
    for (unsigned i = 0; i < 1000; i++)
      sink += i;
  return 0;
}
SPOT_HANDLER(st_busy)

/* 200 ms asleep: no CPU */
static int st_sleep(spot_ctx_t *ctx, const spot_event_t *ev) {
  (void)ctx, (void)ev;
  spot__sleep_ns(200000000u);
  return 0;
}
SPOT_HANDLER(st_sleep)

static const spot_status_handler_t *handler_of(const spot_status_t *st, const char *name) {
  for (size_t i = 0; i < st->nhandlers; i++)
    if (strcmp(st->handlers[i].name, name) == 0)
      return &st->handlers[i];
  return NULL;
}

static void test_thread_counters(void) {
  const char *dir = spot_test_ns("status_thread", 64);
  CHECK(dir != NULL);
  spot_node_opts_t opts = {.mode = SPOT_MODE_THREAD, .workers = 2, .quiet = 1, .watts = 5.0};
  spot_node_t *node;
  CHECK_OK(spot_node_start(dir, &opts, &node));
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  uint64_t seq;
  for (int i = 0; i < 4; i++)
    CHECK_OK(spot_put(ns, "a", "x", 1, "st_ok", NULL, &seq));
  CHECK_OK(spot_put(ns, "b", "y", 1, "st_bad", NULL, &seq));
  CHECK_EQ(spot_test_wait_done(node, 5), 0);
  spot_status_t st;
  CHECK_OK(spot_status_read(ns, &st));
  CHECK(st.served == 1 && st.pid > 0 && st.mode == SPOT_MODE_THREAD && st.workers == 2);
  CHECK_EQ(st.runs, 5);
  CHECK_EQ(st.failures, 1);
  const spot_status_handler_t *ok = handler_of(&st, "st_ok"), *bad = handler_of(&st, "st_bad");
  CHECK(ok != NULL && bad != NULL);
  CHECK(ok->runs == 4 && ok->failures == 0 && ok->cpu_ns > 0);
  CHECK(bad->runs == 1 && bad->failures == 1);
  uint64_t lat = 0;
  for (unsigned b = 0; b < SPOT_STATUS_BUCKETS; b++)
    lat += st.latency[b];
  CHECK_EQ(lat, 5);
  CHECK(st.p50_ns > 0 && st.p99_ns >= st.p50_ns);
  int figure = st.power_source == SPOT_STATUS_POWER_FIGURE;
  if (figure) {
    CHECK_EQ(st.milliwatts, 5000);
    CHECK(ok->energy_nj == ok->cpu_ns * 5);
  }
  int found_a = 0;
  for (size_t i = 0; i < st.nlogs; i++)
    if (strcmp(st.logs[i].name, "a") == 0)
      found_a = st.logs[i].puts == 4 && st.logs[i].bytes > 0 && st.logs[i].bytes % 4 == 0;
  CHECK(found_a);
  spot_status_free(&st);
  /* every end and fail event carries its CPU time and energy */
  uint64_t lo, hi, ends = 0;
  CHECK_OK(spot_events_range(ns, &lo, &hi));
  for (uint64_t id = lo; id <= hi; id++) {
    spot_eventrec_t e;
    CHECK_OK(spot_events_read(ns, id, &e));
    if (e.type == SPOT_EVENT_END) {
      ends++;
      CHECK(e.cpu_ns > 0 && e.cpu_ns <= e.duration_ns + 1000000);
      if (figure)
        CHECK(e.energy_nj == e.cpu_ns * 5);
    }
    if (e.type == SPOT_EVENT_FAIL)
      CHECK(e.status == 7 && (!figure || e.energy_nj == e.cpu_ns * 5));
  }
  CHECK_EQ(ends, 4);
  CHECK_OK(spot_node_stop(node));
  CHECK_OK(spot_status_read(ns, &st));
  CHECK(st.served == 0 && st.runs == 5 && st.pid > 0);
  spot_status_free(&st);
  spot_ns_close(ns);
}

/* The CPU time a run is charged (dispatch/cpumeter.h): a busy run is charged at least its CPU time and at most its
 * duration; a sleeping run far less than its duration (its CPU time plus at most the meter's refresh period and a
 * little dispatch work; the bound checked is 50 ms of 200, loose enough for any load). One thread, so the runs
 * alternate on it: each sleeper follows a busy run. */
static void test_cpu_charge(void) {
  const char *dir = spot_test_ns("status_cpu", 64);
  CHECK(dir != NULL);
  spot_node_opts_t opts = {.mode = SPOT_MODE_THREAD, .workers = 1, .quiet = 1, .watts = 5.0};
  spot_node_t *node;
  CHECK_OK(spot_node_start(dir, &opts, &node));
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  uint64_t seq;
  for (int i = 0; i < 2; i++) {
    CHECK_OK(spot_put(ns, "a", "x", 1, "st_busy", NULL, &seq));
    CHECK_OK(spot_put(ns, "a", "y", 1, "st_sleep", NULL, &seq));
    for (int k = 0; k < 50; k++)
      CHECK_OK(spot_put(ns, "a", "z", 1, "st_bad", NULL, &seq)); /* short runs in between */
  }
  CHECK_EQ(spot_test_wait_done(node, 104), 0);
  uint64_t lo, hi;
  unsigned busy = 0, slept = 0;
  CHECK_OK(spot_events_range(ns, &lo, &hi));
  for (uint64_t id = lo; id <= hi; id++) {
    spot_eventrec_t e;
    CHECK_OK(spot_events_read(ns, id, &e));
    if (e.type != SPOT_EVENT_END)
      continue;
    if (strcmp(e.handler, "st_busy") == 0) {
      busy++;
      CHECK(e.cpu_ns >= 20000000u && e.cpu_ns <= e.duration_ns + e.duration_ns / 100);
    } else if (strcmp(e.handler, "st_sleep") == 0) {
      slept++;
      CHECK(e.duration_ns >= 200000000u && e.cpu_ns < 50000000u);
    }
  }
  CHECK(busy == 2 && slept == 2);
  CHECK_OK(spot_node_stop(node));
  spot_ns_close(ns);
}

/* ---- a real spotd ---- */

static char root[4096], nsdir[4200];

static int sh(char *out, size_t cap, const char *fmt, const char *a1, const char *a2) {
  char err[4096];
  return spot_test_sh(out, cap, err, sizeof err, fmt, a1, a2);
}

/* The value of the sample line `name` (with its labels, exactly) in a scrape, or -1. */
static double sample(const char *text, const char *name) {
  size_t n = strlen(name);
  for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
    if (strncmp(p, name, n) == 0 && p[n] == ' ')
      return strtod(p + n + 1, NULL);
  return -1;
}

/* The Prometheus text format as spotd writes it: every sample's family has HELP and TYPE lines before it, names
 * start with spot_, values are numbers. 0 or -1. */
static int parses(const char *text) {
  char family[128] = "";
  int typed = 0, samples = 0;
  for (const char *p = text; *p;) {
    const char *end = strchr(p, '\n');
    if (end == NULL)
      return -1; /* every line ends with a newline */
    char line[512];
    size_t len = (size_t)(end - p);
    if (len >= sizeof line)
      return -1;
    memcpy(line, p, len);
    line[len] = '\0';
    p = end + 1;
    if (strncmp(line, "# HELP ", 7) == 0) {
      sscanf(line + 7, "%127s", family);
      typed = 0;
    } else if (strncmp(line, "# TYPE ", 7) == 0) {
      char name[128], type[32];
      if (sscanf(line + 7, "%127s %31s", name, type) != 2 || strcmp(name, family) != 0)
        return -1;
      if (strcmp(type, "counter") && strcmp(type, "gauge") && strcmp(type, "histogram"))
        return -1;
      typed = 1;
    } else {
      size_t fl = strlen(family);
      if (!typed || strncmp(line, "spot_", 5) != 0 || strncmp(line, family, fl) != 0)
        return -1;
      char *sp = strrchr(line, ' ');
      char *num_end;
      if (sp == NULL || (strtod(sp + 1, &num_end), num_end == sp + 1 || *num_end != '\0'))
        return -1;
      samples++;
    }
  }
  return samples > 10 ? 0 : -1;
}

static int scrape(int port, char *out, size_t cap) {
  char cmd[128], err[256];
  snprintf(cmd, sizeof cmd, "curl -sf http://127.0.0.1:%d/metrics", port);
  return spot_test_sh(out, cap, err, sizeof err, "%s", cmd);
}

static void test_spotd_metrics_remote(void) {
  if (!spot_test_have("curl")) {
    printf("skip: curl is not installed (apt install curl)\n");
    exit(77);
  }
  const char *spot = spot_test_bin(), *spotd = getenv("SPOTD_BIN");
  char out[65536], err[4096];
  snprintf(root, sizeof root, "%s", spot_test_dir("status_spotd"));
  snprintf(nsdir, sizeof nsdir, "%s/ns", root);
  char src[4400];
  snprintf(src, sizeof src, "%s/sth.c", root);
  FILE *f = fopen(src, "w");
  CHECK(f != NULL);
  fputs("#include <spot/handler.h>\n"
        "static int ok(spot_ctx_t *c, const spot_event_t *e) { (void)c; (void)e; return 0; }\nSPOT_HANDLER(ok)\n"
        "static int bad(spot_ctx_t *c, const spot_event_t *e) { (void)c; (void)e; return -3; }\nSPOT_HANDLER(bad)\n",
        f);
  fclose(f);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err,
                        "cd %s && %s init %s >/dev/null && %s -n %s build-handler %s >/dev/null && %s -n %s create x "
                        "--size 16 --history 64 >/dev/null && %s keygen node >/dev/null && %s keygen operator >/dev/null",
                        root, spot, nsdir, spot, nsdir, src, spot, nsdir, spot, spot),
           0);
  char path[4500], pub[256];
  snprintf(path, sizeof path, "%s/operator.pub", root);
  f = fopen(path, "r");
  CHECK(f != NULL && fgets(pub, sizeof pub, f) != NULL);
  fclose(f);
  pub[strcspn(pub, "\r\n ")] = '\0';
  snprintf(path, sizeof path, "%s/access", nsdir);
  f = fopen(path, "w");
  CHECK(f != NULL);
  fprintf(f, "%s get  # operator\n", pub);
  fclose(f);
  int mport = spot_test_free_port(), lport = spot_test_free_port();
  CHECK(mport > 0 && lport > 0 && mport != lport);
  int pid = spot_test_spawn("%s -n %s --quiet --mode thread --watts 5 --metrics 127.0.0.1:%d --listen 127.0.0.1:%d "
                            "--key %s/node.key 2>%s/spotd.err",
                            spotd, nsdir, mport, lport, root, root);
  CHECK(pid > 0);
  if (spot_test_wait_port(mport, 10000) != 0) {
    char msg[512] = "";
    snprintf(path, sizeof path, "%s/spotd.err", root);
    f = fopen(path, "r");
    if (f) {
      size_t n = fread(msg, 1, sizeof msg - 1, f);
      msg[n] = '\0';
      fclose(f);
    }
    if (strstr(msg, "without libmicrohttpd")) {
      printf("skip: %s", msg);
      spot_test_stop_all();
      exit(77);
    }
    fprintf(stderr, "  spotd did not serve metrics: %s\n", msg);
    CHECK(0);
  }
  CHECK_EQ(spot_test_wait_port(lport, 10000), 0);
  CHECK_EQ(scrape(mport, out, sizeof out), 0);
  CHECK_OK(parses(out));
  CHECK(sample(out, "spot_runs_total") == 0);
  CHECK(sample(out, "spot_log_puts_total{log=\"x\"}") == 0);
  /* a short loop of puts: the counters move */
  CHECK_EQ(sh(out, sizeof out, "for i in 1 2 3 4; do %s -n %s put x --data hi --handler ok >/dev/null || exit 1; done",
              spot, nsdir), 0);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s put x --data no --handler bad >/dev/null", spot,
                        nsdir), 0);
  double runs = 0;
  for (int i = 0; i < 400 && runs < 5; i++) { /* at most 20 s */
    CHECK_EQ(scrape(mport, out, sizeof out), 0);
    runs = sample(out, "spot_runs_total");
    if (runs < 5)
      spot_test_sh(err, sizeof err, err, sizeof err, "sleep 0.05");
  }
  CHECK_OK(parses(out));
  CHECK(runs == 5);
  CHECK(sample(out, "spot_failures_total") == 1);
  CHECK(sample(out, "spot_handler_runs_total{handler=\"ok\"}") == 4);
  CHECK(sample(out, "spot_handler_failures_total{handler=\"bad\"}") == 1);
  CHECK(sample(out, "spot_log_puts_total{log=\"x\"}") == 5);
  CHECK(sample(out, "spot_log_bytes_total{log=\"x\"}") == 80);
  CHECK(sample(out, "spot_put_start_latency_seconds_count") == 5);
  CHECK(sample(out, "spot_put_start_latency_seconds_bucket{le=\"+Inf\"}") == 5);
  CHECK(sample(out, "spot_cpu_seconds_total") > 0);
  if (strstr(out, "power=\"figure\""))
    CHECK(sample(out, "spot_power_watts") == 5);
  /* spot status, here and over the network, says the same */
  CHECK_EQ(sh(out, sizeof out, "%s status %s --json", spot, nsdir), 0);
  CHECK(strstr(out, "\"served\":true") && strstr(out, "\"runs\":5,\"failures\":1") && strstr(out, "\"mode\":\"thread\""));
  CHECK(strstr(out, "{\"name\":\"x\",\"puts\":5,\"bytes\":80}") != NULL);
  char cmd[8400];
  snprintf(cmd, sizeof cmd, "SPOT_KEY=%s/operator.key SPOT_NODE_KEY=%s/node.pub %s status spot://127.0.0.1:%d/ns --json",
           root, root, spot, lport);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s", cmd), 0);
  CHECK(strstr(out, "\"served\":true") && strstr(out, "\"runs\":5,\"failures\":1"));
  CHECK(strstr(out, "{\"name\":\"ok\",\"id\":1,\"runs\":4,\"failures\":0") != NULL);
  /* the trace of one put shows its run's energy and the tree's total */
  CHECK_EQ(sh(out, sizeof out, "%s -n %s trace x 1", spot, nsdir), 0);
  CHECK(strstr(out, "uJ") != NULL && strstr(out, "total: 1 run, cpu") != NULL);
  CHECK_EQ(spot_test_stop(pid, SIGTERM), 0);
  CHECK_EQ(sh(out, sizeof out, "%s status %s; echo rc=$?", spot, nsdir), 0);
  CHECK(strstr(out, "NOT served") != NULL && strstr(out, "rc=3") != NULL);
}

static const spot_test_t tests[] = {
    {"thread_counters", test_thread_counters},
    {"cpu_charge", test_cpu_charge},
    {"spotd_metrics_remote", test_spotd_metrics_remote},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
