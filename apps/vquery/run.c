/*
 * apps/vquery/run.c: `spot vquery run`, the experiment of issue 10: the three tiers as separate spot nodes on
 * loopback, K monitoring intervals, then the measured figures against the model's (report.c) and, with --plot, the
 * figures (plot.c).
 *
 * It prepares a scratch directory (--keep DIR to keep it): a library (built from --data DIR, as
 * scripts/vquery-data.sh lays it out, unless --library is given), a key pair per node and one for the operator,
 * namespaces set up by the tiers' vq_*_setup, access files (the aggregator's inbox takes puts from the devices' keys;
 * the cloud takes puts and gets from the aggregator; each device takes puts, the answers, from the cloud; the
 * operator's key may get everywhere, for `spot trace`), and a known_nodes file naming every node's key. It starts
 * the cloud (spotd in worker mode with vquery_cloud.so) and N devices (spot-vquery device), waits until every
 * device has calibrated, then sets the common start time T0 (--lead-ms ahead): it starts the aggregator with it and
 * writes it to the start file the devices wait for. It prints a progress line per interval, traces one query
 * across the nodes while they run, and at the end waits for the devices (they wait for their answers), the
 * aggregator and the cloud, reads their logs and reports.
 *
 * The quota: a number of bits; optimal = theta* of the shaped law S = N R (spot_billing_optimum, MODEL.md section 4);
 * adhoc = N mu; compare = run at theta* and bill the same volumes at N mu too (the billing of an interval is a
 * function of S and theta, so both meters are recomputed; report.c). --kill-cloud-at K kills the cloud's spotd
 * (kill -9, its process group) in the middle of interval K and restarts it one interval later.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
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

#define PATH 4200 /* a file path composed from the directories below */
#define DIRMAX 1024 /* the scratch directory and this program's */
#define SUB 1100    /* a file or directory right inside one of them */
#define MAX_DEVICES 64

static const char usage_text[] =
    "usage: spot vquery run --devices N --intervals K --interval-ms T [--dist uniform|exponential|pareto --mu BITS\n"
    "         [--alpha A] [--sampler inverse|reject]] --rho BITS --quota BITS|optimal|adhoc|compare\n"
    "         (--data DIR | --library FILE.vql --images DIR) [--camera synthetic|DIR] [--seed S] [--json]\n"
    "         [--plot DIR] [--watts W] [--rapl] [--idle-instances 3] [--active-instances 30] [--price USD_PER_H]\n"
    "         [--calibrate N] [--lead-ms MS] [--mc-samples N] [--kill-cloud-at K] [--keep DIR] [--quiet]\n"
    "  (--lead-ms: T0 is this long after the last device calibrated, default 1000)\n"
    "  runs the media-query experiment: a cloud (spotd), an aggregator and N devices as separate spot nodes on\n"
    "  127.0.0.1, K intervals of T ms, then mean device energy, V+, billing from both meters, recall@1 and latency,\n"
    "  measured against the model on the volumes drawn and against the law's closed form (issue 10).\n"
    "  Without --dist the volumes come from motion alone and exponential and Pareto laws are fitted to them; then\n"
    "  --mu is the planning guess that adhoc and optimal quotas use.\n"
    "  --data DIR: the photographs as `scripts/vquery-data.sh DIR` lays them out (DIR/train, DIR/library).\n";

