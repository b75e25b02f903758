/*
 * tail_test.c: `spot tail` (issue 12) on a local log (ranges, -n, --from/--to, expired elements, the four formats,
 * json's put times and base64, --follow bounded by --count and by SIGTERM) and on a remote name through a real
 * spotd on 127.0.0.1; and text input from stdin (`spot put LOG -` drops one trailing newline, --binary keeps it).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"
#include "test.h"

static char root[4096], S[8400];
static char out[65536], err[8192];

#if SPOT_HAVE_NET /* only the remote case starts a spotd */
static const char *env(const char *name) {
  const char *v = getenv(name);
  return v ? v : "";
}
#endif

/* A namespace with log L (8-byte elements, history 5) holding v1..v7 (so 3..7 are readable). */
static int setup(const char *tag) {
  snprintf(root, sizeof root, "%s", spot_test_dir(tag));
  snprintf(S, sizeof S, "%s -n %s/ns", spot_test_bin(), root);
  return spot_test_sh(out, sizeof out, err, sizeof err,
                      "set -e; S='%s'; $S init >/dev/null; $S create L --size 8 --history 5; "
                      "for i in 1 2 3 4 5 6 7; do $S put L --data v$i >/dev/null; done",
                      S);
}

static void test_ranges(void) {
  CHECK_EQ(setup("tail-ranges"), 0);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s tail L", S), 0);
  CHECK(strcmp(out, "v3\nv4\nv5\nv6\nv7\n") == 0);
  /* -n after the verb is tail's count, the namespace's -n stands before it */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s tail L -n 2", S), 0);
  CHECK(strcmp(out, "v6\nv7\n") == 0);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s tail L --from 4 --to 5", S), 0);
  CHECK(strcmp(out, "v4\nv5\n") == 0);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s tail L --from 1 --to 3", S), 0);
  CHECK(strcmp(out, "v3\n") == 0);
  CHECK(strstr(err, "expired") != NULL); /* 1 and 2 are gone, and it says so */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s tail L -n 0", S), 0);
  CHECK_EQ(out[0], '\0');
  CHECK(spot_test_sh(out, sizeof out, err, sizeof err, "%s tail L --from 5 --to 4", S) != 0);
  CHECK(spot_test_sh(out, sizeof out, err, sizeof err, "%s tail nosuch", S) != 0);
  CHECK(strstr(err, "nosuch") != NULL);
}

static void test_formats(void) {
  CHECK_EQ(setup("tail-formats"), 0);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s tail L -n 2 --format raw | od -An -c | tr -s ' '", S),
           0);
  CHECK(strcmp(out, " v 6 \\0 \\0 \\0 \\0 \\0 \\0 v 7 \\0 \\0 \\0 \\0 \\0 \\0\n") == 0);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s tail L -n 1 --format hex", S), 0);
  CHECK(strcmp(out, "7 7637000000000000\n") == 0);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err,
                        "printf '\\001\\002' > %s/bin && %s put L --file %s/bin >/dev/null && %s tail L -n 2 "
                        "--format json",
                        root, S, root, S),
           0);
  /* text data as a string, binary as base64 of the whole element; the put's time from the event log */
  CHECK(strstr(out, "{\"seqno\":7,\"time\":\"20") != NULL);
  CHECK(strstr(out, "Z\",\"data\":\"v7\"}\n") != NULL);
  CHECK(strstr(out, "{\"seqno\":8,\"time\":\"20") != NULL);
  CHECK(strstr(out, "\"data\":\"AQIAAAAAAAA=\",\"encoding\":\"base64\"}\n") != NULL);
  CHECK(spot_test_sh(out, sizeof out, err, sizeof err, "%s tail L --format xml", S) != 0);
}

static void test_stdin_text(void) {
  CHECK_EQ(setup("tail-stdin"), 0);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err,
                        "set -e; S='%s'; $S create four --size 4 --history 4; echo 22.0 | $S put four - >/dev/null; "
                        "printf '22.0\\n' | $S put L - --binary >/dev/null; $S get four 1 | od -An -c | tr -s ' '; "
                        "$S get L latest | od -An -c | tr -s ' '",
                        S),
           0);
  /* the newline echo added is gone, so "22.0" fits a 4-byte element; --binary keeps it */
  CHECK(strcmp(out, " 2 2 . 0\n 2 2 . 0 \\n \\0 \\0 \\0\n") == 0);
  /* only one newline goes, and a longer line is still refused */
  CHECK(spot_test_sh(out, sizeof out, err, sizeof err, "echo 22.01 | %s put four -", S) != 0);
  CHECK(strstr(err, "longer") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "printf 'a\\n\\n' | %s put four - >/dev/null && "
                        "%s get four latest | od -An -c | tr -s ' '", S, S), 0);
  CHECK(strcmp(out, " a \\n \\0 \\0\n") == 0);
}

