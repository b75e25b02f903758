/*
 * mqtt_bridge_test.c: spotd's MQTT bridge against a real mosquitto broker started here on 127.0.0.1 (a free port,
 * its persistence in a scratch directory), with mosquitto_pub and mosquitto_sub as the devices and the consumer.
 *  - basic_round_trip: messages on dev/+/t become puts to log a that run handler `count` once each, carrying the cause
 *    from their user properties; puts to log b reach a subscriber of out/b with their log, sequence number and put
 *    event in user properties.
 *  - kill_broker_restart: the broker is stopped and started again in the middle of both streams; every message gets
 *    through (duplicates allowed: QoS 1).
 *  - kill_spotd: spotd is killed with SIGKILL in the middle of both streams and started again; nothing the broker
 *    acknowledged is lost either way.
 *  - basic_bad_payloads: a payload longer than the log's element is refused, counted and logged, never truncated, and
 *    the stream goes on; an empty payload and a malformed cause are put (without a cause).
 *  - basic_tls_account: the same round trip over TLS (a CA and certificate made with openssl) with an account
 *    (mosquitto_passwd; --mqtt-user, --mqtt-password-file); a wrong password is refused and spotd says so.
 * Exits 77 (skipped) when mosquitto or its clients are not installed. Every wait is bounded.
 */
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "brokers.h"
#include "spot.h"
#include "support.h"
#include "test.h"

static char dir[4200], ns[4300], conf[4300];
static int port, broker = -1, tls;
static char spotd_extra[9000], client_extra[4500]; /* TLS and account options of spotd and of the clients */

static int start_broker(void) {
  broker = spot_test_spawn("%s -c %s >>%s/broker.log 2>&1", spot_test_mosquitto_bin(), conf, dir);
  return spot_test_wait_port(port, 10000);
}

/* A scratch namespace with the test handlers, log a (16-byte inbound, sync given), seen (what `count` records) and
 * b (16-byte outbound), and a broker on a free port with persistence in the scratch directory. */
/* With tls set: a CA and a server certificate for 127.0.0.1 made with openssl, an account dev/secret made with
 * mosquitto_passwd, and a broker that takes only TLS connections with that account. */
static int make_tls(void) {
  char out[4096], err[4096];
  int rc = spot_test_sh(out, sizeof out, err, sizeof err,
                        "cd %s && printf 'subjectAltName=IP:127.0.0.1\n' >ext.cnf && "
                        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 "
                        "-subj /CN=spot-test-ca && "
                        "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 && "
                        "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt "
                        "-days 2 -extfile ext.cnf && mosquitto_passwd -b -c pw.txt dev secret && "
                        "printf 'secret\n' >dev.password && printf 'wrong\n' >bad.password",
                        dir);
  if (rc != 0)
    fprintf(stderr, "  making the certificates failed: %s%s\n", out, err);
  snprintf(spotd_extra, sizeof spotd_extra, "--mqtt-cafile %s/ca.crt --mqtt-user dev --mqtt-password-file %s/dev.password",
           dir, dir);
  snprintf(client_extra, sizeof client_extra, "--cafile %s/ca.crt -u dev -P secret", dir);
  return rc == 0 ? 0 : -1;
}

static int setup(const char *tag, const char *sync_a) {
  snprintf(dir, sizeof dir, "%s", spot_test_dir(tag));
  snprintf(ns, sizeof ns, "%s/ns", dir);
  char out[4096], err[4096];
  int rc = spot_test_sh(out, sizeof out, err, sizeof err,
                        "%s init %s && %s -n %s build-handler %s/tests/handlers/test_handlers.c && "
                        "%s -n %s create a --size 16 --history 20000 --sync %s && "
                        "%s -n %s create seen --size 8 --history 40000 && %s -n %s create b --size 16 --history 20000",
                        spot_test_bin(), ns, spot_test_bin(), ns, spot_test_env("SPOT_SRC"), spot_test_bin(), ns, sync_a,
                        spot_test_bin(), ns, spot_test_bin(), ns);
  if (rc != 0) {
    fprintf(stderr, "  setup failed: %s%s\n", out, err);
    return -1;
  }
  port = spot_test_free_port();
  spotd_extra[0] = client_extra[0] = '\0';
  if (tls && make_tls() != 0)
    return -1;
  snprintf(conf, sizeof conf, "%s/mosquitto.conf", dir);
  FILE *f = fopen(conf, "w");
  if (f == NULL)
    return -1;
  /* mosquitto started by root drops to user `mosquitto` unless told otherwise, and could not then write its
   * persistence into our scratch directory: it runs as whoever runs the test (the setting is ignored for others) */
  struct passwd *pw = getpwuid(getuid());
  fprintf(f, "user %s\n", pw ? pw->pw_name : "root");
  fprintf(f, "listener %d 127.0.0.1\npersistence true\npersistence_location %s/\n"
             "max_queued_messages 100000\nmax_inflight_messages 100\nlog_type all\n", port, dir);
  if (tls)
    fprintf(f, "allow_anonymous false\npassword_file %s/pw.txt\ncafile %s/ca.crt\ncertfile %s/server.crt\n"
               "keyfile %s/server.key\n", dir, dir, dir, dir);
  else
    fprintf(f, "allow_anonymous true\n");
  fclose(f);
  if (start_broker() != 0) {
    fprintf(stderr, "  mosquitto did not start on port %d (see %s/broker.log)\n", port, dir);
    return -1;
  }
  return 0;
}

