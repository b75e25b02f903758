/*
 * apps/vquery/aggregator.c: `spot vquery aggregator`, the edge node that collects its devices' queries and uploads
 * them to the cloud once per monitoring interval (as the paper's aggregator uploaded to S3), grouped by the interval
 * each query was made in, so that the cloud bills every query to its own interval.
 *
 * It serves its namespace (--listen, --key): the devices' vq_forward handlers put their queries to `inbox`, their
 * vq_tally handlers put each interval's count of queries (vq_tally_rec_t) to `tallies`. It reads both as they come,
 * knows for each (device, interval) how many queries it holds (a query forwarded twice counts and goes once), and
 * sends interval k's main batch (part 0) once every one of the --devices has told its count for k and the inbox
 * holds that many of its queries of k, or at k's deadline (T0 + k T + --deadline-ms), whichever comes first: the
 * interval's queries by pipelined remote puts to the cloud's `repository`, then one vq_batch_rec_t to the cloud's
 * `batches` with handler vq_interval, then a vq_upload_rec_t appended to `uploaded` (synchronously). Queries of an
 * interval whose main batch is gone (a device that overran, a forward retried) go in a further part of their
 * interval, sent just before the next main batch, or after the last one. After the last interval it waits until
 * every interval is complete, or the inbox and tallies were quiet for --tail-ms, and sends what is left.
 * A cloud that does not answer (down, restarting) makes it retry the whole part's upload with back-off until the
 * run's end plus --retry-ms; nothing the inbox acknowledged is lost, and the repository may get duplicates.
 * The records of `uploaded` say which inbox elements are uploaded (those of interval k up to the highest inbox_last
 * of k's parts), so a restarted aggregator resumes where it stopped.
 *
 * Causes, so that `spot trace` follows each query from its device through here to the cloud and back: the
 * aggregator follows its own event log for the put events of `inbox` elements (the device's forward put them, with
 * the device's handler run as cause). Each upload to the repository carries the query's inbox put event as its
 * cause, and so does the query record (cause_node, cause_event: the cloud's matcher puts the answer with it); the
 * batch carries the cause of its last query (the one that closed it). Each of these puts is recorded here as a put
 * event to the cloud's log (spot_events_note_remote_put), which is what a trace follows to the cloud.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spot/events.h>
#include <spot/net.h>

#include "commands.h"
#include "tiers.h"
#include "vquery.h"

#define WINDOW 64    /* remote puts in flight */
#define EVMAP 16384u /* inbox seqnos whose put event is remembered (twice the inbox's history) */

static volatile int stopping;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

/* What the aggregator knows of one inbox element. */
enum { E_NEW = 0, E_PENDING, E_UPLOADED, E_SKIPPED };
typedef struct elem {
  uint64_t interval;
  uint32_t device;
  uint8_t state; /* E_PENDING: to upload; E_UPLOADED; E_SKIPPED: a duplicate, expired, or not a query of the run */
} elem_t;

/* Per interval: the uploads so far. */
typedef struct ival {
  uint64_t hi;        /* the interval's inbox elements up to hi are uploaded */
  uint32_t next_part; /* the number of its next part (0: the main batch is not sent yet) */
} ival_t;

#define QID_BITS_MAX (1u << 24) /* qids a device's duplicate filter covers */

typedef struct aggregator {
  const char *ns_dir, *listen, *key, *cloud, *cloud_key;
  int64_t interval_ms, start_ns, intervals, retry_ms, tail_ms, timeout_ms, devices, deadline_ms;
  int quiet;
  char repo_url[VQ_URL_MAX], batches_url[VQ_URL_MAX];
  spot_ns_t *ns;
  spot_log_t *inbox, *tallies, *uploaded;
  spot_remote_t *cloud_client;
  vq_query_rec_t *buf;
  spot_cause_t *sent_cause; /* WINDOW: the cause of each put in flight, by ticket % WINDOW */
  uint64_t *sent_ticket;
  uint64_t node_id, ev_next; /* this node; the next event to read from its event log */
  struct { uint64_t seq, id; } *evmap; /* EVMAP: inbox seqno -> its put event, at seq % EVMAP */
  int noted_fail, said_foreign;
  /* the inbox as read so far */
  elem_t *el;           /* by inbox seqno */
  uint64_t el_cap, scanned, low; /* elements up to scanned are read; none below low is pending */
  uint64_t tallied;     /* tallies read */
  ival_t *iv;           /* intervals 0..K-1 */
  uint32_t *count, *tally; /* [interval * devices + device]: queries held; told count + 1 (0: not told) */
  uint8_t **qseen;      /* per device: a bit per qid held */
  uint32_t *qseen_bits;
  uint64_t *list;       /* the inbox seqnos of the part being uploaded */
  uint64_t list_cap;
  uint64_t main_next;   /* the interval whose main batch is next */
} aggregator_t;

