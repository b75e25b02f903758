/*
 * pool.c: handler work shared by several spotd nodes through a NATS JetStream work queue (libnats): `spotd --pool
 * nats://HOST:PORT[,...] --pool-name NAME --pool-log LOG:HANDLER`.
 *
 * A pooled log is one whose puts without a handler are work for the pool. Each member is two things:
 *  - a feeder: it follows its node's event log; every put to LOG that names no handler becomes one message on
 *    subject spot.pool.NAME.work of the work-queue stream SPOT_POOL_NAME, with Nats-Msg-Id NODE-LOG-SEQ (the run
 *    id: the stream drops a repeat within its duplicate window), Spot-Node, Spot-Log, Spot-Seq, Spot-Cause (the put
 *    event) and the element as its data. It saves how far it has fed (an event id, position.c) once the stream has
 *    acknowledged, so a restart feeds again only what may not have arrived (dropped there as duplicates).
 *  - a worker: a pull subscription on the durable consumer NAME, shared by every member (explicit ack, ack wait =
 *    the handler time limit + 1 s, max deliver N). Each message becomes a local put to LOG naming HANDLER, with the
 *    origin's put event as its cause, so the run's events (written by this node: they name it) lead back to the put
 *    that made the work, and `spot trace` follows. When the run starts the member tells the server it is in
 *    progress (the ack-wait clock starts again with the handler's time limit); when it ends, the member publishes
 *    a done record on spot.pool.NAME.done (stream SPOT_POOL_NAME_DONE) with the run id as its Nats-Msg-Id, waits
 *    for the stream's acknowledgement, then acks the work. A failed run is sent back (nak, redelivered after 200 ms)
 *    until its delivery count reaches max deliver; then the member publishes it, with the failure, on the dead
 *    letter subject spot.pool.NAME.dead (stream SPOT_POOL_NAME_DEAD) and acks it. nats-server 2.9 has no
 *    dead-letter republish of its own; it does publish an advisory when a message runs out of deliveries without
 *    an answer (a member killed during the last one), and the dead-letter stream captures that subject too
 *    ($JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.SPOT_POOL_NAME.NAME, which names the work's stream sequence).
 * A member that dies leaves its runs unacked: the server delivers them again after ack wait to whichever member
 * fetches next, so members join and leave without losing a run. A run may therefore happen twice (at least once);
 * the done stream keeps one record per run id (its duplicate window), which is where an effect that must be
 * applied once is read from.
 */
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/bridge.h"
#include "bridge/jetstream.h"
#include "core/error.h"
#include "core/name.h"
#include "platform/platform.h"
#include "spot/events.h"

#define FEED_BATCH 256u
#define NAK_DELAY_MS 200 /* natsMsg_NakWithDelay takes milliseconds */

typedef struct run {
  uint64_t seq; /* the local put's sequence number in LOG */
  natsMsg *msg; /* the work */
  uint64_t delivered;
} run_t;

typedef struct done {
  natsMsg *msg;       /* the work to ack once its record is stored */
  spot_eventrec_t ev; /* the run's end or fail event */
  int dead;           /* 1: the record goes to the dead letters */
  char reason[sizeof ((spot_eventrec_t *)0)->reason + 64];
} done_t;

struct spot_bridge_pool {
  spot_bridge_pool_opts_t o;
  char url[1024], servers[1024], name[64], log[64], handler[64];
  char stream[96], dead_stream[96], done_stream[96], subject[160], done_subject[160], dead_subject[160];
  spot_ns_t *ns;
  spot_log_t *lg;
  size_t elem;
  uint8_t *buf;
  uint64_t node, max_deliver;
  natsConnection *nc;
  jsCtx *js;
  natsSubscription *sub;
  spot_bridge_pos_t *pos;
  uint64_t fed_pos; /* the event id up to which the feed is acknowledged */
  spot__mutex_t mu; /* runs, nruns, stats, pub_errors */
  run_t *runs;
  unsigned nruns;
  done_t *dones; /* written by the events thread; ndones under mu: records published, acks waiting */
  unsigned ndones;
  uint64_t pub_errors;
  char last_error[160];
  spot_bridge_pool_stats_t st;
  volatile int stop;
  spot__thread_t events_thread, fetch_thread;
  int events_started, fetch_started;
};

