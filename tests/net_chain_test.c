/*
 * net_chain_test.c: three nodes on loopback, device -> edge -> cloud, each a real spotd with --listen and its own
 * key. The handlers are sent to edge and cloud with `spot deploy` (by an operator key with the deploy right; a key
 * without it is refused). A put on the device runs `to_edge`, which puts to the edge naming `to_cloud`, which puts
 * to the cloud naming `store`, which puts locally. Then every node's event log shows its part of the chain with
 * causes across nodes: the edge's put has the device's start event as cause, the cloud's the edge's. `store` also
 * puts back to the device's `back` log (handler `arrived`) while `to_edge` waits for it, so the chain returns to
 * the node it began on: `spot trace` shows every event once (it used to show the device's events that followed the
 * return twice), and walks back from `back#1` to the device's first put through the --peer nodes.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/event.h"
#include "dispatch/dispatch.h"
#include "spot.h"
#include "spot/net.h"
#include "support.h"
#include "test.h"

/* scratch paths are short; gcc cannot know that */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define NODES 3
static const char *names[NODES] = {"device", "edge", "cloud"};
static char root[4200], dirs[NODES][4400];
static int ports[NODES];
static pid_t pids[NODES];

static const char *env(const char *name) {
  const char *v = getenv(name);
  return v ? v : "";
}

static void stop_all(void) {
  for (int i = 0; i < NODES; i++)
    if (pids[i] > 0) {
      kill(pids[i], SIGTERM);
      waitpid(pids[i], NULL, 0);
      pids[i] = 0;
    }
}

static char *pub_of(const char *who) {
  static char k[8][64];
  static int n;
  char path[4400];
  snprintf(path, sizeof path, "%s/%s.pub", root, who);
  char *out = k[n++ % 8];
  FILE *f = fopen(path, "r");
  out[0] = '\0';
  if (f && fgets(out, 64, f) == NULL)
    out[0] = '\0';
  if (f)
    fclose(f);
  out[strcspn(out, "\n")] = '\0';
  return out;
}

static int sh(const char *fmt, const char *a, const char *b) {
  char out[8192], err[8192];
  char cmd[8192];
  snprintf(cmd, sizeof cmd, fmt, a, b);
  int rc = spot_test_sh(out, sizeof out, err, sizeof err, "%s", cmd);
  if (rc != 0)
    fprintf(stderr, "  `%s` failed: %s%s\n", cmd, out, err);
  return rc;
}

/* Each wanted line is in the trace exactly once (a subtree reached twice used to be printed twice). */
static void check_trace(const char *out, const char *err, const char *const *want, size_t n) {
  for (size_t w = 0; w < n; w++) {
    const char *at = strstr(out, want[w]);
    if (at == NULL || strstr(at + 1, want[w]) != NULL) {
      fprintf(stderr, "  trace has \"%s\" %s:\n%s%s", want[w], at ? "more than once" : "not", out, err);
      CHECK(0);
    }
  }
}

