/*
 * remote_ops.c: the network's side of dispatch/remote.h: registers the method table through which spot_put and
 * handlers' spot_ctx_* calls reach logs of other nodes, each through the process's own client (spot__net_shared).
 *
 * The table is registered when libspot is loaded (a constructor), so every process that links the library with
 * the network has it before main runs, and the worker processes spotd forks inherit it. A build without src/net
 * (-DSPOT_NET=OFF) has no table and dispatch refuses remote names with SPOT_ENOTSUP.
 */
#include "dispatch/remote.h"
#include "net/net_impl.h"
#include "spot/net.h"

static int put(const char *url, const void *data, size_t len, const char *handler, const spot_cause_t *cause,
               uint64_t *seq) {
  spot_remote_t *r;
  int rc = spot__net_shared(&r);
  return rc ? rc : spot_remote_put(r, url, data, len, handler, cause, seq);
}

static int get(const char *url, uint64_t seq, void *buf, size_t cap) {
  spot_remote_t *r;
  int rc = spot__net_shared(&r);
  return rc ? rc : spot_remote_get(r, url, seq, buf, cap, NULL);
}

static int latest(const char *url, uint64_t *seq) {
  spot_remote_t *r;
  int rc = spot__net_shared(&r);
  return rc ? rc : spot_remote_latest(r, url, seq);
}

static const spot__remote_ops_t zmq_ops = {.name = "zmq+curve", .put = put, .get = get, .latest = latest};

__attribute__((constructor)) static void register_ops(void) { spot__remote_register(&zmq_ops); }
