/*
 * spot/model.h: the energy/billing model behind `spot plan` (the specification is ../shared/MODEL.md; equation
 * numbers below are the paper's, as there).
 *
 * A device produces R bits per monitoring interval T; it idles for the bit-equivalent (rho - R)+ below its
 * idle/active threshold rho. Its energy per T is eps_a*R + eps_i*(rho - R)+. N devices feed one aggregator whose
 * volume S is billed by the cloud as a newsvendor: b_i per bit of unused quota theta, b_a per bit above it, b_t per
 * bit moved. This header gives the distributions of R and S, the device's mean energy and one-sided variability and
 * their inverses, the billing, its optimal quota and the devices per aggregator, the convolution aggregate of eq.
 * (1), Monte Carlo estimators and a portable Lambert W0.
 *
 * Everything here is pure C on libm: no allocation, no I/O, no global or thread-local state (the convolution takes
 * a workspace from the caller; random numbers come from a caller-owned generator), so it also builds for the
 * microcontroller. Functions that can fail return 0 or a negative SPOT_MODEL_E* code (below; spot_model_strerror()
 * says which bound was crossed) and write their output parameters only on success. A result (or a parameter derived
 * from the inputs, such as the uniform law's upper end 2 mu) that leaves the range of a double is
 * SPOT_MODEL_EOVERFLOW, never inf, NAN or a silently wrong 0; the only infinite results are those this header
 * names (a fixed volume's density at mu, Pareto second moments for alpha <= 2). Evaluators of an initialised
 * distribution (spot_dist_*) cannot fail and return the value.
 */
#ifndef SPOT_MODEL_H
#define SPOT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, sentence): the model's validity conditions (MODEL.md section 6), one code per bound. The sentence
 * names the bound crossed and what to do; spot_model_strerror() returns it. Values are stable: append only. */
#define SPOT_MODEL_ERRORS(X)                                                                                       \
  X(EDIST, -101, "unknown distribution (use uniform, exponential, pareto or fixed)")                              \
  X(EMU, -102, "the mean volume mu must be positive and finite")                                                 \
  X(EALPHA, -103, "the Pareto shape alpha must be greater than 1 (the mean volume is infinite otherwise)")        \
  X(EALPHA2, -104,                                                                                                 \
    "the Pareto shape alpha must be greater than 2 for the variability (the second moment is infinite otherwise)") \
  X(EEPSA, -105, "the active energy rate eps_a must be positive and finite")                                     \
  X(EEPSI, -106, "the idle energy rate eps_i must be positive and finite")                                       \
  X(EBI, -107, "the idle billing rate b_i must be positive and finite")                                          \
  X(EBA, -108, "the active billing rate b_a must be positive and finite")                                        \
  X(EBT, -109, "the transfer billing rate b_t must be non-negative and finite")                                  \
  X(ERHO, -110, "the threshold rho must be non-negative and finite")                                             \
  X(EENERGYMU, -111,                                                                                               \
    "the energy target is below eps_a*mu: the energy does not suffice for mu bits (raise the target or lower mu)")  \
  X(EENERGYRHO, -112, "the energy target must exceed eps_i*rho (raise the target or lower the threshold)")         \
  X(EDEVICES, -113, "the device count N must be at least 1")                                                      \
  X(EQUOTA, -114, "the quota theta must be non-negative and finite")                                             \
  X(EBILLING, -115, "the billing target must be positive and finite")                                            \
  X(EBILLINGLOW, -116,                                                                                             \
    "the billing target is below the minimum billing of a single device (raise the target or lower mu)")           \
  X(EVCAP, -117,                                                                                                   \
    "the variability cap must lie between 0 and eps_a^2*E[R^2] at mu = E/eps_a (no threshold meets it otherwise)")  \
  X(EPROB, -118, "a probability must lie in [0, 1]")                                                              \
  X(EDOMAIN, -119, "the Lambert W0 argument must be at least -1/e")                                               \
  X(ENOCONV, -120, "the root finder did not converge (the inputs are at the edge of floating point)")             \
  X(EWORK, -121, "the convolution workspace is too small (give spot_conv_work_doubles(grid) doubles)")            \
  X(EGRID, -122, "the value lies beyond the convolution grid (raise the grid or the tail cover)")                 \
  X(ESAMPLES, -123, "the sample count must be at least 2")                                                        \
  X(EREADING, -124, "unknown variability reading (use v1 or v2)")                                                 \
  X(EENERGY, -125, "the energy target must be positive and finite")                                            \
  X(EOVERFLOW, -126, "a result exceeds the range of a double (about 1.8e308): lower the largest inputs")

