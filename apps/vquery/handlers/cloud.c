/*
 * apps/vquery/handlers/cloud.c: the cloud node's handlers (built into vquery_cloud.so, loaded by the cloud's spotd).
 *
 * vq_interval runs on each element of `batches` (a part of one interval's queries: the main one, or late ones): it
 * reads the latest configuration, sums the interval's volume over every part of it in `batches` (each query is
 * billed to the interval it was made in, whatever batch brought it), finds the instances in force (the autoscaler's
 * rule applied to the main batch of interval k-1), writes the interval's billing record (vq_billing_interval) and
 * splits the batch's repository range into jobs of match_batch queries on `jobs`. vq_match runs on each job: it reads the job's queries from `repository`, matches them all with one
 * vq_match_library call (exact or nprobe as the configuration says) against the library (opened once per process and kept) and puts each answer to the query's
 * reply URL (the device's `answers` log) with handler vq_answer. Each answer's cause is its own query's (the
 * aggregator's put of it into its inbox, carried in the record): a job matches many queries, and this way `spot
 * trace` follows each query's own path device -> aggregator -> cloud -> device. The run of vq_match itself is in
 * the cloud's event log under its job.
 *
 * With a pool of matchers (the configuration's pooled flag, `spot vquery run --pool`), vq_interval puts each job with
 * its queries and no handler: the cloud's spotd feeds it to the JetStream work queue, and vq_match runs on a pool
 * member (another spotd, with only `jobs`, `config` and this object), matching the queries the element carries.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <spot/handler.h>

#include "match_index.h"
#include "vquery.h"

#define LOOKBACK 4096 /* `batches` elements searched back for the parts of an interval */
#define MAX_PARTS 256 /* parts of one interval told apart (more are counted as one) */

static int read_config(spot_ctx_t *ctx, vq_cloud_config_t *cfg) {
  uint64_t latest = 0;
  int rc = spot_ctx_latest(ctx, VQ_LOG_CONFIG, &latest);
  if (rc == 0 && latest == 0) {
    spot_print(ctx, "no configuration in `config`: set the cloud up with vq_cloud_setup");
    return SPOT_EEMPTY;
  }
  if (rc == 0)
    rc = spot_ctx_get(ctx, VQ_LOG_CONFIG, latest, cfg, sizeof *cfg);
  if (rc == 0 && cfg->version != VQ_REC_VERSION)
    rc = SPOT_EVERSION;
  if (rc != 0)
    spot_print(ctx, "cannot read the configuration: %s", spot_strerror(rc));
  return rc;
}

/* What `batches` holds of one interval: its volume over its distinct parts (a part put twice counts once), the
 * main part's volume (the autoscaler's input), and the newest element counted. */
typedef struct interval_sum {
  double bits, main_bits;
  uint32_t queries, main_queries, parts;
  int has_main;
  uint64_t newest;
} interval_sum_t;

/* Sums interval k's parts among the LOOKBACK newest elements of `batches` (up to latest). */
static void sum_interval(spot_ctx_t *ctx, uint64_t k, uint64_t latest, interval_sum_t *out) {
  interval_sum_t x = {0, 0, 0, 0, 0, 0, 0};
  uint8_t seen[MAX_PARTS];
  memset(seen, 0, sizeof seen);
  for (uint64_t s = latest; s >= 1 && s + LOOKBACK > latest; s--) {
    vq_batch_rec_t b;
    if (spot_ctx_get(ctx, VQ_LOG_BATCHES, s, &b, sizeof b) != 0 || b.version != VQ_REC_VERSION || b.interval != k)
      continue;
    uint32_t part = b.part < MAX_PARTS ? b.part : MAX_PARTS - 1;
    if (seen[part])
      continue; /* the same part put again (a lost reply): the same queries */
    seen[part] = 1;
    x.bits += b.volume_bits, x.queries += b.queries, x.parts++;
    if (s > x.newest)
      x.newest = s;
    if (b.part == 0)
      x.has_main = 1, x.main_bits = b.volume_bits, x.main_queries = b.queries;
  }
  *out = x;
}

/* Splits the batch's repository range into jobs of match_batch queries on `jobs`: job records that run vq_match
 * here, or, when the matchers are a pool (cfg->pooled), jobs that carry their queries and name no handler (the
 * node's pool feeder publishes them to the work queue). 0 or the first error. */