/* Reads the event log on from ev_next, remembering the put event of every inbox element. */
static void follow_events(aggregator_t *a) {
  uint64_t lo = 0, hi = 0;
  if (spot_events_range(a->ns, &lo, &hi) != 0 || hi == 0)
    return;
  if (a->ev_next < lo)
    a->ev_next = lo;
  for (; a->ev_next <= hi; a->ev_next++) {
    spot_eventrec_t e;
    if (spot_events_read(a->ns, a->ev_next, &e) == 0 && e.type == SPOT_EVENT_PUT &&
        strcmp(e.log, VQ_LOG_INBOX) == 0) {
      a->evmap[e.seq % EVMAP].seq = e.seq;
      a->evmap[e.seq % EVMAP].id = e.id;
    }
  }
}

/* The cause of inbox element seq's upload: its put event here, or (0, 0) when it is not known (expired, or not
 * written within 200 ms). */
static spot_cause_t inbox_cause(aggregator_t *a, uint64_t seq) {
  spot_cause_t c = {0, 0};
  /* the node writes an element's put event just after the element: wait for it a little (up to 200 ms) */
  for (int i = 0; a->evmap[seq % EVMAP].seq != seq && i < 20 && !stopping; i++) {
    follow_events(a);
    if (a->evmap[seq % EVMAP].seq != seq)
      spot_events_wait(a->ns, a->ev_next ? a->ev_next - 1 : 0, 10000000);
  }
  if (a->evmap[seq % EVMAP].seq == seq)
    c.node = a->node_id, c.event = a->evmap[seq % EVMAP].id;
  return c;
}

/* Records the put of seq to url with cause c in the event log, for `spot trace`; a failure is said once. */
static void note(aggregator_t *a, const char *url, uint64_t seq, const char *handler, const spot_cause_t *c) {
  if (spot_events_note_remote_put(a->ns, url, seq, handler, c, NULL) != 0 && !a->noted_fail && !a->quiet) {
    a->noted_fail = 1;
    fprintf(stderr, "spot vquery aggregator: cannot record the upload in the event log (spot trace will not follow "
                    "it to the cloud): %s\n", spot_errdetail());
  }
}

/* ---- reading the inbox and the tallies ---- */

/* Marks qid of device dev held; 1 if it was held already (a query forwarded twice). */
static int seen_before(aggregator_t *a, uint32_t dev, uint64_t qid) {
  if (dev >= (uint64_t)a->devices || qid >= QID_BITS_MAX)
    return 0; /* no filter for it */
  if (qid >= a->qseen_bits[dev]) {
    uint32_t bits = a->qseen_bits[dev] ? a->qseen_bits[dev] : 4096;
    while (bits <= qid)
      bits *= 2;
    uint8_t *m = realloc(a->qseen[dev], bits / 8);
    if (m == NULL)
      return 0;
    memset(m + a->qseen_bits[dev] / 8, 0, (bits - a->qseen_bits[dev]) / 8);
    a->qseen[dev] = m, a->qseen_bits[dev] = bits;
  }
  uint8_t bit = (uint8_t)(1u << (qid % 8));
  int was = (a->qseen[dev][qid / 8] & bit) != 0;
  a->qseen[dev][qid / 8] |= bit;
  return was;
}

/* Reads the inbox elements that came since the last call: each one's interval and device, counted per (interval,
 * device) unless it is a duplicate; one of an interval uploaded up to beyond it (a restart) is already uploaded. */
