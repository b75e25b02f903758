/*
 * brokers.c: starting nats-server (alone or as a 3-node JetStream cluster) and finding mosquitto for the bridge
 * tests (brokers.h). The servers are spot_test_spawn'ed, so spot_test_stop_all stops them after a failed test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brokers.h"
#include "support.h"

const char *spot_test_env(const char *name) {
  const char *v = getenv(name);
  return v ? v : "";
}

const char *spot_test_mosquitto_bin(void) {
  return access("/usr/sbin/mosquitto", X_OK) == 0 ? "/usr/sbin/mosquitto" : "mosquitto";
}

int spot_test_put_numbered(spot_ns_t *n, const char *log, int from, int to) {
  for (int i = from; i <= to; i++) {
    char buf[16] = {0};
    snprintf(buf, sizeof buf, "m%d", i);
    if (spot_put(n, log, buf, strlen(buf), NULL, NULL, NULL) != 0)
      return -1;
  }
  return 0;
}

#if SPOT_HAVE_NATS
static const char *nats_bin(void) {
  return access("/usr/sbin/nats-server", X_OK) == 0 ? "/usr/sbin/nats-server" : "nats-server";
}

int spot_test_nats_skip(void) {
  if (spot_test_have("nats-server"))
    return 0;
  printf("SKIP: nats-server is not installed (apt-get install nats-server; scripts/deps.sh does)\n");
  return 77;
}

int spot_test_nats_start(spot_test_nats_t *n, int i) {
  char routes[512] = "";
  if (n->nodes > 1)
    snprintf(routes, sizeof routes, "--cluster_name spot --cluster nats://127.0.0.1:%d --routes "
                                    "nats://127.0.0.1:%d,nats://127.0.0.1:%d,nats://127.0.0.1:%d --name n%d",
             n->cports[i], n->cports[0], n->cports[1], n->cports[2], i);
  n->pids[i] = spot_test_spawn("%s -js -a 127.0.0.1 -p %d -sd %s/js%d %s >>%s/nats%d.log 2>&1", nats_bin(),
                               n->ports[i], n->dir, i, routes, n->dir, i);
  if (n->pids[i] > 0 && spot_test_wait_port(n->ports[i], 10000) == 0)
    return 0;
  fprintf(stderr, "  nats-server %d did not start (see %s/nats%d.log)\n", i, n->dir, i);
  return -1;
}

int spot_test_nats_setup(spot_test_nats_t *n, const char *dir, int nodes) {
  memset(n, 0, sizeof *n);
  snprintf(n->dir, sizeof n->dir, "%s", dir);
  n->nodes = nodes;
  for (int i = 0; i < nodes; i++)
    n->ports[i] = spot_test_free_port(), n->cports[i] = spot_test_free_port(), n->pids[i] = -1;
  for (int i = 0; i < nodes; i++)
    if (spot_test_nats_start(n, i) != 0)
      return -1;
  return 0;
}

const char *spot_test_nats_url(const spot_test_nats_t *n, char *buf, size_t cap) {
  size_t used = (size_t)snprintf(buf, cap, "nats://");
  for (int i = 0; i < n->nodes && used < cap; i++)
    used += (size_t)snprintf(buf + used, cap - used, "%s127.0.0.1:%d", i ? "," : "", n->ports[i]);
  return buf;
}

int spot_test_nats_connect(const spot_test_nats_t *n, int via, natsConnection **nc, jsCtx **js) {
  char u[64];
  snprintf(u, sizeof u, "nats://127.0.0.1:%d", n->ports[via]);
  *nc = NULL;
  *js = NULL;
  if (natsConnection_ConnectTo(nc, u) != NATS_OK)
    return -1;
  if (natsConnection_JetStream(js, *nc, NULL) != NATS_OK) {
    natsConnection_Destroy(*nc);
    *nc = NULL;
    return -1;
  }
  return 0;
}

long long spot_test_nats_msgs(const spot_test_nats_t *n, int via, const char *stream) {
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  long long count = -1;
  if (spot_test_nats_connect(n, via, &nc, &js) == 0 && js_GetStreamInfo(&si, js, stream, NULL, &jerr) == NATS_OK)
    count = (long long)si->State.Msgs;
  jsStreamInfo_Destroy(si);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return count;
}

int spot_test_nats_wait_msgs(const spot_test_nats_t *n, int via, const char *stream, long long want, int timeout_s) {
  for (int i = 0; i < timeout_s * 20; i++) {
    if (spot_test_nats_msgs(n, via, stream) >= want)
      return 0;
    usleep(50 * 1000);
  }
  return -1;
}
#endif
