/*
 * bench_bridge.c: the bridges' throughput and latency (issue 13, part 5), each against the bare broker measured in
 * the same run, as JSON lines:
 *   mqtt_to_handler_latency  one message at a time: mosquitto_publish (QoS 1) -> spotd's MQTT bridge -> put to log a
 *                            -> handler bench_noop starts (start event time minus the publish time carried in the
 *                            payload); baseline: publish -> a bare subscriber's callback, same broker
 *   mqtt_to_handler_rate     N messages published as fast as QoS 1 allows, until every handler has ended
 *                            (messages/s); baseline: N messages published -> received by a bare subscriber. Log a
 *                            is `--sync batch`: each PUBACK waits for the sync that covers its put (one at a time:
 *                            libmosquitto calls back message after message)
 *   mqtt_to_handler_rate_sync_none  the same into log f, `--sync none` (no fdatasync: survives a killed spotd, not
 *                            a power cut): what the bridge costs without the disk
 *   log_to_mqtt_rate         N puts to log b bridged to a topic, until a subscriber has all (messages/s); baseline
 *                            as above
 *   log_to_jetstream_rate    `spot mirror` of a log of N elements into a JetStream stream (messages/s, in process:
 *                            spot_bridge_mirror_run); baseline: the same N messages published asynchronously with
 *                            libnats (with message ids) into another stream of the same server
 *   pool_runs_rate           N puts to a pooled log (`spotd --pool`) whose handler bench_work does a fixed amount
 *                            of work (about 100 us of arithmetic), until the pool's done stream holds N records
 *                            (runs/s), with 1, 2 and 4 members (spotd processes on this host, 2 worker threads
 *                            each, member 0 feeding); baseline: the same N puts naming bench_work on one local spotd
 *                            (2 worker threads), until N runs have ended. All members share this host's cores, so
 *                            the ratio says what the pool's round trips cost, not what more hosts would add
 * It starts mosquitto, nats-server -js and spotd itself on 127.0.0.1 (free ports, scratch under SPOT_BENCH_DIR or
 * /tmp, removed at the end). Environment: SPOT_SPOTD, SPOT_CLI (default: beside this program's parent directory,
 * as in a build tree), SPOT_BENCH_N (default 20000), SPOT_BENCH_LAT_N (default 2000), SPOT_BENCH_POOL_N (default
 * 5000). Argument: a substring to run
 * only the figures named so.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bridge/bridge.h"
#include "common.h"
#include "spot.h"

static char g_dir[4096], g_ns[4200], g_spotd[4200], g_cli[4200];
static int g_mqtt_port, g_nats_port;
static const char *g_filter;
static pid_t g_pids[16];
static int g_npids;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int want(const char *figure) {
  return g_filter == NULL || strstr(figure, g_filter) != NULL;
}

static int sh(const char *fmt, ...) {
  char cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int st = system(cmd);
  return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static pid_t spawn(const char *fmt, ...) {
  char cmd[8192], full[8300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  snprintf(full, sizeof full, "exec %s", cmd);
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", full, (char *)NULL);
    _exit(127);
  }
  if (pid > 0 && g_npids < 16)
    g_pids[g_npids++] = pid;
  return pid;
}

static void stop_all(void) {
  for (int i = g_npids - 1; i >= 0; i--) {
    kill(g_pids[i], SIGTERM);
    waitpid(g_pids[i], NULL, 0);
  }
  g_npids = 0;
}

static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  int port = -1;
  if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0)
    close(fd);
  return port;
}

static int wait_port(int port) {
  for (int i = 0; i < 500; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                            .sin_port = htons((uint16_t)port)};
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    if (ok)
      return 0;
    usleep(20000);
  }
  return -1;
}

/* ---- a bare MQTT client ---- */

typedef struct client {
  struct mosquitto *m;
  volatile uint64_t received;
  volatile uint64_t last_latency_ns; /* for payloads carrying a publish time */
} client_t;

static void on_msg(struct mosquitto *m, void *obj, const struct mosquitto_message *msg) {
  (void)m;
  client_t *c = obj;
  if (msg->payloadlen >= 8) {
    uint64_t t;
    memcpy(&t, msg->payload, 8);
    c->last_latency_ns = now_ns() - t;
  }
  __atomic_add_fetch(&c->received, 1, __ATOMIC_SEQ_CST);
}

