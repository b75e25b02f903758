/*
 * store_check_test.c: issue 9's reproductions of store defects 1 and 2, run through the `spot` command line:
 * `spot get` and `spot check [--fix]` on a log with one flipped bit in its newest element, and on a log with a
 * handler mark set by hand. The logs are filled through the public API (1,500 `spot put`s would take minutes) and
 * damaged by writing the file's bytes at the offsets the issue gives, so this test uses only the public API and
 * the command line.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spot/log.h"
#include "spot/ns.h"
#include "support.h"
#include "test.h"

static char out[8192], err[8192];

/* Runs `spot -n DIR ARGS...` (ARGS formatted as printf does) into out and err; returns its exit status. */
static int spot(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int spot(const char *dir, const char *fmt, ...) {
  char args[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(args, sizeof args, fmt, ap);
  va_end(ap);
  return spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s %s", spot_test_bin(), dir, args);
}

/* Defect 1 and 2, as the issue reproduces them on a `none` log (1500 elements, history 1000) and on an `always`
 * log of 10 elements. */
static void newest_damaged(const char *tag, const char *sync, int history, int n) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", spot_test_dir(tag));
  CHECK_EQ(spot(dir, "init"), 0);
  CHECK_EQ(spot(dir, "create x --size 32 --history %d --sync %s", history, sync), 0);
  CHECK_OK(spot_test_fill_log(dir, "x", n, 0));
  /* one bit in the data of element n */
  CHECK_OK(spot_test_flip_byte(dir, "x", 4096 + ((n - 1) % history) * 48 + 16, 0x01));

  CHECK_EQ(spot(dir, "get x %d", n - 1), 0); /* its neighbour is served */
  char want[32];
  snprintf(want, sizeof want, "e%d", n - 1);
  CHECK(strcmp(out, want) == 0);
  CHECK_EQ(spot(dir, "get x %d", n), 1); /* the damaged one: a clear error */
  snprintf(want, sizeof want, "element %d is damaged", n);
  CHECK(strstr(err, want) != NULL);
  CHECK(strstr(err, "spot check") != NULL);

  CHECK_EQ(spot(dir, "check x"), 1);
  char line[128];
  snprintf(line, sizeof line, "%d intact, 1 damaged, 0 lost (first damaged: %d)", (n < history ? n : history) - 1,
           n);
  CHECK(strstr(out, line) != NULL);
  CHECK(strstr(err, "--fix") != NULL);

  for (int round = 0; round < 2; round++) {
    CHECK_EQ(spot(dir, "check x --fix"), 0);
    CHECK(round == 1 || strstr(out, "1 damaged element(s) marked lost") != NULL);
    snprintf(line, sizeof line, "%d intact, 0 damaged, 1 lost (first lost: %d)", (n < history ? n : history) - 1, n);
    CHECK(strstr(out, line) != NULL);
    CHECK(strstr(out, "x: ok") != NULL);
  }
  CHECK_EQ(spot(dir, "check x"), 0);
  CHECK_EQ(spot(dir, "get x %d", n), 1);
  snprintf(want, sizeof want, "element %d is lost", n);
  CHECK(strstr(err, want) != NULL);
  CHECK_EQ(spot(dir, "put x --data after"), 0);
  CHECK_EQ(strtoull(out, NULL, 10), (unsigned long long)n + 1); /* numbers never go back */
}

static void test_newest_damaged_none(void) { newest_damaged("check-none", "none", 1000, 1500); }
static void test_newest_damaged_always(void) { newest_damaged("check-always", "always", 1000, 10); }

/* Defect 2's mark: set by hand, it used to make every put that reached it fail with SPOT_EBUSY after 5 s while
 * `spot check` said ok. */
static void test_hand_set_mark(void) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", spot_test_dir("check-mark"));
  CHECK_EQ(spot(dir, "init"), 0);
  CHECK_EQ(spot(dir, "create y --size 8 --history 4"), 0);
  CHECK_OK(spot_test_fill_log(dir, "y", 4, 0));
  const long mark = 4096 + 12; /* the mark of element 1 (slots of 32 bytes: seq, crc, mark, data) */
  CHECK_OK(spot_test_flip_byte(dir, "y", mark, 0x05));
  CHECK_EQ(spot(dir, "check y"), 1);
  CHECK(strstr(err, "handler mark") != NULL);
  CHECK_EQ(spot(dir, "check y --fix"), 0);
  CHECK(strstr(out, "1 damaged handler mark(s) restored") != NULL);
  CHECK_EQ(spot(dir, "check y"), 0);
  CHECK_OK(spot_test_flip_byte(dir, "y", mark, 0x05)); /* again, and now put over it */
  CHECK_EQ(spot(dir, "put y --data a"), 0);
  CHECK_EQ(strtoull(out, NULL, 10), 5ull); /* element 5 overwrites element 1: the false mark holds nothing */
  CHECK_EQ(spot(dir, "check y"), 0);
}

static const spot_test_t tests[] = {
    {"newest_damaged_none", test_newest_damaged_none},
    {"newest_damaged_always", test_newest_damaged_always},
    {"hand_set_mark", test_hand_set_mark},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
