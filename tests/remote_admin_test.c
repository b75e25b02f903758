/*
 * remote_admin_test.c: `spot check` and `spot rm` on remote names (spot://HOST:PORT/NS/LOG) against a running spotd
 * (src/net/admin.c, tools/spotd/aside.c). A plain check needs the get right and prints what a local check prints:
 * a clean log is ok, a log with one flipped bit in an element is reported with the element's number. check --fix
 * and rm need the admin right: refused without it (nothing changes), done with it while the node serves (it steps
 * aside and comes back: a put after each is taken and runs its handler). rm without --yes removes nothing; with it
 * the log's file is gone and the node lists it no more.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spot/log.h"
#include "spot/ns.h"
#include "support.h"
#include "test.h"

static char out[8192], err[8192];

static char viewer[8800], admin[8800], writer[8800], url[160];
static const char *root;

/* Runs `CLIENT ARGS...` (a client's command prefix, then ARGS as printf formats them) into out and err. */
static int as(const char *client, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int as(const char *client, const char *fmt, ...) {
  char args[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  return spot_test_sh(out, sizeof out, err, sizeof err, "%s %s", client, args);
}

/* 1 once the node's event log shows n ends of handler hello, within 20 s. */
static int hello_ends(int n) {
  for (int i = 0; i < 200; i++) {
    spot_test_sh(out, sizeof out, err, sizeof err, "SPOT_DIR=%s/ns %s events | grep -c ' end .* hello '", root,
                 spot_test_bin());
    if (atoi(out) >= n)
      return 1;
    usleep(100000);
  }
  return 0;
}

static void test_check_and_rm(void) {
  root = spot_test_dir("remote-admin");
  const char *S = spot_test_bin();
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/ns", root);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err,
                        "cd %s && export SPOT_DIR=%s/ns S=%s && $S init >/dev/null && "
                        "$S build-handler %s/examples/hello/hello.c >/dev/null && "
                        "$S create x --size 32 --history 100 --sync always >/dev/null && "
                        "$S create clean --size 32 --history 100 >/dev/null && "
                        "$S create greetings --size 64 --history 100 --handler hello >/dev/null && "
                        "$S keygen node >/dev/null && $S keygen viewer >/dev/null && $S keygen adm >/dev/null && "
                        "$S keygen writer >/dev/null && { echo \"$(cat viewer.pub) get\"; "
                        "echo \"$(cat adm.pub) get,admin\"; echo \"$(cat writer.pub) put\"; } > ns/access",
                        root, root, S, getenv("SPOT_SRC")),
           0);
  CHECK_OK(spot_test_fill_log(dir, "x", 10, 1));
  CHECK_OK(spot_test_fill_log(dir, "clean", 3, 1));
  CHECK_OK(spot_test_flip_byte(dir, "x", 4096 + 9 * 48 + 16, 0x01)); /* one bit in the data of element 10 */
  int port = spot_test_free_port();
  CHECK(port > 0);
  int pid = spot_test_spawn("%s -n %s --quiet --listen 127.0.0.1:%d --key %s/node.key", /* worker mode */
                            getenv("SPOTD_BIN"), dir, port, root);
  CHECK(pid > 0);
  const char *fmt = "cd %s && SPOT_TIMEOUT_MS=20000 %s --key %s.key --node-key node.pub";
  snprintf(viewer, sizeof viewer, fmt, root, S, "viewer");
  snprintf(admin, sizeof admin, fmt, root, S, "adm");
  snprintf(writer, sizeof writer, fmt, root, S, "writer");
  snprintf(url, sizeof url, "spot://127.0.0.1:%d/ns", port);
  int up = 0;
  for (int i = 0; i < 100 && !up; i++) { /* the server: at most 10 s */
    up = as(viewer, "check %s/clean", url) == 0;
    if (!up)
      usleep(100000);
  }
  CHECK(up);

  /* a plain check: the get right, and the lines of a local check */
  char line[512];
  snprintf(line, sizeof line, "%s/clean: elements 1 to 3: 3 intact, 0 damaged, 0 lost\n%s/clean: ok\n", url, url);
  CHECK(strcmp(out, line) == 0);
  CHECK_EQ(as(viewer, "check %s/x", url), 1);
  CHECK(strstr(out, "9 intact, 1 damaged, 0 lost (first damaged: 10)") != NULL);
  CHECK(strstr(err, "found damage") != NULL && strstr(err, "--fix") != NULL);
  CHECK_EQ(as(writer, "check %s/x", url), 1); /* no get right: nothing */
  CHECK(strstr(err, "refused get") != NULL);
  CHECK_EQ(as(viewer, "check %s/nosuch", url), 1);
  CHECK(strstr(err, "no log named nosuch") != NULL);

  /* --fix: refused without the admin right, and nothing changed */
  CHECK_EQ(as(viewer, "check %s/x --fix", url), 1);
  CHECK(strstr(err, "refused admin") != NULL);
  CHECK_EQ(as(viewer, "check %s/x", url), 1);
  CHECK(strstr(out, "1 damaged, 0 lost") != NULL);
  /* with it: fixed while the node serves */
  CHECK_EQ(as(admin, "check %s/x --fix", url), 0);
  CHECK(strstr(out, "1 damaged element(s) marked lost, the first is 10") != NULL);
  CHECK(strstr(out, "9 intact, 0 damaged, 1 lost (first lost: 10)") != NULL);
  CHECK(strstr(out, "/x: ok") != NULL);
  CHECK_EQ(as(viewer, "check %s/x", url), 0);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s get x 10", S, dir), 1);
  CHECK(strstr(err, "element 10 is lost") != NULL);
  /* the node came back: a put is taken and runs its bound handler */
  CHECK_EQ(as(writer, "put %s/greetings --data one", url), 0);
  CHECK(hello_ends(1));

  /* rm: refused without the admin right, and without --yes */
  CHECK_EQ(as(viewer, "rm %s/clean --yes", url), 1);
  CHECK(strstr(err, "refused admin") != NULL);
  CHECK_EQ(as(admin, "rm %s/clean", url), 1);
  CHECK(strstr(err, "nothing was removed") != NULL && strstr(err, "3 elements held") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "test -f %s/clean.log", dir), 0);
  /* with both: gone, and the node lists it no more */
  CHECK_EQ(as(admin, "rm %s/clean --yes", url), 0);
  CHECK(strstr(out, "removed log") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "test -f %s/clean.log", dir), 1);
  CHECK_EQ(as(viewer, "ls %s", url), 0);
  CHECK(strstr(out, "clean") == NULL && strstr(out, "greetings") != NULL);
  CHECK_EQ(as(viewer, "check %s/clean", url), 1);
  CHECK(strstr(err, "no log named clean") != NULL);
  CHECK_EQ(as(admin, "rm %s/clean --yes", url), 1);
  CHECK(strstr(err, "no log named clean") != NULL);
  /* a bound log: its binding goes with it; the node still runs the others' handlers */
  CHECK_EQ(as(admin, "rm %s/greetings --yes", url), 0);
  CHECK_EQ(as(viewer, "handlers %s", url), 0);
  CHECK(strstr(out, "hello") != NULL && strstr(out, "greetings") == NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err,
                        "export SPOT_DIR=%s && %s create greetings --size 64 --history 100 --handler hello >/dev/null "
                        "&& %s put greetings --data two",
                        dir, S, S),
           0);
  CHECK(hello_ends(2));
  CHECK_EQ(spot_test_stop(pid, SIGTERM), 0);
}

static const spot_test_t tests[] = {
    {"check_and_rm", test_check_and_rm},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
