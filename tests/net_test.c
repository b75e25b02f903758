/*
 * net_test.c: a node serving its namespace over ZeroMQ with CURVE (spotd --listen) and clients reaching it with
 * spot://host:port/ns/log names: remote create, put, get, latest, info; refusals (an unknown key, a key without
 * the put right) with a clear error on the client and an event on the node; access changes taking effect without
 * a restart; a wrong node key or a node that is down giving a time-out error, not a hang; malformed and truncated
 * frames that leave the node serving; many clients interleaved (one with hundreds of requests in flight) all
 * getting their own answers; a revoked key refused once the node's access reload bound has passed (an edit in place,
 * and a file of the same size and time renamed over it); and kill -9 of the node in the middle of a stream of remote puts: the client
 * sees errors, and after a restart every put it saw acknowledged is there. Loopback only; every wait is bounded.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "core/event.h"
#include "core/wire.h"
#include "dispatch/dispatch.h"
#include "net/net_impl.h"
#include "net/ratelimit.h"
#include "platform/platform.h"
#include "spot.h"
#include "spot/net.h"
#include "support.h"
#include "test.h"

static char root[4200], ns_dir[4300], url[256], endpoint[128];
static int port;

static const char *env(const char *name) {
  const char *v = getenv(name);
  return v ? v : "";
}

static pid_t spotd_pid;

static void kill_spotd(void) {
  if (spotd_pid > 0) {
    kill(spotd_pid, SIGKILL);
    waitpid(spotd_pid, NULL, 0);
    spotd_pid = 0;
  }
}

/* spotd's own log (its stderr), appended to by every spotd the tests start. */
static char spotd_log[4300];

static pid_t start_spotd(void) {
  pid_t pid = fork();
  if (pid == 0) {
    char key[4400];
    snprintf(key, sizeof key, "%s/node.key", root);
    FILE *log = fopen(spotd_log, "a");
    if (log != NULL)
      dup2(fileno(log), 2);
    execl(env("SPOTD_BIN"), "spotd", "-n", ns_dir, "--quiet", "--mode", "thread", "--listen", endpoint, "--key", key,
          (char *)NULL);
    _exit(127);
  }
  spotd_pid = pid;
  return pid;
}

/* Waits past the node's bound for taking a change of its access file into account (SPOT__NET_ACCESS_RECHECK_NS):
 * every request after this sees the file as it is now. */
static void access_settle(void) { usleep((useconds_t)(SPOT__NET_ACCESS_RECHECK_NS / 1000u) + 20000); }

static void write_access(const char *text) {
  char path[4400];
  snprintf(path, sizeof path, "%s/access", ns_dir);
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  access_settle();
}

static char *read_pub(const char *name);

/* The access file of the tests below: alice (get, put, create), bob (get), then the lines in extra. */
static void set_access(const char *extra) {
  char access[2048];
  snprintf(access, sizeof access, "%s get,put,create   # alice\n%s get   # bob\n%s", read_pub("alice"),
           read_pub("bob"), extra);
  write_access(access);
}

/* A raw DEALER socket with CURVE key pair (pub, sec) connected to the node, and *mon a PAIR socket receiving
 * every event of its monitor. No reconnection after a failure. */
static void *raw_socket(void *ctx, const char *pub, const char *sec, void **mon) {
  static unsigned n;
  char node[64], addr[64], ep[160];
  snprintf(node, sizeof node, "%s", read_pub("node"));
  snprintf(addr, sizeof addr, "inproc://net-test-mon-%u", n++);
  snprintf(ep, sizeof ep, "tcp://%s", endpoint);
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

static void raw_close(void *s, void *mon) {
  zmq_socket_monitor(s, NULL, 0);
  zmq_close(mon);
  zmq_close(s);
}

/* Waits (at most limit_ms, in 200 ms steps) for monitor event `want`: 1 if it came, 0 if `other` came first or
 * the time ran out. */
static int wait_event(void *mon, int want, int other, int limit_ms) {
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

/* A field of /proc/PID/status in kB ("VmHWM:", the peak resident size), or -1. */
static long proc_kb(pid_t pid, const char *field) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, field, strlen(field)) == 0)
      kb = atol(line + strlen(field));
  if (f)
    fclose(f);
  return kb;
}

