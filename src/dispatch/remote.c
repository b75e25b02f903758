/*
 * remote.c: remote names, and the method table through which dispatch reaches other nodes (dispatch/remote.h).
 *
 * spot_is_remote lives here, not in the network, so every build (with or without src/net) tells a remote name
 * from a local one and can refuse the first with a clear error instead of looking for a local log of that name.
 */
#include <string.h>

#include "core/error.h"
#include "dispatch/remote.h"

static const spot__remote_ops_t *registered;

int spot_is_remote(const char *name) {
  return name && (strncmp(name, "spot://", 7) == 0 || strncmp(name, "woof://", 7) == 0);
}

void spot__remote_register(const spot__remote_ops_t *ops) { __atomic_store_n(&registered, ops, __ATOMIC_RELEASE); }

/* The registered table, or NULL with SPOT_ENOTSUP's detail line naming url. */
static const spot__remote_ops_t *ops_for(const char *url) {
  const spot__remote_ops_t *ops = __atomic_load_n(&registered, __ATOMIC_ACQUIRE);
  if (ops == NULL)
    spot__fail(SPOT_ENOTSUP, "%s is a remote name, but this build has no network (SPOT_NET=OFF); build spot with "
                             "-DSPOT_NET=ON to reach other nodes",
               url);
  return ops;
}

int spot__remote_put(const char *url, const void *data, size_t len, const char *handler, const spot_cause_t *cause,
                     uint64_t *seq) {
  const spot__remote_ops_t *ops = ops_for(url);
  return ops ? ops->put(url, data, len, handler, cause, seq) : SPOT_ENOTSUP;
}

int spot__remote_get(const char *url, uint64_t seq, void *buf, size_t cap) {
  const spot__remote_ops_t *ops = ops_for(url);
  return ops ? ops->get(url, seq, buf, cap) : SPOT_ENOTSUP;
}

int spot__remote_latest(const char *url, uint64_t *seq) {
  const spot__remote_ops_t *ops = ops_for(url);
  return ops ? ops->latest(url, seq) : SPOT_ENOTSUP;
}