static void on_pub_error(jsCtx *js, jsPubAckErr *pae, void *closure) {
  (void)js;
  spot_bridge_pool_t *p = closure;
  spot__mutex_lock(&p->mu);
  p->pub_errors++;
  snprintf(p->last_error, sizeof p->last_error, "%s: %s", pae->Msg ? natsMsg_GetSubject(pae->Msg) : "?",
           pae->ErrText ? pae->ErrText : natsStatus_GetText(pae->Err));
  spot__mutex_unlock(&p->mu);
}

static int connect_js(spot_bridge_pool_t *p) {
  return spot__js_connect(p->servers, 1, FEED_BATCH * 2, on_pub_error, p,
                          "cannot reach NATS (is nats-server running with -js? check --pool)", &p->nc, &p->js);
}

/* Makes stream name (subjects, retention) unless it exists; an existing one is used as it is. */
static int ensure_stream(spot_bridge_pool_t *p, const char *name, const char **subjects, int nsubjects,
                         jsRetentionPolicy retention) {
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  natsStatus s = NATS_OK;
  for (int tries = 0; tries < 40; tries++) { /* a cluster elects its meta leader after it starts */
    s = js_GetStreamInfo(&si, p->js, name, NULL, &jerr);
    if (s == NATS_OK) {
      jsStreamInfo_Destroy(si);
      return 0;
    }
    if (s == NATS_NOT_FOUND)
      break;
    spot__sleep_ns(250 * 1000 * 1000ull);
  }
  if (s != NATS_NOT_FOUND)
    return spot__js_fail(s, "cannot read the pool's streams (is JetStream on? nats-server -js)");
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name;
  cfg.Subjects = subjects;
  cfg.SubjectsLen = nsubjects;
  cfg.Storage = js_FileStorage;
  cfg.Retention = retention;
  cfg.Replicas = p->o.replicas > 0 ? p->o.replicas : 1;
  for (int tries = 0; tries < 40; tries++) { /* a cluster that has just started may not have its peers yet */
    s = js_AddStream(&si, p->js, &cfg, NULL, &jerr);
    if (s == NATS_OK || jerr == JSStreamNameExistErr) /* another member made it meanwhile: use it */
      break;
    spot__sleep_ns(250 * 1000 * 1000ull);
  }
  if (s != NATS_OK && jerr != JSStreamNameExistErr)
    return spot__js_fail(s, "cannot make the pool's stream");
  jsStreamInfo_Destroy(si);
  if (s == NATS_OK && !p->o.quiet)
    fprintf(stderr, "spotd: pool %s: made stream %s (%d replica%s)\n", p->name, name, (int)cfg.Replicas,
            cfg.Replicas == 1 ? "" : "s");
  return 0;
}

/* Makes the shared durable consumer unless it exists, and reads the max deliver it has (the first member's). */
static int ensure_consumer(spot_bridge_pool_t *p) {
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = p->name;
  cc.AckPolicy = js_AckExplicit;
  cc.DeliverPolicy = js_DeliverAll;
  cc.AckWait = (int64_t)(p->o.ack_wait_ms + 1000) * 1000 * 1000;
  cc.MaxDeliver = p->o.max_deliver;
  cc.FilterSubject = p->subject;
  cc.MaxAckPending = 65536;
  jsConsumerInfo *ci = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_AddConsumer(&ci, p->js, p->stream, &cc, NULL, &jerr);
  if (s != NATS_OK) { /* it exists with other settings (another member's): use it as it is */
    jsConsumerInfo_Destroy(ci);
    ci = NULL;
    s = js_GetConsumerInfo(&ci, p->js, p->stream, p->name, NULL, &jerr);
  }
  if (s != NATS_OK)
    return spot__js_fail(s, "cannot make the pool's consumer");
  p->max_deliver = ci->Config->MaxDeliver > 0 ? (uint64_t)ci->Config->MaxDeliver : UINT64_MAX;
  jsConsumerInfo_Destroy(ci);
  return 0;
}

static const char *header(natsMsg *m, const char *key) {
  const char *v = NULL;
  return natsMsgHeader_Get(m, key, &v) == NATS_OK && v ? v : "";
}

/* A record about work w for subject (done or dead: the dead one carries the element), with the run id as its
 * message id; ev is the run's end or fail event (NULL: none ran). NULL when out of memory; the caller's. */