/* Starts spotd with the bridge and waits (at most 20 s) until the broker has its subscription: a message published
 * before the bridge's first session exists has no one to go to (MQTT), so the tests publish after it. */
static int start_spotd(void) {
  int pid = spot_test_spawn("%s -n %s --quiet --mode thread --mqtt 127.0.0.1:%d --bridge 'a<-dev/+/t:count' "
                         "--bridge 'b->out/b' %s 2>>%s/spotd.log",
                         spot_test_env("SPOTD_BIN"), ns, port, spotd_extra, dir);
  char out[64];
  for (int i = 0; i < 400; i++) {
    if (spot_test_sh(out, sizeof out, NULL, 0, "grep -q 'spot-[0-9a-f]* 1 dev/+/t' %s/broker.log", dir) == 0)
      return pid;
    usleep(50 * 1000);
  }
  fprintf(stderr, "  the bridge did not subscribe (see %s/spotd.log and broker.log)\n", dir);
  return -1;
}

/* Starts a persistent-session subscriber of out/b writing "PROPERTIES HEXPAYLOAD" lines to DIR/sub.out: first a
 * run that only makes the session and its subscription (so nothing published after this returns is missed), then
 * the one that stays. */
static int start_subscriber(void) {
  char out[1024], err[1024];
  if (spot_test_sh(out, sizeof out, err, sizeof err,
                   "mosquitto_sub -h 127.0.0.1 -p %d -V 5 -q 1 -c -i spot-test-sub -x 3600 -t out/b -E %s", port,
                   client_extra) != 0) {
    fprintf(stderr, "  mosquitto_sub could not subscribe: %s%s\n", out, err);
    return -1;
  }
  return spot_test_spawn("mosquitto_sub -h 127.0.0.1 -p %d -V 5 -q 1 -c -i spot-test-sub -x 3600 -t out/b "
                         "-F '%%P %%x' %s >>%s/sub.out 2>>%s/sub.err",
                         port, client_extra, dir, dir);
}

/* Publishes messages m<from>..m<to> on dev/7/t (QoS 1), with a cause in user properties. 0 or -1. */
static int publish(int from, int to) {
  char out[1024], err[1024];
  int rc = spot_test_sh(out, sizeof out, err, sizeof err,
                        "seq %d %d | sed 's/^/m/' | mosquitto_pub -h 127.0.0.1 -p %d -V 5 -q 1 -t dev/7/t -l %s "
                        "-D publish user-property spot-node 00000000000000ab -D publish user-property spot-event 42",
                        from, to, port, client_extra);
  if (rc != 0)
    fprintf(stderr, "  mosquitto_pub failed: %s%s\n", out, err);
  return rc == 0 ? 0 : -1;
}

/* How many of m1..mN log a holds (each counted once, duplicates aside), into *distinct; *total gets its latest. */
static int count_inbound(spot_ns_t *n, int N, int *distinct, uint64_t *total) {
  spot_log_t *log;
  if (spot_ns_open_log(n, "a", 0, &log, NULL) != 0)
    return -1;
  char *have = calloc((size_t)N + 1, 1);
  uint64_t latest = 0;
  spot_log_latest(log, &latest);
  int d = 0;
  for (uint64_t s = 1; s <= latest; s++) {
    char buf[17] = {0};
    int v = 0;
    if (spot_log_read(log, s, buf, 16) == 0 && sscanf(buf, "m%d", &v) == 1 && v >= 1 && v <= N && !have[v])
      have[v] = 1, d++;
  }
  free(have);
  spot_log_close(log);
  *distinct = d;
  *total = latest;
  return 0;
}

