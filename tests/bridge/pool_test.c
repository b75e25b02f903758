/*
 * pool_test.c: handler pools (`spotd --pool`) against real nats-server processes with JetStream started here on
 * 127.0.0.1 (brokers.c: free ports, storage in the scratch directory), with real spotd members, each serving its
 * own namespace with log w (the pooled log) and out (what handler `pooled` writes: the element it ran).
 * Puts go to member 0's log w; the members share the runs. What is checked, read back from the members' logs,
 * their event logs and the pool's streams:
 *  - every put ran at least once (its payload is in some member's out log);
 *  - its effect is applied once: the done stream SPOT_POOL_P_DONE holds exactly one record per put (run id =
 *    NODE-w-SEQ, the stream's duplicate window), naming member 0's node and the member that ran it;
 *  - every run's put on a member has the origin put as its cause (member 0's put event of that element), so a
 *    trace leads back across the pool;
 *  - the work-queue stream ends empty (every piece of work acknowledged).
 * Tests:
 *  - basic_share: one server, two members (member 1 only runs work): 400 puts; `spot trace` of a run on member 1
 *    shows the run below the origin put on member 0's node.
 *  - basic_slow: a slow consumer: member 1's runs take 300 ms, one at a time, next to member 0's 1 ms: 200 puts.
 *  - basic_dead: a handler that always fails, max deliver 3: each put ends in the dead-letter stream after three
 *    runs (Spot-Reason says so), and nothing stays in the work queue.
 *  - cluster_kill: a 3-node JetStream cluster (streams with 3 replicas) and three members; in the middle one NATS
 *    node and one member are killed with SIGKILL (the NATS node starts again a second later, the member does not):
 *    the unacknowledged runs are delivered again after ack wait (time limit 2 s + 1 s) and the checks above hold
 *    (exits 77 with SPOT_TEST_QUICK).
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
#include "spot/events.h"
#include "support.h"
#include "test.h"

#define MEMBERS 3

static char dir[4200], ns[MEMBERS][4300], url[512];
static spot_test_nats_t nats;
static int members[MEMBERS] = {-1, -1, -1};
static const char *member_env = ""; /* put before the next member's command line ("env NAME=VALUE ") */

static int setup(const char *tag, int nodes) {
  snprintf(dir, sizeof dir, "%s", spot_test_dir(tag));
  for (int i = 0; i < MEMBERS; i++) {
    snprintf(ns[i], sizeof ns[i], "%s/ns%d", dir, i);
    char out[4096], err[4096];
    if (spot_test_sh(out, sizeof out, err, sizeof err,
                     "%s init %s && %s -n %s build-handler %s/tests/bridge/pool_handlers.c && "
                     "%s -n %s create w --size 16 --history 20000 && %s -n %s create out --size 16 --history 20000",
                     spot_test_bin(), ns[i], spot_test_bin(), ns[i], spot_test_env("SPOT_SRC"), spot_test_bin(),
                     ns[i], spot_test_bin(), ns[i]) != 0) {
      fprintf(stderr, "  setup failed: %s%s\n", out, err);
      return -1;
    }
  }
  if (spot_test_nats_setup(&nats, dir, nodes) != 0)
    return -1;
  spot_test_nats_url(&nats, url, sizeof url);
  return 0;
}

/* Starts member i (role both, feed or work) running handler h, and waits (20 s at most) until it has joined. */
static int start_member(int i, const char *role, const char *h, const char *extra) {
  char log[4400], out[256];
  snprintf(log, sizeof log, "%s/spotd%d.log", dir, i);
  members[i] = spot_test_spawn("%s%s -n %s --mode thread --workers 2 --timeout-ms 2000 --pool '%s' --pool-name P "
                               "--pool-log w:%s --pool-role %s %s 2>>%s",
                               member_env, spot_test_env("SPOTD_BIN"), ns[i], url, h, role, extra, log);
  for (int k = 0; k < 400 && members[i] > 0; k++) {
    if (spot_test_sh(out, sizeof out, NULL, 0, "grep -qE 'spotd: (info: )?serving' %s", log) == 0)
      return 0;
    usleep(50 * 1000);
  }
  fprintf(stderr, "  member %d did not join the pool (see %s)\n", i, log);
  return -1;
}

