/*
 * apps/vquery/run.c: `spot vquery run`, the experiment of issue 10: the three tiers as separate spot nodes on
 * loopback, K monitoring intervals, then the measured figures against the model's (report.c) and, with --plot, the
 * figures (plot.c).
 *
 * It prepares a scratch directory (--keep DIR to keep it; run_setup.c: the library, keys, namespaces, access
 * files). It starts the cloud (spotd in worker mode with vquery_cloud.so) and N devices (spot-vquery device), waits
 * until every device has calibrated, then sets the common start time T0 (--lead-ms ahead): it starts the
 * aggregator with it and writes it to the start file the devices wait for. It prints a progress line per interval,
 * traces one query across the nodes while they run (run_trace.c), and at the end waits for the devices (they wait
 * for their answers), the aggregator and the cloud, reads their logs and reports.
 *
 * The quota: a number of bits; optimal = theta* of the shaped law S = N R (spot_billing_optimum, MODEL.md section 4);
 * adhoc = N mu; compare = run at theta* and bill the same volumes at N mu too (the billing of an interval is a
 * function of S and theta, so both meters are recomputed; report.c). --kill-cloud-at K kills the cloud's spotd
 * (kill -9, its process group) in the middle of interval K and restarts it one interval later.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <spot/net.h>
#include <spot/ns.h>

#include "commands.h"
#include "report.h"
#include "run.h"
#include "tiers.h"
#include "vquery.h"


static const char usage_text[] =
    "usage: spot vquery run --devices N --intervals K --interval-ms T [--dist uniform|exponential|pareto --mu BITS\n"
    "         [--alpha A] [--sampler inverse|reject]] --rho BITS --quota BITS|optimal|adhoc|compare\n"
    "         (--data DIR | --library FILE.vql --images DIR) [--camera synthetic|DIR] [--seed S] [--json]\n"
    "         [--plot DIR] [--watts W] [--rapl] [--idle-instances 3] [--active-instances 30] [--price USD_PER_H]\n"
    "         [--calibrate N] [--lead-ms MS] [--mc-samples N] [--kill-cloud-at K] [--keep DIR] [--quiet]\n"
    "         [--exact | --nprobe N] [--pool nats://HOST:PORT|local [--pool-max-members 4]]\n"
    "  (--pool: the cloud's matchers are a pool of spotd nodes sharing the jobs through a JetStream work queue, as\n"
    "   many as the autoscaler asks for, at most --pool-max-members; local: a nats-server started for the run)\n"
    "  (--exact: the cloud's matchers search every library entry; --nprobe N: lists probed by the two-stage search)\n"
    "  (--lead-ms: T0 is this long after the last device calibrated, default 1000)\n"
    "  runs the media-query experiment: a cloud (spotd), an aggregator and N devices as separate spot nodes on\n"
    "  127.0.0.1, K intervals of T ms, then mean device energy, V+, billing from both meters, recall@1 and latency,\n"
    "  measured against the model on the volumes drawn and against the law's closed form (issue 10).\n"
    "  Without --dist the volumes come from motion alone and exponential and Pareto laws are fitted to them; then\n"
    "  --mu is the planning guess that adhoc and optimal quotas use.\n"
    "  --data DIR: the photographs as `scripts/vquery-data.sh DIR` lays them out (DIR/train, DIR/library).\n";

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !interrupted) {
  }
}

/* ---- the parameters and the quota ---- */

