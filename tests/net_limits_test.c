/*
 * net_limits_test.c: what a node (spotd --listen) does with peers that do not play by the rules: malformed and
 * truncated frames that leave it serving; a frame larger than the largest legal request cut off when its length is
 * read, without the node's memory growing by its size; strangers admitted through `any` told less (no paths, no
 * echo of what they sent) while the node's log keeps the detail; and a flood of refused requests writing at most the
 * rate limiter's number of refusal events. The node is tests/net_node.c's. Loopback only; every wait is bounded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "core/wire.h"
#include "net/net_impl.h"
#include "net/ratelimit.h"
#include "net_node.h"
#include "platform/platform.h"
#include "spot.h"
#include "spot/net.h"
#include "test.h"

/* Encodes a LATEST request for namespace "home", log `log`, into buf (cap bytes); its length into *len. */
static int latest_request(uint64_t id, const char *log, uint8_t *buf, size_t cap, size_t *len) {
  spot__msg_t m;
  memset(&m, 0, sizeof m);
  m.type = SPOT__WIRE_LATEST;
  m.id = id;
  m.ns = spot__wire_cstr("home");
  m.log = spot__wire_cstr(log);
  return spot__wire_encode(&m, buf, cap, len);
}

/* Raw CURVE frames that are not valid messages: the node drops or refuses them and keeps serving. */
static void test_malformed_frames(void) {
  CHECK_OK(net_up("net-limits"));
  char node[64], pub[64], sec[64];
  snprintf(node, sizeof node, "%s", net_read_pub("node"));
  zmq_curve_keypair(pub, sec);
  char line[128];
  snprintf(line, sizeof line, "%s get\n", pub); /* a key the node knows: strangers never get this far */
  net_set_access(line);
  void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_DEALER);
  int linger = 0, timeout = 2000;
  zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
  zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
  zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, node, 40);
  zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pub, 40);
  zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sec, 40);
  char ep[160];
  snprintf(ep, sizeof ep, "tcp://%s", net.endpoint);
  CHECK_EQ(zmq_connect(s, ep), 0);
  /* a valid LATEST request, then every truncation of it, random bytes, and multi-frame messages */
  uint8_t good[128], reply[1024];
  size_t len;
  CHECK_OK(latest_request(77, "temp", good, sizeof good, &len));
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
  spot_remote_t *alice = net_client("alice", 2000);
  uint64_t seq;
  CHECK_OK(spot_remote_latest(alice, net.url, &seq));
  spot_remote_free(alice);
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

static void free_buf(void *data, void *hint) {
  (void)hint;
  free(data);
}

/* Sends one frame of `size` bytes (zero pages: the sender's memory is not touched) on a raw socket with key pair
 * (pub, sec), once its handshake has succeeded. 1 if the node then disconnected it (within 30 s), else 0;
 * *refused says whether the handshake was refused (nothing is sent then). */
static int send_huge(const char *pub, const char *sec, size_t size, int *refused) {
  void *ctx = zmq_ctx_new(), *mon;
  void *s = net_raw_socket(ctx, pub, sec, &mon);
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
  net_raw_close(s, mon);
  zmq_ctx_term(ctx);
  return got;
}

/* A frame larger than the largest legal request is cut off: the node disconnects the peer once the frame's length
 * is read, and its peak memory (VmHWM of the spotd process) does not grow by the frame's size; a stranger's frame
 * never gets past the handshake. Before the fix the node received and decrypted all of it. */
