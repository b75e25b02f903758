/*
 * client.c: reaching logs on other nodes: spot://host:port/namespace/log (woof:// is an alias).
 *
 * A spot_remote_t holds the client's CURVE key pair and one DEALER socket per node it talked to (a connection
 * cache). Each call is one request and one reply, matched by request id, with a time limit: a node that is down or
 * slow gives SPOT_ETIMEDOUT and a message naming it, never a hang; the socket is then dropped so a late reply cannot
 * be taken for the next one. The node's public key comes from the caller (a .pub file or the key itself),
 * $SPOT_NODE_KEY, or the known_nodes file ($SPOT_KNOWN_NODES, else ~/.spot/known_nodes); the client's own key from
 * the caller, $SPOT_KEY, or else a fresh key made for this client (enough for nodes whose access file says `any`).
 * A node refuses a key its access file does not know at the handshake; each connection's monitor reports that,
 * and the call fails at once with SPOT_EPERM and the client's key, instead of waiting for its time limit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "core/error.h"
#include "core/event.h"
#include "core/name.h"
#include "net/statuscodec.h"
#include "core/wire.h"
#include "net/keys.h"
#include "net/net_impl.h"
#include "platform/platform.h"
#include "spot/net.h"

#define MAX_CONNS 16

typedef struct conn {
  char hostport[128];
  void *sock;
  void *mon; /* PAIR socket receiving sock's handshake refusals (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) */
} conn_t;

struct spot_remote {
  void *ctx;
  spot__keypair_t me;
  char node_key_arg[4096]; /* as given (file or key), "" if none */
  spot__known_nodes_t known;
  int have_known;
  uint32_t timeout_ms;
  conn_t conns[MAX_CONNS];
  uint64_t next_id;
  unsigned next_mon; /* numbers the monitors' inproc endpoints */
  spot__mutex_t mu;
  uint8_t *buf; /* request encoding, SPOT__WIRE_MAX */
};

int spot_url_parse(const char *url, spot_url_t *out) {
  const char *p = NULL;
  if (strncmp(url, "spot://", 7) == 0)
    p = url + 7;
  else if (strncmp(url, "woof://", 7) == 0)
    p = url + 7;
  if (p == NULL)
    return spot__fail(SPOT_EINVAL, "'%s' is not a remote name (spot://host:port/namespace/log)", url);
  spot_url_t u;
  memset(&u, 0, sizeof u);
  const char *slash = strchr(p[0] == '[' ? strchr(p, ']') ? strchr(p, ']') : p : p, '/');
  if (slash == NULL || (size_t)(slash - p) >= sizeof u.hostport || slash == p)
    return spot__fail(SPOT_EINVAL, "'%s' has no host:port (spot://host:port/namespace/log)", url);
  memcpy(u.hostport, p, (size_t)(slash - p));
  const char *colon = strrchr(u.hostport, ':');
  if (colon == NULL || colon[1] == '\0' || strspn(colon + 1, "0123456789") != strlen(colon + 1))
    return spot__fail(SPOT_EINVAL, "'%s' has no port (spot://host:port/namespace/log)", url);
  const char *ns = slash + 1, *log = strchr(ns, '/');
  size_t nslen = log ? (size_t)(log - ns) : strlen(ns);
  if (nslen == 0 || nslen > SPOT_NAME_MAX)
    return spot__fail(SPOT_EBADNAME, "'%s' has no valid namespace name", url);
  memcpy(u.ns, ns, nslen);
  if (log && log[1])
    snprintf(u.log, sizeof u.log, "%s", log + 1);
  int rc = spot__name_check(u.ns, "namespace");
  if (rc == 0 && u.log[0])
    rc = spot__name_check(u.log, "log");
  if (rc != 0)
    return rc;
  *out = u;
  return 0;
}

