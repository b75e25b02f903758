/*
 * bench_pool_sim.c: the scale we cannot run here (issue 13, part 6): 10,000 to 1,000,000 devices feeding one handler
 * pool, driven by the model's volume laws (include/spot/model.h, MODEL.md sections 2 and 4), with the autoscaler of
 * the media-query cloud asking for pool members. JSON lines, one per law and device count.
 *
 * Devices are volume generators: every interval T each of D devices draws its volume R (bits) from the law (uniform,
 * exponential, Pareto alpha 2.5; mean mu), capped at the device's rate limit (one 8192-bit query per second), and
 * the interval's aggregate S is their exact sum (the N-fold convolution, not the shaped model). Each query is one run
 * of the matcher handler in the pool, so the interval asks S / 8192 / T runs/s.
 * This is the platform-only simulation (bench/ uses include/spot only): member_rate is what one pool member (spotd,
 * 2 worker threads) sustains with a handler doing a fixed amount of work per query, through the pool, and
 * pool_ceiling what one pool (one work-queue stream, one consumer) sustained at the most members measured; both
 * come from `bench_bridge pool_runs_rate` (docs/benchmarks.md) and are read from SPOT_SIM_MEMBER_RATE and
 * SPOT_SIM_POOL_CEILING (runs/s). `bench_vquery pool_sim` (apps/vquery/bench_vquery_pool.c) runs the same
 * simulation with the media-query matcher measured in the same run (64-query jobs against 100,000 entries).
 * The autoscaler follows the model's quota (17): theta* = F_S^-1(b_a / (b_a + b_i)) of the shaped aggregate with the
 * default rates; below theta* it keeps the members that serve theta* ("idle"), above it the members that serve the
 * interval's S ("active"), each member at 80% of member_rate. A single pool saturates when the interval asks for
 * more than pool_ceiling: the figures say in how many intervals that happened, and members_capped is how many
 * members the pool could use at most.
 *   bench_pool_sim [INTERVALS]      (default 20; SPOT_SIM_T seconds per interval, default 60)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "spot.h"
#include "spot/model.h"

#define QUERY_BITS 8192.0
#define UTILISATION 0.8

static double env_double(const char *name, double dflt) {
  const char *v = getenv(name);
  return v && atof(v) > 0 ? atof(v) : dflt;
}

int main(int argc, char **argv) {
  int intervals = argc > 1 ? atoi(argv[1]) : 20;
  double T = env_double("SPOT_SIM_T", 60.0);
  double member_rate = env_double("SPOT_SIM_MEMBER_RATE", 657.0);
  double ceiling = env_double("SPOT_SIM_POOL_CEILING", 1170.0);
  double mu = 6 * QUERY_BITS;  /* one query per 10 s on average */
  double cap = T * QUERY_BITS; /* the device's rate limit: one query per second */
  if (intervals < 1)
    intervals = 1;
  spot_rates_t rates;
  spot_rates_default(&rates);
  static const spot_dist_kind_t kinds[3] = {SPOT_DIST_UNIFORM, SPOT_DIST_EXPONENTIAL, SPOT_DIST_PARETO};
  static const double devices[3] = {1e4, 1e5, 1e6};
  spot_rng_t rng;
  spot_rng_seed(&rng, 13);
  for (int k = 0; k < 3; k++) {
    spot_dist_t d, s;
    if (spot_dist_init(&d, kinds[k], mu, 2.5) != 0)
      return fprintf(stderr, "bench_pool_sim: %s\n", spot_errdetail()), 1;
    for (int j = 0; j < 3; j++) {
      double D = devices[j], theta = 0, bmin = 0;
      if (spot_dist_shaped(&s, &d, D) != 0 || spot_billing_optimum(&s, &rates, &theta, &bmin) != 0)
        return fprintf(stderr, "bench_pool_sim: the model refused %s with %.0f devices\n", spot_dist_name(kinds[k]),
                       D), 1;
      double per_member = UTILISATION * member_rate;
      int idle_members = (int)ceil(theta / QUERY_BITS / T / per_member);
      double sum_members = 0, max_demand = 0, sum_demand = 0;
      int max_members = 0, active = 0, saturated = 0;
      for (int i = 0; i < intervals; i++) {
        double S = 0;
        for (long n = 0; n < (long)D; n++) {
          double r = spot_sample_inverse(&d, &rng);
          S += r < cap ? r : cap;
        }
        double demand = S / QUERY_BITS / T; /* runs/s */
        int members = idle_members;
        if (S >= theta) {
          members = (int)ceil(demand / per_member);
          active++;
        }
        if (members < 1)
          members = 1;
        saturated += demand > ceiling;
        sum_members += members;
        sum_demand += demand;
        max_members = members > max_members ? members : max_members;
        max_demand = demand > max_demand ? demand : max_demand;
      }
      printf("{\"bench\":\"pool_sim\",\"law\":\"%s\",\"devices\":%.0f,\"intervals\":%d,\"T_s\":%.0f,"
             "\"mean_runs_per_s\":%.1f,\"max_runs_per_s\":%.1f,\"theta_runs_per_s\":%.1f,\"active_intervals\":%d,"
             "\"members_mean\":%.1f,\"members_max\":%d,\"member_rate\":%.0f,\"pool_ceiling\":%.0f,"
             "\"members_capped\":%d,\"saturated_intervals\":%d,\"devices_at_saturation\":%.0f}\n",
             spot_dist_name(kinds[k]), D, intervals, T, sum_demand / intervals, max_demand,
             theta / QUERY_BITS / T, active, sum_members / intervals, max_members, member_rate, ceiling,
             (int)ceil(ceiling / per_member), saturated, ceiling * T * QUERY_BITS / mu);
      fflush(stdout);
    }
  }
  return 0;
}
