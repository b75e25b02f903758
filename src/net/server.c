/*
 * server.c: a node serving its namespace to other nodes over ZeroMQ with CURVE (spotd --listen).
 *
 * One ROUTER socket, a CURVE server with the node's secret key. A ZAP handler (inproc, same context) admits a
 * client at the handshake only if the namespace's access file (DIR/access, re-read when it changes: its stamp is
 * looked at at most every SPOT__NET_ACCESS_RECHECK_NS, so a change is in force within that time) lists its
 * public key or has an `any` line; a stranger is refused there, before it can send a single request, and gets
 * nothing but the handshake's failure. An admitted client's key is handed to the server as the message's User-Id,
 * and what the key may do is decided per request by the same file, so a listed key without a right gets a clear
 * error reply. No frame above SPOT__NET_FRAME_MAX is ever received (ZMQ_MAXMSGSIZE: the peer is disconnected when
 * its frame's length says more), so no client can make the node hold more than the largest legal request.
 *
 * Refusals are written to the node's event log and its own log (stderr) through a rate limiter (net/ratelimit.h),
 * so that nobody can flush the event ring with them; what was not recorded is counted and reported once per
 * period. Replies say less to strangers (keys admitted only through `any`): no paths, no echo of what they sent;
 * the node's own log keeps the whole detail.
 *
 * Requests are decoded with the wire codec (every length checked), executed on the local namespace on the server
 * thread (each wake-up takes every queued request, up to SPOT__NET_BATCH, in the socket's fair order between
 * clients), and answered with one reply each; a malformed frame gets an error reply (when its header can be read) or
 * is dropped, and the server goes on serving. The access table, the limiter and the refusal records are shared by
 * the ZAP thread and the server thread under one mutex.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "core/error.h"
#include "core/name.h"
#include "net/statuscodec.h"
#include "core/wire.h"
#include "dispatch/dispatch.h"
#include "net/access.h"
#include "net/keys.h"
#include "net/net_impl.h"
#include "net/ratelimit.h"
#include "net/serial.h"
#include "platform/platform.h"
#include "spot/net.h"

#define MAX_EVENTS_PER_REPLY 1024u
#define MAX_DEVICES 8u

struct spot_server {
  void *ctx, *router, *zap;
  spot_ns_t *ns;
  char ns_name[SPOT_NAME_MAX + 1];
  char access_path[4200];
  char dir[4096];
  spot_server_exclusive_fn exclusive; /* how the node steps aside for check --fix and rm (NULL: it does not) */
  void *exclusive_arg;
  spot__mutex_t mu;        /* guards access, limit, warn_logged and the refusal records */
  spot__access_t access;
  spot__ratelimit_t limit;
  unsigned warn_logged;    /* the access table's warn_gen last written to the log */
  spot__keypair_t key;
  atomic_int stop;
  spot__thread_t thread, zap_thread;
  int threads;
  uint8_t *out; /* reply buffer, SPOT__WIRE_MAX bytes */
  uint8_t *elem; /* element buffer for gets */
  spot__serial_t *devices[MAX_DEVICES]; /* devices on serial links, served as namespaces (guarded by mu) */
  unsigned ndevices;
};

/* ---- refusals: recorded through the rate limiter ---- */

/* The id a client's key gives it as the cause of its puts: the key's first 8 bytes (never 0). */
static uint64_t client_node_id(const char *z85) {
  uint8_t raw[SPOT__KEY_RAW_LEN];
  uint64_t id = 0;
  if (strlen(z85) == SPOT__KEY_Z85_LEN && zmq_z85_decode(raw, z85))
    for (int i = 0; i < 8; i++)
      id |= (uint64_t)raw[i] << (8 * i);
  return id ? id : 1;
}

/* Re-reads the access file if it changed (looked at at most every SPOT__NET_ACCESS_RECHECK_NS), and logs once each new warning about lines it skipped. Caller holds
 * s->mu. Returns as spot__access_refresh. */
