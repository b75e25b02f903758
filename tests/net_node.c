/*
 * tests/net_node.c: the node under test of the network tests (net_node.h): its keys, namespace and access file, the
 * spotd serving them, clients, raw CURVE sockets and the node's refusal events. Loopback only; every wait is bounded.
 */
#include "net_node.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "core/event.h"
#include "dispatch/dispatch.h"
#include "net/net_impl.h"
#include "spot.h"
#include "support.h"

net_node_t net;

const char *net_env(const char *name) {
  const char *v = getenv(name);
  return v ? v : "";
}

void net_kill_spotd(void) {
  if (net.spotd_pid > 0) {
    kill(net.spotd_pid, SIGKILL);
    waitpid(net.spotd_pid, NULL, 0);
    net.spotd_pid = 0;
  }
}

void net_start_spotd(void) {
  pid_t pid = fork();
  if (pid == 0) {
    char key[4400];
    snprintf(key, sizeof key, "%s/node.key", net.root);
    FILE *log = fopen(net.spotd_log, "a");
    if (log != NULL)
      dup2(fileno(log), 2);
    execl(net_env("SPOTD_BIN"), "spotd", "-n", net.ns_dir, "--quiet", "--mode", "thread", "--listen", net.endpoint,
          "--key", key, (char *)NULL);
    _exit(127);
  }
  net.spotd_pid = pid;
}

void net_access_settle(void) { usleep((useconds_t)(SPOT__NET_ACCESS_RECHECK_NS / 1000u) + 20000); }

void net_write_access(const char *text) {
  char path[4400];
  snprintf(path, sizeof path, "%s/access", net.ns_dir);
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  net_access_settle();
}

void net_set_access(const char *extra) {
  char access[2048];
  snprintf(access, sizeof access, "%s get,put,create   # alice\n%s get   # bob\n%s", net_read_pub("alice"),
           net_read_pub("bob"), extra);
  net_write_access(access);
}

void *net_raw_socket(void *ctx, const char *pub, const char *sec, void **mon) {
  static unsigned n;
  char node[64], addr[64], ep[160];
  snprintf(node, sizeof node, "%s", net_read_pub("node"));
  snprintf(addr, sizeof addr, "inproc://net-test-mon-%u", n++);
  snprintf(ep, sizeof ep, "tcp://%s", net.endpoint);
  void *s = zmq_socket(ctx, ZMQ_DEALER);
  int linger = 0, never = -1, timeout = 200;
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &never, sizeof never);
  zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, node, 40);
  zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40);
  zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40);
  zmq_socket_monitor(s, addr, ZMQ_EVENT_ALL);
  *mon = zmq_socket(ctx, ZMQ_PAIR);
  zmq_setsockopt(*mon, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(*mon, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
  zmq_connect(*mon, addr);
  zmq_connect(s, ep);
  return s;
}

void net_raw_close(void *s, void *mon) {
  zmq_socket_monitor(s, NULL, 0);
  zmq_close(mon);
  zmq_close(s);
}

int net_wait_event(void *mon, int want, int other, int limit_ms) {
  for (int waited = 0; waited < limit_ms; waited += 200) {
    uint8_t ev[6];
    int n = zmq_recv(mon, ev, sizeof ev, 0);
    if (n < 0)
      continue;
    char skip[256];
    zmq_recv(mon, skip, sizeof skip, 0); /* the endpoint frame */
    int id = ev[0] | ev[1] << 8;
    if (id == want)
      return 1;
    if (id == other)
      return 0;
  }
  return 0;
}

unsigned net_count_events(uint64_t after, const char *what, uint64_t *last) {
  spot_ns_t *ns;
  unsigned n = 0;
  if (spot_ns_open(net.ns_dir, NULL, &ns) != 0)
    return 0;
  spot_log_t *events;
  uint64_t hi = 0;
  if (spot__nsctx_events(ns, &events) == 0)
    spot_log_latest(events, &hi);
  for (uint64_t id = after + 1; id <= hi; id++) {
    spot__event_t e;
    if (spot__events_read(ns, id, &e) == 0 && e.type == SPOT__EV_FAIL && strstr(e.reason, what) != NULL)
      n++;
  }
  if (last)
    *last = hi;
  spot_ns_close(ns);
  return n;
}

char *net_read_pub(const char *name) {
  static char keys[4][64];
  static int k;
  char path[4400];
  snprintf(path, sizeof path, "%s/%s.pub", net.root, name);
  FILE *f = fopen(path, "r");
  char *out = keys[k++ % 4];
  out[0] = '\0';
  if (f) {
    if (fgets(out, 64, f) == NULL)
      out[0] = '\0';
    fclose(f);
  }
  out[strcspn(out, "\n")] = '\0';
  return out;
}

/* Keys for the node, alice, bob and mallory; namespace `home` with log `temp`; the access file of net_set_access. */
static int setup(const char *tag) {
  snprintf(net.root, sizeof net.root, "%s", spot_test_dir(tag));
  snprintf(net.ns_dir, sizeof net.ns_dir, "%s/home", net.root);
  snprintf(net.spotd_log, sizeof net.spotd_log, "%s/spotd.log", net.root);
  net.port = 20000 + (int)(getpid() % 20000);
  snprintf(net.endpoint, sizeof net.endpoint, "127.0.0.1:%d", net.port);
  snprintf(net.url, sizeof net.url, "spot://127.0.0.1:%d/home/temp", net.port);
  char out[4096], err[4096];
  int rc = spot_test_sh(out, sizeof out, err, sizeof err,
                        "cd %s && S=%s && $S keygen node && $S keygen alice && $S keygen bob && $S keygen mallory && "
                        "$S init %s && $S -n %s create temp --size 16 --history 100000",
                        net.root, spot_test_bin(), net.ns_dir, net.ns_dir);
  if (rc != 0) {
    fprintf(stderr, "setup: %s%s", out, err);
    net.root[0] = '\0';
    return rc;
  }
  net_set_access("");
  atexit(net_kill_spotd);
  return 0;
}

spot_remote_t *net_client(const char *who, uint32_t timeout_ms) {
  char key[4400], node[4400];
  snprintf(key, sizeof key, "%s/%s.key", net.root, who);
  snprintf(node, sizeof node, "%s/node.pub", net.root);
  spot_remote_t *r = NULL;
  if (spot_remote_new(key, node, timeout_ms, &r) != 0)
    fprintf(stderr, "  client %s: %s\n", who, spot_errdetail());
  return r;
}

int net_wait_up(spot_remote_t *r) {
  for (int i = 0; i < 100; i++) {
    uint64_t seq;
    if (spot_remote_latest(r, net.url, &seq) == 0)
      return 0;
    usleep(100000);
  }
  return -1;
}

int net_up(const char *tag) {
  if (net.root[0] == '\0' && setup(tag) != 0)
    return -1;
  if (net.spotd_pid > 0)
    return 0;
  net_start_spotd();
  spot_remote_t *alice = net_client("alice", 2000);
  int rc = alice != NULL ? net_wait_up(alice) : -1;
  spot_remote_free(alice);
  if (rc != 0)
    fprintf(stderr, "  the node did not answer within 10 s: see %s\n", net.spotd_log);
  return rc;
}
