/*
 * server.c: a node serving its namespace to other nodes over ZeroMQ with CURVE (spotd --listen).
 *
 * One ROUTER socket, a CURVE server with the node's secret key. A ZAP handler (inproc, same context) accepts every
 * client that completes the CURVE handshake and hands its public key to the server as the message's User-Id; what
 * the key may do is then decided per request by the namespace's access file (DIR/access, re-read when it changes),
 * so a refused client gets a clear error reply instead of a silent handshake failure, and the node records the
 * refusal in its event log. Requests are decoded with the wire codec (every length checked), executed on the local
 * namespace on the server thread, and answered with one reply each; a malformed frame gets an error reply (when its
 * header can be read) or is dropped, and the server goes on serving.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "core/error.h"
#include "core/name.h"
#include "core/wire.h"
#include "dispatch/dispatch.h"
#include "net/access.h"
#include "net/keys.h"
#include "net/net_impl.h"
#include "spot/net.h"

#define MAX_EVENTS_PER_REPLY 1024u

struct spot_server {
  void *ctx, *router, *zap;
  spot_ns_t *ns;
  char ns_name[SPOT_NAME_MAX + 1];
  char access_path[4200];
  spot__access_t access;
  spot__keypair_t key;
  atomic_int stop;
  spot__thread_t thread, zap_thread;
  int threads;
  uint8_t *out; /* reply buffer, SPOT__WIRE_MAX bytes */
  uint8_t *elem; /* element buffer for gets */
};

