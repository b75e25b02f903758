/*
 * net_access_test.c: a node's access file and keys (spotd --listen): a revoked key refused once the node's access
 * reload bound has passed (an edit in place, and a file of the same size and time renamed over it); an unknown key
 * refused at the CURVE handshake unless an `any` line admits it; an access file replaced by a FIFO refusing at once
 * instead of blocking the node; a malformed line skipped and logged once while the other keys keep their rights; and
 * a node key that others may read refused by spotd with the chmod that fixes it. The node is tests/net_node.c's.
 * Loopback only; every wait is bounded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "net_node.h"
#include "spot.h"
#include "spot/net.h"
#include "support.h"
#include "test.h"

/* A key whose right is taken away is refused once SPOT__NET_ACCESS_RECHECK_NS has passed, on the connection it
 * already has: after an edit in place, and after a file of the same size and modification time is renamed over the
 * access file (only its inode and status-change time tell it apart). */
static void test_revoked_key_refused_after_bound(void) {
  CHECK_OK(net_up("net-access"));
  spot_remote_t *alice = net_client("alice", 5000);
  CHECK(alice != NULL);
  uint64_t seq;
  CHECK_OK(spot_remote_put(alice, net.url, "before", 6, NULL, NULL, &seq));
  /* in place: alice keeps get only (the line keeps its length) */
  char text[1024];
  snprintf(text, sizeof text, "%s get              # alice\n%s get   # bob\n", net_read_pub("alice"),
           net_read_pub("bob"));
  net_write_access(text); /* waits past the bound */
  CHECK_RC(spot_remote_put(alice, net.url, "revoked", 7, NULL, NULL, &seq), SPOT_EPERM);
  CHECK_OK(spot_remote_latest(alice, net.url, &seq)); /* get is still hers */
  net_set_access("");
  CHECK_OK(spot_remote_put(alice, net.url, "again", 5, NULL, NULL, &seq));
  /* renamed over it: the same size and modification time as the file in force */
  char path[4400], next[4400];
  snprintf(path, sizeof path, "%s/access", net.ns_dir);
  snprintf(next, sizeof next, "%s/access.next", net.ns_dir);
  FILE *f = fopen(next, "w");
  CHECK(f != NULL);
  fprintf(f, "%s get              # alice\n%s get   # bob\n", net_read_pub("alice"), net_read_pub("bob"));
  fclose(f);
  struct stat a, b;
  CHECK_EQ(stat(path, &a), 0);
  CHECK_EQ(stat(next, &b), 0);
  CHECK_EQ(a.st_size, b.st_size);
  char cmd[18000];
  snprintf(cmd, sizeof cmd, "touch -r %s %s && mv %s %s", path, next, next, path);
  CHECK_EQ(system(cmd), 0);
  net_access_settle();
  CHECK_RC(spot_remote_put(alice, net.url, "revoked", 7, NULL, NULL, &seq), SPOT_EPERM);
  CHECK(strstr(spot_errdetail(), "only get") != NULL);
  net_set_access("");
  CHECK_OK(spot_remote_put(alice, net.url, "again", 5, NULL, NULL, &seq));
  spot_remote_free(alice);
}

/* An unknown key is refused at the handshake when the access file has no `any` line (before the fix every key
 * completed it and could send requests of any size); with an `any` line it is admitted. The client library says
 * so at once (SPOT_EPERM naming the handshake and its key), not after its time limit. */
static void test_handshake_refuses_strangers(void) {
  CHECK_OK(net_up("net-access"));
  net_set_access("");
  char pub[41], sec[41];
  zmq_curve_keypair(pub, sec);
  void *ctx = zmq_ctx_new(), *mon;
  void *s = net_raw_socket(ctx, pub, sec, &mon);
  CHECK(net_wait_event(mon, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, 10000));
  net_raw_close(s, mon);
  net_set_access("any get\n");
  s = net_raw_socket(ctx, pub, sec, &mon);
  CHECK(net_wait_event(mon, ZMQ_EVENT_HANDSHAKE_SUCCEEDED, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 10000));
  net_raw_close(s, mon);
  zmq_ctx_term(ctx);
  net_set_access("");
  spot_remote_t *mallory = net_client("mallory", 10000);
  uint64_t seq;
  CHECK_RC(spot_remote_latest(mallory, net.url, &seq), SPOT_EPERM);
  CHECK(strstr(spot_errdetail(), "refused this client's key") && strstr(spot_errdetail(), net_read_pub("mallory")));
  CHECK(strstr(spot_errdetail(), net.ns_dir) == NULL); /* the node's paths stay on the node */
  spot_remote_free(mallory);
  CHECK(net_count_events(0, "refused handshake", NULL) >= 1);
}

