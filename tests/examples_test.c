/*
 * examples_test.c: the examples as a newcomer runs them: handlers built with `spot build-handler` (hello, chain,
 * frost) and with the CMake function (a ready .so), a real spotd, puts through the CLI and the frost replay driver;
 * then what each example promises: hello ran, the chain reached log c, frost raised alerts for the cold sensor
 * only.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../examples/frost/frost.h"
#include "spot.h"
#include "support.h"
#include "test.h"

static const char *env(const char *name) {
  const char *v = getenv(name);
  return v ? v : "";
}

static uint64_t latest_of(const char *dir, const char *log) {
  spot_ns_t *ns;
  spot_log_t *l;
  uint64_t hi = 0;
  if (spot_ns_open(dir, NULL, &ns) != 0)
    return 0;
  if (spot_ns_open_log(ns, log, 0, &l, NULL) == 0) {
    spot_log_latest(l, &hi);
    spot_log_close(l);
  }
  spot_ns_close(ns);
  return hi;
}

static void test_examples(void) {
  char dir[4200], out[16384], err[16384];
  snprintf(dir, sizeof dir, "%s/ns", spot_test_dir("examples"));
  const char *spot = spot_test_bin(), *src = env("SPOT_SRC");
  int rc = spot_test_sh(out, sizeof out, err, sizeof err,
                        "set -e; S='%s -n %s'; $S init; $S build-handler %s/examples/hello/hello.c; "
                        "$S build-handler %s/examples/chain/chain.c; $S build-handler %s/examples/frost/frost.c; "
                        "$S create greetings --size 32 --history 100; "
                        "for l in a b c; do $S create $l --size 16 --history 100; done; $S handlers",
                        spot, dir, src, src, src);
  if (rc != 0)
    fprintf(stderr, "%s%s", out, err);
  CHECK_EQ(rc, 0);
  CHECK(strstr(out, "chain_b") && strstr(out, "frost") && strstr(out, "hello"));
  /* a handler object built by the CMake function installs the same way */
  rc = spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s build-handler $(dirname %s)/examples/hello_handler.so",
                    spot, dir, env("SPOTD_BIN"));
  CHECK_EQ(rc, 0);

  pid_t pid = fork();
  if (pid == 0) {
    char log[4300];
    snprintf(log, sizeof log, "%s/../spotd.out", dir);
    if (freopen(log, "w", stderr) == NULL)
      _exit(126);
    execl(env("SPOTD_BIN"), "spotd", "-n", dir, "--mode", "thread", (char *)NULL);
    _exit(127);
  }
  rc = spot_test_sh(out, sizeof out, err, sizeof err,
                    "set -e; S='%s -n %s'; $S put greetings --handler hello --data world; "
                    "$S put a --handler chain_a --data hop; $(dirname %s)/examples/frost_replay %s",
                    spot, dir, env("SPOTD_BIN"), dir);
  if (rc != 0)
    fprintf(stderr, "%s%s", out, err);
  CHECK_EQ(rc, 0);
  /* wait (bounded) for the chain to reach c and for the 432 frost runs */
  for (int i = 0; i < 300 && latest_of(dir, "c") < 1; i++)
    usleep(100000);
  CHECK_EQ(latest_of(dir, "c"), 1);
  uint64_t runs = 0;
  for (int i = 0; i < 300 && runs < 432 + 3; i++) {
    usleep(100000);
    spot_test_sh(out, sizeof out, NULL, 0, "%s -n %s events --json | grep -c '\"type\":\"end\"'", spot, dir);
    runs = strtoull(out, NULL, 10);
  }
  CHECK_EQ(runs, 432 + 3); /* hello, chain_a, chain_b, 432 x frost */
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);

  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  spot_log_t *alerts;
  CHECK_OK(spot_ns_open_log(ns, "frost_alerts", 0, &alerts, NULL));
  uint64_t n;
  spot_log_latest(alerts, &n);
  CHECK(n >= 1);
  for (uint64_t s = 1; s <= n; s++) {
    alert_t a;
    CHECK_OK(spot_log_read(alerts, s, &a, sizeof a));
    CHECK(strcmp(a.sensor, "valley") == 0);
    CHECK(a.average < FROST_THRESHOLD_C);
  }
  spot_log_close(alerts);
  spot_ns_close(ns);
  char log[4300];
  snprintf(log, sizeof log, "%s/../spotd.out", dir);
  rc = spot_test_sh(out, sizeof out, NULL, 0, "cat %s", log);
  CHECK(strstr(out, "hello, world!") != NULL);
  CHECK(strstr(out, "frost warning: valley") != NULL);
  printf("  examples: hello ran, the chain reached c, frost raised %llu alert(s) for the valley sensor\n",
         (unsigned long long)n);
}

static const spot_test_t tests[] = {
    {"examples", test_examples},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
