/*
 * bridge/jetstream.c: connecting to a JetStream cluster, shared by the mirror (mirror.c) and handler pools (pool.c);
 * see jetstream.h.
 */
#include "bridge/jetstream.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

int spot__js_fail(natsStatus s, const char *what) {
  const char *e = nats_GetLastError(NULL);
  return spot__fail(s == NATS_TIMEOUT || s == NATS_NO_SERVER || s == NATS_NO_RESPONDERS ? SPOT_ETIMEDOUT : SPOT_EIO,
                    "%s: %s", what, e ? e : natsStatus_GetText(s));
}

int spot__js_connect(const char *servers, int retry_first, int64_t max_pending, jsPubAckErrHandler on_error,
                     void *closure, const char *unreachable, natsConnection **nc, jsCtx **js) {
  natsOptions *opts = NULL;
  natsConnection *c = NULL;
  const char *list[16];
  char copy[1024];
  int n = 0;
  snprintf(copy, sizeof copy, "%s", servers);
  for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && n < 16; t = strtok_r(NULL, ",", &save))
    list[n++] = t;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK)
    s = natsOptions_SetServers(opts, list, n);
  if (s == NATS_OK)
    s = natsOptions_SetMaxReconnect(opts, -1); /* keep trying: a cluster node may come back */
  if (s == NATS_OK)
    s = natsOptions_SetReconnectWait(opts, 250);
  if (s == NATS_OK)
    s = natsOptions_SetTimeout(opts, 2000);
  if (s == NATS_OK && retry_first)
    s = natsOptions_SetRetryOnFailedConnect(opts, true, NULL, NULL);
  if (s == NATS_OK)
    s = natsConnection_Connect(&c, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK)
    return spot__js_fail(s, unreachable);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 5000;
  jo.PublishAsync.MaxPending = max_pending;
  jo.PublishAsync.ErrHandler = on_error;
  jo.PublishAsync.ErrHandlerClosure = closure;
  jsCtx *j = NULL;
  if ((s = natsConnection_JetStream(&j, c, &jo)) != NATS_OK) {
    int rc = spot__js_fail(s, "cannot use JetStream");
    natsConnection_Destroy(c);
    return rc;
  }
  *nc = c;
  *js = j;
  return 0;
}