static int derive(vq_run_t *r) {
  vq_params_t *p = &r->p;
  memset(p, 0, sizeof *p);
  if (r->devices < 1 || r->devices > MAX_DEVICES)
    return vq_run_fail("--devices must be 1 to %d", MAX_DEVICES), 2;
  if (r->intervals < 1 || r->interval_ms < 1)
    return vq_run_fail("--intervals K and --interval-ms T are needed (K >= 1, T >= 1)"), 2;
  if (r->quota == NULL)
    return vq_run_fail("--quota BITS|optimal|adhoc|compare is needed"), 2;
  p->devices = (uint32_t)r->devices, p->intervals = (uint32_t)r->intervals, p->interval_ms = (uint32_t)r->interval_ms;
  p->controlled = r->dist != NULL;
  p->mu = r->mu, p->alpha = r->alpha, p->rho = r->rho;
  p->sampler = r->sampler && strcmp(r->sampler, "reject") == 0 ? SPOT_SAMPLE_REJECT : SPOT_SAMPLE_INVERSE;
  if (r->sampler && strcmp(r->sampler, "reject") != 0 && strcmp(r->sampler, "inverse") != 0)
    return vq_run_fail("--sampler must be inverse or reject, not '%s'", r->sampler), 2;
  if (!(r->rho >= 0))
    return vq_run_fail("--rho BITS is needed (the devices' idle/active threshold, >= 0)"), 2;
  p->kind = SPOT_DIST_EXPONENTIAL; /* real mode plans with an exponential law of mean --mu */
  if (p->controlled && spot_dist_parse(r->dist, &p->kind) < 0)
    return vq_run_fail("--dist must be uniform, exponential or pareto, not '%s'", r->dist), 2;
  if (p->controlled && p->kind == SPOT_DIST_FIXED)
    return vq_run_fail("--dist fixed is not a law a device can draw from: use uniform, exponential or pareto"), 2;
  vq_cloud_config_t cfg;
  vq_cloud_config_default(&cfg);
  p->bill.b_t = cfg.b_t, p->bill.b_i = cfg.b_i, p->bill.b_a = cfg.b_a;
  p->bill.usd_per_instance_hour = r->price > 0 ? r->price : cfg.usd_per_instance_hour;
  p->bill.interval_s = (double)r->interval_ms / 1000.0;
  p->bill.idle_instances = (uint32_t)r->idle_inst, p->bill.active_instances = (uint32_t)r->active_inst;
  p->watts = r->watts;
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  p->cores = cores > 0 ? (uint32_t)cores : 1;
  p->seed = (uint64_t)r->seed;
  p->mc_samples = (size_t)r->mc_samples;
  p->kill_cloud_at = (int)r->kill_at;
  p->theta_star = NAN;
  p->theta_adhoc = r->mu > 0 ? (double)r->devices * r->mu : NAN;
  char *end;
  double bits = strtod(r->quota, &end);
  if (end != r->quota && *end == '\0') {
    if (!(bits >= 0) || !isfinite(bits))
      return vq_run_fail("--quota must be a number of bits >= 0, or optimal, adhoc or compare"), 2;
    p->quota = VQ_QUOTA_BITS, p->theta = bits;
  } else if (strcmp(r->quota, "optimal") == 0)
    p->quota = VQ_QUOTA_OPTIMAL;
  else if (strcmp(r->quota, "adhoc") == 0)
    p->quota = VQ_QUOTA_ADHOC;
  else if (strcmp(r->quota, "compare") == 0)
    p->quota = VQ_QUOTA_COMPARE;
  else
    return vq_run_fail("--quota must be a number of bits, optimal, adhoc or compare, not '%s'", r->quota), 2;
  if (!(r->mu > 0) && (p->controlled || p->quota != VQ_QUOTA_BITS))
    return vq_run_fail("--mu BITS is needed (%s)",
                       p->controlled ? "the law's mean" : "the planning guess of the quota"),
           2;
  if (r->mu > 0) {
    spot_dist_t d, s;
    spot_rates_t rt;
    spot_rates_default(&rt);
    rt.b_t = p->bill.b_t, rt.b_i = p->bill.b_i, rt.b_a = p->bill.b_a;
    int rc = spot_dist_init(&d, p->kind, r->mu, r->alpha);
    if (rc == 0)
      rc = spot_dist_shaped(&s, &d, (double)r->devices);
    if (rc == 0)
      rc = spot_billing_optimum(&s, &rt, &p->theta_star, NULL);
    if (rc < 0)
      return vq_run_fail("%s", spot_model_strerror(rc)), 2;
    if (p->controlled && p->kind == SPOT_DIST_PARETO && r->alpha <= 2)
      return vq_run_fail("--alpha must exceed 2 for the variability V+ (the second moment is infinite otherwise)"), 2;
  }
  if (p->quota == VQ_QUOTA_OPTIMAL || p->quota == VQ_QUOTA_COMPARE)
    p->theta = p->theta_star;
  else if (p->quota == VQ_QUOTA_ADHOC)
    p->theta = p->theta_adhoc;
  if (r->kill_at >= r->intervals - 1 && r->kill_at >= 0)
    return vq_run_fail("--kill-cloud-at K needs K < intervals - 1 (the cloud restarts one interval later)"), 2;
  return 0;
}