int spot_remote_new(const char *key_file, const char *node_key, uint32_t timeout_ms, spot_remote_t **out) {
  spot_remote_t *r = calloc(1, sizeof *r);
  if (r == NULL || (r->buf = malloc(SPOT__WIRE_MAX)) == NULL) {
    free(r);
    return SPOT_ENOMEM;
  }
  spot__mutex_init(&r->mu);
  r->timeout_ms = timeout_ms ? timeout_ms : 5000;
  if (key_file == NULL || key_file[0] == '\0')
    key_file = getenv("SPOT_KEY");
  int rc = key_file && key_file[0] ? spot__keys_load(key_file, &r->me) : spot__keys_generate(&r->me);
  if (node_key == NULL || node_key[0] == '\0')
    node_key = getenv("SPOT_NODE_KEY");
  if (rc == 0 && node_key && node_key[0])
    snprintf(r->node_key_arg, sizeof r->node_key_arg, "%s", node_key);
  if (rc == 0) {
    char path[4096];
    const char *known = getenv("SPOT_KNOWN_NODES"), *home = getenv("HOME");
    if ((known == NULL || known[0] == '\0') && home) {
      snprintf(path, sizeof path, "%s/.spot/known_nodes", home);
      known = spot__exists(path) ? path : NULL;
    }
    if (known && known[0]) {
      rc = spot__keys_known_load(known, &r->known);
      r->have_known = rc == 0;
    }
  }
  if (rc == 0)
    r->ctx = zmq_ctx_new();
  if (rc != 0) {
    spot_remote_free(r);
    return rc;
  }
  r->next_id = 1;
  *out = r;
  return 0;
}

static void conn_close(conn_t *c) {
  zmq_socket_monitor(c->sock, NULL, 0);
  if (c->mon)
    zmq_close(c->mon);
  zmq_close(c->sock);
  c->sock = c->mon = NULL;
}

void spot_remote_free(spot_remote_t *r) {
  if (r == NULL)
    return;
  for (int i = 0; i < MAX_CONNS; i++)
    if (r->conns[i].sock)
      conn_close(&r->conns[i]);
  if (r->ctx)
    zmq_ctx_term(r->ctx);
  if (r->have_known)
    spot__keys_known_free(&r->known);
  spot__keys_wipe(&r->me);
  spot__mutex_destroy(&r->mu);
  free(r->buf);
  free(r);
}

