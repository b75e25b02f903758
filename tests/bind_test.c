/*
 * bind_test.c: handlers bound to logs (spot_bind, src/dispatch/bindings.c). A put that names no handler runs the
 * log's bound handler, from a program and from a handler's spot_ctx_put; a put that names one runs that one only;
 * unbind stops it. Bindings are durable: they survive a power cut (spot_io_mem), also after thousands of changes
 * have wrapped the bindings log's ring (current records are carried forward, never overwritten). The command line:
 * bind/unbind/ls/handlers, create --handler, handlers --remove (refused while bound), rm (refused without --yes),
 * and a spotd restart that keeps the binding, with a remote put that runs it. Remote names: ls and handlers with
 * the get right, bind and unbind with the admin right, each refused without it.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/event.h"
#include "dispatch/dispatch.h"
#include "spot.h"
#include "spot/io_mem.h"
#include "store/store.h"
#include "support.h"
#include "test.h"

static _Atomic int ran_a, ran_b, ran_other;

static int bound_a(spot_ctx_t *ctx, const spot_event_t *ev) {
  atomic_fetch_add(&ran_a, 1);
  return spot_ctx_put(ctx, "b", ev->data, 8, NULL, NULL); /* names no handler: b's bound one runs */
}
SPOT_HANDLER(bound_a)

static int bound_b(spot_ctx_t *ctx, const spot_event_t *ev) {
  (void)ctx, (void)ev;
  atomic_fetch_add(&ran_b, 1);
  return 0;
}
SPOT_HANDLER(bound_b)

static int other(spot_ctx_t *ctx, const spot_event_t *ev) {
  (void)ctx, (void)ev;
  atomic_fetch_add(&ran_other, 1);
  return 0;
}
SPOT_HANDLER(other)

/* The handler whose mark element seq of log carries (0: none). */
static uint32_t mark_of(spot_ns_t *ns, const char *log, uint64_t seq) {
  spot_log_t *l;
  return spot__ns_log(ns, log, &l) == 0 ? spot__log_pending(l, seq) & ~SPOT__MARK_RUNNING : 0xffffffffu;
}

static void test_put_runs_bound(void) {
  const char *dir = spot_test_ns("bind-api", 64);
  CHECK(dir != NULL);
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  CHECK_OK(spot_ns_register_handler(ns, "bound_a", ""));
  CHECK_OK(spot_ns_register_handler(ns, "bound_b", ""));
  CHECK_OK(spot_ns_register_handler(ns, "other", ""));
  CHECK_RC(spot_bind(ns, "a", "nosuch"), SPOT_ENOTFOUND);
  CHECK_RC(spot_bind(ns, "nolog", "bound_a"), SPOT_ENOTFOUND);
  CHECK_RC(spot_unbind(ns, "a", NULL), SPOT_ENOTFOUND);
  CHECK_OK(spot_bind(ns, "a", "bound_a"));
  CHECK_OK(spot_bind(ns, "a", "bound_a")); /* idempotent */
  CHECK_RC(spot_bind(ns, "a", "other"), SPOT_EEXIST);
  CHECK(strstr(spot_errdetail(), "spot unbind a") != NULL);
  CHECK_OK(spot_bind(ns, "b", "bound_b"));
  spot__reg_entry_t ha, hb, ho;
  CHECK_OK(spot__registry_lookup(ns, "bound_a", &ha));
  CHECK_OK(spot__registry_lookup(ns, "bound_b", &hb));
  CHECK_OK(spot__registry_lookup(ns, "other", &ho));

  /* puts made while no node runs: the element is marked with the bound handler, or the named one */
  uint64_t v = 5, s1, s2;
  CHECK_OK(spot_put(ns, "a", &v, 8, NULL, NULL, &s1));
  CHECK_EQ(mark_of(ns, "a", s1), ha.id);
  CHECK_OK(spot_put(ns, "a", &v, 8, "other", NULL, &s2));
  CHECK_EQ(mark_of(ns, "a", s2), ho.id);
  CHECK_OK(spot_put(ns, "c", &v, 8, NULL, NULL, &s2));
  CHECK_EQ(mark_of(ns, "c", s2), 0); /* c is not bound */

  /* a node runs them: a's bound handler, whose own put to b runs b's */
  atomic_store(&ran_a, 0), atomic_store(&ran_b, 0), atomic_store(&ran_other, 0);
  spot_node_t *node;
  spot_node_opts_t o = {.mode = SPOT_MODE_THREAD, .workers = 2, .quiet = 1};
  CHECK_OK(spot_node_start(dir, &o, &node));
  CHECK_OK(spot_test_wait_done(node, 3)); /* bound_a, other, then bound_b from bound_a's put */
  CHECK_EQ(atomic_load(&ran_a), 1);
  CHECK_EQ(atomic_load(&ran_other), 1);
  CHECK_EQ(atomic_load(&ran_b), 1);

  /* unbind: puts run nothing unless they name a handler */
  CHECK_RC(spot_unbind(ns, "a", "other"), SPOT_ENOTFOUND);
  CHECK(strstr(spot_errdetail(), "bound_a") != NULL);
  CHECK_OK(spot_unbind(ns, "a", "bound_a"));
  CHECK_OK(spot_put(ns, "a", &v, 8, NULL, NULL, &s1));
  CHECK_EQ(mark_of(ns, "a", s1), 0);
  CHECK_OK(spot_put(ns, "b", &v, 8, NULL, NULL, &s1)); /* still bound */
  CHECK_OK(spot_test_wait_done(node, 4));
  CHECK_EQ(atomic_load(&ran_a), 1);
  CHECK_EQ(atomic_load(&ran_b), 2);
  spot_node_stop(node);
  spot_ns_close(ns);
}

