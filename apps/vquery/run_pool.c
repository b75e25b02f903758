/*
 * apps/vquery/run_pool.c: the cloud's matchers as a handler pool in `spot vquery run --pool URL|local` (run.h), and
 * the autoscaler that sizes it (issue 13, item 3).
 *
 * The cloud's spotd feeds its `jobs` (each job carries its queries: vq_pool_job_rec_t) to a JetStream work queue
 * (spotd --pool URL --pool-name NAME --pool-log jobs:vq_match --pool-role feed); the matchers are pool members,
 * spotd nodes of their own (--pool-role work, one worker each: one single-core instance), each with a namespace
 * made by vq_pool_member_setup (jobs, config, vq_match) and the members' key, with which they put the answers to
 * the devices. The autoscaler here plays the cloud's autoscaling group: it follows the cloud's `billing` log, and
 * after interval k's record it makes the members running min(next_instances, --pool-max-members), starting fresh
 * members or stopping the newest with SIGTERM. A stopped member's spotd sends back (nak) the work it took and has
 * not finished, and JetStream gives it to another member at once; a member killed outright leaves its work
 * unacknowledged, redelivered after the ack wait (the handler time limit + 1 s). So a scale-down loses no job; a
 * job whose run was under way may be matched twice, and the device keeps the first answer.
 * `--pool local` starts a nats-server with JetStream (-js) on a free port of 127.0.0.1, its store in the scratch
 * directory. The pool is named after the run (vq_PID_TIME), so a shared server's streams of another run are never
 * mixed with this one's.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <spot/log.h>
#include <spot/ns.h>

#include "run.h"
#include "tiers.h"
#include "vquery.h"

#define MEMBER_TIMEOUT_MS "10000" /* a member's handler time limit: the pool's ack wait is this + 1 s */

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* 1 once nats-server says in its log that it is ready for clients (within wait_ms), 0 if not or if it ended. */
static int nats_ready(vq_proc_t *p, int wait_ms) {
  for (int waited = 0; waited < wait_ms; waited += 50) {
    if (vq_proc_poll(p))
      return 0;
    FILE *f = fopen(p->log, "r");
    int ready = 0;
    if (f) {
      char line[512];
      while (!ready && fgets(line, sizeof line, f))
        ready = strstr(line, "Server is ready") != NULL;
      fclose(f);
    }
    if (ready)
      return 1;
    sleep_ms(50);
  }
  return 0;
}

static int start_nats(vq_run_t *r) {
  const char *bin = access("/usr/sbin/nats-server", X_OK) == 0 ? "/usr/sbin/nats-server" : NULL;
  if (bin == NULL) { /* on PATH? */
    const char *path = getenv("PATH");
    static char found[SUB];
    for (const char *p = path; p && *p && bin == NULL;) {
      const char *e = strchr(p, ':');
      size_t n = e ? (size_t)(e - p) : strlen(p);
      snprintf(found, sizeof found, "%.*s/nats-server", (int)n, p);
      if (access(found, X_OK) == 0)
        bin = found;
      p = e ? e + 1 : p + n;
    }
  }
  if (bin == NULL)
    return vq_run_fail("--pool local needs nats-server (apt-get install nats-server; scripts/deps.sh installs it), "
                       "or give --pool nats://HOST:PORT");
  int port = vq_free_port();
  if (port == 0)
    return vq_run_fail("no free TCP port on 127.0.0.1 for nats-server");
  char ports[16], store[PATH], log[PATH];
  snprintf(ports, sizeof ports, "%d", port);
  snprintf(store, sizeof store, "%s/nats", r->scratch);
  snprintf(log, sizeof log, "%s/nats.log", r->scratch);
  char *argv[] = {(char *)bin, "-js", "-a", "127.0.0.1", "-p", ports, "-sd", store, NULL};
  if (vq_proc_start(&r->nats, "nats-server", argv, log, NULL) < 0)
    return 1;
  if (!nats_ready(&r->nats, 15000)) {
    vq_proc_tail(&r->nats, 10);
    return vq_run_fail("nats-server did not come up on 127.0.0.1:%d (its log: %s)", port, log);
  }
  snprintf(r->pool_url, sizeof r->pool_url, "nats://127.0.0.1:%d", port);
  return 0;
}

