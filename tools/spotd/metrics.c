/*
 * metrics.c: `spotd --metrics HOST:PORT`: the node's status (spot/status.h) in the Prometheus text format
 * (version 0.0.4), served over HTTP by libmicrohttpd on its own thread: GET /metrics (any other path is 404).
 * Every scrape reads the status file afresh, so what it shows is what `spot status` shows. Names: spot_*, with
 * HELP and TYPE lines; counters end in _total; the put-to-start latency is a histogram in seconds. A spotd built
 * without libmicrohttpd refuses --metrics with a line that says so.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spot.h"
#include "spotd.h"

/* The text of one scrape of dir's node, in a malloc'd buffer (*len bytes), or NULL. */
typedef struct buf {
  char *p;
  size_t n, cap;
  int bad;
} buf_t;

static void add(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(buf_t *b, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = b->bad ? 0 : vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (b->bad || n < 0) {
      b->bad = 1;
      return;
    }
    if ((size_t)n < b->cap - b->n) {
      b->n += (size_t)n;
      return;
    }
    size_t cap = b->cap * 2 + (size_t)n;
    char *p = realloc(b->p, cap);
    if (p == NULL) {
      b->bad = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
}

static void head(buf_t *b, const char *name, const char *type, const char *help) {
  add(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *spotd_metrics_text(const char *dir, size_t *len) {
  spot_ns_t *ns;
  spot_status_t st;
  if (spot_ns_open(dir, NULL, &ns) != 0)
    return NULL;
  int rc = spot_status_read(ns, &st);
  spot_ns_close(ns);
  if (rc != 0)
    return NULL;
  buf_t b = {malloc(4096), 0, 4096, 0};
  if (b.p == NULL)
    b.bad = 1;
  char node[17];
  snprintf(node, sizeof node, "%016llx", (unsigned long long)st.node);
  head(&b, "spot_up", "gauge", "1 if a node serves the namespace");
  add(&b, "spot_up{node=\"%s\",mode=\"%s\",power=\"%s\"} %d\n", node, st.mode == SPOT_MODE_WORKER ? "worker" : "thread",
      st.power_source == SPOT_STATUS_POWER_RAPL ? "rapl" : "figure", st.served);
  head(&b, "spot_uptime_seconds", "gauge", "seconds since the node started");
  add(&b, "spot_uptime_seconds %.3f\n", (double)st.uptime_ns / 1e9);
  head(&b, "spot_workers", "gauge", "handler threads or worker processes");
  add(&b, "spot_workers %u\n", st.workers);
  head(&b, "spot_queue_depth", "gauge", "puts naming a handler that the node has not taken yet");
  add(&b, "spot_queue_depth %llu\n", (unsigned long long)st.queue_depth);
  head(&b, "spot_power_watts", "gauge", "the power figure of one busy CPU used for the energy of runs");
  add(&b, "spot_power_watts %.3f\n", (double)st.milliwatts / 1e3);
  head(&b, "spot_runs_total", "counter", "handler runs ended since the node started");
  add(&b, "spot_runs_total %llu\n", (unsigned long long)st.runs);
  head(&b, "spot_failures_total", "counter", "handler runs that failed (non-zero return, crash, time-out)");
  add(&b, "spot_failures_total %llu\n", (unsigned long long)st.failures);
  head(&b, "spot_worker_restarts_total", "counter", "worker processes started again after one died");
  add(&b, "spot_worker_restarts_total %llu\n", (unsigned long long)st.worker_restarts);
  head(&b, "spot_cpu_seconds_total", "counter", "CPU time of handler runs");
  add(&b, "spot_cpu_seconds_total %.9f\n", (double)st.cpu_ns / 1e9);
  head(&b, "spot_energy_joules_total", "counter", "energy of handler runs at the node's power figure");
  add(&b, "spot_energy_joules_total %.9f\n", (double)st.energy_nj / 1e9);
  head(&b, "spot_put_start_latency_seconds", "histogram", "time from a put to the start of its handler");
  uint64_t cum = 0;
  for (unsigned i = 0; i < SPOT_STATUS_BUCKETS; i++) {
    cum += st.latency[i];
    if (i + 1 < SPOT_STATUS_BUCKETS)
      add(&b, "spot_put_start_latency_seconds_bucket{le=\"%g\"} %llu\n", (double)SPOT_STATUS_BUCKET_NS(i) / 1e9,
          (unsigned long long)cum);
    else
      add(&b, "spot_put_start_latency_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
  }
  add(&b, "spot_put_start_latency_seconds_sum %.9f\n", (double)st.latency_sum_ns / 1e9);
  add(&b, "spot_put_start_latency_seconds_count %llu\n", (unsigned long long)cum);
  const char *per[4][3] = {{"spot_handler_runs_total", "counter", "runs of the handler"},
                           {"spot_handler_failures_total", "counter", "failed runs of the handler"},
                           {"spot_handler_cpu_seconds_total", "counter", "CPU time of the handler's runs"},
                           {"spot_handler_energy_joules_total", "counter", "energy of the handler's runs"}};
  for (int k = 0; k < 4; k++) {
    head(&b, per[k][0], per[k][1], per[k][2]);
    for (size_t i = 0; i < st.nhandlers; i++) {
      const spot_status_handler_t *h = &st.handlers[i];
      if (k < 2)
        add(&b, "%s{handler=\"%s\"} %llu\n", per[k][0], h->name, (unsigned long long)(k == 0 ? h->runs : h->failures));
      else
        add(&b, "%s{handler=\"%s\"} %.9f\n", per[k][0], h->name, (double)(k == 2 ? h->cpu_ns : h->energy_nj) / 1e9);
    }
  }
  head(&b, "spot_log_puts_total", "counter", "elements appended to the log since it was made");
  for (size_t i = 0; i < st.nlogs; i++)
    add(&b, "spot_log_puts_total{log=\"%s\"} %llu\n", st.logs[i].name, (unsigned long long)st.logs[i].puts);
  head(&b, "spot_log_bytes_total", "counter", "bytes appended to the log since it was made");
  for (size_t i = 0; i < st.nlogs; i++)
    add(&b, "spot_log_bytes_total{log=\"%s\"} %llu\n", st.logs[i].name, (unsigned long long)st.logs[i].bytes);
  spot_status_free(&st);
  if (b.bad) {
    free(b.p);
    return NULL;
  }
  *len = b.n;
  return b.p;
}

#if SPOT_HAVE_MHD
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>

static struct MHD_Daemon *daemon_;
static char metrics_dir[4096];

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_len, void **state) {
  (void)cls, (void)version, (void)upload, (void)upload_len, (void)state;
  static const char not_found[] = "not found: the metrics are at /metrics\n";
  static const char failed[] = "cannot read the node's status\n";
  struct MHD_Response *r;
  unsigned code = MHD_HTTP_OK;
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
    return MHD_NO;
  size_t len = 0;
  char *text = strcmp(url, "/metrics") == 0 ? spotd_metrics_text(metrics_dir, &len) : NULL;
  if (text) {
    r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  } else {
    int missing = strcmp(url, "/metrics") != 0;
    code = missing ? MHD_HTTP_NOT_FOUND : MHD_HTTP_INTERNAL_SERVER_ERROR;
    r = MHD_create_response_from_buffer(missing ? sizeof not_found - 1 : sizeof failed - 1,
                                        (void *)(missing ? not_found : failed), MHD_RESPMEM_PERSISTENT);
  }
  enum MHD_Result ok = MHD_queue_response(c, code, r);
  MHD_destroy_response(r);
  return ok;
}

int spotd_metrics_start(const char *dir, const char *hostport) {
  const char *colon = strrchr(hostport, ':');
  char host[64];
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  long port = colon ? strtol(colon + 1, NULL, 10) : 0;
  if (colon == NULL || (size_t)(colon - hostport) >= sizeof host || port <= 0 || port > 65535)
    return fprintf(stderr, "spotd: --metrics HOST:PORT (an IPv4 address and a port), not %s\n", hostport), -1;
  snprintf(host, sizeof host, "%.*s", (int)(colon - hostport), hostport);
  if (strcmp(host, "*") == 0 || host[0] == '\0')
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
  else if (inet_pton(AF_INET, strcmp(host, "localhost") == 0 ? "127.0.0.1" : host, &sa.sin_addr) != 1)
    return fprintf(stderr, "spotd: --metrics: %s is not an IPv4 address (use 127.0.0.1 or *)\n", host), -1;
  sa.sin_port = htons((uint16_t)port);
  snprintf(metrics_dir, sizeof metrics_dir, "%s", dir);
  daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, (uint16_t)port, NULL, NULL, answer, NULL,
                             MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT, 16u,
                             MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
  if (daemon_ == NULL)
    return fprintf(stderr, "spotd: cannot serve metrics on %s (in use, or not an address of this host)\n", hostport),
           -1;
  return 0;
}

void spotd_metrics_stop(void) {
  if (daemon_)
    MHD_stop_daemon(daemon_);
  daemon_ = NULL;
}
#else
int spotd_metrics_start(const char *dir, const char *hostport) {
  (void)dir;
  fprintf(stderr, "spotd: --metrics %s: this spotd was built without libmicrohttpd (install libmicrohttpd-dev and "
                  "build again)\n", hostport);
  return -1;
}

void spotd_metrics_stop(void) {}
#endif