static int put_jobs(spot_ctx_t *ctx, const vq_cloud_config_t *cfg, const vq_batch_rec_t *batch) {
  vq_pool_job_rec_t *pj = NULL;
  if (cfg->pooled && (pj = malloc(sizeof *pj)) == NULL)
    return SPOT_ENOMEM;
  int rc = 0;
  for (uint64_t first = batch->first; first <= batch->last && rc == 0; first += cfg->match_batch) {
    vq_job_rec_t job = {.version = VQ_REC_VERSION, .interval = batch->interval, .first = first};
    job.last = batch->last - first + 1 > cfg->match_batch ? first + cfg->match_batch - 1 : batch->last;
    job.queries = (uint32_t)(job.last - job.first + 1);
    if (pj == NULL) {
      rc = spot_ctx_put(ctx, VQ_LOG_JOBS, &job, sizeof job, VQ_H_MATCH, NULL);
    } else {
      memset(pj, 0, sizeof *pj);
      pj->job = job;
      for (uint64_t s = job.first; s <= job.last && rc == 0; s++)
        rc = spot_ctx_get(ctx, VQ_LOG_REPOSITORY, s, &pj->queries[s - job.first], sizeof pj->queries[0]);
      if (rc == 0)
        rc = spot_ctx_put(ctx, VQ_LOG_JOBS, pj, sizeof *pj, NULL, NULL);
    }
    if (rc != 0)
      spot_print(ctx, "cannot put the job of repository %llu..%llu: %s", (unsigned long long)job.first,
                 (unsigned long long)job.last, spot_strerror(rc));
  }
  free(pj);
  return rc;
}

/* The instances in force during interval k: the autoscaler's rule on interval k-1's main batch (the volume it had
 * when it decided; queries of k-1 that came later do not change a decision already carried out). */
static uint32_t instances_for(spot_ctx_t *ctx, const vq_cloud_config_t *cfg, uint64_t k, uint64_t latest) {
  if (k == 0)
    return cfg->idle_instances;
  interval_sum_t prev;
  sum_interval(ctx, k - 1, latest, &prev);
  if (!prev.has_main) {
    spot_print(ctx, "interval %llu: no main batch of interval %llu among the last %d batches: idle instances",
               (unsigned long long)k, (unsigned long long)(k - 1), LOOKBACK);
    return cfg->idle_instances;
  }
  return prev.main_bits >= cfg->theta ? cfg->active_instances : cfg->idle_instances;
}

/* Bills the batch's interval from every part of it seen so far (this one included), then splits the batch into
 * matcher jobs. Each run writes a whole billing record of the interval (the highest batch_seq wins), so a rerun, or
 * two parts billed at once, leave a record that counts every part either saw. */
static int vq_interval(spot_ctx_t *ctx, const spot_event_t *ev) {
  vq_batch_rec_t batch;
  if (ev->size < sizeof batch)
    return 1;
  memcpy(&batch, ev->data, sizeof batch);
  if (batch.version != VQ_REC_VERSION) {
    spot_print(ctx, "batch %llu has record version %u, not %u", (unsigned long long)ev->seq, batch.version,
               VQ_REC_VERSION);
    return 1;
  }
  vq_cloud_config_t cfg;
  if (read_config(ctx, &cfg) != 0)
    return 1;
  uint64_t latest = 0;
  int rc = spot_ctx_latest(ctx, VQ_LOG_BATCHES, &latest);
  if (rc != 0 || latest < ev->seq)
    latest = ev->seq;
  interval_sum_t sum;
  sum_interval(ctx, batch.interval, latest, &sum);
  if (sum.parts == 0) /* this batch itself fell out of reach (it cannot: it is among the newest) */
    sum.bits = batch.volume_bits, sum.queries = batch.queries, sum.parts = 1, sum.newest = ev->seq;
  vq_billing_rec_t bill;
  vq_billing_interval(&cfg, batch.interval, sum.bits, sum.queries, instances_for(ctx, &cfg, batch.interval, latest),
                      &bill);
  if (sum.has_main) /* the autoscaler decided on the main batch */
    bill.next_instances = sum.main_bits >= cfg.theta ? cfg.active_instances : cfg.idle_instances;
  bill.batch_seq = sum.newest;
  bill.parts = sum.parts;
  bill.late_queries = sum.has_main ? sum.queries - sum.main_queries : sum.queries;
  rc = spot_ctx_put(ctx, VQ_LOG_BILLING, &bill, sizeof bill, NULL, NULL);
  if (rc != 0) {
    spot_print(ctx, "cannot write the billing of interval %llu: %s", (unsigned long long)batch.interval,
               spot_strerror(rc));
    return 1;
  }
  return put_jobs(ctx, &cfg, &batch) != 0;
}
SPOT_HANDLER(vq_interval)

/* The library, opened at the first job of this process and kept for the next ones. */
static pthread_mutex_t lib_mu = PTHREAD_MUTEX_INITIALIZER;
static vq_library_t *lib;
static char lib_path[sizeof(((vq_cloud_config_t *)0)->library)];

