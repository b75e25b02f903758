/*
 * ratelimit_test.c: the refusal limiter (net/ratelimit.h) with a synthetic clock: one source gets its burst and
 * then one record per period; many sources together are bounded by the shared bucket; what is not recorded is
 * counted and reported at most once per period; forgotten sources do not lift the shared bound.
 */
#include <stdio.h>
#include <string.h>

#include "net/ratelimit.h"
#include "test.h"

#define SEC 1000000000ull

static void test_one_source(void) {
  spot__ratelimit_t rl;
  uint64_t t = 5 * SEC, count = 0;
  spot__ratelimit_init(&rl, t);
  unsigned ok = 0;
  for (int i = 0; i < 1000; i++)
    ok += (unsigned)spot__ratelimit_take(&rl, "10.0.0.1", t);
  CHECK_EQ(ok, SPOT__RL_SOURCE_BURST);
  CHECK_EQ(rl.suppressed, 1000 - SPOT__RL_SOURCE_BURST);
  CHECK_EQ(spot__ratelimit_report(&rl, t, &count), 0); /* not before a period has passed */
  /* one more per SOURCE_EVERY: over 100 s of one attempt per 10 ms, 10 more */
  ok = 0;
  for (int i = 1; i <= 10000; i++)
    ok += (unsigned)spot__ratelimit_take(&rl, "10.0.0.1", t + (uint64_t)i * (SEC / 100));
  CHECK_EQ(ok, 100 * SEC / SPOT__RL_SOURCE_EVERY_NS);
  t += 100 * SEC;
  CHECK_EQ(spot__ratelimit_report(&rl, t, &count), 1);
  CHECK_EQ(count, 1000 - SPOT__RL_SOURCE_BURST + 10000 - 10);
  CHECK_EQ(spot__ratelimit_report(&rl, t + 1, &count), 0); /* counted afresh, reported once */
  CHECK_EQ(spot__ratelimit_take(&rl, "10.0.0.1", t + 2), 0);
  CHECK_EQ(spot__ratelimit_report(&rl, t + SPOT__RL_PERIOD_NS - 1, &count), 0);
  CHECK_EQ(spot__ratelimit_report(&rl, t + SPOT__RL_PERIOD_NS, &count), 1);
  CHECK_EQ(count, 1);
  /* another source is not held back by the first */
  CHECK_EQ(spot__ratelimit_take(&rl, "10.0.0.2", t + 3), 1);
}

/* A stranger with a new key or address for every attempt: the shared bucket bounds them all. */
static void test_many_sources(void) {
  spot__ratelimit_t rl;
  uint64_t t = 0;
  spot__ratelimit_init(&rl, t);
  unsigned ok = 0;
  char name[32];
  for (int i = 0; i < 5000; i++) {
    snprintf(name, sizeof name, "key%d", i);
    ok += (unsigned)spot__ratelimit_take(&rl, name, t);
  }
  CHECK_EQ(ok, SPOT__RL_ALL_BURST);
  /* 60 s of one new source per millisecond: the burst has gone, one per ALL_EVERY remains */
  ok = 0;
  for (int i = 1; i <= 60000; i++) {
    snprintf(name, sizeof name, "other%d", i);
    ok += (unsigned)spot__ratelimit_take(&rl, name, t + (uint64_t)i * (SEC / 1000));
  }
  CHECK_EQ(ok, 60 * SEC / SPOT__RL_ALL_EVERY_NS);
  /* a long quiet time refills the shared bucket to its burst, no more */
  t += 3600 * SEC;
  ok = 0;
  for (int i = 0; i < 100; i++) {
    snprintf(name, sizeof name, "late%d", i);
    ok += (unsigned)spot__ratelimit_take(&rl, name, t);
  }
  CHECK_EQ(ok, SPOT__RL_ALL_BURST);
  uint64_t count;
  CHECK_EQ(spot__ratelimit_report(&rl, t, &count), 1);
  CHECK_EQ(count, 5000 - SPOT__RL_ALL_BURST + 60000 - 60 + 100 - SPOT__RL_ALL_BURST);
}

/* A clock that does not move forward (or a late caller with an older time) never underflows the credit. */
static void test_time_never_backwards(void) {
  spot__ratelimit_t rl;
  spot__ratelimit_init(&rl, 100 * SEC);
  unsigned ok = 0;
  for (int i = 0; i < 100; i++)
    ok += (unsigned)spot__ratelimit_take(&rl, "a", 100 * SEC - (uint64_t)i * SEC);
  CHECK_EQ(ok, SPOT__RL_SOURCE_BURST);
  uint64_t count;
  CHECK_EQ(spot__ratelimit_report(&rl, 0, &count), 0);
}

static const spot_test_t tests[] = {
    {"one_source", test_one_source},
    {"many_sources", test_many_sources},
    {"time_never_backwards", test_time_never_backwards},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
