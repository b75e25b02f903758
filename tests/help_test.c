/*
 * help_test.c: the help of every verb (issue 12). The verbs come from the command line's own table (`spot help
 * --verbs`), so a verb added without a help page fails here. For each: `spot VERB --help` and `spot help VERB`
 * exit 0 with a page on stdout, run in an empty scratch directory with $SPOT_DIR naming a real namespace, and
 * create nothing (the directory stays empty) and open nothing there (under strace: no file call names the
 * namespace). Also: spotd --help/--version, --version on every verb, an option's value that looks like -h is not a
 * help request, the man pages written from the same pages, and the bash completion. It runs in builds with and
 * without the network (SPOT_HAVE_NET either way): the pages are the same, only the verbs' behaviour differs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "test.h"

static char verbs[4096];

static const char *env(const char *name) {
  const char *v = getenv(name);
  return v ? v : "";
}

static int have_strace(void) {
  char out[64];
  return spot_test_sh(out, sizeof out, NULL, 0, "strace -f -o /dev/null true") == 0;
}

/* Runs `spot ARGS` in an empty directory with SPOT_DIR set to a namespace with a log, and checks: exit 0,
 * a page on stdout, nothing created in the directory, nothing under the namespace touched (with strace). */
static void check_help_run(const char *root, const char *args, int strace) {
  static char out[65536], err[8192];
  char tracer[4200] = "";
  if (strace)
    /* LeakSanitizer cannot run under ptrace: the traced run leaves leaks to the untraced ones */
    snprintf(tracer, sizeof tracer,
             "ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -qq -e trace=%%file -o %s/trace",
             root);
  int rc = spot_test_sh(out, sizeof out, err, sizeof err, "cd %s/empty && SPOT_DIR=%s/ns %s %s %s", root, root,
                        tracer, spot_test_bin(), args);
  if (rc != 0 || strlen(out) < 40 || strstr(out, "usage:") == NULL)
    fprintf(stderr, "spot %s: rc %d\n%s%s", args, rc, out, err);
  CHECK_EQ(rc, 0);
  CHECK(strstr(out, "usage:") != NULL);
  CHECK(strstr(out, "exit status:") != NULL);
  char ls[256];
  CHECK_EQ(spot_test_sh(ls, sizeof ls, NULL, 0, "ls -A %s/empty", root), 0);
  if (ls[0])
    fprintf(stderr, "spot %s created: %s\n", args, ls);
  CHECK_EQ(ls[0], '\0');
  if (strace) {
    char hits[4096];
    spot_test_sh(hits, sizeof hits, NULL, 0, "grep -F '%s/ns' %s/trace", root, root);
    if (hits[0])
      fprintf(stderr, "spot %s opened the namespace:\n%s", args, hits);
    CHECK_EQ(hits[0], '\0');
  }
}

static void test_every_verb(void) {
  char root[4096], out[256];
  snprintf(root, sizeof root, "%s", spot_test_dir("help"));
  CHECK_EQ(spot_test_sh(out, sizeof out, NULL, 0,
                        "mkdir %s/empty && S='%s -n %s/ns' && $S init >/dev/null && "
                        "$S create a --size 8 --history 4 && $S put a --data x",
                        root, spot_test_bin(), root),
           0);
  CHECK_EQ(spot_test_sh(verbs, sizeof verbs, NULL, 0, "%s help --verbs", spot_test_bin()), 0);
  CHECK(strstr(verbs, "put\n") && strstr(verbs, "init\n") && strstr(verbs, "help\n"));
  int strace = have_strace();
  if (!strace)
    printf("help_test: strace cannot run here, so only creation is checked, not opening\n");
  /* the quick (sanitizer) builds trace only the runs after the loop: strace on every verb costs a minute there */
  int quick = getenv("SPOT_TEST_QUICK") != NULL;
  int n = 0;
  char list[4096];
  snprintf(list, sizeof list, "%s", verbs);
  for (char *verb = strtok(list, "\n"); verb; verb = strtok(NULL, "\n")) {
    char args[128];
    snprintf(args, sizeof args, "%s --help", verb);
    check_help_run(root, args, strace && !quick);
    snprintf(args, sizeof args, "help %s", verb);
    check_help_run(root, args, 0);
    n++;
  }
  CHECK(n >= 15);
  /* the help comes first, whatever else stands on the line */
  check_help_run(root, "put a --data x --help", strace);
  check_help_run(root, "init --help", strace);
  check_help_run(root, "latest -h", strace);
}