/* ---- the nodes ---- */

static int start_cloud(vq_run_t *r) {
  char listen[64], key[PATH], log[PATH];
  snprintf(listen, sizeof listen, "127.0.0.1:%d", r->cloud_port);
  snprintf(key, sizeof key, "%s/cloud.key", r->keys);
  snprintf(log, sizeof log, "%s/cloud.log", r->scratch);
  char poollog[80];
  snprintf(poollog, sizeof poollog, "%s:%s", VQ_LOG_JOBS, VQ_H_MATCH);
  char *argv[] = {r->spotd, "-n", r->cloud_dir, "--listen", listen, "--key", key, "--workers", "2", "--quiet",
                  /* with a pool: feed the jobs (put with their queries and no handler) to the work queue */
                  "--pool", r->pool_url, "--pool-name", r->pool_name, "--pool-log", poollog, "--pool-role", "feed",
                  NULL};
  if (r->pool == NULL)
    argv[10] = NULL;
  char *env[] = {r->known_env, "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1", NULL};
  if (vq_proc_start(&r->cloud, "cloud", argv, log, env) < 0)
    return 1;
  /* ready when it answers (the operator may get) */
  char url[VQ_URL_MAX], pub[PATH], okey[PATH];
  snprintf(url, sizeof url, "spot://%s/cloud/%s", listen, VQ_LOG_CONFIG);
  snprintf(pub, sizeof pub, "%s/cloud.pub", r->keys);
  snprintf(okey, sizeof okey, "%s/operator.key", r->keys);
  spot_remote_t *c = NULL;
  int rc = spot_remote_new(okey, pub, 500, &c);
  for (int i = 0; rc == 0 && i < 100 && !interrupted; i++) {
    uint64_t seq;
    if (spot_remote_latest(c, url, &seq) == 0) {
      spot_remote_free(c);
      return 0;
    }
    if (vq_proc_poll(&r->cloud))
      break;
    sleep_ms(100);
  }
  if (c)
    spot_remote_free(c);
  vq_proc_tail(&r->cloud, 10);
  return vq_run_fail("the cloud node (spotd on %s) did not come up", listen);
}

/* After the last interval the aggregator uploads what still arrives (devices that run late: an overrun) once its
 * inbox was quiet this long. Every device calibrated before T0, and a device that runs late puts a query every
 * few tens of milliseconds, so a quiet second past an interval means it is done. */
static int64_t tail_ms(const vq_run_t *r) {
  return r->interval_ms + 1000;
}

