/*
 * apps/vquery/meter.c: the device's energy meter. By default it charges a power figure (--watts, 2 W for a
 * BeagleBone-class board) per second of this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so only the device's own
 * work counts. With --rapl, where /sys/class/powercap/intel-rapl:0/energy_uj can be read, it takes the package
 * energy counter instead (the whole package: other processes' work is in it too), minding its wrap-around.
 */
#include <stdio.h>
#include <string.h>

#include "device.h"
#include "tiers.h"

static int read_number(const char *path, double *out) {
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return -1;
  unsigned long long v;
  int ok = fscanf(f, "%llu", &v) == 1;
  fclose(f);
  if (!ok)
    return -1;
  *out = (double)v;
  return 0;
}

void vq_meter_init(vq_meter_t *m, double watts, int want_rapl, const char **note) {
  memset(m, 0, sizeof *m);
  m->watts = watts;
  *note = NULL;
  if (!want_rapl)
    return;
  const char *dirs[] = {"/sys/class/powercap/intel-rapl:0", "/sys/class/powercap/intel-rapl/intel-rapl:0"};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
    char path[256], range[256];
    double e, r;
    snprintf(path, sizeof path, "%s/energy_uj", dirs[i]);
    snprintf(range, sizeof range, "%s/max_energy_range_uj", dirs[i]);
    if (read_number(path, &e) == 0 && read_number(range, &r) == 0 && r > 0) {
      m->rapl = 1;
      snprintf(m->rapl_path, sizeof m->rapl_path, "%s", path);
      m->rapl_range_j = r * 1e-6;
      return;
    }
  }
  *note = "RAPL is not readable here (no /sys/class/powercap/intel-rapl:0/energy_uj, or no permission): the meter "
          "charges --watts per CPU second instead";
}

void vq_meter_mark(const vq_meter_t *m, vq_mark_t *out) {
  out->cpu_s = vq_thread_cpu_s();
  out->rapl_j = 0;
  double uj;
  if (m->rapl && read_number(m->rapl_path, &uj) == 0)
    out->rapl_j = uj * 1e-6;
}

double vq_meter_cpu(const vq_mark_t *a, const vq_mark_t *b) { return b->cpu_s - a->cpu_s; }

double vq_meter_energy(const vq_meter_t *m, const vq_mark_t *a, const vq_mark_t *b) {
  if (!m->rapl)
    return m->watts * (b->cpu_s - a->cpu_s);
  double d = b->rapl_j - a->rapl_j;
  return d >= 0 ? d : d + m->rapl_range_j;
}