static void test_three_node_chain(void) {
  snprintf(root, sizeof root, "%s", spot_test_dir("net-chain"));
  atexit(stop_all);
  const char *spot = spot_test_bin();
  char cmd[8192], known[4400];
  snprintf(known, sizeof known, "%s/known_nodes", root);
  FILE *kn = fopen(known, "w");
  CHECK(kn != NULL);
  CHECK_EQ(sh("cd %s && %s keygen operator >/dev/null && true", root, spot), 0);
  for (int i = 0; i < NODES; i++) {
    ports[i] = 21000 + (int)(getpid() % 9000) + i * 7;
    snprintf(dirs[i], sizeof dirs[i], "%s/%s", root, names[i]);
    snprintf(cmd, sizeof cmd, "cd %s && %s keygen %s >/dev/null && %s init %s >/dev/null", root, spot, names[i], spot,
             dirs[i]);
    CHECK_EQ(sh("%s%s", cmd, ""), 0);
  }
  for (int i = 0; i < NODES; i++)
    fprintf(kn, "127.0.0.1:%d %s\n", ports[i], pub_of(names[i]));
  fclose(kn);
  /* rights: the operator deploys and reads everywhere; the device may put to the edge, the edge to the cloud */
  for (int i = 0; i < NODES; i++) {
    char path[4500];
    snprintf(path, sizeof path, "%s/access", dirs[i]);
    FILE *f = fopen(path, "w");
    fprintf(f, "%s get,put,create,deploy  # operator\n", pub_of("operator"));
    if (i > 0)
      fprintf(f, "%s put  # %s\n", pub_of(names[i - 1]), names[i - 1]);
    if (i == 0)
      fprintf(f, "%s put  # cloud, back to the device\n", pub_of(names[2]));
    fclose(f);
  }
  /* the handlers, with the next hop's address */
  char src[4500];
  snprintf(src, sizeof src, "%s/chain3.c", root);
  FILE *f = fopen(src, "w");
  fprintf(f,
          "#include <spot/handler.h>\n"
          "#include <unistd.h>\n"
          "static int to_edge(spot_ctx_t *c, const spot_event_t *e) {\n"
          "  int rc = spot_ctx_put(c, \"spot://127.0.0.1:%d/edge/in\", e->data, e->size, \"to_cloud\", NULL);\n"
          "  uint64_t s = 0;\n" /* ends after the chain came back, so its end follows `back`'s put */
          "  for (int i = 0; rc == 0 && s == 0 && i < 1000; i++)\n"
          "    if (spot_ctx_latest(c, \"back\", &s) == 0 && s == 0) usleep(10000);\n"
          "  return rc; }\n"
          "SPOT_HANDLER(to_edge)\n"
          "static int to_cloud(spot_ctx_t *c, const spot_event_t *e) {\n"
          "  return spot_ctx_put(c, \"spot://127.0.0.1:%d/cloud/in\", e->data, e->size, \"store\", NULL); }\n"
          "SPOT_HANDLER(to_cloud)\n"
          "static int store(spot_ctx_t *c, const spot_event_t *e) {\n"
          "  int rc = spot_ctx_put(c, \"done\", e->data, e->size, NULL, NULL);\n"
          "  return rc ? rc : spot_ctx_put(c, \"spot://127.0.0.1:%d/device/back\", e->data, e->size, \"arrived\", NULL); }\n"
          "SPOT_HANDLER(store)\n"
          "static int arrived(spot_ctx_t *c, const spot_event_t *e) { (void)c, (void)e; return 0; }\n"
          "SPOT_HANDLER(arrived)\n",
          ports[1], ports[2], ports[0]);
  fclose(f);
  snprintf(cmd, sizeof cmd, "%s -n %s build-handler %s >/dev/null", spot, dirs[0], src);
  CHECK_EQ(sh("%s%s", cmd, ""), 0);
  snprintf(cmd, sizeof cmd, "%s -n %s create in --size 32 --history 100 && %s -n %s create in --size 32 --history 100 && "
           "%s -n %s create in --size 32 --history 100 && %s -n %s create done --size 32 --history 100 && "
           "%s -n %s create back --size 32 --history 100",
           spot, dirs[0], spot, dirs[1], spot, dirs[2], spot, dirs[2], spot, dirs[0]);
  CHECK_EQ(sh("%s%s", cmd, ""), 0);
  for (int i = 0; i < NODES; i++) {
    pids[i] = fork();
    if (pids[i] == 0) {
      char listen[64], key[4500];
      snprintf(listen, sizeof listen, "127.0.0.1:%d", ports[i]);
      snprintf(key, sizeof key, "%s/%s.key", root, names[i]);
      setenv("SPOT_KNOWN_NODES", known, 1);
      execl(env("SPOTD_BIN"), "spotd", "-n", dirs[i], "--quiet", "--listen", listen, "--key", key, (char *)NULL);
      _exit(127);
    }
  }
  usleep(300000);
  /* deploy to edge and cloud: refused for a key without the right, done by the operator */
  snprintf(cmd, sizeof cmd, "cd %s && SPOT_KNOWN_NODES=%s %s --key device.key deploy %s spot://127.0.0.1:%d/cloud", root,
           known, spot, src, ports[2]);
  char out[8192], err[8192];
  CHECK(spot_test_sh(out, sizeof out, err, sizeof err, "%s", cmd) != 0);
  CHECK(strstr(err, "deploy") != NULL);
  for (int i = 1; i < NODES; i++) {
    snprintf(cmd, sizeof cmd, "cd %s && SPOT_KNOWN_NODES=%s %s --key operator.key deploy %s spot://127.0.0.1:%d/%s",
             root, known, spot, src, ports[i], names[i]);
    CHECK_EQ(sh("%s%s", cmd, ""), 0);
  }
  /* the put on the device */
  spot_ns_t *dev;
  CHECK_OK(spot_ns_open(dirs[0], NULL, &dev));
  uint64_t seq;
  CHECK_OK(spot_put(dev, "in", "reading 42", 10, "to_edge", NULL, &seq));
  spot_ns_close(dev);
  spot_ns_t *cloud;
  CHECK_OK(spot_ns_open(dirs[2], NULL, &cloud));
  spot_log_t *done;
  CHECK_OK(spot_ns_open_log(cloud, "done", 0, &done, NULL));
  uint64_t hi = 0;
  for (int i = 0; i < 200 && hi == 0; i++) {
    usleep(50000);
    spot_log_latest(done, &hi);
  }
  CHECK_EQ(hi, 1);
  char buf[32];
  CHECK_OK(spot_log_read(done, 1, buf, sizeof buf));
  CHECK(strncmp(buf, "reading 42", 10) == 0);
  spot_log_close(done);
  spot_ns_close(cloud);

  /* spot trace on the device follows the chain into the edge's and the cloud's event logs */
  for (int tries = 0; tries < 50; tries++) { /* the last end events may still be on their way */
    snprintf(cmd, sizeof cmd, "cd %s && SPOT_KNOWN_NODES=%s %s --key operator.key -n %s trace in 1", root, known, spot,
             dirs[0]);
    int trc = spot_test_sh(out, sizeof out, err, sizeof err, "%s", cmd);
    if (trc != 0)
      fprintf(stderr, "  trace: %s", err);
    CHECK_EQ(trc, 0);
    if (strstr(out, "end store") && strstr(out, "end arrived") && strstr(out, "end to_edge"))
      break;
    usleep(100000);
  }
  const char *want[] = {"put in#1 -> to_edge (external)", "start to_edge", "/edge/in#1 -> to_cloud", "start to_cloud",
                        "/cloud/in#1 -> store", "start store", "put done#1", "end store", "end to_cloud",
                        "end to_edge", "/device/back#1 -> arrived", "put back#1 -> arrived", "start arrived",
                        "end arrived"};
  check_trace(out, err, want, sizeof want / sizeof want[0]);
  CHECK(strstr(out, "[node ") != NULL);
  printf("%s", out);
  /* walking back from the element the cloud put on the device: without --peer the trace stops at the cloud's
   * event and says how to go on; with the edge and the cloud as peers it finds the device's first put */
  snprintf(cmd, sizeof cmd, "cd %s && SPOT_KNOWN_NODES=%s %s --key operator.key -n %s trace back 1", root, known, spot,
           dirs[0]);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s", cmd), 0);
  CHECK(strstr(out, "--peer") != NULL && strstr(out, "put back#1 -> arrived") && !strstr(out, "(external)"));
  snprintf(cmd, sizeof cmd,
           "cd %s && SPOT_KNOWN_NODES=%s %s --key operator.key -n %s trace back 1 --peer spot://127.0.0.1:%d/edge "
           "--peer spot://127.0.0.1:%d/cloud",
           root, known, spot, dirs[0], ports[1], ports[2]);
  int brc = spot_test_sh(out, sizeof out, err, sizeof err, "%s", cmd);
  if (brc != 0)
    fprintf(stderr, "  trace back: %s", err);
  CHECK_EQ(brc, 0);
  check_trace(out, err, want, sizeof want / sizeof want[0]);
  CHECK(strncmp(out, "put in#1 -> to_edge (external)", 30) == 0); /* the root is the device's first put */
  CHECK(strstr(out, "<== back#1") != NULL);
  printf("%s", out);
  snprintf(cmd, sizeof cmd, "cd %s && SPOT_KNOWN_NODES=%s %s --key operator.key -n %s trace in 1 --dot", root, known,
           spot, dirs[0]);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s", cmd), 0);
  CHECK(strstr(out, "digraph") && strstr(out, "store") && strstr(out, "node "));
  /* the cloud's event log, read from here; and spot_put on a remote name goes to that node */
  snprintf(cmd, sizeof cmd, "cd %s && SPOT_KNOWN_NODES=%s %s --key operator.key events spot://127.0.0.1:%d/cloud --json",
           root, known, spot, ports[2]);
  int erc = spot_test_sh(out, sizeof out, err, sizeof err, "%s", cmd);
  if (erc != 0)
    fprintf(stderr, "  remote events: %s", err);
  CHECK_EQ(erc, 0);
  CHECK(strstr(out, "\"handler\":\"store\"") && strstr(out, "\"type\":\"end\""));
  char done_url[128];
  snprintf(done_url, sizeof done_url, "spot://127.0.0.1:%d/cloud/done", ports[2]);
  char opkey[4500];
  snprintf(opkey, sizeof opkey, "%s/operator.key", root);
  setenv("SPOT_KEY", opkey, 1);
  setenv("SPOT_KNOWN_NODES", known, 1);
  spot_ns_t *dev2;
  CHECK_OK(spot_ns_open(dirs[0], NULL, &dev2));
  CHECK_OK(spot_put(dev2, done_url, "direct", 6, NULL, NULL, &seq));
  CHECK_EQ(seq, 2);
  spot_ns_close(dev2);
  stop_all();

  /* the causes across the nodes: device start -> edge put; edge start -> cloud put */
  uint64_t node_id[NODES], start_of[NODES] = {0}, put_cause[NODES][2];
  memset(put_cause, 0, sizeof put_cause);
  for (int i = 0; i < NODES; i++) {
    spot_ns_t *ns;
    CHECK_OK(spot_ns_open(dirs[i], NULL, &ns));
    node_id[i] = spot_ns_node_id(ns);
    spot_log_t *events;
    CHECK_OK(spot__nsctx_events(ns, &events));
    uint64_t n;
    spot_log_latest(events, &n);
    for (uint64_t id = 1; id <= n; id++) {
      spot__event_t e;
      if (spot__events_read(ns, id, &e) != 0)
        continue;
      if (e.type == SPOT__EV_START && strcmp(e.log, "in") == 0)
        start_of[i] = id;
      if (e.type == SPOT__EV_PUT && strcmp(e.log, "in") == 0) {
        put_cause[i][0] = e.cause_node;
        put_cause[i][1] = e.cause_id;
      }
    }
    spot_ns_close(ns);
  }
  CHECK(start_of[0] && start_of[1] && start_of[2]);
  CHECK_EQ(put_cause[1][0], node_id[0]); /* the edge's put was caused by the device's handler run */
  CHECK_EQ(put_cause[1][1], start_of[0]);
  CHECK_EQ(put_cause[2][0], node_id[1]); /* the cloud's by the edge's */
  CHECK_EQ(put_cause[2][1], start_of[1]);
  printf("  device -> edge -> cloud: the element reached the cloud; causes link the three event logs, and\n"
         "  `spot trace` on the device shows the whole chain across the three nodes\n");
}

static const spot_test_t tests[] = {
    {"three_node_chain", test_three_node_chain},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