/* Counts the node's fail events from event id `after` on whose reason holds `what`. */
static unsigned count_events(uint64_t after, const char *what, uint64_t *last) {
  spot_ns_t *ns;
  unsigned n = 0;
  if (spot_ns_open(ns_dir, NULL, &ns) != 0)
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

static char *read_pub(const char *name) {
  static char keys[4][64];
  static int k;
  char path[4400];
  snprintf(path, sizeof path, "%s/%s.pub", root, name);
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

/* Keys for the node, alice (get, put, create) and bob (get only); namespace `home` with log `temp`. */
static int setup(void) {
  snprintf(root, sizeof root, "%s", spot_test_dir("net"));
  snprintf(ns_dir, sizeof ns_dir, "%s/home", root);
  snprintf(spotd_log, sizeof spotd_log, "%s/spotd.log", root);
  port = 20000 + (int)(getpid() % 20000);
  snprintf(endpoint, sizeof endpoint, "127.0.0.1:%d", port);
  snprintf(url, sizeof url, "spot://127.0.0.1:%d/home/temp", port);
  char out[4096], err[4096];
  int rc = spot_test_sh(out, sizeof out, err, sizeof err,
                        "cd %s && S=%s && $S keygen node && $S keygen alice && $S keygen bob && $S keygen mallory && "
                        "$S init %s && $S -n %s create temp --size 16 --history 100000",
                        root, spot_test_bin(), ns_dir, ns_dir);
  if (rc != 0) {
    fprintf(stderr, "setup: %s%s", out, err);
    return rc;
  }
  char access[512];
  snprintf(access, sizeof access, "%s get,put,create   # alice\n%s get   # bob\n", read_pub("alice"), read_pub("bob"));
  write_access(access);
  atexit(kill_spotd);
  return 0;
}

static spot_remote_t *client(const char *who, uint32_t timeout_ms) {
  char key[4400], node[4400];
  snprintf(key, sizeof key, "%s/%s.key", root, who);
  snprintf(node, sizeof node, "%s/node.pub", root);
  spot_remote_t *r = NULL;
  if (spot_remote_new(key, node, timeout_ms, &r) != 0)
    fprintf(stderr, "  client %s: %s\n", who, spot_errdetail());
  return r;
}

/* Waits (at most 10 s) until the node answers. */
static int wait_up(spot_remote_t *r) {
  for (int i = 0; i < 100; i++) {
    uint64_t seq;
    if (spot_remote_latest(r, url, &seq) == 0)
      return 0;
    usleep(100000);
  }
  return -1;
}

static void test_remote_ops_and_rights(void) {
  CHECK_OK(setup());
  start_spotd();
  spot_remote_t *alice = client("alice", 2000), *bob = client("bob", 2000), *mallory = client("mallory", 2000);
  CHECK(alice && bob && mallory);
  CHECK_OK(wait_up(alice));
  uint64_t seq;
  CHECK_OK(spot_remote_put(alice, url, "21.5", 4, NULL, NULL, &seq));
  CHECK_EQ(seq, 1);
  char buf[64];
  size_t size;
  CHECK_OK(spot_remote_get(alice, url, 1, buf, sizeof buf, &size));
  CHECK_EQ(size, 16);
  CHECK(memcmp(buf, "21.5\0\0", 6) == 0);
  CHECK_OK(spot_remote_get(bob, url, 1, buf, sizeof buf, &size)); /* bob may read */
  spot_log_info_t info;
  CHECK_OK(spot_remote_info(bob, url, &info));
  CHECK_EQ(info.latest, 1);
  CHECK_EQ(info.elem_size, 16);
  CHECK_RC(spot_remote_put(bob, url, "x", 1, NULL, NULL, &seq), SPOT_EPERM); /* ... but not put */
  CHECK(strstr(spot_errdetail(), "put") != NULL);
  CHECK_RC(spot_remote_put(mallory, url, "x", 1, NULL, NULL, &seq), SPOT_EPERM); /* an unknown key */
  CHECK(strstr(spot_errdetail(), "access") != NULL);
  CHECK_RC(spot_remote_get(mallory, url, 1, buf, sizeof buf, &size), SPOT_EPERM);
  char hum[300];
  snprintf(hum, sizeof hum, "spot://127.0.0.1:%d/home/hum", port);
  spot_log_config_t cfg = {.elem_size = 8, .history = 10};
  CHECK_RC(spot_remote_create(bob, hum, &cfg), SPOT_EPERM);
  CHECK_OK(spot_remote_create(alice, hum, &cfg));
  CHECK_RC(spot_remote_create(alice, hum, &cfg), SPOT_EEXIST);
  CHECK_RC(spot_remote_get(alice, url, 99, buf, sizeof buf, &size), SPOT_ENOTYET);
  char other[300];
  snprintf(other, sizeof other, "spot://127.0.0.1:%d/elsewhere/temp", port);
  CHECK_RC(spot_remote_latest(alice, other, &seq), SPOT_ENONS);

  /* a change to the access file takes effect without a restart */
  char access[512];
  snprintf(access, sizeof access, "%s get,put,create\n%s get,put\n", read_pub("alice"), read_pub("bob"));
  write_access(access);
  char touch[4600];
  snprintf(touch, sizeof touch, "touch -d '+1 minute' %s/access", ns_dir);
  CHECK_EQ(system(touch), 0);
  CHECK_OK(spot_remote_put(bob, url, "bob", 3, NULL, NULL, &seq));
  CHECK_EQ(seq, 2);

  /* the refusals are events on the node, and remote puts carry the client as cause */
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(ns_dir, NULL, &ns));
  spot_log_t *events;
  CHECK_OK(spot__nsctx_events(ns, &events));
  uint64_t hi, refused = 0, puts = 0;
  spot_log_latest(events, &hi);
  for (uint64_t id = 1; id <= hi; id++) {
    spot__event_t e;
    if (spot__events_read(ns, id, &e) != 0)
      continue;
    refused += e.type == SPOT__EV_FAIL && strstr(e.reason, "refused") != NULL;
    puts += e.type == SPOT__EV_PUT && e.cause_node != 0;
  }
  CHECK(refused >= 4);
  CHECK_EQ(puts, 2);
  spot_ns_close(ns);
  spot_remote_free(alice);
  spot_remote_free(bob);
  spot_remote_free(mallory);
}

/* 500 puts in flight on one connection: every reply comes back once, in order, with dense sequence numbers. */
static void test_pipelined_puts(void) {
  spot_remote_t *alice = client("alice", 5000);
  CHECK(alice != NULL);
  uint64_t first = 0, ticket, seq, tickets[500];
  CHECK_OK(spot_remote_latest(alice, url, &first));
  for (int i = 0; i < 500; i++) {
    char v[16];
    snprintf(v, sizeof v, "p%d", i);
    CHECK_OK(spot_remote_put_async(alice, url, v, strlen(v), NULL, NULL, &tickets[i]));
  }
  for (int i = 0; i < 500; i++) {
    CHECK_OK(spot_remote_put_result(alice, url, &ticket, &seq));
    CHECK_EQ(ticket, tickets[i]);
    CHECK_EQ(seq, first + 1 + (uint64_t)i);
  }
  char buf[16], want[16];
  size_t size;
  CHECK_OK(spot_remote_get(alice, url, first + 500, buf, sizeof buf, &size));
  snprintf(want, sizeof want, "p%d", 499);
  CHECK(strncmp(buf, want, sizeof buf) == 0);
  spot_remote_free(alice);
}

/* ---- many clients at once ---- */

#define FLOOD 600
#define SYNC_CLIENTS 3
#define SYNC_ROUNDS 120

static struct {
  uint64_t flood_first, flood_seq[FLOOD];
  int failed[SYNC_CLIENTS + 1];
  uint64_t sync_seq[SYNC_CLIENTS][SYNC_ROUNDS];
} mix;

/* One client with FLOOD puts in flight on its connection (one send after another, then the replies). */
static void *flood_client(void *arg) {
  (void)arg;
  spot_remote_t *r = client("alice", 10000);
  uint64_t ticket, tickets[FLOOD];
  char v[16];
  for (int i = 0; i < FLOOD && r && !mix.failed[0]; i++) {
    snprintf(v, sizeof v, "f%d", i);
    mix.failed[0] |= spot_remote_put_async(r, url, v, strlen(v), NULL, NULL, &tickets[i]) != 0;
  }
  for (int i = 0; i < FLOOD && r && !mix.failed[0]; i++) {
    mix.failed[0] |= spot_remote_put_result(r, url, &ticket, &mix.flood_seq[i]) != 0;
    mix.failed[0] |= ticket != tickets[i];
  }
  mix.failed[0] |= r == NULL;
  spot_remote_free(r);
  return NULL;
}

/* A client doing one put at a time, each read back at once: what it reads is what it wrote. */
static void *sync_client(void *arg) {
  int k = (int)(intptr_t)arg;
  spot_remote_t *r = client("alice", 10000);
  char v[16], got[16];
  size_t size;
  for (int i = 0; i < SYNC_ROUNDS && r && !mix.failed[1 + k]; i++) {
    snprintf(v, sizeof v, "s%d-%d", k, i);
    mix.failed[1 + k] |= spot_remote_put(r, url, v, strlen(v), NULL, NULL, &mix.sync_seq[k][i]) != 0;
    mix.failed[1 + k] |= spot_remote_get(r, url, mix.sync_seq[k][i], got, sizeof got, &size) != 0;
    mix.failed[1 + k] |= strncmp(got, v, sizeof got) != 0;
  }
  mix.failed[1 + k] |= r == NULL;
  spot_remote_free(r);
  return NULL;
}

static int cmp_seq(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* One client keeping hundreds of puts in flight and three synchronous ones, all at once: every client gets the
 * answers to its own requests (the flood's in order, each sync put read back as written), and the sequence numbers
 * handed out are dense, none given twice. */
static void test_interleaved_clients(void) {
  spot_remote_t *alice = client("alice", 5000);
  CHECK(alice != NULL);
  uint64_t first;
  CHECK_OK(spot_remote_latest(alice, url, &first));
  memset(&mix, 0, sizeof mix);
  pthread_t t[SYNC_CLIENTS + 1];
  CHECK(pthread_create(&t[0], NULL, flood_client, NULL) == 0);
  for (int k = 0; k < SYNC_CLIENTS; k++)
    CHECK(pthread_create(&t[1 + k], NULL, sync_client, (void *)(intptr_t)k) == 0);
  for (int k = 0; k <= SYNC_CLIENTS; k++)
    pthread_join(t[k], NULL);
  for (int k = 0; k <= SYNC_CLIENTS; k++)
    CHECK_EQ(mix.failed[k], 0);
  enum { TOTAL = FLOOD + SYNC_CLIENTS * SYNC_ROUNDS };
  static uint64_t all[TOTAL];
  size_t n = 0;
  for (int i = 0; i < FLOOD; i++) {
    if (i > 0)
      CHECK(mix.flood_seq[i] > mix.flood_seq[i - 1]); /* one connection's requests are served in order */
    all[n++] = mix.flood_seq[i];
  }
  for (int k = 0; k < SYNC_CLIENTS; k++)
    for (int i = 0; i < SYNC_ROUNDS; i++)
      all[n++] = mix.sync_seq[k][i];
  qsort(all, n, sizeof all[0], cmp_seq);
  for (size_t i = 0; i < n; i++)
    CHECK_EQ(all[i], first + 1 + i);
  char buf[16], want[16];
  size_t size;
  for (int i = 0; i < FLOOD; i += 37) { /* the flood's elements are where their replies said */
    CHECK_OK(spot_remote_get(alice, url, mix.flood_seq[i], buf, sizeof buf, &size));
    snprintf(want, sizeof want, "f%d", i);
    CHECK(strncmp(buf, want, sizeof buf) == 0);
  }
  spot_remote_free(alice);
}

/* A key whose right is taken away is refused once SPOT__NET_ACCESS_RECHECK_NS has passed, on the connection it
 * already has: after an edit in place, and after a file of the same size and modification time is renamed over the
 * access file (only its inode and status-change time tell it apart). */
static void test_revoked_key_refused_after_bound(void) {
  spot_remote_t *alice = client("alice", 5000);
  CHECK(alice != NULL);
  uint64_t seq;
  CHECK_OK(spot_remote_put(alice, url, "before", 6, NULL, NULL, &seq));
  /* in place: alice keeps get only (the line keeps its length) */
  char text[1024];
  snprintf(text, sizeof text, "%s get              # alice\n%s get   # bob\n", read_pub("alice"), read_pub("bob"));
  write_access(text); /* waits past the bound */
  CHECK_RC(spot_remote_put(alice, url, "revoked", 7, NULL, NULL, &seq), SPOT_EPERM);
  CHECK_OK(spot_remote_latest(alice, url, &seq)); /* get is still hers */
  set_access("");
  CHECK_OK(spot_remote_put(alice, url, "again", 5, NULL, NULL, &seq));
  /* renamed over it: the same size and modification time as the file in force */
  char path[4400], next[4400];
  snprintf(path, sizeof path, "%s/access", ns_dir);
  snprintf(next, sizeof next, "%s/access.next", ns_dir);
  FILE *f = fopen(next, "w");
  CHECK(f != NULL);
  fprintf(f, "%s get              # alice\n%s get   # bob\n", read_pub("alice"), read_pub("bob"));
  fclose(f);
  struct stat a, b;
  CHECK_EQ(stat(path, &a), 0);
  CHECK_EQ(stat(next, &b), 0);
  CHECK_EQ(a.st_size, b.st_size);
  char cmd[18000];
  snprintf(cmd, sizeof cmd, "touch -r %s %s && mv %s %s", path, next, next, path);
  CHECK_EQ(system(cmd), 0);
  access_settle();
  CHECK_RC(spot_remote_put(alice, url, "revoked", 7, NULL, NULL, &seq), SPOT_EPERM);
  CHECK(strstr(spot_errdetail(), "only get") != NULL);
  set_access("");
  CHECK_OK(spot_remote_put(alice, url, "again", 5, NULL, NULL, &seq));
  spot_remote_free(alice);
}

static void test_wrong_key_and_down_node_time_out(void) {
  spot_remote_t *r;
  char key[4400], wrong[4400];
  snprintf(key, sizeof key, "%s/alice.key", root);
  snprintf(wrong, sizeof wrong, "%s/mallory.pub", root); /* not the node's key: the handshake never completes */
  CHECK_OK(spot_remote_new(key, wrong, 300, &r));
  uint64_t seq;
  CHECK_RC(spot_remote_latest(r, url, &seq), SPOT_ETIMEDOUT);
  CHECK(strstr(spot_errdetail(), "did not answer") != NULL);
  spot_remote_free(r);
  char down[300];
  snprintf(down, sizeof down, "spot://127.0.0.1:%d/home/temp", port + 1);
  r = client("alice", 300);
  CHECK(r != NULL);
  CHECK_RC(spot_remote_latest(r, down, &seq), SPOT_ETIMEDOUT);
  spot_remote_free(r);
}

/* Raw CURVE frames that are not valid messages: the node drops or refuses them and keeps serving. */
static void test_malformed_frames(void) {
  char node[64], pub[64], sec[64];
  snprintf(node, sizeof node, "%s", read_pub("node"));
  zmq_curve_keypair(pub, sec);
  char line[128];
  snprintf(line, sizeof line, "%s get\n", pub); /* a key the node knows: strangers never get this far */
  set_access(line);
  void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_DEALER);
  int linger = 0, timeout = 2000;
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
  zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, node, 40);
  zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40);
  zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40);
  char ep[160];
  snprintf(ep, sizeof ep, "tcp://%s", endpoint);
  CHECK_EQ(zmq_connect(s, ep), 0);
  /* a valid LATEST request, then every truncation of it, random bytes, and multi-frame messages */
  spot__msg_t m;
  memset(&m, 0, sizeof m);
  m.type = SPOT__WIRE_LATEST;
  m.id = 77;
  m.ns = spot__wire_cstr("home");
  m.log = spot__wire_cstr("temp");
  uint8_t good[128], reply[1024];
  size_t len;
  CHECK_OK(spot__wire_encode(&m, good, sizeof good, &len));
  int answered = 0;
  for (size_t cut = 0; cut < len; cut++) {
    zmq_send(s, good, cut, ZMQ_DONTWAIT);
  }
  uint8_t junk[300];
  for (size_t i = 0; i < sizeof junk; i++)
    junk[i] = (uint8_t)(i * 37 + 11);
  zmq_send(s, junk, sizeof junk, 0);
  zmq_send(s, good, len, ZMQ_SNDMORE);
  zmq_send(s, junk, 10, 0);
  /* the node still answers a good request (error replies to the truncated ones may arrive first) */
  zmq_send(s, good, len, 0);
  for (int i = 0; i < 200; i++) {
    int n = zmq_recv(s, reply, sizeof reply, 0);
    if (n < 0)
      break;
    spot__msg_t rep;
    if (spot__wire_decode(reply, (size_t)n, &rep) == 0 && rep.id == 77 && rep.status != SPOT_ECORRUPT) {
      answered = rep.status == 0;
      break;
    }
  }
  CHECK(answered);
  zmq_close(s);
  zmq_ctx_term(ctx);
  spot_remote_t *alice = client("alice", 2000);
  uint64_t seq;
  CHECK_OK(spot_remote_latest(alice, url, &seq));
  spot_remote_free(alice);
}