static int follow_inbox(aggregator_t *a) {
  uint64_t latest = 0, earliest = 0;
  int rc = spot_log_latest(a->inbox, &latest);
  if (rc != 0)
    return vq_tiers_spot_fail(rc, "the inbox");
  spot_log_earliest(a->inbox, &earliest);
  if (latest + 1 > a->el_cap) {
    uint64_t cap = a->el_cap ? a->el_cap : 1024;
    while (cap < latest + 1)
      cap *= 2;
    elem_t *e = realloc(a->el, cap * sizeof *e);
    if (e == NULL)
      return vq_tiers_fail(SPOT_ENOMEM, "no memory for %llu inbox elements", (unsigned long long)cap);
    memset(e + a->el_cap, 0, (cap - a->el_cap) * sizeof *e);
    a->el = e, a->el_cap = cap;
  }
  for (uint64_t seq = a->scanned + 1; seq <= latest; seq++) {
    elem_t *e = &a->el[seq];
    vq_query_rec_t *q = &a->buf[0];
    if (seq < earliest || (rc = spot_log_read(a->inbox, seq, q, sizeof *q)) == SPOT_EEXPIRED) {
      if (!a->quiet)
        fprintf(stderr, "spot vquery aggregator: inbox element %llu expired before it was read (make the inbox's "
                        "history longer)\n", (unsigned long long)seq);
      e->state = E_SKIPPED;
    } else if (rc == SPOT_ENOTYET) {
      break; /* not written yet: the next call */
    } else if (rc != 0) {
      return vq_tiers_spot_fail(rc, "reading the inbox");
    } else if (q->version != VQ_REC_VERSION || q->interval >= (uint64_t)a->intervals) {
      if (!a->said_foreign++ && !a->quiet)
        fprintf(stderr, "spot vquery aggregator: inbox element %llu is not a query of this run (record version %u, "
                        "interval %llu of %lld): not uploaded\n", (unsigned long long)seq, q->version,
                (unsigned long long)q->interval, (long long)a->intervals);
      e->state = E_SKIPPED;
    } else if (seen_before(a, q->device, q->qid)) {
      e->state = E_SKIPPED;
    } else {
      e->interval = q->interval, e->device = q->device;
      e->state = seq <= a->iv[q->interval].hi ? E_UPLOADED : E_PENDING;
      if (q->device < (uint64_t)a->devices)
        a->count[q->interval * (uint64_t)a->devices + q->device]++;
    }
    a->scanned = seq;
  }
  return 0;
}

/* Reads the tallies that came since the last call. */
static int follow_tallies(aggregator_t *a) {
  uint64_t latest = 0;
  int rc = spot_log_latest(a->tallies, &latest);
  if (rc != 0)
    return vq_tiers_spot_fail(rc, "the tallies");
  for (; a->tallied < latest; a->tallied++) {
    vq_tally_rec_t t;
    if (spot_log_read(a->tallies, a->tallied + 1, &t, sizeof t) != 0 || t.version != VQ_REC_VERSION ||
        t.device >= (uint64_t)a->devices || t.interval >= (uint64_t)a->intervals)
      continue;
    a->tally[t.interval * (uint64_t)a->devices + t.device] = t.queries + 1;
  }
  return 0;
}

static int follow(aggregator_t *a) {
  int rc = follow_inbox(a);
  return rc ? rc : follow_tallies(a);
}

/* 1 when every device told its count of interval k's queries and the inbox holds them all. */
static int complete(const aggregator_t *a, uint64_t k) {
  for (int64_t d = 0; d < a->devices; d++) {
    uint64_t i = k * (uint64_t)a->devices + (uint64_t)d;
    if (a->tally[i] == 0 || a->count[i] < a->tally[i] - 1)
      return 0;
  }
  return 1;
}

/* ---- uploading ---- */