static int refresh_access(spot_server_t *s) {
  int rc = spot__access_refresh_within(&s->access, s->access_path, spot__now_ns(), SPOT__NET_ACCESS_RECHECK_NS);
  if (s->access.warn_gen != s->warn_logged) {
    s->warn_logged = s->access.warn_gen;
    if (s->access.skipped)
      fprintf(stderr, "spotd: %s (%u malformed line%s skipped: %s grant%s nothing; the other lines are in force)\n",
              s->access.warn, s->access.skipped, s->access.skipped == 1 ? "" : "s",
              s->access.skipped == 1 ? "it" : "they", s->access.skipped == 1 ? "s" : "");
  }
  return rc;
}

/* Writes the count of unrecorded refusals once per period. Caller holds s->mu. */
static void report_suppressed(spot_server_t *s) {
  uint64_t n;
  if (!spot__ratelimit_report(&s->limit, spot__now_ns(), &n))
    return;
  spot__event_t e;
  memset(&e, 0, sizeof e);
  e.type = SPOT__EV_FAIL;
  e.status = SPOT_EPERM;
  snprintf(e.reason, sizeof e.reason, "%llu refusals not recorded", (unsigned long long)n);
  spot__events_append(s->ns, &e, NULL);
  fprintf(stderr, "spotd: %llu more refusals in the last %llu s were not recorded one by one (rate limit)\n",
          (unsigned long long)n, (unsigned long long)(SPOT__RL_PERIOD_NS / 1000000000u));
}

/* Records a refusal of `what` (a request type's name, or "handshake") for log (may be "") from client (its key,
 * may be "") in the node's event log (a fail event without a put) and its own log, where detail explains it; source
 * is what the rate limiter counts (the key, or the address at the handshake). Caller holds s->mu. */
static void record_refusal(spot_server_t *s, const char *what, const char *log, const char *client, const char *source,
                           const char *detail) {
  report_suppressed(s);
  if (!spot__ratelimit_take(&s->limit, source, spot__now_ns()))
    return;
  spot__event_t e;
  memset(&e, 0, sizeof e);
  e.type = SPOT__EV_FAIL;
  e.status = SPOT_EPERM;
  e.cause_node = client[0] ? client_node_id(client) : 0;
  snprintf(e.log, sizeof e.log, "%s", log);
  snprintf(e.reason, sizeof e.reason, "refused %s from %.12s", what, client[0] ? client : source);
  spot__events_append(s->ns, &e, NULL);
  fprintf(stderr, "spotd: refused %s from key %s%s%s%s: %s\n", what, client[0] ? client : "?",
          strcmp(source, client) ? " (" : "", strcmp(source, client) ? source : "", strcmp(source, client) ? ")" : "",
          detail);
}

/* ---- ZAP: admit at the handshake only the keys the access file knows (all of them with an `any` line) ---- */

/* Copies a ZAP frame (at most cap - 1 bytes) as text, replacing bytes that are not printable. */
static void frame_text(const char *f, size_t n, char *out, size_t cap) {
  size_t i = 0;
  for (; i < n && i + 1 < cap; i++)
    out[i] = f[i] > ' ' && f[i] < 0x7f ? f[i] : '?';
  out[i] = '\0';
}

