/*
 * bridges.c: spotd's options for the bridges of src/bridge (the MQTT bridge, the JetStream mirror) and their start
 * and stop around the node's life. main.c hands every option it does not know to spotd_bridge_option, starts the
 * bridges once the node serves and stops them before the node. A spotd built without a bridge's library refuses
 * its options with one line saying which package to install.
 *
 *   --mqtt HOST:PORT [--mqtt-user U] [--mqtt-password-file F] [--mqtt-cafile CA] [--mqtt-cert C --mqtt-key K]
 *   [--mqtt-client-id ID] --bridge 'LOG<-TOPIC[:HANDLER]' --bridge 'LOG->TOPIC' ...
 *   --mirror LOG=nats://HOST:PORT[,HOST:PORT...][/STREAM] ... [--mirror-replicas N]
 *   --pool nats://HOST:PORT[,HOST:PORT...] --pool-name NAME --pool-log LOG:HANDLER [--pool-role both|feed|work]
 *   [--pool-max-deliver N] [--pool-replicas N] [--pool-window N]
 *
 * Each --mirror runs on its own thread, following the log (src/bridge/mirror.c); when NATS is unreachable or a run
 * fails it says why and tries again every second until spotd stops. The pool (src/bridge/pool.c) starts with the
 * node (its ack wait is the node's --timeout-ms) and is stopped first, sending back the runs it has not finished.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/bridge.h"
#if SPOT_HAVE_NATS
#include <nats/nats.h>
#endif
#include <unistd.h>
#include "log.h"
#include "spotd.h"

#define MAX_ROUTES 64

static spot_bridge_route_t routes[MAX_ROUTES];
static size_t nroutes;
static spot_bridge_mqtt_opts_t mqtt;
#if SPOT_HAVE_MQTT
static spot_bridge_mqtt_t *mqtt_bridge;
#endif

#define MAX_MIRRORS 16

typedef struct mirror_run {
  char log[64];
  const char *url;
  const char *dir;
  pthread_t thread;
  int started;
  spot_bridge_mirror_stats_t total;
} mirror_run_t;

static mirror_run_t mirrors[MAX_MIRRORS];
static size_t nmirrors;
static int mirror_replicas, bridges_quiet;
static volatile int mirrors_stop;

static spot_bridge_pool_opts_t pool = {.feed = 1, .work = 1};
static char pool_log[64], pool_handler[64];
#if SPOT_HAVE_NATS
static spot_bridge_pool_t *pool_run;
#endif

/* The --pool-* options (a is argv[*i], v its value, already taken): 1, or -1 with a line saying why. */
static int pool_option(const char *a, const char *v) {
  if (strcmp(a, "--pool") == 0)
    pool.url = v;
  else if (strcmp(a, "--pool-name") == 0)
    pool.name = v;
  else if (strcmp(a, "--pool-log") == 0) {
    const char *colon = strchr(v, ':');
    if (colon == NULL || colon == v || (size_t)(colon - v) >= sizeof pool_log || strlen(colon + 1) == 0 ||
        strlen(colon + 1) >= sizeof pool_handler)
      return fprintf(stderr, "spotd: --pool-log wants LOG:HANDLER (the pooled log and the handler its work runs), "
                             "not '%s'\n", v), -1;
    snprintf(pool_log, sizeof pool_log, "%.*s", (int)(colon - v), v);
    snprintf(pool_handler, sizeof pool_handler, "%s", colon + 1);
    pool.log = pool_log;
    pool.handler = pool_handler;
  } else if (strcmp(a, "--pool-role") == 0) {
    if (strcmp(v, "both") != 0 && strcmp(v, "feed") != 0 && strcmp(v, "work") != 0)
      return fprintf(stderr, "spotd: --pool-role must be both, feed or work, not '%s'\n", v), -1;
    pool.feed = strcmp(v, "work") != 0;
    pool.work = strcmp(v, "feed") != 0;
  } else {
    int n = atoi(v);
    if (strcmp(a, "--pool-max-deliver") == 0 && n >= 1 && n <= 1000)
      pool.max_deliver = n;
    else if (strcmp(a, "--pool-replicas") == 0 && n >= 1 && n <= 5)
      pool.replicas = n;
    else if (strcmp(a, "--pool-window") == 0 && n >= 1 && n <= 4096)
      pool.window = (unsigned)n;
    else
      return fprintf(stderr, "spotd: %s takes a number (--pool-max-deliver 1 to 1000, --pool-replicas 1 to 5, "
                             "--pool-window 1 to 4096), not '%s'\n", a, v), -1;
  }
  return 1;
}

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
  else if (strcmp(a, "--bridge") != 0 && strcmp(a, "--mirror") != 0 && strcmp(a, "--mirror-replicas") != 0 &&
           strncmp(a, "--pool", 6) != 0)
    return 0;
  if (v == NULL)
    return fprintf(stderr, "spotd: %s needs a value\n", a), -1;
  (*i)++;
  if (strncmp(a, "--pool", 6) == 0)
    return pool_option(a, v);
  if (strcmp(a, "--mirror-replicas") == 0) {
    mirror_replicas = atoi(v);
    if (mirror_replicas < 1 || mirror_replicas > 5)
      return fprintf(stderr, "spotd: --mirror-replicas must be 1 to 5\n"), -1;
    return 1;
  }
  if (strcmp(a, "--mirror") == 0) {
    const char *eq = strchr(v, '=');
    if (eq == NULL || eq == v || (size_t)(eq - v) >= sizeof mirrors[0].log)
      return fprintf(stderr, "spotd: --mirror wants LOG=nats://HOST:PORT[/STREAM], not '%s'\n", v), -1;
    if (nmirrors == MAX_MIRRORS)
      return fprintf(stderr, "spotd: at most %d --mirror\n", MAX_MIRRORS), -1;
    mirror_run_t *m = &mirrors[nmirrors++];
    memcpy(m->log, v, (size_t)(eq - v));
    m->log[eq - v] = '\0';
    m->url = eq + 1;
    return 1;
  }
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
  if ((pool.url || pool.name || pool.log) && !(pool.url && pool.name && pool.log))
    return fprintf(stderr, "spotd: a pool needs all of --pool nats://HOST:PORT, --pool-name NAME and --pool-log "
                           "LOG:HANDLER\n"), -1;
