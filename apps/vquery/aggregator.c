/*
 * apps/vquery/aggregator.c: `spot vquery aggregator`, the edge node that collects its devices' queries and uploads
 * them to the cloud once per monitoring interval (as the paper's aggregator uploaded to S3).
 *
 * It serves its namespace (--listen, --key): the devices' vq_forward handlers put their queries to `inbox`. After
 * interval k ends (T0 + (k+1) T) it uploads every inbox element not yet uploaded: pipelined remote puts to the
 * cloud's `repository`, then one vq_batch_rec_t to the cloud's `batches` with handler vq_interval, then it appends
 * a vq_upload_rec_t to `uploaded` (synchronously): its durable position, from which a restarted aggregator resumes.
 * A cloud that does not answer (down, restarting) makes it retry the whole interval's upload with back-off until the
 * run's end plus --retry-ms; nothing the inbox acknowledged is lost, and the repository may get duplicates.
 * After the last interval it waits until the inbox was quiet for --tail-ms, for queries still on their way (devices
 * whose last interval overran, or that started late), and uploads them as one more batch, numbered K.
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

typedef struct aggregator {
  const char *ns_dir, *listen, *key, *cloud, *cloud_key;
  int64_t interval_ms, start_ns, intervals, retry_ms, tail_ms, timeout_ms;
  int quiet;
  char repo_url[VQ_URL_MAX], batches_url[VQ_URL_MAX];
  spot_ns_t *ns;
  spot_log_t *inbox, *uploaded;
  spot_remote_t *cloud_client;
  vq_upload_rec_t pos; /* the last upload (pos.interval is meaningless while pos.version is 0) */
  vq_query_rec_t *buf;
  spot_cause_t *sent_cause; /* WINDOW: the cause of each put in flight, by ticket % WINDOW */
  uint64_t *sent_ticket;
  uint64_t node_id, ev_next; /* this node; the next event to read from its event log */
  struct { uint64_t seq, id; } *evmap; /* EVMAP: inbox seqno -> its put event, at seq % EVMAP */
  int noted_fail;
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

