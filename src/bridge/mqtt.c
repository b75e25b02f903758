/*
 * mqtt.c: the MQTT bridge of spotd (libmosquitto, MQTT v5, QoS 1). Routes 'LOG<-TOPIC[:HANDLER]' turn each message
 * on TOPIC into a put to LOG (running HANDLER); routes 'LOG->TOPIC' publish every element of LOG to TOPIC. The spot
 * cause travels in user properties both ways (spot-node, spot-event; outbound also spot-log and spot-seq): a put
 * made from a message records the cause the message carried.
 *
 * Delivery (QoS 1, at least once; duplicates are possible, never loss of anything acknowledged):
 *  - Inbound. The bridge connects with a fixed client id, clean_start=false and a session expiry of 7 days, so the
 *    broker keeps its subscriptions and queues its QoS 1 messages while it is away. libmosquitto 2.0 has no manual
 *    acknowledgement, but in its threaded loop (mosquitto_loop_start) the PUBACK of a QoS 1 message is only queued
 *    before the message callback runs, and the loop thread writes it to the socket after the callback returns
 *    (lib/handle_publish.c, lib/packet_mosq.c). The callback makes the put and returns once it is as durable as
 *    the log promises, so the broker sees the PUBACK only after the durable put. A spotd killed before that gets
 *    the message again from the broker (a duplicate if the put had been made). The window left: a put that keeps
 *    failing for a passing reason (SPOT_EBUSY: handlers far behind) is retried in the callback until spotd stops;
 *    a message given up at shutdown this way is counted as failed and logged.
 *  - Outbound. One thread per route reads the log from its saved position, publishes QoS 1 (at most 256 in flight)
 *    and, as PUBACKs arrive (in order, per the protocol), saves the highest position acknowledged without a gap
 *    (position.c: fdatasync'd; every 20 ms at most while busy, so a sync does not stall the publishing). After a broker restart libmosquitto resends what was in flight; after spotd is
 *    killed the bridge resends from the saved position: what the broker acknowledged is never lost, and what was
 *    in flight may arrive twice. A PUBACK with a failure reason (not authorised, quota) is counted and logged, not
 *    retried. An element that expired from the ring before it was published is skipped, counted and logged.
 *  - Size. An inbound payload longer than the log's element is refused, counted and logged, never truncated. An
 *    outbound message is the whole element (elem_size bytes: a shorter put was zero-padded).
 */
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/bridge.h"
#include "core/error.h"
#include "platform/platform.h"

#define INFLIGHT 256u
#define SESSION_EXPIRY_S (7u * 24 * 3600)
#define SAVE_NS (20 * 1000 * 1000ull) /* the longest an acknowledged position waits for its sync while busy */

typedef struct outbound {
  struct spot_bridge_mqtt *b;
  spot_bridge_route_t route;
  spot_log_t *log;
  size_t elem;
  spot_bridge_pos_t *pos;
  spot_bridge_causes_t *causes;
  spot__thread_t thread;
  int started;
  /* under b->mu */
  uint64_t next;  /* next sequence number to publish */
  uint64_t acked; /* every sequence number <= acked is acknowledged (or skipped) */
  struct {
    uint64_t seq;
    int mid;
    int done;
  } fl[INFLIGHT];
} outbound_t;

typedef struct inbound {
  spot_bridge_route_t route;
  size_t elem;
} inbound_t;

struct spot_bridge_mqtt {
  struct mosquitto *mosq;
  spot_ns_t *ns;
  int quiet;
  volatile int stopping;
  spot__mutex_t mu;
  spot_bridge_mqtt_stats_t st; /* under mu */
  inbound_t *in;
  size_t nin;
  outbound_t **out;
  size_t nout;
  int loop_started;
};