typedef struct tally {
  int distinct, dups, bad;
  int by_member[MEMBERS];
} tally_t;

/* The payload number i ("m<i>") of element seq of member 0's log w, or 0. Member 0's runs are puts to w as well
 * (naming the handler), so the puts of the test are not elements 1..N. */
static int origin_payload(spot_log_t *w0, uint64_t seq) {
  char buf[16];
  int q = 0;
  if (seq == 0 || spot_log_read(w0, seq, buf, sizeof buf) != 0 || sscanf(buf, "m%d", &q) != 1)
    return 0;
  return q;
}

/* Reads stream `stream` through server via and tallies its records of puts m1..mN of member 0 (node0). */
static int read_records(int via, const char *stream, int N, uint64_t node0, const uint64_t *nodes, tally_t *t,
                        const char *reason) {
  memset(t, 0, sizeof *t);
  natsConnection *nc = NULL;
  jsCtx *js = NULL;
  jsStreamInfo *si = NULL;
  jsErrCode jerr = 0;
  int rc = -1;
  unsigned char *seen = calloc((size_t)N + 1, 1);
  spot_ns_t *n0 = NULL;
  spot_log_t *w0 = NULL;
  if (seen == NULL || spot_ns_open(ns[0], NULL, &n0) != 0 || spot_ns_open_log(n0, "w", 0, &w0, NULL) != 0 ||
      spot_test_nats_connect(&nats, via, &nc, &js) != 0 ||
      js_GetStreamInfo(&si, js, stream, NULL, &jerr) != NATS_OK)
    goto done;
  char want_node[32];
  snprintf(want_node, sizeof want_node, "%016llx", (unsigned long long)node0);
  for (uint64_t k = si->State.FirstSeq; k <= si->State.LastSeq && k > 0; k++) {
    natsMsg *m = NULL;
    if (js_GetMsg(&m, js, stream, k, NULL, &jerr) != NATS_OK)
      continue;
    const char *seqh = NULL, *node = NULL, *ran = NULL, *why = NULL, *id = NULL;
    natsMsgHeader_Get(m, "Spot-Seq", &seqh);
    natsMsgHeader_Get(m, "Spot-Node", &node);
    natsMsgHeader_Get(m, "Spot-Ran-On", &ran);
    natsMsgHeader_Get(m, "Spot-Reason", &why);
    natsMsgHeader_Get(m, "Nats-Msg-Id", &id);
    uint64_t seq = seqh ? strtoull(seqh, NULL, 10) : 0;
    int q = origin_payload(w0, seq);
    char want_id[96];
    snprintf(want_id, sizeof want_id, "%s-w-%llu", want_node, (unsigned long long)seq);
    int who = -1;
    for (int i = 0; i < MEMBERS && ran; i++)
      if (strtoull(ran, NULL, 16) == nodes[i])
        who = i;
    if (q < 1 || q > N || node == NULL || strcmp(node, want_node) != 0 || who < 0 || id == NULL ||
        strcmp(id, want_id) != 0 || (reason && (why == NULL || strstr(why, reason) == NULL))) {
      if (t->bad++ == 0)
        fprintf(stderr, "  a bad record: Spot-Seq %s, Spot-Node %s, Spot-Ran-On %s, Nats-Msg-Id %s, Spot-Reason %s\n",
                seqh ? seqh : "-", node ? node : "-", ran ? ran : "-", id ? id : "-", why ? why : "-");
    }
    else if (seen[q]++)
      t->dups++;
    else
      t->distinct++, t->by_member[who]++;
    natsMsg_Destroy(m);
  }
  rc = 0;
done:
  free(seen);
  if (w0)
    spot_log_close(w0);
  if (n0)
    spot_ns_close(n0);
  jsStreamInfo_Destroy(si);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return rc;
}