typedef enum spot_model_err {
#define SPOT__MODEL_ERR_ENUM(name, value, text) SPOT_MODEL_##name = value,
  SPOT_MODEL_ERRORS(SPOT__MODEL_ERR_ENUM)
#undef SPOT__MODEL_ERR_ENUM
} spot_model_err_t;

/* The sentence of a SPOT_MODEL_E* code ("success" for 0, "unknown model error" otherwise). Static storage. */
const char *spot_model_strerror(int err);

/* The code's name, e.g. "SPOT_MODEL_EALPHA". Static storage. */
const char *spot_model_errname(int err);

/* ---------------------------------------------------------------------------------------------------------------
 * Rates (MODEL.md section 8 gives the defaults).
 */
typedef struct spot_rates {
  double eps_a; /* J/b, active energy per query bit, > 0 */
  double eps_i; /* J/b, idle energy per bit-equivalent, > 0 */
  double b_i;   /* $/b, idle billing rate, > 0 */
  double b_a;   /* $/b, active billing rate, > 0 */
  double b_t;   /* $/b, transfer and storage rate, >= 0 */
} spot_rates_t;

#define SPOT_EPS_A_DEFAULT 2.5e-4
#define SPOT_EPS_I_DEFAULT 1.0e-4
#define SPOT_B_I_DEFAULT 1.0e-11
#define SPOT_B_A_DEFAULT 1.0e-10
#define SPOT_B_T_DEFAULT 1.9e-11

/* Fills *r with the defaults of MODEL.md section 8. */
void spot_rates_default(spot_rates_t *r);

/* 0, or the code of the first rate out of bounds (EEPSA, EEPSI, EBI, EBA, EBT). */
int spot_rates_check(const spot_rates_t *r);

/* ---------------------------------------------------------------------------------------------------------------
 * Distributions of the per-device volume R (and of the shaped aggregate S =_d N*R): section 2.
 * All are parameterised by their mean mu. Uniform: U[0, 2mu]. Exponential: rate 1/mu. Pareto: shape alpha > 1,
 * scale r_m = mu(alpha-1)/alpha. Fixed: R = mu (the alpha -> infinity limit). A Pareto with alpha above
 * SPOT_PARETO_ALPHA_LIMIT computes as the fixed volume (MODEL.md section 7).
 */
typedef enum spot_dist_kind {
  SPOT_DIST_UNIFORM = 1,
  SPOT_DIST_EXPONENTIAL = 2,
  SPOT_DIST_PARETO = 3,
  SPOT_DIST_FIXED = 4,
} spot_dist_kind_t;

#define SPOT_PARETO_ALPHA_LIMIT 1e6

typedef struct spot_dist {
  spot_dist_kind_t kind; /* as given to spot_dist_init */
  spot_dist_kind_t form; /* the form computed (FIXED for a Pareto past SPOT_PARETO_ALPHA_LIMIT) */
  double mu;             /* mean, b */
  double alpha;          /* Pareto shape (0 for the other kinds) */
  double xm;             /* Pareto scale r_m; uniform upper end 2mu; mu for fixed and exponential */
} spot_dist_t;

/* Initialises *d. alpha is read for SPOT_DIST_PARETO only. Errors: EDIST, EMU, EALPHA (alpha <= 1), EOVERFLOW
 * (the uniform law's upper end 2 mu is beyond a double). */
int spot_dist_init(spot_dist_t *d, spot_dist_kind_t kind, double mu, double alpha);

/* The shaped aggregate of N devices: S =_d N*R, same kind and shape, mean N*mu. Errors: EDEVICES, EMU, EOVERFLOW
 * (N*mu, or its law's parameters, beyond a double). */
int spot_dist_shaped(spot_dist_t *s, const spot_dist_t *d, double n);

/* Parses "uniform" | "exponential" | "pareto" | "fixed" (also "exp"). Error: EDIST. */
int spot_dist_parse(const char *name, spot_dist_kind_t *kind);
const char *spot_dist_name(spot_dist_kind_t kind);

/* Evaluators of an initialised distribution; x and t may be any real. The fixed volume has a point mass: its
 * pdf is +inf at mu and 0 elsewhere, its cdf is 1 from mu on. */
