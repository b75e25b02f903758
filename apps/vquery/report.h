/*
 * apps/vquery/report.h: the experiment's arithmetic (`spot vquery run`): what the model predicts for the volumes a
 * device actually sends, and how the measured figures compare with it.
 *
 * A device in controlled mode draws r from its law and sends whole queries: its volume is Q = b*ceil(R/b) with
 * b = VQ_QUERY_BITS, not R. quant.c gives the law of Q in closed form (exact sums over k of P(ceil(R/b) = k):
 * finite for the uniform law, geometric for the exponential one, a sum with a bracketed tail for Pareto) and the
 * billing of an aggregate of N such devices by Monte Carlo with spot's samplers; fit.c fits the exponential and
 * Pareto laws to observed volumes by maximum likelihood (the "real" mode); report.c reads the tiers' logs into a
 * vq_report_t and prints it (text table or one JSON object); plot.c draws it with gnuplot.
 *
 * Everything here except the log readers is pure computation on caller-owned memory, so the unit tests exercise it
 * without any node running.
 */
#ifndef VQUERY_REPORT_H
#define VQUERY_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <spot/model.h>

#include "vquery.h"

/* ---- the law of whole queries (quant.c) ---- */

/* Moments of Q = b*ceil(R/b) against a threshold rho (all in bits or bits^2). */
typedef struct vq_qmoments {
  double mean;   /* E[Q] */
  double idle;   /* E[(rho - Q)+]: the idle bit-equivalents */
  double under2; /* E[((rho - Q)+)^2] */
  double over2;  /* E[((Q - rho)+)^2] */
  double err;    /* a bound on the relative truncation error of the sums (0 when exact) */
} vq_qmoments_t;

/* The moments of Q for a device of law d (uniform, exponential or Pareto; fixed gives Q = b*ceil(mu/b)), query
 * size b > 0 and threshold rho >= 0. Exact for uniform, exponential and fixed; for Pareto the sum runs to a bound
 * where the remaining tail is bracketed by the law's partial moments and the bracket's midpoint is added (err says
 * how wide it was). Errors: SPOT_EINVAL (b <= 0, rho < 0 or not finite, a Pareto with alpha <= 2 whose second
 * moment is infinite: then over2 is +inf and the call still succeeds, so only b and rho fail). */
int vq_quant_moments(const spot_dist_t *d, double b, double rho, vq_qmoments_t *out);

/* P(ceil(R/b) = k) for k >= 0. */
double vq_quant_pmf(const spot_dist_t *d, double b, uint64_t k);

/* The smallest k with P(ceil(R/b) <= k) >= p, p in (0, 1); 0 for bad input. */
uint64_t vq_quant_quantile(const spot_dist_t *d, double b, double p);

/* Device energy figures from rates: the energy of one interval that sent q bits of whole queries at threshold rho
 * (eps_a q + eps_i (rho - q)+) and the one-sided deviation the experiment measures, ((E - eps_a rho)+)^2. When
 * eps_i <= eps_a that is MODEL.md's V1, eps_a^2 ((q - rho)+)^2. */
double vq_energy_of(double eps_a, double eps_i, double rho, double q);
double vq_vplus_of(double eps_a, double rho, double energy);

/* The closed forms of the quantised law: mean energy and V+ (J, J^2) at threshold rho with rates eps_a, eps_i. */
int vq_quant_energy(const spot_dist_t *d, double b, double eps_a, double eps_i, double rho, double *mean,
                    double *vplus);

/* ---- billing (quant.c) ---- */

/* The cloud's two meters (vq_billing_rec_t): the model's b_t S + b_i (theta - S)+ + b_a (S - theta)+, and the
 * instances the autoscaler set times the interval's seconds times the price per instance-hour. */
typedef struct vq_bill {
  double b_t, b_i, b_a;       /* $/b */
  double usd_per_instance_hour;
  double interval_s;          /* T */
  uint32_t idle_instances, active_instances;
} vq_bill_t;

double vq_bill_model(const vq_bill_t *p, double s, double theta);
/* Instances set for the interval after one of volume s. */
uint32_t vq_bill_instances(const vq_bill_t *p, double s, double theta);
double vq_bill_instance_usd(const vq_bill_t *p, uint32_t instances);

/* k aggregate volumes of n devices of law d, each sending whole queries of b bits: S = sum of b*ceil(R_i/b), drawn
 * with spot's sampler how from a generator seeded with seed. *out is malloc'ed (the caller frees it).
 * SPOT_EINVAL (n or k zero), SPOT_ENOMEM. */
int vq_quant_sample_s(const spot_dist_t *d, uint32_t n, double b, size_t k, spot_sampler_t how, uint64_t seed,
                      double **out);

/* A mean and its standard error. */
typedef struct vq_est {
  double mean, se;
} vq_est_t;

