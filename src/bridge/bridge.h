/*
 * bridge/bridge.h: spot's bridges to the world around one node (internal to spotd and the `spot` command line).
 *
 * Three pieces, each optional at build time and each built on a well-kept client library:
 *  - routes and positions (route.c, position.c, causes.c): portable, always built. A route says which log goes to or
 *    comes from which topic; a position is how far an outbound bridge has been acknowledged, kept durably in a
 *    small spot log under DIR/.spot/bridge/; the cause index finds the put event of an element, so the element's
 *    cause can travel with it.
 *  - the MQTT bridge (mqtt.c, libmosquitto, SPOT_HAVE_MQTT): `spotd --mqtt HOST:PORT --bridge ...`.
 *  - the JetStream mirror (mirror.c, libnats, SPOT_HAVE_NATS): `spot mirror` and `spotd --mirror`.
 *  - handler pools (pool.c, libnats, SPOT_HAVE_NATS): `spotd --pool URL --pool-name NAME --pool-log LOG:HANDLER`.
 *
 * Every function returns 0 or a negative SPOT_E* code with a detail line (spot_errdetail) saying what to do.
 */
#ifndef SPOT_BRIDGE_H
#define SPOT_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include "spot.h"

/* ---- routes ---- */

typedef enum spot_bridge_way { SPOT_BRIDGE_IN = 1, SPOT_BRIDGE_OUT = 2 } spot_bridge_way_t;

typedef struct spot_bridge_route {
  spot_bridge_way_t way; /* IN: topic -> log (puts); OUT: log -> topic (publishes) */
  char log[64];
  char topic[256];       /* IN: a subscription (wildcards + and # allowed); OUT: a topic name (no wildcards) */
  char handler[64];      /* IN: the handler each put runs, "" for none */
} spot_bridge_route_t;

/* Parses 'LOG<-TOPIC[:HANDLER]' (inbound) or 'LOG->TOPIC' (outbound) into *out. In an inbound route the text after
 * the last ':' is the handler when it is a valid name (so a topic with ':' in it needs a handler after it). Names
 * are validated (never paths). SPOT_EINVAL or SPOT_EBADNAME with a detail line; *out written only on success. */
int spot_bridge_route_parse(const char *text, spot_bridge_route_t *out);

/* ---- durable positions ---- */

typedef struct spot_bridge_pos spot_bridge_pos_t;

/* Opens (creating it the first time, at 0) the position of an outbound bridge named kind/log/target in namespace
 * dir: a spot log of 8-byte elements in DIR/.spot/bridge/KIND-LOG-HASH.pos, HASH a CRC32C of target. *pos gets the
 * last saved position. *out is the caller's until spot_bridge_pos_close. SPOT_ENONS, SPOT_EIO, SPOT_ECORRUPT. */
int spot_bridge_pos_open(const char *dir, const char *kind, const char *log, const char *target,
                         spot_bridge_pos_t **out, uint64_t *pos);
/* Saves pos and returns once it is on disk (fdatasync). SPOT_EFAILED/SPOT_EIO if the sync failed. */
int spot_bridge_pos_save(spot_bridge_pos_t *p, uint64_t pos);
void spot_bridge_pos_close(spot_bridge_pos_t *p);

/* ---- the cause of an element ---- */

#define SPOT_BRIDGE_CAUSES 4096u

/* Finds the put event of elements of one log by following the node's event log forward, as a reader that goes
 * through the log in order asks for them: it remembers the put events of a window of SPOT_BRIDGE_CAUSES elements
 * from the one asked for. An element whose event has left the node's event log (a ring), or put without an event
 * (a raw spot_log_append), has none. Not thread-safe: one per reader. */
typedef struct spot_bridge_causes {
  spot_ns_t *ns; /* borrowed */
  char log[64];
  uint64_t cursor; /* the last event id read */
  uint64_t max_seen; /* the highest sequence number of c's log seen in a put event */
  int missed;        /* the last find waited for an event in vain (max_seen was missed_seen): the next does not wait */
  uint64_t missed_seen;
  struct {
    uint64_t seq, node, event;
  } ring[SPOT_BRIDGE_CAUSES];
} spot_bridge_causes_t;

