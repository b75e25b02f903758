/*
 * deploy_test.c: installing handler objects. An object whose constructors crash is refused with a clear error and
 * never loaded in the installing process (it is checked in a short-lived child first), nor registered, nor left on
 * disk; a deploy of such an object to a running spotd fails at once and the node keeps serving; two threads
 * loading objects at once each learn exactly the handlers of their own object.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dispatch/dispatch.h"
#include "spot.h"
#include "support.h"
#include "test.h"

static const char *env(const char *name) {
  const char *v = getenv(name);
  return v ? v : "";
}

/* Writes src to DIR/name.c and compiles it into DIR/name.so. */
static int build(const char *dir, const char *name, const char *src) {
  char path[4400];
  snprintf(path, sizeof path, "%s/%s.c", dir, name);
  FILE *f = fopen(path, "w");
  if (f == NULL)
    return -1;
  fputs(src, f);
  fclose(f);
  char out[4096], err[4096];
  int rc = spot_test_sh(out, sizeof out, err, sizeof err,
                        "cd %s && ${CC:-cc} -shared -fPIC -I%s/include -o %s.so %s.c", dir, env("SPOT_SRC"), name,
                        name);
  if (rc != 0)
    fprintf(stderr, "  cc %s: %s%s\n", name, out, err);
  return rc;
}

static int slurp(const char *path, uint8_t **bytes, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return -1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  *bytes = malloc((size_t)n);
  *len = *bytes && fread(*bytes, 1, (size_t)n, f) == (size_t)n ? (size_t)n : 0;
  fclose(f);
  return *len ? 0 : -1;
}

static const char *SEGV_SRC =
    "__attribute__((constructor)) static void boom(void) { volatile int *p = 0; *p = 1; }\n";
static const char *ABORT_SRC =
    "#include <stdlib.h>\n__attribute__((constructor)) static void boom(void) { abort(); }\n";
static const char *GOOD_SRC = "#include <spot/handler.h>\n"
                              "static int alpha(spot_ctx_t *c, const spot_event_t *e) { (void)c; (void)e; return 0; }\n"
                              "SPOT_HANDLER(alpha)\n";

static int count_handlers(const spot_handler_info_t *h, void *arg) {
  (void)h;
  ++*(int *)arg;
  return 0;
}

static int count_files(const char *dir) {
  char out[64];
  spot_test_sh(out, sizeof out, NULL, 0, "ls -A %s | wc -l", dir);
  return atoi(out);
}

static void test_crashing_object_refused(void) {
  const char *dir = spot_test_ns("deploy-crash", 16);
  CHECK(dir != NULL);
  char work[4400], handlers[4400];
  snprintf(work, sizeof work, "%s/..", dir);
  snprintf(handlers, sizeof handlers, "%s/.spot/handlers", dir);
  CHECK_OK(build(work, "segv", SEGV_SRC));
  CHECK_OK(build(work, "aborts", ABORT_SRC));
  CHECK_OK(build(work, "good", GOOD_SRC));
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  const char *objs[] = {"segv", "aborts"};
  for (int k = 0; k < 2; k++) {
    char path[4600];
    snprintf(path, sizeof path, "%s/%s.so", work, objs[k]);
    uint8_t *bytes;
    size_t len;
    CHECK_OK(slurp(path, &bytes, &len));
    char names[8][64];
    int n = -1;
    /* before the fix this loaded the object here, and the test process died with it */
    int rc = spot_ns_install_handlers(ns, objs[k], bytes, len, names, 8, &n);
    free(bytes);
    CHECK_RC(rc, SPOT_EINVAL);
    CHECK(strstr(spot_errdetail(), "was not installed") != NULL);
    CHECK_EQ(n, -1);
  }
  CHECK(strstr(spot_errdetail(), "SIGABRT") != NULL); /* the crash is named */
  int nh = 0;
  CHECK_OK(spot_ns_handlers(ns, count_handlers, &nh));
  CHECK_EQ(nh, 0);                   /* nothing registered */
  CHECK_EQ(count_files(handlers), 0); /* nothing left on disk */
  /* a sound object installs as before */
  char path[4600];
  snprintf(path, sizeof path, "%s/good.so", work);
  uint8_t *bytes;
  size_t len;
  CHECK_OK(slurp(path, &bytes, &len));
  char names[8][64];
  int n = 0;
  CHECK_OK(spot_ns_install_handlers(ns, "good", bytes, len, names, 8, &n));
  free(bytes);
  CHECK_EQ(n, 1);
  CHECK(strcmp(names[0], "alpha") == 0);
  CHECK_EQ(count_files(handlers), 1);
  spot__reg_entry_t h;
  CHECK_OK(spot__registry_lookup(ns, "alpha", &h));
  CHECK(spot__handler_find("alpha") == NULL); /* checked in a child: this process never loaded it */
  spot_ns_close(ns);
}