/* The sample mean and standard error of x[0..n) (se NAN for n < 2). */
vq_est_t vq_est_of(const double *x, size_t n);
/* 1 - mean(x)/mean(y) for paired samples, with its delta-method standard error. */
vq_est_t vq_est_saving(const double *x, const double *y, size_t n);

/* Over volume samples s[0..k): the model meter's mean billing at theta, the instance meter's (as a stationary
 * sequence: the instances of a sample are set by the one before it, and the first by the last), and the saving of
 * theta_a against theta_b on the model meter (paired). Any output may be NULL. SPOT_EINVAL for k < 2. */
int vq_bill_estimate(const vq_bill_t *p, const double *s, size_t k, double theta, vq_est_t *model,
                     vq_est_t *instance);
int vq_bill_saving(const vq_bill_t *p, const double *s, size_t k, double theta_a, double theta_b, vq_est_t *model,
                   vq_est_t *instance);

/* ---- fitting (fit.c) ---- */

typedef struct vq_fit {
  double mu;       /* fitted mean, b */
  double alpha;    /* Pareto shape (0 for exponential) */
  double xm;       /* Pareto scale (the sample minimum) */
  double se_mu;    /* standard error of mu (exponential) or of alpha (Pareto) */
  double loglik;   /* log-likelihood at the fit */
  size_t n;        /* samples used (Pareto: the positive ones) */
} vq_fit_t;

/* Maximum likelihood exponential law of x[0..n) (x >= 0): mu = the sample mean. SPOT_EINVAL when n is 0, a
 * value is negative or not finite, or all are 0. */
int vq_fit_exponential(const double *x, size_t n, vq_fit_t *out);
/* Maximum likelihood Pareto law of the positive values of x: xm = their minimum, alpha = m / sum ln(x/xm), mu =
 * alpha xm / (alpha - 1) (infinite when alpha <= 1). SPOT_EINVAL with fewer than 2 positive values or when they
 * are all equal (no finite alpha). */
int vq_fit_pareto(const double *x, size_t n, vq_fit_t *out);

/* ---- the experiment's report (report.c, report_read.c, report_out.c) ---- */

typedef enum vq_quota_mode { VQ_QUOTA_BITS = 0, VQ_QUOTA_OPTIMAL, VQ_QUOTA_ADHOC, VQ_QUOTA_COMPARE } vq_quota_mode_t;

/* The run's parameters, as `spot vquery run` was given them and as it derived them. */
typedef struct vq_params {
  uint32_t devices, intervals, interval_ms;
  int controlled;         /* 1: volumes drawn from a law (--dist); 0: real mode, volumes from motion */
  spot_dist_kind_t kind;  /* controlled mode */
  double mu, alpha, rho;  /* b, -, b */
  spot_sampler_t sampler;
  vq_quota_mode_t quota;
  double theta;           /* the quota the cloud ran with */
  double theta_star;      /* theta* of the shaped law S = N R (controlled mode; NAN otherwise) */
  double theta_adhoc;     /* N mu */
  vq_bill_t bill;         /* the cloud's meters */
  double watts;
  uint32_t cores;         /* online CPUs: the matcher concurrency is min(instances, cores) */
  uint64_t seed;
  size_t mc_samples;      /* Monte Carlo intervals for the quantised billing closed form */
  int kill_cloud_at;      /* -1: none */
} vq_params_t;

/* What the tiers' logs held at the end of a run (report_read.c fills it; vq_data_free releases it). */
typedef struct vq_data {
  vq_calib_rec_t *calib;     /* one per device, indexed by device number (version 0: the device wrote none) */
  vq_device_rec_t *meter;    /* every device interval, in device then interval order */
  size_t nmeter;
  vq_billing_rec_t *billing; /* one per interval (the one that counted the most of its batches) */
  size_t nbilling;
  vq_latency_rec_t *lat;     /* one per answered query (the first answer of a query answered twice) */
  size_t nlat;
  uint64_t inbox;            /* queries the aggregator acknowledged (its inbox's latest seqno) */
  uint64_t repository;       /* elements in the cloud's repository */
  char *trace;               /* `spot trace` of one query across the nodes (malloc'ed text), or NULL */
  uint64_t trace_qid;        /* its seqno in device 0's queries log */
  uint32_t trace_device;
} vq_data_t;

/* Reads the logs of a run: n device namespaces, the aggregator's and the cloud's, keeping intervals below
 * `intervals` (billing: up to and including it). Missing logs read as empty. *out is
 * the caller's (vq_data_free). Errors: those of spot_ns_open and spot_log_*, SPOT_ENOMEM. */
int vq_data_read(const char *const *device_dirs, uint32_t n, const char *aggregator_dir, const char *cloud_dir,
                 uint32_t intervals, vq_data_t *out);
