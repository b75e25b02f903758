/*
 * mirror_test.c: the JetStream mirror (`spot mirror`, `spotd --mirror`) against real nats-server processes with
 * JetStream, started here on 127.0.0.1 (free ports, their storage in scratch directories). The stream is read back
 * with libnats, message by message: every element of the log must be there exactly once (Spot-Seq 1..N, each once,
 * its payload, its Nats-Msg-Id NODE-LOG-SEQ and its put event in Spot-Cause).
 *  - basic_copy_once: `spot mirror` copies a log, copies only what is new the second time, nothing the third.
 *  - basic_repair: an element deleted from the stream's newest batch is sent again at the next start, and only it.
 *  - kill_spotd: `spotd --mirror` follows puts; killed with SIGKILL in the middle and started again, the stream
 *    ends with every element once.
 *  - kill_nats: the nats-server is killed with SIGKILL in the middle and started again; the mirror retries and
 *    the stream ends with every element once.
 *  - cluster: a 3-node JetStream cluster, a stream with 3 replicas; one node is killed with SIGKILL in the middle;
 *    every element is there once, and on the killed node too once it is back (exits 77 with SPOT_TEST_QUICK).
 * Exits 77 (skipped) when nats-server is not installed. Every wait is bounded.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nats/nats.h>

#include "brokers.h"
#include "spot.h"
#include "support.h"
#include "test.h"

static char dir[4200], ns[4300];
static spot_test_nats_t nats;

static int setup(const char *tag, int nodes) {
  snprintf(dir, sizeof dir, "%s", spot_test_dir(tag));
  snprintf(ns, sizeof ns, "%s/ns", dir);
  char out[4096], err[4096];
  if (spot_test_sh(out, sizeof out, err, sizeof err, "%s init %s && %s -n %s create a --size 16 --history 50000",
                   spot_test_bin(), ns, spot_test_bin(), ns) != 0) {
    fprintf(stderr, "  setup failed: %s%s\n", out, err);
    return -1;
  }
  return spot_test_nats_setup(&nats, dir, nodes);
}

static const char *url(int nodes) {
  static char u[256];
  (void)nodes;
  size_t len = strlen(spot_test_nats_url(&nats, u, sizeof u - 8));
  snprintf(u + len, sizeof u - len, "/S1");
  return u;
}

typedef struct tally {
  int distinct, dups, bad;
  uint64_t msgs;
} tally_t;

/* Reads the whole stream S1 through server `via` and tallies elements 1..N of log a: each must appear once with
 * its payload "m<seq>", its message id and its cause (a put event of this node). */
static int read_stream(int via, int N, uint64_t node, tally_t *t) {
  memset(t, 0, sizeof *t);
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  if (spot_test_nats_connect(&nats, via, &nc, &js) != 0)
    return -1;
  int rc = -1;
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  unsigned char *seen = calloc((size_t)N + 1, 1);
  if (js_GetStreamInfo(&si, js, "S1", NULL, &jerr) != NATS_OK)
    goto done;
  t->msgs = si->State.Msgs;
  char want_cause[40], want_id[80];
  snprintf(want_cause, sizeof want_cause, "%016llx:", (unsigned long long)node);
  for (uint64_t k = si->State.FirstSeq; k <= si->State.LastSeq && k > 0; k++) {
    natsMsg *m = NULL;
    if (js_GetMsg(&m, js, "S1", k, NULL, &jerr) != NATS_OK)
      continue; /* deleted */
    const char *seqh = NULL, *id = NULL, *cause = NULL;
    natsMsgHeader_Get(m, "Spot-Seq", &seqh);
    natsMsgHeader_Get(m, "Nats-Msg-Id", &id);
    natsMsgHeader_Get(m, "Spot-Cause", &cause);
    int q = seqh ? atoi(seqh) : 0;
    char payload[17] = {0};
    if (natsMsg_GetDataLength(m) == 16)
      memcpy(payload, natsMsg_GetData(m), 16);
    char want_payload[17];
    snprintf(want_payload, sizeof want_payload, "m%d", q);
    snprintf(want_id, sizeof want_id, "%016llx-a-%d", (unsigned long long)node, q);
    if (q < 1 || q > N || strcmp(payload, want_payload) != 0 || id == NULL || strcmp(id, want_id) != 0 ||
        cause == NULL || strncmp(cause, want_cause, strlen(want_cause)) != 0)
      t->bad++;
    else if (seen[q]++)
      t->dups++;
    else
      t->distinct++;
    natsMsg_Destroy(m);
  }
  rc = 0;
done:
  free(seen);
  jsStreamInfo_Destroy(si);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return rc;
}