static natsMsg *make_record(spot_bridge_pool_t *p, const char *subject, natsMsg *w, const spot_eventrec_t *ev,
                            const char *reason) {
  natsMsg *m = NULL;
  int dead = subject == p->dead_subject;
  if (natsMsg_Create(&m, subject, NULL, dead ? natsMsg_GetData(w) : NULL, dead ? natsMsg_GetDataLength(w) : 0) !=
      NATS_OK)
    return NULL;
  char text[64];
  natsMsgHeader_Set(m, "Nats-Msg-Id", header(w, "Nats-Msg-Id"));
  natsMsgHeader_Set(m, "Spot-Run", header(w, "Nats-Msg-Id"));
  natsMsgHeader_Set(m, "Spot-Node", header(w, "Spot-Node"));
  natsMsgHeader_Set(m, "Spot-Log", header(w, "Spot-Log"));
  natsMsgHeader_Set(m, "Spot-Seq", header(w, "Spot-Seq"));
  natsMsgHeader_Set(m, "Spot-Cause", header(w, "Spot-Cause"));
  snprintf(text, sizeof text, "%016llx", (unsigned long long)p->node);
  natsMsgHeader_Set(m, "Spot-Ran-On", text);
  if (ev) {
    snprintf(text, sizeof text, "%016llx:%llu", (unsigned long long)ev->node, (unsigned long long)ev->id);
    natsMsgHeader_Set(m, "Spot-Run-Event", text);
    snprintf(text, sizeof text, "%llu", (unsigned long long)ev->seq);
    natsMsgHeader_Set(m, "Spot-Run-Seq", text);
  }
  if (reason)
    natsMsgHeader_Set(m, "Spot-Reason", reason);
  return m;
}

/* Publishes make_record's record asynchronously (flush waits for it). */
static void publish_record(spot_bridge_pool_t *p, const char *subject, natsMsg *w, const spot_eventrec_t *ev,
                           const char *reason) {
  natsMsg *m = make_record(p, subject, w, ev, reason);
  if (m == NULL) {
    on_pub_error(NULL, &(jsPubAckErr){.Err = NATS_NO_MEMORY, .ErrText = "out of memory"}, p);
    return;
  }
  if (js_PublishMsgAsync(p->js, &m, NULL) != NATS_OK) {
    natsMsg_Destroy(m);
    on_pub_error(NULL, &(jsPubAckErr){.Err = NATS_ERR, .ErrText = "cannot publish"}, p);
  }
}

/* Feeds the put event ev (a put to LOG without a handler) as work. */
static void feed(spot_bridge_pool_t *p, const spot_eventrec_t *ev) {
  if (spot_log_read(p->lg, ev->seq, p->buf, p->elem) != 0) { /* expired before it was fed */
    spot__mutex_lock(&p->mu);
    p->st.skipped++;
    spot__mutex_unlock(&p->mu);
    return;
  }
  natsMsg *m = NULL;
  if (natsMsg_Create(&m, p->subject, NULL, (const char *)p->buf, (int)p->elem) != NATS_OK) {
    on_pub_error(NULL, &(jsPubAckErr){.Err = NATS_NO_MEMORY, .ErrText = "out of memory"}, p);
    return;
  }
  char text[160];
  snprintf(text, sizeof text, "%016llx-%s-%llu", (unsigned long long)p->node, p->log, (unsigned long long)ev->seq);
  natsMsgHeader_Set(m, "Nats-Msg-Id", text);
  snprintf(text, sizeof text, "%016llx", (unsigned long long)p->node);
  natsMsgHeader_Set(m, "Spot-Node", text);
  natsMsgHeader_Set(m, "Spot-Log", p->log);
  snprintf(text, sizeof text, "%llu", (unsigned long long)ev->seq);
  natsMsgHeader_Set(m, "Spot-Seq", text);
  snprintf(text, sizeof text, "%016llx:%llu", (unsigned long long)ev->node, (unsigned long long)ev->id);
  natsMsgHeader_Set(m, "Spot-Cause", text);
  if (js_PublishMsgAsync(p->js, &m, NULL) != NATS_OK) {
    natsMsg_Destroy(m);
    on_pub_error(NULL, &(jsPubAckErr){.Err = NATS_ERR, .ErrText = "cannot publish"}, p);
    return;
  }
  spot__mutex_lock(&p->mu);
  p->st.fed++;
  spot__mutex_unlock(&p->mu);
}

