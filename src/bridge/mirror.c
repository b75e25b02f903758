/*
 * mirror.c: a log copied into a NATS JetStream stream (libnats), so that any NATS client, on any host, can
 * consume it: `spot mirror LOG nats://HOST:PORT[/STREAM] [--follow]` and `spotd --mirror LOG=nats://...`.
 *
 * Exactly once, by message id: each element goes out as one message on subject spot.NODE.LOG with header
 * Nats-Msg-Id NODE-LOG-SEQ (NODE the namespace's node id, 16 hex digits), and JetStream drops a message whose id it
 * has stored within the stream's duplicate window (2 minutes unless the stream says otherwise). The mirror
 * publishes asynchronously in batches of up to BATCH and starts a batch only when every message of the one before
 * was acknowledged; a batch with an error or a time-out is sent again whole (its stored messages are dropped as
 * duplicates). So at any moment only the newest batch can have gaps; at start the mirror reads the newest message
 * of its subject (Spot-Seq), reads back the stream's messages of the batch before it, and sends again only the
 * elements missing there, then goes on after the newest one. A restart, however late, neither loses nor repeats
 * an element; a retry within one run repeats nothing within the duplicate window.
 */
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/bridge.h"
#include "bridge/jetstream.h"
#include "core/error.h"
#include "platform/platform.h"

#define BATCH 256u
#define ACK_WAIT_MS 3000

typedef struct mirror {
  const spot_bridge_mirror_opts_t *o;
  spot_ns_t *ns;
  spot_log_t *log;
  size_t elem;
  uint8_t *buf;
  uint64_t node;
  char subject[128], stream[80], servers[1024];
  natsConnection *nc;
  jsCtx *js;
  spot_bridge_causes_t *causes;
  spot__mutex_t mu;
  uint64_t errors; /* under mu: asynchronous publish errors since the batch began */
  char last_error[160];
} mirror_t;

static void on_pub_error(jsCtx *js, jsPubAckErr *pae, void *closure) {
  (void)js;
  mirror_t *m = closure;
  spot__mutex_lock(&m->mu);
  m->errors++;
  snprintf(m->last_error, sizeof m->last_error, "%s", pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
  spot__mutex_unlock(&m->mu);
}

/* Builds the message of element seq (read into m->buf). SPOT_EEXPIRED etc. from the log; *out is the caller's. */
static int make_msg(mirror_t *m, uint64_t seq, natsMsg **out) {
  int rc = spot_log_read(m->log, seq, m->buf, m->elem);
  if (rc != 0)
    return rc;
  natsMsg *msg = NULL;
  char id[128], text[64];
  if (natsMsg_Create(&msg, m->subject, NULL, (const char *)m->buf, (int)m->elem) != NATS_OK)
    return spot__fail(SPOT_ENOMEM, "cannot make a NATS message");
  snprintf(id, sizeof id, "%016llx-%s-%llu", (unsigned long long)m->node, m->o->log, (unsigned long long)seq);
  natsMsgHeader_Set(msg, "Nats-Msg-Id", id);
  snprintf(text, sizeof text, "%016llx", (unsigned long long)m->node);
  natsMsgHeader_Set(msg, "Spot-Node", text);
  natsMsgHeader_Set(msg, "Spot-Log", m->o->log);
  snprintf(text, sizeof text, "%llu", (unsigned long long)seq);
  natsMsgHeader_Set(msg, "Spot-Seq", text);
  spot_cause_t cause;
  if (spot_bridge_causes_find(m->causes, seq, 500 * 1000 * 1000ull, &cause) == 0) {
    snprintf(text, sizeof text, "%016llx:%llu", (unsigned long long)cause.node, (unsigned long long)cause.event);
    natsMsgHeader_Set(msg, "Spot-Cause", text);
  }
  *out = msg;
  return 0;
}

/* The Spot-Seq header of msg, if it is a message of this mirror's subject: 0 otherwise. */
static uint64_t spot_seq_of(mirror_t *m, natsMsg *msg) {
  const char *v = NULL;
  if (strcmp(natsMsg_GetSubject(msg), m->subject) != 0 || natsMsgHeader_Get(msg, "Spot-Seq", &v) != NATS_OK || !v)
    return 0;
  return strtoull(v, NULL, 10);
}

static int connect_js(mirror_t *m) {
  return spot__js_connect(m->servers, 0, BATCH, on_pub_error, m,
                          "cannot reach NATS (is nats-server running with -js? check the url)", &m->nc, &m->js);
}

/* Makes the stream if it does not exist. */
static int ensure_stream(mirror_t *m) {
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_GetStreamInfo(&si, m->js, m->stream, NULL, &jerr);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return 0;
  }
  if (s != NATS_NOT_FOUND)
    return spot__js_fail(s, "cannot read the stream's information (is JetStream on? nats-server -js)");
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  const char *subjects[1] = {m->subject};
  cfg.Name = m->stream;
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = m->o->replicas > 0 ? m->o->replicas : 1;
  s = js_AddStream(&si, m->js, &cfg, NULL, &jerr);
  if (s != NATS_OK)
    return spot__js_fail(s, "cannot make the stream");
  jsStreamInfo_Destroy(si);
  if (!m->o->quiet)
    fprintf(stderr, "spot mirror: made stream %s (subject %s, %d replica%s)\n", m->stream, m->subject,
            (int)cfg.Replicas, cfg.Replicas == 1 ? "" : "s");
  return 0;
}