double spot_dist_pdf(const spot_dist_t *d, double x);
double spot_dist_cdf(const spot_dist_t *d, double x);
double spot_dist_sf(const spot_dist_t *d, double x); /* 1 - cdf, accurate in the tail */
/* The quantile F^-1(p) for p in [0, 1] (p = 1 gives the upper end, +inf for unbounded support); NAN otherwise. */
double spot_dist_quantile(const spot_dist_t *d, double p);
/* Lower partial moment L(t) = E[(t - X)+] = int_0^t (t - x) P(x) dx (b). */
double spot_dist_lpm(const spot_dist_t *d, double t);
/* Upper partial moment U(t) = E[(X - t)+] = L(t) - (t - mu) (b). */
double spot_dist_upm(const spot_dist_t *d, double t);
/* Second upper partial moment E[((X - t)+)^2] (b^2); +inf for a Pareto with alpha <= 2. */
double spot_dist_upm2(const spot_dist_t *d, double t);
/* Partial moments M_k(t) = E[X^k 1{X > t}], k = 0, 1, 2 (NAN for other k; M_2 = +inf for Pareto alpha <= 2). */
double spot_dist_pmoment(const spot_dist_t *d, int k, double t);
/* E[X^2] (+inf for Pareto alpha <= 2). */
double spot_dist_moment2(const spot_dist_t *d);

/* ---------------------------------------------------------------------------------------------------------------
 * Random numbers and sampling. xoshiro256** seeded through splitmix64; the state is the caller's.
 */
typedef struct spot_rng {
  uint64_t s[4];
} spot_rng_t;

void spot_rng_seed(spot_rng_t *g, uint64_t seed);
uint64_t spot_rng_next(spot_rng_t *g);
/* A uniform double in (0, 1), never 0 or 1 (53 random bits). */
double spot_rng_uniform(spot_rng_t *g);

/* One draw by inversion of the CDF. */
double spot_sample_inverse(const spot_dist_t *d, spot_rng_t *g);
/* One draw by acceptance-rejection (MODEL.md: the paper sampled this way; its envelope is not given). The envelope
 * is the same family at half the decay (uniform on [0, 4mu]; exponential of mean 2mu; Pareto of shape alpha/2),
 * so that P/(2 g) <= 1 and half the proposals are accepted. The fixed volume returns mu. */
double spot_sample_reject(const spot_dist_t *d, spot_rng_t *g);

typedef enum spot_sampler {
  SPOT_SAMPLE_INVERSE = 0,
  SPOT_SAMPLE_REJECT = 1,
} spot_sampler_t;

/* ---------------------------------------------------------------------------------------------------------------
 * Device energy: section 3. rho is the threshold (b), >= 0.
 */
typedef enum spot_reading {
  SPOT_VAR_V1 = 1, /* deviation from the threshold energy: eps_a^2 E[((R - rho)+)^2] (default) */
  SPOT_VAR_V2 = 2, /* deviation from the mean energy: E[(eps_a R - E[En])^2 1{R > rho}] */
} spot_reading_t;

/* (2) mean energy per T, J. Errors: rate codes, ERHO. */
int spot_energy_mean(const spot_dist_t *d, const spot_rates_t *r, double rho, double *e);
/* dE/drho = eps_i F(rho) (J/b) and d2E/drho2 = eps_i P(rho) (J/b^2). Errors as spot_energy_mean. */
int spot_energy_dmean(const spot_dist_t *d, const spot_rates_t *r, double rho, double *de, double *d2e);
/* (3) one-sided variability, J^2, in the reading asked. Errors: rate codes, ERHO, EALPHA2, EREADING. */
int spot_energy_var(const spot_dist_t *d, const spot_rates_t *r, double rho, spot_reading_t reading, double *v);
/* dV/drho (J^2/b). V1: -2 eps_a^2 E[(R - rho)+]. Errors as spot_energy_var. */
int spot_energy_dvar(const spot_dist_t *d, const spot_rates_t *r, double rho, spot_reading_t reading, double *dv);

/* Inverse (b): the threshold rho meeting the mean energy target e at the device's mu, (13) and (36)/(57).
 * Unique for e > eps_a mu; for e = eps_a mu every rho <= r_m works (0 for uniform and exponential) and r_m is
 * returned. Errors: rate codes, EENERGY, EENERGYMU, ENOCONV. */
int spot_energy_threshold(const spot_dist_t *d, const spot_rates_t *r, double e, double *rho);

/* Inverse (a): the mean volume mu meeting the energy target e at threshold rho, (10), (27)/(50), (34)/(55). alpha
 * is read for Pareto. Unique when e > eps_i rho. Errors: EDIST, EALPHA, rate codes, ERHO, EENERGY, EENERGYRHO,
 * ENOCONV. */
int spot_energy_volume(spot_dist_kind_t kind, double alpha, const spot_rates_t *r, double e, double rho, double *mu);