static void test_kill9_mid_stream(void) {
  spot_remote_t *alice = client("alice", 500);
  CHECK(alice != NULL);
  static uint64_t acked[200000];
  int nacked = 0, errors = 0;
  uint64_t first;
  CHECK_OK(spot_remote_put(alice, url, "v0", 2, NULL, NULL, &first)); /* connected: the stream starts now */
  acked[nacked++] = first;
  /* another process kills the node 300 ms into the stream of puts */
  pid_t killer = fork();
  if (killer == 0) {
    usleep(300000);
    kill(spotd_pid, SIGKILL);
    _exit(0);
  }
  for (int i = 1; i < 200000 && errors == 0; i++) {
    char v[16];
    snprintf(v, sizeof v, "v%d", i);
    uint64_t seq;
    int rc = spot_remote_put(alice, url, v, strlen(v), NULL, NULL, &seq);
    if (rc == 0)
      acked[nacked++] = seq;
    else if (++errors && rc != SPOT_ETIMEDOUT) /* a time-out, not a hang */
      fprintf(stderr, "  put %d: %s: %s\n", i, spot_strerror(rc), spot_errdetail());
  }
  waitpid(killer, NULL, 0);
  waitpid(spotd_pid, NULL, 0);
  spotd_pid = 0;
  uint64_t seq;
  CHECK_RC(spot_remote_put(alice, url, "down", 4, NULL, NULL, &seq), SPOT_ETIMEDOUT);
  CHECK_EQ(errors, 1);
  CHECK(nacked > 1);
  start_spotd();
  CHECK_OK(wait_up(alice));
  for (int k = 0; k < nacked; k++) {
    char buf[16], want[16];
    size_t size;
    CHECK_OK(spot_remote_get(alice, url, acked[k], buf, sizeof buf, &size));
    snprintf(want, sizeof want, "v%d", k);
    CHECK(strncmp(buf, want, sizeof buf) == 0);
  }
  spot_remote_free(alice);
  kill_spotd();
  printf("  kill -9 mid-stream: %d remote puts acknowledged before the kill, all there after the restart\n", nacked);
}

