/*
 * frost.c: the `frost` handler. For each temperature reading it computes the moving average of the sensor's last
 * FROST_WINDOW readings (walking back through the `temperature` log, so it keeps no state of its own and any worker
 * can run it), and when the average crosses below FROST_THRESHOLD_C it puts an alert to log `frost_alerts`.
 */
#include <string.h>

#include <spot/handler.h>

#include "frost.h"

/* Average of the sensor's `window` readings up to and including element `seq`; *n gets how many were found. */
static float average(spot_ctx_t *ctx, const char *sensor, uint64_t seq, int *n) {
  float sum = 0;
  *n = 0;
  for (uint64_t s = seq; s >= 1 && *n < FROST_WINDOW && seq - s < 64 * FROST_WINDOW; s--) {
    reading_t r;
    if (spot_ctx_get(ctx, "temperature", s, &r, sizeof r) != 0)
      break; /* expired: the average uses what is left */
    if (strncmp(r.sensor, sensor, sizeof r.sensor) == 0) {
      sum += r.celsius;
      (*n)++;
    }
  }
  return *n ? sum / (float)*n : 0;
}

static int frost(spot_ctx_t *ctx, const spot_event_t *ev) {
  reading_t r;
  memcpy(&r, ev->data, sizeof r);
  int n, prev_n = 0;
  float now = average(ctx, r.sensor, ev->seq, &n);
  /* the average before this reading: the same walk, starting one element earlier */
  float before = ev->seq > 1 ? average(ctx, r.sensor, ev->seq - 1, &prev_n) : now;
  if (n == FROST_WINDOW && now < FROST_THRESHOLD_C && (prev_n < FROST_WINDOW || before >= FROST_THRESHOLD_C)) {
    alert_t a;
    memset(&a, 0, sizeof a);
    memcpy(a.sensor, r.sensor, sizeof a.sensor);
    a.minute = r.minute;
    a.average = now;
    spot_print(ctx, "frost warning: %.16s average %.2f C at %02d:%02d", r.sensor, (double)now, (int)(r.minute / 60),
               (int)(r.minute % 60)); /* int32_t is long on some targets (arm-none-eabi): cast for %d */
    return spot_ctx_put(ctx, "frost_alerts", &a, sizeof a, NULL, NULL);
  }
  return 0;
}
SPOT_HANDLER(frost)