static int start_edge(vq_run_t *r) {
  char listen[64], key[PATH], ckey[PATH], cloud[VQ_URL_MAX], log[PATH], T[32], t0[32], K[32], retry[32], tail[32];
  char devices[24], deadline[32];
  snprintf(listen, sizeof listen, "127.0.0.1:%d", r->edge_port);
  snprintf(key, sizeof key, "%s/aggregator.key", r->keys);
  snprintf(ckey, sizeof ckey, "%s/cloud.pub", r->keys);
  snprintf(cloud, sizeof cloud, "spot://127.0.0.1:%d/cloud", r->cloud_port);
  snprintf(log, sizeof log, "%s/aggregator.log", r->scratch);
  snprintf(T, sizeof T, "%lld", (long long)r->interval_ms);
  snprintf(t0, sizeof t0, "%lld", (long long)r->t0);
  snprintf(devices, sizeof devices, "%lld", (long long)r->devices);
  /* interval k's batch goes once every device told its count for k and those queries are in, at the latest at
   * T0 + k T + T/2 in controlled mode: the cloud matches while the devices rest, not while they do the metered work
   * of interval k + 1. Devices and cloud share this machine's cores; in the system they model they do not, and a
   * matcher's sgemm next to a device's SIFT raised the device's CPU time per query (issue 10's physics). Queries
   * that come later go in a later batch and are billed to their interval all the same. In real mode the devices
   * query all through the interval: the deadline is half an interval after its end. */
  snprintf(deadline, sizeof deadline, "%lld",
           (long long)(r->dist ? r->interval_ms / 2 : r->interval_ms + r->interval_ms / 2));
  snprintf(K, sizeof K, "%lld", (long long)r->intervals);
  snprintf(retry, sizeof retry, "%lld", (long long)(10 * r->interval_ms + 20000));
  snprintf(tail, sizeof tail, "%lld", (long long)tail_ms(r));
  char *argv[] = {r->self,         "aggregator",    "--ns",      r->edge_dir, "--listen",    listen, "--key",
                  key,             "--cloud",       cloud,       "--cloud-key", ckey,        "--interval-ms",
                  T,               "--start-ns",    t0,          "--intervals", K,           "--devices",
                  devices,         "--deadline-ms", deadline,    "--retry-ms",  retry,       "--tail-ms",
                  tail,            "--quiet",       NULL};
  char *env[] = {r->known_env, "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1", NULL};
  return vq_proc_start(&r->edge, "aggregator", argv, log, env) < 0;
}

static int start_device(vq_run_t *r, int64_t i) {
  char name[32], listen[64], key[PATH], agg[VQ_URL_MAX], akey[PATH], log[PATH], idx[24], T[32], K[32];
  char seed[32], mu[64], alpha[64], rho[64], watts[64], cal[32], grace[32];
  snprintf(name, sizeof name, "device %lld", (long long)i);
  snprintf(listen, sizeof listen, "127.0.0.1:%d", r->dev_port[i]);
  snprintf(key, sizeof key, "%s/dev%lld.key", r->keys, (long long)i);
  snprintf(agg, sizeof agg, "spot://127.0.0.1:%d/edge/%s", r->edge_port, VQ_LOG_INBOX);
  snprintf(akey, sizeof akey, "%s/aggregator.pub", r->keys);
  snprintf(log, sizeof log, "%s/dev%lld.log", r->scratch, (long long)i);
  snprintf(idx, sizeof idx, "%lld", (long long)i);
  snprintf(T, sizeof T, "%lld", (long long)r->interval_ms);
  snprintf(K, sizeof K, "%lld", (long long)r->intervals);
  snprintf(seed, sizeof seed, "%llu", (unsigned long long)(r->p.seed * 1000003ull + (uint64_t)i + 1));
  snprintf(mu, sizeof mu, "%.17g", r->mu);
  snprintf(alpha, sizeof alpha, "%.17g", r->alpha);
  snprintf(rho, sizeof rho, "%.17g", r->rho);
  snprintf(watts, sizeof watts, "%.17g", r->watts);
  snprintf(cal, sizeof cal, "%lld", (long long)r->calibrate);
  /* answers may wait for a restarted cloud: the grace covers a few intervals and the aggregator's retries */
  snprintf(grace, sizeof grace, "%lld", (long long)(tail_ms(r) + 4 * r->interval_ms + 15000));
  char *argv[48];
  int n = 0;
  char *fixed[] = {r->self,   "device",      "--ns",     r->dev_dir[i], "--listen",   listen,   "--key",
                   key,       "--index",     idx,        "--aggregator", agg,         "--aggregator-key",
                   akey,      "--library",   r->lib,     "--images",    r->imgs,      "--camera",
                   (char *)(r->camera ? r->camera : "synthetic"), "--interval-ms", T, "--start-file", r->start_file,
                   "--intervals", K,         "--rho",    rho,           "--watts",    watts,    "--seed",
                   seed,      "--calibrate", cal,        "--grace-ms",  grace,        "--quiet"};
  for (size_t j = 0; j < sizeof fixed / sizeof fixed[0]; j++)
    argv[n++] = fixed[j];
  if (r->dist) {
    argv[n++] = "--dist", argv[n++] = (char *)r->dist, argv[n++] = "--mu", argv[n++] = mu;
    if (r->p.kind == SPOT_DIST_PARETO)
      argv[n++] = "--alpha", argv[n++] = alpha;
    argv[n++] = "--sampler", argv[n++] = r->p.sampler == SPOT_SAMPLE_REJECT ? "reject" : "inverse";
  }
  if (r->rapl)
    argv[n++] = "--rapl";
  argv[n] = NULL;
  char *env[] = {r->known_env, "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1", NULL};
  return vq_proc_start(&r->dev[i], name, argv, log, env) < 0;
}