/* Takes run seq out of the table: its work message, or NULL when it is not one of ours. */
static natsMsg *take_run(spot_bridge_pool_t *p, uint64_t seq, uint64_t *delivered) {
  natsMsg *m = NULL;
  spot__mutex_lock(&p->mu);
  for (unsigned i = 0; i < p->nruns; i++)
    if (p->runs[i].seq == seq) {
      m = p->runs[i].msg;
      *delivered = p->runs[i].delivered;
      p->runs[i] = p->runs[--p->nruns];
      break;
    }
  spot__mutex_unlock(&p->mu);
  return m;
}

/* Waits until every record and feed message published so far is stored, then acks the work whose records they
 * were and saves the feed position (event id upto). On an error the records are published again (a stored one is
 * dropped as a duplicate), their work is kept in progress (not sent back: that would spend a delivery of work
 * that ran well), and *next goes back to feed again from the saved position. */
static void flush(spot_bridge_pool_t *p, uint64_t upto, uint64_t *next) {
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 5000;
  natsStatus s = js_PublishAsyncComplete(p->js, &po);
  spot__mutex_lock(&p->mu);
  uint64_t errors = p->pub_errors;
  p->pub_errors = 0;
  char why[160];
  snprintf(why, sizeof why, "%s", p->last_error);
  spot__mutex_unlock(&p->mu);
  int ok = s == NATS_OK && errors == 0;
  if (ok) {
    for (unsigned i = 0; i < p->ndones; i++) {
      natsMsg_Ack(p->dones[i].msg, NULL);
      natsMsg_Destroy(p->dones[i].msg);
    }
    spot__mutex_lock(&p->mu);
    p->ndones = 0;
    spot__mutex_unlock(&p->mu);
  }
  if (!ok) {
    if (s != NATS_OK) {
      natsMsgList pending = {0};
      if (js_PublishAsyncGetPendingList(&pending, p->js) == NATS_OK) /* drop them: they are published again */
        natsMsgList_Destroy(&pending);
      snprintf(why, sizeof why, "%s", natsStatus_GetText(s));
    }
    spot__mutex_lock(&p->mu);
    p->st.retried++;
    spot__mutex_unlock(&p->mu);
    if (!p->o.quiet) {
      char at[256] = "?";
      natsConnection_GetConnectedUrl(p->nc, at, sizeof at);
      fprintf(stderr, "spotd: pool %s: publishing through %s failed (%s): feeding again from event %llu\n", p->name,
              at, why, (unsigned long long)p->fed_pos + 1);
    }
    if (p->o.feed && *next > p->fed_pos + 1)
      *next = p->fed_pos + 1;
    spot__sleep_ns(250 * 1000 * 1000ull); /* NATS is electing a leader, or away: not in a tight loop */
    for (unsigned i = 0; i < p->ndones; i++) {
      done_t *d = &p->dones[i];
      natsMsg_InProgress(d->msg, NULL);
      publish_record(p, d->dead ? p->dead_subject : p->done_subject, d->msg, &d->ev, d->dead ? d->reason : NULL);
    }
    return;
  }
  if (p->o.feed && upto > p->fed_pos && p->pos && spot_bridge_pos_save(p->pos, upto) == 0)
    p->fed_pos = upto;
}