/* ---- ZAP: authenticate every CURVE client, naming it by its public key ---- */

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
    char user[SPOT__KEY_Z85_LEN + 1] = "";
    const char *status = "400", *text = "CURVE required";
    if (n >= 7 && lens[5] == 5 && memcmp(frames[5], "CURVE", 5) == 0 && lens[6] == SPOT__KEY_RAW_LEN) {
      zmq_z85_encode(user, (const uint8_t *)frames[6], SPOT__KEY_RAW_LEN);
      status = "200";
      text = "OK";
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

static unsigned right_of(int type) {
  switch (type) {
  case SPOT__WIRE_CREATE:
    return SPOT_RIGHT_CREATE;
  case SPOT__WIRE_PUT:
    return SPOT_RIGHT_PUT;
  case SPOT__WIRE_DEPLOY:
    return SPOT_RIGHT_DEPLOY;
  default:
    return SPOT_RIGHT_GET;
  }
}

/* The id a client's key gives it as the cause of its puts: the key's first 8 bytes (never 0). */
static uint64_t client_node_id(const char *z85) {
  uint8_t raw[SPOT__KEY_RAW_LEN];
  uint64_t id = 0;
  if (strlen(z85) == SPOT__KEY_Z85_LEN && zmq_z85_decode(raw, z85))
    for (int i = 0; i < 8; i++)
      id |= (uint64_t)raw[i] << (8 * i);
  return id ? id : 1;
}

/* Records a refused request in the node's event log (a fail event without a put). */
static void record_refusal(spot_server_t *s, const spot__msg_t *req, const char *client) {
  spot__event_t e;
  memset(&e, 0, sizeof e);
  e.type = SPOT__EV_FAIL;
  e.status = SPOT_EPERM;
  e.cause_node = client_node_id(client);
  spot__wire_copy(req->log, e.log, sizeof e.log);
  snprintf(e.reason, sizeof e.reason, "refused %s from %.12s", spot__wire_type_name(req->type), client);
  spot__ns_event(s->ns, &e, NULL);
}

static int do_events(spot_server_t *s, const spot__msg_t *req, spot__msg_t *rep) {
  spot_log_t *events;
  int rc = spot__ns_events(s->ns, &events);
  if (rc != 0)
    return rc;
  uint64_t lo, hi, from = req->from;
  spot_log_earliest(events, &lo);
  spot_log_latest(events, &hi);
  if (from < lo)
    from = lo;
  uint32_t max = req->max < MAX_EVENTS_PER_REPLY ? req->max : MAX_EVENTS_PER_REPLY;
  uint8_t *recs = s->elem; /* large enough: MAX_EVENTS_PER_REPLY * 256 <= its size */
  uint32_t n = 0;
  for (uint64_t id = from; lo && id <= hi && n < max; id++) {
    spot__event_t e;
    if (spot__ns_event_read(s->ns, id, &e) != 0)
      continue; /* expired meanwhile */
    spot__event_encode(&e, recs + (size_t)n * SPOT__EVENT_BYTES);
    n++;
  }
  rep->events = recs;
  rep->count = n;
  return 0;
}

static int execute(spot_server_t *s, const spot__msg_t *req, const char *client, spot__msg_t *rep) {
  char ns[SPOT_NAME_MAX + 1] = "", log[SPOT_NAME_MAX + 1] = "", handler[SPOT_NAME_MAX + 1] = "";
  spot__wire_copy(req->ns, ns, sizeof ns);
  spot__wire_copy(req->log, log, sizeof log);
  spot__wire_copy(req->handler, handler, sizeof handler);
  if (strcmp(ns, s->ns_name) != 0)
    return spot__fail(SPOT_ENONS, "this node serves namespace %s, not %s", s->ns_name, ns);
  int rc = spot__access_refresh(&s->access, s->access_path);
  if (rc == 0 || rc == SPOT_ENOTFOUND)
    rc = spot__access_check(&s->access, client, right_of(req->type));
  if (rc != 0) {
    record_refusal(s, req, client);
    fprintf(stderr, "spotd: refused %s from key %s: %s\n", spot__wire_type_name(req->type), client,
            spot_errdetail());
    return rc;
  }
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
  case SPOT__WIRE_DEPLOY: {
    char object[SPOT__WIRE_OBJECT_MAX + 1], names[64][64];
    int n = 0;
    if ((rc = spot__wire_copy(req->object, object, sizeof object)) != 0)
      return rc;
    rc = spot__ns_install_object(s->ns, object, req->data, req->data_len, names, 64, &n);
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
  int rc = spot__wire_decode(buf, len, &req);
  if (rc != 0) {
    spot__wire_hdr_t h;
    if (spot__wire_peek(buf, len, &h) != 0 || h.type < SPOT__WIRE_CREATE || h.type > SPOT__WIRE_DEPLOY)
      return; /* not even a header: nothing to answer to */
    rep.type = h.type;
    rep.id = h.id;
  } else if (req.flags & SPOT__WIRE_REPLY) {
    return; /* a reply sent to a server: ignore */
  } else {
    rep.type = req.type;
    rep.id = req.id;
    rc = execute(s, &req, client ? client : "", &rep);
  }
  if (rc != 0) {
    spot__msg_t err;
    memset(&err, 0, sizeof err);
    err.type = rep.type;
    err.flags = SPOT__WIRE_REPLY;
    err.id = rep.id;
    err.status = rc;
    spot__wire_set_detail(&err, spot_errdetail()[0] ? spot_errdetail() : spot_strerror(rc));
    rep = err;
  }
  size_t out_len;
  if (spot__wire_encode(&rep, s->out, SPOT__WIRE_MAX, &out_len) != 0)
    return;
  zmq_msg_send(peer, s->router, ZMQ_SNDMORE);
  zmq_send(s->router, s->out, out_len, 0);
}

static void *server_main(void *arg) {
  spot_server_t *s = arg;
  while (!atomic_load(&s->stop)) {
    zmq_pollitem_t item = {s->router, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, 100) <= 0)
      continue;
    zmq_msg_t peer, frame;
    zmq_msg_init(&peer);
    zmq_msg_init(&frame);
    int more = 0;
    size_t sz = sizeof more;
    if (zmq_msg_recv(&peer, s->router, 0) >= 0 && zmq_getsockopt(s->router, ZMQ_RCVMORE, &more, &sz) == 0 && more &&
        zmq_msg_recv(&frame, s->router, 0) >= 0) {
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
  }
  return NULL;
}

int spot_server_start(const char *dir, const char *listen, const char *key_file, spot_server_t **out) {
  spot_server_t *s = calloc(1, sizeof *s);
  if (s == NULL)
    return SPOT_ENOMEM;
  spot__access_init(&s->access);
  int rc = spot__keys_load(key_file, &s->key);
  if (rc == 0)
    rc = spot_ns_open(dir, NULL, &s->ns);
  if (rc == 0)
    rc = spot__net_ns_name(dir, s->ns_name, sizeof s->ns_name);
  if (rc == 0 && (s->out = malloc(SPOT__WIRE_MAX)) == NULL)
    rc = SPOT_ENOMEM;
  if (rc == 0 && (s->elem = malloc(SPOT__WIRE_MAX_DATA)) == NULL)
    rc = SPOT_ENOMEM;
  snprintf(s->access_path, sizeof s->access_path, "%s/access", dir);
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
    s->router = zmq_socket(s->ctx, ZMQ_ROUTER);
    zmq_setsockopt(s->router, ZMQ_LINGER, &linger, sizeof linger);
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

void spot_server_stop(spot_server_t *s) {
  if (s == NULL)
    return;
  atomic_store(&s->stop, 1);
  if (s->threads >= 1)
    spot__thread_join(&s->zap_thread);
  if (s->threads >= 2)
    spot__thread_join(&s->thread);
  if (s->router)
    zmq_close(s->router);
  if (s->zap)
    zmq_close(s->zap);
  if (s->ctx)
    zmq_ctx_term(s->ctx);
  spot__access_free(&s->access);
  spot__keys_wipe(&s->key);
  spot_ns_close(s->ns);
  free(s->out);
  free(s->elem);
  free(s);
}
