/*
 * access_test.c: the namespace access file (net/access.h): rights, `any`, comments and parse errors by line; checks
 * that allow and refuse with a detail line naming the key, the right and the file; a missing or broken file
 * refuses everyone; a rewritten file takes effect at the next refresh once its modification time changes (the
 * tests set the time explicitly with `touch -d`, never by waiting); a malformed line is skipped and named while the
 * others stay in force; a FIFO in place of the file is refused, not waited on; who the handshake admits.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "net/access.h"
#include "spot.h"
#include "support.h"
#include "test.h"

static spot__keypair_t ka, kb, kc;

static int keys(void) { return spot__keys_generate(&ka) || spot__keys_generate(&kb) || spot__keys_generate(&kc); }

static int write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (f == NULL)
    return -1;
  int ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok ? 0 : -1;
}

/* Writes text to path and sets its modification time to `when` (a `touch -d` date). */
static int write_at(const char *path, const char *text, const char *when) {
  if (write_text(path, text) != 0)
    return -1;
  return spot_test_sh(NULL, 0, NULL, 0, "touch -d '%s' %s", when, path);
}

static int has(const char *needle) {
  if (strstr(spot_errdetail(), needle))
    return 1;
  fprintf(stderr, "  detail '%s' lacks '%s'\n", spot_errdetail(), needle);
  return 0;
}

static void test_parse_and_check(void) {
  CHECK_EQ(keys(), 0);
  char text[2048];
  snprintf(text, sizeof text,
           "# who may do what in this namespace\n"
           "\n"
           "%s get,put,create,deploy,admin   # the operator\n"
           "  %s\tget , put\r\n"
           "%s get # first line for c\n"
           "%s deploy\n"
           "any get\n"
           "#%s put,create   # revoked: commented out\n",
           ka.pub.z85, kb.pub.z85, kc.pub.z85, kc.pub.z85, kb.pub.z85);
  spot__access_t a;
  spot__access_init(&a);
  CHECK_RC(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_GET), SPOT_EPERM); /* nothing loaded yet */
  CHECK_OK(spot__access_parse(&a, text, strlen(text), "ns/access"));
  CHECK_EQ(a.n, 3);
  CHECK_EQ(a.any, SPOT_RIGHT_GET);

  CHECK_OK(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_ALL));
  CHECK_OK(spot__access_check(&a, kb.pub.z85, SPOT_RIGHT_GET | SPOT_RIGHT_PUT));
  CHECK_RC(spot__access_check(&a, kb.pub.z85, SPOT_RIGHT_CREATE), SPOT_EPERM);
  CHECK(has(kb.pub.z85) && has("refused create") && has("ns/access line 4 gives it only get,put"));
  /* c's two lines add up. */
  CHECK_OK(spot__access_check(&a, kc.pub.z85, SPOT_RIGHT_GET | SPOT_RIGHT_DEPLOY));
  CHECK_RC(spot__access_check(&a, kc.pub.z85, SPOT_RIGHT_PUT), SPOT_EPERM);

  /* An unknown key gets what `any` gives, and nothing more. */
  spot__keypair_t stranger;
  CHECK_OK(spot__keys_generate(&stranger));
  CHECK_OK(spot__access_check(&a, stranger.pub.z85, SPOT_RIGHT_GET));
  CHECK_RC(spot__access_check(&a, stranger.pub.z85, SPOT_RIGHT_PUT), SPOT_EPERM);
  CHECK(has(stranger.pub.z85) && has("refused put") && has("not in ns/access (and `any` gives only get)") &&
        has("add the line"));
  CHECK_RC(spot__access_check(&a, "short", SPOT_RIGHT_GET), SPOT_EPERM);
  CHECK_RC(spot__access_check(&a, NULL, SPOT_RIGHT_GET), SPOT_EPERM);
  spot__access_free(&a);
}