typedef struct run {
  /* options */
  int64_t devices, intervals, interval_ms, seed, idle_inst, active_inst, calibrate, lead_ms, mc_samples, kill_at;
  double mu, alpha, rho, watts, price;
  const char *dist, *sampler, *quota, *camera, *data, *library, *images, *plot, *keep;
  int json, rapl, quiet;
  /* derived */
  vq_params_t p;
  char scratch[DIRMAX], bindir[DIRMAX], spot[SUB], spotd[SUB], self[SUB], so[SUB], lib[SUB], imgs[SUB];
  char keys[SUB], cloud_dir[SUB], edge_dir[SUB], known[SUB], known_env[SUB + 32], start_file[SUB];
  char dev_dir[MAX_DEVICES][SUB];
  int cloud_port, edge_port, dev_port[MAX_DEVICES];
  vq_proc_t cloud, edge, dev[MAX_DEVICES];
  int64_t t0;
  char *trace;
  uint64_t trace_qid;
} run_t;

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

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("spot vquery run: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return 1;
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* ---- the parameters and the quota ---- */

static int derive(run_t *r) {
  vq_params_t *p = &r->p;
  memset(p, 0, sizeof *p);
  if (r->devices < 1 || r->devices > MAX_DEVICES)
    return fail("--devices must be 1 to %d", MAX_DEVICES), 2;
  if (r->intervals < 1 || r->interval_ms < 1)
    return fail("--intervals K and --interval-ms T are needed (K >= 1, T >= 1)"), 2;
  if (r->quota == NULL)
    return fail("--quota BITS|optimal|adhoc|compare is needed"), 2;
  p->devices = (uint32_t)r->devices, p->intervals = (uint32_t)r->intervals, p->interval_ms = (uint32_t)r->interval_ms;
  p->controlled = r->dist != NULL;
  p->mu = r->mu, p->alpha = r->alpha, p->rho = r->rho;
  p->sampler = r->sampler && strcmp(r->sampler, "reject") == 0 ? SPOT_SAMPLE_REJECT : SPOT_SAMPLE_INVERSE;
  if (r->sampler && strcmp(r->sampler, "reject") != 0 && strcmp(r->sampler, "inverse") != 0)
    return fail("--sampler must be inverse or reject, not '%s'", r->sampler), 2;
  if (!(r->rho >= 0))
    return fail("--rho BITS is needed (the devices' idle/active threshold, >= 0)"), 2;
  p->kind = SPOT_DIST_EXPONENTIAL; /* real mode plans with an exponential law of mean --mu */
  if (p->controlled && spot_dist_parse(r->dist, &p->kind) < 0)
    return fail("--dist must be uniform, exponential or pareto, not '%s'", r->dist), 2;
  if (p->controlled && p->kind == SPOT_DIST_FIXED)
    return fail("--dist fixed is not a law a device can draw from: use uniform, exponential or pareto"), 2;
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
      return fail("--quota must be a number of bits >= 0, or optimal, adhoc or compare"), 2;
    p->quota = VQ_QUOTA_BITS, p->theta = bits;
  } else if (strcmp(r->quota, "optimal") == 0)
    p->quota = VQ_QUOTA_OPTIMAL;
  else if (strcmp(r->quota, "adhoc") == 0)
    p->quota = VQ_QUOTA_ADHOC;
  else if (strcmp(r->quota, "compare") == 0)
    p->quota = VQ_QUOTA_COMPARE;
  else
    return fail("--quota must be a number of bits, optimal, adhoc or compare, not '%s'", r->quota), 2;
  if (!(r->mu > 0) && (p->controlled || p->quota != VQ_QUOTA_BITS))
    return fail("--mu BITS is needed (%s)", p->controlled ? "the law's mean" : "the planning guess of the quota"), 2;
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
      return fail("%s", spot_model_strerror(rc)), 2;
    if (p->controlled && p->kind == SPOT_DIST_PARETO && r->alpha <= 2)
      return fail("--alpha must exceed 2 for the variability V+ (the second moment is infinite otherwise)"), 2;
  }
  if (p->quota == VQ_QUOTA_OPTIMAL || p->quota == VQ_QUOTA_COMPARE)
    p->theta = p->theta_star;
  else if (p->quota == VQ_QUOTA_ADHOC)
    p->theta = p->theta_adhoc;
  if (r->kill_at >= r->intervals - 1 && r->kill_at >= 0)
    return fail("--kill-cloud-at K needs K < intervals - 1 (the cloud restarts one interval later)"), 2;
  return 0;
}

/* ---- preparing the nodes ---- */

static int keygen(run_t *r, const char *name) {
  char log[PATH];
  snprintf(log, sizeof log, "%s/keygen.log", r->scratch);
  char *argv[] = {r->spot, "keygen", (char *)name, "--dir", r->keys, NULL};
  if (vq_proc_run(argv, log, NULL) != 0)
    return fail("cannot make the key pair %s with %s keygen (see %s)", name, r->spot, log);
  return 0;
}