/* The events thread: feeds puts, and reports runs that start (in progress) and end (done, or failed). */
static void *events_main(void *arg) {
  spot_bridge_pool_t *p = arg;
  uint64_t earliest = 0, latest = 0;
  spot_events_range(p->ns, &earliest, &latest);
  uint64_t next = p->o.feed ? p->fed_pos + 1 : latest + 1, fed_since = 0;
  while (!p->stop) {
    spot_eventrec_t ev;
    int rc = spot_events_read(p->ns, next, &ev);
    if (rc == SPOT_EEXPIRED) {
      spot_events_range(p->ns, &earliest, NULL);
      next = earliest > next ? earliest : next + 1;
      continue;
    }
    if (rc != 0 && rc != SPOT_ENOTYET) { /* a record that does not decode: nothing to feed or report in it */
      next++;
      continue;
    }
    if (rc != 0) { /* not written yet */
      if (fed_since || p->ndones)
        flush(p, next - 1, &next);
      fed_since = 0;
      spot_events_wait(p->ns, next - 1, 50 * 1000 * 1000ull);
      continue;
    }
    next++;
    if (strcmp(ev.log, p->log) != 0)
      continue;
    if (ev.type == SPOT_EVENT_PUT && ev.handler[0] == '\0' && p->o.feed) {
      feed(p, &ev);
      fed_since++;
    } else if (ev.type == SPOT_EVENT_START && strcmp(ev.handler, p->handler) == 0) {
      spot__mutex_lock(&p->mu);
      for (unsigned i = 0; i < p->nruns; i++)
        if (p->runs[i].seq == ev.seq)
          natsMsg_InProgress(p->runs[i].msg, NULL); /* ack wait starts again with the handler's time limit */
      spot__mutex_unlock(&p->mu);
    } else if ((ev.type == SPOT_EVENT_END || ev.type == SPOT_EVENT_FAIL) && strcmp(ev.handler, p->handler) == 0) {
      uint64_t delivered = 0;
      natsMsg *m = take_run(p, ev.seq, &delivered);
      if (m == NULL)
        continue; /* a run this member did not take (a local put naming the handler, or one from before) */
      spot__mutex_lock(&p->mu);
      if (ev.type == SPOT_EVENT_END)
        p->st.ran++;
      else
        p->st.failed++;
      spot__mutex_unlock(&p->mu);
      if (ev.type == SPOT_EVENT_FAIL && delivered < p->max_deliver) {
        natsMsg_NakWithDelay(m, NAK_DELAY_MS, NULL); /* once more, on whichever member fetches it */
        natsMsg_Destroy(m);
        continue;
      }
      done_t *d = &p->dones[p->ndones];
      *d = (done_t){.msg = m, .ev = ev, .dead = ev.type == SPOT_EVENT_FAIL};
      if (d->dead)
        snprintf(d->reason, sizeof d->reason, "failed %llu times; last: status %d %s", (unsigned long long)delivered,
                 (int)ev.status, ev.reason);
      publish_record(p, d->dead ? p->dead_subject : p->done_subject, m, &ev, d->dead ? d->reason : NULL);
      spot__mutex_lock(&p->mu);
      p->ndones++;
      p->st.dead += (uint64_t)d->dead;
      spot__mutex_unlock(&p->mu);
    }
    if (fed_since >= FEED_BATCH || p->ndones >= p->o.window) {
      flush(p, next - 1, &next);
      fed_since = 0;
    }
  }
  if (fed_since || p->ndones)
    flush(p, next - 1, &next);
  return NULL;
}

/* Runs work message m: a local put naming the handler, remembered until its run ends. Takes m. */
static void take_work(spot_bridge_pool_t *p, natsMsg *m) {
  jsMsgMetaData *meta = NULL;
  uint64_t delivered = 1;
  if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
    delivered = meta->NumDelivered;
    jsMsgMetaData_Destroy(meta);
  }
  spot_cause_t cause = {0, 0};
  unsigned long long cn = 0, ce = 0;
  if (sscanf(header(m, "Spot-Cause"), "%llx:%llu", &cn, &ce) == 2)
    cause.node = cn, cause.event = ce;
  int len = natsMsg_GetDataLength(m);
  if (len < 0 || (size_t)len > p->elem) { /* never truncated: straight to the dead letters */
    natsMsg *d = make_record(p, p->dead_subject, m, NULL, "longer than the pooled log's element on this member");
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    if (d && js_PublishMsg(&pa, p->js, d, NULL, &jerr) == NATS_OK)
      natsMsg_Ack(m, NULL);
    else
      natsMsg_NakWithDelay(m, NAK_DELAY_MS, NULL);
    jsPubAck_Destroy(pa);
    natsMsg_Destroy(d);
    natsMsg_Destroy(m);
    spot__mutex_lock(&p->mu);
    p->st.refused++;
    spot__mutex_unlock(&p->mu);
    return;
  }
  uint64_t seq = 0;
  spot__mutex_lock(&p->mu); /* held across the put: its end event cannot be read before the run is in the table */
  int rc = spot_put(p->ns, p->log, natsMsg_GetData(m), (size_t)len, p->handler, &cause, &seq);
  if (rc == 0) {
    p->runs[p->nruns++] = (run_t){.seq = seq, .msg = m, .delivered = delivered};
    p->st.taken++;
    if (delivered > 1)
      p->st.redelivered++;
  }
  spot__mutex_unlock(&p->mu);
  if (rc != 0) {
    if (!p->o.quiet)
      fprintf(stderr, "spotd: pool %s: cannot run the work here (%s): sent back\n", p->name, spot_errdetail());
    natsMsg_NakWithDelay(m, NAK_DELAY_MS, NULL);
    natsMsg_Destroy(m);
  }
}