static void test_no_any_means_unknown_refused(void) {
  CHECK_EQ(keys(), 0);
  char text[256];
  snprintf(text, sizeof text, "%s get\n", ka.pub.z85);
  spot__access_t a;
  spot__access_init(&a);
  CHECK_OK(spot__access_parse(&a, text, strlen(text), "access"));
  CHECK_RC(spot__access_check(&a, kb.pub.z85, SPOT_RIGHT_GET), SPOT_EPERM);
  CHECK(has("is not in access; to allow it, add the line"));
  /* An empty file: nobody. */
  CHECK_OK(spot__access_parse(&a, "", 0, "access"));
  CHECK_RC(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_GET), SPOT_EPERM);
  /* `any` alone lets everyone in for its rights. */
  CHECK_OK(spot__access_parse(&a, "any get,put\n", 12, "access"));
  CHECK_OK(spot__access_check(&a, kc.pub.z85, SPOT_RIGHT_PUT));
  CHECK_RC(spot__access_check(&a, kc.pub.z85, SPOT_RIGHT_DEPLOY), SPOT_EPERM);
  spot__access_free(&a);
}

static void test_parse_errors(void) {
  CHECK_EQ(keys(), 0);
  char bad_key[41];
  memcpy(bad_key, ka.pub.z85, sizeof bad_key);
  memcpy(bad_key + 5, "#####", 5); /* Z85 characters, value out of range */
  struct {
    const char *fmt, *detail;
  } cases[] = {
      {"# ok\n%s get,wirte\n", "access line 2: unknown right 'wirte'"},
      {"%s\n", "access line 1: no rights after the key"},
      {"%s   # no rights\n", "line 1: no rights"},
      {"\n\n%s get,,put\n", "access line 3: an empty right"},
      {"%s get put\n", "line 1: unknown right 'get put'"},
      {"%s get,\n", "line 1: an empty right"},
      {"everyone get\n%.0s", "access line 1: 'everyone' is neither a 40-character public key"},
      {"%.39s get\n", "line 1: '"},
      {"any\n%.0s", "access line 1: no rights"},
      {"any admins\n%.0s", "unknown right 'admins'"},
      {"ANY get\n%.0s", "'ANY' is neither"},
  };
  spot__access_t a;
  spot__access_init(&a);
  char text[512];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(text, sizeof text, "any get\n%s get\n", kb.pub.z85);
    CHECK_OK(spot__access_parse(&a, text, strlen(text), "access"));
    unsigned gen = a.warn_gen;
    /* the malformed line among good ones: it is skipped, counted and explained; the others stay in force */
    char body[400];
    snprintf(body, sizeof body, cases[i].fmt, ka.pub.z85);
    snprintf(text, sizeof text, "%s put\n%s", kc.pub.z85, body);
    CHECK_OK(spot__access_parse(&a, text, strlen(text), "access"));
    CHECK_EQ(a.state, SPOT__ACCESS_OK);
    CHECK_EQ(a.skipped, 1);
    CHECK_EQ(a.warn_gen, gen + 1);
    char want[200];
    snprintf(want, sizeof want, "%s", cases[i].detail);
    char *line = strstr(want, "line ");
    if (line != NULL && line[5] >= '1' && line[5] <= '9')
      line[5] = (char)(line[5] + 1); /* one good line comes first now */
    if (strstr(a.warn, want) == NULL) {
      fprintf(stderr, "  case %zu: %s\n", i, a.warn);
      CHECK(0);
    }
    CHECK_OK(spot__access_check(&a, kc.pub.z85, SPOT_RIGHT_PUT));
    CHECK_RC(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_GET), SPOT_EPERM);
    CHECK_RC(spot__access_check(&a, kb.pub.z85, SPOT_RIGHT_GET), SPOT_EPERM);
    /* the same text again: nothing new to log */
    CHECK_OK(spot__access_parse(&a, text, strlen(text), "access"));
    CHECK_EQ(a.warn_gen, gen + 1);
  }
  snprintf(text, sizeof text, "%s get\n", bad_key);
  CHECK_OK(spot__access_parse(&a, text, strlen(text), "access"));
  CHECK_EQ(a.skipped, 1);
  CHECK(strstr(a.warn, "access line 1") && strstr(a.warn, "out of range"));
  CHECK_RC(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_GET), SPOT_EPERM);
  /* several malformed lines: each is skipped, the first is named */
  snprintf(text, sizeof text, "nobody get\n%s get\nany bogus\n", kb.pub.z85);
  CHECK_OK(spot__access_parse(&a, text, strlen(text), "access"));
  CHECK_EQ(a.skipped, 2);
  CHECK(strstr(a.warn, "access line 1") != NULL);
  CHECK_OK(spot__access_check(&a, kb.pub.z85, SPOT_RIGHT_GET));
  CHECK_RC(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_GET), SPOT_EPERM);
  spot__access_free(&a);

  char buf[64];
  CHECK(strcmp(spot__access_rights_text(SPOT_RIGHT_ALL, buf, sizeof buf), "get,put,create,deploy,admin") == 0);
  CHECK(strcmp(spot__access_rights_text(0, buf, sizeof buf), "none") == 0);
}