#if !SPOT_HAVE_NATS
  if (pool.url)
    return fprintf(stderr, "spotd: --pool needs handler pools, and this spotd was built without them (install "
                           "libnats-dev and build again)\n"), -1;
  if (nmirrors)
    return fprintf(stderr, "spotd: --mirror needs the JetStream mirror, and this spotd was built without it (install "
                           "libnats-dev and build again)\n"), -1;
#endif
#if !SPOT_HAVE_MQTT
  if (mqtt.hostport)
    return fprintf(stderr, "spotd: --mqtt needs the MQTT bridge, and this spotd was built without it (install "
                           "libmosquitto-dev and build again)\n"), -1;
#endif
  return 0;
}

#if SPOT_HAVE_NATS
/* One --mirror: runs the mirror, following the log, again and again until spotd stops. */
static void *mirror_main(void *arg) {
  mirror_run_t *m = arg;
  spot_bridge_mirror_opts_t o = {.url = m->url, .log = m->log, .follow = 1, .replicas = mirror_replicas,
                                 .quiet = bridges_quiet, .stop = &mirrors_stop};
  unsigned failures = 0;
  while (!mirrors_stop) {
    spot_bridge_mirror_stats_t st;
    int rc = spot_bridge_mirror_run(m->dir, &o, &st);
    m->total.published += st.published;
    m->total.repaired += st.repaired;
    m->total.retried += st.retried;
    m->total.skipped += st.skipped;
    if (rc != 0 && failures++ % 30 == 0)
      SPOTD_LOG(SPOTD_LOG_WARN, "mirror %s: %s (trying again every second)", m->log, spot_errdetail());
    for (int i = 0; i < 20 && !mirrors_stop; i++)
      usleep(50 * 1000);
  }
  return NULL;
}
#endif