/* The fetch thread: pulls as much work as the window has room for. */
static void *fetch_main(void *arg) {
  spot_bridge_pool_t *p = arg;
  while (!p->stop) {
    spot__mutex_lock(&p->mu);
    int room = (int)p->o.window - (int)p->nruns - (int)p->ndones; /* runs and records not stored yet */
    spot__mutex_unlock(&p->mu);
    if (room <= 0) {
      spot__sleep_ns(200 * 1000ull);
      continue;
    }
    natsMsgList list = {0};
    jsErrCode jerr = 0;
    natsStatus s = natsSubscription_Fetch(&list, p->sub, room, 250, &jerr);
    if (s != NATS_OK) {
      if (s != NATS_TIMEOUT)
        spot__sleep_ns(100 * 1000 * 1000ull); /* NATS away: the library reconnects */
      continue;
    }
    for (int i = 0; i < list.Count; i++) {
      take_work(p, list.Msgs[i]);
      list.Msgs[i] = NULL;
    }
    natsMsgList_Destroy(&list);
  }
  return NULL;
}

static int copy_name(char *dst, size_t cap, const char *src, const char *what) {
  int rc = spot__name_check(src, what);
  if (rc != 0)
    return rc;
  snprintf(dst, cap, "%s", src);
  return 0;
}

