/*
 * uplink.c: the `uplink` handler passes each element on to the log named in the newest element of log `uplink_to`
 * (a local log name or a remote one, spot://HOST:PORT/NAMESPACE/LOG, NUL-padded). On a microcontroller this is how
 * a device sends what it sees up to the cloud: its edge forwards the put, with this run as its cause, so `spot
 * trace` follows an element from the cloud down to the device and back up. Where to send is data, not code: the
 * same firmware serves any cloud.
 */
#include <string.h>

#include <spot/handler.h>

#define UPLINK_NAME_MAX 64

static int uplink(spot_ctx_t *ctx, const spot_event_t *ev) {
  char to[UPLINK_NAME_MAX + 1];
  uint64_t latest = 0;
  int rc = spot_ctx_latest(ctx, "uplink_to", &latest);
  if (rc != 0 || latest == 0) {
    spot_print(ctx, "uplink: log uplink_to names no destination yet: put one there");
    return rc ? rc : -1;
  }
  memset(to, 0, sizeof to);
  if ((rc = spot_ctx_get(ctx, "uplink_to", latest, to, UPLINK_NAME_MAX)) != 0)
    return rc;
  return spot_ctx_put(ctx, to, ev->data, ev->size, NULL, NULL);
}
SPOT_HANDLER(uplink)