/* One attempt at uploading the a->list inbox elements (n) as part `part` of interval k; *out gets the record. */
static int upload_once(aggregator_t *a, uint64_t k, uint32_t part, uint64_t n, vq_upload_rec_t *out) {
  uint64_t sent = 0, done = 0, first = UINT64_MAX, last = 0;
  int rc = 0;
  while (done < n && rc == 0) {
    while (sent < n && sent - done < WINDOW && rc == 0) {
      vq_query_rec_t *q = &a->buf[sent % WINDOW];
      uint64_t seq = a->list[sent];
      if ((rc = spot_log_read(a->inbox, seq, q, sizeof *q)) != 0)
        return vq_tiers_spot_fail(rc, "reading the inbox");
      spot_cause_t c = inbox_cause(a, seq);
      q->cause_node = c.node;
      q->cause_event = c.event;
      uint64_t ticket;
      if ((rc = spot_remote_put_async(a->cloud_client, a->repo_url, q, sizeof *q, NULL, &c, &ticket)) != 0)
        return vq_tiers_spot_fail(rc, "uploading to the repository");
      a->sent_cause[ticket % WINDOW] = c;
      a->sent_ticket[ticket % WINDOW] = ticket;
      sent++;
    }
    uint64_t ticket, seq;
    if ((rc = spot_remote_put_result(a->cloud_client, a->repo_url, &ticket, &seq)) != 0)
      return vq_tiers_spot_fail(rc, "uploading to the repository");
    if (a->sent_ticket[ticket % WINDOW] == ticket)
      note(a, a->repo_url, seq, NULL, &a->sent_cause[ticket % WINDOW]);
    first = seq < first ? seq : first;
    last = seq > last ? seq : last;
    done++;
  }
  vq_batch_rec_t b = {.version = VQ_REC_VERSION, .queries = (uint32_t)n, .interval = k, .first = 1, .last = 0,
                      .part = part};
  if (n > 0) {
    b.first = first;
    b.last = last;
    if (last - first + 1 != n && !a->quiet)
      fprintf(stderr, "spot vquery aggregator: interval %llu's queries are not contiguous in the repository (another "
                      "writer?): the batch names %llu..%llu\n",
              (unsigned long long)k, (unsigned long long)first, (unsigned long long)last);
  }
  b.volume_bits = (double)n * VQ_QUERY_BITS;
  uint64_t bseq;
  spot_cause_t bc = n > 0 ? inbox_cause(a, a->list[n - 1]) : (spot_cause_t){0, 0}; /* the query that closed it */
  if ((rc = spot_remote_put(a->cloud_client, a->batches_url, &b, sizeof b, VQ_H_INTERVAL, &bc, &bseq)) != 0)
    return vq_tiers_spot_fail(rc, "putting the batch");
  note(a, a->batches_url, bseq, VQ_H_INTERVAL, &bc);
  vq_upload_rec_t u = {.version = VQ_REC_VERSION, .queries = (uint32_t)n, .interval = k, .first = b.first,
                       .last = b.last, .batch_seq = bseq, .uploaded_ns = vq_now_ns(), .part = part};
  *out = u;
  return 0;
}

/* Uploads interval k's pending inbox elements as its next part (a main batch even when it has none; a later part
 * only when there is something), retrying (the same elements) until deadline_ns. */
static int upload_part(aggregator_t *a, uint64_t k, int64_t deadline_ns) {
  uint32_t part = a->iv[k].next_part;
  uint64_t n = 0, mark = a->scanned;
  for (uint64_t seq = a->low; seq <= mark; seq++) {
    if (a->el[seq].state != E_PENDING || a->el[seq].interval != k)
      continue;
    if (n == a->list_cap) {
      uint64_t cap = a->list_cap ? 2 * a->list_cap : 256;
      uint64_t *l = realloc(a->list, cap * sizeof *l);
      if (l == NULL)
        return vq_tiers_fail(SPOT_ENOMEM, "no memory for a batch of %llu queries", (unsigned long long)cap);
      a->list = l, a->list_cap = cap;
    }
    a->list[n++] = seq;
  }
  if (n == 0 && part > 0)
    return 0;
  int64_t backoff_ms = 100;
  for (uint32_t attempt = 1;; attempt++) {
    vq_upload_rec_t u;
    int rc = upload_once(a, k, part, n, &u);
    if (rc == 0) {
      u.attempts = attempt;
      u.inbox_last = mark;
      if ((rc = spot_log_append(a->uploaded, &u, sizeof u, NULL)) != 0)
        return vq_tiers_spot_fail(rc, "recording the upload");
      for (uint64_t i = 0; i < n; i++)
        a->el[a->list[i]].state = E_UPLOADED;
      a->iv[k].hi = mark;
      a->iv[k].next_part = part + 1;
      while (a->low <= a->scanned && a->el[a->low].state != E_PENDING)
        a->low++;
      return 0;
    }
    if (vq_now_ns() + backoff_ms * 1000000 > deadline_ns || stopping)
      return rc;
    if (!a->quiet)
      fprintf(stderr, "spot vquery aggregator: interval %llu part %u, attempt %u: %s; retrying in %lld ms\n",
              (unsigned long long)k, part, attempt, vq_tiers_detail(), (long long)backoff_ms);
    vq_sleep_until(vq_now_ns() + backoff_ms * 1000000, &stopping);
    backoff_ms = backoff_ms * 2 > 2000 ? 2000 : backoff_ms * 2;
  }
}

