/*
 * apps/vquery/bench_vquery_pool.c: `bench_vquery pool_sim [INTERVALS]`, the scale we cannot run here (issue 13, item
 * 6) with real matchers: 10,000 to 1,000,000 devices feeding the media-query cloud's pool of matchers, driven by
 * the model's volume laws, with the autoscaler asking for pool members. JSON lines: one `pool_sim_member` line (the
 * measured matcher), then one `pool_sim` line per law and device count.
 *
 * The matcher is measured in the same run, through the application's own code: a library of 100,000 synthetic
 * entries (random unit VLADs; with --library, its real entries plus distractors as bench_vquery's match figures),
 * indexed as `library build` does (vq_index_build), and matched as a pool member matches a job: vq_match_index with
 * the cloud's default options (the two-stage search), 8192-bit queries in batches of 64 (one job), on one thread
 * with OpenBLAS on one (a member is one single-core instance). member_rate is its queries per CPU-second, the rate
 * of a core it has to itself (wall-clock queries/s is printed beside it: on this shared VM it includes other
 * programs' time). bench/bench_pool_sim stays the platform-only simulation (a fixed-work handler, rates from the
 * environment); this one differs in that the matcher is real and each pool run is a job of 64 queries.
 *
 * The simulation: every interval T (SPOT_SIM_T, default 60 s) each of D devices draws its volume R from the law
 * (uniform, exponential, Pareto alpha 2.5; mean 6 queries), capped at one query per second, and the interval's
 * queries are their exact sum; they make ceil(queries / 64) jobs (full jobs: many aggregators' batches). The
 * autoscaler follows the model's quota (17) theta* = F_S^-1(b_a / (b_a + b_i)) with the default rates: below it the
 * members that serve theta*, above it the members that serve the interval, each member at 80% of member_rate. Two
 * quotas are compared: theta* of the shaped aggregate S = N R (what the cloud's configuration uses) and theta* of the
 * convolved aggregate (spot_conv_optimum: the sum of N independent volumes). The pool's own ceiling, in jobs/s, is
 * the platform's (one work-queue stream and consumer): SPOT_SIM_POOL_CEILING runs/s, default 1170, what
 * `bench_bridge pool_runs_rate` measured with 4 members (docs/benchmarks.md); an interval that asks for more jobs/s
 * saturates one pool.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include <spot/model.h>

#include "bench_vquery.h"
#include "match_index.h"
#include "vquery.h"

#define SIM_ENTRIES 100000
#define SIM_JOB 64          /* queries per job: the cloud's match_batch */
#define SIM_QUERIES 2048    /* queries matched per measurement (32 jobs) */
#define UTILISATION 0.8