int spot_bridge_pool_start(const char *dir, const spot_bridge_pool_opts_t *opts, spot_bridge_pool_t **out) {
  spot_bridge_pool_t *p = calloc(1, sizeof *p);
  int rc = SPOT_ENOMEM;
  if (p == NULL)
    return spot__fail(SPOT_ENOMEM, "out of memory");
  spot__mutex_init(&p->mu);
  p->o = *opts;
  if (p->o.window == 0)
    p->o.window = 8;
  if (p->o.ack_wait_ms == 0)
    p->o.ack_wait_ms = 30000;
  if (p->o.max_deliver == 0)
    p->o.max_deliver = 5;
  char stream_tail[80];
  if ((rc = copy_name(p->name, sizeof p->name, opts->name, "pool")) != 0 ||
      (rc = copy_name(p->log, sizeof p->log, opts->log, "log")) != 0 ||
      (rc = copy_name(p->handler, sizeof p->handler, opts->handler, "handler")) != 0 ||
      (rc = spot_bridge_nats_url(opts->url, p->servers, sizeof p->servers, stream_tail, sizeof stream_tail)) != 0)
    goto fail;
  if (stream_tail[0]) {
    rc = spot__fail(SPOT_EINVAL, "--pool takes nats://HOST:PORT[,HOST:PORT...] without a stream: the pool's "
                                 "streams are named after --pool-name");
    goto fail;
  }
  snprintf(p->stream, sizeof p->stream, "SPOT_POOL_%s", p->name);
  snprintf(p->done_stream, sizeof p->done_stream, "SPOT_POOL_%s_DONE", p->name);
  snprintf(p->dead_stream, sizeof p->dead_stream, "SPOT_POOL_%s_DEAD", p->name);
  snprintf(p->subject, sizeof p->subject, "spot.pool.%s.work", p->name);
  snprintf(p->done_subject, sizeof p->done_subject, "spot.pool.%s.done", p->name);
  snprintf(p->dead_subject, sizeof p->dead_subject, "spot.pool.%s.dead", p->name);
  if ((rc = spot_ns_open(dir, NULL, &p->ns)) != 0 || (rc = spot_ns_open_log(p->ns, p->log, 0, &p->lg, NULL)) != 0)
    goto fail;
  spot_log_info_t info;
  if ((rc = spot_log_info(p->lg, &info)) != 0)
    goto fail;
  p->elem = info.elem_size;
  p->node = spot_ns_node_id(p->ns);
  rc = SPOT_ENOMEM;
  if ((p->buf = malloc(p->elem)) == NULL || (p->runs = calloc(p->o.window, sizeof *p->runs)) == NULL ||
      (p->dones = calloc(p->o.window, sizeof *p->dones)) == NULL)
    goto fail;
  if (p->o.feed && (rc = spot_bridge_pos_open(dir, "pool", p->log, p->name, &p->pos, &p->fed_pos)) != 0)
    goto fail;
  if ((rc = connect_js(p)) != 0)
    goto fail;
  const char *work_subjects[1] = {p->subject}, *done_subjects[1] = {p->done_subject};
  char advisory[256];
  snprintf(advisory, sizeof advisory, "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.%s.%s", p->stream, p->name);
  const char *dead_subjects[2] = {p->dead_subject, advisory};
  if ((rc = ensure_stream(p, p->stream, work_subjects, 1, js_WorkQueuePolicy)) != 0 ||
      (rc = ensure_stream(p, p->done_stream, done_subjects, 1, js_LimitsPolicy)) != 0 ||
      (rc = ensure_stream(p, p->dead_stream, dead_subjects, 2, js_LimitsPolicy)) != 0)
    goto fail;
  if (p->o.work) {
    if ((rc = ensure_consumer(p)) != 0)
      goto fail;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = p->stream;
    so.Consumer = p->name;
    so.ManualAck = true;
    jsErrCode jerr = 0;
    natsStatus s = js_PullSubscribe(&p->sub, p->js, p->subject, p->name, NULL, &so, &jerr);
    if (s != NATS_OK) {
      rc = spot__js_fail(s, "cannot take work from the pool's consumer");
      goto fail;
    }
  }
  rc = SPOT_ENOMEM;
  if (spot__thread_start(&p->events_thread, events_main, p) != 0)
    goto fail;
  p->events_started = 1;
  if (p->o.work) {
    if (spot__thread_start(&p->fetch_thread, fetch_main, p) != 0)
      goto fail;
    p->fetch_started = 1;
  }
  if (!p->o.quiet)
    fprintf(stderr, "spotd: pool %s: %s%s%s log %s with handler %s (max deliver %llu, ack wait %u ms + 1 s)\n",
            p->name, p->o.feed ? "feeding" : "", p->o.feed && p->o.work ? " and " : "", p->o.work ? "running" : "",
            p->log, p->handler, (unsigned long long)(p->o.work ? p->max_deliver : (uint64_t)p->o.max_deliver),
            p->o.ack_wait_ms);
  *out = p;
  return 0;
fail:
  spot_bridge_pool_stop(p);
  return rc;
}

void spot_bridge_pool_stats(spot_bridge_pool_t *p, spot_bridge_pool_stats_t *out) {
  spot__mutex_lock(&p->mu);
  *out = p->st;
  spot__mutex_unlock(&p->mu);
}

void spot_bridge_pool_stop(spot_bridge_pool_t *p) {
  if (p == NULL)
    return;
  p->stop = 1;
  if (p->fetch_started)
    spot__thread_join(&p->fetch_thread);
  if (p->events_started)
    spot__thread_join(&p->events_thread);
  for (unsigned i = 0; p->runs && i < p->nruns; i++) { /* runs not ended: another member takes them now */
    natsMsg_Nak(p->runs[i].msg, NULL);
    natsMsg_Destroy(p->runs[i].msg);
  }
  for (unsigned i = 0; p->dones && i < p->ndones; i++) /* records never stored: the work runs again elsewhere */
    natsMsg_Destroy(p->dones[i].msg);
  if (p->sub)
    natsSubscription_Unsubscribe(p->sub);
  natsSubscription_Destroy(p->sub);
  if (p->nc)
    natsConnection_Flush(p->nc);
  jsCtx_Destroy(p->js);
  natsConnection_Destroy(p->nc);
  spot_bridge_pos_close(p->pos);
  if (p->lg)
    spot_log_close(p->lg);
  if (p->ns)
    spot_ns_close(p->ns);
  free(p->buf);
  free(p->runs);
  free(p->dones);
  spot__mutex_destroy(&p->mu);
  free(p);
}