static void test_oversized_frame_disconnected(void) {
  CHECK_OK(net_up("net-limits"));
  const size_t frame = 96u << 20; /* above SPOT__NET_FRAME_MAX (64 MiB + 4 KiB) */
  char pub[41], sec[41], line[128];
  zmq_curve_keypair(pub, sec);
  snprintf(line, sizeof line, "%s get,put\n", pub); /* a key the node knows, so only the size limit stops it */
  net_set_access(line);
  spot_remote_t *alice = net_client("alice", 5000);
  uint64_t seq;
  CHECK_OK(spot_remote_latest(alice, net.url, &seq));
  long before = proc_kb(net.spotd_pid, "VmHWM:");
  CHECK(before > 0);
  int refused;
  CHECK(send_huge(pub, sec, frame, &refused));
  CHECK(!refused);
  char spub[41], ssec[41]; /* a stranger: refused at the handshake, so it cannot send its frame */
  zmq_curve_keypair(spub, ssec);
  send_huge(spub, ssec, frame, &refused);
  CHECK(refused);
  CHECK_OK(spot_remote_latest(alice, net.url, &seq)); /* the node still serves */
  long after = proc_kb(net.spotd_pid, "VmHWM:");
  printf("  two %zu MiB frames: spotd's peak RSS %ld kB before, %ld kB after\n", frame >> 20, before, after);
  CHECK(after - before < (long)(frame >> 10) / 4);
  spot_remote_free(alice);
}

/* Strangers (admitted through `any`) are told less: refusals name the right and their own key, never the node's
 * paths, and malformed requests are not echoed back; the node's own log keeps the whole detail. */
static void test_strangers_told_less(void) {
  CHECK_OK(net_up("net-limits"));
  net_set_access("any get\n");
  spot_remote_t *stranger = NULL, *bob = net_client("bob", 5000);
  char node[4400];
  snprintf(node, sizeof node, "%s/node.pub", net.root);
  CHECK_OK(spot_remote_new("", node, 5000, &stranger)); /* a fresh key of its own */
  uint64_t seq;
  CHECK_OK(spot_remote_latest(stranger, net.url, &seq)); /* `any get` */
  CHECK_RC(spot_remote_put(stranger, net.url, "x", 1, NULL, NULL, &seq), SPOT_EPERM);
  CHECK(strstr(spot_errdetail(), "refused put") != NULL);
  CHECK(strstr(spot_errdetail(), net.root) == NULL && strstr(spot_errdetail(), "line") == NULL);
  CHECK_RC(spot_remote_put(bob, net.url, "x", 1, NULL, NULL, &seq), SPOT_EPERM);
  CHECK(strstr(spot_errdetail(), "only get") != NULL && strstr(spot_errdetail(), net.root) == NULL);
  /* a malformed request from a stranger: an error reply without the bytes it sent */
  char pub[41], sec[41];
  zmq_curve_keypair(pub, sec);
  void *ctx = zmq_ctx_new(), *mon;
  void *s = net_raw_socket(ctx, pub, sec, &mon);
  uint8_t req[128], reply[1024];
  size_t len;
  CHECK_OK(latest_request(78, "xEVILNAME", req, sizeof req, &len));
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
  net_raw_close(s, mon);
  zmq_ctx_term(ctx);
  spot_remote_free(stranger);
  spot_remote_free(bob);
  net_set_access("");
}

/* A flood of refused requests writes at most the rate limiter's number of refusal events (before the fix, one each:
 * a stranger could flush the event ring, END events included). */
static void test_refusals_rate_limited(void) {
  CHECK_OK(net_up("net-limits"));
  net_set_access("");
  spot_remote_t *bob = net_client("bob", 5000);
  uint64_t first, seq, t0 = spot__now_ns();
  net_count_events(0, "refused", &first);
  for (int i = 0; i < 300; i++)
    CHECK_RC(spot_remote_put(bob, net.url, "x", 1, NULL, NULL, &seq), SPOT_EPERM);
  uint64_t secs = (spot__now_ns() - t0) / 1000000000u + 1;
  unsigned n = net_count_events(first, "refused put", NULL);
  printf("  300 refused puts in about %llu s: %u refusal events\n", (unsigned long long)secs, n);
  CHECK(n >= 1);
  CHECK(n <= SPOT__RL_SOURCE_BURST + secs * 1000000000u / SPOT__RL_SOURCE_EVERY_NS + 1);
  spot_remote_free(bob);
}

static const spot_test_t tests[] = {
    {"malformed_frames", test_malformed_frames},
    {"oversized_frame_disconnected", test_oversized_frame_disconnected},
    {"strangers_told_less", test_strangers_told_less},
    {"refusals_rate_limited", test_refusals_rate_limited},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