static int prepare_library(run_t *r) {
  if (r->library) {
    if (r->images == NULL)
      return fail("--library needs --images DIR, the photographs it was built from (the synthetic camera pans "
                  "over them)");
    snprintf(r->lib, sizeof r->lib, "%s", r->library);
    snprintf(r->imgs, sizeof r->imgs, "%s", r->images);
    return 0;
  }
  if (r->data == NULL)
    return fail("give --data DIR (made by `scripts/vquery-data.sh DIR`) or --library FILE.vql --images DIR");
  char train[PATH], log[PATH];
  snprintf(train, sizeof train, "%s/train", r->data);
  snprintf(r->imgs, sizeof r->imgs, "%s/library", r->data);
  if (!exists(train) || !exists(r->imgs))
    return fail("%s has no train/ and library/ folders: lay them out with `scripts/vquery-data.sh %s`", r->data,
                r->data);
  snprintf(r->lib, sizeof r->lib, "%s/library.vql", r->scratch);
  snprintf(log, sizeof log, "%s/library.log", r->scratch);
  if (!r->quiet)
    fprintf(stderr, "building the library from %s (training on %s) ...\n", r->imgs, train);
  char seed[32];
  snprintf(seed, sizeof seed, "%lld", (long long)r->seed);
  char *argv[] = {r->self, "library", "build", "--train", train, "--images", r->imgs, "--out", r->lib,
                  "--seed", seed, NULL};
  if (vq_proc_run(argv, log, NULL) != 0) {
    vq_proc_t fake = {0};
    snprintf(fake.name, sizeof fake.name, "library build");
    snprintf(fake.log, sizeof fake.log, "%s", log);
    vq_proc_tail(&fake, 5);
    return fail("building the library failed (see %s)", log);
  }
  return 0;
}

/* Access files and known_nodes. */
static int prepare_access(run_t *r) {
  char op[64], cloud[64], edge[64], dev[64], path[PATH];
  size_t cap = 256 + 128 * (size_t)r->devices;
  char *text = malloc(cap), *known = malloc(cap);
  int rc = 1;
  if (text == NULL || known == NULL)
    goto done;
  if (vq_read_pub(r->keys, "operator", op, sizeof op) < 0 || vq_read_pub(r->keys, "cloud", cloud, sizeof cloud) < 0 ||
      vq_read_pub(r->keys, "aggregator", edge, sizeof edge) < 0) {
    fail("cannot read the public keys in %s", r->keys);
    goto done;
  }
  /* the cloud: the aggregator puts (and gets); the operator reads (trace) */
  snprintf(text, cap, "%s put,get # the aggregator\n%s get # the operator (spot trace)\n", edge, op);
  snprintf(path, sizeof path, "%s/access", r->cloud_dir);
  if (vq_write_file(path, text) < 0)
    goto werr;
  /* the aggregator: the devices put to its inbox */
  int n = snprintf(text, cap, "%s get # the operator (spot trace)\n", op);
  int k = snprintf(known, cap, "127.0.0.1:%d %s\n127.0.0.1:%d %s\n", r->cloud_port, cloud, r->edge_port, edge);
  for (int64_t i = 0; i < r->devices; i++) {
    char name[32];
    snprintf(name, sizeof name, "dev%lld", (long long)i);
    if (vq_read_pub(r->keys, name, dev, sizeof dev) < 0) {
      fail("cannot read %s/%s.pub", r->keys, name);
      goto done;
    }
    n += snprintf(text + n, cap - (size_t)n, "%s put # device %lld\n", dev, (long long)i);
    k += snprintf(known + k, cap - (size_t)k, "127.0.0.1:%d %s\n", r->dev_port[i], dev);
  }
  snprintf(path, sizeof path, "%s/access", r->edge_dir);
  if (vq_write_file(path, text) < 0)
    goto werr;
  if (vq_write_file(r->known, known) < 0) {
    snprintf(path, sizeof path, "%s", r->known);
    goto werr;
  }
  /* each device: the cloud puts the answers */
  snprintf(text, cap, "%s put # the cloud (answers)\n%s get # the operator (spot trace)\n", cloud, op);
  for (int64_t i = 0; i < r->devices; i++) {
    snprintf(path, sizeof path, "%s/access", r->dev_dir[i]);
    if (vq_write_file(path, text) < 0)
      goto werr;
  }
  rc = 0;
  goto done;
werr:
  fail("cannot write %s", path);
done:
  free(text);
  free(known);
  return rc;
}