typedef struct seen {
  char text[512];
} seen_t;

static int list(const char *log, const char *handler, void *arg) {
  seen_t *s = arg;
  size_t n = strlen(s->text);
  snprintf(s->text + n, sizeof s->text - n, "%s=%s ", log, handler);
  return 0;
}

/* Bindings survive a power cut, also after the bindings log's ring has come round more than once. */
static void test_survive_power_cut_and_wrap(void) {
  enum { RING = 64 };
  for (uint64_t seed = 1; seed <= 3; seed++) {
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/ns", spot_test_dir("bind-cut"));
    spot_io_t *io = spot_io_mem_new(seed);
    CHECK(io != NULL);
    CHECK_OK(spot__nsctx_init_io(dir, io));
    /* a bindings log of 64 records instead of SPOT__BIND_HISTORY, so the ring comes round in a few hundred changes
     * (the code reads the history from the log) */
    char path[4400];
    snprintf(path, sizeof path, "%s/.spot/bindings.log", dir);
    spot_log_config_t small = {.elem_size = SPOT__BIND_RECORD, .history = RING, .sync = SPOT_SYNC_ALWAYS};
    CHECK_OK(io->remove(io, path));
    CHECK_OK(spot_log_create(path, &small, io));
    spot_ns_t *ns;
    CHECK_OK(spot_ns_open(dir, io, &ns));
    spot_log_config_t cfg = {.elem_size = 8, .history = 16, .sync = SPOT_SYNC_ALWAYS};
    const char *logs[] = {"x", "y", "z", "w"};
    for (int i = 0; i < 4; i++)
      CHECK_OK(spot_ns_create_log(ns, logs[i], &cfg));
    CHECK_OK(spot_ns_register_handler(ns, "h", ""));
    CHECK_OK(spot_ns_register_handler(ns, "k", ""));
    CHECK_OK(spot_bind(ns, "x", "h"));
    CHECK_OK(spot_bind(ns, "y", "k"));
    CHECK_OK(spot_bind(ns, "z", "h"));
    /* the first time only a few changes; then enough to wrap the ring twice (seed 2 stops one short of a wrap) */
    unsigned changes = seed == 1 ? 3 : seed == 2 ? RING - 6 : 2 * RING + (unsigned)seed;
    for (unsigned i = 0; i < changes; i++)
      CHECK_OK(i % 2 ? spot_unbind(ns, "w", NULL) : spot_bind(ns, "w", "k"));
    CHECK_OK(spot_unbind(ns, "z", NULL));
    spot_io_mem_power_cut(io);
    spot_ns_close(ns);
    CHECK_OK(spot_ns_open(dir, io, &ns));
    seen_t s = {""};
    CHECK_OK(spot_bindings(ns, list, &s));
    const char *want = changes % 2 ? "w=k x=h y=k " : "x=h y=k "; /* the last change to w was a bind if odd */
    if (strcmp(s.text, want) != 0)
      fprintf(stderr, "  seed %llu: bindings after the cut: %s\n", (unsigned long long)seed, s.text);
    CHECK(strcmp(s.text, want) == 0);
    spot__reg_entry_t k;
    CHECK_OK(spot__registry_lookup(ns, "k", &k));
    uint64_t v = 1, seq;
    CHECK_OK(spot_put(ns, "y", &v, 8, NULL, NULL, &seq));
    CHECK_EQ(mark_of(ns, "y", seq), k.id);
    spot_ns_close(ns);
    spot_io_mem_free(io);
  }
}

