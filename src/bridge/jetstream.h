/*
 * bridge/jetstream.h: the one way spot's NATS pieces (the mirror, handler pools) connect to a JetStream cluster.
 *
 * Both want the same connection: a comma-separated server list, reconnecting without end (a cluster node may come
 * back), errors turned into SPOT_E* codes with the NATS library's own words, and an asynchronous-publish error
 * handler of their own. Needs libnats (SPOT_HAVE_NATS).
 */
#ifndef SPOT_BRIDGE_JETSTREAM_H
#define SPOT_BRIDGE_JETSTREAM_H

#include <nats/nats.h>

/* SPOT_ETIMEDOUT for a NATS status that means "nobody answered" (time-out, no server, no responders), else
 * SPOT_EIO; the detail line is "what: <the library's last error>". */
int spot__js_fail(natsStatus s, const char *what);

/* Connects to servers ("nats://H:P[,nats://H:P...]", at most 16) and opens a JetStream context on the connection:
 * time-outs of 2 s per call and 5 s per JetStream request, reconnect every 250 ms for ever, async publishes of at
 * most max_pending in flight reported to on_error(closure). With retry_first, a first connection that fails is
 * retried in the background as a reconnect would be (the call returns at once). unreachable is the detail's advice
 * when the connection fails. On success *nc and *js are the caller's (jsCtx_Destroy, natsConnection_Destroy);
 * on failure nothing is left open. */
int spot__js_connect(const char *servers, int retry_first, int64_t max_pending, jsPubAckErrHandler on_error,
                     void *closure, const char *unreachable, natsConnection **nc, jsCtx **js);

#endif