static void test_missing_file(void) {
  CHECK_EQ(keys(), 0);
  char path[4200];
  snprintf(path, sizeof path, "%s/access", spot_test_dir("accmiss"));
  spot__access_t a;
  spot__access_init(&a);
  CHECK_RC(spot__access_load(&a, path), SPOT_ENOTFOUND);
  CHECK(has("does not exist") && has("create it with lines `PUBLIC_KEY RIGHTS`"));
  CHECK_EQ(a.state, SPOT__ACCESS_MISSING);
  CHECK_RC(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_GET), SPOT_EPERM);
  CHECK(has(path) && has("does not exist, so nobody may connect") && has(ka.pub.z85));
  /* Still missing: refresh keeps refusing. */
  CHECK_RC(spot__access_refresh(&a, path), SPOT_ENOTFOUND);
  CHECK_RC(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_GET), SPOT_EPERM);
  /* Created: the next refresh lets the key in, without a restart. */
  char text[256];
  snprintf(text, sizeof text, "%s get\n", ka.pub.z85);
  CHECK_EQ(write_at(path, text, "2020-01-01 00:00:00"), 0);
  CHECK_OK(spot__access_refresh(&a, path));
  CHECK_OK(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_GET));
  /* Removed again: nobody, `any` or not. */
  CHECK_EQ(spot_test_sh(NULL, 0, NULL, 0, "rm %s", path), 0);
  CHECK_RC(spot__access_refresh(&a, path), SPOT_ENOTFOUND);
  CHECK_RC(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_GET), SPOT_EPERM);
  spot__access_free(&a);
}

static void test_reload_on_change(void) {
  CHECK_EQ(keys(), 0);
  char path[4200], text[512];
  snprintf(path, sizeof path, "%s/access", spot_test_dir("accreload"));
  spot__access_t a;
  spot__access_init(&a);

  snprintf(text, sizeof text, "%s get\n", ka.pub.z85);
  CHECK_EQ(write_at(path, text, "2020-01-01 00:00:00"), 0);
  CHECK_OK(spot__access_refresh(&a, path)); /* the first refresh loads */
  CHECK_OK(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_GET));
  CHECK_RC(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_PUT), SPOT_EPERM);

  /* Rewritten with a new time: in force at the next refresh. */
  snprintf(text, sizeof text, "%s get,put\n", ka.pub.z85);
  CHECK_EQ(write_at(path, text, "2020-01-01 00:00:01"), 0);
  CHECK_OK(spot__access_refresh(&a, path));
  CHECK_OK(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_PUT));

  /* Rewritten with the same modification time (before: not re-read, the time was all refresh looked at): the
   * status-change time and the size still tell, so it is re-read; a is revoked, b allowed. */
  snprintf(text, sizeof text, "%s get\n", kb.pub.z85);
  CHECK_EQ(write_at(path, text, "2020-01-01 00:00:01"), 0);
  CHECK_OK(spot__access_refresh(&a, path));
  CHECK_RC(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_GET), SPOT_EPERM);
  CHECK(has("not in"));
  CHECK_OK(spot__access_check(&a, kb.pub.z85, SPOT_RIGHT_GET));
  /* The time moves (backwards, as a restored backup would) with a back in: re-read. */
  snprintf(text, sizeof text, "%s get\n%s get\n", ka.pub.z85, kb.pub.z85);
  CHECK_EQ(write_at(path, text, "2019-06-01 12:00:00"), 0);
  CHECK_OK(spot__access_refresh(&a, path));
  CHECK_OK(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_GET));
  snprintf(text, sizeof text, "%s get\n", kb.pub.z85);
  CHECK_EQ(write_at(path, text, "2019-06-01 12:00:00"), 0);
  CHECK_OK(spot__access_refresh(&a, path));
  CHECK_RC(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_GET), SPOT_EPERM);
  CHECK_OK(spot__access_check(&a, kb.pub.z85, SPOT_RIGHT_GET));

  /* A malformed line is skipped: the other lines stay in force, and the warning names the line. */
  snprintf(text, sizeof text, "%s get\n%s gte\n", kb.pub.z85, kc.pub.z85);
  CHECK_EQ(write_at(path, text, "2020-01-01 00:00:02"), 0);
  CHECK_OK(spot__access_refresh(&a, path));
  CHECK(strstr(a.warn, "line 2: unknown right 'gte'") != NULL && strstr(a.warn, path) != NULL);
  CHECK_OK(spot__access_refresh(&a, path));
  CHECK_OK(spot__access_check(&a, kb.pub.z85, SPOT_RIGHT_GET));
  CHECK_RC(spot__access_check(&a, kc.pub.z85, SPOT_RIGHT_GET), SPOT_EPERM);
  snprintf(text, sizeof text, "%s get\n%s get\n", kb.pub.z85, kc.pub.z85);
  CHECK_EQ(write_at(path, text, "2020-01-01 00:00:03"), 0);
  CHECK_OK(spot__access_refresh(&a, path));
  CHECK_OK(spot__access_check(&a, kc.pub.z85, SPOT_RIGHT_GET));
  spot__access_free(&a);
}