static double sim_clock(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double env_double(const char *name, double dflt) {
  const char *v = getenv(name);
  return v && atof(v) > 0 ? atof(v) : dflt;
}

/* The matcher's rate: queries per CPU-second (*cpu) and per wall second (*wall) of one thread matching 64-query
 * jobs against a 100,000-entry library with the cloud's default search; the median of 3 after a warm-up. */
static void member_rate(const bench_vq_data_t *d, double *cpu, double *wall, uint32_t *nlist, uint32_t *nprobe) {
  float *lib = bench_vq_library(d, SIM_ENTRIES);
  vq_index_built_t *b;
  openblas_set_num_threads(1);
  if (vq_index_build(lib, SIM_ENTRIES, VQ_NLIST_AUTO, 1, &b) < 0)
    bench_vq_die("building the index");
  free(lib);
  float *q = bench_vq_queries(d, SIM_QUERIES);
  vq_hit_t *hits = malloc(SIM_JOB * sizeof *hits);
  if (hits == NULL)
    bench_vq_die("out of memory");
  vq_match_opts_t o = {0}; /* the cloud's default: the two-stage search, the index's nprobe, one thread */
  double rc[3], rw[3];
  for (int i = -1; i < 3; i++) {
    double t0 = sim_clock(CLOCK_MONOTONIC), c0 = sim_clock(CLOCK_THREAD_CPUTIME_ID);
    for (size_t j = 0; j < SIM_QUERIES; j += SIM_JOB)
      if (vq_match_index(&b->ix, q + j * VQ_DIM, SIM_JOB, 1, &o, hits) < 0)
        bench_vq_die("matching");
    double dw = sim_clock(CLOCK_MONOTONIC) - t0, dc = sim_clock(CLOCK_THREAD_CPUTIME_ID) - c0;
    if (i >= 0)
      rc[i] = SIM_QUERIES / dc, rw[i] = SIM_QUERIES / dw;
  }
  *cpu = bench_vq_median3(rc);
  *wall = bench_vq_median3(rw);
  *nlist = b->ix.nlist;
  *nprobe = b->ix.nprobe;
  free(q);
  free(hits);
  vq_index_free(b);
}

/* theta* of the convolved aggregate of D devices of law d (NAN when the model cannot compute it). */
static double conv_theta(const spot_dist_t *d, double D, const spot_rates_t *rates) {
  size_t nwork = spot_conv_work_doubles(SPOT_CONV_GRID_DEFAULT);
  double *work = malloc(nwork * sizeof *work), theta = NAN;
  spot_conv_t c;
  if (work && spot_conv_init(&c, d, D, SPOT_CONV_GRID_DEFAULT, SPOT_CONV_TAIL_DEFAULT, work, nwork) == 0 &&
      spot_conv_optimum(&c, rates, &theta, NULL, NULL, NULL) != 0)
    theta = NAN;
  free(work);
  return theta;
}

int bench_vq_pool_sim(const bench_vq_data_t *d, int intervals) {
  double T = env_double("SPOT_SIM_T", 60.0), ceiling_runs = env_double("SPOT_SIM_POOL_CEILING", 1170.0);
  double cpu_rate, wall_rate;
  uint32_t nlist, nprobe;
  member_rate(d, &cpu_rate, &wall_rate, &nlist, &nprobe);
  printf("{\"bench\":\"pool_sim_member\",\"library\":%d,\"data\":\"%s\",\"nlist\":%u,\"nprobe\":%u,\"job\":%d,"
         "\"queries_per_cpu_s\":%.0f,\"queries_per_s_wall\":%.0f}\n",
         SIM_ENTRIES, d->real ? "real+distractors" : "random", nlist, nprobe, SIM_JOB, cpu_rate, wall_rate);
  fflush(stdout);
  double mu = 6 * VQ_QUERY_BITS, cap = T * VQ_QUERY_BITS, per_member = UTILISATION * cpu_rate; /* queries/s */
  double ceiling = ceiling_runs * SIM_JOB;                                                    /* queries/s */
  spot_rates_t rates;
  spot_rates_default(&rates);
  static const spot_dist_kind_t kinds[3] = {SPOT_DIST_UNIFORM, SPOT_DIST_EXPONENTIAL, SPOT_DIST_PARETO};
  static const double devices[3] = {1e4, 1e5, 1e6};
  spot_rng_t rng;
  spot_rng_seed(&rng, 13);
  for (int k = 0; k < 3; k++) {
    spot_dist_t dist, s;
    if (spot_dist_init(&dist, kinds[k], mu, 2.5) != 0)
      return fprintf(stderr, "bench_vquery pool_sim: %s\n", spot_errdetail()), 1;
    for (int j = 0; j < 3; j++) {
      double D = devices[j], theta[2] = {0, 0};
      if (spot_dist_shaped(&s, &dist, D) != 0 || spot_billing_optimum(&s, &rates, &theta[0], NULL) != 0)
        return fprintf(stderr, "bench_vquery pool_sim: the model refused %s with %.0f devices\n",
                       spot_dist_name(kinds[k]), D), 1;
      theta[1] = conv_theta(&dist, D, &rates);
      double sum_demand = 0, max_demand = 0, sum_members[2] = {0, 0};
      int max_members[2] = {0, 0}, active[2] = {0, 0}, saturated = 0;
      for (int i = 0; i < intervals; i++) {
        double S = 0;
        for (long n = 0; n < (long)D; n++) {
          double r = spot_sample_inverse(&dist, &rng);
          S += r < cap ? r : cap;
        }
        double queries = ceil(S / VQ_QUERY_BITS), demand = queries / T; /* queries/s */
        saturated += ceil(queries / SIM_JOB) / T > ceiling_runs;
        sum_demand += demand;
        max_demand = demand > max_demand ? demand : max_demand;
        for (int p = 0; p < 2; p++) {
          int members = isfinite(theta[p]) ? (int)ceil(theta[p] / VQ_QUERY_BITS / T / per_member) : 0;
          if (isfinite(theta[p]) && S >= theta[p]) {
            members = (int)ceil(demand / per_member);
            active[p]++;
          }
          members = members < 1 ? 1 : members;
          sum_members[p] += members;
          max_members[p] = members > max_members[p] ? members : max_members[p];
        }
      }
      printf("{\"bench\":\"pool_sim\",\"law\":\"%s\",\"devices\":%.0f,\"intervals\":%d,\"T_s\":%.0f,"
             "\"member_queries_per_s\":%.0f,\"mean_queries_per_s\":%.1f,\"max_queries_per_s\":%.1f,"
             "\"theta_shaped_queries_per_s\":%.1f,\"theta_conv_queries_per_s\":%.1f,"
             "\"active_intervals_shaped\":%d,\"active_intervals_conv\":%d,\"members_mean_shaped\":%.1f,"
             "\"members_max_shaped\":%d,\"members_mean_conv\":%.1f,\"members_max_conv\":%d,"
             "\"members_needed_at_mean\":%.0f,\"pool_ceiling_queries_per_s\":%.0f,\"saturated_intervals\":%d,"
             "\"devices_at_saturation\":%.0f}\n",
             spot_dist_name(kinds[k]), D, intervals, T, cpu_rate, sum_demand / intervals, max_demand,
             theta[0] / VQ_QUERY_BITS / T, theta[1] / VQ_QUERY_BITS / T, active[0], active[1],
             sum_members[0] / intervals, max_members[0], sum_members[1] / intervals, max_members[1],
             ceil(sum_demand / intervals / per_member), ceiling, saturated, ceiling * T * VQ_QUERY_BITS / mu);
      fflush(stdout);
    }
  }
  return 0;
}
