/*
 * net/net_impl.h: what the network files share.
 */
#ifndef SPOT_NET_IMPL_H
#define SPOT_NET_IMPL_H

#include <stddef.h>

#include "spot/net.h"

/* The namespace name a node serves for directory dir: its base name, which must be a valid name. */
int spot__net_ns_name(const char *dir, char *out, size_t cap);

/* The process's own client (made on first use from $SPOT_KEY, $SPOT_NODE_KEY and known_nodes), for handlers' puts
 * to logs of other nodes. Owned by the process; calls through it are serialised. */
int spot__net_shared(spot_remote_t **out);

#endif