/* An unknown key is refused at the handshake when the access file has no `any` line (before the fix every key
 * completed it and could send requests of any size); with an `any` line it is admitted. The client library says
 * so at once (SPOT_EPERM naming the handshake and its key), not after its time limit. */
static void test_handshake_refuses_strangers(void) {
  set_access("");
  char pub[41], sec[41];
  zmq_curve_keypair(pub, sec);
  void *ctx = zmq_ctx_new(), *mon;
  void *s = raw_socket(ctx, pub, sec, &mon);
  CHECK(wait_event(mon, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 10000));
  raw_close(s, mon);
  set_access("any get\n");
  s = raw_socket(ctx, pub, sec, &mon);
  CHECK(wait_event(mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 10000));
  raw_close(s, mon);
  zmq_ctx_term(ctx);
  set_access("");
  spot_remote_t *mallory = client("mallory", 10000);
  uint64_t seq;
  CHECK_RC(spot_remote_latest(mallory, url, &seq), SPOT_EPERM);
  CHECK(strstr(spot_errdetail(), "refused this client's key") && strstr(spot_errdetail(), read_pub("mallory")));
  CHECK(strstr(spot_errdetail(), ns_dir) == NULL); /* the node's paths stay on the node */
  spot_remote_free(mallory);
  CHECK(count_events(0, "refused handshake", NULL) >= 1);
}