static long long stream_msgs(int via) {
  return spot_test_nats_msgs(&nats, via, "S1");
}

static int wait_msgs(int via, long long want, int timeout_s) {
  return spot_test_nats_wait_msgs(&nats, via, "S1", want, timeout_s);
}

static int mirror_cli(int nodes, const char *extra, char *out, size_t cap) {
  char err[4096];
  int rc = spot_test_sh(out, cap, err, sizeof err, "%s -n %s mirror a '%s' --json %s", spot_test_bin(), ns,
                        url(nodes), extra);
  if (rc != 0)
    fprintf(stderr, "  spot mirror failed: %s%s\n", out, err);
  return rc;
}

static void test_copy_once(void) {
  CHECK_OK(setup("mirror-once", 1));
  spot_ns_t *n;
  CHECK_OK(spot_ns_open(ns, NULL, &n));
  uint64_t node = spot_ns_node_id(n);
  CHECK_OK(spot_test_put_numbered(n, "a", 1, 1000));
  char out[4096];
  CHECK_EQ(mirror_cli(1, "", out, sizeof out), 0);
  CHECK(strstr(out, "\"published\":1000,") != NULL);
  CHECK_OK(spot_test_put_numbered(n, "a", 1001, 1500));
  CHECK_EQ(mirror_cli(1, "", out, sizeof out), 0);
  CHECK(strstr(out, "\"resumed_after\":1000,") != NULL && strstr(out, "\"published\":500,") != NULL);
  CHECK_EQ(mirror_cli(1, "", out, sizeof out), 0);
  CHECK(strstr(out, "\"published\":0,") != NULL);
  tally_t t;
  CHECK_EQ(read_stream(0, 1500, node, &t), 0);
  CHECK_EQ(t.distinct, 1500);
  CHECK_EQ(t.dups, 0);
  CHECK_EQ(t.bad, 0);
  CHECK_EQ(t.msgs, 1500);
  spot_ns_close(n);
}

static void test_repair(void) {
  CHECK_OK(setup("mirror-repair", 1));
  spot_ns_t *n;
  CHECK_OK(spot_ns_open(ns, NULL, &n));
  uint64_t node = spot_ns_node_id(n);
  CHECK_OK(spot_test_put_numbered(n, "a", 1, 300));
  /* the stream made beforehand, as an operator would, with a duplicate window of 1 s (the mirror uses it as is) */
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  jsErrCode jerr = 0;
  jsStreamInfo *si = NULL;
  char subject[64];
  snprintf(subject, sizeof subject, "spot.%016llx.a", (unsigned long long)node);
  CHECK_OK(spot_test_nats_connect(&nats, 0, &nc, &js));
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  const char *subjects[1] = {subject};
  cfg.Name = "S1";
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Duplicates = 1000 * 1000 * 1000ll;
  CHECK(js_AddStream(&si, js, &cfg, NULL, &jerr) == NATS_OK);
  jsStreamInfo_Destroy(si);
  char out[4096];
  CHECK_EQ(mirror_cli(1, "", out, sizeof out), 0);
  /* take element 290 out of the stream, as if its publish had been lost when the mirror died, and let the
   * duplicate window forget its id (a message that never reached the stream has no id there) */
  CHECK(js_DeleteMsg(js, "S1", 290, NULL, &jerr) == NATS_OK); /* stream sequence 290 is element 290 here */
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  usleep(1500 * 1000);
  tally_t t;
  CHECK_EQ(read_stream(0, 300, node, &t), 0);
  CHECK_EQ(t.distinct, 299);
  CHECK_EQ(mirror_cli(1, "", out, sizeof out), 0);
  CHECK(strstr(out, "\"repaired\":1,") != NULL && strstr(out, "\"published\":0,") != NULL);
  CHECK_EQ(read_stream(0, 300, node, &t), 0);
  CHECK_EQ(t.distinct, 300);
  CHECK_EQ(t.dups, 0);
  CHECK_EQ(t.bad, 0);
  spot_ns_close(n);
}

