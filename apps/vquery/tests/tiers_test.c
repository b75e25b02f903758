/*
 * apps/vquery/tests/tiers_test.c: the three tiers of the media-query application as separate spot nodes on
 * loopback, each with its own key and access file: a cloud spotd (worker mode, vquery_cloud.so), an aggregator and
 * one device (spot-vquery), for three short intervals of a uniform law. Then it reads their logs back:
 *   - every query the device put was answered (its latency log holds every qid, with the query's truth), and most
 *     answers name the photograph the camera was looking at;
 *   - the device's meter records hold the volumes drawn from the law with its seed (checked against an independent
 *     draw), ceil(r / 8192) queries, active bits = queries * 8192, idle bits = (rho - active)+, and energy that is
 *     positive where work was done; its calibration record has positive eps_a and eps_i;
 *   - billing by interval number: each interval's billing record (the one that counted the most batches) bills
 *     exactly the bits of the queries the device made in that interval, whatever batch brought them, with the
 *     instances the autoscaler rule gives (idle at the first interval, then from the previous interval's main
 *     batch against theta) and the model's meter;
 *   - the aggregator sent one main batch per interval, in order, and after the cloud was killed (SIGKILL) mid-run
 *     and started again, a retried upload and still every query answered;
 *   - with the aggregator started late (6 s after the device's first query, longer than a remote put's 5 s limit), the
 *     device's vq_forward retried: queries put before the aggregator existed were answered, and billed to the
 *     interval they were made in (by late parts: the main batches went at their deadlines without them);
 *   - in real mode (no law: a query per frame with motion, at --fps), the volume is the queries made.
 * The run starts when the device is calibrated (--start-file), so a slow start (ASan, a loaded machine) is no
 * failure.
 * The unit parts (billing rule, idle split, set-up idempotence) are tested first, without processes.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <spot/log.h>
#include <spot/ns.h>

#include "device.h"
#include "support.h"
#include "test.h"
#include "vquery.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

static const char *env(const char *name) {
  const char *v = getenv(name);
  return v ? v : "";
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- unit parts ---- */

static void test_billing_rule(void) {
  vq_cloud_config_t cfg;
  vq_cloud_config_default(&cfg);
  cfg.theta = 10000;
  cfg.interval_ms = 2000;
  vq_billing_rec_t b;
  vq_billing_interval(&cfg, 4, 4000, 1, 3, &b);
  CHECK_EQ(b.interval, 4);
  CHECK_EQ(b.instances, 3);
  CHECK_EQ(b.next_instances, cfg.idle_instances);
  CHECK(fabs(b.model_usd - (cfg.b_t * 4000 + cfg.b_i * 6000)) <= 1e-9 * b.model_usd);
  CHECK(fabs(b.instance_usd - 3 * 2.0 * 0.01 / 3600) < 1e-15);
  vq_billing_interval(&cfg, 5, 10000, 2, 3, &b); /* S = theta: active */
  CHECK_EQ(b.next_instances, cfg.active_instances);
  vq_billing_interval(&cfg, 6, 30000, 4, 30, &b);
  CHECK_EQ(b.next_instances, cfg.active_instances);
  CHECK(fabs(b.model_usd - (cfg.b_t * 30000 + cfg.b_a * 20000)) <= 1e-9 * b.model_usd);
  CHECK(fabs(b.instance_usd - 30 * 2.0 * 0.01 / 3600) < 1e-15);
}

static void test_idle_split(void) {
  uint64_t whole;
  double frac;
  vq_idle_split(10 * 1024 + 256, 1024, &whole, &frac);
  CHECK_EQ(whole, 10);
  CHECK(fabs(frac - 0.25) < 1e-12);
  vq_idle_split(-5, 1024, &whole, &frac);
  CHECK_EQ(whole, 0);
  CHECK(frac == 0);
  CHECK_EQ(vq_volume_queries(0), 0);
  CHECK_EQ(vq_volume_queries(1), 1);
  CHECK_EQ(vq_volume_queries(8192), 1);
  CHECK_EQ(vq_volume_queries(8193), 2);
  vq_volume_t v;
  CHECK_RC(vq_volume_init(&v, "fixed", 8192, 0, NULL, 1, 0), SPOT_EINVAL);
  CHECK_RC(vq_volume_init(&v, "pareto", 8192, 1.0, NULL, 1, 0), SPOT_EINVAL);
  CHECK(strstr(vq_tiers_detail(), "alpha") != NULL);
  CHECK_RC(vq_volume_init(&v, "uniform", 8192, 0, "bogus", 1, 0), SPOT_EINVAL);
  CHECK_OK(vq_volume_init(&v, "uniform", 8192, 0, "reject", 1, 0));
  for (int i = 0; i < 1000; i++) {
    double r = vq_volume_draw(&v);
    CHECK(r >= 0 && r <= 2 * 8192);
  }
}