int vq_pool_begin(vq_run_t *r) {
  if (strcmp(r->pool, "local") == 0) {
    if (start_nats(r))
      return 1;
  } else if (strncmp(r->pool, "nats://", 7) == 0 && strlen(r->pool) < sizeof r->pool_url) {
    snprintf(r->pool_url, sizeof r->pool_url, "%s", r->pool);
  } else {
    return vq_run_fail("--pool takes nats://HOST:PORT[,HOST:PORT...] or local, not '%s'", r->pool);
  }
  snprintf(r->pool_name, sizeof r->pool_name, "vq_%ld_%ld", (long)getpid(), (long)(time(NULL) % 1000000));
  size_t k = (size_t)r->intervals + 1;
  r->pool_asked = calloc(k, sizeof *r->pool_asked);
  r->pool_ran = calloc(k, sizeof *r->pool_ran);
  r->pool_seen = calloc(k, 1);
  if (!r->pool_asked || !r->pool_ran || !r->pool_seen)
    return vq_run_fail("out of memory for %lld intervals", (long long)r->intervals);
  return 0;
}

static int start_member(vq_run_t *r) {
  if (r->members >= MAX_MEMBERS)
    return vq_run_fail("more than %d pool members", MAX_MEMBERS);
  char dir[PATH], log[PATH], name[32], poollog[80];
  uint64_t n = r->member_starts;
  snprintf(dir, sizeof dir, "%s/member%llu", r->scratch, (unsigned long long)n);
  snprintf(log, sizeof log, "%s/member%llu.log", r->scratch, (unsigned long long)n);
  snprintf(name, sizeof name, "pool member %llu", (unsigned long long)n);
  snprintf(poollog, sizeof poollog, "%s:%s", VQ_LOG_JOBS, VQ_H_MATCH);
  if (vq_pool_member_setup(dir, &r->cloud_cfg, r->so) < 0)
    return vq_run_fail("setting up %s: %s", dir, vq_tiers_detail());
  char *argv[] = {r->spotd,  "-n",         dir,         "--key",       r->member_key, "--workers",   "1",
                  "--timeout-ms", MEMBER_TIMEOUT_MS, "--pool", r->pool_url, "--pool-name", r->pool_name,
                  "--pool-log", poollog,   "--pool-role", "work",     NULL};
  char *env[] = {r->known_env, "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1", NULL};
  if (vq_proc_start(&r->member[r->members], name, argv, log, env) < 0)
    return 1;
  r->members++;
  r->member_starts++;
  return 0;
}

/* Adds what a stopped member's spotd said in its closing line ("pool NAME: F fed, T taken (R delivered before),
 * N ran, ...") to the run's totals. */
static void read_closing(vq_run_t *r, const vq_proc_t *p) {
  FILE *f = fopen(p->log, "r");
  if (f == NULL)
    return;
  char line[1024];
  while (fgets(line, sizeof line, f)) {
    const char *s = strstr(line, "pool ");
    unsigned long long fed, taken, before, ran;
    if (s && (s = strstr(s, ": ")) != NULL &&
        sscanf(s + 2, "%llu fed, %llu taken (%llu delivered before), %llu ran", &fed, &taken, &before, &ran) == 4)
      r->pool_taken += taken, r->pool_redelivered += before, r->pool_ran_total += ran;
  }
  fclose(f);
}

/* Stops the newest member with SIGTERM: its spotd sends back the work it has not finished (the pool's stop), lets
 * a running match end, and exits. */
static void stop_member(vq_run_t *r) {
  vq_proc_t *p = &r->member[--r->members];
  vq_proc_stop(p, SIGTERM, 15000);
  read_closing(r, p);
}

int vq_pool_scale(vq_run_t *r, uint32_t want) {
  if (want > (uint32_t)r->pool_max)
    want = (uint32_t)r->pool_max;
  for (int i = 0; i < r->members; i++) /* a member that ended by itself is replaced */
    if (vq_proc_poll(&r->member[i])) {
      vq_proc_tail(&r->member[i], 10);
      return vq_run_fail("%s ended with status %d (its log: %s)", r->member[i].name, r->member[i].status,
                         r->member[i].log);
    }
  while ((uint32_t)r->members < want)
    if (start_member(r))
      return 1;
  while ((uint32_t)r->members > want) {
    stop_member(r);
    r->member_stops++;
  }
  return 0;
}

