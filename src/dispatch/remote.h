/*
 * dispatch/remote.h: how dispatch reaches logs of other nodes without depending on the network.
 *
 * Dispatch (spot_put, and handlers' spot_ctx_put, spot_ctx_get and spot_ctx_latest) meets remote names
 * (spot://host:port/namespace/log) but must build without the network, as on a microcontroller or with
 * -DSPOT_NET=OFF. So, as nng's transports, the network registers a method table when the library is loaded
 * (src/net/remote_ops.c), and dispatch calls through it. With no table registered (a build without the network) a
 * call on a remote name fails with SPOT_ENOTSUP and a detail line saying so; nothing is written.
 */
#ifndef SPOT_DISPATCH_REMOTE_H
#define SPOT_DISPATCH_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "spot/node.h"

/* The methods the network provides. Each takes a remote name (already known to be one) and follows the contract
 * of its spot_remote_* counterpart in spot/net.h, through the process's own client (made on first use). */
typedef struct spot__remote_ops {
  const char *name; /* the transport's name, for messages ("zmq+curve") */
  int (*put)(const char *url, const void *data, size_t len, const char *handler, const spot_cause_t *cause,
             uint64_t *seq);
  int (*get)(const char *url, uint64_t seq, void *buf, size_t cap);
  int (*latest)(const char *url, uint64_t *seq);
} spot__remote_ops_t;

/* Registers ops (static storage, owned by the caller, never freed) as the process's way to other nodes; a later
 * call replaces an earlier one. Safe against concurrent spot__remote_* calls (an atomic pointer store). */
void spot__remote_register(const spot__remote_ops_t *ops);

/* The calls dispatch makes: through the registered table, or SPOT_ENOTSUP ("this build has no network") when
 * there is none. url must be a remote name (spot_is_remote). */
int spot__remote_put(const char *url, const void *data, size_t len, const char *handler, const spot_cause_t *cause,
                     uint64_t *seq);
int spot__remote_get(const char *url, uint64_t seq, void *buf, size_t cap);
int spot__remote_latest(const char *url, uint64_t *seq);

#endif
