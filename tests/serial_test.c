/*
 * serial_test.c: the edge's end of a device link (net/serial.h) against a fake device on a unix socket, which
 * speaks the frames (core/frame.h) and can misbehave on purpose: a reply damaged on the wire is NAKed and sent
 * again; a damaged request is NAKed by the device and the edge sends it again; a silent device gives SPOT_ETIMEDOUT
 * in bounded time with the put kept in the outbox, which is delivered, with its first request id, once the device
 * answers; a path where nothing listens gives a clear time-out too. The device's own puts (UP frames) get a REP:
 * one that does not decode is refused in words, one whose target does not answer gets the put's error (mcu_e2e
 * forwards them to a real cloud).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/frame.h"
#include "core/wire.h"
#include "net/serial.h"
#include "spot/error.h"
#include "spot/ns.h"
#include "support.h"
#include "test.h"

typedef struct fake {
  int listen_fd;
  atomic_int damage_replies; /* replies to damage on the wire (the first send of each) */
  atomic_int nak_requests;   /* requests to answer with a NAK instead */
  atomic_int silent;         /* answer nothing */
  atomic_int stop;
  atomic_int puts;           /* puts applied */
  atomic_ullong last_put_id;
  atomic_int conn_fd;        /* the edge's connection (0: none yet) */
  atomic_int conns;          /* connections accepted so far */
  atomic_int up_reps;        /* REPs to UP frames received, the last one's status and id */
  atomic_int up_status;
  atomic_ullong up_id;
  uint8_t last[700];
  size_t last_len;
} fake_t;

static void send_frame(int fd, uint8_t kind, const uint8_t *p, size_t n, int damage) {
  uint8_t f[800];
  size_t len;
  spot__frame_encode(kind, 1, p, n, f, sizeof f, &len);
  if (damage)
    f[len / 2] ^= 0x04;
  (void)!write(fd, f, len);
}

static void *fake_main(void *arg) {
  fake_t *fk = arg;
  while (!atomic_load(&fk->stop)) {
    int fd = accept(fk->listen_fd, NULL, NULL);
    if (fd < 0)
      continue;
    atomic_store(&fk->conn_fd, fd);
    atomic_fetch_add(&fk->conns, 1);
    static uint8_t buf[800];
    spot__frame_rx_t rx;
    spot__frame_rx_init(&rx, buf, sizeof buf);
    uint8_t in[256];
    ssize_t got;
    uint64_t seq = 0;
    while (!atomic_load(&fk->stop) && (got = read(fd, in, sizeof in)) > 0) {
      for (ssize_t i = 0; i < got; i++) {
        spot__frame_t f;
        for (int rc = spot__frame_rx_push(&rx, in[i], &f); rc != 0; rc = spot__frame_rx_more(&rx, &f)) {
          if (atomic_load(&fk->silent))
            continue;
          if (rc < 0) {
            send_frame(fd, SPOT__FRAME_NAK, NULL, 0, 0);
            continue;
          }
          if (f.kind == SPOT__FRAME_NAK) {
            send_frame(fd, SPOT__FRAME_REP, fk->last, fk->last_len, 0);
            continue;
          }
          if (f.kind == SPOT__FRAME_REP) { /* the edge's answer to an UP of ours */
            spot__msg_t rep;
            if (spot__wire_decode(f.payload, f.len, &rep) == 0) {
              atomic_store(&fk->up_status, rep.status);
              atomic_store(&fk->up_id, rep.id);
              atomic_fetch_add(&fk->up_reps, 1);
            }
            continue;
          }
          if (f.kind != SPOT__FRAME_REQ)
            continue;
          if (atomic_load(&fk->nak_requests) > 0) {
            atomic_fetch_sub(&fk->nak_requests, 1);
            send_frame(fd, SPOT__FRAME_NAK, NULL, 0, 0);
            continue;
          }
          spot__msg_t req, rep;
          if (spot__wire_decode(f.payload, f.len, &req) != 0)
            continue;
          memset(&rep, 0, sizeof rep);
          rep.type = req.type;
          rep.flags = SPOT__WIRE_REPLY;
          rep.id = req.id;
          if (req.type == SPOT__WIRE_PUT) {
            if (req.id != atomic_load(&fk->last_put_id)) { /* the device's dedup: a put sent again is not applied */
              atomic_fetch_add(&fk->puts, 1);
              atomic_store(&fk->last_put_id, req.id);
              seq++;
            }
          }
          rep.seq = seq;
          spot__wire_encode(&rep, fk->last, sizeof fk->last, &fk->last_len);
          int damage = atomic_load(&fk->damage_replies) > 0;
          if (damage)
            atomic_fetch_sub(&fk->damage_replies, 1);
          send_frame(fd, SPOT__FRAME_REP, fk->last, fk->last_len, damage);
        }
      }
    }
    atomic_store(&fk->conn_fd, 0);
    close(fd);
  }
  return NULL;
}