static void free_buf(void *data, void *hint) {
  (void)hint;
  free(data);
}

/* Sends one frame of `size` bytes (zero pages: the sender's memory is not touched) on a raw socket with key pair
 * (pub, sec), once its handshake has succeeded. 1 if the node then disconnected it (within 30 s), else 0;
 * *refused says whether the handshake was refused (nothing is sent then). */
static int send_huge(const char *pub, const char *sec, size_t size, int *refused) {
  void *ctx = zmq_ctx_new(), *mon;
  void *s = raw_socket(ctx, pub, sec, &mon);
  int got = 0, sent = 0;
  *refused = 0;
  for (int waited = 0; waited < 30000 && !got && !*refused; waited += 200) {
    uint8_t ev[6];
    char skip[256];
    if (zmq_recv(mon, ev, sizeof ev, 0) < 0)
      continue;
    zmq_recv(mon, skip, sizeof skip, 0);
    int id = ev[0] | ev[1] << 8;
    if (id == ZMQ_EVENT_HANDSHAKE_SUCCEEDED && !sent) {
      zmq_msg_t m;
      zmq_msg_init_data(&m, calloc(1, size), size, free_buf, NULL);
      sent = zmq_msg_send(&m, s, ZMQ_DONTWAIT) >= 0;
      if (!sent)
        zmq_msg_close(&m);
    }
    got = sent && id == ZMQ_EVENT_DISCONNECTED;
    *refused = id == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
  }
  raw_close(s, mon);
  zmq_ctx_term(ctx);
  return got;
}