void vq_data_free(vq_data_t *d);

/* One figure measured against predicted. */
typedef struct vq_cmp {
  double measured, measured_se;  /* the run's mean and its standard error */
  double predicted, predicted_se; /* the model on the volumes actually drawn, with the calibrated rates */
  double rel_err;                /* (measured - predicted) / predicted */
  double closed_form, closed_se; /* the quantised law's value (closed_se: its Monte Carlo error, 0 when exact) */
  double closed_form_continuous; /* MODEL.md's continuous value */
  double law_se;                 /* the standard error the law itself gives a mean over this run's samples (NAN:
                                    unknown); z uses it when the sample's own is smaller (a meter that never moved) */
  double z;                      /* (measured - closed_form) / sqrt(max(measured_se, law_se)^2 + closed_se^2) */
  double z_predicted;            /* the same for predicted: the statistics of the volumes alone, without the meter */
  double physics_se;             /* standard error of measured - predicted, paired over the same samples (device
                                    intervals): the meter's own noise, the volumes cancel out (NAN: not paired) */
  double z_physics;              /* (measured - predicted) / physics_se */
} vq_cmp_t;

/* A law fitted to the run's volumes (real mode) and what it predicts. */
typedef struct vq_fitted {
  int ok;         /* the fit feeds the model; 0: see fitted (1: the law was fitted, the model refuses it) */
  int fitted;
  vq_fit_t fit;
  vq_cmp_t energy, vplus, billing; /* closed forms of the fitted law (continuous; quantised) against measured */
} vq_fitted_t;

typedef struct vq_report {
  double eps_a, eps_i;        /* calibrated, mean over devices (J/b) */
  vq_cmp_t energy;            /* J per device interval */
  vq_cmp_t vplus;             /* J^2 */
  vq_cmp_t billing;           /* $ per interval, model meter, at theta */
  vq_cmp_t billing_instance;  /* $ per interval, instance meter, at theta */
  int has_compare;            /* --quota compare: the same volumes billed at N mu */
  vq_cmp_t billing_adhoc, billing_instance_adhoc, saving, saving_instance;
  const char *billing_closed_method; /* how the quantised billing closed form was computed */
  double recall_at_1;
  uint64_t queries, answered, with_truth, correct;
  uint64_t unanswered;        /* queries the devices made that never got an answer */
  double latency_p50_ms, latency_p99_ms;
  uint32_t overruns, device_intervals, billed_intervals;
  uint32_t instances_min, instances_max, concurrency_max;
  double volume_mismatch;     /* max |S billed - S the devices sent| over billed intervals, b: the cloud bills each
                                 query to its interval, so only queries that never reached it make one */
  uint64_t unbilled;          /* queries the devices made that no billing record counts (over every interval) */
  uint64_t late_queries;      /* queries billed to their interval by a batch after its main one */
  /* choosing T */
  uint64_t q99_queries;       /* the 99th percentile of queries per device interval */
  double query_cpu_s;         /* calibrated CPU time of one query */
  double t_needed_s;          /* q99 * query time * ceil(N / cores): T should exceed it */
  /* the physics: the devices' CPU time per unit of work during the run against their calibration */
  double run_query_cpu_s, calib_idle_cpu_s_per_bit, run_idle_cpu_s_per_bit;
  double query_cpu_cv;        /* calibration: standard deviation of one query's CPU time over its mean (devices'
                                 mean): frame content and the machine's noise; a run of n queries strays from the
                                 calibrated rate by about this over sqrt(n) when its queries are independent */
  double run_query_cpu_cv;    /* the same over the run's queries, from the devices' interval means */
  vq_fitted_t fit_exp, fit_par; /* real mode */
} vq_report_t;

/* Computes the report from a run's parameters and logs. Errors: SPOT_EINVAL (no meter record: nothing ran),
 * SPOT_ENOMEM; the model's codes (< -100) for parameters outside its bounds. */
int vq_report_compute(const vq_params_t *p, const vq_data_t *d, vq_report_t *out);

/* Prints the report: a table (json 0) or one JSON object with the keys of issue 10. */
void vq_report_print(FILE *f, const vq_params_t *p, const vq_data_t *d, const vq_report_t *r, int json);

/* Draws the report's figures with gnuplot into dir (plot.c): energy.{png,svg} (mean energy and V+ against rho:
 * the closed forms, quantised and continuous, and the measured point with +-2 standard errors) and
 * billing.{png,svg} (both meters against theta: the quantised closed form, the continuous shaped one, the run's
 * volumes re-billed at every theta, theta* and N mu marked, the measured point). Returns 0, or 1 after printing one
 * line on stderr (gnuplot missing or failing, dir not writable). */
int vq_report_plot(const char *dir, const vq_params_t *p, const vq_data_t *d, const vq_report_t *r);

#endif