/* ---- two loads at once ---- */

#define COPIES 24

typedef struct loader {
  char dir[4400];
  const char *stem, *want;
  atomic_int wrong, right;
} loader_t;

static int note_name(const spot_handler_def_t *def, void *arg) {
  loader_t *l = arg;
  atomic_fetch_add(strcmp(def->name, l->want) == 0 ? &l->right : &l->wrong, 1);
  return 0;
}

static void *load_copies(void *arg) {
  loader_t *l = arg;
  for (int i = 0; i < COPIES; i++) {
    char path[4600];
    snprintf(path, sizeof path, "%s/%s-%d.so", l->dir, l->stem, i);
    if (spot__handler_load(path, note_name, l) != 0)
      atomic_fetch_add(&l->wrong, 1);
  }
  return NULL;
}

static void test_concurrent_loads(void) {
  const char *work = spot_test_dir("deploy-race");
  static const char *A = "#include <spot/handler.h>\n"
                         "static int ra(spot_ctx_t *c, const spot_event_t *e) { (void)c; (void)e; return 0; }\n"
                         "SPOT_HANDLER(ra)\n";
  static const char *B = "#include <spot/handler.h>\n"
                         "static int rb(spot_ctx_t *c, const spot_event_t *e) { (void)c; (void)e; return 0; }\n"
                         "SPOT_HANDLER(rb)\n";
  CHECK_OK(build(work, "ra", A));
  CHECK_OK(build(work, "rb", B));
  char out[256];
  /* copies are distinct files, so each dlopen runs the constructors again */
  CHECK_OK(spot_test_sh(out, sizeof out, NULL, 0, "cd %s && for i in $(seq 0 %d); do cp ra.so ra-$i.so; cp rb.so "
                        "rb-$i.so; done", work, COPIES - 1));
  static loader_t la, lb;
  memset(&la, 0, sizeof la);
  memset(&lb, 0, sizeof lb);
  snprintf(la.dir, sizeof la.dir, "%s", work);
  snprintf(lb.dir, sizeof lb.dir, "%s", work);
  la.stem = la.want = "ra";
  lb.stem = lb.want = "rb";
  spot__thread_t ta, tb;
  CHECK_OK(spot__thread_start(&ta, load_copies, &la));
  CHECK_OK(spot__thread_start(&tb, load_copies, &lb));
  spot__thread_join(&ta);
  spot__thread_join(&tb);
  CHECK_EQ(atomic_load(&la.wrong), 0);
  CHECK_EQ(atomic_load(&lb.wrong), 0);
  CHECK_EQ(atomic_load(&la.right), COPIES); /* every load saw its own handler, once */
  CHECK_EQ(atomic_load(&lb.right), COPIES);
}

/* ---- a deploy to a running spotd (needs the network) ---- */

#if SPOT_HAVE_NET

/* A node for a deploy: keys node and op, namespace home with log x, op allowed get, put, create and deploy, the
 * objects `bad` (from bad_src) and good built, all in a new scratch directory (tag); then spotd listening with one
 * worker on a port of its own (salt tells two tests' ports apart), with its ASan told to leave SIGSEGV and SIGABRT
 * to spot when quiet_asan is set. Returns spotd's pid (the caller kills and reaps it) and writes url (spot://.../home)
 * and cli (op's `spot` command line, run in the scratch directory); -1 if the setup failed. */