/* Uploads the pending queries of intervals below `below` whose main batch is gone, a part per interval. */
static int upload_late(aggregator_t *a, uint64_t below, int64_t deadline_ns) {
  for (;;) {
    uint64_t k = UINT64_MAX;
    for (uint64_t seq = a->low; seq <= a->scanned; seq++)
      if (a->el[seq].state == E_PENDING && a->el[seq].interval < below && a->el[seq].interval < k &&
          a->iv[a->el[seq].interval].next_part > 0)
        k = a->el[seq].interval;
    if (k == UINT64_MAX)
      return 0;
    int rc = upload_part(a, k, deadline_ns);
    if (rc != 0)
      return rc;
  }
}

/* What `uploaded` says: each interval's uploads (iv) and the next main batch. */
static int resume(aggregator_t *a) {
  uint64_t latest = 0, earliest = 0;
  int rc = spot_log_latest(a->uploaded, &latest);
  if (rc == 0)
    rc = spot_log_earliest(a->uploaded, &earliest);
  for (uint64_t s = earliest ? earliest : 1; rc == 0 && s <= latest; s++) {
    vq_upload_rec_t u;
    if ((rc = spot_log_read(a->uploaded, s, &u, sizeof u)) != 0)
      break;
    if (u.version != VQ_REC_VERSION || u.interval >= (uint64_t)a->intervals)
      continue;
    ival_t *v = &a->iv[u.interval];
    v->hi = u.inbox_last > v->hi ? u.inbox_last : v->hi;
    v->next_part = u.part + 1 > v->next_part ? u.part + 1 : v->next_part;
    if (u.part == 0 && u.interval + 1 > a->main_next)
      a->main_next = u.interval + 1;
  }
  return rc ? vq_tiers_spot_fail(rc, "reading the uploads in `uploaded`") : 0;
}

/* Waits until fn(a, k) holds, the time `until` comes, or the node stops, reading the inbox and the tallies. */
static int await(aggregator_t *a, uint64_t k, int (*fn)(const aggregator_t *, uint64_t), int64_t until) {
  for (;;) {
    int rc = follow(a);
    if (rc != 0)
      return rc;
    if (fn(a, k) || vq_now_ns() >= until || stopping)
      return 0;
    spot_log_wait_newer(a->inbox, a->scanned, 10000000);
  }
}

/* 1 when every interval below k is complete (k: the run's K). */
static int all_complete(const aggregator_t *a, uint64_t k) {
  for (uint64_t j = 0; j < k; j++)
    if (!complete(a, j))
      return 0;
  return 1;
}

static int run(aggregator_t *a) {
  int64_t T = a->interval_ms * 1000000, end = a->start_ns + a->intervals * T;
  int64_t deadline = end + a->deadline_ms * 1000000 + a->tail_ms * 1000000 + a->retry_ms * 1000000;
  uint64_t K = (uint64_t)a->intervals;
  int rc = 0;
  for (uint64_t k = a->main_next; k < K && rc == 0; k++) {
    if ((rc = await(a, k, complete, a->start_ns + (int64_t)k * T + a->deadline_ms * 1000000)) != 0)
      return rc;
    if (!stopping && (rc = upload_late(a, k, deadline)) == 0 && !stopping)
      rc = upload_part(a, k, deadline);
    if (stopping) {
      if (!a->quiet)
        fprintf(stderr, "spot vquery aggregator: stopped at interval %llu%s%s; a restart resumes there\n",
                (unsigned long long)k, rc ? ": " : "", rc ? vq_tiers_detail() : "");
      return 0;
    }
    if (rc == 0)
      a->main_next = k + 1;
  }
  if (rc != 0)
    return rc;
  /* after the last main batch: what is still on its way (an overrun, a retried forward), until every interval is
   * complete, or the inbox and the tallies were quiet for --tail-ms (at most until the deadline) */
  for (uint64_t seen = UINT64_MAX;;) {
    uint64_t now_seen = a->scanned + a->tallied;
    if (now_seen == seen || stopping)
      break;
    seen = now_seen;
    int64_t until = vq_now_ns() + a->tail_ms * 1000000;
    if ((rc = await(a, K, all_complete, until < deadline ? until : deadline)) != 0)
      return rc;
    if (all_complete(a, K) || vq_now_ns() >= deadline)
      break;
  }
  return stopping ? 0 : upload_late(a, K, deadline);
}

