/*
 * apps/vquery/setup.c: making the namespaces of the three tiers (vq_device_setup, vq_aggregator_setup,
 * vq_cloud_setup in vquery.h): their logs with the element sizes of the records, the cloud's configuration, and the
 * handler registrations, and a pool member of a pooled cloud (vq_pool_member_setup). Idempotent, so the driver may
 * call them on namespaces it already prepared, and a program may call them on a namespace that lacks some log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <spot/log.h>
#include <spot/node.h>
#include <spot/ns.h>

#include "tiers.h"
#include "vquery.h"

typedef struct log_spec {
  const char *name;
  uint32_t size;
  uint64_t history;
  spot_sync_t sync;
} log_spec_t;

/* Makes dir a namespace with the logs of specs; *out (may be NULL) gets it open. */
static int make_ns(const char *dir, const log_spec_t *specs, size_t n, spot_ns_t **out) {
  int rc = spot_ns_init(dir);
  if (rc != 0)
    return vq_tiers_spot_fail(rc, dir);
  spot_ns_t *ns;
  if ((rc = spot_ns_open(dir, NULL, &ns)) != 0)
    return vq_tiers_spot_fail(rc, dir);
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = vq_ensure_log(ns, specs[i].name, specs[i].size, specs[i].history, specs[i].sync);
  if (rc != 0 || out == NULL)
    spot_ns_close(ns);
  else
    *out = ns;
  return rc;
}

int vq_device_setup(const char *dir) {
  const log_spec_t specs[] = {
      {VQ_LOG_QUERIES, sizeof(vq_query_rec_t), 4096, SPOT_SYNC_NONE},
      {VQ_LOG_ANSWERS, sizeof(vq_answer_rec_t), 4096, SPOT_SYNC_NONE},
      {VQ_LOG_LATENCY, sizeof(vq_latency_rec_t), 4096, SPOT_SYNC_BATCH},
      {VQ_LOG_METER, sizeof(vq_device_rec_t), 4096, SPOT_SYNC_BATCH},
      {VQ_LOG_CALIB, sizeof(vq_calib_rec_t), 64, SPOT_SYNC_BATCH},
      {VQ_LOG_REHEARSAL, sizeof(vq_query_rec_t), 4096, SPOT_SYNC_NONE}, /* as `queries` */
  };
  spot_ns_t *ns;
  int rc = make_ns(dir, specs, sizeof specs / sizeof specs[0], &ns);
  if (rc != 0)
    return rc;
  if ((rc = spot_ns_register_handler(ns, VQ_H_FORWARD, "")) == 0 &&
      (rc = spot_ns_register_handler(ns, VQ_H_TALLY, "")) == 0)
    rc = spot_ns_register_handler(ns, VQ_H_ANSWER, "");
  if (rc != 0)
    rc = vq_tiers_spot_fail(rc, "registering the device's handlers");
  spot_ns_close(ns);
  return rc;
}

int vq_aggregator_setup(const char *dir) {
  const log_spec_t specs[] = {
      {VQ_LOG_INBOX, sizeof(vq_query_rec_t), 8192, SPOT_SYNC_BATCH},
      {VQ_LOG_TALLIES, sizeof(vq_tally_rec_t), 8192, SPOT_SYNC_BATCH},
      {VQ_LOG_UPLOADED, sizeof(vq_upload_rec_t), 4096, SPOT_SYNC_ALWAYS},
  };
  return make_ns(dir, specs, sizeof specs / sizeof specs[0], NULL);
}

/* Copies the file at src to dst through dst.tmp and a rename (a node loading dst sees a whole file). */
static int copy_file(const char *src, const char *dst) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", dst);
  FILE *in = fopen(src, "rb");
  if (in == NULL)
    return vq_tiers_fail(SPOT_ENOTFOUND, "cannot read the handler object %s (build it: cmake --build, target "
                                         "vquery_cloud)", src);
  FILE *out = fopen(tmp, "wb");
  int rc = out ? 0 : vq_tiers_fail(SPOT_EIO, "cannot write %s", tmp);
  char buf[65536];
  size_t n;
  while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, out) != n)
      rc = vq_tiers_fail(SPOT_EIO, "cannot write %s (disk full?)", tmp);
  if (rc == 0 && ferror(in))
    rc = vq_tiers_fail(SPOT_EIO, "cannot read %s", src);
  fclose(in);
  if (out && fclose(out) != 0 && rc == 0)
    rc = vq_tiers_fail(SPOT_EIO, "cannot write %s (disk full?)", tmp);
  if (rc == 0 && rename(tmp, dst) != 0)
    rc = vq_tiers_fail(SPOT_EIO, "cannot rename %s to %s", tmp, dst);
  if (rc != 0 && out)
    unlink(tmp);
  return rc;
}

/* Appends *cfg to config unless the latest element equals it. */
static int put_config(spot_ns_t *ns, const vq_cloud_config_t *cfg) {
  spot_log_t *log;
  int rc = spot_ns_open_log(ns, VQ_LOG_CONFIG, 0, &log, NULL);
  if (rc != 0)
    return vq_tiers_spot_fail(rc, VQ_LOG_CONFIG);
  uint64_t latest = 0;
  vq_cloud_config_t cur;
  if ((rc = spot_log_latest(log, &latest)) == 0 && latest > 0 &&
      spot_log_read(log, latest, &cur, sizeof cur) == 0 && memcmp(&cur, cfg, sizeof cur) == 0) {
    spot_log_close(log);
    return 0;
  }
  if (rc == 0)
    rc = spot_log_append(log, cfg, sizeof *cfg, NULL);
  if (rc != 0)
    rc = vq_tiers_spot_fail(rc, "putting the cloud's configuration");
  spot_log_close(log);
  return rc;
}