/* spot__access_refresh_within looks at the file at most once per interval: a change is not seen by a call less
 * than the interval after the last look, and is in force at the first call at or past it. (The clock is the
 * caller's argument, so no sleep is needed.) */
static void test_refresh_within_interval(void) {
  CHECK_EQ(keys(), 0);
  char path[4200], text[512];
  snprintf(path, sizeof path, "%s/access", spot_test_dir("accwithin"));
  spot__access_t a;
  spot__access_init(&a);
  const uint64_t every = 100000000u;
  snprintf(text, sizeof text, "%s get,put\n", ka.pub.z85);
  CHECK_EQ(write_at(path, text, "2020-01-01 00:00:00"), 0);
  CHECK_OK(spot__access_refresh_within(&a, path, spot__now_ns(), every)); /* the first call loads */
  CHECK_OK(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_PUT));
  uint64_t looked = a.checked_ns;
  CHECK(looked != 0);
  snprintf(text, sizeof text, "%s get\n", ka.pub.z85); /* put revoked */
  CHECK_EQ(write_at(path, text, "2020-01-01 00:00:05"), 0);
  CHECK_OK(spot__access_refresh_within(&a, path, looked + every - 1, every)); /* too soon: not looked at */
  CHECK_OK(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_PUT));
  CHECK_EQ(a.checked_ns, looked);
  uint64_t later = spot__now_ns();
  if (later < looked + every)
    later = looked + every;
  CHECK_OK(spot__access_refresh_within(&a, path, later, every)); /* the interval is up: the revocation holds */
  CHECK_RC(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_PUT), SPOT_EPERM);
  CHECK(a.checked_ns > looked);
  /* a missing file is remembered as refused between looks, and its return is seen after the interval */
  CHECK_EQ(remove(path), 0);
  CHECK_RC(spot__access_refresh_within(&a, path, a.checked_ns + every, every), SPOT_ENOTFOUND);
  CHECK_RC(spot__access_refresh_within(&a, path, a.checked_ns + 1, every), SPOT_ENOTFOUND);
  CHECK(has("does not exist"));
  snprintf(text, sizeof text, "%s get,put\n", ka.pub.z85);
  CHECK_EQ(write_at(path, text, "2020-01-01 00:00:06"), 0);
  CHECK_RC(spot__access_refresh_within(&a, path, a.checked_ns + 1, every), SPOT_ENOTFOUND);
  CHECK_OK(spot__access_refresh_within(&a, path, a.checked_ns + every, every));
  CHECK_OK(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_PUT));
  spot__access_free(&a);
}