/* The command line, and the binding across a spotd restart. */
static void test_cli(void) {
  const char *root = spot_test_dir("bind-cli");
  char out[4096], err[4096];
  const char *S = spot_test_bin();
  const char *src = getenv("SPOT_SRC");
  CHECK(src != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err,
                        "cd %s && export SPOT_DIR=%s/ns S=%s && $S init >/dev/null && "
                        "$S build-handler %s/examples/hello/hello.c >/dev/null && "
                        "$S create greetings --size 64 --history 100 --handler hello && $S ls && $S handlers",
                        root, root, S, src),
           0);
  CHECK(strstr(out, "greetings") != NULL && strstr(out, " hello\n") != NULL);
  CHECK(strstr(out, ".so") != NULL && strstr(out, " greetings\n") != NULL); /* handlers: BOUND TO */
  /* create --handler with an unknown handler creates nothing */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "export SPOT_DIR=%s/ns; %s create g2 --size 8 --history 8 "
                        "--handler nosuch; echo rc=$?; %s ls | grep -c g2", root, S, S), 1);
  CHECK(strstr(out, "rc=1\n0\n") != NULL && strstr(err, "nothing was created") != NULL);
  /* handlers --remove refuses while bound, rm refuses without --yes */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "SPOT_DIR=%s/ns %s handlers --remove hello", root, S), 1);
  CHECK(strstr(err, "spot unbind greetings hello") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "SPOT_DIR=%s/ns %s rm greetings", root, S), 1);
  CHECK(strstr(err, "nothing was removed") != NULL && strstr(err, "handler hello") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "test -f %s/ns/greetings.log", root), 0);

  /* a spotd runs the bound handler for a put that names none; and again after a restart */
#if SPOT_HAVE_NET
  int port = spot_test_free_port();
  CHECK(port > 0);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err,
                        "cd %s && %s keygen node >/dev/null && %s keygen op >/dev/null && "
                        "echo \"$(cat op.pub) get,put\" > ns/access", root, S, S), 0);
  char serve[8800], cli[8800], url[128];
  snprintf(serve, sizeof serve, "%s -n %s/ns --quiet --mode thread --listen 127.0.0.1:%d --key %s/node.key",
           getenv("SPOTD_BIN"), root, port, root);
  snprintf(cli, sizeof cli, "cd %s && SPOT_TIMEOUT_MS=20000 %s --key op.key --node-key node.pub", root, S);
  snprintf(url, sizeof url, "spot://127.0.0.1:%d/ns/greetings", port);
#else
  char serve[8800];
  snprintf(serve, sizeof serve, "%s -n %s/ns --quiet --mode thread", getenv("SPOTD_BIN"), root);
#endif
  for (int round = 0; round < 2; round++) {
    int pid = spot_test_spawn("%s", serve);
    CHECK(pid > 0);
    int ends = 0;
    CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "SPOT_DIR=%s/ns %s put greetings --data r%d", root, S,
                          round), 0);
#if SPOT_HAVE_NET
    int up = 0;
    for (int i = 0; i < 100 && !up; i++) { /* the server: at most 10 s */
      up = spot_test_sh(out, sizeof out, err, sizeof err, "%s put %s --data n%d", cli, url, round) == 0;
      if (!up)
        usleep(100000);
    }
    CHECK(up);
#endif
    int want = (round + 1) * (SPOT_HAVE_NET ? 2 : 1);
    for (int i = 0; i < 200 && ends < want; i++) { /* at most 20 s */
      spot_test_sh(out, sizeof out, err, sizeof err,
                   "SPOT_DIR=%s/ns %s events | grep -c ' end  *greetings#[0-9]*  *hello '", root, S);
      ends = atoi(out);
      if (ends < want)
        usleep(100000);
    }
    spot_test_stop(pid, SIGTERM);
    if (ends != want)
      spot_test_sh(out, sizeof out, err, sizeof err, "SPOT_DIR=%s/ns %s events >&2", root, S), fputs(err, stderr);
    CHECK_EQ(ends, want);
  }
  /* unbind, then rm --yes removes the log (its binding went first) */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err,
                        "export SPOT_DIR=%s/ns; %s unbind greetings && %s handlers --remove hello && "
                        "%s rm greetings --yes && %s ls && %s handlers", root, S, S, S, S, S), 0);
  CHECK(strstr(out, "removed log greetings") != NULL && strstr(out, "\ngreetings ") == NULL);
  CHECK(strstr(out, "hello-") == NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "test -f %s/ns/greetings.log", root), 1);
}