static int prepare(run_t *r) {
  if (r->keep) {
    if (strlen(r->keep) >= DIRMAX - 64)
      return fail("--keep: the directory's name is too long (at most %d bytes)", DIRMAX - 64);
    snprintf(r->scratch, sizeof r->scratch, "%s", r->keep);
    if (mkdir(r->scratch, 0755) != 0 && errno != EEXIST)
      return fail("cannot make the directory %s: %s", r->scratch, strerror(errno));
  } else {
    snprintf(r->scratch, sizeof r->scratch, "/tmp/spot-vqrun-XXXXXX");
    if (mkdtemp(r->scratch) == NULL)
      return fail("cannot make a scratch directory in /tmp: %s", strerror(errno));
  }
  if (vq_self_dir(r->bindir, sizeof r->bindir) < 0)
    return fail("cannot find this program's directory (/proc/self/exe)");
  const char *e;
  snprintf(r->self, sizeof r->self, "%s/spot-vquery", r->bindir);
  snprintf(r->spot, sizeof r->spot, "%s", (e = getenv("SPOT_BIN")) && *e ? e : "");
  if (!r->spot[0])
    snprintf(r->spot, sizeof r->spot, "%s/spot", r->bindir);
  snprintf(r->spotd, sizeof r->spotd, "%s", (e = getenv("SPOTD_BIN")) && *e ? e : "");
  if (!r->spotd[0])
    snprintf(r->spotd, sizeof r->spotd, "%s/spotd", r->bindir);
  snprintf(r->so, sizeof r->so, "%s", (e = getenv("VQ_HANDLERS")) && *e ? e : "");
  if (!r->so[0])
    snprintf(r->so, sizeof r->so, "%s/vquery_cloud.so", r->bindir);
  const char *need[] = {r->self, r->spot, r->spotd, r->so};
  for (int i = 0; i < 4; i++)
    if (access(need[i], R_OK) != 0)
      return fail("%s is missing: build spot first (cmake --build build)", need[i]);
  int rc = prepare_library(r);
  if (rc)
    return rc;
  snprintf(r->keys, sizeof r->keys, "%s/keys", r->scratch);
  mkdir(r->keys, 0700);
  snprintf(r->cloud_dir, sizeof r->cloud_dir, "%s/cloud", r->scratch);
  snprintf(r->edge_dir, sizeof r->edge_dir, "%s/edge", r->scratch);
  snprintf(r->known, sizeof r->known, "%s/known_nodes", r->scratch);
  snprintf(r->start_file, sizeof r->start_file, "%s/start-ns", r->scratch);
  snprintf(r->known_env, sizeof r->known_env, "SPOT_KNOWN_NODES=%s", r->known);
  if ((rc = keygen(r, "operator")) || (rc = keygen(r, "cloud")) || (rc = keygen(r, "aggregator")))
    return rc;
  r->cloud_port = vq_free_port(), r->edge_port = vq_free_port();
  for (int64_t i = 0; i < r->devices; i++) {
    char name[32];
    snprintf(name, sizeof name, "dev%lld", (long long)i);
    if ((rc = keygen(r, name)))
      return rc;
    snprintf(r->dev_dir[i], sizeof r->dev_dir[i], "%s/%s", r->scratch, name);
    r->dev_port[i] = vq_free_port();
    if (r->dev_port[i] == 0)
      return fail("no free TCP port on 127.0.0.1");
    if (vq_device_setup(r->dev_dir[i]) < 0)
      return fail("setting up %s: %s", r->dev_dir[i], vq_tiers_detail());
  }
  if (r->cloud_port == 0 || r->edge_port == 0)
    return fail("no free TCP port on 127.0.0.1");
  vq_cloud_config_t cfg;
  vq_cloud_config_default(&cfg);
  cfg.idle_instances = r->p.bill.idle_instances, cfg.active_instances = r->p.bill.active_instances;
  cfg.interval_ms = r->p.interval_ms;
  cfg.theta = r->p.theta;
  cfg.usd_per_instance_hour = r->p.bill.usd_per_instance_hour;
  if (strlen(r->lib) >= sizeof cfg.library)
    return fail("the library's path %s is too long for the cloud's configuration (at most %zu bytes)", r->lib,
                sizeof cfg.library - 1);
  snprintf(cfg.library, sizeof cfg.library, "%s", r->lib);
  if (vq_cloud_setup(r->cloud_dir, &cfg, r->so) < 0)
    return fail("setting up the cloud %s: %s", r->cloud_dir, vq_tiers_detail());
  if (vq_aggregator_setup(r->edge_dir) < 0)
    return fail("setting up the aggregator %s: %s", r->edge_dir, vq_tiers_detail());
  return prepare_access(r);
}