/* Publishes one message and waits for its acknowledgement (the repair at start). */
static int publish_one(mirror_t *m, uint64_t seq) {
  natsMsg *msg = NULL;
  int rc = make_msg(m, seq, &msg);
  if (rc != 0)
    return rc;
  jsPubAck *pa = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_PublishMsg(&pa, m->js, msg, NULL, &jerr);
  natsMsg_Destroy(msg);
  jsPubAck_Destroy(pa);
  return s == NATS_OK ? 0 : spot__js_fail(s, "cannot publish to the stream");
}

/* Where to go on: after the newest element of this log in the stream, first sending again what the stream lacks of
 * the batch before it. *next gets the first sequence number to copy. */
static int resume(mirror_t *m, uint64_t *next, spot_bridge_mirror_stats_t *st) {
  natsMsg *last = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_GetLastMsg(&last, m->js, m->stream, m->subject, NULL, &jerr);
  if (s == NATS_NOT_FOUND) { /* nothing of this log yet: from its oldest element */
    uint64_t earliest = 0;
    spot_log_earliest(m->log, &earliest);
    *next = earliest > 1 ? earliest : 1;
    return 0;
  }
  if (s != NATS_OK)
    return spot__js_fail(s, "cannot read the stream's newest message");
  uint64_t L = spot_seq_of(m, last), S = natsMsg_GetSequence(last);
  natsMsg_Destroy(last);
  st->resumed_after = L;
  uint64_t lo = L > BATCH ? L - BATCH + 1 : 1;
  char have[BATCH] = {0};
  unsigned ours = 0;
  for (uint64_t k = S; k >= 1 && k + 2 * BATCH > S && ours < BATCH; k--) {
    natsMsg *msg = NULL;
    if (js_GetMsg(&msg, m->js, m->stream, k, NULL, &jerr) != NATS_OK)
      continue; /* deleted, or before the stream's first */
    uint64_t q = spot_seq_of(m, msg);
    natsMsg_Destroy(msg);
    if (q >= lo && q <= L) {
      ours += !have[q - lo];
      have[q - lo] = 1;
    }
  }
  uint64_t earliest = 0;
  spot_log_earliest(m->log, &earliest);
  for (uint64_t q = lo; q <= L; q++) {
    if (have[q - lo] || q < earliest)
      continue;
    int rc = publish_one(m, q);
    if (rc == SPOT_EEXPIRED)
      continue;
    if (rc != 0)
      return rc;
    st->repaired++;
  }
  *next = L + 1;
  return 0;
}

static int stopping(const mirror_t *m) {
  return m->o->stop && *m->o->stop;
}

/* Sends elements next..end as one batch and waits until each is acknowledged: 0, or 1 if the batch must be sent
 * again (an error or a time-out). *sent gets how many messages went out (expired elements are skipped). */