static const char usage_text[] =
    "usage: spot vquery aggregator --ns DIR --listen HOST:PORT --key FILE --cloud spot://H:P/NS\n"
    "         [--cloud-key FILE.pub] --interval-ms T --start-ns T0 --intervals K [--devices N]\n"
    "         [--deadline-ms MS] [--retry-ms MS] [--tail-ms MS] [--timeout-ms MS] [--quiet]\n"
    "  the edge node: devices put queries to its inbox and each interval's count of them to its tallies; it groups\n"
    "  the queries by the interval they were made in and uploads interval k's batch to the cloud's repository (one\n"
    "  batch, handler vq_interval) once every one of the N devices (default 1) has told its count for k and those\n"
    "  queries are in, or at T0 + k T + --deadline-ms (default T); queries of k that come later go in a later part\n"
    "  of k, billed to k. A cloud that does not answer is retried until the run's end plus --retry-ms (default\n"
    "  30000); it resumes after its recorded uploads. After the last interval it waits until every interval is\n"
    "  complete or nothing came for --tail-ms (default min(T, 1000)), and uploads what is left\n";

static int fail(const char *what) {
  fprintf(stderr, "spot vquery aggregator: %s: %s\n", what, vq_tiers_detail());
  return 1;
}

int vq_cmd_aggregator(int argc, char **argv) {
  aggregator_t a;
  memset(&a, 0, sizeof a);
  a.interval_ms = 1000;
  a.intervals = 10;
  a.retry_ms = 30000;
  a.tail_ms = -1;
  a.timeout_ms = 2000;
  a.devices = 1;
  a.deadline_ms = -1;
  a.low = 1;
  const vq_opt_t opts[] = {
      {"--ns", VQ_OPT_STR, &a.ns_dir, 0, 0},
      {"--listen", VQ_OPT_STR, &a.listen, 0, 0},
      {"--key", VQ_OPT_STR, &a.key, 0, 0},
      {"--cloud", VQ_OPT_STR, &a.cloud, 0, 0},
      {"--cloud-key", VQ_OPT_STR, &a.cloud_key, 0, 0},
      {"--interval-ms", VQ_OPT_I64, &a.interval_ms, 1, 1e9},
      {"--start-ns", VQ_OPT_I64, &a.start_ns, 0, 4e18},
      {"--intervals", VQ_OPT_I64, &a.intervals, 0, 1e7},
      {"--devices", VQ_OPT_I64, &a.devices, 1, 1e4},
      {"--deadline-ms", VQ_OPT_I64, &a.deadline_ms, 0, 1e9},
      {"--retry-ms", VQ_OPT_I64, &a.retry_ms, 0, 1e9},
      {"--grace-ms", VQ_OPT_I64, &a.retry_ms, 0, 1e9}, /* the brief's name for it */
      {"--tail-ms", VQ_OPT_I64, &a.tail_ms, 0, 1e9},
      {"--timeout-ms", VQ_OPT_I64, &a.timeout_ms, 100, 1e6},
      {"--quiet", VQ_OPT_FLAG, &a.quiet, 0, 0},
  };
  int prc = vq_opts_parse("aggregator", opts, sizeof opts / sizeof opts[0], argc, argv);
  if (prc == 1)
    return fputs(usage_text, stdout), 0;
  if (prc != 0)
    return 2;
  if (!a.ns_dir || !a.listen || !a.cloud)
    return fputs(usage_text, stderr), 2;
  if (a.key == NULL)
    a.key = getenv("SPOT_KEY");
  if (a.key == NULL || a.key[0] == '\0')
    return fprintf(stderr, "spot vquery aggregator: --key FILE (the aggregator's key pair, from `spot keygen`) is "
                           "needed to serve the inbox\n"),
           2;
  spot_url_t cu;
  size_t cl = strlen(a.cloud);
  while (cl > 0 && a.cloud[cl - 1] == '/')
    cl--;
  if (spot_url_parse(a.cloud, &cu) != 0 || cu.log[0] != '\0' ||
      snprintf(a.repo_url, sizeof a.repo_url, "%.*s/%s", (int)cl, a.cloud, VQ_LOG_REPOSITORY) >= VQ_URL_MAX ||
      snprintf(a.batches_url, sizeof a.batches_url, "%.*s/%s", (int)cl, a.cloud, VQ_LOG_BATCHES) >= VQ_URL_MAX)
    return fprintf(stderr, "spot vquery aggregator: --cloud wants spot://HOST:PORT/NAMESPACE, not '%s'\n", a.cloud),
           2;
  if (a.start_ns == 0)
    a.start_ns = vq_now_ns();
  if (a.tail_ms < 0)
    a.tail_ms = a.interval_ms < 1000 ? a.interval_ms : 1000;
  if (a.deadline_ms < 0)
    a.deadline_ms = a.interval_ms;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  int status = 1, rc;
  spot_server_t *server = NULL;
  a.buf = calloc(WINDOW, sizeof *a.buf);
  a.sent_cause = calloc(WINDOW, sizeof *a.sent_cause);
  a.sent_ticket = calloc(WINDOW, sizeof *a.sent_ticket);
  a.evmap = calloc(EVMAP, sizeof *a.evmap);
  size_t cells = (size_t)(a.intervals ? a.intervals : 1) * (size_t)a.devices;
  a.iv = calloc(a.intervals ? (size_t)a.intervals : 1, sizeof *a.iv);
  a.count = calloc(cells, sizeof *a.count);
  a.tally = calloc(cells, sizeof *a.tally);
  a.qseen = calloc((size_t)a.devices, sizeof *a.qseen);
  a.qseen_bits = calloc((size_t)a.devices, sizeof *a.qseen_bits);
  if (a.buf == NULL || a.sent_cause == NULL || a.sent_ticket == NULL || a.evmap == NULL || a.iv == NULL ||
      a.count == NULL || a.tally == NULL || a.qseen == NULL || a.qseen_bits == NULL) {
    vq_tiers_fail(SPOT_ENOMEM, "no memory");
    fail("starting");
    goto out;
  }
  if (vq_aggregator_setup(a.ns_dir) != 0) {
    fail("setting up the namespace");
    goto out;
  }
  if ((rc = spot_ns_open(a.ns_dir, NULL, &a.ns)) != 0 ||
      (rc = spot_ns_open_log(a.ns, VQ_LOG_INBOX, 0, &a.inbox, NULL)) != 0 ||
      (rc = spot_ns_open_log(a.ns, VQ_LOG_TALLIES, 0, &a.tallies, NULL)) != 0 ||
      (rc = spot_ns_open_log(a.ns, VQ_LOG_UPLOADED, 0, &a.uploaded, NULL)) != 0) {
    vq_tiers_spot_fail(rc, a.ns_dir);
    fail("opening the namespace");
    goto out;
  }
  a.node_id = spot_ns_node_id(a.ns);
  if (resume(&a) != 0) {
    fail("resuming");
    goto out;
  }
  if ((rc = spot_remote_new(a.key, a.cloud_key, (uint32_t)a.timeout_ms, &a.cloud_client)) != 0) {
    vq_tiers_spot_fail(rc, "the cloud's client");
    fail("reaching the cloud");
    goto out;
  }
  if ((rc = spot_server_start(a.ns_dir, a.listen, a.key, &server)) != 0) {
    vq_tiers_spot_fail(rc, a.listen);
    fail("serving the inbox");
    goto out;
  }
  if (run(&a) != 0) {
    fail("uploading");
    goto out;
  }
  if (!a.quiet)
    fprintf(stderr, "spot vquery aggregator: %s; %llu of %lld intervals' main batches sent\n",
            stopping ? "stopped" : "done", (unsigned long long)a.main_next, (long long)a.intervals);
  status = 0;
out:
  spot_server_stop(server);
  spot_remote_free(a.cloud_client);
  if (a.uploaded)
    spot_log_close(a.uploaded);
  if (a.inbox)
    spot_log_close(a.inbox);
  if (a.tallies)
    spot_log_close(a.tallies);
  if (a.ns)
    spot_ns_close(a.ns);
  free(a.buf);
  free(a.sent_cause);
  free(a.sent_ticket);
  free(a.evmap);
  free(a.el);
  free(a.iv);
  free(a.count);
  free(a.tally);
  for (int64_t d = 0; a.qseen && d < a.devices; d++)
    free(a.qseen[d]);
  free(a.qseen);
  free(a.qseen_bits);
  free(a.list);
  return status;
}