/* A file modified "now" (here: stamped a minute ahead, so the test does not depend on how fast it runs) may be
 * rewritten again within the clock's granularity with the same time: refresh re-reads it every time. */
static void test_recent_file_reread(void) {
  CHECK_EQ(keys(), 0);
  char path[4200], text[512], when[64];
  snprintf(path, sizeof path, "%s/access", spot_test_dir("accracy"));
  snprintf(when, sizeof when, "@%lld", (long long)time(NULL) + 60);
  spot__access_t a;
  spot__access_init(&a);
  snprintf(text, sizeof text, "%s get\n", ka.pub.z85);
  CHECK_EQ(write_at(path, text, when), 0);
  CHECK_OK(spot__access_load(&a, path));
  CHECK_OK(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_GET));
  snprintf(text, sizeof text, "%s get\n", kb.pub.z85);
  CHECK_EQ(write_at(path, text, when), 0);
  CHECK_OK(spot__access_refresh(&a, path));
  CHECK_RC(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_GET), SPOT_EPERM);
  CHECK_OK(spot__access_check(&a, kb.pub.z85, SPOT_RIGHT_GET));
  spot__access_free(&a);
}

/* An access file replaced by a FIFO (or anything but a regular file) is refused at once, never waited on: the
 * table refuses everyone and says why; a regular file again restores it. Before the fix the load blocked for good
 * in open() (this test then hangs until ctest's time limit). */
static void test_fifo_refused(void) {
  CHECK_EQ(keys(), 0);
  char path[4200], text[256];
  snprintf(path, sizeof path, "%s/access", spot_test_dir("accfifo"));
  spot__access_t a;
  spot__access_init(&a);
  snprintf(text, sizeof text, "%s get\n", ka.pub.z85);
  CHECK_EQ(write_at(path, text, "2020-01-01 00:00:00"), 0);
  CHECK_OK(spot__access_refresh(&a, path));
  CHECK_EQ(spot_test_sh(NULL, 0, NULL, 0, "rm %s && mkfifo %s", path, path), 0);
  CHECK_RC(spot__access_refresh(&a, path), SPOT_EINVAL);
  CHECK(has("not a regular file"));
  CHECK_RC(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_GET), SPOT_EPERM);
  CHECK(!spot__access_admits(&a, ka.pub.z85));
  CHECK_EQ(spot_test_sh(NULL, 0, NULL, 0, "rm %s", path), 0);
  CHECK_EQ(write_at(path, text, "2020-01-01 00:00:01"), 0);
  CHECK_OK(spot__access_refresh(&a, path));
  CHECK_OK(spot__access_check(&a, ka.pub.z85, SPOT_RIGHT_GET));
  spot__access_free(&a);
}

/* Who the handshake lets in: listed keys, and every key only when an `any` line exists. */
static void test_admits(void) {
  CHECK_EQ(keys(), 0);
  spot__access_t a;
  spot__access_init(&a);
  CHECK(!spot__access_admits(&a, ka.pub.z85)); /* nothing loaded */
  char text[256];
  snprintf(text, sizeof text, "%s get\n", ka.pub.z85);
  CHECK_OK(spot__access_parse(&a, text, strlen(text), "access"));
  CHECK(spot__access_admits(&a, ka.pub.z85) && spot__access_listed(&a, ka.pub.z85));
  CHECK(!spot__access_admits(&a, kb.pub.z85) && !spot__access_listed(&a, kb.pub.z85));
  snprintf(text, sizeof text, "%s get\nany get\n", ka.pub.z85);
  CHECK_OK(spot__access_parse(&a, text, strlen(text), "access"));
  CHECK(spot__access_admits(&a, kb.pub.z85) && !spot__access_listed(&a, kb.pub.z85));
  spot__access_free(&a);
}

static const spot_test_t tests[] = {
    {"fifo_refused", test_fifo_refused},
    {"admits", test_admits},
    {"parse_and_check", test_parse_and_check},
    {"no_any_means_unknown_refused", test_no_any_means_unknown_refused},
    {"parse_errors", test_parse_errors},
    {"missing_file", test_missing_file},
    {"reload_on_change", test_reload_on_change},
    {"refresh_within_interval", test_refresh_within_interval},
    {"recent_file_reread", test_recent_file_reread},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