static int send_batch(mirror_t *m, uint64_t next, uint64_t end, uint64_t *sent, spot_bridge_mirror_stats_t *st) {
  spot__mutex_lock(&m->mu);
  m->errors = 0;
  spot__mutex_unlock(&m->mu);
  int again = 0;
  *sent = 0;
  for (uint64_t q = next; q <= end && !again; q++) {
    natsMsg *msg = NULL;
    int rc = make_msg(m, q, &msg);
    if (rc == SPOT_EEXPIRED || rc == SPOT_ECORRUPT) {
      st->skipped++;
      continue;
    }
    if (rc != 0)
      return rc;
    natsStatus s = js_PublishMsgAsync(m->js, &msg, NULL);
    natsMsg_Destroy(msg); /* no effect when the library took it */
    if (s != NATS_OK)
      again = 1;
    else
      (*sent)++;
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = ACK_WAIT_MS;
  natsStatus s = js_PublishAsyncComplete(m->js, &po);
  if (s != NATS_OK) {
    natsMsgList pending;
    if (js_PublishAsyncGetPendingList(&pending, m->js) == NATS_OK)
      natsMsgList_Destroy(&pending);
    again = 1;
  }
  spot__mutex_lock(&m->mu);
  if (m->errors)
    again = 1;
  spot__mutex_unlock(&m->mu);
  return again;
}

int spot_bridge_mirror_run(const char *dir, const spot_bridge_mirror_opts_t *opts, spot_bridge_mirror_stats_t *stats) {
  spot_bridge_mirror_stats_t st;
  memset(&st, 0, sizeof st);
  mirror_t *m = calloc(1, sizeof *m);
  int rc = 0;
  if (m == NULL)
    return spot__fail(SPOT_ENOMEM, "out of memory starting the mirror");
  m->o = opts;
  spot__mutex_init(&m->mu);
  if ((rc = spot_bridge_nats_url(opts->url, m->servers, sizeof m->servers, m->stream, sizeof m->stream)) != 0)
    goto fail;
  if (m->stream[0] == '\0')
    snprintf(m->stream, sizeof m->stream, "SPOT_%s", opts->log);
  if ((rc = spot_ns_open(dir, NULL, &m->ns)) != 0 || (rc = spot_ns_open_log(m->ns, opts->log, 0, &m->log, NULL)) != 0)
    goto fail;
  spot_log_info_t info;
  spot_log_info(m->log, &info);
  m->elem = info.elem_size;
  m->node = spot_ns_node_id(m->ns);
  snprintf(m->subject, sizeof m->subject, "spot.%016llx.%s", (unsigned long long)m->node, opts->log);
  if ((m->buf = malloc(m->elem)) == NULL || (m->causes = malloc(sizeof *m->causes)) == NULL) {
    rc = spot__fail(SPOT_ENOMEM, "out of memory starting the mirror");
    goto fail;
  }
  spot_bridge_causes_init(m->causes, m->ns, opts->log);
  if ((rc = connect_js(m)) != 0 || (rc = ensure_stream(m)) != 0)
    goto fail;
  uint64_t next = 1;
  if ((rc = resume(m, &next, &st)) != 0)
    goto fail;
  if (!opts->quiet)
    fprintf(stderr, "spot mirror: %s -> stream %s (subject %s) from #%llu\n", opts->log, m->stream, m->subject,
            (unsigned long long)next);
  unsigned failures = 0;
  while (!stopping(m)) {
    uint64_t latest = 0, earliest = 0;
    spot_log_latest(m->log, &latest);
    spot_log_earliest(m->log, &earliest);
    if (earliest > next) {
      st.skipped += earliest - next;
      fprintf(stderr, "spot mirror: %s #%llu..#%llu expired before they were copied\n", opts->log,
              (unsigned long long)next, (unsigned long long)earliest - 1);
      next = earliest;
    }
    if (next > latest) {
      if (!opts->follow)
        break;
      spot_log_wait_newer(m->log, latest, 100 * 1000 * 1000ull);
      continue;
    }
    uint64_t end = latest - next + 1 > BATCH ? next + BATCH - 1 : latest, sent = 0;
    int again = send_batch(m, next, end, &sent, &st);
    if (again < 0) {
      rc = again;
      goto fail;
    }
    if (again) {
      st.retried++;
      if (++failures % 10 == 1) {
        spot__mutex_lock(&m->mu);
        fprintf(stderr, "spot mirror: the batch #%llu..#%llu is sent again (%s)\n", (unsigned long long)next,
                (unsigned long long)end, m->last_error[0] ? m->last_error : "no acknowledgement in time");
        spot__mutex_unlock(&m->mu);
      }
      spot__sleep_ns(200 * 1000 * 1000ull);
      continue;
    }
    failures = 0;
    st.published += sent;
    st.last = end;
    next = end + 1;
  }
  rc = 0;
fail:
  if (rc != 0) {
    char detail[512];
    snprintf(detail, sizeof detail, "%s", spot_errdetail());
    rc = spot__fail(rc, "%s", detail);
  }
  if (m->js)
    jsCtx_Destroy(m->js);
  if (m->nc)
    natsConnection_Destroy(m->nc);
  if (m->log)
    spot_log_close(m->log);
  if (m->ns)
    spot_ns_close(m->ns);
  free(m->causes);
  free(m->buf);
  spot__mutex_destroy(&m->mu);
  free(m);
  if (stats)
    *stats = st;
  return rc;
}
