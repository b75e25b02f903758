/*
 * brokers.h: the servers the bridge tests start on 127.0.0.1, shared by tests/bridge (mirror_test, pool_test,
 * mqtt_bridge_test): nats-server with JetStream, alone or as a routed 3-node cluster (free ports, storage in the
 * test's scratch directory), and where mosquitto is. Every wait is bounded.
 */
#ifndef SPOT_TEST_BROKERS_H
#define SPOT_TEST_BROKERS_H

#include <stddef.h>

#include "spot.h"

#if SPOT_HAVE_NATS
#include <nats/nats.h>
#endif

/* An environment variable's value, "" when unset. */
const char *spot_test_env(const char *name);

/* The mosquitto broker's program (Debian puts it in /usr/sbin). */
const char *spot_test_mosquitto_bin(void);

/* Puts "mFROM" .. "mTO" to log of n, one element each, naming no handler (what the bridge tests feed their
 * bridges with and count on the other side): 0, or -1 at the first put that fails. */
int spot_test_put_numbered(spot_ns_t *n, const char *log, int from, int to);

#if SPOT_HAVE_NATS
typedef struct spot_test_nats {
  char dir[4200]; /* server i keeps its JetStream storage in DIR/jsI and its output in DIR/natsI.log */
  int nodes;      /* 1, or 3 for a cluster */
  int ports[3], cports[3], pids[3];
} spot_test_nats_t;

/* Prints a SKIP line and returns 77 when nats-server is not installed; 0 when it is. */
int spot_test_nats_skip(void);

/* Chooses free ports and starts `nodes` servers (1, or 3 routed as cluster "spot") with JetStream, their storage
 * under dir, and waits until each listens: 0, or -1 (a line says which log to read). */
int spot_test_nats_setup(spot_test_nats_t *n, const char *dir, int nodes);

/* Starts server i again (after a kill) with the same ports and storage: 0, or -1. */
int spot_test_nats_start(spot_test_nats_t *n, int i);

/* "nats://127.0.0.1:P0[,127.0.0.1:P1,127.0.0.1:P2]" in buf (cap bytes); returns buf. */
const char *spot_test_nats_url(const spot_test_nats_t *n, char *buf, size_t cap);

/* Connects to server `via` alone and opens its JetStream context: 0, or -1. Both are the caller's
 * (jsCtx_Destroy, natsConnection_Destroy). */
int spot_test_nats_connect(const spot_test_nats_t *n, int via, natsConnection **nc, jsCtx **js);

/* How many messages stream `stream` holds, read through server via, or -1 (no stream, server away). */
long long spot_test_nats_msgs(const spot_test_nats_t *n, int via, const char *stream);

/* Waits (at most timeout_s) until stream holds at least `want` messages, read through server via: 0, or -1. */
int spot_test_nats_wait_msgs(const spot_test_nats_t *n, int via, const char *stream, long long want, int timeout_s);
#endif

#endif