static void test_follow(void) {
  CHECK_EQ(setup("tail-follow"), 0);
  /* --count bounds it: -n 0 shows nothing old, then the three new elements, then it exits 0 */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err,
                        "S='%s'; timeout 30 $S tail L -n 0 --follow --count 3 > %s/f.out & t=$!; "
                        "sleep 0.3; for i in a b c d; do $S put L --data $i >/dev/null; done; wait $t; echo rc=$?; "
                        "cat %s/f.out",
                        S, root, root),
           0);
  CHECK(strcmp(out, "rc=0\na\nb\nc\n") == 0);
  /* --to bounds it too */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err,
                        "S='%s'; timeout 30 $S tail L --from 12 --to 13 -f --format hex > %s/g.out & t=$!; "
                        "sleep 0.3; for i in e f g; do $S put L --data $i >/dev/null; done; wait $t; echo rc=$?; "
                        "cat %s/g.out",
                        S, root, root),
           0);
  CHECK(strcmp(out, "rc=0\n12 6500000000000000\n13 6600000000000000\n") == 0);
  /* SIGTERM ends a follow with exit 0, after what was appended */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err,
                        "S='%s'; $S tail L -n 1 -f --format json > %s/h.out & t=$!; sleep 0.3; "
                        "$S put L --data z >/dev/null; for i in $(seq 100); do grep -q '\"z\"' %s/h.out && break; "
                        "sleep 0.1; done; kill -TERM $t; wait $t; echo rc=$?; cat %s/h.out",
                        S, root, root, root),
           0);
  static const char head[] = "rc=0\n{\"seqno\":14,";
  if (strncmp(out, head, strlen(head)) != 0)
    fprintf(stderr, "follow: %s%s", out, err);
  CHECK(strncmp(out, head, strlen(head)) == 0);
  CHECK(strstr(out, "{\"seqno\":15,\"time\":\"20") != NULL && strstr(out, "\"data\":\"z\"}") != NULL);
}

#if SPOT_HAVE_NET
static void test_remote(void) {
  CHECK_EQ(setup("tail-remote"), 0);
  char endpoint[64], url[256], cli[8800];
  int port = 20000 + (int)((getpid() * 13 + 7) % 20000);
  snprintf(endpoint, sizeof endpoint, "127.0.0.1:%d", port);
  snprintf(url, sizeof url, "spot://127.0.0.1:%d/ns/L", port);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err,
                        "cd %s && S=%s && $S keygen node >/dev/null && $S keygen op >/dev/null && "
                        "echo \"$(cat op.pub) get,put\" > ns/access",
                        root, spot_test_bin()),
           0);
  pid_t pid = fork();
  if (pid == 0) {
    char dir[4200], key[4200];
    snprintf(dir, sizeof dir, "%s/ns", root);
    snprintf(key, sizeof key, "%s/node.key", root);
    execl(env("SPOTD_BIN"), "spotd", "-n", dir, "--quiet", "--mode", "thread", "--listen", endpoint, "--key", key,
          (char *)NULL);
    _exit(127);
  }
  snprintf(cli, sizeof cli, "cd %s && SPOT_TIMEOUT_MS=20000 %s --key op.key --node-key node.pub", root,
           spot_test_bin());
  int up = 0;
  for (int i = 0; i < 100 && !up; i++) { /* at most 10 s */
    up = spot_test_sh(out, sizeof out, err, sizeof err, "%s latest %s", cli, url) == 0;
    if (!up)
      usleep(100000);
  }
  CHECK(up);
  int rc1 = spot_test_sh(out, sizeof out, err, sizeof err, "%s tail %s -n 3", cli, url);
  int ok1 = rc1 == 0 && strcmp(out, "v5\nv6\nv7\n") == 0;
  int rc2 = spot_test_sh(out, sizeof out, err, sizeof err, "%s tail %s --from 4 --to 4 --format json", cli, url);
  int ok2 = rc2 == 0 && strcmp(out, "{\"seqno\":4,\"time\":null,\"data\":\"v4\"}\n") == 0;
  if (!ok2)
    fprintf(stderr, "remote json: %s%s", out, err);
  int rc3 = spot_test_sh(out, sizeof out, err, sizeof err,
                         "%s tail %s -n 0 -f --count 2 > f.out & t=$!; sleep 0.5; "
                         "for i in r1 r2; do %s put %s --data $i >/dev/null; done; wait $t; echo rc=$?; cat f.out",
                         cli, url, cli, url);
  int ok3 = rc3 == 0 && strcmp(out, "rc=0\nr1\nr2\n") == 0;
  if (!ok3)
    fprintf(stderr, "remote follow: %s%s", out, err);
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
  CHECK(ok1);
  CHECK(ok2);
  CHECK(ok3);
}
#endif

static const spot_test_t tests[] = {
    {"ranges", test_ranges},
    {"formats", test_formats},
    {"stdin_text", test_stdin_text},
    {"follow", test_follow},
#if SPOT_HAVE_NET
    {"remote", test_remote},
#endif
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