static int wait_inbound(spot_ns_t *n, int N, int timeout_s, uint64_t *total) {
  int d = 0;
  for (int i = 0; i < timeout_s * 20; i++) {
    if (count_inbound(n, N, &d, total) == 0 && d == N)
      return N;
    usleep(50 * 1000);
  }
  return d;
}

static int hexval(int c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Reads DIR/sub.out: how many of m1..mN arrived (distinct), and checks every line's properties name log b, the
 * element's sequence number and a put event of this node (*bad counts lines that do not). */
static int count_outbound(int N, uint64_t node, int *bad) {
  char path[4400];
  snprintf(path, sizeof path, "%s/sub.out", dir);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return 0;
  char *have = calloc((size_t)N + 1, 1), line[1024];
  int d = 0;
  *bad = 0;
  char want_node[40];
  snprintf(want_node, sizeof want_node, "spot-node:%016llx", (unsigned long long)node);
  while (fgets(line, sizeof line, f)) {
    if (strchr(line, '\n') == NULL)
      break; /* being written */
    char *hex = strrchr(line, ' ');
    char text[17] = {0};
    for (int i = 0; hex && i < 16 && hexval(hex[1 + 2 * i]) >= 0 && hexval(hex[2 + 2 * i]) >= 0; i++)
      text[i] = (char)(hexval(hex[1 + 2 * i]) * 16 + hexval(hex[2 + 2 * i]));
    int v = 0;
    unsigned long long seq = 0;
    char *sp = strstr(line, "spot-seq:");
    if (sscanf(text, "m%d", &v) != 1 || v < 1 || v > N || sp == NULL || sscanf(sp, "spot-seq:%llu", &seq) != 1 ||
        strstr(line, "spot-log:b ") == NULL || strstr(line, want_node) == NULL || strstr(line, "spot-event:") == NULL) {
      (*bad)++;
      continue;
    }
    if (!have[v])
      have[v] = 1, d++;
  }
  fclose(f);
  free(have);
  return d;
}

static int wait_outbound(int N, uint64_t node, int timeout_s, int *bad) {
  int d = 0;
  for (int i = 0; i < timeout_s * 20; i++) {
    if ((d = count_outbound(N, node, bad)) == N)
      return N;
    usleep(50 * 1000);
  }
  return d;
}

/* Traffic both ways through the bridge, as every account sees it: a subscriber of out/b, spotd with the bridge, then
 * m1..mN published on dev/7/t and put to log b; waits (at most 20 s each) until log a holds all N and the
 * subscriber got all N, every line naming log b, its sequence number and a put of this node. On success *n gets the
 * namespace, open (the caller closes it), *spotd spotd's pid and *total the latest of log a; 0. Else -1 with a line
 * saying what fell short (the servers are left to spot_test_stop_all). */
static int both_ways(int N, spot_ns_t **n, int *spotd, uint64_t *total) {
  int pid = -1;
  spot_ns_t *h;
  if (start_subscriber() <= 0 || (pid = start_spotd()) <= 0)
    return -1;
  if (spot_ns_open(ns, NULL, &h) != 0) {
    fprintf(stderr, "  cannot open %s: %s\n", ns, spot_errdetail());
    return -1;
  }
  uint64_t latest = 0;
  int in = -1, out = -1, bad = 0;
  if (publish(1, N) != 0 || spot_test_put_numbered(h, "b", 1, N) != 0)
    goto fail;
  in = wait_inbound(h, N, 20, &latest);
  out = wait_outbound(N, spot_ns_node_id(h), 20, &bad);
  if (in != N || out != N || bad != 0)
    goto fail;
  *n = h;
  *spotd = pid;
  *total = latest;
  return 0;
fail:
  fprintf(stderr, "  both ways: %d of %d inbound, %d of %d outbound, %d outbound lines without log, seq or cause\n",
          in, N, out, N, bad);
  spot_ns_close(h);
  return -1;
}

static int skip_without_mosquitto(void) {
  if (spot_test_have("mosquitto") && spot_test_have("mosquitto_pub") && spot_test_have("mosquitto_sub"))
    return 0;
  printf("SKIP: mosquitto or mosquitto-clients is not installed (apt-get install mosquitto mosquitto-clients; "
         "scripts/deps.sh does)\n");
  return 1;
}

static void test_round_trip(void) {
  tls = 0;
  CHECK_OK(setup("mqtt-trip", "batch"));
  spot_ns_t *n;
  int spotd;
  uint64_t total = 0;
  CHECK_OK(both_ways(200, &n, &spotd, &total));
  /* every put to a ran `count` (it records the element's sequence number in seen), and carries the cause */
  spot_log_t *seen;
  CHECK_OK(spot_ns_open_log(n, "seen", 0, &seen, NULL));
  uint64_t s_latest = 0;
  for (int i = 0; i < 400 && (spot_log_latest(seen, &s_latest), s_latest < total); i++)
    usleep(50 * 1000);
  CHECK(s_latest >= total);
  spot_log_close(seen);
  uint64_t lo = 0, hi = 0, with_cause = 0, puts_a = 0;
  CHECK_OK(spot_events_range(n, &lo, &hi));
  for (uint64_t id = lo; lo && id <= hi; id++) {
    spot_eventrec_t e;
    if (spot_events_read(n, id, &e) != 0 || e.type != SPOT_EVENT_PUT || strcmp(e.log, "a") != 0)
      continue;
    puts_a++;
    with_cause += e.cause.node == 0xab && e.cause.event == 42 && strcmp(e.handler, "count") == 0;
  }
  CHECK_EQ(puts_a, total);
  CHECK_EQ(with_cause, total);
  spot_ns_close(n);
  CHECK(spot_test_stop(spotd, SIGTERM) == 0);
  spot_test_stop_all();
}

static void test_broker_restart(void) {
  tls = 0;
  CHECK_OK(setup("mqtt-restart", "batch"));
  CHECK(start_subscriber() > 0);
  int spotd = start_spotd();
  CHECK(spotd > 0);
  spot_ns_t *n;
  CHECK_OK(spot_ns_open(ns, NULL, &n));
  const int N = 300;
  CHECK_OK(publish(1, 100));
  CHECK_OK(spot_test_put_numbered(n, "b", 1, 100));
  CHECK(spot_test_stop(broker, SIGTERM) >= 0); /* mosquitto saves its sessions and queues on SIGTERM */
  /* published while the broker is down: queued by the bridge */
  CHECK_OK(spot_test_put_numbered(n, "b", 101, 200));
  CHECK_OK(start_broker());
  CHECK_OK(publish(101, N));
  CHECK_OK(spot_test_put_numbered(n, "b", 201, N));
  uint64_t total = 0;
  CHECK_EQ(wait_inbound(n, N, 30, &total), N);
  int bad = 0;
  CHECK_EQ(wait_outbound(N, spot_ns_node_id(n), 30, &bad), N);
  CHECK_EQ(bad, 0);
  printf("  broker restart: %d inbound in %llu puts; %d outbound arrived\n", N, (unsigned long long)total, N);
  spot_ns_close(n);
  CHECK(spot_test_stop(spotd, SIGTERM) == 0);
  spot_test_stop_all();
}

static void test_spotd_kill9(void) {
  tls = 0;
  CHECK_OK(setup("mqtt-kill", "always")); /* a sync per inbound put: slow enough for the kill to land mid-stream */
  CHECK(start_subscriber() > 0);
  spot_ns_t *n;
  CHECK_OK(spot_ns_open(ns, NULL, &n));
  const int N = 400, NB = 5000;
  CHECK_OK(spot_test_put_numbered(n, "b", 1, NB)); /* waiting in b before spotd starts */
  int spotd = start_spotd();
  CHECK(spotd > 0);
  CHECK_OK(publish(1, N));
  int d = 0, bad = 0;
  uint64_t total = 0;
  for (int i = 0; i < 400 && (count_inbound(n, N, &d, &total), d < 20); i++)
    usleep(10 * 1000);
  int out_before = count_outbound(NB, spot_ns_node_id(n), &bad);
  CHECK(spot_test_stop(spotd, SIGKILL) >= 0);
  printf("  kill -9 after %d of %d inbound, %d of %d outbound\n", d, N, out_before, NB);
  spotd = start_spotd();
  CHECK(spotd > 0);
  CHECK_EQ(wait_inbound(n, N, 30, &total), N);
  CHECK_EQ(wait_outbound(NB, spot_ns_node_id(n), 30, &bad), NB);
  CHECK_EQ(bad, 0);
  spot_ns_close(n);
  CHECK(spot_test_stop(spotd, SIGTERM) == 0);
  spot_test_stop_all();
}

static void test_bad_payloads(void) {
  tls = 0;
  CHECK_OK(setup("mqtt-bad", "batch"));
  int spotd = start_spotd();
  CHECK(spotd > 0);
  spot_ns_t *n;
  CHECK_OK(spot_ns_open(ns, NULL, &n));
  char out[1024], err[1024];
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err,
                        "mosquitto_pub -h 127.0.0.1 -p %d -V 5 -q 1 -t dev/1/t -m 01234567890123456789 && "
                        "mosquitto_pub -h 127.0.0.1 -p %d -V 5 -q 1 -t dev/1/t -m 0123456789abcdefX && "
                        "mosquitto_pub -h 127.0.0.1 -p %d -V 5 -q 1 -t dev/1/t -n && "
                        "mosquitto_pub -h 127.0.0.1 -p %d -V 5 -q 1 -t dev/1/t -m fine "
                        "-D publish user-property spot-node zz -D publish user-property spot-event 1",
                        port, port, port, port),
           0);
  spot_log_t *a;
  CHECK_OK(spot_ns_open_log(n, "a", 0, &a, NULL));
  uint64_t latest = 0;
  for (int i = 0; i < 400 && (spot_log_latest(a, &latest), latest < 2); i++)
    usleep(50 * 1000);
  CHECK_EQ(latest, 2); /* the two long ones refused, the empty one and "fine" put */
  char buf[16];
  CHECK_OK(spot_log_read(a, 1, buf, sizeof buf));
  for (int i = 0; i < 16; i++)
    CHECK(buf[i] == 0);
  CHECK_OK(spot_log_read(a, 2, buf, sizeof buf));
  CHECK(memcmp(buf, "fine", 5) == 0);
  spot_log_close(a);
  uint64_t lo = 0, hi = 0;
  CHECK_OK(spot_events_range(n, &lo, &hi));
  for (uint64_t id = lo; lo && id <= hi; id++) {
    spot_eventrec_t e;
    if (spot_events_read(n, id, &e) == 0 && e.type == SPOT_EVENT_PUT && strcmp(e.log, "a") == 0)
      CHECK(e.cause.node == 0 && e.cause.event == 0);
  }
  spot_ns_close(n);
  CHECK(spot_test_stop(spotd, SIGTERM) == 0);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "grep -c 'never truncated' %s/spotd.log", dir), 0);
  CHECK_EQ(atoi(out), 2);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "grep -c 'refused so far: 2' %s/spotd.log", dir), 0);
  spot_test_stop_all();
}

