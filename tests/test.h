/*
 * tests/test.h: spot's tiny table-driven test runner (header only).
 *
 * A test file defines functions `static void test_x(void)`, lists them in a table and ends with SPOT_TEST_MAIN:
 *
 *   static const spot_test_t tests[] = {{"x", test_x}, {NULL, NULL}};
 *   SPOT_TEST_MAIN(tests)
 *
 * CHECK* macros report file:line (and spot_errdetail() for spot calls), mark the test failed and return from it.
 * `./test_foo NAME` runs only the tests whose name contains NAME. The exit status is the number of failed tests.
 */
#ifndef SPOT_TEST_H
#define SPOT_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spot/error.h"

typedef struct spot_test {
  const char *name;
  void (*fn)(void);
} spot_test_t;

static int spot_test_failed_;

#define CHECK(cond)                                                     \
  do {                                                                  \
    if (!(cond)) {                                                      \
      fprintf(stderr, "  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      spot_test_failed_ = 1;                                            \
      return;                                                           \
    }                                                                   \
  } while (0)

#define CHECK_EQ(a, b)                                                                                    \
  do {                                                                                                    \
    long long a_ = (long long)(a), b_ = (long long)(b);                                                   \
    if (a_ != b_) {                                                                                       \
      fprintf(stderr, "  %s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b, a_, b_);    \
      spot_test_failed_ = 1;                                                                              \
      return;                                                                                             \
    }                                                                                                     \
  } while (0)

/* A spot call that must return rc (0 or a SPOT_E* code). */
#define CHECK_RC(call, rc)                                                                                \
  do {                                                                                                    \
    int got_ = (call);                                                                                    \
    if (got_ != (rc)) {                                                                                   \
      fprintf(stderr, "  %s:%d: %s returned %s (%s), wanted %s\n", __FILE__, __LINE__, #call,             \
              spot_errname(got_), spot_errdetail(), spot_errname(rc));                                    \
      spot_test_failed_ = 1;                                                                              \
      return;                                                                                             \
    }                                                                                                     \
  } while (0)

#define CHECK_OK(call) CHECK_RC(call, 0)

#define SPOT_TEST_MAIN(table)                                                  \
  int main(int argc, char **argv) {                                            \
    int failed = 0, ran = 0;                                                   \
    for (const spot_test_t *t = (table); t->name; t++) {                       \
      if (argc > 1 && !strstr(t->name, argv[1]))                               \
        continue;                                                              \
      spot_test_failed_ = 0;                                                   \
      t->fn();                                                                 \
      ran++;                                                                   \
      printf("%s %s\n", spot_test_failed_ ? "FAIL" : "ok  ", t->name);         \
      fflush(stdout);                                                          \
      failed += spot_test_failed_;                                             \
    }                                                                          \
    printf("%d passed, %d failed\n", ran - failed, failed);                    \
    return failed;                                                             \
  }

#endif