/* ---- the nodes ---- */

static int start_cloud(run_t *r) {
  char listen[64], key[PATH], log[PATH];
  snprintf(listen, sizeof listen, "127.0.0.1:%d", r->cloud_port);
  snprintf(key, sizeof key, "%s/cloud.key", r->keys);
  snprintf(log, sizeof log, "%s/cloud.log", r->scratch);
  char *argv[] = {r->spotd, "-n", r->cloud_dir, "--listen", listen, "--key", key, "--workers", "2", "--quiet", NULL};
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
  return fail("the cloud node (spotd on %s) did not come up", listen);
}

/* After the last interval the aggregator uploads what still arrives (devices that run late: an overrun, a long
 * calibration) once its inbox was quiet this long. */
static int64_t tail_ms(const run_t *r) {
  return 2 * r->interval_ms + 2000;
}

static int start_edge(run_t *r) {
  char listen[64], key[PATH], ckey[PATH], cloud[VQ_URL_MAX], log[PATH], T[32], t0[32], K[32], retry[32], tail[32];
  snprintf(listen, sizeof listen, "127.0.0.1:%d", r->edge_port);
  snprintf(key, sizeof key, "%s/aggregator.key", r->keys);
  snprintf(ckey, sizeof ckey, "%s/cloud.pub", r->keys);
  snprintf(cloud, sizeof cloud, "spot://127.0.0.1:%d/cloud", r->cloud_port);
  snprintf(log, sizeof log, "%s/aggregator.log", r->scratch);
  snprintf(T, sizeof T, "%lld", (long long)r->interval_ms);
  snprintf(t0, sizeof t0, "%lld", (long long)r->t0);
  snprintf(K, sizeof K, "%lld", (long long)r->intervals);
  snprintf(retry, sizeof retry, "%lld", (long long)(10 * r->interval_ms + 20000));
  snprintf(tail, sizeof tail, "%lld", (long long)tail_ms(r));
  char *argv[] = {r->self,         "aggregator", "--ns",      r->edge_dir, "--listen",    listen, "--key",
                  key,             "--cloud",    cloud,       "--cloud-key", ckey,        "--interval-ms",
                  T,               "--start-ns", t0,          "--intervals", K,           "--retry-ms",
                  retry,           "--tail-ms",  tail,        "--quiet",    NULL};
  char *env[] = {r->known_env, "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1", NULL};
  return vq_proc_start(&r->edge, "aggregator", argv, log, env) < 0;
}