static char sock[300];
static fake_t fk;
static pthread_t fake_thread;
static spot_ns_t *ns;

static int setup(void) {
  const char *dir = spot_test_dir("serial");
  char nsdir[400];
  snprintf(nsdir, sizeof nsdir, "%s/edge", dir);
  snprintf(sock, sizeof sock, "%s/dev.sock", dir);
  if (strlen(sock) >= sizeof(((struct sockaddr_un *)0)->sun_path)) /* a deep build directory: a short path */
    snprintf(sock, sizeof sock, "/tmp/spot-serial-test-%d.sock", (int)getpid());
  if (spot_ns_init(nsdir) != 0 || spot_ns_open(nsdir, NULL, &ns) != 0)
    return -1;
  memset(&fk, 0, sizeof fk);
  fk.listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  if (strlen(sock) >= sizeof a.sun_path)
    return -1;
  memcpy(a.sun_path, sock, strlen(sock));
  unlink(sock);
  if (bind(fk.listen_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fk.listen_fd, 4) != 0)
    return -1;
  return pthread_create(&fake_thread, NULL, fake_main, &fk);
}

static spot__msg_t latest_req(void) {
  spot__msg_t m;
  memset(&m, 0, sizeof m);
  m.type = SPOT__WIRE_LATEST;
  m.ns = spot__wire_cstr("dev");
  m.log = spot__wire_cstr("greetings");
  return m;
}

static void test_damaged_reply_is_naked_and_resent(void) {
  CHECK(setup() == 0);
  setenv("SPOT_SERIAL_TIMEOUT_MS", "1500", 1);
  spot__serial_t *s;
  CHECK_OK(spot__serial_open("dev", sock, ns, &s));
  atomic_store(&fk.damage_replies, 1);
  spot__msg_t req = latest_req(), rep;
  CHECK_OK(spot__serial_call(s, &req, &rep));
  CHECK_EQ(rep.status, 0);
  spot__serial_stats_t st;
  spot__serial_stats(s, &st);
  CHECK(st.naks_sent >= 1);
  /* a damaged request: the device NAKs it, the edge sends it again */
  atomic_store(&fk.nak_requests, 1);
  CHECK_OK(spot__serial_call(s, &req, &rep));
  spot__serial_stats(s, &st);
  CHECK(st.naks_got >= 1);
  spot__serial_close(s);
}

static void test_silent_device_times_out_and_outbox_delivers(void) {
  setenv("SPOT_SERIAL_TIMEOUT_MS", "600", 1);
  spot__serial_t *s;
  CHECK_OK(spot__serial_open("dev", sock, ns, &s));
  atomic_store(&fk.silent, 1);
  int before = atomic_load(&fk.puts);
  spot__msg_t put;
  memset(&put, 0, sizeof put);
  put.type = SPOT__WIRE_PUT;
  put.ns = spot__wire_cstr("dev");
  put.log = spot__wire_cstr("greetings");
  put.data = (const uint8_t *)"queued";
  put.data_len = 6;
  spot__msg_t rep;
  CHECK_EQ(spot__serial_call(s, &put, &rep), SPOT_ETIMEDOUT);
  CHECK(strstr(spot_errdetail(), "did not answer") != NULL);
  CHECK(strstr(spot_errdetail(), "outbox") != NULL);
  /* the device is back: the outbox thread delivers the put (once) */
  atomic_store(&fk.silent, 0);
  for (int i = 0; i < 100 && atomic_load(&fk.puts) == before; i++)
    usleep(50000);
  CHECK_EQ(atomic_load(&fk.puts), before + 1);
  /* the fake counts the put when it answers; the edge counts it delivered after its synced record of that (log
   * dev-outbox-sent): wait for the edge's side too */
  spot__serial_stats_t st;
  spot__serial_stats(s, &st);
  for (int i = 0; i < 100 && st.delivered == 0; i++) {
    usleep(50000);
    spot__serial_stats(s, &st);
  }
  CHECK_EQ(st.queued, 1);
  CHECK_EQ(st.delivered, 1);
  /* a put after it goes straight through */
  CHECK_OK(spot__serial_call(s, &put, &rep));
  CHECK_EQ(rep.status, 0);
  CHECK_EQ(atomic_load(&fk.puts), before + 2);
  spot__serial_close(s);
}