static int library_for(spot_ctx_t *ctx, const char *path, vq_library_t **out) {
  pthread_mutex_lock(&lib_mu);
  int rc = 0;
  if (lib == NULL || strcmp(lib_path, path) != 0) {
    vq_library_t *l; /* a library replaced by a new path stays open: a running match may use it */
    rc = vq_library_open(path, &l);
    if (rc == 0) {
      lib = l;
      snprintf(lib_path, sizeof lib_path, "%s", path);
    } else {
      spot_print(ctx, "cannot open the library %s: %s %s", path, spot_strerror(rc), spot_errdetail());
    }
  }
  if (rc == 0)
    *out = lib;
  pthread_mutex_unlock(&lib_mu);
  return rc;
}

static int vq_match(spot_ctx_t *ctx, const spot_event_t *ev) {
  vq_job_rec_t job;
  if (ev->size < sizeof job)
    return 1;
  memcpy(&job, ev->data, sizeof job);
  if (job.version != VQ_REC_VERSION || job.first > job.last || job.last - job.first >= 1u << 20)
    return 1;
  vq_cloud_config_t cfg;
  if (read_config(ctx, &cfg) != 0)
    return 1;
  vq_library_t *l;
  if (library_for(ctx, cfg.library, &l) != 0)
    return 1;
  size_t n = (size_t)(job.last - job.first + 1), k = cfg.top_k ? cfg.top_k : 1, got = 0;
  vq_query_rec_t *qs = malloc(n * sizeof *qs);
  float *vecs = malloc(n * VQ_DIM * sizeof *vecs);
  vq_hit_t *hits = malloc(n * k * sizeof *hits);
  int failed = 0, rc = 0;
  if (qs == NULL || vecs == NULL || hits == NULL) {
    failed = 1;
    goto done;
  }
  /* a pooled job carries its queries (a pool member has no repository); a local one names repository elements */
  int carried = ev->size >= sizeof(vq_pool_job_rec_t) && job.queries == n && n <= VQ_POOL_JOB_MAX;
  for (uint64_t s = job.first; s <= job.last; s++) {
    if (carried)
      memcpy(&qs[got], (const uint8_t *)ev->data + offsetof(vq_pool_job_rec_t, queries) + (s - job.first) * sizeof *qs,
             sizeof *qs);
    else
      rc = spot_ctx_get(ctx, VQ_LOG_REPOSITORY, s, &qs[got], sizeof qs[got]);
    if (rc != 0 || qs[got].version != VQ_REC_VERSION) {
      spot_print(ctx, "repository element %llu: %s", (unsigned long long)s,
                 rc ? spot_strerror(rc) : "not a query record");
      failed = 1;
      continue;
    }
    if (qs[got].interval != job.interval)
      spot_print(ctx, "repository element %llu: a query of interval %llu in a batch of interval %llu (the "
                      "aggregator groups by interval: its bill is wrong)",
                 (unsigned long long)s, (unsigned long long)qs[got].interval, (unsigned long long)job.interval);
    memcpy(&vecs[got * VQ_DIM], qs[got].vlad, sizeof qs[got].vlad);
    got++;
  }
  vq_match_opts_t mo = {.exact = cfg.exact ? 1 : 0, .nprobe = cfg.nprobe};
  if (got > 0 && (rc = vq_match_library(l, vecs, got, k, &mo, hits)) != 0) {
    spot_print(ctx, "matching %zu queries failed: %s %s", got, spot_strerror(rc), spot_errdetail());
    failed = 1;
    goto done;
  }
  for (size_t i = 0; i < got; i++) {
    const vq_query_rec_t *q = &qs[i];
    vq_answer_rec_t a;
    memset(&a, 0, sizeof a);
    a.version = VQ_REC_VERSION;
    a.device = q->device;
    a.interval = q->interval;
    a.qid = q->qid;
    a.put_ns = q->put_ns;
    a.truth = q->truth;
    a.match = hits[i * k].index;
    a.score = hits[i * k].score;
    char reply[VQ_URL_MAX];
    memcpy(reply, q->reply, sizeof reply);
    reply[sizeof reply - 1] = '\0';
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    a.answered_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    spot_cause_t cause = {q->cause_node, q->cause_event}; /* (0, 0): this run */
    if ((rc = spot_ctx_put_cause(ctx, reply, &a, sizeof a, VQ_H_ANSWER, &cause, NULL)) != 0) {
      spot_print(ctx, "answer to %s (query %llu) not delivered: %s %s", reply, (unsigned long long)q->qid,
                 spot_strerror(rc), spot_errdetail());
      failed = 1;
    }
  }
done:
  free(qs);
  free(vecs);
  free(hits);
  return failed;
}
SPOT_HANDLER(vq_match)