int spotd_bridges_start(const char *dir, int quiet, unsigned timeout_ms, unsigned workers) {
  bridges_quiet = quiet;
#if SPOT_HAVE_NATS
  if (pool.url) {
    pool.quiet = quiet;
    pool.ack_wait_ms = timeout_ms;
    if (pool.window == 0)
      pool.window = 2 * workers;
    if (spot_bridge_pool_start(dir, &pool, &pool_run) != 0)
      return fprintf(stderr, "spotd: cannot join pool %s: %s\n", pool.name, spot_errdetail()), -1;
  }
  for (size_t i = 0; i < nmirrors; i++) {
    mirrors[i].dir = dir;
    char servers[1024], stream[80];
    if (spot_bridge_nats_url(mirrors[i].url, servers, sizeof servers, stream, sizeof stream) != 0) {
      SPOTD_LOG(SPOTD_LOG_ERROR, "--mirror %s: %s", mirrors[i].log, spot_errdetail());
      return -1;
    }
    if (pthread_create(&mirrors[i].thread, NULL, mirror_main, &mirrors[i]) != 0) {
      SPOTD_LOG(SPOTD_LOG_ERROR, "cannot start the mirror of %s", mirrors[i].log);
      return -1;
    }
    mirrors[i].started = 1;
  }
#endif
#if SPOT_HAVE_MQTT
  if (mqtt.hostport) {
    mqtt.routes = routes;
    mqtt.nroutes = nroutes;
    mqtt.quiet = quiet;
    if (spot_bridge_mqtt_start(dir, &mqtt, &mqtt_bridge) != 0) {
      SPOTD_LOG(SPOTD_LOG_ERROR, "cannot start the MQTT bridge: %s", spot_errdetail());
      return -1;
    }
  }
#else
  (void)dir;
  (void)quiet;
#endif
#if !SPOT_HAVE_NATS
  (void)timeout_ms;
  (void)workers;
#endif
  return 0;
}

void spotd_bridges_stop(int quiet) {
#if SPOT_HAVE_NATS
  if (pool_run) {
    spot_bridge_pool_stats_t st;
    spot_bridge_pool_stats(pool_run, &st);
    spot_bridge_pool_stop(pool_run);
    pool_run = NULL;
    if (!quiet)
      fprintf(stderr, "spotd: pool %s: %llu fed, %llu taken (%llu delivered before), %llu ran, %llu failed, %llu "
                      "dead, %llu refused, %llu expired before feeding\n", pool.name, (unsigned long long)st.fed,
              (unsigned long long)st.taken, (unsigned long long)st.redelivered, (unsigned long long)st.ran,
              (unsigned long long)st.failed, (unsigned long long)st.dead, (unsigned long long)st.refused,
              (unsigned long long)st.skipped);
  }
  mirrors_stop = 1;
  for (size_t i = 0; i < nmirrors; i++) {
    if (!mirrors[i].started)
      continue;
    pthread_join(mirrors[i].thread, NULL);
    mirrors[i].started = 0;
    if (!quiet)
      SPOTD_LOG(SPOTD_LOG_INFO, "mirror %s: %llu copied, %llu repaired, %llu batches sent again, %llu expired",
              mirrors[i].log, (unsigned long long)mirrors[i].total.published,
              (unsigned long long)mirrors[i].total.repaired, (unsigned long long)mirrors[i].total.retried,
              (unsigned long long)mirrors[i].total.skipped);
  }
  if (nmirrors || pool.url)
    nats_Close();
#endif
#if SPOT_HAVE_MQTT
  if (mqtt_bridge) {
    spot_bridge_mqtt_stats_t st;
    spot_bridge_mqtt_stats(mqtt_bridge, &st);
    spot_bridge_mqtt_stop(mqtt_bridge);
    mqtt_bridge = NULL;
    if (!quiet)
      SPOTD_LOG(SPOTD_LOG_INFO, "mqtt: %llu received, %llu put, %llu refused, %llu failed; %llu published, %llu "
                                "acknowledged, %llu rejected", (unsigned long long)st.received, (unsigned long long)st.put,
              (unsigned long long)st.refused, (unsigned long long)st.failed, (unsigned long long)st.published,
              (unsigned long long)st.acked, (unsigned long long)st.rejected);
  }
#else
  (void)quiet;
#endif
}