static void test_spotd_and_version(void) {
  char root[4096], out[16384], err[4096];
  snprintf(root, sizeof root, "%s", spot_test_dir("helpd"));
  int rc = spot_test_sh(out, sizeof out, err, sizeof err, "cd %s && SPOT_DIR=%s/none %s --help", root, root,
                        env("SPOTD_BIN"));
  CHECK_EQ(rc, 0);
  CHECK(strstr(out, "spotd -n DIR") && strstr(out, "--listen") && strstr(out, "exit status:"));
  CHECK_EQ(spot_test_sh(out, sizeof out, NULL, 0, "%s --version", env("SPOTD_BIN")), 0);
  CHECK(strncmp(out, "spotd ", 6) == 0);
  CHECK_EQ(spot_test_sh(out, sizeof out, NULL, 0, "%s help spotd", spot_test_bin()), 0);
  CHECK(strstr(out, "spotd -n DIR") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, NULL, 0, "%s --version && %s latest --version", spot_test_bin(),
                        spot_test_bin()),
           0);
  CHECK(strncmp(out, "spot ", 5) == 0 && strstr(out + 5, "spot ") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, NULL, 0, "ls -A %s", root), 0);
  CHECK_EQ(out[0], '\0');
  /* -h as the value of --data is data, not a help request */
  rc = spot_test_sh(out, sizeof out, err, sizeof err, "SPOT_DIR=%s/none %s put a --data -h", root, spot_test_bin());
  CHECK(rc != 0);
  CHECK(strstr(out, "usage:") == NULL && strstr(err, "namespace") != NULL);
  /* no such verb */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s help no-such-verb", spot_test_bin()), 2);
}

static void test_man_pages(void) {
  char root[4096], out[65536];
  snprintf(root, sizeof root, "%s", spot_test_dir("man"));
  CHECK_EQ(spot_test_sh(out, sizeof out, NULL, 0, "%s help --man %s && ls %s", spot_test_bin(), root, root), 0);
  CHECK(strstr(out, "spot.1") && strstr(out, "spotd.8") && strstr(out, "spot-handler.7"));
  CHECK_EQ(spot_test_sh(out, sizeof out, NULL, 0, "cat %s/spot.1", root), 0);
  CHECK(strstr(out, ".TH spot 1") != NULL);
  char list[4096];
  snprintf(list, sizeof list, "%s", verbs);
  for (char *verb = strtok(list, "\n"); verb; verb = strtok(NULL, "\n")) {
    char ss[160], esc[128];
    size_t k = 0;
    for (const char *c = verb; *c && k + 3 < sizeof esc; c++) { /* troff writes '-' as "\-" */
      if (*c == '-')
        esc[k++] = '\\';
      esc[k++] = *c;
    }
    esc[k] = '\0';
    snprintf(ss, sizeof ss, ".SS %s\n", esc);
    if (strstr(out, ss) == NULL)
      fprintf(stderr, "spot.1 has no section for %s\n", verb);
    CHECK(strstr(out, ss) != NULL);
  }
  CHECK_EQ(spot_test_sh(out, sizeof out, NULL, 0, "cat %s/spot-handler.7 %s/spotd.8", root, root), 0);
  CHECK(strstr(out, "SPOT_HANDLER") && strstr(out, ".TH spotd 8") && strstr(out, "\\-\\-listen"));
  /* it renders (groff, when the machine has it) */
  if (spot_test_sh(out, sizeof out, NULL, 0, "command -v groff") == 0) {
    CHECK_EQ(spot_test_sh(out, sizeof out, NULL, 0, "groff -man -Tutf8 -ww %s/spot.1 2>&1 >/dev/null", root), 0);
    CHECK_EQ(out[0], '\0');
  }
}

/* Runs the completion function for the words given and returns COMPREPLY joined by spaces. */
static int complete(char *out, size_t cap, const char *ns, const char *words, int cword) {
  return spot_test_sh(out, cap, NULL, 0,
                      "bash -c 'shopt -s extglob; source %s/tools/completion/spot.bash; SPOT_DIR=%s; "
                      "COMP_WORDS=(%s); COMP_CWORD=%d; _spot; echo \"${COMPREPLY[*]}\"'",
                      env("SPOT_SRC"), ns, words, cword);
}

static void test_completion(void) {
  char root[4096], out[4096];
  snprintf(root, sizeof root, "%s", spot_test_dir("compl"));
  CHECK_EQ(spot_test_sh(out, sizeof out, NULL, 0, "S='%s -n %s/ns'; $S init && $S create temp --size 8 --history 4",
                        spot_test_bin(), root),
           0);
  const char *spot = spot_test_bin();
  char words[4400];
  snprintf(words, sizeof words, "%s pu", spot);
  CHECK_EQ(complete(out, sizeof out, "", words, 1), 0);
  CHECK(strcmp(out, "put\n") == 0);
  snprintf(words, sizeof words, "%s put temp --ha", spot);
  CHECK_EQ(complete(out, sizeof out, "", words, 3), 0);
  CHECK(strcmp(out, "--handler\n") == 0);
  snprintf(words, sizeof words, "%s -n %s/ns get te", spot, root);
  CHECK_EQ(complete(out, sizeof out, "", words, 4), 0);
  CHECK(strcmp(out, "temp\n") == 0);
  snprintf(words, sizeof words, "%s create x --sync b", spot);
  CHECK_EQ(complete(out, sizeof out, "", words, 4), 0);
  CHECK(strcmp(out, "batch\n") == 0);
}

static const spot_test_t tests[] = {
    {"every_verb", test_every_verb},
    {"spotd_and_version", test_spotd_and_version},
    {"man_pages", test_man_pages},
    {"completion", test_completion},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
