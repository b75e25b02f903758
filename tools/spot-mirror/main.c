/*
 * spot-mirror: `spot mirror LOG nats://HOST:PORT[,HOST:PORT...][/STREAM] [--follow] [--replicas N] [--json]`
 * (spot runs spot-VERB for a verb it does not know; the namespace comes as -n DIR or $SPOT_DIR). Copies to a
 * JetStream stream what it lacks of the log, exactly once by message id (src/bridge/mirror.c), and exits; with
 * --follow it keeps copying until SIGTERM or SIGINT. Prints what it did (one line, or JSON with --json).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "bridge/bridge.h"

static volatile int stop;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static void usage_to(FILE *out) {
  fprintf(out, "usage: spot [-n DIR] mirror LOG nats://HOST:PORT[,HOST:PORT...][/STREAM] [--follow] "
               "[--replicas N] [--json] [--quiet]\n"
               "Copies to a JetStream stream (default SPOT_LOG, made if missing) what it lacks of LOG, exactly once by\n"
               "message id (Nats-Msg-Id NODE-LOG-SEQ), then exits; --follow keeps copying until SIGTERM or SIGINT.\n"
               "--replicas N: replicas of a stream it makes (a cluster). Exit status 0, 1 (the line says why), 2.\n");
}

static int usage(void) {
  usage_to(stderr);
  return 2;
}

int main(int argc, char **argv) {
  const char *dir = getenv("SPOT_DIR"), *log = NULL, *url = NULL;
  int json = 0;
  spot_bridge_mirror_opts_t o = {0};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if ((strcmp(a, "-n") == 0 || strcmp(a, "--namespace") == 0) && i + 1 < argc)
      dir = argv[++i];
    else if (strcmp(a, "--follow") == 0)
      o.follow = 1;
    else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
      return usage_to(stdout), 0;
    else if (strcmp(a, "--version") == 0)
      return printf("spot-mirror %s\n", SPOT_VERSION), 0;
    else if (strcmp(a, "--json") == 0)
      json = 1;
    else if (strcmp(a, "--quiet") == 0)
      o.quiet = 1;
    else if (strcmp(a, "--replicas") == 0 && i + 1 < argc)
      o.replicas = atoi(argv[++i]);
    else if (a[0] == '-')
      return usage();
    else if (log == NULL)
      log = a;
    else if (url == NULL)
      url = a;
    else
      return usage();
  }
  if (log == NULL || url == NULL)
    return usage();
  if (dir == NULL || dir[0] == '\0')
    return fprintf(stderr, "spot: no namespace: use -n DIR or set SPOT_DIR\n"), 2;
  if (o.replicas < 0 || o.replicas > 5)
    return fprintf(stderr, "spot: --replicas must be 1 to 5\n"), 2;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  o.log = log;
  o.url = url;
  o.stop = &stop;
  spot_bridge_mirror_stats_t st;
  int rc = spot_bridge_mirror_run(dir, &o, &st);
  if (rc != 0)
    fprintf(stderr, "spot: mirror %s: %s\n", log, spot_errdetail());
  if (json)
    printf("{\"log\":\"%s\",\"resumed_after\":%llu,\"repaired\":%llu,\"published\":%llu,\"retried\":%llu,"
           "\"skipped\":%llu,\"last\":%llu,\"ok\":%s}\n",
           log, (unsigned long long)st.resumed_after, (unsigned long long)st.repaired,
           (unsigned long long)st.published, (unsigned long long)st.retried, (unsigned long long)st.skipped,
           (unsigned long long)st.last, rc == 0 ? "true" : "false");
  else if (rc == 0)
    printf("%s: %llu copied (stream had up to #%llu; %llu repaired, %llu batches sent again, %llu expired)\n", log,
           (unsigned long long)st.published, (unsigned long long)st.resumed_after, (unsigned long long)st.repaired,
           (unsigned long long)st.retried, (unsigned long long)st.skipped);
  nats_Close();
  return rc == 0 ? 0 : 1;
}