static void stop_all(vq_run_t *r) {
  for (int64_t i = 0; i < r->devices; i++)
    vq_proc_stop(&r->dev[i], SIGTERM, 3000);
  vq_proc_stop(&r->edge, SIGTERM, 3000);
  vq_proc_stop(&r->cloud, SIGTERM, 5000);
  vq_pool_end(r);
}

/* ---- during the run ---- */

/* Waits until every device has calibrated (its calibration record is written) and waits for T0 in the start
 * file. 0, or 1 after a device ended or the wait took longer than 10 minutes. */
static int wait_ready(vq_run_t *r) {
  int tty = isatty(2);
  int64_t until = now_ns() + 600 * 1000000000ll;
  for (int shown = -1;;) {
    if (interrupted)
      return vq_run_fail("interrupted: stopping the nodes");
    int ready = 0;
    for (int64_t i = 0; i < r->devices; i++) {
      if (vq_proc_poll(&r->dev[i])) {
        vq_proc_tail(&r->dev[i], 10);
        return vq_run_fail("%s ended with status %d before it was ready (its log: %s)", r->dev[i].name,
                           r->dev[i].status,
                    r->dev[i].log);
      }
      ready += vq_run_latest(r->dev_dir[i], VQ_LOG_CALIB) > 0;
    }
    if (!r->quiet && ready != shown) {
      fprintf(stderr, "%scalibrating: %d of %lld devices ready%s", tty ? "\r" : "", ready, (long long)r->devices,
              tty ? "   " : "\n");
      shown = ready;
    }
    if (ready == r->devices)
      break;
    if (now_ns() > until)
      return vq_run_fail("the devices did not calibrate within 10 minutes (their logs: %s)", r->scratch);
    sleep_ms(50);
  }
  if (tty && !r->quiet)
    fputc('\n', stderr);
  return 0;
}

/* Writes T0 to the start file the devices wait for (a new file renamed into place: they never read half of it). */
static int write_start(vq_run_t *r) {
  char tmp[PATH], text[32];
  snprintf(tmp, sizeof tmp, "%s.tmp", r->start_file);
  snprintf(text, sizeof text, "%lld\n", (long long)r->t0);
  if (vq_write_file(tmp, text) < 0 || rename(tmp, r->start_file) != 0)
    return vq_run_fail("cannot write the start time to %s: %s", r->start_file, strerror(errno));
  return 0;
}

/* Follows the run until the devices end: a progress line per interval, the cloud killed and restarted if asked,
 * one query traced. 0, or 1 after a tier failed. */