static int start_device(run_t *r, int64_t i) {
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

static void stop_all(run_t *r) {
  for (int64_t i = 0; i < r->devices; i++)
    vq_proc_stop(&r->dev[i], SIGTERM, 3000);
  vq_proc_stop(&r->edge, SIGTERM, 3000);
  vq_proc_stop(&r->cloud, SIGTERM, 5000);
}

/* ---- during the run ---- */

static uint64_t latest(const char *dir, const char *log) {
  spot_ns_t *ns;
  spot_log_t *l;
  uint64_t seq = 0;
  if (spot_ns_open(dir, NULL, &ns) < 0)
    return 0;
  if (spot_ns_open_log(ns, log, 0, &l, NULL) == 0) {
    spot_log_latest(l, &seq);
    spot_log_close(l);
  }
  spot_ns_close(ns);
  return seq;
}

/* The first answered query of device 0: its qid and interval, and its answer's seqno in `answers`; 0 if none. */
static uint64_t answered_query(const run_t *r, uint64_t *answer_seq, uint64_t *interval) {
  spot_ns_t *ns;
  spot_log_t *l;
  uint64_t qid = 0;
  if (spot_ns_open(r->dev_dir[0], NULL, &ns) < 0)
    return 0;
  if (spot_ns_open_log(ns, VQ_LOG_ANSWERS, 0, &l, NULL) == 0) {
    vq_answer_rec_t a;
    uint64_t first = 0;
    spot_log_earliest(l, &first);
    if (first > 0 && spot_log_read(l, first, &a, sizeof a) == 0 && a.version == VQ_REC_VERSION) {
      qid = a.qid;
      *answer_seq = first;
      *interval = a.interval;
    }
    spot_log_close(l);
  }
  spot_ns_close(ns);
  return qid;
}

/* The seqno in the cloud's `batches` of the last batch that uploaded query qid of device dev (found in the
 * repository), or 0. */
static uint64_t batch_of(const run_t *r, uint32_t dev, uint64_t qid) {
  spot_ns_t *ns;
  spot_log_t *repo = NULL, *l = NULL;
  uint64_t found = 0, at = 0;
  if (spot_ns_open(r->cloud_dir, NULL, &ns) < 0)
    return 0;
  if (spot_ns_open_log(ns, VQ_LOG_REPOSITORY, 0, &repo, NULL) == 0 &&
      spot_ns_open_log(ns, VQ_LOG_BATCHES, 0, &l, NULL) == 0) {
    uint64_t first = 0, last = 0;
    spot_log_earliest(repo, &first);
    spot_log_latest(repo, &last);
    vq_query_rec_t *q = malloc(sizeof *q);
    for (uint64_t s = first; q && s > 0 && s <= last && at == 0; s++)
      if (spot_log_read(repo, s, q, sizeof *q) == 0 && q->version == VQ_REC_VERSION && q->device == dev &&
          q->qid == qid)
        at = s;
    free(q);
    spot_log_earliest(l, &first);
    spot_log_latest(l, &last);
    for (uint64_t s = first; at > 0 && s > 0 && s <= last; s++) {
      vq_batch_rec_t b;
      if (spot_log_read(l, s, &b, sizeof b) == 0 && b.version == VQ_REC_VERSION && b.first <= at && at <= b.last)
        found = s;
    }
  }
  if (l)
    spot_log_close(l);
  if (repo)
    spot_log_close(repo);
  spot_ns_close(ns);
  return found;
}

/* Appends `spot -n DIR trace LOG SEQ` (run with the operator's key, which may get on every node) to out. */
static int trace_cmd(run_t *r, const char *dir, const char *log, uint64_t seq, const char *why, const char *out) {
  char key[PATH], s[32];
  snprintf(key, sizeof key, "SPOT_KEY=%s/operator.key", r->keys);
  snprintf(s, sizeof s, "%llu", (unsigned long long)seq);
  char *env[] = {r->known_env, key, NULL};
  FILE *f = fopen(out, "a");
  if (f == NULL)
    return -1;
  fprintf(f, "$ spot -n %s trace %s %s   # %s\n", dir, log, s, why);
  fclose(f);
  char *argv[] = {r->spot, "-n", (char *)dir, "trace", (char *)log, s, NULL};
  return vq_proc_run(argv, out, env);
}

/* The path of one query through the three nodes, from their event logs (spot trace follows a put to another node
 * into that node's event log, not a cause back to one): the device's put of the query and its forward to the
 * aggregator's inbox; the cloud's batch of the query's interval (put by the aggregator), its billing, its jobs,
 * the matches and the answers put back to the devices; the device's answer arriving. */
static void trace_one(run_t *r) {
  uint64_t aseq = 0, k = 0, qid = answered_query(r, &aseq, &k), bseq = batch_of(r, 0, qid);
  if (qid == 0)
    return;
  char out[PATH];
  snprintf(out, sizeof out, "%s/trace.txt", r->scratch);
  unlink(out);
  int st[3] = {trace_cmd(r, r->dev_dir[0], VQ_LOG_QUERIES, qid, "the device: the query, forwarded", out), 0, 0};
  if (bseq > 0)
    st[1] = trace_cmd(r, r->cloud_dir, VQ_LOG_BATCHES, bseq, "the cloud: the batch that uploaded it", out);
  st[2] = trace_cmd(r, r->dev_dir[0], VQ_LOG_ANSWERS, aseq, "the device: its answer", out);
  FILE *f = fopen(out, "r");
  if (f == NULL)
    return;
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  char line[1024];
  while (m && fgets(line, sizeof line, f))
    fputs(line, m);
  if (m && (st[0] != 0 || st[1] != 0 || st[2] != 0))
    fprintf(m, "(spot trace exited with status %d, %d and %d)\n", st[0], st[1], st[2]);
  if (m)
    fclose(m);
  fclose(f);
  r->trace = buf;
  r->trace_qid = qid;
}

/* Waits until every device has calibrated (its calibration record is written) and waits for T0 in the start
 * file. 0, or 1 after a device ended or the wait took longer than 10 minutes. */
static int wait_ready(run_t *r) {
  int tty = isatty(2);
  int64_t until = now_ns() + 600 * 1000000000ll;
  for (int shown = -1;;) {
    if (interrupted)
      return fail("interrupted: stopping the nodes");
    int ready = 0;
    for (int64_t i = 0; i < r->devices; i++) {
      if (vq_proc_poll(&r->dev[i])) {
        vq_proc_tail(&r->dev[i], 10);
        return fail("%s ended with status %d before it was ready (its log: %s)", r->dev[i].name, r->dev[i].status,
                    r->dev[i].log);
      }
      ready += latest(r->dev_dir[i], VQ_LOG_CALIB) > 0;
    }
    if (!r->quiet && ready != shown) {
      fprintf(stderr, "%scalibrating: %d of %lld devices ready%s", tty ? "\r" : "", ready, (long long)r->devices,
              tty ? "   " : "\n");
      shown = ready;
    }
    if (ready == r->devices)
      break;
    if (now_ns() > until)
      return fail("the devices did not calibrate within 10 minutes (their logs: %s)", r->scratch);
    sleep_ms(50);
  }
  if (tty && !r->quiet)
    fputc('\n', stderr);
  return 0;
}

/* Writes T0 to the start file the devices wait for (a new file renamed into place: they never read half of it). */
static int write_start(run_t *r) {
  char tmp[PATH], text[32];
  snprintf(tmp, sizeof tmp, "%s.tmp", r->start_file);
  snprintf(text, sizeof text, "%lld\n", (long long)r->t0);
  if (vq_write_file(tmp, text) < 0 || rename(tmp, r->start_file) != 0)
    return fail("cannot write the start time to %s: %s", r->start_file, strerror(errno));
  return 0;
}

/* Follows the run until the devices end: a progress line per interval, the cloud killed and restarted if asked,
 * one query traced. 0, or 1 after a tier failed. */
static int follow(run_t *r) {
  int64_t T = r->interval_ms * 1000000, K = r->intervals;
  int64_t kill_t = r->kill_at >= 0 ? r->t0 + r->kill_at * T + T / 2 : INT64_MAX;
  int64_t back_t = r->kill_at >= 0 ? kill_t + T : INT64_MAX;
  int killed = 0, tty = isatty(2), traced = 0;
  int64_t shown = -2, shown_at = 0, end_by = r->t0 + K * T + (tail_ms(r) + 4 * r->interval_ms + 15000) * 1000000 +
                                             60 * 1000000000ll;
  for (;;) {
    if (interrupted)
      return fail("interrupted: stopping the nodes");
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
        return fail("%s ended with status %d (its log: %s)", r->dev[i].name, r->dev[i].status, r->dev[i].log);
      }
    }
    if (vq_proc_poll(&r->edge) && !vq_proc_ok(&r->edge)) {
      vq_proc_tail(&r->edge, 10);
      return fail("the aggregator ended with status %d (its log: %s)", r->edge.status, r->edge.log);
    }
    if (killed != 1 && vq_proc_poll(&r->cloud)) {
      vq_proc_tail(&r->cloud, 10);
      return fail("the cloud node ended with status %d (its log: %s)", r->cloud.status, r->cloud.log);
    }
    if (!traced && k >= 2 && killed != 1) {
      trace_one(r);
      traced = r->trace != NULL;
    }
    int show = tty ? 1 : k < K ? k != shown : now - shown_at > 5000000000ll;
    if (!r->quiet && show) {
      uint64_t put = 0, answers = 0;
      for (int64_t i = 0; i < r->devices; i++) {
        put += latest(r->dev_dir[i], VQ_LOG_QUERIES);
        answers += latest(r->dev_dir[i], VQ_LOG_LATENCY);
      }
      uint64_t inbox = latest(r->edge_dir, VQ_LOG_INBOX), billed = latest(r->cloud_dir, VQ_LOG_BILLING);
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
      return fail("the devices did not end within 60 s after the last interval and their grace (their logs: %s)",
                  r->scratch);
    }
    sleep_ms(tty ? 250 : 100);
  }
  if (tty && !r->quiet)
    fputc('\n', stderr);
  if (!traced)
    trace_one(r);
  /* the aggregator ends after its tail batch; the cloud has answered every query once the devices ended */
  if (!vq_proc_wait(&r->edge, (int)(tail_ms(r) + r->interval_ms * 2 + 20000))) {
    vq_proc_tail(&r->edge, 10);
    return fail("the aggregator did not end (its log: %s)", r->edge.log);
  }
  if (!vq_proc_ok(&r->edge)) {
    vq_proc_tail(&r->edge, 10);
    return fail("the aggregator ended with status %d (its log: %s)", r->edge.status, r->edge.log);
  }
  return 0;
}