/* One line on stderr, "spotd: mqtt: ..."; a line that is not an error is left out with --quiet. */
static void say(spot_bridge_mqtt_t *b, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(spot_bridge_mqtt_t *b, int error, const char *fmt, ...) {
  if (b->quiet && !error)
    return;
  char line[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  fprintf(stderr, "spotd: mqtt: %s\n", line);
}

/* ---- inbound ---- */

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
                       const mosquitto_property *props) {
  (void)mosq;
  spot_bridge_mqtt_t *b = obj;
  const inbound_t *r = NULL;
  for (size_t i = 0; i < b->nin && r == NULL; i++) {
    bool match = false;
    if (mosquitto_topic_matches_sub(b->in[i].route.topic, msg->topic, &match) == MOSQ_ERR_SUCCESS && match)
      r = &b->in[i];
  }
  spot__mutex_lock(&b->mu);
  b->st.received++;
  spot__mutex_unlock(&b->mu);
  if (r == NULL)
    return; /* a message of a subscription no route has any longer (the session kept it) */
  spot_cause_t cause = {0, 0};
  int have_cause = 0;
  char *node = NULL, *event = NULL, *name = NULL, *value = NULL;
  const mosquitto_property *p = mosquitto_property_read_string_pair(props, MQTT_PROP_USER_PROPERTY, &name, &value,
                                                                    false);
  while (p) {
    if (strcmp(name, SPOT_BRIDGE_PROP_NODE) == 0 && node == NULL)
      node = value, value = NULL;
    else if (strcmp(name, SPOT_BRIDGE_PROP_EVENT) == 0 && event == NULL)
      event = value, value = NULL;
    free(name);
    free(value);
    name = value = NULL;
    p = mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &name, &value, true);
  }
  if (node && event && spot_bridge_cause_parse(node, event, &cause) == 0)
    have_cause = 1;
  free(node);
  free(event);
  if ((size_t)msg->payloadlen > r->elem) {
    spot__mutex_lock(&b->mu);
    uint64_t n = ++b->st.refused;
    spot__mutex_unlock(&b->mu);
    if (n <= 10 || n % 1000 == 0)
      say(b, 1, "refused a message on %s: %d bytes, longer than the %zu-byte element of log %s (refused so far: "
          "%llu; never truncated)", msg->topic, msg->payloadlen, r->elem, r->route.log, (unsigned long long)n);
    return;
  }
  for (unsigned tries = 0;; tries++) {
    int rc = spot_put(b->ns, r->route.log, msg->payload, (size_t)msg->payloadlen,
                      r->route.handler[0] ? r->route.handler : NULL, have_cause ? &cause : NULL, NULL);
    if (rc == 0) {
      spot__mutex_lock(&b->mu);
      b->st.put++;
      spot__mutex_unlock(&b->mu);
      return;
    }
    int passing = rc == SPOT_EBUSY || rc == SPOT_ETIMEDOUT;
    if (rc == SPOT_ETOOBIG) {
      spot__mutex_lock(&b->mu);
      b->st.refused++;
      spot__mutex_unlock(&b->mu);
      say(b, 1, "refused a message on %s: %s", msg->topic, spot_errdetail());
      return;
    }
    if (!passing || b->stopping) {
      spot__mutex_lock(&b->mu);
      b->st.failed++;
      spot__mutex_unlock(&b->mu);
      say(b, 1, "could not put a message on %s: %s", msg->topic, spot_errdetail());
      return;
    }
    if (tries == 0)
      say(b, 1, "put of a message on %s waits: %s (retrying)", msg->topic, spot_errdetail());
    spot__sleep_ns(100 * 1000 * 1000ull);
  }
}

/* ---- outbound ---- */

/* Under b->mu: moves o->acked over every finished sequence number that has no gap before it. */
static void advance(outbound_t *o) {
  while (o->acked + 1 < o->next && o->fl[(o->acked + 1) % INFLIGHT].done &&
         o->fl[(o->acked + 1) % INFLIGHT].seq == o->acked + 1)
    o->acked++;
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid, int reason, const mosquitto_property *props) {
  (void)mosq;
  (void)props;
  spot_bridge_mqtt_t *b = obj;
  spot__mutex_lock(&b->mu);
  for (size_t i = 0; i < b->nout; i++) {
    outbound_t *o = b->out[i];
    for (uint64_t s = o->acked + 1; s < o->next; s++) {
      size_t k = s % INFLIGHT;
      if (o->fl[k].seq == s && o->fl[k].mid == mid && !o->fl[k].done) {
        o->fl[k].done = 1;
        if (reason >= 0x80) {
          b->st.rejected++;
          fprintf(stderr, "spotd: mqtt: the broker refused %s #%llu on %s: %s (not retried)\n", o->route.log,
                  (unsigned long long)s, o->route.topic, mosquitto_reason_string(reason));
        } else {
          b->st.acked++;
        }
        advance(o);
        spot__mutex_unlock(&b->mu);
        return;
      }
    }
  }
  spot__mutex_unlock(&b->mu);
}