/* A frame larger than the largest legal request is cut off: the node disconnects the peer once the frame's length
 * is read, and its peak memory (VmHWM of the spotd process) does not grow by the frame's size; a stranger's frame
 * never gets past the handshake. Before the fix the node received and decrypted all of it. */
static void test_oversized_frame_disconnected(void) {
  const size_t frame = 96u << 20; /* above SPOT__NET_FRAME_MAX (64 MiB + 4 KiB) */
  char pub[41], sec[41], line[128];
  zmq_curve_keypair(pub, sec);
  snprintf(line, sizeof line, "%s get,put\n", pub); /* a key the node knows, so only the size limit stops it */
  set_access(line);
  spot_remote_t *alice = client("alice", 5000);
  uint64_t seq;
  CHECK_OK(spot_remote_latest(alice, url, &seq));
  long before = proc_kb(spotd_pid, "VmHWM:");
  CHECK(before > 0);
  int refused;
  CHECK(send_huge(pub, sec, frame, &refused));
  CHECK(!refused);
  char spub[41], ssec[41]; /* a stranger: refused at the handshake, so it cannot send its frame */
  zmq_curve_keypair(spub, ssec);
  send_huge(spub, ssec, frame, &refused);
  CHECK(refused);
  CHECK_OK(spot_remote_latest(alice, url, &seq)); /* the node still serves */
  long after = proc_kb(spotd_pid, "VmHWM:");
  printf("  two %zu MiB frames: spotd's peak RSS %ld kB before, %ld kB after\n", frame >> 20, before, after);
  CHECK(after - before < (long)(frame >> 10) / 4);
  spot_remote_free(alice);
}

