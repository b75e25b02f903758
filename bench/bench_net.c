/*
 * bench_net.c: network benchmarks (issue 6), JSON lines as the other bench_* programs.
 *
 * For now the baseline the spot figures will be measured against, in the same run: a bare libzmq CURVE
 * request/reply between two processes over loopback, with a message the size of a small remote put (about 100
 * bytes each way), as `baseline_zmq_curve_rtt`: p50/p99 round trip over 10,000 sequential requests, after 1,000
 * warm-up ones. The server is a forked child; keys come from zmq_curve_keypair. The remote put figures join it
 * when the transport lands, each also reported as a ratio to this baseline.
 *
 *   bench_net [FILTER]      # only figures whose name contains FILTER
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define WARMUP 1000
#define ROUNDS 10000
#define MSG_BYTES 100

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(const uint64_t *v, size_t n, double p) { return v[(size_t)(p * (double)(n - 1))] / 1000.0; }

/* The server: REP socket with CURVE, answers every request with a reply of the same size, until killed. */
static void serve(const char *endpoint, const char *server_secret) {
  void *ctx = zmq_ctx_new();
  void *rep = zmq_socket(ctx, ZMQ_REP);
  int one = 1;
  zmq_setsockopt(rep, ZMQ_CURVE_SERVER, &one, sizeof one);
  zmq_setsockopt(rep, ZMQ_CURVE_SECRETKEY, server_secret, 40);
  if (zmq_bind(rep, endpoint) != 0)
    _exit(2);
  char buf[MSG_BYTES * 2];
  for (;;) {
    int n = zmq_recv(rep, buf, sizeof buf, 0);
    if (n < 0)
      _exit(0);
    zmq_send(rep, buf, (size_t)n, 0);
  }
}

static void baseline(void) {
  char server_pub[41], server_sec[41], client_pub[41], client_sec[41];
  if (zmq_curve_keypair(server_pub, server_sec) != 0 || zmq_curve_keypair(client_pub, client_sec) != 0) {
    fprintf(stderr, "bench_net: libzmq has no CURVE (built without libsodium?)\n");
    exit(1);
  }
  char endpoint[64];
  snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", 20000 + (int)(getpid() % 20000));
  pid_t pid = fork();
  if (pid == 0)
    serve(endpoint, server_sec);
  void *ctx = zmq_ctx_new();
  void *req = zmq_socket(ctx, ZMQ_REQ);
  zmq_setsockopt(req, ZMQ_CURVE_SERVERKEY, server_pub, 40);
  zmq_setsockopt(req, ZMQ_CURVE_PUBLICKEY, client_pub, 40);
  zmq_setsockopt(req, ZMQ_CURVE_SECRETKEY, client_sec, 40);
  int timeout = 5000;
  zmq_setsockopt(req, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
  zmq_connect(req, endpoint);
  char msg[MSG_BYTES], back[MSG_BYTES * 2];
  memset(msg, 'p', sizeof msg);
  static uint64_t lat[ROUNDS];
  int ok = 1;
  uint64_t start = 0;
  for (int i = 0; i < WARMUP + ROUNDS && ok; i++) {
    if (i == WARMUP)
      start = now_ns();
    uint64_t t0 = now_ns();
    ok = zmq_send(req, msg, sizeof msg, 0) == (int)sizeof msg && zmq_recv(req, back, sizeof back, 0) == (int)sizeof msg;
    if (i >= WARMUP)
      lat[i - WARMUP] = now_ns() - t0;
  }
  double seconds = (double)(now_ns() - start) / 1e9;
  zmq_close(req);
  zmq_ctx_term(ctx);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  if (!ok) {
    fprintf(stderr, "bench_net: the baseline server did not answer (port in use?)\n");
    exit(1);
  }
  qsort(lat, ROUNDS, sizeof lat[0], cmp_u64);
  printf("{\"name\":\"baseline_zmq_curve_rtt\",\"transport\":\"tcp loopback\",\"curve\":true,\"msg_bytes\":%d,"
         "\"n\":%d,\"ops_per_s\":%.0f,\"p50_us\":%.2f,\"p90_us\":%.2f,\"p99_us\":%.2f,\"p999_us\":%.2f,"
         "\"max_us\":%.2f}\n",
         MSG_BYTES, ROUNDS, ROUNDS / seconds, pct(lat, ROUNDS, 0.5), pct(lat, ROUNDS, 0.9), pct(lat, ROUNDS, 0.99),
         pct(lat, ROUNDS, 0.999), pct(lat, ROUNDS, 1.0));
  fflush(stdout);
}

int main(int argc, char **argv) {
  const char *filter = argc > 1 ? argv[1] : "";
  if (strstr("baseline_zmq_curve_rtt", filter))
    baseline();
  return 0;
}