static void *outbound_main(void *arg) {
  outbound_t *o = arg;
  spot_bridge_mqtt_t *b = o->b;
  uint8_t *buf = malloc(o->elem ? o->elem : 1);
  uint64_t saved = o->acked, skipped = 0, saved_at = 0;
  char seqtext[24], nodetext[24], eventtext[24];
  if (buf == NULL) {
    fprintf(stderr, "spotd: mqtt: out of memory for %s -> %s\n", o->route.log, o->route.topic);
    return NULL;
  }
  for (;;) {
    spot__mutex_lock(&b->mu);
    uint64_t acked = o->acked, window = o->next - o->acked - 1;
    spot__mutex_unlock(&b->mu);
    uint64_t latest = 0, now = spot__now_ns();
    spot_log_latest(o->log, &latest);
    int idle = o->next > latest || window >= INFLIGHT || b->stopping;
    /* Saved only after the broker's PUBACK; at most every SAVE_NS while busy (a sync costs milliseconds, and a
     * position that lags only means duplicates after a crash), at once when there is nothing to publish. */
    if (acked > saved && (idle || now - saved_at >= SAVE_NS)) {
      int rc = spot_bridge_pos_save(o->pos, acked);
      saved_at = now;
      if (rc == 0)
        saved = acked;
      else
        fprintf(stderr, "spotd: mqtt: cannot save the position of %s -> %s: %s\n", o->route.log, o->route.topic,
                spot_errdetail());
    }
    if (b->stopping)
      break;
    if (window >= INFLIGHT) {
      spot__sleep_ns(1000 * 1000);
      continue;
    }
    if (o->next > latest) {
      spot_log_wait_newer(o->log, o->next - 1, 50 * 1000 * 1000ull);
      continue;
    }
    uint64_t seq = o->next;
    int rc = spot_log_read(o->log, seq, buf, o->elem);
    if (rc == SPOT_EEXPIRED || rc == SPOT_ECORRUPT) {
      if (skipped++ < 10 || skipped % 1000 == 0)
        fprintf(stderr, "spotd: mqtt: %s #%llu was not published to %s: %s (skipped so far: %llu)\n",
                o->route.log, (unsigned long long)seq, o->route.topic, spot_errdetail(),
                (unsigned long long)skipped);
      spot__mutex_lock(&b->mu);
      o->fl[seq % INFLIGHT].seq = seq;
      o->fl[seq % INFLIGHT].done = 1;
      o->fl[seq % INFLIGHT].mid = 0;
      o->next++;
      advance(o);
      spot__mutex_unlock(&b->mu);
      continue;
    }
    if (rc != 0) {
      spot__sleep_ns(10 * 1000 * 1000);
      continue;
    }
    mosquitto_property *props = NULL;
    spot_cause_t cause;
    snprintf(seqtext, sizeof seqtext, "%llu", (unsigned long long)seq);
    mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, SPOT_BRIDGE_PROP_LOG, o->route.log);
    mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, SPOT_BRIDGE_PROP_SEQ, seqtext);
    if (spot_bridge_causes_find(o->causes, seq, 500 * 1000 * 1000ull, &cause) == 0) {
      snprintf(nodetext, sizeof nodetext, "%016llx", (unsigned long long)cause.node);
      snprintf(eventtext, sizeof eventtext, "%llu", (unsigned long long)cause.event);
      mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, SPOT_BRIDGE_PROP_NODE, nodetext);
      mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, SPOT_BRIDGE_PROP_EVENT, eventtext);
    }
    int mid = 0;
    spot__mutex_lock(&b->mu); /* before the PUBACK can be handled: on_publish takes mu too */
    rc = mosquitto_publish_v5(b->mosq, &mid, o->route.topic, (int)o->elem, buf, 1, false, props);
    if (rc == MOSQ_ERR_SUCCESS) {
      size_t k = seq % INFLIGHT;
      o->fl[k].seq = seq;
      o->fl[k].mid = mid;
      o->fl[k].done = 0;
      o->next++;
      b->st.published++;
    }
    spot__mutex_unlock(&b->mu);
    mosquitto_property_free_all(&props);
    if (rc != MOSQ_ERR_SUCCESS) {
      fprintf(stderr, "spotd: mqtt: cannot publish %s #%llu to %s: %s (retrying)\n", o->route.log,
              (unsigned long long)seq, o->route.topic, mosquitto_strerror(rc));
      spot__sleep_ns(200 * 1000 * 1000ull);
    }
  }
  free(buf);
  return NULL;
}