/* ---- the command ---- */

int vq_cmd_run(int argc, char **argv) {
  static run_t run;
  run_t *r = &run;
  memset(r, 0, sizeof *r);
  r->seed = 1, r->idle_inst = 3, r->active_inst = 30, r->watts = 2.0, r->calibrate = 30, r->lead_ms = 1000;
  r->mc_samples = 200000, r->kill_at = -1, r->rho = -1, r->alpha = 0;
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
  };
  int rc = vq_opts_parse("run", opts, sizeof opts / sizeof opts[0], argc, argv);
  if (rc == 1)
    return fputs(usage_text, stdout), 0;
  if (rc != 0)
    return fputs(usage_text, stderr), 2;
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
  if (prepare(r))
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
  for (int64_t i = 0; i < r->devices; i++)
    dirs[i] = r->dev_dir[i];
  if ((rc = vq_data_read(dirs, r->p.devices, r->edge_dir, r->cloud_dir, r->p.intervals, &data)) < 0) {
    fail("cannot read the run's logs in %s: %s %s", r->scratch, spot_strerror(rc), spot_errdetail());
    goto done;
  }
  data.trace = r->trace, r->trace = NULL;
  data.trace_qid = r->trace_qid, data.trace_device = 0;
  vq_report_t rep;
  if ((rc = vq_report_compute(&r->p, &data, &rep)) < 0) {
    fail("no report: %s (the devices' logs are in %s)",
         rc < -100 ? spot_model_strerror(rc) : "the devices metered no interval or wrote no calibration", r->scratch);
    goto done;
  }
  vq_report_print(stdout, &r->p, &data, &rep, r->json);
  fflush(stdout);
  if (r->plot && vq_report_plot(r->plot, &r->p, &data, &rep) != 0)
    goto done;
  if (r->plot && !r->json)
    printf("figures: %s/energy.png, %s/billing.png (and .svg)\n", r->plot, r->plot);
  status = 0;
done:
  stop_all(r);
  vq_data_free(&data);
  free(r->trace);
  if ((status == 0 || r->cloud.pid == 0) && !r->keep && r->scratch[0]) { /* kept after a failed run */
    char cmd[PATH + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%.1023s'", r->scratch);
    if (system(cmd) != 0) { /* a leftover scratch directory is harmless */
    }
  } else if (status != 0 && r->scratch[0])
    fprintf(stderr, "spot vquery run: the nodes' namespaces and logs are kept in %s\n", r->scratch);
  return status;
}