/* Prepares c to follow ns's event log from its oldest kept event. c is the caller's; ns must outlive it. */
void spot_bridge_causes_init(spot_bridge_causes_t *c, spot_ns_t *ns, const char *log);
/* The put event (node, event id) of element seq into *out: 0, or SPOT_ENOTFOUND when the event log has none (yet,
 * or any longer). wait_ns: how long to wait for a put event not written yet (an append precedes its event). */
int spot_bridge_causes_find(spot_bridge_causes_t *c, uint64_t seq, uint64_t wait_ns, spot_cause_t *out);

/* The user properties that carry a cause across a broker, and their text forms (node: 16 hex digits, event:
 * decimal). spot_bridge_cause_parse: 0 or SPOT_EINVAL. */
#define SPOT_BRIDGE_PROP_NODE "spot-node"
#define SPOT_BRIDGE_PROP_EVENT "spot-event"
#define SPOT_BRIDGE_PROP_LOG "spot-log"
#define SPOT_BRIDGE_PROP_SEQ "spot-seq"
int spot_bridge_cause_parse(const char *node, const char *event, spot_cause_t *out);

/* ---- the MQTT bridge (SPOT_HAVE_MQTT) ---- */

typedef struct spot_bridge_mqtt_opts {
  const char *hostport;      /* "HOST:PORT" of the broker */
  const char *user;          /* NULL: none */
  const char *password_file; /* NULL: none; its first line is the password */
  const char *cafile, *cert, *key; /* TLS: cafile to check the broker (with it, TLS is on); cert+key: client auth */
  const char *client_id;     /* NULL: "spot-NODEID"; the broker keeps this client's session between connections */
  const spot_bridge_route_t *routes;
  size_t nroutes;
  int quiet;                 /* 1: no lines on stderr except errors */
} spot_bridge_mqtt_opts_t;

typedef struct spot_bridge_mqtt spot_bridge_mqtt_t;

typedef struct spot_bridge_mqtt_stats {
  uint64_t received;  /* inbound messages */
  uint64_t put;       /* of them, put to their log */
  uint64_t refused;   /* longer than the log's element: refused, never truncated */
  uint64_t failed;    /* other put failures (logged) */
  uint64_t published; /* outbound publishes handed to the broker connection */
  uint64_t acked;     /* of them, acknowledged by the broker (PUBACK) */
  uint64_t rejected;  /* PUBACK with a failure reason code (logged, not retried) */
} spot_bridge_mqtt_stats_t;

/* Connects to the broker (trying for up to 10 s) with an MQTT v5 persistent session, subscribes the inbound
 * routes (QoS 1) and starts one thread per outbound route. Runs until spot_bridge_mqtt_stop. */
int spot_bridge_mqtt_start(const char *dir, const spot_bridge_mqtt_opts_t *opts, spot_bridge_mqtt_t **out);
void spot_bridge_mqtt_stats(spot_bridge_mqtt_t *b, spot_bridge_mqtt_stats_t *out);
/* Stops the outbound threads (saving their positions), disconnects and frees b. NULL is a no-op. */
void spot_bridge_mqtt_stop(spot_bridge_mqtt_t *b);

/* ---- the JetStream mirror (SPOT_HAVE_NATS) ---- */

typedef struct spot_bridge_mirror_opts {
  const char *url;    /* nats://HOST:PORT[,HOST:PORT...][/STREAM]; STREAM defaults to SPOT_<LOG> */
  const char *log;    /* a log of the namespace */
  int follow;         /* 0: copy what the stream lacks and return; 1: keep copying until *stop */
  int replicas;       /* replicas of a stream the mirror makes (0: 1); an existing stream is used as it is */
  int quiet;          /* 1: no lines on stderr except errors */
  volatile int *stop; /* may be NULL: the run returns soon after *stop becomes non-zero */
} spot_bridge_mirror_opts_t;

typedef struct spot_bridge_mirror_stats {
  uint64_t resumed_after; /* the newest sequence number the stream had from this log at the start */
  uint64_t repaired;      /* elements missing in the stream just before that (a batch cut short), sent again */
  uint64_t published;     /* elements the stream acknowledged in this run */
  uint64_t retried;       /* batches sent again after an error or a time-out (the stream drops the duplicates) */
  uint64_t skipped;       /* elements that expired from the log before they were copied */
  uint64_t last;          /* the newest sequence number copied */
} spot_bridge_mirror_stats_t;