static void test_setup(void) {
  char base[4100], dir[4200], so[4300], out[256];
  snprintf(base, sizeof base, "%s", spot_test_dir("vq-setup"));
  snprintf(dir, sizeof dir, "%s/cloud", base);
  vq_cloud_config_t cfg;
  vq_cloud_config_default(&cfg);
  CHECK_RC(vq_cloud_setup(dir, &cfg, env("VQ_HANDLERS")), SPOT_EINVAL); /* no library */
  CHECK(strstr(vq_tiers_detail(), "library") != NULL);
  snprintf(cfg.library, sizeof cfg.library, "/nonexistent.vql");
  CHECK_RC(vq_cloud_setup(dir, &cfg, "/nonexistent/vquery_cloud.so"), SPOT_ENOTFOUND);
  CHECK(strstr(vq_tiers_detail(), "vquery_cloud") != NULL);
  CHECK_OK(vq_cloud_setup(dir, &cfg, env("VQ_HANDLERS")));
  CHECK_OK(vq_cloud_setup(dir, &cfg, env("VQ_HANDLERS"))); /* idempotent: no second config */
  cfg.theta = 5;
  CHECK_OK(vq_cloud_setup(dir, &cfg, env("VQ_HANDLERS"))); /* a new config */
  snprintf(so, sizeof so, "%s/.spot/handlers/vquery_cloud.so", dir);
  struct stat st;
  CHECK(stat(so, &st) == 0 && st.st_size > 0);
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  spot_log_t *log;
  CHECK_OK(spot_ns_open_log(ns, VQ_LOG_CONFIG, 0, &log, NULL));
  uint64_t latest;
  CHECK_OK(spot_log_latest(log, &latest));
  CHECK_EQ(latest, 2);
  spot_log_close(log);
  spot_ns_close(ns);
  snprintf(dir, sizeof dir, "%s/dev", base);
  CHECK_OK(vq_device_setup(dir));
  CHECK_OK(vq_device_setup(dir));
  snprintf(dir, sizeof dir, "%s/agg", base);
  CHECK_OK(vq_aggregator_setup(dir));
  CHECK_OK(vq_aggregator_setup(dir));
  spot_test_sh(out, sizeof out, NULL, 0, "rm -rf %s", base);
}

/* ---- the three tiers ---- */

enum { CLOUD, AGG, DEV, NODES };
static const char *names[NODES] = {"cloud", "agg", "dev0"};
static char root[4200], dirs[NODES][4400], known[4400];
static int ports[NODES];
static pid_t pids[NODES];

static void stop_all(void) {
  for (int i = 0; i < NODES; i++)
    if (pids[i] > 0) {
      kill(pids[i], SIGTERM);
      waitpid(pids[i], NULL, 0);
      pids[i] = 0;
    }
}

static char *pub_of(const char *who) {
  static char k[8][64];
  static int n;
  char path[4400];
  snprintf(path, sizeof path, "%s/%s.pub", root, who);
  char *out = k[n++ % 8];
  out[0] = '\0';
  FILE *f = fopen(path, "r");
  if (f && fgets(out, 64, f) == NULL)
    out[0] = '\0';
  if (f)
    fclose(f);
  out[strcspn(out, "\n")] = '\0';
  return out;
}

static int write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f == NULL)
    return -1;
  int ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok ? 0 : -1;
}