/* Strangers (admitted through `any`) are told less: refusals name the right and their own key, never the node's
 * paths, and malformed requests are not echoed back; the node's own log keeps the whole detail. */
static void test_strangers_told_less(void) {
  set_access("any get\n");
  spot_remote_t *stranger = NULL, *bob = client("bob", 5000);
  char node[4400];
  snprintf(node, sizeof node, "%s/node.pub", root);
  CHECK_OK(spot_remote_new("", node, 5000, &stranger)); /* a fresh key of its own */
  uint64_t seq;
  CHECK_OK(spot_remote_latest(stranger, url, &seq)); /* `any get` */
  CHECK_RC(spot_remote_put(stranger, url, "x", 1, NULL, NULL, &seq), SPOT_EPERM);
  CHECK(strstr(spot_errdetail(), "refused put") != NULL);
  CHECK(strstr(spot_errdetail(), root) == NULL && strstr(spot_errdetail(), "line") == NULL);
  CHECK_RC(spot_remote_put(bob, url, "x", 1, NULL, NULL, &seq), SPOT_EPERM);
  CHECK(strstr(spot_errdetail(), "only get") != NULL && strstr(spot_errdetail(), root) == NULL);
  /* a malformed request from a stranger: an error reply without the bytes it sent */
  char pub[41], sec[41];
  zmq_curve_keypair(pub, sec);
  void *ctx = zmq_ctx_new(), *mon;
  void *s = raw_socket(ctx, pub, sec, &mon);
  spot__msg_t m;
  memset(&m, 0, sizeof m);
  m.type = SPOT__WIRE_LATEST;
  m.id = 78;
  m.ns = spot__wire_cstr("home");
  m.log = spot__wire_cstr("xEVILNAME");
  uint8_t req[128], reply[1024];
  size_t len;
  CHECK_OK(spot__wire_encode(&m, req, sizeof req, &len));
  uint8_t *x = memchr(req + SPOT__WIRE_HDR_BYTES, 'x', len - SPOT__WIRE_HDR_BYTES);
  CHECK(x != NULL);
  *x = '-'; /* a log name may not start with '-' */
  int timeout = 5000;
  zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
  zmq_send(s, req, len, 0);
  int n = zmq_recv(s, reply, sizeof reply, 0);
  CHECK(n > 0);
  spot__msg_t rep;
  CHECK_OK(spot__wire_decode(reply, (size_t)n, &rep));
  CHECK_EQ(rep.id, 78);
  CHECK(rep.status != 0);
  char detail[600] = "";
  spot__wire_copy(rep.detail, detail, sizeof detail);
  CHECK(strstr(detail, "EVIL") == NULL);
  raw_close(s, mon);
  zmq_ctx_term(ctx);
  spot_remote_free(stranger);
  spot_remote_free(bob);
  set_access("");
}

/* A flood of refused requests writes at most the rate limiter's number of refusal events (before the fix, one each:
 * a stranger could flush the event ring, END events included). */