/* Copies log opts->log of namespace dir into a JetStream stream (made if missing: file storage, subject
 * spot.NODE.LOG, the server's duplicate window), each element as one message with header Nats-Msg-Id
 * NODE-LOG-SEQ (and Spot-Node, Spot-Log, Spot-Seq, Spot-Cause), so the stream keeps each element once. It
 * resumes after the newest element the stream holds from this log (first sending again any of the batch before it
 * that the stream lacks), publishes in batches of up to 256 and sends a batch again, whole, until every message of
 * it is acknowledged. *stats (may be NULL) gets the counts, also on failure. SPOT_ETIMEDOUT when NATS cannot be
 * reached, SPOT_EINVAL for a bad url, errors of the log. */
int spot_bridge_mirror_run(const char *dir, const spot_bridge_mirror_opts_t *opts, spot_bridge_mirror_stats_t *stats);

/* ---- handler pools over a JetStream work queue (SPOT_HAVE_NATS) ---- */

typedef struct spot_bridge_pool_opts {
  const char *url;      /* nats://HOST:PORT[,HOST:PORT...] (no stream: the streams are named after name) */
  const char *name;     /* the pool: streams SPOT_POOL_NAME[_DONE|_DEAD], consumer NAME, subjects spot.pool.NAME.* */
  const char *log;      /* the pooled log (it must exist in the namespace, with the same element size everywhere) */
  const char *handler;  /* the handler each piece of work runs (registered in the namespace) */
  uint32_t ack_wait_ms; /* the handler's time limit (0: 30 s); the consumer's ack wait is this + 1 s */
  int max_deliver;      /* runs of one piece of work before it goes to the dead letters (0: 5); the consumer's own
                           setting wins when it exists already */
  int replicas;         /* replicas of the streams made here (0: 1); existing streams are used as they are */
  unsigned window;      /* runs taken and not ended at a time on this member (0: 8) */
  int feed;             /* 1: this node's puts to log naming no handler become pool work */
  int work;             /* 1: this node runs pool work */
  int quiet;            /* 1: no lines on stderr except errors */
} spot_bridge_pool_opts_t;

typedef struct spot_bridge_pool spot_bridge_pool_t;

typedef struct spot_bridge_pool_stats {
  uint64_t fed;         /* puts published as work */
  uint64_t skipped;     /* puts that expired from the log before they were fed */
  uint64_t retried;     /* flushes that failed: work sent back, feed published again */
  uint64_t taken;       /* work messages run here (each a local put naming the handler) */
  uint64_t redelivered; /* of them, delivered before (to this member or another) */
  uint64_t ran;         /* runs that ended (a done record is published, then the work acked) */
  uint64_t failed;      /* runs that failed (sent back, or dead) */
  uint64_t dead;        /* work published to the dead letters after max deliver failed runs */
  uint64_t refused;     /* work longer than the log's element: dead at once, never truncated */
} spot_bridge_pool_stats_t;

/* Joins (making them if missing) the pool's streams and consumer on NATS and starts its threads: with opts->feed, a
 * thread that follows the node's event log and publishes each put to opts->log naming no handler as work (and
 * reports runs); with opts->work, a thread that pulls work and puts it to opts->log naming opts->handler, on the
 * node running in this namespace (spotd). *out is the caller's until spot_bridge_pool_stop. SPOT_ETIMEDOUT or
 * SPOT_EIO when NATS cannot be used, SPOT_EINVAL/SPOT_EBADNAME for bad options, errors of the log. */
int spot_bridge_pool_start(const char *dir, const spot_bridge_pool_opts_t *opts, spot_bridge_pool_t **out);
void spot_bridge_pool_stats(spot_bridge_pool_t *p, spot_bridge_pool_stats_t *out);
/* Stops the threads, sends back the work whose runs have not ended (another member takes it at once) and frees p.
 * NULL is a no-op. */
void spot_bridge_pool_stop(spot_bridge_pool_t *p);

/* Splits url (nats://HOST:PORT[,HOST:PORT...][/STREAM]) into a comma list of nats://HOST:PORT servers and the
 * stream ("" when not given). SPOT_EINVAL with a detail line. */
int spot_bridge_nats_url(const char *url, char *servers, size_t cap, char *stream, size_t stream_cap);

#endif
