/*
 * cmd_status.c: `spot status [DIR | spot://HOST:PORT/NAMESPACE] [--json]`: whether a node serves the namespace, its
 * pid, uptime, mode, workers, queue depth, runs and failures, put-to-start latency, and per handler and per log
 * counters. A local namespace is read from its status file (spot/status.h); a remote one with a STATUS request
 * (the get right there). Exit 0 when a node serves it, 3 when none does (the counters of the last node are shown),
 * 1 on an error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "events.h"
#include "spot.h"
#if SPOT_HAVE_NET
#include "spot/net.h"
#endif

#define EXIT_NOT_SERVED 3

static const char *mode_name(int mode) { return mode == SPOT_MODE_WORKER ? "worker" : "thread"; }
static const char *power_name(int p) { return p == SPOT_STATUS_POWER_RAPL ? "rapl" : "figure"; }

static void print_json(const spot_status_t *st, const char *where) {
  char node[17], when[32];
  spot_cli_node_hex(st->node, node);
  spot_cli_iso_time(st->started_ns, when);
  fputs("{\"namespace\":", stdout);
  spot_cli_json_string(stdout, where);
  printf(",\"served\":%s,\"node\":\"%s\",\"pid\":%d,\"started\":\"%s\",\"uptime_s\":%.3f,\"mode\":\"%s\","
         "\"workers\":%u,\"queue_depth\":%" PRIu64 ",\"runs\":%" PRIu64 ",\"failures\":%" PRIu64
         ",\"worker_restarts\":%" PRIu64 ",\"cpu_ns\":%" PRIu64 ",\"energy_nj\":%" PRIu64
         ",\"power\":{\"source\":\"%s\",\"watts\":%.3f},\"latency\":{\"p50_ns\":%" PRIu64 ",\"p99_ns\":%" PRIu64
         ",\"sum_ns\":%" PRIu64 ",\"buckets\":[",
         st->served ? "true" : "false", node, st->pid, st->started_ns ? when : "", (double)st->uptime_ns / 1e9,
         mode_name(st->mode), st->workers, st->queue_depth, st->runs, st->failures, st->worker_restarts, st->cpu_ns,
         st->energy_nj, power_name(st->power_source), (double)st->milliwatts / 1e3, st->p50_ns, st->p99_ns,
         st->latency_sum_ns);
  for (unsigned b = 0; b < SPOT_STATUS_BUCKETS; b++) {
    if (b + 1 < SPOT_STATUS_BUCKETS)
      printf("%s{\"le_ns\":%llu,\"count\":%" PRIu64 "}", b ? "," : "", (unsigned long long)SPOT_STATUS_BUCKET_NS(b),
             st->latency[b]);
    else
      printf(",{\"le_ns\":null,\"count\":%" PRIu64 "}", st->latency[b]);
  }
  fputs("]},\"handlers\":[", stdout);
  for (size_t i = 0; i < st->nhandlers; i++) {
    const spot_status_handler_t *h = &st->handlers[i];
    printf("%s{\"name\":", i ? "," : "");
    spot_cli_json_string(stdout, h->name);
    printf(",\"id\":%" PRIu32 ",\"runs\":%" PRIu64 ",\"failures\":%" PRIu64 ",\"cpu_ns\":%" PRIu64
           ",\"energy_nj\":%" PRIu64 "}",
           h->id, h->runs, h->failures, h->cpu_ns, h->energy_nj);
  }
  fputs("],\"logs\":[", stdout);
  for (size_t i = 0; i < st->nlogs; i++) {
    printf("%s{\"name\":", i ? "," : "");
    spot_cli_json_string(stdout, st->logs[i].name);
    printf(",\"puts\":%" PRIu64 ",\"bytes\":%" PRIu64 "}", st->logs[i].puts, st->logs[i].bytes);
  }
  fputs("]}\n", stdout);
}

static void print_text(const spot_status_t *st, const char *where) {
  if (st->served)
    printf("%s: served by node %016" PRIx64 ", pid %d, up %.1f s\n", where, st->node, st->pid,
           (double)st->uptime_ns / 1e9);
  else if (st->pid)
    printf("%s: NOT served (the last node, pid %d, is gone; its counters follow)\n", where, st->pid);
  else
    printf("%s: NOT served (no node has run on it)\n", where);
  printf("mode %s, %u worker%s, queue depth %" PRIu64 ", worker restarts %" PRIu64 "\n", mode_name(st->mode),
         st->workers, st->workers == 1 ? "" : "s", st->queue_depth, st->worker_restarts);
  printf("runs %" PRIu64 ", failures %" PRIu64 ", cpu %.3f ms, energy %.3f mJ (power: %s, %.3f W per busy CPU)\n",
         st->runs, st->failures, (double)st->cpu_ns / 1e6, (double)st->energy_nj / 1e6,
         power_name(st->power_source), (double)st->milliwatts / 1e3);
  printf("put->start latency p50 %.1f us, p99 %.1f us\n", (double)st->p50_ns / 1e3, (double)st->p99_ns / 1e3);
  if (st->nhandlers) {
    printf("\n%-24s %6s %10s %10s %14s %14s\n", "HANDLER", "ID", "RUNS", "FAILURES", "CPU_MS", "ENERGY_MJ");
    for (size_t i = 0; i < st->nhandlers; i++) {
      const spot_status_handler_t *h = &st->handlers[i];
      printf("%-24s %6" PRIu32 " %10" PRIu64 " %10" PRIu64 " %14.3f %14.3f\n", h->name, h->id, h->runs, h->failures,
             (double)h->cpu_ns / 1e6, (double)h->energy_nj / 1e6);
    }
  }
  if (st->nlogs) {
    printf("\n%-24s %12s %14s\n", "LOG", "PUTS", "BYTES");
    for (size_t i = 0; i < st->nlogs; i++)
      printf("%-24s %12" PRIu64 " %14" PRIu64 "\n", st->logs[i].name, st->logs[i].puts, st->logs[i].bytes);
  }
}

#if SPOT_HAVE_NET
static int remote_status(const char *url, spot_status_t *st) {
  spot_remote_t *r;
  const char *t = getenv("SPOT_TIMEOUT_MS");
  int rc = spot_remote_new(spot_cli_key, spot_cli_node_key, t ? (uint32_t)strtoul(t, NULL, 10) : 0, &r);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot set up the client");
  rc = spot_remote_status(r, url, st);
  spot_remote_free(r);
  return rc ? spot_cli_fail(rc, "cannot read the status of %s", url) : 0;
}
#endif

int spot_cli_status(int argc, char **argv, const char *ns_dir) {
  static const char usage[] = "usage: spot status [DIR | spot://HOST:PORT/NAMESPACE] [--json]";
  int json = 0;
  const char *where = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0)
      json = 1;
    else if (argv[i][0] == '-')
      return spot_cli_fail(0, "status: unknown option %s; %s", argv[i], usage);
    else if (where == NULL)
      where = argv[i];
    else
      return spot_cli_fail(0, "status: unexpected argument %s; %s", argv[i], usage);
  }
  spot_status_t st;
  int rc;
  if (where && spot_is_remote(where)) {
#if SPOT_HAVE_NET
    if (remote_status(where, &st) != 0)
      return 1;
#else
    return spot_cli_no_network(where);
#endif
  } else {
    if (where == NULL)
      where = ns_dir;
    spot_ns_t *ns;
    if ((rc = spot_ns_open(where, NULL, &ns)) != 0)
      return spot_cli_fail(rc, "cannot open the namespace");
    rc = spot_status_read(ns, &st);
    spot_ns_close(ns);
    if (rc != 0)
      return spot_cli_fail(rc, "cannot read the status of %s", where);
  }
  if (json)
    print_json(&st, where);
  else
    print_text(&st, where);
  int served = st.served;
  spot_status_free(&st);
  if (fflush(stdout) != 0 || ferror(stdout))
    return spot_cli_fail(SPOT_EIO, "cannot write the status");
  return served ? 0 : EXIT_NOT_SERVED;
}