static int follow(vq_run_t *r) {
  int64_t T = r->interval_ms * 1000000, K = r->intervals;
  int64_t kill_t = r->kill_at >= 0 ? r->t0 + r->kill_at * T + T / 2 : INT64_MAX;
  int64_t back_t = r->kill_at >= 0 ? kill_t + T : INT64_MAX;
  int killed = 0, tty = isatty(2), traced = 0;
  int64_t shown = -2, shown_at = 0, end_by = r->t0 + K * T + (tail_ms(r) + 4 * r->interval_ms + 15000) * 1000000 +
                                             60 * 1000000000ll;
  for (;;) {
    if (interrupted)
      return vq_run_fail("interrupted: stopping the nodes");
    int64_t now = now_ns(), k = now < r->t0 ? -1 : (now - r->t0) / T;
    if (!killed && now >= kill_t) {
      if (!r->quiet)
        fprintf(stderr, "%sinterval %lld: kill -9 the cloud node (pid %d)\n", tty ? "\n" : "", (long long)k,
                (int)r->cloud.pid);
      vq_proc_stop(&r->cloud, SIGKILL, 5000);
      killed = 1;
    }
    if (killed == 1 && now >= back_t) {
      if (!r->quiet)
        fprintf(stderr, "%sinterval %lld: restarting the cloud node\n", tty ? "\n" : "", (long long)k);
      if (start_cloud(r))
        return 1;
      killed = 2;
    }
    int running = 0;
    for (int64_t i = 0; i < r->devices; i++) {
      if (!vq_proc_poll(&r->dev[i]))
        running++;
      else if (!vq_proc_ok(&r->dev[i])) {
        vq_proc_tail(&r->dev[i], 10);
        return vq_run_fail("%s ended with status %d (its log: %s)", r->dev[i].name, r->dev[i].status, r->dev[i].log);
      }
    }
    if (vq_proc_poll(&r->edge) && !vq_proc_ok(&r->edge)) {
      vq_proc_tail(&r->edge, 10);
      return vq_run_fail("the aggregator ended with status %d (its log: %s)", r->edge.status, r->edge.log);
    }
    if (killed != 1 && vq_proc_poll(&r->cloud)) {
      vq_proc_tail(&r->cloud, 10);
      return vq_run_fail("the cloud node ended with status %d (its log: %s)", r->cloud.status, r->cloud.log);
    }
    if (r->pool && vq_pool_follow(r))
      return 1;
    if (!traced && k >= 2 && killed != 1) {
      vq_run_trace(r);
      traced = r->trace != NULL;
    }
    int show = tty ? 1 : k < K ? k != shown : now - shown_at > 5000000000ll;
    if (!r->quiet && show) {
      uint64_t put = 0, answers = 0;
      for (int64_t i = 0; i < r->devices; i++) {
        put += vq_run_latest(r->dev_dir[i], VQ_LOG_QUERIES);
        answers += vq_run_latest(r->dev_dir[i], VQ_LOG_LATENCY);
      }
      uint64_t inbox = vq_run_latest(r->edge_dir, VQ_LOG_INBOX), billed = vq_run_latest(r->cloud_dir, VQ_LOG_BILLING);
      char head[64];
      if (k < 0)
        snprintf(head, sizeof head, "calibrating, T0 in %.1f s", (double)(r->t0 - now) / 1e9);
      else if (k < K)
        snprintf(head, sizeof head, "interval %lld/%lld", (long long)k + 1, (long long)K);
      else
        snprintf(head, sizeof head, "after the last interval");
      fprintf(stderr, "%s%s: queries %llu, at the aggregator %llu, billed intervals %llu, answers %llu%s",
              tty ? "\r" : "", head, (unsigned long long)put, (unsigned long long)inbox, (unsigned long long)billed,
              (unsigned long long)answers, tty ? "   " : "\n");
      shown = k, shown_at = now;
    }
    if (running == 0)
      break;
    if (now > end_by) {
      if (tty && !r->quiet)
        fputc('\n', stderr);
      return vq_run_fail("the devices did not end within 60 s after the last interval and their grace (their logs: %s)",
                  r->scratch);
    }
    sleep_ms(tty ? 250 : 100);
  }
  if (tty && !r->quiet)
    fputc('\n', stderr);
  if (!traced)
    vq_run_trace(r);
  /* the aggregator ends after its tail batch; the cloud has answered every query once the devices ended */
  if (!vq_proc_wait(&r->edge, (int)(tail_ms(r) + r->interval_ms * 2 + 20000))) {
    vq_proc_tail(&r->edge, 10);
    return vq_run_fail("the aggregator did not end (its log: %s)", r->edge.log);
  }
  if (!vq_proc_ok(&r->edge)) {
    vq_proc_tail(&r->edge, 10);
    return vq_run_fail("the aggregator ended with status %d (its log: %s)", r->edge.status, r->edge.log);
  }
  return 0;
}