/* The threshold rho (and its volume mu = mu(e, rho)) on the curve of constant mean energy e at which the
 * variability equals the cap vcap, (12), (28)/(52), (35)/(56); V falls along the curve from eps_a^2 E[R^2] at
 * mu = e/eps_a (rho = 0) to 0 (rho = e/eps_i). Bisection on rho. Errors: those of spot_energy_volume, EALPHA2,
 * EREADING, EVCAP (cap outside that range). */
int spot_energy_vcap(spot_dist_kind_t kind, double alpha, const spot_rates_t *r, double e, double vcap,
                     spot_reading_t reading, double *rho, double *mu);

/* ---------------------------------------------------------------------------------------------------------------
 * Cloud billing: section 4, for an aggregate S given as a distribution (the shaped model: spot_dist_shaped).
 */
/* (6) B(theta), $ per aggregator per T. Errors: rate codes, EQUOTA. */
int spot_billing(const spot_dist_t *s, const spot_rates_t *r, double theta, double *b);
/* (15) dB/dtheta ($/b) and (16) d2B/dtheta2 ($/b^2). */
int spot_billing_deriv(const spot_dist_t *s, const spot_rates_t *r, double theta, double *db, double *d2b);
/* (17) the optimal quota theta* = F_S^-1(b_a/(b_a+b_i)) (b) and the minimum billing B* ($). Either output may be
 * NULL. Errors: rate codes. */
int spot_billing_optimum(const spot_dist_t *s, const spot_rates_t *r, double *theta, double *bmin);
/* The coefficient c_D = Bmin/E[S] of (20), (41), (47) ($/b) and the ad-hoc ratio B(E[S])/E[S]; either may be NULL.
 * Both depend only on the kind, the shape and the rates. */
int spot_billing_coef(const spot_dist_t *s, const spot_rates_t *r, double *c, double *adhoc);
/* The saving of the optimal quota against the ad-hoc theta = N mu: 1 - Bmin/B(N mu) (a fraction). */
int spot_billing_saving(const spot_dist_t *s, const spot_rates_t *r, double *saving);

/* Devices per aggregator, (22), (42), (48): n = bbar / (mu c_D), real-valued (take floor(n) so that B* <= bbar).
 * d is the device distribution. Errors: rate codes, EBILLING (bbar <= 0), EBILLINGLOW (n < 1). */
int spot_billing_devices(const spot_dist_t *d, const spot_rates_t *r, double bbar, double *n);
/* (21): the per-device mean volume mu = bbar / (N c_D) the billing target allows. alpha is read for Pareto.
 * Errors: EDIST, EALPHA, rate codes, EBILLING, EDEVICES. */
int spot_billing_volume(spot_dist_kind_t kind, double alpha, const spot_rates_t *r, double bbar, double n,
                        double *mu);

/* ---------------------------------------------------------------------------------------------------------------
 * The joint design (22), shaped aggregate: threshold from the energy target at fixed mu (or mu from the energy
 * target at fixed rho), then the optimal quota, the minimum billing, the saving and the devices for a billing
 * target.
 */
typedef struct spot_design {
  /* inputs */
  spot_dist_kind_t kind;
  double alpha;           /* Pareto shape */
  double n;               /* devices per aggregator, >= 1 */
  double mu;              /* b; > 0 to fix mu and solve for rho; 0 to fix rho and solve for mu */
  double rho;             /* b; read when mu == 0 */
  double energy;          /* J, mean energy target */
  double billing;         /* $, billing target per aggregator; 0 means the ad-hoc billing B(N mu) at this N */
  spot_reading_t reading; /* variability reading */
  /* outputs */
  double threshold_bits;    /* rho */
  double volume_bits;       /* mu */
  double energy_j;          /* E[En] at (mu, rho): the target */
  double variability_j2;    /* V+ at (mu, rho); +inf when a Pareto has alpha <= 2 */
  double quota_bits;        /* theta*(N mu) */
  double billing_min_usd;   /* B* */
  double billing_adhoc_usd; /* B(N mu) */
  double saving_fraction;   /* 1 - Bmin/B(N mu) */
  double billing_target_usd;
  double devices_real;      /* bbar / (mu c_D) */
  double devices;           /* floor(devices_real) */
} spot_design_t;

/* Runs the design on *x (inputs read, outputs written only on success). Errors: any of the above. */
int spot_design_run(spot_design_t *x, const spot_rates_t *r);