int vq_pool_follow(vq_run_t *r) {
  spot_ns_t *ns;
  spot_log_t *l;
  if (spot_ns_open(r->cloud_dir, NULL, &ns) < 0)
    return 0; /* read again at the next call */
  int rc = 0;
  if (spot_ns_open_log(ns, VQ_LOG_BILLING, 0, &l, NULL) == 0) {
    uint64_t latest = 0;
    spot_log_latest(l, &latest);
    for (uint64_t s = r->billing_seen + 1; s <= latest && rc == 0; s++) {
      vq_billing_rec_t b;
      if (spot_log_read(l, s, &b, sizeof b) != 0 || b.version != VQ_REC_VERSION)
        continue;
      r->billing_seen = s;
      if (b.interval <= (uint64_t)r->intervals && !r->pool_seen[b.interval]) { /* a rerun's record: the first */
        r->pool_seen[b.interval] = 1;
        r->pool_asked[b.interval] = b.instances;
        r->pool_ran[b.interval] = (uint32_t)r->members;
      }
      if (b.interval + 1 < (uint64_t)r->intervals) { /* sized for interval k + 1 */
        uint32_t before = (uint32_t)r->members;
        rc = vq_pool_scale(r, b.next_instances);
        r->scale_ups += (uint32_t)r->members > before, r->scale_downs += (uint32_t)r->members < before;
      }
    }
    spot_log_close(l);
  }
  spot_ns_close(ns);
  return rc;
}

void vq_pool_end(vq_run_t *r) {
  while (r->members > 0)
    stop_member(r);
  vq_proc_stop(&r->nats, SIGTERM, 5000);
}

/* The per-interval figures v, separated by sep (and aligned in text); none where no billing record was read. */
static void print_list(FILE *out, const vq_run_t *r, const uint32_t *v, const char *none, const char *sep) {
  int text = sep[0] == ' ';
  for (int64_t i = 0; i < r->intervals; i++) {
    fputs(i || text ? sep : "", out);
    if (r->pool_seen[i])
      fprintf(out, text ? "%3u" : "%u", v[i]);
    else
      fputs(none, out);
  }
}

void vq_pool_print(FILE *out, const vq_run_t *r, int json) {
  uint64_t k = (uint64_t)r->intervals;
  if (json) {
    fprintf(out, "\"pool\":{\"url\":\"%s\",\"name\":\"%s\",\"max_members\":%lld,\"member_starts\":%llu,"
                 "\"member_stops\":%llu,\"scale_ups\":%llu,\"scale_downs\":%llu,\"runs_taken\":%llu,"
                 "\"runs_redelivered\":%llu,\"runs_ended\":%llu,"
                 "\"asked\":[",
            r->pool_url, r->pool_name, (long long)r->pool_max, (unsigned long long)r->member_starts,
            (unsigned long long)r->member_stops, (unsigned long long)r->scale_ups, (unsigned long long)r->scale_downs,
            (unsigned long long)r->pool_taken, (unsigned long long)r->pool_redelivered,
            (unsigned long long)r->pool_ran_total);
    print_list(out, r, r->pool_asked, "null", ",");
    fprintf(out, "],\"ran\":[");
    print_list(out, r, r->pool_ran, "null", ",");
    fprintf(out, "]}");
    return;
  }
  fprintf(out, "pool %s on %s: the matchers are spotd pool members, at most %lld; the autoscaler started %llu "
               "(scaled up %llu times) and stopped %llu (scaled down %llu times); %llu runs taken, %llu of them "
               "delivered before (work a stopped member sent back)\n",
          r->pool_name, r->pool_url, (long long)r->pool_max, (unsigned long long)r->member_starts,
          (unsigned long long)r->scale_ups, (unsigned long long)r->member_stops, (unsigned long long)r->scale_downs,
          (unsigned long long)r->pool_taken, (unsigned long long)r->pool_redelivered);
  fprintf(out, "  interval:       ");
  for (uint64_t i = 0; i < k; i++)
    fprintf(out, " %3llu", (unsigned long long)i);
  fprintf(out, "\n  instances asked:");
  print_list(out, r, r->pool_asked, "  -", " ");
  fprintf(out, "\n  members ran:    ");
  print_list(out, r, r->pool_ran, "  -", " ");
  fputc('\n', out);
}