/* ---- connection ---- */

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props) {
  (void)flags;
  (void)props;
  spot_bridge_mqtt_t *b = obj;
  if (rc != 0) {
    fprintf(stderr, "spotd: mqtt: the broker refused the connection: %s\n", mosquitto_reason_string(rc));
    return;
  }
  for (size_t i = 0; i < b->nin; i++) {
    int src = mosquitto_subscribe_v5(mosq, NULL, b->in[i].route.topic, 1, MQTT_SUB_OPT_SEND_RETAIN_NEW, NULL);
    if (src != MOSQ_ERR_SUCCESS)
      fprintf(stderr, "spotd: mqtt: cannot subscribe to %s: %s\n", b->in[i].route.topic, mosquitto_strerror(src));
  }
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc, const mosquitto_property *props) {
  (void)mosq;
  (void)props;
  spot_bridge_mqtt_t *b = obj;
  if (!b->stopping)
    say(b, 0, "lost the broker (%s); reconnecting", mosquitto_strerror(rc));
}

static int split_hostport(const char *hp, char *host, size_t cap, int *port) {
  const char *colon = strrchr(hp ? hp : "", ':');
  if (colon == NULL || colon == hp || colon[1] == '\0')
    return spot__fail(SPOT_EINVAL, "--mqtt wants HOST:PORT, not '%s'", hp ? hp : "");
  char *end;
  long p = strtol(colon + 1, &end, 10);
  if (*end != '\0' || p < 1 || p > 65535)
    return spot__fail(SPOT_EINVAL, "--mqtt %s: the port must be 1 to 65535", hp);
  const char *h = hp;
  size_t n = (size_t)(colon - hp);
  if (h[0] == '[' && n >= 2 && h[n - 1] == ']')
    h++, n -= 2;
  if (n >= cap)
    return spot__fail(SPOT_EINVAL, "--mqtt %s: the host name is too long", hp);
  memcpy(host, h, n);
  host[n] = '\0';
  *port = (int)p;
  return 0;
}

static int read_password(const char *file, char **out) {
  char *text = NULL;
  size_t len = 0;
  int rc = spot__read_regular(file, 4096, &text, &len, NULL);
  if (rc != 0)
    return spot__fail(rc, "cannot read the MQTT password file %s: %s", file, spot_strerror(rc));
  text[strcspn(text, "\r\n")] = '\0';
  *out = text;
  return 0;
}

static int mosq_fail(int mrc, const char *what) {
  return spot__fail(mrc == MOSQ_ERR_NOMEM ? SPOT_ENOMEM : SPOT_EINVAL, "%s: %s", what, mosquitto_strerror(mrc));
}

