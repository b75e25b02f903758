/*
 * apps/vquery/report_read.c: reads what a run left in the tiers' logs into a vq_data_t (report.h), opening the
 * namespaces directly (the nodes run on this machine; the run reads them after they stopped, or while they run for
 * the progress line). Reruns and late batches leave several records (vquery.h): billing keeps the record of an
 * interval that counted the most batches, latency the first answer of a query, the meter the last record of a
 * device interval.
 */
#include <stdlib.h>
#include <string.h>

#include <spot/ns.h>

#include "report.h"

typedef struct vec {
  void *v;
  size_t n, cap, size; /* size: bytes per record */
} vec_t;

typedef struct walk {
  vec_t *out;
  int rc;
} walk_t;

static int take(uint64_t seq, const void *data, size_t size, void *arg) {
  walk_t *w = arg;
  vec_t *o = w->out;
  (void)seq;
  if (o->n == o->cap) {
    size_t cap = o->cap ? 2 * o->cap : 256;
    void *v = realloc(o->v, cap * o->size);
    if (v == NULL)
      return w->rc = SPOT_ENOMEM;
    o->v = v, o->cap = cap;
  }
  char *dst = (char *)o->v + o->n * o->size;
  memset(dst, 0, o->size);
  memcpy(dst, data, size < o->size ? size : o->size);
  if (*(const uint32_t *)dst != VQ_REC_VERSION)
    return 0; /* not a record of this version: skipped */
  o->n++;
  return 0;
}

/* Appends every record of log `name` of namespace dir to o. A missing log is empty (the tier never wrote it). */
static int read_log(const char *dir, const char *name, vec_t *o) {
  spot_ns_t *ns = NULL;
  spot_log_t *log = NULL;
  int rc = spot_ns_open(dir, NULL, &ns);
  if (rc < 0)
    return rc;
  rc = spot_ns_open_log(ns, name, 0, &log, NULL);
  if (rc == SPOT_ENOTFOUND) {
    spot_ns_close(ns);
    return 0;
  }
  if (rc < 0)
    goto fail;
  uint64_t first, last;
  if ((rc = spot_log_earliest(log, &first)) < 0 || (rc = spot_log_latest(log, &last)) < 0)
    goto fail;
  if (last > 0) {
    walk_t w = {o, 0};
    rc = spot_log_iterate(log, first, last, take, &w);
    if (rc == 0)
      rc = w.rc;
  }
fail:
  if (log)
    spot_log_close(log);
  spot_ns_close(ns);
  return rc;
}

static int latest_of(const char *dir, const char *name, uint64_t *out) {
  spot_ns_t *ns = NULL;
  spot_log_t *log = NULL;
  int rc = spot_ns_open(dir, NULL, &ns);
  if (rc < 0)
    return rc;
  rc = spot_ns_open_log(ns, name, 0, &log, NULL);
  if (rc == 0) {
    rc = spot_log_latest(log, out);
    spot_log_close(log);
  } else if (rc == SPOT_ENOTFOUND) {
    *out = 0;
    rc = 0;
  }
  spot_ns_close(ns);
  return rc;
}

int vq_data_read(const char *const *device_dirs, uint32_t n, const char *aggregator_dir, const char *cloud_dir,
                 uint32_t intervals, vq_data_t *out) {
  vq_data_t d;
  memset(&d, 0, sizeof d);
  vec_t meter = {NULL, 0, 0, sizeof(vq_device_rec_t)}, lat = {NULL, 0, 0, sizeof(vq_latency_rec_t)};
  vec_t bill = {NULL, 0, 0, sizeof(vq_billing_rec_t)}, cal = {NULL, 0, 0, sizeof(vq_calib_rec_t)};
  int rc = SPOT_ENOMEM;
  d.calib = calloc(n ? n : 1, sizeof *d.calib);
  if (d.calib == NULL)
    goto fail;
  for (uint32_t i = 0; i < n; i++) {
    cal.n = 0;
    if ((rc = read_log(device_dirs[i], VQ_LOG_CALIB, &cal)) < 0)
      goto fail;
    if (cal.n > 0)
      d.calib[i] = ((vq_calib_rec_t *)cal.v)[cal.n - 1];
    /* meter: the last record of each interval */
    size_t m0 = meter.n;
    if ((rc = read_log(device_dirs[i], VQ_LOG_METER, &meter)) < 0)
      goto fail;
    vq_device_rec_t *mv = meter.v;
    size_t keep = m0;
    for (size_t j = m0; j < meter.n; j++) {
      if (mv[j].interval >= intervals)
        continue;
      size_t k = m0;
      while (k < keep && mv[k].interval != mv[j].interval)
        k++;
      mv[k] = mv[j];
      if (k == keep)
        keep++;
    }
    meter.n = keep;
    /* latency: the first answer of each query */
    size_t l0 = lat.n;
    if ((rc = read_log(device_dirs[i], VQ_LOG_LATENCY, &lat)) < 0)
      goto fail;
    vq_latency_rec_t *lv = lat.v;
    uint64_t maxq = 0;
    for (size_t j = l0; j < lat.n; j++)
      maxq = lv[j].qid > maxq ? lv[j].qid : maxq;
    uint8_t *seen = calloc(maxq + 1, 1);
    if (seen == NULL) {
      rc = SPOT_ENOMEM;
      goto fail;
    }
    keep = l0;
    for (size_t j = l0; j < lat.n; j++)
      if (!seen[lv[j].qid]) {
        seen[lv[j].qid] = 1;
        lv[keep++] = lv[j];
      }
    lat.n = keep;
    free(seen);
  }
  if ((rc = read_log(cloud_dir, VQ_LOG_BILLING, &bill)) < 0)
    goto fail;
  { /* billing: per interval the record that counted the most batches (the highest batch_seq; the last of a tie),
     * in interval order */
    vq_billing_rec_t *bv = bill.v;
    vq_billing_rec_t *by = calloc((size_t)intervals + 1, sizeof *by);
    if (by == NULL) {
      rc = SPOT_ENOMEM;
      goto fail;
    }
    for (size_t j = 0; j < bill.n; j++)
      if (bv[j].interval <= intervals &&
          (by[bv[j].interval].version == 0 || bv[j].batch_seq >= by[bv[j].interval].batch_seq))
        by[bv[j].interval] = bv[j];
    size_t keep = 0;
    for (size_t t = 0; t <= intervals; t++)
      if (by[t].version)
        bv[keep++] = by[t];
    bill.n = keep;
    free(by);
  }
  if ((rc = latest_of(aggregator_dir, VQ_LOG_INBOX, &d.inbox)) < 0 ||
      (rc = latest_of(cloud_dir, VQ_LOG_REPOSITORY, &d.repository)) < 0)
    goto fail;
  d.meter = meter.v, d.nmeter = meter.n;
  d.lat = lat.v, d.nlat = lat.n;
  d.billing = bill.v, d.nbilling = bill.n;
  free(cal.v);
  *out = d;
  return 0;
fail:
  free(meter.v), free(lat.v), free(bill.v), free(cal.v);
  vq_data_free(&d);
  return rc;
}