/* ---------------------------------------------------------------------------------------------------------------
 * The convolution aggregate, eq. (1): S = R_1 + ... + R_N with independent device volumes. Exponential devices
 * give the exact Gamma(N, mu) law (no workspace). The others are computed numerically: each R is put on a lattice
 * of step h with mean-preserving weights (node j gets int (1 - |x/h - j|)+ dF), the lattice law is raised to the N-th
 * convolution power by repeated squaring (O(grid^2 log N)), and the CDF is interpolated linearly between cell edges (L is its
 * exact integral). The error is O(h^2). S >= 0, so values below the grid's top are unaffected by the truncation above it. The grid's
 * top is grown until F_S(top) >= 1 - tail (or 40 doublings).
 */
typedef struct spot_conv {
  spot_dist_t dev;  /* the device law */
  double n;         /* N, a whole number >= 1 */
  size_t grid;      /* lattice cells; 0 for the exact Gamma law */
  double h;         /* lattice step, b */
  double *cdf;      /* grid values: cdf[j] = P(S <= (j + 1/2) h), in the caller's workspace */
  double *lpm;      /* grid values: L_S((j + 1/2) h) */
} spot_conv_t;

#define SPOT_CONV_GRID_DEFAULT 4096
#define SPOT_CONV_TAIL_DEFAULT 1e-6

/* Doubles of workspace spot_conv_init needs for a grid of this many cells. */
size_t spot_conv_work_doubles(size_t grid);

/* Initialises *c for N devices of law *dev. work/nwork (doubles) is the caller's workspace; it must outlive *c
 * and is unused (may be NULL) for exponential devices. Errors: EDEVICES, EWORK, EPROB (tail not in (0, 1)). */
int spot_conv_init(spot_conv_t *c, const spot_dist_t *dev, double n, size_t grid, double tail, double *work,
                   size_t nwork);
/* F_S(x), L_S(x) = E[(x - S)+] and U_S(x) = E[(S - x)+]. Error: EGRID (x beyond the grid). */
int spot_conv_cdf(const spot_conv_t *c, double x, double *f);
int spot_conv_lpm(const spot_conv_t *c, double x, double *l);
int spot_conv_upm(const spot_conv_t *c, double x, double *u);
/* F_S^-1(p), p in (0, 1). Errors: EPROB, EGRID. */
int spot_conv_quantile(const spot_conv_t *c, double p, double *x);
/* (6) with the convolved S, and (17): the optimal quota and minimum billing, the ad-hoc billing B(N mu) and the
 * saving. Any output may be NULL. Errors: rate codes, EQUOTA, EGRID. */
int spot_conv_billing(const spot_conv_t *c, const spot_rates_t *r, double theta, double *b);
int spot_conv_optimum(const spot_conv_t *c, const spot_rates_t *r, double *theta, double *bmin, double *badhoc,
                      double *saving);

/* The regularized incomplete gamma functions P(a, x) and Q(a, x) = 1 - P(a, x), a > 0, x >= 0 (NAN otherwise). */
double spot_gamma_p(double a, double x);
double spot_gamma_q(double a, double x);

/* ---------------------------------------------------------------------------------------------------------------
 * Monte Carlo estimators: the sample mean of K draws and its standard error (sample standard deviation / sqrt K).
 */
typedef struct spot_mc {
  double mean;
  double se;
} spot_mc_t;

/* Mean energy and variability at threshold rho from K device volumes. V2 centres on the analytic mean energy.
 * v may be NULL (then EALPHA2 is not raised). Errors: those of spot_energy_var, ESAMPLES. */
int spot_mc_energy(const spot_dist_t *d, const spot_rates_t *r, double rho, spot_reading_t reading, uint64_t k,
                   spot_sampler_t how, spot_rng_t *g, spot_mc_t *e, spot_mc_t *v);

/* Billing B(theta) from K aggregate volumes of N devices: shaped (S = N R) when conv is 0, else the sum of N
 * independent draws (K*N draws). Errors: rate codes, EQUOTA, EDEVICES, ESAMPLES. */
int spot_mc_billing(const spot_dist_t *d, double n, int conv, const spot_rates_t *r, double theta, uint64_t k,
                    spot_sampler_t how, spot_rng_t *g, spot_mc_t *b);

/* ---------------------------------------------------------------------------------------------------------------
 * Lambert W, principal branch W0 on [-1/e, inf): w e^w = z, w >= -1. Halley's iteration (MODEL.md section 7).
 * Error: EDOMAIN (z < -1/e or NAN).
 */
int spot_lambertw0(double z, double *w);

#ifdef __cplusplus
}
#endif
#endif