static int client_open(client_t *c, const char *id, const char *sub) {
  memset(c, 0, sizeof *c);
  c->m = mosquitto_new(id, true, c);
  if (c->m == NULL)
    return -1;
  mosquitto_int_option(c->m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  mosquitto_int_option(c->m, MOSQ_OPT_SEND_MAXIMUM, 1000);
  mosquitto_message_callback_set(c->m, on_msg);
  if (mosquitto_connect(c->m, "127.0.0.1", g_mqtt_port, 60) != MOSQ_ERR_SUCCESS ||
      mosquitto_loop_start(c->m) != MOSQ_ERR_SUCCESS)
    return -1;
  if (sub && mosquitto_subscribe(c->m, NULL, sub, 1) != MOSQ_ERR_SUCCESS)
    return -1;
  usleep(200 * 1000); /* the SUBACK */
  return 0;
}

static void client_close(client_t *c) {
  mosquitto_disconnect(c->m);
  mosquitto_loop_stop(c->m, false);
  mosquitto_destroy(c->m);
}

static void publish_ts(client_t *c, const char *topic) {
  uint8_t p[16] = {0};
  uint64_t t = now_ns();
  memcpy(p, &t, 8);
  while (mosquitto_publish(c->m, NULL, topic, 16, p, 1, false) == MOSQ_ERR_OVERSIZE_PACKET)
    ;
}

static int wait_count(volatile uint64_t *v, uint64_t n, int seconds) {
  for (int i = 0; i < seconds * 10000 && __atomic_load_n(v, __ATOMIC_SEQ_CST) < n; i++)
    usleep(100);
  return *v >= n ? 0 : -1;
}

/* ---- figures ---- */

static int events_latest(spot_ns_t *ns, uint64_t *latest) {
  return spot_events_range(ns, NULL, latest);
}

static void mqtt_latency(spot_ns_t *ns, client_t *pub, client_t *raw, int n) {
  /* baseline: publish -> bare subscriber, one at a time */
  uint64_t *base = calloc((size_t)n, 8), *lat = calloc((size_t)n, 8);
  for (int i = 0; i < n; i++) {
    uint64_t before = raw->received;
    publish_ts(pub, "raw/t");
    if (wait_count(&raw->received, before + 1, 10) != 0)
      return;
    base[i] = raw->last_latency_ns;
  }
  /* spot: publish -> bridge -> put -> handler start (read back from the event log) */
  spot_log_t *a;
  if (spot_ns_open_log(ns, "a", 0, &a, NULL) != 0)
    return;
  uint64_t first_ev = 0, s0 = 0;
  events_latest(ns, &first_ev);
  spot_log_latest(a, &s0);
  for (int i = 0; i < n; i++) {
    publish_ts(pub, "dev/1/t");
    if (spot_log_wait_newer(a, s0 + (uint64_t)i, 10 * 1000000000ull) != 0)
      return;
  }
  usleep(200 * 1000);
  uint64_t last_ev = 0;
  events_latest(ns, &last_ev);
  int k = 0;
  for (uint64_t id = first_ev + 1; id <= last_ev && k < n; id++) {
    spot_eventrec_t e;
    uint8_t el[16];
    if (spot_events_read(ns, id, &e) != 0 || e.type != SPOT_EVENT_START || strcmp(e.log, "a") != 0)
      continue;
    if (spot_log_read(a, e.seq, el, sizeof el) != 0)
      continue;
    uint64_t t;
    memcpy(&t, el, 8);
    lat[k++] = e.time_ns - t;
  }
  spot_log_close(a);
  qsort(base, (size_t)n, 8, bench_cmp_u64);
  qsort(lat, (size_t)k, 8, bench_cmp_u64);
  if (k == 0)
    return;
  printf("{\"bench\":\"bridge\",\"figure\":\"mqtt_to_handler_latency\",\"n\":%d,\"p50_us\":%.1f,\"p99_us\":%.1f,"
         "\"baseline_p50_us\":%.1f,\"baseline_p99_us\":%.1f,\"ratio_p50\":%.2f}\n",
         k, lat[k / 2] / 1e3, lat[k * 99 / 100] / 1e3, base[n / 2] / 1e3, base[n * 99 / 100] / 1e3,
         (double)lat[k / 2] / (double)base[n / 2]);
  fflush(stdout);
  free(base);
  free(lat);
}

static double raw_rate(client_t *pub, client_t *raw, int n) {
  uint64_t before = raw->received, t0 = now_ns();
  for (int i = 0; i < n; i++)
    publish_ts(pub, "raw/t");
  if (wait_count(&raw->received, before + (uint64_t)n, 60) != 0)
    return 0;
  return n / ((now_ns() - t0) / 1e9);
}

static void mqtt_rate(spot_ns_t *ns, client_t *pub, client_t *raw, int n, const char *figure, const char *topic) {
  double base = raw_rate(pub, raw, n);
  uint64_t ev0 = 0;
  events_latest(ns, &ev0);
  uint64_t t0 = now_ns();
  for (int i = 0; i < n; i++)
    publish_ts(pub, topic);
  uint64_t want_ev = ev0 + 3ull * (uint64_t)n, ev = 0; /* put, start, end per message */
  for (int i = 0; i < 600000 && (events_latest(ns, &ev), ev < want_ev); i++)
    usleep(100);
  if (ev < want_ev)
    return;
  double rate = n / ((now_ns() - t0) / 1e9);
  printf("{\"bench\":\"bridge\",\"figure\":\"%s\",\"n\":%d,\"msgs_per_s\":%.0f,"
         "\"baseline_msgs_per_s\":%.0f,\"ratio\":%.2f}\n", figure, n, rate, base, rate / base);
  fflush(stdout);
}

static void log_to_mqtt(spot_ns_t *ns, client_t *pub, client_t *raw, client_t *out, int n) {
  double base = raw_rate(pub, raw, n);
  uint64_t before = out->received, t0 = now_ns();
  for (int i = 0; i < n; i++) {
    uint8_t p[16] = {0};
    if (spot_put(ns, "b", p, sizeof p, NULL, NULL, NULL) != 0)
      return;
  }
  if (wait_count(&out->received, before + (uint64_t)n, 60) != 0)
    return;
  double rate = n / ((now_ns() - t0) / 1e9);
  printf("{\"bench\":\"bridge\",\"figure\":\"log_to_mqtt_rate\",\"n\":%d,\"msgs_per_s\":%.0f,"
         "\"baseline_msgs_per_s\":%.0f,\"ratio\":%.2f}\n", n, rate, base, rate / base);
  fflush(stdout);
}

static void log_to_jetstream(spot_ns_t *ns, int n) {
  for (int i = 0; i < n; i++) {
    uint8_t p[16] = {0};
    snprintf((char *)p, sizeof p, "m%d", i);
    if (spot_put(ns, "c", p, sizeof p, NULL, NULL, NULL) != 0)
      return;
  }
  /* baseline: the same messages straight into another stream with libnats */
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  char url[128];
  snprintf(url, sizeof url, "nats://127.0.0.1:%d", g_nats_port);
  if (natsConnection_ConnectTo(&nc, url) != NATS_OK)
    return;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = 256;
  natsConnection_JetStream(&js, nc, &jo);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  const char *subj[1] = {"raw.c"};
  cfg.Name = "RAW";
  cfg.Subjects = subj;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  if (js_AddStream(&si, js, &cfg, NULL, &jerr) != NATS_OK)
    return;
  jsStreamInfo_Destroy(si);
  uint64_t t0 = now_ns();
  for (int i = 0; i < n; i++) {
    natsMsg *m = NULL;
    char id[64], p[16] = {0};
    snprintf(p, sizeof p, "m%d", i);
    snprintf(id, sizeof id, "raw-%d", i);
    natsMsg_Create(&m, "raw.c", NULL, p, sizeof p);
    natsMsgHeader_Set(m, "Nats-Msg-Id", id);
    js_PublishMsgAsync(js, &m, NULL);
    natsMsg_Destroy(m);
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 60000;
  js_PublishAsyncComplete(js, &po);
  double base = n / ((now_ns() - t0) / 1e9);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  snprintf(url, sizeof url, "nats://127.0.0.1:%d/MIRROR", g_nats_port);
  spot_bridge_mirror_opts_t o = {.url = url, .log = "c", .quiet = 1};
  spot_bridge_mirror_stats_t st;
  t0 = now_ns();
  if (spot_bridge_mirror_run(g_ns, &o, &st) != 0 || st.published != (uint64_t)n) {
    fprintf(stderr, "bench_bridge: mirror: %s\n", spot_errdetail());
    return;
  }
  double rate = n / ((now_ns() - t0) / 1e9);
  printf("{\"bench\":\"bridge\",\"figure\":\"log_to_jetstream_rate\",\"n\":%d,\"msgs_per_s\":%.0f,"
         "\"baseline_msgs_per_s\":%.0f,\"ratio\":%.2f}\n", n, rate, base, rate / base);
  fflush(stdout);
}

/* ---- handler pools ---- */

/* Waits (60 s at most) until stream exists and holds n messages: 0, or -1. */
static int wait_stream(jsCtx *js, const char *stream, uint64_t n) {
  for (int i = 0; i < 60 * 500; i++) {
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    int have = js_GetStreamInfo(&si, js, stream, NULL, &jerr) == NATS_OK && si->State.Msgs >= n;
    jsStreamInfo_Destroy(si);
    if (have)
      return 0;
    usleep(2000);
  }
  return -1;
}

/* Waits (60 s at most) until log `out` of namespace dir holds n elements: 0, or -1. */
static int wait_log(const char *dir, const char *log, uint64_t n) {
  spot_ns_t *ns;
  spot_log_t *lg;
  if (spot_ns_open(dir, NULL, &ns) != 0)
    return -1;
  int rc = -1;
  if (spot_ns_open_log(ns, log, 0, &lg, NULL) == 0) {
    for (int i = 0; i < 60 * 500 && rc != 0; i++) {
      uint64_t last = 0;
      if (spot_log_latest(lg, &last) == 0 && last >= n)
        rc = 0;
      else
        usleep(2000);
    }
    spot_log_close(lg);
  }
  spot_ns_close(ns);
  return rc;
}

/* Makes namespace DIR/pI with the bench handlers and logs w (pooled) and out (what bench_work writes). */
static int pool_ns(int i, const char *handler_src, int n, char *out, size_t cap) {
  snprintf(out, cap, "%s/p%d", g_dir, i);
  return sh("%s init %s >/dev/null && %s -n %s build-handler %s >/dev/null && %s -n %s create w --size 16 --history %d "
            "&& %s -n %s create out --size 16 --history %d", g_cli, out, g_cli, out, handler_src, g_cli, out, 2 * n,
            g_cli, out, 2 * n);
}

static void pool_rate(int n, const char *handler_src) {
  /* baseline: one local spotd runs the N puts itself */
  char dir[4300];
  if (pool_ns(9, handler_src, n, dir, sizeof dir) != 0)
    return;
  int first = g_npids;
  spawn("%s -n %s --quiet --mode thread --workers 2", g_spotd, dir);
  usleep(500 * 1000);
  spot_ns_t *ns;
  if (spot_ns_open(dir, NULL, &ns) != 0)
    return;
  uint64_t t0 = now_ns();
  for (int i = 0; i < n; i++) {
    uint8_t p[16] = {0};
    snprintf((char *)p, sizeof p, "m%d", i);
    if (spot_put(ns, "w", p, sizeof p, "bench_work", NULL, NULL) != 0)
      return;
  }
  if (wait_log(dir, "out", (uint64_t)n) != 0)
    return;
  double base = n / ((now_ns() - t0) / 1e9);
  spot_ns_close(ns);
  for (int i = g_npids - 1; i >= first; i--) {
    kill(g_pids[i], SIGTERM);
    waitpid(g_pids[i], NULL, 0);
  }
  g_npids = first;
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  char url[128];
  snprintf(url, sizeof url, "nats://127.0.0.1:%d", g_nats_port);
  if (natsConnection_ConnectTo(&nc, url) != NATS_OK || natsConnection_JetStream(&js, nc, NULL) != NATS_OK)
    return;
  static const int sizes[3] = {1, 2, 4};
  for (int k = 0; k < 3; k++) {
    int members = sizes[k];
    char dirs[4][4300], name[16], stream[48];
    snprintf(name, sizeof name, "bench%d", members);
    snprintf(stream, sizeof stream, "SPOT_POOL_%s_DONE", name);
    first = g_npids;
    for (int i = 0; i < members; i++) {
      if (pool_ns(10 * members + i, handler_src, n, dirs[i], sizeof dirs[i]) != 0)
        goto done;
      spawn("%s -n %s --quiet --mode thread --workers 2 --timeout-ms 10000 --pool %s --pool-name %s "
            "--pool-log w:bench_work --pool-role %s", g_spotd, dirs[i], url, name, i == 0 ? "both" : "work");
    }
    if (wait_stream(js, stream, 0) != 0) /* the pool's streams exist once member 0 has joined */
      goto done;
    usleep(1000 * 1000);
    if (spot_ns_open(dirs[0], NULL, &ns) != 0)
      goto done;
    t0 = now_ns();
    for (int i = 0; i < n; i++) {
      uint8_t p[16] = {0};
      snprintf((char *)p, sizeof p, "m%d", i);
      if (spot_put(ns, "w", p, sizeof p, NULL, NULL, NULL) != 0)
        break;
    }
    spot_ns_close(ns);
    if (wait_stream(js, stream, (uint64_t)n) != 0) {
      fprintf(stderr, "bench_bridge: pool of %d: the done stream did not reach %d\n", members, n);
      goto done;
    }
    double rate = n / ((now_ns() - t0) / 1e9);
    printf("{\"bench\":\"bridge\",\"figure\":\"pool_runs_rate\",\"members\":%d,\"n\":%d,\"runs_per_s\":%.0f,"
           "\"baseline_local_runs_per_s\":%.0f,\"ratio\":%.2f}\n", members, n, rate, base, rate / base);
    fflush(stdout);
    for (int i = g_npids - 1; i >= first; i--) {
      kill(g_pids[i], SIGTERM);
      waitpid(g_pids[i], NULL, 0);
    }
    g_npids = first;
  }
done:
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

static void locate(char *out, size_t cap, const char *envname, const char *self, const char *name) {
  const char *e = getenv(envname);
  if (e) {
    snprintf(out, cap, "%s", e);
    return;
  }
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", self);
  char *slash = strrchr(buf, '/');
  if (slash)
    *slash = '\0';
  slash = strrchr(buf, '/');
  if (slash)
    *slash = '\0';
  snprintf(out, cap, "%s/%s", buf, name);
}

int main(int argc, char **argv) {
  g_filter = argc > 1 ? argv[1] : NULL;
  int n = getenv("SPOT_BENCH_N") ? atoi(getenv("SPOT_BENCH_N")) : 20000;
  int lat_n = getenv("SPOT_BENCH_LAT_N") ? atoi(getenv("SPOT_BENCH_LAT_N")) : 2000;
  int pool_n = getenv("SPOT_BENCH_POOL_N") ? atoi(getenv("SPOT_BENCH_POOL_N")) : 5000;
  char self[4096];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  self[len > 0 ? len : 0] = '\0';
  locate(g_spotd, sizeof g_spotd, "SPOT_SPOTD", self, "spotd");
  locate(g_cli, sizeof g_cli, "SPOT_CLI", self, "spot");
  const char *base = getenv("SPOT_BENCH_DIR") ? getenv("SPOT_BENCH_DIR") : "/tmp";
  snprintf(g_dir, sizeof g_dir, "%s/spot-bench-bridge-XXXXXX", base);
  if (mkdtemp(g_dir) == NULL)
    return fprintf(stderr, "bench_bridge: cannot make a scratch directory under %s\n", base), 1;
  snprintf(g_ns, sizeof g_ns, "%s/ns", g_dir);
  const char *src = "#include <spot/handler.h>\n"
                    "static int bench_noop(spot_ctx_t *ctx, const spot_event_t *ev) { (void)ctx; (void)ev; return 0; }\n"
                    "SPOT_HANDLER(bench_noop)\n"
                    "static int bench_work(spot_ctx_t *ctx, const spot_event_t *ev) {\n"
                    "  volatile unsigned long long x = ev->seq;\n"
                    "  for (int i = 0; i < 100000; i++) x = x * 6364136223846793005ull + 1442695040888963407ull;\n"
                    "  return spot_ctx_put(ctx, \"out\", ev->data, ev->size, NULL, NULL);\n"
                    "}\n"
                    "SPOT_HANDLER(bench_work)\n";
  char path[4300];
  snprintf(path, sizeof path, "%s/bench_noop.c", g_dir);
  FILE *f = fopen(path, "w");
  fputs(src, f);
  fclose(f);
  int hist = (n + lat_n) * 4;
  if (sh("%s init %s >/dev/null && %s -n %s build-handler %s >/dev/null && %s -n %s create a --size 16 --history %d "
         "--sync batch && %s -n %s create f --size 16 --history %d --sync none && %s -n %s create b --size 16 --history %d && %s -n %s create c --size 16 --history %d",
         g_cli, g_ns, g_cli, g_ns, path, g_cli, g_ns, hist, g_cli, g_ns, hist, g_cli, g_ns, hist, g_cli, g_ns,
         hist) != 0)
    return fprintf(stderr, "bench_bridge: cannot make the namespace with %s\n", g_cli), 1;
  g_mqtt_port = free_port();
  g_nats_port = free_port();
  char conf[4300];
  snprintf(conf, sizeof conf, "%s/mosquitto.conf", g_dir);
  f = fopen(conf, "w");
  fprintf(f, "user root\nlistener %d 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n"
             "max_inflight_messages 0\n", g_mqtt_port);
  fclose(f);
  spawn("/usr/sbin/mosquitto -c %s 2>/dev/null", conf);
  spawn("/usr/sbin/nats-server -js -a 127.0.0.1 -p %d -sd %s/js >/dev/null 2>&1", g_nats_port, g_dir);
  if (wait_port(g_mqtt_port) != 0 || wait_port(g_nats_port) != 0) {
    stop_all();
    return fprintf(stderr, "bench_bridge: mosquitto or nats-server did not start (installed?)\n"), 1;
  }
  spawn("%s -n %s --quiet --mode thread --workers 2 --mqtt 127.0.0.1:%d --bridge 'a<-dev/+/t:bench_noop' "
        "--bridge 'f<-fast/+/t:bench_noop' --bridge 'b->out/b'", g_spotd, g_ns, g_mqtt_port);
  usleep(1000 * 1000);
  mosquitto_lib_init();
  spot_ns_t *ns;
  client_t pub, raw, out;
  if (spot_ns_open(g_ns, NULL, &ns) != 0 || client_open(&pub, "bench-pub", NULL) != 0 ||
      client_open(&raw, "bench-raw", "raw/t") != 0 || client_open(&out, "bench-out", "out/b") != 0) {
    stop_all();
    return fprintf(stderr, "bench_bridge: cannot set up the clients\n"), 1;
  }
  if (want("mqtt_to_handler_latency"))
    mqtt_latency(ns, &pub, &raw, lat_n);
  if (want("mqtt_to_handler_rate"))
    mqtt_rate(ns, &pub, &raw, n, "mqtt_to_handler_rate", "dev/1/t");
  if (want("mqtt_to_handler_rate_sync_none"))
    mqtt_rate(ns, &pub, &raw, n, "mqtt_to_handler_rate_sync_none", "fast/1/t");
  if (want("log_to_mqtt_rate"))
    log_to_mqtt(ns, &pub, &raw, &out, n);
  if (want("log_to_jetstream_rate"))
    log_to_jetstream(ns, n);
  if (want("pool_runs_rate"))
    pool_rate(pool_n, path);
  client_close(&pub);
  client_close(&raw);
  client_close(&out);
  spot_ns_close(ns);
  stop_all();
  mosquitto_lib_cleanup();
  nats_Close();
  sh("rm -rf %s", g_dir);
  return 0;
}