/* How many of puts 1..N of member 0 appear in the out logs of members 0..count-1 (each at least once). */
static int ran_somewhere(int N, int count) {
  unsigned char *seen = calloc((size_t)N + 1, 1);
  int distinct = 0;
  for (int i = 0; seen && i < count; i++) {
    spot_ns_t *n;
    spot_log_t *lg;
    if (spot_ns_open(ns[i], NULL, &n) != 0)
      continue;
    if (spot_ns_open_log(n, "out", 0, &lg, NULL) == 0) {
      uint64_t last = 0;
      spot_log_latest(lg, &last);
      for (uint64_t s = 1; s <= last; s++) {
        char buf[16];
        int q = 0;
        if (spot_log_read(lg, s, buf, sizeof buf) == 0 && sscanf(buf, "m%d", &q) == 1 && q >= 1 && q <= N &&
            !seen[q]++)
          distinct++;
      }
      spot_log_close(lg);
    }
    spot_ns_close(n);
  }
  free(seen);
  return distinct;
}

/* Checks every run put (to w, naming handler h) in the event logs of members 0..count-1: its cause must be member
 * 0's put event of an element with the same payload. *runs gets how many there were, *fails the fail events of h;
 * returns how many runs had a wrong cause (or -1). */
static int check_causes(int count, const char *h, int *runs, int *fails) {
  spot_ns_t *n0;
  spot_log_t *w0;
  *runs = *fails = 0;
  if (spot_ns_open(ns[0], NULL, &n0) != 0)
    return -1;
  if (spot_ns_open_log(n0, "w", 0, &w0, NULL) != 0) {
    spot_ns_close(n0);
    return -1;
  }
  uint64_t node0 = spot_ns_node_id(n0);
  int wrong = 0;
  for (int i = 0; i < count; i++) {
    spot_ns_t *n;
    spot_log_t *w;
    if (spot_ns_open(ns[i], NULL, &n) != 0)
      return -1;
    if (spot_ns_open_log(n, "w", 0, &w, NULL) != 0)
      return -1;
    uint64_t lo = 0, hi = 0;
    spot_events_range(n, &lo, &hi);
    for (uint64_t id = lo; id && id <= hi; id++) {
      spot_eventrec_t ev, origin;
      if (spot_events_read(n, id, &ev) != 0 || strcmp(ev.log, "w") != 0 || strcmp(ev.handler, h) != 0)
        continue;
      if (ev.type == SPOT_EVENT_FAIL)
        (*fails)++;
      if (ev.type != SPOT_EVENT_PUT)
        continue;
      (*runs)++;
      int q = origin_payload(w, ev.seq);
      if (ev.cause.node != node0 || spot_events_read(n0, ev.cause.event, &origin) != 0 ||
          origin.type != SPOT_EVENT_PUT || strcmp(origin.log, "w") != 0 || origin.handler[0] != '\0' || q == 0 ||
          origin_payload(w0, origin.seq) != q)
        wrong++;
    }
    spot_log_close(w);
    spot_ns_close(n);
  }
  spot_log_close(w0);
  spot_ns_close(n0);
  return wrong;
}

static void node_ids(uint64_t *nodes) {
  for (int i = 0; i < MEMBERS; i++) {
    spot_ns_t *n;
    nodes[i] = 0;
    if (spot_ns_open(ns[i], NULL, &n) == 0) {
      nodes[i] = spot_ns_node_id(n);
      spot_ns_close(n);
    }
  }
}

/* The checks every run ends with (see the top of the file), for N puts run by members 0..count-1. */
static void check_all(int via, int N, int count) {
  uint64_t nodes[MEMBERS];
  node_ids(nodes);
  CHECK_OK(spot_test_nats_wait_msgs(&nats, via, "SPOT_POOL_P_DONE", N, 60));
  tally_t t;
  CHECK_EQ(read_records(via, "SPOT_POOL_P_DONE", N, nodes[0], nodes, &t, NULL), 0);
  printf("  done records: %d distinct, %d repeated, %d bad; ran on members: %d %d %d\n", t.distinct, t.dups, t.bad,
         t.by_member[0], t.by_member[1], t.by_member[2]);
  CHECK_EQ(t.bad, 0);
  CHECK_EQ(t.distinct, N);
  CHECK_EQ(t.dups, 0);
  CHECK_EQ(ran_somewhere(N, count), N);
  int runs = 0, fails = 0;
  CHECK_EQ(check_causes(count, "pooled", &runs, &fails), 0);
  printf("  runs: %d for %d puts (%d repeated after a kill or a redelivery)\n", runs, N, runs - N);
  CHECK(runs >= N);
  long long left = -1;
  for (int k = 0; k < 200 && (left = spot_test_nats_msgs(&nats, via, "SPOT_POOL_P")) != 0; k++)
    usleep(50 * 1000);
  CHECK_EQ(left, 0);
}