/* One attempt at uploading inbox elements from..to as interval k's batch; *out gets the upload record. */
static int upload_once(aggregator_t *a, uint64_t k, uint64_t from, uint64_t to, vq_upload_rec_t *out) {
  uint64_t n = to >= from ? to - from + 1 : 0, sent = 0, done = 0, first = UINT64_MAX, last = 0;
  int rc = 0;
  while (done < n && rc == 0) {
    while (sent < n && sent - done < WINDOW && rc == 0) {
      vq_query_rec_t *q = &a->buf[sent % WINDOW];
      if ((rc = spot_log_read(a->inbox, from + sent, q, sizeof *q)) != 0)
        return vq_tiers_spot_fail(rc, "reading the inbox");
      spot_cause_t c = inbox_cause(a, from + sent);
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
  vq_batch_rec_t b = {.version = VQ_REC_VERSION, .queries = (uint32_t)n, .interval = k, .first = 1, .last = 0};
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
  spot_cause_t bc = n > 0 ? inbox_cause(a, to) : (spot_cause_t){0, 0}; /* the query that closed the batch */
  if ((rc = spot_remote_put(a->cloud_client, a->batches_url, &b, sizeof b, VQ_H_INTERVAL, &bc, &bseq)) != 0)
    return vq_tiers_spot_fail(rc, "putting the batch");
  note(a, a->batches_url, bseq, VQ_H_INTERVAL, &bc);
  vq_upload_rec_t u = {.version = VQ_REC_VERSION, .queries = (uint32_t)n, .interval = k, .inbox_last = to,
                       .first = b.first, .last = b.last, .batch_seq = bseq, .uploaded_ns = vq_now_ns()};
  *out = u;
  return 0;
}

/* Uploads the inbox elements after the position, up to the newest one now, as interval k's batch, retrying (the
 * same elements) until deadline_ns. */
static int upload(aggregator_t *a, uint64_t k, int64_t deadline_ns) {
  int64_t backoff_ms = 100;
  uint64_t latest = 0;
  int rc = spot_log_latest(a->inbox, &latest);
  if (rc != 0)
    return vq_tiers_spot_fail(rc, "the inbox");
  for (uint32_t attempt = 1;; attempt++) {
    uint64_t from = a->pos.version ? a->pos.inbox_last + 1 : 1, earliest = 0;
    spot_log_earliest(a->inbox, &earliest);
    if (earliest > from) {
      if (!a->quiet)
        fprintf(stderr, "spot vquery aggregator: inbox elements %llu..%llu expired before their upload (make the "
                        "inbox's history longer)\n",
                (unsigned long long)from, (unsigned long long)earliest - 1);
      from = earliest;
    }
    vq_upload_rec_t u;
    if ((rc = upload_once(a, k, from, latest < from ? from - 1 : latest, &u)) == 0) {
      u.attempts = attempt;
      if ((rc = spot_log_append(a->uploaded, &u, sizeof u, NULL)) != 0)
        return vq_tiers_spot_fail(rc, "recording the upload");
      a->pos = u;
      return 0;
    }
    if (vq_now_ns() + backoff_ms * 1000000 > deadline_ns || stopping)
      return rc;
    if (!a->quiet)
      fprintf(stderr, "spot vquery aggregator: interval %llu, attempt %u: %s; retrying in %lld ms\n",
              (unsigned long long)k, attempt, vq_tiers_detail(), (long long)backoff_ms);
    vq_sleep_until(vq_now_ns() + backoff_ms * 1000000, &stopping);
    backoff_ms = backoff_ms * 2 > 2000 ? 2000 : backoff_ms * 2;
  }
}

/* The last upload record, if any, into a->pos. */
static int resume(aggregator_t *a) {
  uint64_t latest = 0;
  int rc = spot_log_latest(a->uploaded, &latest);
  if (rc == 0 && latest > 0)
    rc = spot_log_read(a->uploaded, latest, &a->pos, sizeof a->pos);
  return rc ? vq_tiers_spot_fail(rc, "reading the position in `uploaded`") : 0;
}

static int run(aggregator_t *a) {
  int64_t T = a->interval_ms * 1000000, end = a->start_ns + a->intervals * T;
  int64_t deadline = end + a->tail_ms * 1000000 + a->retry_ms * 1000000;
  int64_t k = a->pos.version ? (int64_t)a->pos.interval + 1 : 0;
  for (; k < a->intervals; k++) {
    vq_sleep_until(a->start_ns + (k + 1) * T, &stopping);
    int rc = upload(a, (uint64_t)k, deadline);
    if (rc != 0 && stopping) {
      if (!a->quiet)
        fprintf(stderr, "spot vquery aggregator: stopped before interval %lld's upload was taken (%s); a restart "
                        "resumes there\n", (long long)k, vq_tiers_detail());
      return 0;
    }
    if (rc != 0 || stopping)
      return rc;
  }
  if (k > a->intervals)
    return 0; /* the tail was uploaded by an earlier run */
  /* the tail: queries still on their way after the last interval's upload, until the inbox was quiet for
   * --tail-ms (and at most until the deadline) */
  uint64_t latest = 0, seen = 0;
  spot_log_latest(a->inbox, &seen);
  for (;;) {
    vq_sleep_until(vq_now_ns() + a->tail_ms * 1000000, &stopping);
    spot_log_latest(a->inbox, &latest);
    if (latest == seen || stopping || vq_now_ns() >= deadline)
      break;
    seen = latest;
  }
  if (a->pos.version && latest > a->pos.inbox_last)
    return upload(a, (uint64_t)a->intervals, deadline);
  return 0;
}

static const char usage_text[] =
    "usage: spot vquery aggregator --ns DIR --listen HOST:PORT --key FILE --cloud spot://H:P/NS\n"
    "         [--cloud-key FILE.pub] --interval-ms T --start-ns T0 --intervals K [--retry-ms MS] [--tail-ms MS]\n"
    "         [--timeout-ms MS] [--quiet]\n"
    "  the edge node: devices put queries to its inbox; after each interval it uploads them to the cloud's\n"
    "  repository with one batch (handler vq_interval), retrying a cloud that does not answer until the run's end\n"
    "  plus --retry-ms (default 30000); it resumes after its last recorded upload. After the last interval it\n"
    "  uploads what arrives until the inbox was quiet for --tail-ms (default min(T, 1000)) as a batch numbered K\n";

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
  const vq_opt_t opts[] = {
      {"--ns", VQ_OPT_STR, &a.ns_dir, 0, 0},
      {"--listen", VQ_OPT_STR, &a.listen, 0, 0},
      {"--key", VQ_OPT_STR, &a.key, 0, 0},
      {"--cloud", VQ_OPT_STR, &a.cloud, 0, 0},
      {"--cloud-key", VQ_OPT_STR, &a.cloud_key, 0, 0},
      {"--interval-ms", VQ_OPT_I64, &a.interval_ms, 1, 1e9},
      {"--start-ns", VQ_OPT_I64, &a.start_ns, 0, 4e18},
      {"--intervals", VQ_OPT_I64, &a.intervals, 0, 1e9},
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
  if (a.buf == NULL || a.sent_cause == NULL || a.sent_ticket == NULL || a.evmap == NULL) {
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
    fprintf(stderr, "spot vquery aggregator: %s after interval %llu\n", stopping ? "stopped" : "done",
            a.pos.version ? (unsigned long long)a.pos.interval : 0ull);
  status = 0;
out:
  spot_server_stop(server);
  spot_remote_free(a.cloud_client);
  if (a.uploaded)
    spot_log_close(a.uploaded);
  if (a.inbox)
    spot_log_close(a.inbox);
  if (a.ns)
    spot_ns_close(a.ns);
  free(a.buf);
  free(a.sent_cause);
  free(a.sent_ticket);
  free(a.evmap);
  return status;
}