/* ---- the command ---- */

/* Prints the report and, with a pool, its figures: lines after the text, or a "pool" member of the JSON object. */
static int print_report(vq_run_t *r, const vq_data_t *data, const vq_report_t *rep) {
  if (r->pool == NULL || !r->json) {
    vq_report_print(stdout, &r->p, data, rep, r->json);
    if (r->pool)
      vq_pool_print(stdout, r, 0);
    fflush(stdout);
    return 0;
  }
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  if (m == NULL)
    return vq_run_fail("out of memory for the report");
  vq_report_print(m, &r->p, data, rep, 1);
  fclose(m);
  char *end = strrchr(text, '}'); /* the object's closing brace */
  if (end == NULL) {
    free(text);
    return vq_run_fail("the report is not a JSON object");
  }
  fwrite(text, 1, (size_t)(end - text), stdout);
  fputc(',', stdout);
  vq_pool_print(stdout, r, 1);
  fputs(end, stdout);
  fflush(stdout);
  free(text);
  return 0;
}

int vq_cmd_run(int argc, char **argv) {
  static vq_run_t run;
  vq_run_t *r = &run;
  memset(r, 0, sizeof *r);
  r->seed = 1, r->idle_inst = 3, r->active_inst = 30, r->watts = 2.0, r->calibrate = 30, r->lead_ms = 1000;
  r->mc_samples = 200000, r->kill_at = -1, r->rho = -1, r->alpha = 0;
  r->pool_max = 4; /* this 2-core machine: more single-worker members than 4 only queue for the cores */
  const vq_opt_t opts[] = {
      {"--devices", VQ_OPT_I64, &r->devices, 1, MAX_DEVICES},
      {"--intervals", VQ_OPT_I64, &r->intervals, 1, 1e7},
      {"--interval-ms", VQ_OPT_I64, &r->interval_ms, 1, 1e9},
      {"--dist", VQ_OPT_STR, &r->dist, 0, 0},
      {"--mu", VQ_OPT_DBL, &r->mu, 0, 1e15},
      {"--alpha", VQ_OPT_DBL, &r->alpha, 0, 1e9},
      {"--sampler", VQ_OPT_STR, &r->sampler, 0, 0},
      {"--rho", VQ_OPT_DBL, &r->rho, 0, 1e15},
      {"--quota", VQ_OPT_STR, &r->quota, 0, 0},
      {"--camera", VQ_OPT_STR, &r->camera, 0, 0},
      {"--data", VQ_OPT_STR, &r->data, 0, 0},
      {"--library", VQ_OPT_STR, &r->library, 0, 0},
      {"--images", VQ_OPT_STR, &r->images, 0, 0},
      {"--seed", VQ_OPT_I64, &r->seed, 0, 4e18},
      {"--json", VQ_OPT_FLAG, &r->json, 0, 0},
      {"--plot", VQ_OPT_STR, &r->plot, 0, 0},
      {"--watts", VQ_OPT_DBL, &r->watts, 1e-6, 1e6},
      {"--rapl", VQ_OPT_FLAG, &r->rapl, 0, 0},
      {"--idle-instances", VQ_OPT_I64, &r->idle_inst, 0, 1e6},
      {"--active-instances", VQ_OPT_I64, &r->active_inst, 0, 1e6},
      {"--price", VQ_OPT_DBL, &r->price, 0, 1e6},
      {"--calibrate", VQ_OPT_I64, &r->calibrate, 1, 1e6},
      {"--lead-ms", VQ_OPT_I64, &r->lead_ms, 0, 1e9},
      {"--mc-samples", VQ_OPT_I64, &r->mc_samples, 2, 1e9},
      {"--kill-cloud-at", VQ_OPT_I64, &r->kill_at, 0, 1e7},
      {"--keep", VQ_OPT_STR, &r->keep, 0, 0},
      {"--quiet", VQ_OPT_FLAG, &r->quiet, 0, 0},
      {"--exact", VQ_OPT_FLAG, &r->exact, 0, 0},
      {"--nprobe", VQ_OPT_I64, &r->nprobe, 1, 1e6},
      {"--pool", VQ_OPT_STR, &r->pool, 0, 0},
      {"--pool-max-members", VQ_OPT_I64, &r->pool_max, 1, MAX_MEMBERS},
  };
  int rc = vq_opts_parse("run", opts, sizeof opts / sizeof opts[0], argc, argv);
  if (rc == 1)
    return fputs(usage_text, stdout), 0;
  if (rc != 0)
    return fputs(usage_text, stderr), 2;
  if (r->exact && r->nprobe > 0)
    return fprintf(stderr, "spot vquery run: --exact searches every entry and --nprobe N some lists: give one\n"), 2;
  if ((rc = derive(r)) != 0)
    return rc;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  vq_data_t data;
  memset(&data, 0, sizeof data);
  const char *dirs[MAX_DEVICES];
  int status = 1;
  if (vq_run_prepare(r))
    goto done;
  /* with a pool, the members of interval 0 (the idle instances) are up before the cloud feeds work */
  if (r->pool && (vq_pool_begin(r) || vq_pool_scale(r, (uint32_t)r->idle_inst)))
    goto done;
  if (start_cloud(r))
    goto done;
  for (int64_t i = 0; i < r->devices; i++)
    if (start_device(r, i))
      goto done;
  if (wait_ready(r))
    goto done;
  /* T0: every device has calibrated; the aggregator starts with it, the devices read it from the start file */
  r->t0 = now_ns() + r->lead_ms * 1000000;
  if (start_edge(r) || write_start(r))
    goto done;
  if (follow(r))
    goto done;
  vq_proc_stop(&r->cloud, SIGTERM, 10000);
  if (r->pool) {
    if (vq_pool_follow(r)) /* the last interval's record, if it came after the devices ended */
      goto done;
    vq_pool_end(r); /* the members' closing lines: runs taken and redelivered */
  }
  for (int64_t i = 0; i < r->devices; i++)
    dirs[i] = r->dev_dir[i];
  if ((rc = vq_data_read(dirs, r->p.devices, r->edge_dir, r->cloud_dir, r->p.intervals, &data)) < 0) {
    vq_run_fail("cannot read the run's logs in %s: %s %s", r->scratch, spot_strerror(rc), spot_errdetail());
    goto done;
  }
  data.trace = r->trace, r->trace = NULL;
  data.trace_qid = r->trace_qid, data.trace_device = 0;
  vq_report_t rep;
  if ((rc = vq_report_compute(&r->p, &data, &rep)) < 0) {
    vq_run_fail("no report: %s (the devices' logs are in %s)",
         rc < -100 ? spot_model_strerror(rc) : "the devices metered no interval or wrote no calibration", r->scratch);
    goto done;
  }
  if (print_report(r, &data, &rep) != 0)
    goto done;
  if (r->plot && vq_report_plot(r->plot, &r->p, &data, &rep) != 0)
    goto done;
  if (r->plot && !r->json)
    printf("figures: %s/energy.png, %s/billing.png (and .svg)\n", r->plot, r->plot);
  status = 0;
done:
  stop_all(r);
  vq_data_free(&data);
  free(r->trace);
  free(r->pool_asked);
  free(r->pool_ran);
  free(r->pool_seen);
  if ((status == 0 || r->cloud.pid == 0) && !r->keep && r->scratch[0]) { /* kept after a failed run */
    char cmd[PATH + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%.1023s'", r->scratch);
    if (system(cmd) != 0) { /* a leftover scratch directory is harmless */
    }
  } else if (status != 0 && r->scratch[0])
    fprintf(stderr, "spot vquery run: the nodes' namespaces and logs are kept in %s\n", r->scratch);
  return status;
}