static int start_spotd(int nodes) {
  return spot_test_spawn("%s -n %s --quiet --mode thread --mirror 'a=%s' %s 2>>%s/spotd.log", spot_test_env("SPOTD_BIN"), ns,
                         url(nodes), nodes > 1 ? "--mirror-replicas 3" : "", dir);
}

/* Puts N elements while spotd mirrors them, kills what `victim` says mid-stream, starts it again, and checks the
 * stream ends with every element exactly once. */
static void follow_and_kill(int nodes, int N, int kill_spotd) {
  spot_ns_t *n;
  CHECK_OK(spot_ns_open(ns, NULL, &n));
  uint64_t node = spot_ns_node_id(n);
  int via = nodes > 1 ? 1 : 0;
  CHECK_OK(spot_test_put_numbered(n, "a", 1, N / 2)); /* a backlog, so that the kill lands while the mirror copies */
  int spotd = start_spotd(nodes);
  CHECK(spotd > 0);
  CHECK_OK(wait_msgs(via, N / 10, 30));
  long long before = stream_msgs(via);
  tally_t t;
  if (kill_spotd) {
    CHECK(spot_test_stop(spotd, SIGKILL) >= 0);
    printf("  spotd killed with %lld of %d elements in the stream\n", before, N);
    CHECK_OK(spot_test_put_numbered(n, "a", N / 2 + 1, N));
    spotd = start_spotd(nodes);
    CHECK(spotd > 0);
  } else {
    int victim = nodes > 1 ? 0 : 0;
    CHECK(spot_test_stop(nats.pids[victim], SIGKILL) >= 0);
    printf("  nats-server %d killed with %lld of %d elements in the stream\n", victim, before, N);
    CHECK_OK(spot_test_put_numbered(n, "a", N / 2 + 1, N));
    if (nodes == 1) {
      usleep(500 * 1000);
      CHECK_OK(spot_test_nats_start(&nats, 0));
    }
  }
  CHECK_OK(wait_msgs(via, N, 60));
  CHECK_EQ(read_stream(via, N, node, &t), 0);
  CHECK_EQ(t.bad, 0);
  CHECK_EQ(t.distinct, N);
  CHECK_EQ(t.dups, 0);
  if (!kill_spotd && nodes > 1) { /* the killed node comes back and catches up: it holds the same */
    CHECK_OK(spot_test_nats_start(&nats, 0));
    CHECK_OK(wait_msgs(0, N, 30));
    tally_t t0;
    CHECK_EQ(read_stream(0, N, node, &t0), 0);
    CHECK_EQ(t0.distinct, N);
    CHECK_EQ(t0.dups, 0);
  }
  CHECK(spot_test_stop(spotd, SIGTERM) == 0);
  spot_ns_close(n);
}

static void test_spotd_kill9(void) {
  CHECK_OK(setup("mirror-spotd", 1));
  follow_and_kill(1, 6000, 1);
}

static void test_nats_kill9(void) {
  CHECK_OK(setup("mirror-nats", 1));
  follow_and_kill(1, 6000, 0);
}

static void test_cluster(void) {
  CHECK_OK(setup("mirror-cluster", 3));
  follow_and_kill(3, 6000, 0);
}

/* ctest runs three groups as three tests (tests/bridge/CMakeLists.txt): "basic" (the default), "kill_" and
 * "cluster"; `mirror_test NAME` runs the tests whose name contains NAME, `mirror_test ''` all of them. */
static const spot_test_t tests[] = {{"basic_copy_once", test_copy_once}, {"basic_repair", test_repair},
                                    {"kill_spotd", test_spotd_kill9},    {"kill_nats", test_nats_kill9},
                                    {"cluster", test_cluster},           {NULL, NULL}};

int main(int argc, char **argv) {
  if (spot_test_nats_skip())
    return 77;
  if (argc > 1 && strcmp(argv[1], "cluster") == 0 && getenv("SPOT_TEST_QUICK")) {
    printf("SKIP: the 3-node cluster is left out with SPOT_TEST_QUICK (three servers and a kill are slow under "
           "sanitizers; the normal build runs it)\n");
    return 77;
  }
  int failed = 0, ran = 0;
  const char *only = argc > 1 ? argv[1] : "basic"; /* "" runs them all */
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
  nats_Close();
  printf("%d passed, %d failed\n", ran - failed, failed);
  return failed;
}