static void test_refusals_rate_limited(void) {
  set_access("");
  spot_remote_t *bob = client("bob", 5000);
  uint64_t first, seq, t0 = spot__now_ns();
  count_events(0, "refused", &first);
  for (int i = 0; i < 300; i++)
    CHECK_RC(spot_remote_put(bob, url, "x", 1, NULL, NULL, &seq), SPOT_EPERM);
  uint64_t secs = (spot__now_ns() - t0) / 1000000000u + 1;
  unsigned n = count_events(first, "refused put", NULL);
  printf("  300 refused puts in about %llu s: %u refusal events\n", (unsigned long long)secs, n);
  CHECK(n >= 1);
  CHECK(n <= SPOT__RL_SOURCE_BURST + secs * 1000000000u / SPOT__RL_SOURCE_EVERY_NS + 1);
  spot_remote_free(bob);
}

/* An access file replaced by a FIFO: requests get a clear refusal at once (before the fix the server blocked in
 * open() for good), and once it is a file again the node serves as before. */
static void test_fifo_access_file(void) {
  spot_remote_t *alice = client("alice", 5000);
  uint64_t seq;
  CHECK_OK(spot_remote_latest(alice, url, &seq));
  char path[4400];
  snprintf(path, sizeof path, "%s/access", ns_dir);
  CHECK_EQ(unlink(path), 0);
  CHECK_EQ(mkfifo(path, 0644), 0);
  access_settle();
  CHECK_RC(spot_remote_latest(alice, url, &seq), SPOT_EPERM);
  CHECK(strstr(spot_errdetail(), "cannot read its access rules") != NULL);
  spot_remote_t *bob = client("bob", 5000); /* a new connection: refused at the handshake, not left waiting */
  CHECK_RC(spot_remote_latest(bob, url, &seq), SPOT_EPERM);
  CHECK_EQ(unlink(path), 0);
  set_access("");
  CHECK_OK(spot_remote_latest(alice, url, &seq));
  CHECK_OK(spot_remote_latest(bob, url, &seq));
  spot_remote_free(alice);
  spot_remote_free(bob);
}

/* One malformed line is skipped (and logged once, with its line number); the other keys keep their rights. */
static void test_malformed_access_line(void) {
  set_access("not-a-key get\n");
  spot_remote_t *alice = client("alice", 5000), *bob = client("bob", 5000);
  uint64_t seq;
  for (int i = 0; i < 5; i++) {
    CHECK_OK(spot_remote_put(alice, url, "ok", 2, NULL, NULL, &seq));
    CHECK_OK(spot_remote_latest(bob, url, &seq));
  }
  char out[8192];
  CHECK_EQ(spot_test_sh(out, sizeof out, NULL, 0, "grep -c 'access line 3: .not-a-key. is neither' %s", spotd_log), 0);
  CHECK_EQ(atoi(out), 1);
  spot_remote_free(alice);
  spot_remote_free(bob);
  set_access("");
}

/* spotd refuses a node key that group or others may read, naming the chmod (before the fix it served with it). */
static void test_open_node_key_refused(void) {
  char key[4400], out[2048], err[2048];
  snprintf(key, sizeof key, "%s/open.key", root);
  CHECK_EQ(spot_test_sh(NULL, 0, NULL, 0, "cp -p %s/node.key %s && chmod 640 %s && S=%s && $S init %s/other && "
                        "$S -n %s/other create x --size 8 --history 10", root, key, key, spot_test_bin(), root, root),
           0);
  /* bounded: before the fix this spotd served (timeout then stops it, and no chmod hint was printed) */
  int rc = spot_test_sh(out, sizeof out, err, sizeof err, "timeout 20 %s -n %s/other --quiet --mode thread --listen "
                        "127.0.0.1:%d --key %s", env("SPOTD_BIN"), root, port + 2, key);
  CHECK(rc != 0);
  CHECK(strstr(err, "chmod 600") != NULL);
}

static const spot_test_t tests[] = {
    {"remote_ops_and_rights", test_remote_ops_and_rights},
    {"pipelined_puts", test_pipelined_puts},
    {"interleaved_clients", test_interleaved_clients},
    {"revoked_key_refused_after_bound", test_revoked_key_refused_after_bound},
    {"wrong_key_and_down_node_time_out", test_wrong_key_and_down_node_time_out},
    {"malformed_frames", test_malformed_frames},
    {"handshake_refuses_strangers", test_handshake_refuses_strangers},
    {"oversized_frame_disconnected", test_oversized_frame_disconnected},
    {"strangers_told_less", test_strangers_told_less},
    {"refusals_rate_limited", test_refusals_rate_limited},
    {"fifo_access_file", test_fifo_access_file},
    {"malformed_access_line", test_malformed_access_line},
    {"open_node_key_refused", test_open_node_key_refused},
    {"kill9_mid_stream", test_kill9_mid_stream},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