/* The cached socket to hostport, connected on first use. Caller holds r->mu. */
static int conn_for(spot_remote_t *r, const char *hostport, void **out) {
  int free_slot = -1;
  for (int i = 0; i < MAX_CONNS; i++) {
    if (r->conns[i].sock && strcmp(r->conns[i].hostport, hostport) == 0) {
      *out = r->conns[i].sock;
      return 0;
    }
    if (!r->conns[i].sock && free_slot < 0)
      free_slot = i;
  }
  if (free_slot < 0) { /* full: drop the first */
    conn_close(&r->conns[0]);
    free_slot = 0;
  }
  spot__pubkey_t node;
  int rc;
  if (r->node_key_arg[0])
    rc = spot__keys_public_arg(r->node_key_arg, "node key", &node);
  else if (r->have_known)
    rc = spot__keys_known_find(&r->known, hostport, &node);
  else
    rc = spot__fail(SPOT_EINVAL,
                    "no public key for node %s: give --node-key FILE (its .pub), set SPOT_NODE_KEY, or list it in "
                    "~/.spot/known_nodes",
                    hostport);
  if (rc != 0)
    return rc;
  char endpoint[160];
  snprintf(endpoint, sizeof endpoint, "tcp://%s", hostport);
  conn_t c = {.sock = zmq_socket(r->ctx, ZMQ_DEALER)};
  int linger = 0;
  char mon[96];
  snprintf(mon, sizeof mon, "inproc://spot-handshake-%p-%u", (void *)r, r->next_mon++);
  if (c.sock == NULL)
    return spot__fail(SPOT_ENOMEM, "cannot make a socket for %s: %s", hostport, zmq_strerror(zmq_errno()));
  int64_t max_frame = SPOT__NET_FRAME_MAX; /* the largest legal reply (a 64 MiB get) fits, as for requests */
  zmq_setsockopt(c.sock, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(c.sock, ZMQ_MAXMSGSIZE, &max_frame, sizeof max_frame);
  zmq_setsockopt(c.sock, ZMQ_CURVE_SERVERKEY, node.z85, SPOT__KEY_Z85_LEN);
  zmq_setsockopt(c.sock, ZMQ_CURVE_PUBLICKEY, r->me.pub.z85, SPOT__KEY_Z85_LEN);
  zmq_setsockopt(c.sock, ZMQ_CURVE_SECRETKEY, r->me.secret_z85, SPOT__KEY_Z85_LEN);
  /* the monitor first, so that a refusal of the very first handshake is seen */
  if (zmq_socket_monitor(c.sock, mon, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) == 0 &&
      (c.mon = zmq_socket(r->ctx, ZMQ_PAIR)) != NULL) {
    zmq_setsockopt(c.mon, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(c.mon, mon) != 0) {
      zmq_close(c.mon);
      c.mon = NULL;
    }
  }
  if (zmq_connect(c.sock, endpoint) != 0) {
    int e = zmq_errno();
    conn_close(&c);
    return spot__fail(SPOT_EINVAL, "cannot connect to %s: %s", hostport, zmq_strerror(e));
  }
  snprintf(c.hostport, sizeof c.hostport, "%s", hostport);
  r->conns[free_slot] = c;
  *out = c.sock;
  return 0;
}

static conn_t *conn_of(spot_remote_t *r, void *sock) {
  for (int i = 0; i < MAX_CONNS; i++)
    if (r->conns[i].sock == sock)
      return &r->conns[i];
  return NULL;
}

static void conn_drop(spot_remote_t *r, void *sock) {
  conn_t *c = conn_of(r, sock);
  if (c != NULL)
    conn_close(c);
}

/* Waits at most until deadline (spot__now_ns) for a frame on sock. 1 when one is there; 0 at the deadline; or
 * SPOT_EPERM when the node refused this client's key at the handshake (the connection is then dropped). */
static int wait_readable(spot_remote_t *r, void *sock, const char *hostport, uint64_t deadline) {
  conn_t *c = conn_of(r, sock);
  zmq_pollitem_t items[2] = {{sock, 0, ZMQ_POLLIN, 0}, {c ? c->mon : NULL, 0, ZMQ_POLLIN, 0}};
  int n = c && c->mon ? 2 : 1;
  for (;;) {
    uint64_t now = spot__now_ns();
    if (now >= deadline)
      return 0;
    if (zmq_poll(items, n, (long)((deadline - now) / 1000000u) + 1) <= 0)
      continue; /* interrupted, or the time is up: checked above */
    if (items[0].revents & ZMQ_POLLIN)
      return 1;
    if (n == 2 && (items[1].revents & ZMQ_POLLIN)) {
      uint8_t ev[6] = {0};
      int more = 1;
      size_t sz = sizeof more;
      int got = zmq_recv(c->mon, ev, sizeof ev, 0);
      while (zmq_getsockopt(c->mon, ZMQ_RCVMORE, &more, &sz) == 0 && more) { /* the endpoint frame */
        char skip[256];
        zmq_recv(c->mon, skip, sizeof skip, 0);
      }
      if (got >= 2 && (ev[0] | ev[1] << 8) == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
        int rc = spot__fail(SPOT_EPERM,
                            "node %s refused this client's key %s at the handshake: the node's access file does not "
                            "list it (or cannot be read now); ask the node's operator to add it with the rights you "
                            "need",
                            hostport, r->me.pub.z85);
        conn_close(c);
        return rc;
      }
    }
  }
}

/* Sends req to hostport and waits for its reply, decoded into *rep whose pointers point into *frame (the caller
 * closes it). Caller holds r->mu. */
static int roundtrip(spot_remote_t *r, const char *hostport, spot__msg_t *req, spot__msg_t *rep, zmq_msg_t *frame) {
  void *sock = NULL;
  int rc = conn_for(r, hostport, &sock);
  if (rc != 0)
    return rc;
  req->id = r->next_id++;
  size_t len;
  if ((rc = spot__wire_encode(req, r->buf, SPOT__WIRE_MAX, &len)) != 0)
    return rc;
  if (zmq_send(sock, r->buf, len, ZMQ_DONTWAIT) < 0) {
    conn_drop(r, sock);
    return spot__fail(SPOT_ETIMEDOUT, "node %s is not reachable (is spotd running there with --listen?)", hostport);
  }
  uint64_t deadline = spot__now_ns() + (uint64_t)r->timeout_ms * 1000000u;
  for (;;) {
    int ready = wait_readable(r, sock, hostport, deadline);
    if (ready < 0)
      return ready;
    if (ready == 0) {
      conn_drop(r, sock);
      return spot__fail(SPOT_ETIMEDOUT,
                        "node %s did not answer within %u ms (is spotd running there with --listen, and is its "
                        "public key the right one?)",
                        hostport, r->timeout_ms);
    }
    zmq_msg_close(frame);
    zmq_msg_init(frame);
    if (zmq_msg_recv(frame, sock, 0) < 0)
      continue;
    if (spot__wire_decode(zmq_msg_data(frame), zmq_msg_size(frame), rep) != 0)
      continue; /* garbage from the node: wait for the real reply until the time limit */
    if (!(rep->flags & SPOT__WIRE_REPLY) || rep->id != req->id)
      continue; /* a late reply to an earlier request */
    if (rep->status != 0) {
      char detail[SPOT__WIRE_DETAIL_MAX + 1] = "";
      spot__wire_copy(rep->detail, detail, sizeof detail);
      return spot__fail(rep->status, "node %s: %s", hostport, detail[0] ? detail : spot_strerror(rep->status));
    }
    return 0;
  }
}

/* Fills the request's namespace and log from url; *u gets the parsed name. */
static int prepare(const char *url, spot_url_t *u, spot__msg_t *req, int type, int need_log) {
  int rc = spot_url_parse(url, u);
  if (rc != 0)
    return rc;
  if (need_log && u->log[0] == '\0')
    return spot__fail(SPOT_EINVAL, "'%s' names no log (spot://host:port/namespace/log)", url);
  memset(req, 0, sizeof *req);
  req->type = (uint8_t)type;
  req->ns = spot__wire_cstr(u->ns);
  req->log = spot__wire_cstr(u->log);
  return 0;
}

#define CALL(r, u, req, rep, body)                                    \
  do {                                                                \
    zmq_msg_t frame_;                                                 \
    zmq_msg_init(&frame_);                                            \
    spot__mutex_lock(&(r)->mu);                                       \
    int rc_ = roundtrip((r), (u).hostport, &(req), &(rep), &frame_); \
    if (rc_ == 0) {                                                   \
      body;                                                           \
    }                                                                 \
    spot__mutex_unlock(&(r)->mu);                                     \
    zmq_msg_close(&frame_);                                           \
    return rc_;                                                       \
  } while (0)

/* A put request: url's node, namespace and log; data; the handler to run (NULL: none); the cause (NULL: none). */
static int prepare_put(const char *url, spot_url_t *u, spot__msg_t *req, const void *data, size_t len,
                       const char *handler, const spot_cause_t *cause) {
  int rc = prepare(url, u, req, SPOT__WIRE_PUT, 1);
  if (rc != 0)
    return rc;
  if (len > SPOT__WIRE_MAX_DATA)
    return spot__fail(SPOT_ETOOBIG, "element of %zu bytes is too long to send", len);
  req->handler = spot__wire_cstr(handler);
  req->data = data;
  req->data_len = (uint32_t)len;
  if (cause) {
    req->cause_node = cause->node;
    req->cause_event = cause->event;
  }
  return 0;
}

int spot_remote_put(spot_remote_t *r, const char *url, const void *data, size_t len, const char *handler,
                    const spot_cause_t *cause, uint64_t *seq) {
  spot_url_t u;
  spot__msg_t req, rep;
  int rc = prepare_put(url, &u, &req, data, len, handler, cause);
  if (rc != 0)
    return rc;
  CALL(r, u, req, rep, if (seq) *seq = rep.seq);
}

int spot_remote_put_async(spot_remote_t *r, const char *url, const void *data, size_t len, const char *handler,
                          const spot_cause_t *cause, uint64_t *ticket) {
  spot_url_t u;
  spot__msg_t req;
  int rc = prepare_put(url, &u, &req, data, len, handler, cause);
  if (rc != 0)
    return rc;
  spot__mutex_lock(&r->mu);
  void *sock = NULL;
  size_t n;
  if ((rc = conn_for(r, u.hostport, &sock)) == 0) {
    req.id = r->next_id++;
    rc = spot__wire_encode(&req, r->buf, SPOT__WIRE_MAX, &n);
  }
  if (rc == 0 && zmq_send(sock, r->buf, n, 0) < 0)
    rc = spot__fail(SPOT_EIO, "cannot send to %s: %s", u.hostport, zmq_strerror(zmq_errno()));
  if (rc == 0)
    *ticket = req.id;
  spot__mutex_unlock(&r->mu);
  return rc;
}

int spot_remote_put_result(spot_remote_t *r, const char *url, uint64_t *ticket, uint64_t *seq) {
  spot_url_t u;
  int rc = spot_url_parse(url, &u);
  if (rc != 0)
    return rc;
  spot__mutex_lock(&r->mu);
  void *sock = NULL;
  if ((rc = conn_for(r, u.hostport, &sock)) != 0) {
    spot__mutex_unlock(&r->mu);
    return rc;
  }
  zmq_msg_t frame;
  zmq_msg_init(&frame);
  spot__msg_t rep;
  rc = SPOT_ETIMEDOUT;
  uint64_t deadline = spot__now_ns() + (uint64_t)r->timeout_ms * 1000000u;
  while (rc == SPOT_ETIMEDOUT && spot__now_ns() < deadline) {
    int ready = wait_readable(r, sock, u.hostport, deadline);
    if (ready < 0) {
      rc = ready;
      sock = NULL; /* dropped */
      break;
    }
    if (ready == 0)
      continue;
    if (zmq_msg_recv(&frame, sock, 0) < 0 ||
        spot__wire_decode(zmq_msg_data(&frame), zmq_msg_size(&frame), &rep) != 0 || !(rep.flags & SPOT__WIRE_REPLY))
      continue;
    *ticket = rep.id;
    if (rep.status != 0) {
      char detail[SPOT__WIRE_DETAIL_MAX + 1] = "";
      spot__wire_copy(rep.detail, detail, sizeof detail);
      rc = spot__fail(rep.status, "node %s: %s", u.hostport, detail[0] ? detail : spot_strerror(rep.status));
    } else {
      *seq = rep.seq;
      rc = 0;
    }
  }
  if (rc == SPOT_ETIMEDOUT) {
    conn_drop(r, sock); /* the requests in flight are lost to this client: say so, and start afresh */
    rc = spot__fail(SPOT_ETIMEDOUT, "node %s did not answer within %u ms", u.hostport, r->timeout_ms);
  }
  zmq_msg_close(&frame);
  spot__mutex_unlock(&r->mu);
  return rc;
}

int spot_remote_get(spot_remote_t *r, const char *url, uint64_t seq, void *buf, size_t cap, size_t *size) {
  spot_url_t u;
  spot__msg_t req, rep;
  int rc = prepare(url, &u, &req, SPOT__WIRE_GET, 1);
  if (rc != 0)
    return rc;
  req.seq = seq;
  CALL(r, u, req, rep, {
    if (rep.data_len > cap)
      rc_ = spot__fail(SPOT_EINVAL, "element of %u bytes does not fit a buffer of %zu", rep.data_len, cap);
    else {
      if (rep.data_len > 0)
        memcpy(buf, rep.data, rep.data_len);
      if (size)
        *size = rep.data_len;
    }
  });
}

int spot_remote_latest(spot_remote_t *r, const char *url, uint64_t *seq) {
  spot_url_t u;
  spot__msg_t req, rep;
  int rc = prepare(url, &u, &req, SPOT__WIRE_LATEST, 1);
  if (rc != 0)
    return rc;
  CALL(r, u, req, rep, *seq = rep.seq);
}

int spot_remote_info(spot_remote_t *r, const char *url, spot_log_info_t *out) {
  spot_url_t u;
  spot__msg_t req, rep;
  int rc = prepare(url, &u, &req, SPOT__WIRE_INFO, 1);
  if (rc != 0)
    return rc;
  CALL(r, u, req, rep, {
    memset(out, 0, sizeof *out);
    out->elem_size = rep.elem_size;
    out->history = rep.history;
    out->sync = (spot_sync_t)rep.sync;
    out->latest = rep.latest;
    out->earliest = rep.earliest;
    out->durable = rep.durable;
  });
}

int spot_remote_create(spot_remote_t *r, const char *url, const spot_log_config_t *cfg) {
  spot_url_t u;
  spot__msg_t req, rep;
  int rc = prepare(url, &u, &req, SPOT__WIRE_CREATE, 1);
  if (rc != 0)
    return rc;
  req.elem_size = cfg->elem_size;
  req.history = cfg->history;
  req.sync = (uint8_t)cfg->sync;
  CALL(r, u, req, rep, (void)rep);
}

int spot_remote_deploy(spot_remote_t *r, const char *url, const char *object, const void *bytes, size_t len) {
  spot_url_t u;
  spot__msg_t req, rep;
  int rc = prepare(url, &u, &req, SPOT__WIRE_DEPLOY, 0);
  if (rc != 0)
    return rc;
  if (len > SPOT__WIRE_MAX_DATA)
    return spot__fail(SPOT_ETOOBIG, "handler object of %zu bytes is too large to send", len);
  req.log = spot__wire_cstr(NULL);
  req.object = spot__wire_cstr(object);
  req.data = bytes;
  req.data_len = (uint32_t)len;
  CALL(r, u, req, rep, (void)rep);
}

int spot_remote_events(spot_remote_t *r, const char *url, uint64_t from, uint32_t max, uint8_t *records,
                       uint32_t *count) {
  spot_url_t u;
  spot__msg_t req, rep;
  int rc = prepare(url, &u, &req, SPOT__WIRE_EVENTS, 0);
  if (rc != 0)
    return rc;
  req.log = spot__wire_cstr(NULL);
  req.from = from;
  req.max = max;
  CALL(r, u, req, rep, {
    uint32_t n = rep.count < max ? rep.count : max;
    if (n > 0)
      memcpy(records, rep.events, (size_t)n * SPOT__EVENT_BYTES);
    *count = n;
  });
}

int spot_remote_list(spot_remote_t *r, const char *url, int handlers, char **text, size_t *len) {
  spot_url_t u;
  spot__msg_t req, rep;
  int rc = prepare(url, &u, &req, handlers ? SPOT__WIRE_HANDLERS : SPOT__WIRE_LIST, 0);
  if (rc != 0)
    return rc;
  req.log = spot__wire_cstr(NULL);
  CALL(r, u, req, rep, {
    char *t = malloc((size_t)rep.data_len + 1);
    if (t == NULL) {
      rc_ = SPOT_ENOMEM;
    } else {
      if (rep.data_len)
        memcpy(t, rep.data, rep.data_len);
      t[rep.data_len] = '\0';
      *text = t;
      *len = rep.data_len;
    }
  });
}

int spot_remote_bind(spot_remote_t *r, const char *url, const char *handler, int bind) {
  spot_url_t u;
  spot__msg_t req, rep;
  int rc = prepare(url, &u, &req, bind ? SPOT__WIRE_BIND : SPOT__WIRE_UNBIND, 1);
  if (rc != 0)
    return rc;
  if (bind && (handler == NULL || handler[0] == '\0'))
    return spot__fail(SPOT_EINVAL, "bind needs a handler name");
  req.handler = spot__wire_cstr(handler);
  CALL(r, u, req, rep, (void)rep);
}

int spot_remote_status(spot_remote_t *r, const char *url, spot_status_t *out) {
  spot_url_t u;
  spot__msg_t req, rep;
  int rc = prepare(url, &u, &req, SPOT__WIRE_STATUS, 0);
  if (rc != 0)
    return rc;
  req.log = spot__wire_cstr(NULL);
  CALL(r, u, req, rep, rc_ = spot__statusc_decode(rep.data, rep.data_len, out)); /* decoded while the frame lives */
}

int spot_remote_check(spot_remote_t *r, const char *url, int fix, spot_check_result_t *out) {
  spot_url_t u;
  spot__msg_t req, rep;
  int rc = prepare(url, &u, &req, SPOT__WIRE_CHECK, 1);
  if (rc != 0)
    return rc;
  req.fix = fix ? 1 : 0;
  CALL(r, u, req, rep, rc_ = spot__net_check_decode(rep.data, rep.data_len, out));
}

int spot_remote_rm(spot_remote_t *r, const char *url) {
  spot_url_t u;
  spot__msg_t req, rep;
  int rc = prepare(url, &u, &req, SPOT__WIRE_RM, 1);
  if (rc != 0)
    return rc;
  CALL(r, u, req, rep, (void)rep);
}

const char *spot_remote_public_key(const spot_remote_t *r) { return r->me.pub.z85; }

int spot__net_ns_name(const char *dir, char *out, size_t cap) {
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/')
    n--;
  size_t start = n;
  while (start > 0 && dir[start - 1] != '/')
    start--;
  char name[SPOT_NAME_MAX + 2];
  size_t len = n - start;
  if (len == 0 || len > SPOT_NAME_MAX || len + 1 > cap)
    return spot__fail(SPOT_EBADNAME, "the namespace directory %s has no usable base name", dir);
  memcpy(name, dir + start, len);
  name[len] = '\0';
  int rc = spot__name_check(name, "namespace (the directory's base name)");
  if (rc == 0)
    memcpy(out, name, len + 1);
  return rc;
}

/* ---- the process's own client, for handlers' puts to other nodes ---- */

static spot_remote_t *shared_client;
static spot__mutex_t shared_mu;
static int shared_mu_state; /* 0 uninitialised, 1 initialising, 2 ready */

int spot__net_shared(spot_remote_t **out) {
  int expected = 0;
  if (__atomic_compare_exchange_n(&shared_mu_state, &expected, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    spot__mutex_init(&shared_mu);
    __atomic_store_n(&shared_mu_state, 2, __ATOMIC_RELEASE);
  }
  while (__atomic_load_n(&shared_mu_state, __ATOMIC_ACQUIRE) != 2) {
  }
  spot__mutex_lock(&shared_mu);
  int rc = 0;
  if (shared_client == NULL)
    rc = spot_remote_new(NULL, NULL, 0, &shared_client); /* the node's key from $SPOT_KEY (spotd sets it) */
  *out = shared_client;
  spot__mutex_unlock(&shared_mu);
  return rc;
}
