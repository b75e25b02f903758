/*
 * apps/vquery/device.h: the device program's parts (inside the application): the query volume of an interval
 * (volume.c: a law of spot's model, or motion), and the energy meter (meter.c: thread CPU time times a power
 * figure, or RAPL package energy).
 */
#ifndef VQUERY_DEVICE_H
#define VQUERY_DEVICE_H

#include <stdint.h>

#include <spot/model.h>

/* ---- volume.c ---- */

/* The law of a device's per-interval volume R (controlled mode): spot's distribution, a generator seeded for this
 * device (seed and device index), and the sampler (the paper's rejection sampling, or inversion). */
typedef struct vq_volume {
  spot_dist_t dist;
  spot_rng_t rng;
  spot_sampler_t sampler;
} vq_volume_t;

/* dist: "uniform", "exponential" or "pareto" (alpha read for pareto); sampler: "inverse" or "reject" (NULL:
 * inverse). SPOT_EINVAL with vq_tiers_detail() naming the bound crossed. */
int vq_volume_init(vq_volume_t *v, const char *dist, double mu, double alpha, const char *sampler, uint64_t seed,
                   uint32_t device);
/* One interval's drawn volume r (bits, >= 0). */
double vq_volume_draw(vq_volume_t *v);
/* The queries that carry r bits: ceil(r / VQ_QUERY_BITS). */
uint32_t vq_volume_queries(double r);
/* Idle work for bits bit-equivalents in units of unit_bits: *whole units and a last *frac of a unit in [0, 1). */
void vq_idle_split(double bits, double unit_bits, uint64_t *whole, double *frac);

/* ---- meter.c ---- */

typedef struct vq_meter {
  double watts;
  int rapl;             /* 1: energy from RAPL */
  char rapl_path[256];  /* .../energy_uj */
  double rapl_range_j;  /* the counter's wrap-around range */
} vq_meter_t;

/* A reading: this thread's CPU time and (with RAPL) the package energy counter. */
typedef struct vq_mark {
  double cpu_s;
  double rapl_j;
} vq_mark_t;

/* watts: the power figure charged per CPU second; want_rapl: use /sys/class/powercap/intel-rapl:0 when it can be
 * read (otherwise *note gets a sentence saying why not, and the meter uses watts). */
void vq_meter_init(vq_meter_t *m, double watts, int want_rapl, const char **note);
void vq_meter_mark(const vq_meter_t *m, vq_mark_t *out);
/* The CPU seconds and the energy (J) spent between two readings of this thread. */
double vq_meter_cpu(const vq_mark_t *a, const vq_mark_t *b);
double vq_meter_energy(const vq_meter_t *m, const vq_mark_t *a, const vq_mark_t *b);

#endif
