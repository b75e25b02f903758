/*
 * bridges.c: spotd's options for the bridges of src/bridge (the MQTT bridge, the JetStream mirror) and their start
 * and stop around the node's life. main.c hands every option it does not know to spotd_bridge_option, starts the
 * bridges once the node serves and stops them before the node. A spotd built without a bridge's library refuses
 * its options with one line saying which package to install.
 *
 *   --mqtt HOST:PORT [--mqtt-user U] [--mqtt-password-file F] [--mqtt-cafile CA] [--mqtt-cert C --mqtt-key K]
 *   [--mqtt-client-id ID] --bridge 'LOG<-TOPIC[:HANDLER]' --bridge 'LOG->TOPIC' ...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/bridge.h"
#include "spotd.h"

#define MAX_ROUTES 64

static spot_bridge_route_t routes[MAX_ROUTES];
static size_t nroutes;
static spot_bridge_mqtt_opts_t mqtt;
#if SPOT_HAVE_MQTT
static spot_bridge_mqtt_t *mqtt_bridge;
#endif

int spotd_bridge_option(int argc, char **argv, int *i) {
  const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
  const char **slot = NULL;
  if (strcmp(a, "--mqtt") == 0)
    slot = &mqtt.hostport;
  else if (strcmp(a, "--mqtt-user") == 0)
    slot = &mqtt.user;
  else if (strcmp(a, "--mqtt-password-file") == 0)
    slot = &mqtt.password_file;
  else if (strcmp(a, "--mqtt-cafile") == 0)
    slot = &mqtt.cafile;
  else if (strcmp(a, "--mqtt-cert") == 0)
    slot = &mqtt.cert;
  else if (strcmp(a, "--mqtt-key") == 0)
    slot = &mqtt.key;
  else if (strcmp(a, "--mqtt-client-id") == 0)
    slot = &mqtt.client_id;
  else if (strcmp(a, "--bridge") != 0)
    return 0;
  if (v == NULL)
    return fprintf(stderr, "spotd: %s needs a value\n", a), -1;
  (*i)++;
  if (slot) {
    *slot = v;
    return 1;
  }
  if (nroutes == MAX_ROUTES)
    return fprintf(stderr, "spotd: at most %d --bridge routes\n", MAX_ROUTES), -1;
  if (spot_bridge_route_parse(v, &routes[nroutes]) != 0)
    return fprintf(stderr, "spotd: %s\n", spot_errdetail()), -1;
  nroutes++;
  return 1;
}

int spotd_bridges_check(void) {
  if (nroutes > 0 && mqtt.hostport == NULL)
    return fprintf(stderr, "spotd: --bridge needs the broker: --mqtt HOST:PORT\n"), -1;
  if (mqtt.hostport && nroutes == 0)
    return fprintf(stderr, "spotd: --mqtt without a --bridge 'LOG<-TOPIC' or 'LOG->TOPIC' has nothing to do\n"), -1;
#if !SPOT_HAVE_MQTT
  if (mqtt.hostport)
    return fprintf(stderr, "spotd: --mqtt needs the MQTT bridge, and this spotd was built without it (install "
                           "libmosquitto-dev and build again)\n"), -1;
#endif
  return 0;
}

int spotd_bridges_start(const char *dir, int quiet) {
#if SPOT_HAVE_MQTT
  if (mqtt.hostport) {
    mqtt.routes = routes;
    mqtt.nroutes = nroutes;
    mqtt.quiet = quiet;
    if (spot_bridge_mqtt_start(dir, &mqtt, &mqtt_bridge) != 0)
      return fprintf(stderr, "spotd: cannot start the MQTT bridge: %s\n", spot_errdetail()), -1;
  }
#else
  (void)dir;
  (void)quiet;
#endif
  return 0;
}

void spotd_bridges_stop(int quiet) {
#if SPOT_HAVE_MQTT
  if (mqtt_bridge) {
    spot_bridge_mqtt_stats_t st;
    spot_bridge_mqtt_stats(mqtt_bridge, &st);
    spot_bridge_mqtt_stop(mqtt_bridge);
    mqtt_bridge = NULL;
    if (!quiet)
      fprintf(stderr, "spotd: mqtt: %llu received, %llu put, %llu refused, %llu failed; %llu published, %llu "
                      "acknowledged, %llu rejected\n", (unsigned long long)st.received, (unsigned long long)st.put,
              (unsigned long long)st.refused, (unsigned long long)st.failed, (unsigned long long)st.published,
              (unsigned long long)st.acked, (unsigned long long)st.rejected);
  }
#else
  (void)quiet;
#endif
}
