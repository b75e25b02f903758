/*
 * aside.c: spotd's node stepping aside for a remote `spot check --fix` or `spot rm` (spot_server_set_exclusive).
 *
 * Those need the log to themselves, and the node holds every log of its namespace open. So, on the server's thread:
 * stop the node (running handlers end, worker processes exit, its handles and the node lock are let go), run the
 * operation, start the node again with the same options. Puts that come meanwhile wait (remote ones in the server's
 * queue) or stay marked in their logs, and the restarted node runs them as any node start does. The node's run
 * counters start again from zero (spot status, metrics). If the node cannot start again, spotd logs why and stops
 * (a SIGTERM to itself), as a node that cannot serve must not look as if it did.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "spot.h"
#include "spot/node.h"
#include "spotd.h"

#if SPOT_HAVE_NET
#include "spot/net.h"

static const char *aside_dir;
static spot_node_opts_t aside_opts;
static spot_node_t *aside_node;

void spotd_aside_init(const char *dir, const spot_node_opts_t *opts, spot_node_t *node) {
  aside_dir = dir;
  aside_opts = *opts;
  aside_node = node;
}

spot_node_t *spotd_aside_node(void) { return aside_node; }

int spotd_aside(void *arg, spot_server_op_fn op, void *op_arg) {
  (void)arg;
  SPOTD_LOG(SPOTD_LOG_INFO, "the node steps aside for an operation that needs a log to itself (check --fix or rm)");
  spot_node_stop(aside_node);
  aside_node = NULL;
  int rc = op(aside_dir, op_arg);
  char detail[600];
  snprintf(detail, sizeof detail, "%s", rc ? spot_errdetail() : "");
  int src = spot_node_start(aside_dir, &aside_opts, &aside_node);
  if (src != 0) {
    aside_node = NULL;
    SPOTD_LOG(SPOTD_LOG_ERROR, "the node cannot start again after stepping aside: %s; stopping", spot_errdetail());
    kill(getpid(), SIGTERM);
    return rc ? rc : src;
  }
  SPOTD_LOG(SPOTD_LOG_INFO, "the node serves again");
  return rc ? spot_fail(rc, "%s", detail) : 0;
}
#endif
