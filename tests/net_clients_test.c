/*
 * net_clients_test.c: clients reaching a node (spotd --listen, ZeroMQ with CURVE) with spot://host:port/ns/log
 * names: remote create, put, get, latest, info and the rights of each key (an unknown key, a key without the put
 * right) with a clear error on the client and an event on the node; an access change taking effect without a
 * restart; hundreds of puts in flight on one connection; many clients interleaved all getting their own answers; a
 * wrong node key or a node that is down giving a time-out error, not a hang; and kill -9 of the node in the middle
 * of a stream of remote puts: the client sees errors, and after a restart every put it saw acknowledged is there.
 * The node is tests/net_node.c's. Loopback only; every wait is bounded.
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/event.h"
#include "dispatch/dispatch.h"
#include "net_node.h"
#include "spot.h"
#include "spot/net.h"
#include "test.h"

static void test_remote_ops_and_rights(void) {
  CHECK_OK(net_up("net-clients"));
  spot_remote_t *alice = net_client("alice", 2000), *bob = net_client("bob", 2000);
  spot_remote_t *mallory = net_client("mallory", 2000);
  CHECK(alice && bob && mallory);
  CHECK_OK(net_wait_up(alice));
  uint64_t seq;
  CHECK_OK(spot_remote_put(alice, net.url, "21.5", 4, NULL, NULL, &seq));
  CHECK_EQ(seq, 1);
  char buf[64];
  size_t size;
  CHECK_OK(spot_remote_get(alice, net.url, 1, buf, sizeof buf, &size));
  CHECK_EQ(size, 16);
  CHECK(memcmp(buf, "21.5\0\0", 6) == 0);
  CHECK_OK(spot_remote_get(bob, net.url, 1, buf, sizeof buf, &size)); /* bob may read */
  spot_log_info_t info;
  CHECK_OK(spot_remote_info(bob, net.url, &info));
  CHECK_EQ(info.latest, 1);
  CHECK_EQ(info.elem_size, 16);
  CHECK_RC(spot_remote_put(bob, net.url, "x", 1, NULL, NULL, &seq), SPOT_EPERM); /* ... but not put */
  CHECK(strstr(spot_errdetail(), "put") != NULL);
  CHECK_RC(spot_remote_put(mallory, net.url, "x", 1, NULL, NULL, &seq), SPOT_EPERM); /* an unknown key */
  CHECK(strstr(spot_errdetail(), "access") != NULL);
  CHECK_RC(spot_remote_get(mallory, net.url, 1, buf, sizeof buf, &size), SPOT_EPERM);
  char hum[300];
  snprintf(hum, sizeof hum, "spot://127.0.0.1:%d/home/hum", net.port);
  spot_log_config_t cfg = {.elem_size = 8, .history = 10};
  CHECK_RC(spot_remote_create(bob, hum, &cfg), SPOT_EPERM);
  CHECK_OK(spot_remote_create(alice, hum, &cfg));
  CHECK_RC(spot_remote_create(alice, hum, &cfg), SPOT_EEXIST);
  CHECK_RC(spot_remote_get(alice, net.url, 99, buf, sizeof buf, &size), SPOT_ENOTYET);
  char other[300];
  snprintf(other, sizeof other, "spot://127.0.0.1:%d/elsewhere/temp", net.port);
  CHECK_RC(spot_remote_latest(alice, other, &seq), SPOT_ENONS);

  /* a change to the access file takes effect without a restart */
  char access[512];
  snprintf(access, sizeof access, "%s get,put,create\n%s get,put\n", net_read_pub("alice"), net_read_pub("bob"));
  net_write_access(access);
  char touch[4600];
  snprintf(touch, sizeof touch, "touch -d '+1 minute' %s/access", net.ns_dir);
  CHECK_EQ(system(touch), 0);
  CHECK_OK(spot_remote_put(bob, net.url, "bob", 3, NULL, NULL, &seq));
  CHECK_EQ(seq, 2);

  /* the refusals are events on the node, and remote puts carry the client as cause */
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(net.ns_dir, NULL, &ns));
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
  CHECK_OK(net_up("net-clients"));
  spot_remote_t *alice = net_client("alice", 5000);
  CHECK(alice != NULL);
  uint64_t first = 0, ticket, seq, tickets[500];
  CHECK_OK(spot_remote_latest(alice, net.url, &first));
  for (int i = 0; i < 500; i++) {
    char v[16];
    snprintf(v, sizeof v, "p%d", i);
    CHECK_OK(spot_remote_put_async(alice, net.url, v, strlen(v), NULL, NULL, &tickets[i]));
  }
  for (int i = 0; i < 500; i++) {
    CHECK_OK(spot_remote_put_result(alice, net.url, &ticket, &seq));
    CHECK_EQ(ticket, tickets[i]);
    CHECK_EQ(seq, first + 1 + (uint64_t)i);
  }
  char buf[16], want[16];
  size_t size;
  CHECK_OK(spot_remote_get(alice, net.url, first + 500, buf, sizeof buf, &size));
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
  spot_remote_t *r = net_client("alice", 10000);
  uint64_t ticket, tickets[FLOOD];
  char v[16];
  for (int i = 0; i < FLOOD && r && !mix.failed[0]; i++) {
    snprintf(v, sizeof v, "f%d", i);
    mix.failed[0] |= spot_remote_put_async(r, net.url, v, strlen(v), NULL, NULL, &tickets[i]) != 0;
  }
  for (int i = 0; i < FLOOD && r && !mix.failed[0]; i++) {
    mix.failed[0] |= spot_remote_put_result(r, net.url, &ticket, &mix.flood_seq[i]) != 0;
    mix.failed[0] |= ticket != tickets[i];
  }
  mix.failed[0] |= r == NULL;
  spot_remote_free(r);
  return NULL;
}