/* Sends an UP frame from the fake device: HOST:PORT, then m encoded. */
static void send_up(const char *hostport, const spot__msg_t *m) {
  uint8_t p[400];
  size_t n;
  p[0] = (uint8_t)strlen(hostport);
  memcpy(p + 1, hostport, p[0]);
  if (spot__wire_encode(m, p + 1 + p[0], sizeof p - 1 - p[0], &n) == 0)
    send_frame(atomic_load(&fk.conn_fd), SPOT__FRAME_UP, p, 1 + p[0] + n, 0);
}

static int wait_up_reps(int n) {
  for (int i = 0; i < 200 && atomic_load(&fk.up_reps) < n; i++)
    usleep(50000);
  return atomic_load(&fk.up_reps);
}

static void test_device_puts_are_answered(void) {
  setenv("SPOT_SERIAL_TIMEOUT_MS", "1000", 1);
  setenv("SPOT_TIMEOUT_MS", "300", 1); /* the edge's own client, to a target that is not there */
  int conns = atomic_load(&fk.conns); /* the previous test's link may not be closed on the fake's side yet */
  spot__serial_t *s;
  CHECK_OK(spot__serial_open("dev", sock, ns, &s));
  for (int i = 0; i < 100 && atomic_load(&fk.conns) == conns; i++)
    usleep(20000);
  CHECK(atomic_load(&fk.conns) > conns);
  int before = atomic_load(&fk.up_reps);
  /* not a put: refused in words, so the device moves on */
  spot__msg_t m = latest_req();
  m.id = 7;
  send_up("127.0.0.1:1", &m);
  CHECK_EQ(wait_up_reps(before + 1), before + 1);
  CHECK_EQ(atomic_load(&fk.up_status), SPOT_ECORRUPT);
  CHECK_EQ(atomic_load(&fk.up_id), 7);
  /* a put to a node that does not answer: forwarded, and its error comes back (the device tries again later) */
  memset(&m, 0, sizeof m);
  m.type = SPOT__WIRE_PUT;
  m.id = 9;
  m.ns = spot__wire_cstr("cloud");
  m.log = spot__wire_cstr("from_device");
  m.cause_node = 0x77;
  m.cause_event = 3;
  m.data = (const uint8_t *)"up";
  m.data_len = 2;
  send_up("127.0.0.1:1", &m);
  CHECK_EQ(wait_up_reps(before + 2), before + 2);
  CHECK(atomic_load(&fk.up_status) < 0);
  CHECK_EQ(atomic_load(&fk.up_id), 9);
  spot__serial_stats_t st;
  spot__serial_stats(s, &st);
  CHECK_EQ(st.up_failed, 1);
  CHECK_EQ(st.up_forwarded, 0);
  spot__serial_close(s);
}

static void test_nothing_there_times_out(void) {
  setenv("SPOT_SERIAL_TIMEOUT_MS", "400", 1);
  char nowhere[400];
  snprintf(nowhere, sizeof nowhere, "%s.none", sock);
  spot__serial_t *s;
  CHECK_OK(spot__serial_open("away", nowhere, ns, &s));
  spot__msg_t req = latest_req(), rep;
  CHECK_EQ(spot__serial_call(s, &req, &rep), SPOT_ETIMEDOUT);
  CHECK(strstr(spot_errdetail(), "not reachable") != NULL);
  spot__serial_close(s);
  atomic_store(&fk.stop, 1);
  shutdown(fk.listen_fd, SHUT_RDWR); /* wakes the fake device's accept */
  int conn = atomic_load(&fk.conn_fd);
  if (conn > 0) /* a link an earlier failed test left open: wakes the fake's read, so the join cannot hang */
    shutdown(conn, SHUT_RDWR);
  pthread_join(fake_thread, NULL);
  close(fk.listen_fd);
  spot_ns_close(ns);
  unlink(sock);
}

static const spot_test_t tests[] = {
    {"damaged_reply_is_naked_and_resent", test_damaged_reply_is_naked_and_resent},
    {"silent_device_times_out_and_outbox_delivers", test_silent_device_times_out_and_outbox_delivers},
    {"device_puts_are_answered", test_device_puts_are_answered},
    {"nothing_there_times_out", test_nothing_there_times_out},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