static pid_t deploy_node(const char *tag, int salt, const char *bad, const char *bad_src, int quiet_asan,
                         char url[256], char cli[8000]) {
  char root[4200], dir[4300], endpoint[64];
  snprintf(root, sizeof root, "%s", spot_test_dir(tag));
  snprintf(dir, sizeof dir, "%s/home", root);
  int port = 20000 + (int)((getpid() * (7 + 4 * salt) + 13 + 16 * salt) % 20000);
  snprintf(endpoint, sizeof endpoint, "127.0.0.1:%d", port);
  snprintf(url, 256, "spot://127.0.0.1:%d/home", port);
  char out[4096], err[4096];
  if (spot_test_sh(out, sizeof out, err, sizeof err,
                   "cd %s && S=%s && $S keygen node >/dev/null && $S keygen op >/dev/null && $S init %s >/dev/null"
                   " && $S -n %s create x --size 8 --history 16 >/dev/null && echo \"$(cat op.pub) get,put,create,"
                   "deploy\" > %s/access",
                   root, spot_test_bin(), dir, dir, dir) != 0) {
    fprintf(stderr, "  setup: %s%s\n", out, err);
    return -1;
  }
  if (build(root, bad, bad_src) != 0 || build(root, "good", GOOD_SRC) != 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    char asan[512], key[4400];
    if (quiet_asan) {
      snprintf(asan, sizeof asan, "%s:handle_segv=0:handle_abort=0", env("ASAN_OPTIONS"));
      setenv("ASAN_OPTIONS", asan, 1);
    }
    snprintf(key, sizeof key, "%s/node.key", root);
    execl(env("SPOTD_BIN"), "spotd", "-n", dir, "--quiet", "--workers", "1", "--listen", endpoint, "--key", key,
          (char *)NULL);
    _exit(127);
  }
  snprintf(cli, 8000, "cd %s && SPOT_TIMEOUT_MS=20000 %s --key op.key --node-key node.pub", root, spot_test_bin());
  return pid;
}

static void test_deploy_crash_to_spotd(void) {
  char url[256], cli[8000], out[4096], err[4096];
  pid_t pid = deploy_node("deploy-spotd", 0, "segv", SEGV_SRC, 1, url, cli);
  CHECK(pid > 0);
  int up = 0;
  for (int i = 0; i < 100 && !up; i++) { /* at most 10 s */
    up = spot_test_sh(out, sizeof out, err, sizeof err, "%s latest %s/x", cli, url) == 0;
    if (!up)
      usleep(100000);
  }
  int rc = spot_test_sh(out, sizeof out, err, sizeof err, "%s deploy segv.so %s", cli, url);
  int alive = waitpid(pid, NULL, WNOHANG) == 0;
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  CHECK(up);
  CHECK(rc != 0);
  CHECK(strstr(err, "crashed while loading") != NULL); /* the client is told why, not left waiting */
  CHECK(alive);                                        /* and the node still runs */
}

static void test_deploy_then_serve(void) {
  /* the node keeps serving after a refused deploy: the same node takes a sound object and runs its handler */
  char url[256], cli[8000], out[4096], err[4096];
  pid_t pid = deploy_node("deploy-serve", 1, "aborts", ABORT_SRC, 0, url, cli);
  CHECK(pid > 0);
  int rc1 = -1, rc2 = -1, rc3 = -1;
  for (int i = 0; i < 100; i++) { /* the node may take a moment to listen */
    rc1 = spot_test_sh(out, sizeof out, err, sizeof err, "%s deploy aborts.so %s", cli, url);
    if (strstr(err, "was not installed") != NULL)
      break;
    usleep(100000);
  }
  char err1[4096];
  snprintf(err1, sizeof err1, "%s", err);
  rc2 = spot_test_sh(out, sizeof out, err, sizeof err, "%s deploy good.so %s", cli, url);
  if (rc2 == 0)
    rc3 = spot_test_sh(out, sizeof out, err, sizeof err, "%s put %s/x --handler alpha --data 1", cli, url);
  kill(pid, SIGTERM);
  int st = 0;
  waitpid(pid, &st, 0);
  CHECK(rc1 != 0);
  CHECK(strstr(err1, "SIGABRT") != NULL);
  CHECK_EQ(rc2, 0);
  CHECK_EQ(rc3, 0);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

#endif

static const spot_test_t tests[] = {
    {"crashing_object_refused", test_crashing_object_refused},
    {"concurrent_loads", test_concurrent_loads},
#if SPOT_HAVE_NET
    {"deploy_crash_to_spotd", test_deploy_crash_to_spotd},
    {"deploy_then_serve", test_deploy_then_serve},
#endif
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