/* A client doing one put at a time, each read back at once: what it reads is what it wrote. */
static void *sync_client(void *arg) {
  int k = (int)(intptr_t)arg;
  spot_remote_t *r = net_client("alice", 10000);
  char v[16], got[16];
  size_t size;
  for (int i = 0; i < SYNC_ROUNDS && r && !mix.failed[1 + k]; i++) {
    snprintf(v, sizeof v, "s%d-%d", k, i);
    mix.failed[1 + k] |= spot_remote_put(r, net.url, v, strlen(v), NULL, NULL, &mix.sync_seq[k][i]) != 0;
    mix.failed[1 + k] |= spot_remote_get(r, net.url, mix.sync_seq[k][i], got, sizeof got, &size) != 0;
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
  CHECK_OK(net_up("net-clients"));
  spot_remote_t *alice = net_client("alice", 5000);
  CHECK(alice != NULL);
  uint64_t first;
  CHECK_OK(spot_remote_latest(alice, net.url, &first));
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
    CHECK_OK(spot_remote_get(alice, net.url, mix.flood_seq[i], buf, sizeof buf, &size));
    snprintf(want, sizeof want, "f%d", i);
    CHECK(strncmp(buf, want, sizeof buf) == 0);
  }
  spot_remote_free(alice);
}

static void test_wrong_key_and_down_node_time_out(void) {
  CHECK_OK(net_up("net-clients"));
  spot_remote_t *r;
  char key[4400], wrong[4400];
  snprintf(key, sizeof key, "%s/alice.key", net.root);
  snprintf(wrong, sizeof wrong, "%s/mallory.pub", net.root); /* not the node's key: the handshake never completes */
  CHECK_OK(spot_remote_new(key, wrong, 300, &r));
  uint64_t seq;
  CHECK_RC(spot_remote_latest(r, net.url, &seq), SPOT_ETIMEDOUT);
  CHECK(strstr(spot_errdetail(), "did not answer") != NULL);
  spot_remote_free(r);
  char down[300];
  snprintf(down, sizeof down, "spot://127.0.0.1:%d/home/temp", net.port + 1);
  r = net_client("alice", 300);
  CHECK(r != NULL);
  CHECK_RC(spot_remote_latest(r, down, &seq), SPOT_ETIMEDOUT);
  spot_remote_free(r);
}

static void test_kill9_mid_stream(void) {
  CHECK_OK(net_up("net-clients"));
  spot_remote_t *alice = net_client("alice", 500);
  CHECK(alice != NULL);
  static uint64_t acked[200000];
  int nacked = 0, errors = 0;
  uint64_t first;
  CHECK_OK(spot_remote_put(alice, net.url, "v0", 2, NULL, NULL, &first)); /* connected: the stream starts now */
  acked[nacked++] = first;
  /* another process kills the node 300 ms into the stream of puts */
  pid_t killer = fork();
  if (killer == 0) {
    usleep(300000);
    kill(net.spotd_pid, SIGKILL);
    _exit(0);
  }
  for (int i = 1; i < 200000 && errors == 0; i++) {
    char v[16];
    snprintf(v, sizeof v, "v%d", i);
    uint64_t seq;
    int rc = spot_remote_put(alice, net.url, v, strlen(v), NULL, NULL, &seq);
    if (rc == 0)
      acked[nacked++] = seq;
    else if (++errors && rc != SPOT_ETIMEDOUT) /* a time-out, not a hang */
      fprintf(stderr, "  put %d: %s: %s\n", i, spot_strerror(rc), spot_errdetail());
  }
  waitpid(killer, NULL, 0);
  waitpid(net.spotd_pid, NULL, 0);
  net.spotd_pid = 0;
  uint64_t seq;
  CHECK_RC(spot_remote_put(alice, net.url, "down", 4, NULL, NULL, &seq), SPOT_ETIMEDOUT);
  CHECK_EQ(errors, 1);
  CHECK(nacked > 1);
  net_start_spotd();
  CHECK_OK(net_wait_up(alice));
  for (int k = 0; k < nacked; k++) {
    char buf[16], want[16];
    size_t size;
    CHECK_OK(spot_remote_get(alice, net.url, acked[k], buf, sizeof buf, &size));
    snprintf(want, sizeof want, "v%d", k);
    CHECK(strncmp(buf, want, sizeof buf) == 0);
  }
  spot_remote_free(alice);
  net_kill_spotd();
  printf("  kill -9 mid-stream: %d remote puts acknowledged before the kill, all there after the restart\n", nacked);
}

static const spot_test_t tests[] = {
    {"remote_ops_and_rights", test_remote_ops_and_rights},
    {"pipelined_puts", test_pipelined_puts},
    {"interleaved_clients", test_interleaved_clients},
    {"wrong_key_and_down_node_time_out", test_wrong_key_and_down_node_time_out},
    {"kill9_mid_stream", test_kill9_mid_stream},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