static void *zap_main(void *arg) {
  spot_server_t *s = arg;
  while (!atomic_load(&s->stop)) {
    zmq_pollitem_t item = {s->zap, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, 100) <= 0)
      continue;
    char frames[8][64];
    size_t lens[8];
    int n = 0, more = 1;
    while (more && n < 8) {
      int got = zmq_recv(s->zap, frames[n], sizeof frames[n], 0);
      if (got < 0)
        break;
      lens[n] = (size_t)got > sizeof frames[n] ? sizeof frames[n] : (size_t)got;
      n++;
      size_t sz = sizeof more;
      zmq_getsockopt(s->zap, ZMQ_RCVMORE, &more, &sz);
    }
    /* version, request id, domain, address, identity, mechanism, credentials */
    char user[SPOT__KEY_Z85_LEN + 1] = "", address[64] = "";
    const char *status = "400", *text = "CURVE required";
    if (n >= 4)
      frame_text(frames[3], lens[3], address, sizeof address);
    if (n >= 7 && lens[5] == 5 && memcmp(frames[5], "CURVE", 5) == 0 && lens[6] == SPOT__KEY_RAW_LEN) {
      zmq_z85_encode(user, (const uint8_t *)frames[6], SPOT__KEY_RAW_LEN);
      spot__mutex_lock(&s->mu);
      spot__clear_detail();
      int rc = refresh_access(s);
      if ((rc == 0 || rc == SPOT_ENOTFOUND) && spot__access_admits(&s->access, user)) {
        status = "200";
        text = "OK";
      } else {
        char detail[4800];
        if (rc != 0)
          snprintf(detail, sizeof detail, "%s", spot_errdetail());
        else
          snprintf(detail, sizeof detail, "the key is not in %s, which has no `any` line; to allow it, add the line "
                   "`%s RIGHTS`", s->access_path, user);
        record_refusal(s, "handshake", "", user, address[0] ? address : "?", detail);
        status = "400";
        text = "not allowed";
        user[0] = '\0';
      }
      spot__mutex_unlock(&s->mu);
    }
    zmq_send(s->zap, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(s->zap, frames[1], n > 1 ? lens[1] : 0, ZMQ_SNDMORE);
    zmq_send(s->zap, status, 3, ZMQ_SNDMORE);
    zmq_send(s->zap, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(s->zap, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(s->zap, "", 0, 0);
  }
  return NULL;
}

/* ---- requests ---- */

static unsigned right_of(const spot__msg_t *req) {
  switch (req->type) {
  case SPOT__WIRE_CREATE:
    return SPOT_RIGHT_CREATE;
  case SPOT__WIRE_PUT:
    return SPOT_RIGHT_PUT;
  case SPOT__WIRE_DEPLOY:
    return SPOT_RIGHT_DEPLOY;
  case SPOT__WIRE_BIND:
  case SPOT__WIRE_UNBIND:
  case SPOT__WIRE_RM:
    return SPOT_RIGHT_ADMIN;
  case SPOT__WIRE_CHECK:
    return req->fix ? SPOT_RIGHT_ADMIN : SPOT_RIGHT_GET;
  default: /* reads: get, latest, earliest, info, events, list, handlers, status */
    return SPOT_RIGHT_GET;
  }
}

static int do_events(spot_server_t *s, const spot__msg_t *req, spot__msg_t *rep) {
  spot_log_t *events;
  int rc = spot__nsctx_events(s->ns, &events);
  if (rc != 0)
    return rc;
  uint64_t lo, hi, from = req->from;
  spot_log_earliest(events, &lo);
  spot_log_latest(events, &hi);
  if (from < lo)
    from = lo;
  uint32_t max = req->max < MAX_EVENTS_PER_REPLY ? req->max : MAX_EVENTS_PER_REPLY;
  uint8_t *recs = s->elem; /* large enough: MAX_EVENTS_PER_REPLY * SPOT__EVENT_BYTES <= its size */
  uint32_t n = 0;
  for (uint64_t id = from; lo && id <= hi && n < max; id++) {
    spot__event_t e;
    if (spot__events_read(s->ns, id, &e) != 0)
      continue; /* expired meanwhile */
    spot__event_encode(&e, recs + (size_t)n * SPOT__EVENT_BYTES);
    n++;
  }
  rep->events = recs;
  rep->count = n;
  return 0;
}

/* Checks the access file for req from client. 0, or SPOT_EPERM after recording the refusal (with the whole detail)
 * and setting a detail line fit for the client: it names the right and the client's own key, never the file's path
 * nor its lines, and tells a stranger less. *listed says whether the file lists the key. */
static int check_access(spot_server_t *s, const spot__msg_t *req, const char *client, int *listed) {
  unsigned want = right_of(req);
  char log[SPOT_NAME_MAX + 1] = "", wants[64], have[64];
  spot__mutex_lock(&s->mu);
  int rc = refresh_access(s);
  if (rc == 0 || rc == SPOT_ENOTFOUND)
    rc = spot__access_check(&s->access, client, want);
  int ok = s->access.state == SPOT__ACCESS_OK;
  *listed = spot__access_listed(&s->access, client);
  unsigned got = 0;
  if (rc != 0) { /* the rest only for a refusal: an allowed request costs the check alone */
    char detail[600];
    got = spot__access_rights(&s->access, client);
    snprintf(detail, sizeof detail, "%s", spot_errdetail());
    spot__wire_copy(req->log, log, sizeof log);
    record_refusal(s, spot__wire_type_name(req->type), log, client, client, detail);
  }
  spot__mutex_unlock(&s->mu);
  if (rc == 0)
    return 0;
  spot__access_rights_text(want, wants, sizeof wants);
  if (!ok)
    return spot__fail(SPOT_EPERM, "refused %s: this node cannot read its access rules now (its log says why); ask "
                      "its operator", wants);
  if (*listed)
    return spot__fail(SPOT_EPERM, "refused %s: this node gives key %s only %s; ask its operator for %s", wants,
                      client, spot__access_rights_text(got, have, sizeof have), wants);
  return spot__fail(SPOT_EPERM, "refused %s: this node does not give that right to key %s", wants, client);
}

/* The device attached as namespace ns, or NULL. */
static spot__serial_t *device_for(spot_server_t *s, const char *ns) {
  spot__serial_t *d = NULL;
  spot__mutex_lock(&s->mu);
  for (unsigned i = 0; i < s->ndevices && d == NULL; i++)
    if (strcmp(spot__serial_name(s->devices[i]), ns) == 0)
      d = s->devices[i];
  spot__mutex_unlock(&s->mu);
  return d;
}

/* SPOT_EBUSY if log is one of an attached device's logs of the node's namespace (its outbox, what was sent, its
 * uplink): their threads use them, so they cannot be taken away for check --fix or rm. */
static int device_log(spot_server_t *s, const char *log) {
  int rc = 0;
  spot__mutex_lock(&s->mu);
  for (unsigned i = 0; i < s->ndevices && rc == 0; i++) {
    const char *d = spot__serial_name(s->devices[i]);
    size_t n = strlen(d);
    if (strncmp(log, d, n) == 0 && (strcmp(log + n, "-outbox") == 0 || strcmp(log + n, "-outbox-sent") == 0 ||
                                    strcmp(log + n, "-uplink") == 0))
      rc = spot__fail(SPOT_EBUSY, "log %s belongs to device %s, which this node serves; stop the node to change it",
                      log, d);
  }
  spot__mutex_unlock(&s->mu);
  return rc;
}

/* Passes req on to a device over its serial link (net/serial.h) and its reply back; the same access rules as the
 * node's own namespace have been checked. */
static int forward(spot__serial_t *d, const spot__msg_t *req, const char *client, spot__msg_t *rep) {
  spot__msg_t fwd = *req, got;
  if (fwd.type == SPOT__WIRE_PUT && fwd.cause_node == 0) {
    fwd.cause_node = client_node_id(client); /* as for a local put: the client is its cause */
    fwd.cause_event = 0;
  }
  int rc = spot__serial_call(d, &fwd, &got);
  if (rc != 0)
    return rc;
  if (got.status != 0)
    return spot__fail(got.status, "device %s: %.*s", spot__serial_name(d), (int)got.detail.len,
                      got.detail.ptr ? got.detail.ptr : "");
  rep->seq = got.seq;
  rep->data = got.data;
  rep->data_len = got.data_len;
  rep->elem_size = got.elem_size;
  rep->history = got.history;
  rep->sync = got.sync;
  rep->latest = got.latest;
  rep->earliest = got.earliest;
  rep->durable = got.durable;
  rep->events = got.events;
  rep->count = got.count;
  return 0;
}

static int execute(spot_server_t *s, const spot__msg_t *req, const char *client, spot__msg_t *rep, int *listed) {
  char ns[SPOT_NAME_MAX + 1] = "", log[SPOT_NAME_MAX + 1] = "", handler[SPOT_NAME_MAX + 1] = "";
  spot__wire_copy(req->ns, ns, sizeof ns);
  spot__wire_copy(req->log, log, sizeof log);
  spot__wire_copy(req->handler, handler, sizeof handler);
  int rc = check_access(s, req, client, listed);
  if (rc != 0)
    return rc;
  spot__serial_t *device = device_for(s, ns);
  if (device != NULL)
    return forward(device, req, client, rep);
  if (strcmp(ns, s->ns_name) != 0)
    return spot__fail(SPOT_ENONS, "this node serves namespace %s, not %s", s->ns_name, ns);
  spot_log_t *l;
  switch (req->type) {
  case SPOT__WIRE_CREATE: {
    spot_log_config_t cfg = {.elem_size = req->elem_size, .history = req->history, .sync = (spot_sync_t)req->sync};
    return spot_ns_create_log(s->ns, log, &cfg);
  }
  case SPOT__WIRE_PUT: {
    spot_cause_t cause = {req->cause_node, req->cause_event};
    if (cause.node == 0)
      cause.node = client_node_id(client); /* a put from outside any handler: the client is its cause */
    return spot_put(s->ns, log, req->data, req->data_len, handler[0] ? handler : NULL, &cause, &rep->seq);
  }
  case SPOT__WIRE_GET: {
    spot_log_info_t info;
    if ((rc = spot__ns_log(s->ns, log, &l)) != 0 || (rc = spot_log_info(l, &info)) != 0)
      return rc;
    if ((rc = spot_log_read(l, req->seq, s->elem, SPOT__WIRE_MAX_DATA)) != 0)
      return rc;
    rep->data = s->elem;
    rep->data_len = info.elem_size;
    return 0;
  }
  case SPOT__WIRE_LATEST:
  case SPOT__WIRE_EARLIEST:
    if ((rc = spot__ns_log(s->ns, log, &l)) != 0)
      return rc;
    return req->type == SPOT__WIRE_LATEST ? spot_log_latest(l, &rep->seq) : spot_log_earliest(l, &rep->seq);
  case SPOT__WIRE_INFO: {
    spot_log_info_t info;
    if ((rc = spot__ns_log(s->ns, log, &l)) != 0 || (rc = spot_log_info(l, &info)) != 0)
      return rc;
    rep->elem_size = info.elem_size;
    rep->history = info.history;
    rep->sync = (uint8_t)info.sync;
    rep->latest = info.latest;
    rep->earliest = info.earliest;
    rep->durable = info.durable;
    return 0;
  }
  case SPOT__WIRE_EVENTS:
    return do_events(s, req, rep);
  case SPOT__WIRE_LIST:
  case SPOT__WIRE_HANDLERS:
    if ((rc = spot__net_listing(s->ns, req->type == SPOT__WIRE_LIST, s->elem, SPOT__WIRE_MAX_DATA,
                                &rep->data_len)) == 0)
      rep->data = s->elem;
    return rc;
  case SPOT__WIRE_BIND:
    if ((rc = spot_bind(s->ns, log, handler)) == 0)
      fprintf(stderr, "spotd: key %.12s... bound handler %s to log %s\n", client, handler, log);
    return rc;
  case SPOT__WIRE_UNBIND:
    if ((rc = spot_unbind(s->ns, log, handler[0] ? handler : NULL)) == 0)
      fprintf(stderr, "spotd: key %.12s... unbound log %s\n", client, log);
    return rc;
  case SPOT__WIRE_STATUS: {
    spot_status_t st;
    size_t n = 0;
    if ((rc = spot_status_read(s->ns, &st)) != 0)
      return rc;
    rc = spot__statusc_encode(&st, s->elem, SPOT__WIRE_MAX_DATA, &n);
    spot_status_free(&st);
    rep->data = s->elem;
    rep->data_len = (uint32_t)n;
    return rc;
  }
  case SPOT__WIRE_CHECK:
  case SPOT__WIRE_RM: {
    spot_check_result_t res;
    if ((req->type == SPOT__WIRE_RM || req->fix) && (rc = device_log(s, log)) != 0)
      return rc;
    spot__mutex_lock(&s->mu);
    spot_server_exclusive_fn exclusive = s->exclusive;
    void *exclusive_arg = s->exclusive_arg;
    spot__mutex_unlock(&s->mu);
    if ((rc = spot__net_admin(s->ns, s->dir, req->type, log, req->fix, exclusive, exclusive_arg, &res)) != 0)
      return rc;
    if (req->type == SPOT__WIRE_RM) {
      fprintf(stderr, "spotd: key %.12s... removed log %s\n", client, log);
      return 0;
    }
    if (req->fix)
      fprintf(stderr, "spotd: key %.12s... ran check --fix on log %s\n", client, log);
    if ((rc = spot__net_check_encode(&res, s->elem, SPOT__WIRE_MAX_DATA, &rep->data_len)) == 0)
      rep->data = s->elem;
    return rc;
  }
  case SPOT__WIRE_DEPLOY: {
    char object[SPOT__WIRE_OBJECT_MAX + 1], names[64][64];
    int n = 0;
    if ((rc = spot__wire_copy(req->object, object, sizeof object)) != 0)
      return rc;
    rc = spot_ns_install_handlers(s->ns, object, req->data, req->data_len, names, 64, &n);
    if (rc == 0)
      fprintf(stderr, "spotd: deployed %s from key %.12s...: %d handler(s), first %s\n", object, client, n, names[0]);
    return rc;
  }
  default:
    return spot__fail(SPOT_EINVAL, "%s is not served by this node yet", spot__wire_type_name(req->type));
  }
}

/* Answers one request frame from `peer` (the ROUTER's identity frame). */
static void answer(spot_server_t *s, zmq_msg_t *peer, zmq_msg_t *frame) {
  const uint8_t *buf = zmq_msg_data(frame);
  size_t len = zmq_msg_size(frame);
  const char *client = zmq_msg_gets(frame, "User-Id");
  spot__msg_t req, rep;
  memset(&rep, 0, sizeof rep);
  rep.flags = SPOT__WIRE_REPLY;
  spot__clear_detail();
  int listed = 0;
  int rc = spot__wire_decode(buf, len, &req);
  if (rc != 0) {
    spot__wire_hdr_t h;
    if (spot__wire_peek(buf, len, &h) != 0 || h.type < SPOT__WIRE_CREATE || h.type > SPOT__WIRE_LAST)
      return; /* not even a header: nothing to answer to */
    rep.type = h.type;
    rep.id = h.id;
    spot__mutex_lock(&s->mu);
    refresh_access(s);
    listed = spot__access_listed(&s->access, client ? client : "");
    spot__mutex_unlock(&s->mu);
  } else if (req.flags & SPOT__WIRE_REPLY) {
    return; /* a reply sent to a server: ignore */
  } else {
    rep.type = req.type;
    rep.id = req.id;
    rc = execute(s, &req, client ? client : "", &rep, &listed);
  }
  if (rc != 0) {
    spot__msg_t err;
    memset(&err, 0, sizeof err);
    err.type = rep.type;
    err.flags = SPOT__WIRE_REPLY;
    err.id = rep.id;
    err.status = rc;
    /* a key the access file lists gets the whole detail; a stranger (let in by `any`) only what the refusal says
     * or the error's name: no paths of this node, no echo of the bytes it sent */
    const char *detail = spot_errdetail();
    if (detail[0] == '\0' || (!listed && rc != SPOT_EPERM))
      detail = spot_strerror(rc);
    spot__wire_set_detail(&err, detail);
    rep = err;
  }
  size_t out_len;
  if (spot__wire_encode(&rep, s->out, SPOT__WIRE_MAX, &out_len) != 0)
    return;
  zmq_msg_send(peer, s->router, ZMQ_SNDMORE);
  zmq_send(s->router, s->out, out_len, 0);
}

/* Takes one message (identity frame, request frame) from the ROUTER without waiting and answers it. 1 if there
 * was one (answered, or dropped when it was malformed), 0 if none was queued. */
static int serve_one(spot_server_t *s) {
  zmq_msg_t peer, frame;
  zmq_msg_init(&peer);
  if (zmq_msg_recv(&peer, s->router, ZMQ_DONTWAIT) < 0) {
    zmq_msg_close(&peer);
    return 0;
  }
  zmq_msg_init(&frame);
  int more = 0;
  size_t sz = sizeof more;
  /* the frames of one message arrive together: once the first is there, the others are too */
  if (zmq_getsockopt(s->router, ZMQ_RCVMORE, &more, &sz) == 0 && more && zmq_msg_recv(&frame, s->router, 0) >= 0) {
    zmq_getsockopt(s->router, ZMQ_RCVMORE, &more, &sz);
    if (!more)
      answer(s, &peer, &frame);
    while (more) { /* a peer that sent more frames than one message: drop the rest */
      zmq_msg_t extra;
      zmq_msg_init(&extra);
      zmq_msg_recv(&extra, s->router, 0);
      zmq_msg_close(&extra);
      zmq_getsockopt(s->router, ZMQ_RCVMORE, &more, &sz);
    }
  }
  zmq_msg_close(&peer);
  zmq_msg_close(&frame);
  return 1;
}

static void *server_main(void *arg) {
  spot_server_t *s = arg;
  while (!atomic_load(&s->stop)) {
    zmq_pollitem_t item = {s->router, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, 100) <= 0) {
      spot__mutex_lock(&s->mu);
      report_suppressed(s); /* a count of unrecorded refusals also when they stopped coming */
      spot__mutex_unlock(&s->mu);
      continue;
    }
    /* every request queued now, up to a batch, before waiting again: one wake-up serves many */
    for (int n = 0; n < SPOT__NET_BATCH && serve_one(s); n++) {
    }
  }
  return NULL;
}

int spot_server_start(const char *dir, const char *listen, const char *key_file, spot_server_t **out) {
  spot_server_t *s = calloc(1, sizeof *s);
  if (s == NULL)
    return SPOT_ENOMEM;
  spot__access_init(&s->access);
  spot__mutex_init(&s->mu);
  spot__ratelimit_init(&s->limit, spot__now_ns());
  int rc = spot__keys_load(key_file, &s->key);
  if (rc == 0)
    rc = spot_ns_open(dir, NULL, &s->ns);
  if (rc == 0)
    rc = spot__net_ns_name(dir, s->ns_name, sizeof s->ns_name);
  spot_log_t *events;
  if (rc == 0)
    rc = spot__nsctx_events(s->ns, &events); /* opened here, before the two threads may record refusals */
  if (rc == 0 && (s->out = malloc(SPOT__WIRE_MAX)) == NULL)
    rc = SPOT_ENOMEM;
  if (rc == 0 && (s->elem = malloc(SPOT__WIRE_MAX_DATA)) == NULL)
    rc = SPOT_ENOMEM;
  snprintf(s->access_path, sizeof s->access_path, "%s/access", dir);
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  char endpoint[300];
  if (rc == 0 && (size_t)snprintf(endpoint, sizeof endpoint, "tcp://%s", listen) >= sizeof endpoint)
    rc = spot__fail(SPOT_EINVAL, "listen address %s is too long", listen);
  if (rc == 0) {
    s->ctx = zmq_ctx_new();
    s->zap = zmq_socket(s->ctx, ZMQ_REP);
    if (zmq_bind(s->zap, "inproc://zeromq.zap.01") != 0)
      rc = spot__fail(SPOT_EIO, "cannot start the key check: %s", zmq_strerror(zmq_errno()));
  }
  if (rc == 0) {
    int one = 1, linger = 0;
    int64_t max_frame = SPOT__NET_FRAME_MAX;
    s->router = zmq_socket(s->ctx, ZMQ_ROUTER);
    zmq_setsockopt(s->router, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s->router, ZMQ_MAXMSGSIZE, &max_frame, sizeof max_frame);
    zmq_setsockopt(s->router, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(s->router, ZMQ_CURVE_SECRETKEY, s->key.secret_z85, SPOT__KEY_Z85_LEN);
    zmq_setsockopt(s->router, ZMQ_ZAP_DOMAIN, "spot", 4);
    if (zmq_bind(s->router, endpoint) != 0)
      rc = spot__fail(SPOT_EIO, "cannot listen on %s: %s (is the port taken, or the address wrong?)", listen,
                      zmq_strerror(zmq_errno()));
  }
  if (rc == 0)
    rc = spot__thread_start(&s->zap_thread, zap_main, s);
  if (rc == 0) {
    s->threads = 1;
    rc = spot__thread_start(&s->thread, server_main, s);
    if (rc == 0)
      s->threads = 2;
  }
  if (rc != 0) {
    spot_server_stop(s);
    return rc;
  }
  *out = s;
  return 0;
}

void spot_server_set_exclusive(spot_server_t *s, spot_server_exclusive_fn fn, void *arg) {
  spot__mutex_lock(&s->mu);
  s->exclusive = fn;
  s->exclusive_arg = arg;
  spot__mutex_unlock(&s->mu);
}

int spot_server_attach_serial(spot_server_t *s, const char *name, const char *path) {
  if (strcmp(name, s->ns_name) == 0)
    return spot__fail(SPOT_EEXIST, "namespace %s is this node's own: give the device another name", name);
  if (device_for(s, name) != NULL)
    return spot__fail(SPOT_EEXIST, "a device is attached as %s already", name);
  spot__mutex_lock(&s->mu);
  int full = s->ndevices == MAX_DEVICES;
  spot__mutex_unlock(&s->mu);
  if (full)
    return spot__fail(SPOT_ENOSPC, "this node serves %u devices, all it can", MAX_DEVICES);
  spot__serial_t *d;
  int rc = spot__serial_open(name, path, s->ns, &d);
  if (rc != 0)
    return rc;
  spot__mutex_lock(&s->mu);
  s->devices[s->ndevices++] = d;
  spot__mutex_unlock(&s->mu);
  return 0;
}

void spot_server_stop(spot_server_t *s) {
  if (s == NULL)
    return;
  atomic_store(&s->stop, 1);
  if (s->threads >= 1)
    spot__thread_join(&s->zap_thread);
  if (s->threads >= 2)
    spot__thread_join(&s->thread);
  for (unsigned i = 0; i < s->ndevices; i++)
    spot__serial_close(s->devices[i]);
  if (s->router)
    zmq_close(s->router);
  if (s->zap)
    zmq_close(s->zap);
  if (s->ctx)
    zmq_ctx_term(s->ctx);
  spot__access_free(&s->access);
  spot__mutex_destroy(&s->mu);
  spot__keys_wipe(&s->key);
  spot_ns_close(s->ns);
  free(s->out);
  free(s->elem);
  free(s);
}