static void stop_members(void) {
  for (int i = 0; i < MEMBERS; i++)
    if (members[i] > 0) {
      spot_test_stop(members[i], SIGTERM);
      members[i] = -1;
    }
}

/* `spot trace` of a run on member i (the first put to w naming `pooled` in its event log): the tree of the run on
 * that member (its start and its put to out), hanging below the origin put on member 0's node. */
static void check_trace(int i) {
  spot_ns_t *n;
  uint64_t seq = 0, node0 = 0, lo = 0, hi = 0;
  CHECK_OK(spot_ns_open(ns[0], NULL, &n));
  node0 = spot_ns_node_id(n);
  spot_ns_close(n);
  CHECK_OK(spot_ns_open(ns[i], NULL, &n));
  spot_events_range(n, &lo, &hi);
  for (uint64_t id = lo; id && id <= hi && seq == 0; id++) {
    spot_eventrec_t ev;
    if (spot_events_read(n, id, &ev) == 0 && ev.type == SPOT_EVENT_PUT && strcmp(ev.log, "w") == 0 &&
        strcmp(ev.handler, "pooled") == 0)
      seq = ev.seq;
  }
  spot_ns_close(n);
  CHECK(seq > 0);
  char out[8192], err[4096], origin[64];
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s trace w %llu", spot_test_bin(), ns[i],
                        (unsigned long long)seq),
           0);
  snprintf(origin, sizeof origin, "remote node %016llx", (unsigned long long)node0);
  printf("  spot -n member%d trace w %llu:\n%s", i, (unsigned long long)seq, out);
  CHECK(strstr(out, origin) != NULL); /* the run leads back to the put on member 0 */
  CHECK(strstr(out, "start pooled") != NULL);
  CHECK(strstr(out, "put out#") != NULL);
}

static void test_share(void) {
  CHECK_OK(setup("pool-share", 1));
  CHECK_OK(start_member(0, "both", "pooled", ""));
  CHECK_OK(start_member(1, "work", "pooled", ""));
  spot_ns_t *n;
  CHECK_OK(spot_ns_open(ns[0], NULL, &n));
  CHECK_OK(spot_test_put_numbered(n, "w", 1, 400));
  spot_ns_close(n);
  check_all(0, 400, 2);
  check_trace(1);
  stop_members();
}

/* basic_slow: a slow consumer. Member 1's runs take 300 ms (one at a time: --pool-window 1) next to member 0's 1 ms;
 * the slow member holds no more work than its window, so nothing waits for it past the ack wait: every put runs and
 * is recorded once, none twice, and the queue ends empty. */
static void test_slow(void) {
  CHECK_OK(setup("pool-slow", 1));
  CHECK_OK(start_member(0, "both", "pooled", ""));
  member_env = "env POOL_TEST_SLOW_MS=300 ";
  int rc = start_member(1, "work", "pooled", "--pool-window 1");
  member_env = "";
  CHECK_OK(rc);
  spot_ns_t *n;
  CHECK_OK(spot_ns_open(ns[0], NULL, &n));
  CHECK_OK(spot_test_put_numbered(n, "w", 1, 200));
  spot_ns_close(n);
  check_all(0, 200, 2);
  stop_members();
}