/* Waits (at most limit_s) for child pid to exit: its exit status, or -1 (then it is killed). */
static int wait_exit(pid_t *pid, int limit_s) {
  for (int i = 0; i < limit_s * 20; i++) {
    int st;
    pid_t r = waitpid(*pid, &st, WNOHANG);
    if (r == *pid) {
      *pid = 0;
      return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    usleep(50000);
  }
  kill(*pid, SIGKILL);
  waitpid(*pid, NULL, 0);
  *pid = 0;
  return -1;
}

/* What read_all returned, freed at the next run and at exit (a failed CHECK returns early). */
static void *reads[16];
static int nreads;

static void free_reads(void) {
  for (int i = 0; i < nreads; i++)
    free(reads[i]);
  nreads = 0;
}

/* Reads every element of log `name` of namespace dir into an array (freed by free_reads): *n elements of size
 * bytes. */
static void *read_all(const char *dir, const char *name, size_t size, uint64_t *n) {
  spot_ns_t *ns;
  *n = 0;
  if (spot_ns_open(dir, NULL, &ns) != 0)
    return NULL;
  spot_log_t *log;
  char *out = NULL;
  uint64_t latest = 0;
  if (spot_ns_open_log(ns, name, 0, &log, NULL) == 0) {
    spot_log_latest(log, &latest);
    out = calloc(latest ? latest : 1, size);
    for (uint64_t s = 1; out && s <= latest; s++)
      if (spot_log_read(log, s, out + (s - 1) * size, size) != 0)
        memset(out + (s - 1) * size, 0, size);
    spot_log_close(log);
  }
  spot_ns_close(ns);
  *n = latest;
  if (out && nreads < 16)
    reads[nreads++] = out;
  return out;
}

/* A small library, made once per test program in its own scratch directory (removed at exit): the LIB_PHOTOS
 * smallest photographs of scripts/vquery-data.sh (linked into DIR/images; small files decode fast under ASan) and a
 * model trained on its TRAIN_IMAGES smallest training images. Its paths into lib and images (static storage), or
 * -1 with a line saying what failed (a missing package names the script that installs it). */
#define LIB_PHOTOS 4
#define TRAIN_IMAGES 3
static char lib_root[4200];

static void remove_library(void) {
  char out[256];
  if (lib_root[0])
    spot_test_sh(out, sizeof out, NULL, 0, "rm -rf %s", lib_root);
}

static int make_library(const char **lib, const char **images) {
  static char made_lib[4400], made_images[4400];
  char out[8192], err[8192];
  if (made_lib[0] == '\0') {
    snprintf(lib_root, sizeof lib_root, "%s", spot_test_dir("vq-lib"));
    atexit(remove_library);
    snprintf(made_lib, sizeof made_lib, "%s/test.vql", lib_root);
    snprintf(made_images, sizeof made_images, "%s/images", lib_root);
    int rc = spot_test_sh(
        out, sizeof out, err, sizeof err,
        "VQ_DATA_NO_INSTALL=1 bash %s/scripts/vquery-data.sh %s/data && mkdir -p %s %s/train && "
        "cd %s/data/library && for f in $(ls -LrS | head -%d); do ln -s \"$PWD/$f\" %s/; done && "
        "cd %s/data/train && for f in $(ls -LrS | head -%d); do ln -s \"$PWD/$f\" %s/train/; done && "
        "%s library build --train %s/train --images %s --out %s",
        env("SPOT_SRC"), lib_root, made_images, lib_root, lib_root, LIB_PHOTOS, made_images, lib_root, TRAIN_IMAGES,
        lib_root, env("VQ_BIN"), lib_root, made_images, made_lib);
    if (rc != 0) {
      fprintf(stderr, "  making the test library failed (the photographs come from scripts/vquery-data.sh; run it "
                      "as root once to install their packages): %s%s\n",
              out, err);
      made_lib[0] = '\0';
      return -1;
    }
  }
  *lib = made_lib;
  *images = made_images;
  return 0;
}

#define T_MS 1000
#define MU 8192.0
#define RHO 12288.0
#define SEED 4 /* draws 1, 2, 1, 1 queries: the autoscaler goes idle, idle, active, idle */
#define KMAX 8
#define REAL_FPS "10"
#define REAL_SEED "19" /* this seed's film has an object crossing the view from frame 14 on (camera.c's generator) */

static void start_cloud(void) {
  char listen[64], key[4500];
  snprintf(listen, sizeof listen, "127.0.0.1:%d", ports[CLOUD]);
  snprintf(key, sizeof key, "%s/cloud.key", root);
  pids[CLOUD] = fork();
  if (pids[CLOUD] == 0) {
    execl(env("SPOTD_BIN"), "spotd", "-n", dirs[CLOUD], "--quiet", "--listen", listen, "--key", key, "--workers",
          "2", (char *)NULL);
    _exit(127);
  }
}

static uint64_t log_latest(const char *dir, const char *name) {
  spot_ns_t *ns;
  uint64_t latest = 0;
  if (spot_ns_open(dir, NULL, &ns) != 0)
    return 0;
  spot_log_t *log;
  if (spot_ns_open_log(ns, name, 0, &log, NULL) == 0) {
    spot_log_latest(log, &latest);
    spot_log_close(log);
  }
  spot_ns_close(ns);
  return latest;
}

/* Runs the three tiers for k intervals (kill_cloud: the cloud is killed with SIGKILL once it billed interval 0 and
 * started again after interval 1 ended, so that the aggregator's upload of interval 1 fails first; real: the
 * device's volume comes from motion at 4 frames/s instead of the law; agg_late_ms: the aggregator starts this long
 * after the run's T0), then checks their logs (see the top of the file). */
static void run_tiers(const char *tag, int k_n, int kill_cloud, int real, int agg_late_ms) {
  static int registered;
  if (!registered++) {
    atexit(stop_all);
    atexit(free_reads);
  }
  stop_all(); /* what a failed test left running */
  free_reads();
  snprintf(root, sizeof root, "%s", spot_test_dir(tag));
  char cmd[8192], out[8192], err[8192];
  const char *lib, *images;
  int64_t t_lib = now_ns();
  CHECK_EQ(make_library(&lib, &images), 0);
  printf("  library ready in %.1f s\n", (now_ns() - t_lib) / 1e9);
  for (int i = 0; i < NODES; i++) {
    ports[i] = 23000 + (int)(getpid() % 8000) + i * 11 + kill_cloud * 3 + real * 5 + (agg_late_ms > 0) * 7;
    snprintf(dirs[i], sizeof dirs[i], "%s/%s", root, names[i]);
    snprintf(cmd, sizeof cmd, "cd %s && %s keygen %s", root, spot_test_bin(), names[i]);
    int rc = spot_test_sh(out, sizeof out, err, sizeof err, "%s", cmd);
    if (rc != 0)
      fprintf(stderr, "  %s: %s%s\n", cmd, out, err);
    CHECK_EQ(rc, 0);
  }
  snprintf(known, sizeof known, "%s/known_nodes", root);
  snprintf(cmd, sizeof cmd, "127.0.0.1:%d %s\n127.0.0.1:%d %s\n127.0.0.1:%d %s\n", ports[CLOUD], pub_of("cloud"),
           ports[AGG], pub_of("agg"), ports[DEV], pub_of("dev0"));
  CHECK_EQ(write_file(known, cmd), 0);

  /* the namespaces and who may put where: device -> aggregator's inbox -> cloud; cloud -> device's answers */
  vq_cloud_config_t cfg;
  vq_cloud_config_default(&cfg);
  cfg.theta = 1.5 * MU; /* one query (8192 b) is below it, two are above: the autoscaler flips */
  cfg.interval_ms = T_MS;
  cfg.match_batch = 2; /* several jobs per interval */
  snprintf(cfg.library, sizeof cfg.library, "%s", lib);
  CHECK_OK(vq_cloud_setup(dirs[CLOUD], &cfg, env("VQ_HANDLERS")));
  CHECK_OK(vq_aggregator_setup(dirs[AGG]));
  CHECK_OK(vq_device_setup(dirs[DEV]));
  const int from[NODES] = {AGG, DEV, CLOUD};
  for (int i = 0; i < NODES; i++) {
    char path[4500], line[256];
    snprintf(path, sizeof path, "%s/access", dirs[i]);
    snprintf(line, sizeof line, "%s put  # %s\n", pub_of(names[from[i]]), names[from[i]]);
    CHECK_EQ(write_file(path, line), 0);
  }

  setenv("SPOT_KNOWN_NODES", known, 1);
  char listen[NODES][64], key[NODES][4500], pub[NODES][4500];
  for (int i = 0; i < NODES; i++) {
    snprintf(listen[i], sizeof listen[i], "127.0.0.1:%d", ports[i]);
    snprintf(key[i], sizeof key[i], "%s/%s.key", root, names[i]);
    snprintf(pub[i], sizeof pub[i], "%s/%s.pub", root, names[i]);
  }
  start_cloud();
  char t0[32], cloud_url[128], inbox_url[128], interval[16], intervals[16], mu[32], rho[32], seed[16];
  char start_file[4400], tmp[4500];
  snprintf(start_file, sizeof start_file, "%s/start-ns", root);
  snprintf(cloud_url, sizeof cloud_url, "spot://127.0.0.1:%d/cloud", ports[CLOUD]);
  snprintf(inbox_url, sizeof inbox_url, "spot://127.0.0.1:%d/agg/inbox", ports[AGG]);
  snprintf(interval, sizeof interval, "%d", T_MS);
  snprintf(intervals, sizeof intervals, "%d", k_n);
  snprintf(mu, sizeof mu, "%.0f", MU);
  snprintf(rho, sizeof rho, "%.0f", RHO);
  snprintf(seed, sizeof seed, "%d", SEED);
  pids[DEV] = fork();
  if (pids[DEV] == 0) {
    const char *args[64] = {"spot-vquery", "device", "--ns", dirs[DEV], "--listen", listen[DEV], "--key", key[DEV],
                            "--index", "0", "--aggregator", inbox_url, "--aggregator-key", pub[AGG], "--library", lib,
                            "--images", images, "--interval-ms", interval, "--start-file", start_file,
                            "--intervals", intervals, "--rho", rho, "--seed", seed, "--calibrate", "2", "--grace-ms",
                            "20000", getenv("VQ_TEST_VERBOSE") ? "--seed" : "--quiet",
                            getenv("VQ_TEST_VERBOSE") ? seed : NULL};
    int n = 0;
    while (args[n])
      n++;
    const char *law[] = {"--dist", "uniform", "--mu", mu, NULL}, *motion[] = {"--fps", REAL_FPS, "--seed", REAL_SEED, NULL};
    for (const char **a = real ? motion : law; *a; a++)
      args[n++] = *a;
    execv(env("VQ_BIN"), (char *const *)args);
    _exit(127);
  }
  /* the run starts once the device is calibrated (however long a loaded machine or ASan made that) */
  int64_t launched = now_ns();
  for (int i = 0; i < 1800 && log_latest(dirs[DEV], VQ_LOG_CALIB) == 0 && waitpid(pids[DEV], NULL, WNOHANG) == 0; i++)
    usleep(50000);
  CHECK(log_latest(dirs[DEV], VQ_LOG_CALIB) > 0);
  int64_t start = now_ns() + 500000000ll;
  printf("  the device was ready (calibrated) %.1f s after its launch\n", (start - 500000000ll - launched) / 1e9);
  char line[40];
  snprintf(t0, sizeof t0, "%lld", (long long)start);
  snprintf(line, sizeof line, "%s\n", t0);
  snprintf(tmp, sizeof tmp, "%s.tmp", start_file);
  CHECK(write_file(tmp, line) == 0 && rename(tmp, start_file) == 0);
  int64_t agg_started = now_ns();
  if (agg_late_ms > 0) { /* agg_late_ms after the device's first query (a slow device, ASan, puts it late) */
    for (int i = 0; i < 1200 && log_latest(dirs[DEV], VQ_LOG_QUERIES) == 0 && waitpid(pids[DEV], NULL, WNOHANG) == 0;
         i++)
      usleep(50000);
    uint64_t n1;
    vq_query_rec_t *q1 = read_all(dirs[DEV], VQ_LOG_QUERIES, sizeof *q1, &n1);
    CHECK(q1 != NULL && n1 > 0);
    while (now_ns() < q1[0].put_ns + agg_late_ms * 1000000ll && waitpid(pids[DEV], NULL, WNOHANG) == 0)
      usleep(50000);
    agg_started = now_ns();
  }
  pids[AGG] = fork();
  if (pids[AGG] == 0) {
    execl(env("VQ_BIN"), "spot-vquery", "aggregator", "--ns", dirs[AGG], "--listen", listen[AGG], "--key", key[AGG],
          "--cloud", cloud_url, "--cloud-key", pub[CLOUD], "--interval-ms", interval, "--start-ns", t0,
          "--intervals", intervals, "--tail-ms", "1000", "--timeout-ms", "500", "--devices", "1",
          getenv("VQ_TEST_VERBOSE") ? (char *)NULL : "--quiet", (char *)NULL);
    _exit(127);
  }
  if (kill_cloud) {
    for (int i = 0; i < 400 && log_latest(dirs[CLOUD], VQ_LOG_BILLING) == 0; i++)
      usleep(50000);
    CHECK(log_latest(dirs[CLOUD], VQ_LOG_BILLING) > 0);
    kill(pids[CLOUD], SIGKILL);
    waitpid(pids[CLOUD], NULL, 0);
    pids[CLOUD] = 0;
    while (now_ns() < start + 2ll * T_MS * 1000000 + 1200000000ll) /* past the upload of interval 1 */
      usleep(50000);
    start_cloud();
  }
  CHECK_EQ(wait_exit(&pids[DEV], 50 + agg_late_ms / 1000), 0);
  CHECK_EQ(wait_exit(&pids[AGG], 20), 0);
  stop_all();

  /* the device: meter, calibration, every query answered */
  uint64_t nm, nc, nq, nl, nb, nu;
  vq_device_rec_t *m = read_all(dirs[DEV], VQ_LOG_METER, sizeof *m, &nm);
  vq_calib_rec_t *c = read_all(dirs[DEV], VQ_LOG_CALIB, sizeof *c, &nc);
  vq_query_rec_t *q = read_all(dirs[DEV], VQ_LOG_QUERIES, sizeof *q, &nq);
  vq_latency_rec_t *l = read_all(dirs[DEV], VQ_LOG_LATENCY, sizeof *l, &nl);
  vq_billing_rec_t *b = read_all(dirs[CLOUD], VQ_LOG_BILLING, sizeof *b, &nb);
  vq_upload_rec_t *u = read_all(dirs[AGG], VQ_LOG_UPLOADED, sizeof *u, &nu);
  uint64_t nbt;
  vq_batch_rec_t *bt = read_all(dirs[CLOUD], VQ_LOG_BATCHES, sizeof *bt, &nbt);
  int ok = m && c && q && l && b && u && bt;
  if (ok) {
    printf("  %llu intervals metered, %llu queries, %llu answers, %llu billing records, %llu uploads\n",
           (unsigned long long)nm, (unsigned long long)nq, (unsigned long long)nl, (unsigned long long)nb,
           (unsigned long long)nu);
    printf("  calibration: eps_a %.3g J/b, eps_i %.3g J/b\n", c[0].eps_a, c[0].eps_i);
  }
  vq_volume_t law;
  if (ok)
    ok = vq_volume_init(&law, "uniform", MU, 0, NULL, SEED, 0) == 0;
  if (ok && nm > 0)
    printf("  the device began interval 0 %.0f ms after its start time\n", (m[0].start_ns - start) / 1e6);
  int meter_ok = ok && nm == (uint64_t)k_n &&
                 /* the calibration before the run, and (controlled mode) the one that pools the rests' units too */
                 (nc == 1 || (nc == 2 && !real && c[1].active_frames > c[0].active_frames && c[1].eps_a > 0)) &&
                 c[0].eps_a > 0 && c[0].eps_i > 0 && c[0].idle_cpu_s > 0;
  uint32_t total = 0;
  for (uint64_t k = 0; meter_ok && k < nm; k++) {
    const vq_device_rec_t *x = &m[k];
    double r = real ? x->queries * 8192.0 : vq_volume_draw(&law), idle = RHO - x->active_bits;
    meter_ok = x->interval == k && x->drawn_bits == r && x->queries == vq_volume_queries(r) &&
               (!real || (x->queries <= x->motion_frames && (int)x->frames >= T_MS * atoi(REAL_FPS) / 1000)) &&
               x->active_bits == x->queries * 8192.0 && x->idle_bits == (idle > 0 ? idle : 0) &&
               (x->queries == 0 || x->active_cpu_s > 0) && (x->idle_bits == 0 || x->idle_cpu_s > 0) &&
               x->energy_j > 0 && fabs(x->energy_j - 2.0 * (x->active_cpu_s + x->idle_cpu_s)) < 1e-9;
    if (!meter_ok)
      fprintf(stderr, "  meter %llu: drawn %.1f (law %.1f), queries %u, active %.0f, idle %.0f, energy %g J\n",
              (unsigned long long)k, x->drawn_bits, r, x->queries, x->active_bits, x->idle_bits, x->energy_j);
    total += x->queries;
    if (real)
      printf("  interval %llu: %u frames, %u with motion, %u queries\n", (unsigned long long)k, x->frames,
             x->motion_frames, x->queries);
  }
  CHECK(meter_ok);
  CHECK_EQ(nq, total);
  if (total == 0)
    fprintf(stderr, "  no query: the film of seed %s showed no motion in the run (did the camera change? pick a seed "
                    "whose film has an object early)\n", real ? REAL_SEED : seed);
  CHECK(total > 0);
  /* every qid answered (first latency record per qid), with the query's truth and time */
  uint32_t right = 0, before_agg = 0;
  for (uint64_t i = 0; i < nq; i++) {
    uint64_t j = 0;
    while (j < nl && l[j].qid != q[i].qid)
      j++;
    int found = j < nl && l[j].put_ns == q[i].put_ns && l[j].truth == q[i].truth && l[j].received_ns >= l[j].put_ns &&
                l[j].match >= 0;
    if (!found)
      fprintf(stderr, "  query %llu was not answered\n", (unsigned long long)q[i].qid);
    CHECK(found);
    right += l[j].match == l[j].truth;
    before_agg += q[i].put_ns < agg_started;
  }
  printf("  %u of %llu answers name the photograph in view\n", right, (unsigned long long)nq);
  CHECK(right * 2 >= nq); /* the answers come from matching, not from anywhere: most name what the camera saw */
  if (agg_late_ms > 0) {
    /* put before the aggregator existed, more than a remote put's time limit (5 s) before: answered only because
     * vq_forward tried again */
    printf("  %u queries were put %.1f s or more before the aggregator started, and answered\n", before_agg,
           (agg_started - q[0].put_ns) / 1e9);
    CHECK(before_agg > 0);
    CHECK(agg_started - q[0].put_ns > 5500000000ll);
  }
  /* billing by interval number: per interval the record that counted the most batches; its volume is the bits of
   * the queries the device made in that interval */
  vq_billing_rec_t last[KMAX + 1];
  memset(last, 0, sizeof last);
  uint32_t billed = 0, retried = 0, late = 0;
  for (uint64_t i = 0; i < nb; i++)
    if (b[i].interval <= (uint64_t)k_n && (last[b[i].interval].version == 0 || b[i].batch_seq >= last[b[i].interval].batch_seq))
      last[b[i].interval] = b[i];
  for (int k = 0; k <= k_n; k++)
    billed += last[k].queries, late += last[k].late_queries;
  for (int k = 0; k < k_n; k++) {
    CHECK_EQ(last[k].version, VQ_REC_VERSION);
    double sent = 0, main_prev = -1;
    for (uint64_t i = 0; i < nm; i++)
      if (m[i].interval == (uint64_t)k)
        sent += m[i].active_bits;
    for (uint64_t i = 0; k > 0 && i < nbt; i++)
      if (bt[i].version == VQ_REC_VERSION && bt[i].interval == (uint64_t)k - 1 && bt[i].part == 0)
        main_prev = bt[i].volume_bits;
    uint32_t want = k == 0 ? cfg.idle_instances
                           : (main_prev >= cfg.theta ? cfg.active_instances : cfg.idle_instances);
    printf("  interval %d: S %.0f b (the device sent %.0f b; %u parts, %u late queries), %u instances (rule: %u), "
           "model %.3g $, instances %.3g $\n",
           k, last[k].volume_bits, sent, last[k].parts, last[k].late_queries, last[k].instances, want,
           last[k].model_usd, last[k].instance_usd);
    CHECK(last[k].volume_bits == sent);
    CHECK(k == 0 || main_prev >= 0);
    CHECK_EQ(last[k].instances, want);
    vq_billing_rec_t expect;
    vq_billing_interval(&cfg, (uint64_t)k, last[k].volume_bits, last[k].queries, want, &expect);
    CHECK(expect.model_usd == last[k].model_usd);
  }
  CHECK_EQ(billed, total);
  if (agg_late_ms > 0) {
    printf("  %u queries came after their interval's main batch and were billed to it\n", late);
    CHECK(late > 0);
  }
  /* the aggregator's uploads: one main batch (part 0) per interval, in order; later parts of earlier intervals */
  uint64_t mains = 0;
  for (uint64_t i = 0; i < nu; i++) {
    if (u[i].part == 0) {
      CHECK_EQ(u[i].interval, mains);
      mains++;
    } else {
      CHECK(u[i].interval < mains);
    }
    retried += u[i].attempts > 1;
  }
  CHECK_EQ(mains, (uint64_t)k_n);
  if (kill_cloud) {
    printf("  the cloud was killed and restarted: %u upload(s) retried\n", retried);
    CHECK(retried > 0);
  }
  free_reads();
  if (!spot_test_failed_) /* a failed run's namespaces stay for a look; a passed one's logs take 100 MB */
    spot_test_sh(out, sizeof out, NULL, 0, "rm -rf %s", root);
}

static void test_three_tiers(void) { run_tiers("vq-tiers", 3, 0, 0, 0); }

static void test_cloud_restart(void) { run_tiers("vq-restart", 4, 1, 0, 0); }

static void test_real_mode(void) { run_tiers("vq-real", 2, 0, 1, 0); }

/* `spot vquery match` on the photographs: a library photograph is its own best match, one line per image, and
 * --json --top 3 prints {"image":...,"match":...,"score":...} with the three best under "top", best first. */
static void test_match_cli(void) {
  const char *lib, *images;
  CHECK_EQ(make_library(&lib, &images), 0);
  char out[8192], err[4096], first[512] = "";
  CHECK_EQ(spot_test_sh(first, sizeof first, err, sizeof err, "ls %s | head -1", images), 0);
  first[strcspn(first, "\n")] = '\0';
  CHECK(first[0] != '\0');
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s match %s %s/%s --top 3 --json", env("VQ_BIN"), lib,
                        images, first),
           0);
  printf("  %s", out);
  char want[700];
  snprintf(want, sizeof want, "\"match\":\"%s\",\"score\":", first);
  CHECK(strncmp(out, "{\"image\":\"", 10) == 0 && strstr(out, first) != NULL);
  CHECK(strstr(out, want) != NULL);                              /* its own photograph first */
  const char *top = strstr(out, "\"top\":[{\"match\":");
  CHECK(top != NULL && strstr(top, want) == top + 8);            /* the top list starts with it too */
  int entries = 0;
  for (const char *p = top; p && (p = strstr(p, "{\"match\":")) != NULL; p++)
    entries++;
  CHECK_EQ(entries, 3);
  CHECK(strchr(out, '\n') == out + strlen(out) - 1);            /* one line */
  double best = strtod(strstr(out, "\"score\":") + 8, NULL);
  CHECK(best > 0.5 && best <= 1.0001);
  /* the text form: one line, the image then its match */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s match %s %s/%s", env("VQ_BIN"), lib, images, first), 0);
  CHECK(strstr(out, first) != NULL && strchr(out, '\n') == out + strlen(out) - 1);
}

/* The aggregator comes up 6 s after the device's first query: the device's forwards time out (5 s) and are retried
 * until it takes them. */
static void test_aggregator_late(void) { run_tiers("vq-agglate", 2, 0, 0, 6000); }

static const spot_test_t tests[] = {
    {"billing_rule", test_billing_rule},
    {"idle_split", test_idle_split},
    {"setup", test_setup},
    {"match_cli", test_match_cli},
    {"three_tiers", test_three_tiers},
    {"cloud_restart", test_cloud_restart},
    {"real_mode", test_real_mode},
    {"aggregator_late", test_aggregator_late},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
