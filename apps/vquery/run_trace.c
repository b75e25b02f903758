/*
 * apps/vquery/run_trace.c: the trace of one query across the three nodes of `spot vquery run` (run.h), from their
 * event logs with `spot trace`, which follows a put to another node into that node's event log and, through the
 * nodes named with --peer, walks a cause back to the node that sent it. The aggregator uploads each query with its
 * inbox put as cause and the cloud's matcher answers it with the same cause (aggregator.c, handlers/cloud.c), so:
 * from the device's query, the tree runs device -> aggregator -> cloud -> device (its answer); from the device's
 * answer, the walk back finds the query on the device and prints the same tree; the cloud's batch that uploaded it
 * (found in the repository) shows its billing, jobs and matches. It runs with the operator's key, which has the get
 * right on every node.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <spot/ns.h>

#include "run.h"
#include "vquery.h"

uint64_t vq_run_latest(const char *dir, const char *log) {
  spot_ns_t *ns;
  spot_log_t *l;
  uint64_t seq = 0;
  if (spot_ns_open(dir, NULL, &ns) < 0)
    return 0;
  if (spot_ns_open_log(ns, log, 0, &l, NULL) == 0) {
    spot_log_latest(l, &seq);
    spot_log_close(l);
  }
  spot_ns_close(ns);
  return seq;
}

/* The first answered query of device 0: its qid and interval, and its answer's seqno in `answers`; 0 if none. */
static uint64_t answered_query(const vq_run_t *r, uint64_t *answer_seq, uint64_t *interval) {
  spot_ns_t *ns;
  spot_log_t *l;
  uint64_t qid = 0;
  if (spot_ns_open(r->dev_dir[0], NULL, &ns) < 0)
    return 0;
  if (spot_ns_open_log(ns, VQ_LOG_ANSWERS, 0, &l, NULL) == 0) {
    vq_answer_rec_t a;
    uint64_t first = 0;
    spot_log_earliest(l, &first);
    if (first > 0 && spot_log_read(l, first, &a, sizeof a) == 0 && a.version == VQ_REC_VERSION) {
      qid = a.qid;
      *answer_seq = first;
      *interval = a.interval;
    }
    spot_log_close(l);
  }
  spot_ns_close(ns);
  return qid;
}

/* The seqno in the cloud's `batches` of the last batch that uploaded query qid of device dev (found in the
 * repository), or 0. */
static uint64_t batch_of(const vq_run_t *r, uint32_t dev, uint64_t qid) {
  spot_ns_t *ns;
  spot_log_t *repo = NULL, *l = NULL;
  uint64_t found = 0, at = 0;
  if (spot_ns_open(r->cloud_dir, NULL, &ns) < 0)
    return 0;
  if (spot_ns_open_log(ns, VQ_LOG_REPOSITORY, 0, &repo, NULL) == 0 &&
      spot_ns_open_log(ns, VQ_LOG_BATCHES, 0, &l, NULL) == 0) {
    uint64_t first = 0, last = 0;
    spot_log_earliest(repo, &first);
    spot_log_latest(repo, &last);
    vq_query_rec_t *q = malloc(sizeof *q);
    for (uint64_t s = first; q && s > 0 && s <= last && at == 0; s++)
      if (spot_log_read(repo, s, q, sizeof *q) == 0 && q->version == VQ_REC_VERSION && q->device == dev &&
          q->qid == qid)
        at = s;
    free(q);
    spot_log_earliest(l, &first);
    spot_log_latest(l, &last);
    for (uint64_t s = first; at > 0 && s > 0 && s <= last; s++) {
      vq_batch_rec_t b;
      if (spot_log_read(l, s, &b, sizeof b) == 0 && b.version == VQ_REC_VERSION && b.first <= at && at <= b.last)
        found = s;
    }
  }
  if (l)
    spot_log_close(l);
  if (repo)
    spot_log_close(repo);
  spot_ns_close(ns);
  return found;
}

/* Appends `spot -n DIR trace LOG SEQ [--peer AGGREGATOR --peer CLOUD]` (run with the operator's key, which may get
 * on every node) to out. */
static int trace_cmd(vq_run_t *r, const char *dir, const char *log, uint64_t seq, int peers, const char *why,
                     const char *out) {
  char key[PATH], s[32], edge[64], cloud[64];
  snprintf(key, sizeof key, "SPOT_KEY=%s/operator.key", r->keys);
  snprintf(s, sizeof s, "%llu", (unsigned long long)seq);
  snprintf(edge, sizeof edge, "spot://127.0.0.1:%d/edge", r->edge_port);
  snprintf(cloud, sizeof cloud, "spot://127.0.0.1:%d/cloud", r->cloud_port);
  char *env[] = {r->known_env, key, NULL};
  FILE *f = fopen(out, "a");
  if (f == NULL)
    return -1;
  fprintf(f, "$ spot -n %s trace %s %s%s%s%s%s   # %s\n", dir, log, s, peers ? " --peer " : "", peers ? edge : "",
          peers ? " --peer " : "", peers ? cloud : "", why);
  fclose(f);
  char *argv[] = {r->spot, "-n", (char *)dir, "trace", (char *)log, s, "--peer", edge, "--peer", cloud, NULL};
  if (!peers)
    argv[6] = NULL;
  return vq_proc_run(argv, out, env);
}

/* The path of one query through the three nodes, from their event logs: forward from the device's query (device ->
 * aggregator -> cloud -> the answer on the device); back from the device's answer to its query, through the
 * aggregator and the cloud given as peers; the cloud's batch that uploaded it (its billing, jobs and matches). */
void vq_run_trace(vq_run_t *r) {
  uint64_t aseq = 0, k = 0, qid = answered_query(r, &aseq, &k), bseq = batch_of(r, 0, qid);
  if (qid == 0)
    return;
  char out[PATH];
  snprintf(out, sizeof out, "%s/trace.txt", r->scratch);
  unlink(out);
  int st[3] = {trace_cmd(r, r->dev_dir[0], VQ_LOG_QUERIES, qid, 1,
                         "the query: device -> aggregator -> cloud -> its answer on the device", out),
               0, 0};
  st[1] = trace_cmd(r, r->dev_dir[0], VQ_LOG_ANSWERS, aseq, 1,
                    "its answer, walked back through the peers to the query", out);
  if (bseq > 0)
    st[2] = trace_cmd(r, r->cloud_dir, VQ_LOG_BATCHES, bseq, 0,
                      "the cloud: the batch that uploaded it, its billing, jobs and matches", out);
  FILE *f = fopen(out, "r");
  if (f == NULL)
    return;
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  char line[1024];
  while (m && fgets(line, sizeof line, f))
    fputs(line, m);
  if (m && (st[0] != 0 || st[1] != 0 || st[2] != 0))
    fprintf(m, "(spot trace exited with status %d, %d and %d)\n", st[0], st[1], st[2]);
  if (m)
    fclose(m);
  fclose(f);
  r->trace = buf;
  r->trace_qid = qid;
}