static void test_dead(void) {
  CHECK_OK(setup("pool-dead", 1));
  CHECK_OK(start_member(0, "both", "refuse", "--pool-max-deliver 3"));
  spot_ns_t *n;
  CHECK_OK(spot_ns_open(ns[0], NULL, &n));
  CHECK_OK(spot_test_put_numbered(n, "w", 1, 5));
  spot_ns_close(n);
  uint64_t nodes[MEMBERS];
  node_ids(nodes);
  CHECK_OK(spot_test_nats_wait_msgs(&nats, 0, "SPOT_POOL_P_DEAD", 5, 30));
  tally_t t;
  CHECK_EQ(read_records(0, "SPOT_POOL_P_DEAD", 5, nodes[0], nodes, &t, "failed 3 times"), 0);
  CHECK_EQ(t.bad, 0);
  CHECK_EQ(t.distinct, 5);
  CHECK_EQ(t.dups, 0);
  CHECK_EQ(spot_test_nats_msgs(&nats, 0, "SPOT_POOL_P_DONE"), 0);
  long long left = -1;
  for (int k = 0; k < 100 && (left = spot_test_nats_msgs(&nats, 0, "SPOT_POOL_P")) != 0; k++)
    usleep(50 * 1000);
  CHECK_EQ(left, 0);
  int runs = 0, fails = 0;
  CHECK_EQ(check_causes(1, "refuse", &runs, &fails), 0);
  CHECK_EQ(runs, 15); /* three deliveries of each of the five */
  CHECK_EQ(fails, 15);
  stop_members();
}

/* cluster_kill: see the top of the file. */
static void test_cluster_kill(void) {
  CHECK_OK(setup("pool-cluster", 3));
  CHECK_OK(start_member(0, "both", "pooled", "--pool-replicas 3"));
  CHECK_OK(start_member(1, "work", "pooled", "--pool-replicas 3"));
  CHECK_OK(start_member(2, "work", "pooled", "--pool-replicas 3"));
  spot_ns_t *n;
  CHECK_OK(spot_ns_open(ns[0], NULL, &n));
  int N = 1500;
  CHECK_OK(spot_test_put_numbered(n, "w", 1, N / 2));
  CHECK_OK(spot_test_nats_wait_msgs(&nats, 1, "SPOT_POOL_P_DONE", N / 8, 30));
  long long before = spot_test_nats_msgs(&nats, 1, "SPOT_POOL_P_DONE");
  CHECK(spot_test_stop(nats.pids[0], SIGKILL) >= 0);
  CHECK(spot_test_stop(members[2], SIGKILL) >= 0);
  members[2] = -1;
  printf("  nats-server 0 and member 2 killed with %lld of %d runs done\n", before, N);
  CHECK_OK(spot_test_put_numbered(n, "w", N / 2 + 1, N));
  spot_ns_close(n);
  /* the killed NATS node comes back, as a crashed server does: nats-server 2.9 can leave clients of a surviving
   * node without responders for a stream whose leader moved until the cluster's routes are whole again (seen here
   * for minutes; nats-io/nats-server#5738 reports the same, fixed by restarting a node) */
  usleep(1000 * 1000);
  CHECK_OK(spot_test_nats_start(&nats, 0));
  check_all(1, N, 3);
  stop_members();
}

/* ctest runs two groups (tests/bridge/CMakeLists.txt): "basic" (the default) and "cluster"; `pool_test NAME` runs
 * the tests whose name contains NAME, `pool_test ''` all of them. */
static const spot_test_t tests[] = {
    {"basic_share", test_share}, {"basic_slow", test_slow}, {"basic_dead", test_dead}, {"cluster_kill", test_cluster_kill}, {NULL, NULL}};

int main(int argc, char **argv) {
  if (spot_test_nats_skip())
    return 77;
  if (argc > 1 && strcmp(argv[1], "cluster") == 0 && getenv("SPOT_TEST_QUICK")) {
    printf("SKIP: the 3-node cluster with kills is left out with SPOT_TEST_QUICK (three servers, three members and "
           "an ack wait are slow under sanitizers; the normal build runs it)\n");
    return 77;
  }
  int failed = 0, ran = 0;
  const char *only = argc > 1 ? argv[1] : "basic";
  for (const spot_test_t *t = tests; t->name; t++) {
    if (!strstr(t->name, only))
      continue;
    spot_test_failed_ = 0;
    t->fn();
    stop_members();
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