static void test_tls_account(void) {
  tls = 1;
  CHECK_OK(setup("mqtt-tls", "batch"));
  spot_ns_t *n;
  int spotd;
  uint64_t total = 0;
  CHECK_OK(both_ways(50, &n, &spotd, &total));
  CHECK(spot_test_stop(spotd, SIGTERM) == 0);
  /* a wrong password: the broker refuses the bridge, which says so (and keeps trying) */
  snprintf(spotd_extra, sizeof spotd_extra, "--mqtt-cafile %s/ca.crt --mqtt-user dev --mqtt-password-file "
           "%s/bad.password", dir, dir);
  spotd = spot_test_spawn("%s -n %s --quiet --mode thread --mqtt 127.0.0.1:%d --bridge 'a<-dev/+/t' %s "
                          "2>>%s/spotd-bad.log", spot_test_env("SPOTD_BIN"), ns, port, spotd_extra, dir);
  CHECK(spotd > 0);
  char out[256];
  int refused = 0;
  for (int i = 0; i < 200 && !refused; i++) {
    refused = spot_test_sh(out, sizeof out, NULL, 0, "grep -q 'refused the connection' %s/spotd-bad.log", dir) == 0;
    usleep(50 * 1000);
  }
  CHECK(refused);
  CHECK(spot_test_stop(spotd, SIGTERM) == 0);
  spot_ns_close(n);
  tls = 0;
}

/* ctest runs two groups as two tests: "basic" (the default) and "kill_"; `mqtt_bridge_test NAME` runs the tests
 * whose name contains NAME, `mqtt_bridge_test ''` all of them. */
static const spot_test_t tests[] = {{"basic_round_trip", test_round_trip},
                                    {"kill_broker_restart", test_broker_restart},
                                    {"kill_spotd", test_spotd_kill9},
                                    {"basic_bad_payloads", test_bad_payloads},
                                    {"basic_tls_account", test_tls_account},
                                    {NULL, NULL}};

int main(int argc, char **argv) {
  if (skip_without_mosquitto())
    return 77;
  int failed = 0, ran = 0;
  const char *only = argc > 1 ? argv[1] : "basic";
  for (const spot_test_t *t = tests; t->name; t++) {
    if (!strstr(t->name, only))
      continue;
    spot_test_failed_ = 0;
    t->fn();
    spot_test_stop_all(); /* a failed CHECK leaves its servers running */
    ran++;
    printf("%s %s\n", spot_test_failed_ ? "FAIL" : "ok  ", t->name);
    fflush(stdout);
    failed += spot_test_failed_;
  }
  printf("%d passed, %d failed\n", ran - failed, failed);
  return failed;
}