int spot_bridge_mqtt_start(const char *dir, const spot_bridge_mqtt_opts_t *opts, spot_bridge_mqtt_t **out) {
  char host[256], client_id[64];
  int port = 0, rc, mrc;
  char *password = NULL;
  mosquitto_property *cprops = NULL;
  if ((rc = split_hostport(opts->hostport, host, sizeof host, &port)) != 0)
    return rc;
  spot_bridge_mqtt_t *b = calloc(1, sizeof *b);
  if (b == NULL)
    return spot__fail(SPOT_ENOMEM, "out of memory starting the MQTT bridge");
  spot__mutex_init(&b->mu);
  b->quiet = opts->quiet;
  mosquitto_lib_init();
  if ((rc = spot_ns_open(dir, NULL, &b->ns)) != 0)
    goto fail;
  b->in = calloc(opts->nroutes ? opts->nroutes : 1, sizeof *b->in);
  b->out = calloc(opts->nroutes ? opts->nroutes : 1, sizeof *b->out);
  if (b->in == NULL || b->out == NULL) {
    rc = spot__fail(SPOT_ENOMEM, "out of memory starting the MQTT bridge");
    goto fail;
  }
  for (size_t i = 0; i < opts->nroutes; i++) { /* open every log first: a missing one stops the start */
    const spot_bridge_route_t *r = &opts->routes[i];
    spot_log_t *log;
    spot_log_info_t info;
    if ((rc = spot_ns_open_log(b->ns, r->log, 0, &log, NULL)) != 0)
      goto fail;
    spot_log_info(log, &info);
    if (r->way == SPOT_BRIDGE_IN) {
      b->in[b->nin].route = *r;
      b->in[b->nin++].elem = info.elem_size;
      spot_log_close(log);
      continue;
    }
    outbound_t *o = calloc(1, sizeof *o);
    if (o == NULL || (o->causes = malloc(sizeof *o->causes)) == NULL) {
      free(o);
      spot_log_close(log);
      rc = spot__fail(SPOT_ENOMEM, "out of memory starting the MQTT bridge");
      goto fail;
    }
    b->out[b->nout++] = o;
    o->b = b;
    o->route = *r;
    o->log = log;
    o->elem = info.elem_size;
    uint64_t pos = 0;
    if ((rc = spot_bridge_pos_open(dir, "mqtt", r->log, r->topic, &o->pos, &pos)) != 0)
      goto fail;
    o->acked = pos;
    o->next = pos + 1;
    if (info.earliest > o->next) {
      fprintf(stderr, "spotd: mqtt: %s #%llu..#%llu expired before they were published to %s; starting at #%llu\n",
              r->log, (unsigned long long)o->next, (unsigned long long)info.earliest - 1, r->topic,
              (unsigned long long)info.earliest);
      o->acked = info.earliest - 1;
      o->next = info.earliest;
    }
    spot_bridge_causes_init(o->causes, b->ns, r->log);
  }
  if (opts->client_id)
    snprintf(client_id, sizeof client_id, "%s", opts->client_id);
  else
    snprintf(client_id, sizeof client_id, "spot-%016llx", (unsigned long long)spot_ns_node_id(b->ns));
  b->mosq = mosquitto_new(client_id, false, b); /* clean_start=false: the broker keeps our session */
  if (b->mosq == NULL) {
    rc = spot__fail(SPOT_ENOMEM, "cannot make an MQTT client (out of memory, or a bad client id '%s')", client_id);
    goto fail;
  }
  mosquitto_int_option(b->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  mosquitto_int_option(b->mosq, MOSQ_OPT_SEND_MAXIMUM, (int)INFLIGHT);
  mosquitto_connect_v5_callback_set(b->mosq, on_connect);
  mosquitto_disconnect_v5_callback_set(b->mosq, on_disconnect);
  mosquitto_publish_v5_callback_set(b->mosq, on_publish);
  mosquitto_message_v5_callback_set(b->mosq, on_message);
  mosquitto_reconnect_delay_set(b->mosq, 1, 4, false);
  if (opts->user || opts->password_file) {
    if (opts->password_file && (rc = read_password(opts->password_file, &password)) != 0)
      goto fail;
    if ((mrc = mosquitto_username_pw_set(b->mosq, opts->user, password)) != MOSQ_ERR_SUCCESS) {
      rc = mosq_fail(mrc, "bad MQTT user or password");
      goto fail;
    }
  }
  if (opts->cafile || opts->cert || opts->key) {
    if (opts->cafile == NULL || (opts->cert == NULL) != (opts->key == NULL)) {
      rc = spot__fail(SPOT_EINVAL, "MQTT over TLS needs --mqtt-cafile (to check the broker), and --mqtt-cert with "
                                   "--mqtt-key together for a client certificate");
      goto fail;
    }
    if ((mrc = mosquitto_tls_set(b->mosq, opts->cafile, NULL, opts->cert, opts->key, NULL)) != MOSQ_ERR_SUCCESS) {
      rc = mosq_fail(mrc, "cannot set up TLS for MQTT (check the CA, certificate and key files)");
      goto fail;
    }
  }
  mosquitto_property_add_int32(&cprops, MQTT_PROP_SESSION_EXPIRY_INTERVAL, SESSION_EXPIRY_S);
  mrc = MOSQ_ERR_UNKNOWN;
  for (int i = 0; i < 50 && mrc != MOSQ_ERR_SUCCESS; i++) { /* up to 10 s for a broker that is starting */
    if (i > 0)
      spot__sleep_ns(200 * 1000 * 1000ull);
    mrc = mosquitto_connect_bind_v5(b->mosq, host, port, 30, NULL, cprops);
  }
  if (mrc != MOSQ_ERR_SUCCESS) {
    rc = spot__fail(SPOT_ETIMEDOUT, "cannot reach the MQTT broker at %s: %s (is it running? check --mqtt)",
                    opts->hostport, mosquitto_strerror(mrc));
    goto fail;
  }
  if ((mrc = mosquitto_loop_start(b->mosq)) != MOSQ_ERR_SUCCESS) {
    rc = mosq_fail(mrc, "cannot start the MQTT client's thread");
    goto fail;
  }
  b->loop_started = 1;
  for (size_t i = 0; i < b->nout; i++) {
    if ((rc = spot__thread_start(&b->out[i]->thread, outbound_main, b->out[i])) != 0)
      goto fail;
    b->out[i]->started = 1;
  }
  mosquitto_property_free_all(&cprops);
  free(password);
  if (!opts->quiet)
    fprintf(stderr, "spotd: mqtt: bridging %zu route(s) with the broker at %s as client %s (QoS 1)\n",
            opts->nroutes, opts->hostport, client_id);
  *out = b;
  return 0;
fail:
  mosquitto_property_free_all(&cprops);
  free(password);
  {
    char detail[512];
    snprintf(detail, sizeof detail, "%s", spot_errdetail());
    spot_bridge_mqtt_stop(b);
    spot__fail(rc, "%s", detail);
  }
  return rc;
}

void spot_bridge_mqtt_stats(spot_bridge_mqtt_t *b, spot_bridge_mqtt_stats_t *out) {
  spot__mutex_lock(&b->mu);
  *out = b->st;
  spot__mutex_unlock(&b->mu);
}

void spot_bridge_mqtt_stop(spot_bridge_mqtt_t *b) {
  if (b == NULL)
    return;
  /* Give the publishes in flight a moment to be acknowledged, so fewer come again at the next start. */
  for (int i = 0; i < 100 && b->loop_started; i++) {
    int busy = 0;
    spot__mutex_lock(&b->mu);
    for (size_t k = 0; k < b->nout; k++)
      busy |= b->out[k]->acked + 1 < b->out[k]->next;
    spot__mutex_unlock(&b->mu);
    if (!busy)
      break;
    spot__sleep_ns(10 * 1000 * 1000);
  }
  b->stopping = 1;
  for (size_t i = 0; i < b->nout; i++)
    if (b->out[i]->started)
      spot__thread_join(&b->out[i]->thread);
  if (b->mosq) {
    mosquitto_disconnect_v5(b->mosq, 0, NULL);
    if (b->loop_started)
      mosquitto_loop_stop(b->mosq, false);
    mosquitto_destroy(b->mosq);
  }
  for (size_t i = 0; i < b->nout; i++) {
    outbound_t *o = b->out[i];
    if (o->log)
      spot_log_close(o->log);
    spot_bridge_pos_close(o->pos);
    free(o->causes);
    free(o);
  }
  free(b->out);
  free(b->in);
  if (b->ns)
    spot_ns_close(b->ns);
  spot__mutex_destroy(&b->mu);
  mosquitto_lib_cleanup();
  free(b);
}