/* The cloud's configuration is usable (the checks of vq_cloud_setup and vq_pool_member_setup). */
static int check_config(const vq_cloud_config_t *cfg) {
  if (cfg->version != VQ_REC_VERSION || cfg->idle_instances == 0 || cfg->active_instances == 0 ||
      cfg->top_k == 0 || cfg->match_batch == 0 || cfg->interval_ms == 0 || !(cfg->theta >= 0) ||
      memchr(cfg->library, '\0', sizeof cfg->library) == NULL || cfg->library[0] == '\0')
    return vq_tiers_fail(SPOT_EINVAL, "the cloud's configuration needs version %u, instances, top_k, match_batch, "
                                      "interval_ms above 0, theta >= 0 and a library path (vq_cloud_config_default "
                                      "fills the rest)", VQ_REC_VERSION);
  if (cfg->pooled && cfg->match_batch > VQ_POOL_JOB_MAX)
    return vq_tiers_fail(SPOT_EINVAL, "a pooled cloud's jobs carry at most %u queries: match_batch %u is too many",
                         VQ_POOL_JOB_MAX, cfg->match_batch);
  return 0;
}

/* Puts *cfg to config, copies handler_so into DIR/.spot/handlers and registers the handlers names[0..n) from it. */
static int config_and_handlers(spot_ns_t *ns, const char *dir, const vq_cloud_config_t *cfg, const char *handler_so,
                               const char *const *names, size_t n) {
  int rc = put_config(ns, cfg);
  const char *base = strrchr(handler_so, '/');
  base = base ? base + 1 : handler_so;
  char dst[4200];
  if (rc == 0 && (base[0] == '\0' || snprintf(dst, sizeof dst, "%s/.spot/handlers/%s", dir, base) >= (int)sizeof dst))
    rc = vq_tiers_fail(SPOT_EINVAL, "handler object '%s' has no usable file name", handler_so);
  if (rc == 0)
    rc = copy_file(handler_so, dst);
  for (size_t i = 0; rc == 0 && i < n; i++)
    if ((rc = spot_ns_register_handler(ns, names[i], base)) != 0)
      rc = vq_tiers_spot_fail(rc, "registering the cloud's handlers");
  return rc;
}

/* The cloud's `jobs`: job records, or jobs with their queries when the matchers are a pool. */
static log_spec_t jobs_spec(const vq_cloud_config_t *cfg) {
  if (cfg->pooled)
    return (log_spec_t){VQ_LOG_JOBS, sizeof(vq_pool_job_rec_t), 1024, SPOT_SYNC_BATCH};
  return (log_spec_t){VQ_LOG_JOBS, sizeof(vq_job_rec_t), 16384, SPOT_SYNC_BATCH};
}

int vq_cloud_setup(const char *dir, const vq_cloud_config_t *cfg, const char *handler_so) {
  int rc = check_config(cfg);
  if (rc != 0)
    return rc;
  const log_spec_t specs[] = {
      {VQ_LOG_REPOSITORY, sizeof(vq_query_rec_t), 16384, SPOT_SYNC_BATCH},
      {VQ_LOG_BATCHES, sizeof(vq_batch_rec_t), 4096, SPOT_SYNC_BATCH},
      jobs_spec(cfg),
      {VQ_LOG_BILLING, sizeof(vq_billing_rec_t), 4096, SPOT_SYNC_BATCH},
      {VQ_LOG_CONFIG, sizeof(vq_cloud_config_t), 64, SPOT_SYNC_ALWAYS},
  };
  spot_ns_t *ns;
  if ((rc = make_ns(dir, specs, sizeof specs / sizeof specs[0], &ns)) != 0)
    return rc;
  const char *names[] = {VQ_H_INTERVAL, VQ_H_MATCH};
  rc = config_and_handlers(ns, dir, cfg, handler_so, names, 2);
  spot_ns_close(ns);
  return rc;
}

int vq_pool_member_setup(const char *dir, const vq_cloud_config_t *cfg, const char *handler_so) {
  int rc = check_config(cfg);
  if (rc == 0 && !cfg->pooled)
    rc = vq_tiers_fail(SPOT_EINVAL, "a pool member needs the configuration of a pooled cloud (pooled = 1)");
  if (rc != 0)
    return rc;
  const log_spec_t specs[] = {
      jobs_spec(cfg),
      {VQ_LOG_CONFIG, sizeof(vq_cloud_config_t), 64, SPOT_SYNC_ALWAYS},
  };
  spot_ns_t *ns;
  if ((rc = make_ns(dir, specs, sizeof specs / sizeof specs[0], &ns)) != 0)
    return rc;
  const char *names[] = {VQ_H_MATCH};
  rc = config_and_handlers(ns, dir, cfg, handler_so, names, 1);
  spot_ns_close(ns);
  return rc;
}