#if SPOT_HAVE_NET
/* Remote names: ls and handlers need the get right; bind and unbind the admin right; a remote put that names no
 * handler runs the bound one. */
static void test_remote(void) {
  const char *root = spot_test_dir("bind-remote");
  char out[4096], err[4096];
  const char *S = spot_test_bin();
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err,
                        "cd %s && export SPOT_DIR=%s/ns S=%s && $S init >/dev/null && "
                        "$S build-handler %s/examples/hello/hello.c >/dev/null && "
                        "$S create greetings --size 64 --history 100 >/dev/null && "
                        "$S keygen node >/dev/null && $S keygen op >/dev/null && $S keygen adm >/dev/null && "
                        "$S keygen writer >/dev/null && { echo \"$(cat op.pub) get,put\"; "
                        "echo \"$(cat adm.pub) get,admin\"; echo \"$(cat writer.pub) put\"; } > ns/access",
                        root, root, S, getenv("SPOT_SRC")),
           0);
  int port = spot_test_free_port();
  CHECK(port > 0);
  int pid = spot_test_spawn("%s -n %s/ns --quiet --mode thread --listen 127.0.0.1:%d --key %s/node.key",
                            getenv("SPOTD_BIN"), root, port, root);
  CHECK(pid > 0);
  char op[8800], adm[8800], writer[8800], ns[128], log[160];
  snprintf(op, sizeof op, "cd %s && SPOT_TIMEOUT_MS=20000 %s --key op.key --node-key node.pub", root, S);
  snprintf(adm, sizeof adm, "cd %s && SPOT_TIMEOUT_MS=20000 %s --key adm.key --node-key node.pub", root, S);
  snprintf(writer, sizeof writer, "cd %s && SPOT_TIMEOUT_MS=20000 %s --key writer.key --node-key node.pub", root, S);
  snprintf(ns, sizeof ns, "spot://127.0.0.1:%d/ns", port);
  snprintf(log, sizeof log, "%s/greetings", ns);
  int up = 0;
  for (int i = 0; i < 100 && !up; i++) { /* the server: at most 10 s */
    up = spot_test_sh(out, sizeof out, err, sizeof err, "%s ls %s", op, ns) == 0;
    if (!up)
      usleep(100000);
  }
  CHECK(up);
  CHECK(strstr(out, "greetings") != NULL && strstr(out, " -\n") != NULL);
  /* get is not enough to bind; admin is */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s bind %s hello", op, log), 1);
  CHECK(strstr(err, "refused admin") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s bind %s hello", adm, log), 0);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s ls %s", op, ns), 0);
  CHECK(strstr(out, " hello\n") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s handlers %s", op, ns), 0);
  CHECK(strstr(out, "hello") != NULL && strstr(out, " greetings\n") != NULL);
  /* without the get right, nothing is listed */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s ls %s", writer, ns), 1);
  CHECK(strstr(err, "refused get") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s handlers %s", writer, ns), 1);
  /* a remote put that names no handler runs the bound one */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s put %s --data remote", writer, log), 0);
  int ends = 0;
  for (int i = 0; i < 200 && ends < 1; i++) { /* at most 20 s */
    spot_test_sh(out, sizeof out, err, sizeof err,
                 "SPOT_DIR=%s/ns %s events | grep -c ' end  *greetings#1  *hello '", root, S);
    ends = atoi(out);
    if (ends < 1)
      usleep(100000);
  }
  CHECK_EQ(ends, 1);
  /* unbind: the admin right again */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s unbind %s", op, log), 1);
  CHECK(strstr(err, "refused admin") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s unbind %s hello", adm, log), 0);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s ls %s", op, ns), 0);
  CHECK(strstr(out, " hello\n") == NULL);
  /* a remote rm needs the admin right (remote_admin_test does the rest): refused, nothing removed */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s rm %s --yes", op, log), 1);
  CHECK(strstr(err, "refused admin") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "test -f %s/ns/greetings.log", root), 0);
  spot_test_stop(pid, SIGTERM);
}
#endif

static const spot_test_t tests[] = {
    {"put_runs_bound", test_put_runs_bound},
    {"survive_power_cut_and_wrap", test_survive_power_cut_and_wrap},
    {"cli", test_cli},
#if SPOT_HAVE_NET
    {"remote", test_remote},
#endif
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