/* An access file replaced by a FIFO: requests get a clear refusal at once (before the fix the server blocked in
 * open() for good), and once it is a file again the node serves as before. */
static void test_fifo_access_file(void) {
  CHECK_OK(net_up("net-access"));
  spot_remote_t *alice = net_client("alice", 5000);
  uint64_t seq;
  CHECK_OK(spot_remote_latest(alice, net.url, &seq));
  char path[4400];
  snprintf(path, sizeof path, "%s/access", net.ns_dir);
  CHECK_EQ(unlink(path), 0);
  CHECK_EQ(mkfifo(path, 0644), 0);
  net_access_settle();
  CHECK_RC(spot_remote_latest(alice, net.url, &seq), SPOT_EPERM);
  CHECK(strstr(spot_errdetail(), "cannot read its access rules") != NULL);
  spot_remote_t *bob = net_client("bob", 5000); /* a new connection: refused at the handshake, not left waiting */
  CHECK_RC(spot_remote_latest(bob, net.url, &seq), SPOT_EPERM);
  CHECK_EQ(unlink(path), 0);
  net_set_access("");
  CHECK_OK(spot_remote_latest(alice, net.url, &seq));
  CHECK_OK(spot_remote_latest(bob, net.url, &seq));
  spot_remote_free(alice);
  spot_remote_free(bob);
}

/* One malformed line is skipped (and logged once, with its line number); the other keys keep their rights. */
static void test_malformed_access_line(void) {
  CHECK_OK(net_up("net-access"));
  net_set_access("not-a-key get\n");
  spot_remote_t *alice = net_client("alice", 5000), *bob = net_client("bob", 5000);
  uint64_t seq;
  for (int i = 0; i < 5; i++) {
    CHECK_OK(spot_remote_put(alice, net.url, "ok", 2, NULL, NULL, &seq));
    CHECK_OK(spot_remote_latest(bob, net.url, &seq));
  }
  char out[8192];
  CHECK_EQ(spot_test_sh(out, sizeof out, NULL, 0, "grep -c 'access line 3: .not-a-key. is neither' %s",
                        net.spotd_log),
           0);
  CHECK_EQ(atoi(out), 1);
  spot_remote_free(alice);
  spot_remote_free(bob);
  net_set_access("");
}

/* spotd refuses a node key that group or others may read, naming the chmod (before the fix it served with it). */
static void test_open_node_key_refused(void) {
  CHECK_OK(net_up("net-access"));
  char key[4400], out[2048], err[2048];
  snprintf(key, sizeof key, "%s/open.key", net.root);
  CHECK_EQ(spot_test_sh(NULL, 0, NULL, 0, "cp -p %s/node.key %s && chmod 640 %s && S=%s && $S init %s/other && "
                        "$S -n %s/other create x --size 8 --history 10",
                        net.root, key, key, spot_test_bin(), net.root, net.root),
           0);
  /* bounded: before the fix this spotd served (timeout then stops it, and no chmod hint was printed) */
  int rc = spot_test_sh(out, sizeof out, err, sizeof err, "timeout 20 %s -n %s/other --quiet --mode thread --listen "
                        "127.0.0.1:%d --key %s", net_env("SPOTD_BIN"), net.root, net.port + 2, key);
  CHECK(rc != 0);
  CHECK(strstr(err, "chmod 600") != NULL);
}

static const spot_test_t tests[] = {
    {"revoked_key_refused_after_bound", test_revoked_key_refused_after_bound},
    {"handshake_refuses_strangers", test_handshake_refuses_strangers},
    {"fifo_access_file", test_fifo_access_file},
    {"malformed_access_line", test_malformed_access_line},
    {"open_node_key_refused", test_open_node_key_refused},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
