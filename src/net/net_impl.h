/*
 * net/net_impl.h: what the network files share.
 */
#ifndef SPOT_NET_IMPL_H
#define SPOT_NET_IMPL_H

#include <stddef.h>

#include "core/wire.h"
#include "spot/net.h"

/* The largest frame a node receives (ZMQ_MAXMSGSIZE): the largest legal request, a PUT or DEPLOY carrying
 * SPOT__WIRE_MAX_DATA bytes (64 MiB) plus its header and names (under 300 bytes), fits in SPOT__WIRE_MAX (64 MiB +
 * 4 KiB), whose 4 KiB of headroom also cover CURVE's 33 bytes of framing per message. A peer whose frame announces
 * more is disconnected before anything is allocated for it. */
#define SPOT__NET_FRAME_MAX ((int64_t)SPOT__WIRE_MAX)

/* How often, at most, a node looks at its access file (one stat; re-read when its stamp changed): a change to the
 * file, a revoked key say, is in force for every request and handshake that arrives more than this after the
 * change was written. */
#define SPOT__NET_ACCESS_RECHECK_NS 100000000ull /* 100 ms */

/* The most requests a server thread takes from its socket per wake-up before it looks at its other duties (the
 * count of unrecorded refusals, the stop flag). The socket takes them from its clients in turn (ROUTER's fair
 * queue), so a client with many requests in flight does not hold the others back. */
#define SPOT__NET_BATCH 64

/* The namespace name a node serves for directory dir: its base name, which must be a valid name. */
int spot__net_ns_name(const char *dir, char *out, size_t cap);

/* The process's own client (made on first use from $SPOT_KEY, $SPOT_NODE_KEY and known_nodes), for handlers' puts
 * to logs of other nodes. Owned by the process; calls through it are serialised. */
int spot__net_shared(spot_remote_t **out);

/* The text of a LIST (logs: 1) or HANDLERS (0) reply for ns (core/wire.h gives the line format), written into buf
 * (cap bytes); *len gets its length. SPOT_ETOOBIG (with a detail line) if it does not fit. */
int spot__net_listing(spot_ns_t *ns, int logs, uint8_t *buf, size_t cap, uint32_t *len);

/* A check's result (spot/ns.h) as the data of a CHECK reply (admin.c gives the layout): into buf (cap bytes), *len
 * its length; SPOT_ERANGE if it does not fit. Decoding wants exactly len bytes: SPOT_ECORRUPT (with a detail line)
 * otherwise; *out is written only on success. */
int spot__net_check_encode(const spot_check_result_t *c, uint8_t *buf, size_t cap, uint32_t *len);
int spot__net_check_decode(const uint8_t *buf, size_t len, spot_check_result_t *out);

/* Runs a CHECK (fix 0 or 1) or RM request for log on the node's namespace ns (directory dir), the right checked:
 * a plain check at once; check --fix and rm after dropping ns's handle of the log (the caller is the only thread that
 * uses it), through exclusive (may be NULL: at once). *result gets a check's result. 0 or the operation's error
 * with its detail line. */
int spot__net_admin(spot_ns_t *ns, const char *dir, int type, const char *log, int fix,
                    spot_server_exclusive_fn exclusive, void *exclusive_arg, spot_check_result_t *result);

#endif
