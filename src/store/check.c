/*
 * check.c: `spot check` as one library call (spot/ns.h): open a log of a namespace (recovering it, and with fix
 * marking damaged elements lost), verify every slot of its window, close it, and say what was found. The command
 * line runs it on a local namespace; a node's server runs it for a remote `spot check spot://HOST:PORT/NS/LOG`, so
 * both print the same report.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "spot/ns.h"

int spot_ns_check_log(spot_ns_t *ns, const char *name, int fix, spot_check_result_t *out) {
  spot_check_result_t r;
  memset(&r, 0, sizeof r);
  spot_log_t *log;
  int rc = spot_ns_open_log(ns, name, fix ? SPOT_LOG_FIX : 0, &log, &r.opened);
  if (rc != 0)
    return rc;
  r.status = spot_log_verify(log, &r.verified);
  if (r.status != 0)
    snprintf(r.detail, sizeof r.detail, "%s", spot_errdetail());
  spot_log_close(log);
  spot__clear_detail();
  *out = r;
  return 0;
}
