/*
 * replay.c: the frost example's driver. Replays a day of readings from three sensors, one every ten minutes, into
 * log `temperature` of a namespace, each put naming handler `frost`, then prints the readings it sent below the
 * threshold. Run a node (spotd) on the namespace to have the handler raise alerts.
 *
 *   frost_replay DIR        (the logs are created if missing)
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <spot.h>

#include "frost.h"

/* A day's curve: coldest before dawn; the valley sensor dips well below zero, the others stay above. */
static float temperature(int sensor, int minute) {
  static const float mean[] = {6.0f, 1.5f, 9.0f};
  double hours = minute / 60.0;
  double day = cos((hours - 15.0) / 24.0 * 2 * M_PI); /* +1 at 15:00, -1 at 03:00 */
  double wobble = 0.3 * sin(minute * 0.37 + sensor);
  return (float)(mean[sensor] + 4.0 * day + wobble);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s NAMESPACE_DIR\n", argv[0]);
    return 2;
  }
  spot_ns_t *ns;
  int rc = spot_ns_open(argv[1], NULL, &ns);
  if (rc != 0) {
    fprintf(stderr, "frost_replay: %s\n", spot_errdetail());
    return 1;
  }
  spot_log_config_t readings = {.elem_size = sizeof(reading_t), .history = 4096, .sync = SPOT_SYNC_BATCH};
  spot_log_config_t alerts = {.elem_size = sizeof(alert_t), .history = 1024, .sync = SPOT_SYNC_BATCH};
  spot_ns_create_log(ns, "temperature", &readings); /* SPOT_EEXIST is fine */
  spot_ns_create_log(ns, "frost_alerts", &alerts);
  const char *names[] = {"hilltop", "valley", "greenhouse"};
  int sent = 0, cold = 0;
  for (int minute = 0; minute < 24 * 60; minute += 10) {
    for (int s = 0; s < 3; s++) {
      reading_t r;
      memset(&r, 0, sizeof r);
      snprintf(r.sensor, sizeof r.sensor, "%s", names[s]);
      r.minute = minute;
      r.celsius = temperature(s, minute);
      rc = spot_put(ns, "temperature", &r, sizeof r, "frost", NULL, NULL);
      if (rc != 0) {
        fprintf(stderr, "frost_replay: put failed: %s\n", spot_errdetail());
        spot_ns_close(ns);
        return 1;
      }
      sent++;
      cold += r.celsius < FROST_THRESHOLD_C;
    }
  }
  printf("replayed %d readings (%d below %.1f C) into %s/temperature\n", sent, cold, (double)FROST_THRESHOLD_C,
         argv[1]);
  spot_ns_close(ns);
  return 0;
}
