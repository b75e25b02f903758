/*
 * net/serial.h: the edge's end of a device's serial link (`spotd --serial NAME=PATH`).
 *
 * The edge node serves a device's logs as namespace NAME: the server (net/server.c) hands every request for NAME
 * to spot__serial_call, which sends it to the device as a frame (core/frame.h) and waits for the reply, sending
 * again on a NAK, a damaged reply, a device that said HELLO (it was reset) or silence, until a deadline
 * ($SPOT_SERIAL_TIMEOUT_MS, 2000 by default): a device that is away gives SPOT_ETIMEDOUT with a line saying so,
 * never a hang. Puts get a durable outbox in the edge's namespace (logs NAME-outbox and NAME-outbox-sent, synced
 * at every append): a put the device does not take in time is kept there and answered SPOT_ETIMEDOUT naming its
 * place; a thread delivers the outbox in order when the device answers again, each put with the request id it was
 * first sent with, so a device that had applied it before its reply was lost answers it from memory instead of
 * appending it twice. While the outbox holds puts, new puts queue behind them, so a device sees puts in order.
 *
 * The other way, the device sends the puts its handlers make to other nodes (UP frames, core/frame.h): the edge
 * forwards each with spot_put on its remote name (the edge's key; the device's run as cause, so a trace follows it)
 * and answers with the target's reply. The last one forwarded is remembered (device node id, request id and a crc
 * of its bytes; in memory and in log NAME-uplink, synced), so the device sending it again after a reset or a lost
 * reply gets the same answer, not a second put.
 * A device attached by the operator is trusted as the edge itself: its puts go out with the edge's rights.
 */
#ifndef SPOT_NET_SERIAL_H
#define SPOT_NET_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/wire.h"
#include "spot/ns.h"

#define SPOT__SERIAL_PAYLOAD 600u /* the largest wire message on the link (device/link.h: SPOT__DEV_LINK_PAYLOAD) */

typedef struct spot__serial spot__serial_t;

/* Attaches the device at path (a unix socket, tty or pty; see spot__stream_open) as namespace name, with its
 * outbox in ns (the edge's namespace, which must outlive the link). The device need not be there yet. *out is the
 * caller's until spot__serial_close. SPOT_EBADNAME, SPOT_ENOMEM, or the outbox logs' errors. */
int spot__serial_open(const char *name, const char *path, spot_ns_t *ns, spot__serial_t **out);
void spot__serial_close(spot__serial_t *s);

/* The namespace name it serves. */
const char *spot__serial_name(const spot__serial_t *s);

/* Sends request req (its id is replaced) to the device and decodes the reply into *rep, whose pointers stay valid
 * until the next call on s. Returns 0 (the reply's status may still be an error: the caller passes it on) or, for
 * the link itself, SPOT_ETIMEDOUT / SPOT_ECLOSED / SPOT_ETOOBIG with a detail line. Thread-safe (one exchange at a
 * time). */
int spot__serial_call(spot__serial_t *s, const spot__msg_t *req, spot__msg_t *rep);

/* Counters, for tests and benchmarks. */
typedef struct spot__serial_stats {
  uint64_t requests, resent, naks_sent, naks_got, hellos, timeouts, queued, delivered;
  uint64_t up_forwarded, up_failed, up_repeated; /* the device's puts to other nodes: forwarded, failed, answered
                                                  * again from memory */
} spot__serial_stats_t;
void spot__serial_stats(spot__serial_t *s, spot__serial_stats_t *out);

#endif
