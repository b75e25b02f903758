/*
 * cpumeter_test.c: the CPU time charged to a run (dispatch/cpumeter.h) with a synthetic thread CPU clock: a short
 * run is charged its wall time without a clock read; a long busy run is charged its CPU time plus no more than the
 * work since the last reading; a long run that sleeps is charged its CPU time, not its wall time; a busy thread of
 * short runs reads the clock at most once per refresh period; an unreadable or restarted clock charges the wall time;
 * the charge is never below the CPU time the synthetic thread used in the run.
 */
#include <stdio.h>
#include <string.h>

#include "dispatch/cpumeter.h"
#include "test.h"

#define US 1000ull

static uint64_t fake_cpu; /* the synthetic thread's CPU clock */
static unsigned reads;

static uint64_t clock_read(void) {
  reads++;
  return fake_cpu;
}

/* The synthetic thread: now is its monotonic clock; busy advances both clocks, block only the monotonic one. */
static uint64_t now;
static void busy(uint64_t ns) { now += ns, fake_cpu += ns; }
static void block(uint64_t ns) { now += ns; }

static void reset(spot__cpumeter_t *m) {
  memset(m, 0, sizeof *m);
  fake_cpu = 5 * US, now = 1000000 * US, reads = 0;
}

/* One run: dispatch work before it (o ns of CPU), then a body; returns its charge; *cpu_out its true CPU time. */
static uint64_t run(spot__cpumeter_t *m, uint64_t o, uint64_t busy_ns, uint64_t block_ns, uint64_t *cpu_out) {
  busy(o);
  uint64_t t0 = now;
  spot__cpumeter_begin(m, t0, clock_read);
  uint64_t c0 = fake_cpu;
  busy(busy_ns / 2);
  block(block_ns);
  busy(busy_ns - busy_ns / 2);
  uint64_t charge = spot__cpumeter_end(m, t0, now, clock_read);
  *cpu_out = fake_cpu - c0;
  busy(o); /* the end event */
  spot__cpumeter_settle(m, now, clock_read);
  return charge;
}

static void test_first_run_reads_base(void) {
  spot__cpumeter_t m;
  reset(&m);
  uint64_t cpu;
  /* a thread's first run sleeps 100 ms after 1 ms of work: charged about its CPU time, not its wall time */
  uint64_t c = run(&m, 0, 1000 * US, 100000 * US, &cpu);
  CHECK(c >= cpu && c <= cpu + 1 * US);
  CHECK_EQ(reads, 2); /* the base, and the end of the long run */
}

static void test_short_runs(void) {
  spot__cpumeter_t m;
  reset(&m);
  uint64_t cpu;
  run(&m, 0, 1 * US, 0, &cpu);
  unsigned before = reads;
  uint64_t start = now;
  /* 10,000 runs of 2 us with 1 us of dispatch work before and after each, 40 ms: a reading per refresh period */
  for (int i = 0; i < 10000; i++) {
    uint64_t c = run(&m, 1 * US, 2 * US, 0, &cpu);
    CHECK_EQ(c, cpu); /* never preempted here: wall = CPU */
  }
  unsigned per_period = (unsigned)((now - start) / SPOT__CPU_REFRESH_NS) + 1;
  CHECK(reads - before <= per_period);
  CHECK(reads - before >= per_period - 2); /* and it does refresh */
  /* a short run that blocks (a preemption) is charged its wall time: over, by less than the threshold */
  uint64_t c = run(&m, 1 * US, 2 * US, 30 * US, &cpu);
  CHECK(c >= cpu && c - cpu < SPOT__CPU_SHORT_NS);
}

static void test_long_runs(void) {
  spot__cpumeter_t m;
  reset(&m);
  uint64_t cpu;
  run(&m, 0, 1 * US, 0, &cpu);
  for (int round = 0; round < 50; round++) {
    /* short busy runs, then a long busy run, a long sleeping run, a long mostly sleeping run */
    for (int i = 0; i < 700; i++)
      run(&m, 1 * US, 3 * US, 0, &cpu);
    uint64_t o = 2 * US;
    uint64_t c = run(&m, o, 5000 * US, 0, &cpu);
    CHECK(c >= cpu && c <= cpu + SPOT__CPU_REFRESH_NS + o);
    CHECK_EQ(c, cpu); /* a long busy run: the wall time bounds it */
    c = run(&m, o, 0, 200000 * US, &cpu);
    CHECK(c >= cpu && c <= cpu + 2 * o); /* the reading after the busy run was at its end */
    c = run(&m, o, 100 * US, 20000 * US, &cpu);
    CHECK(c >= cpu && c <= cpu + 2 * o);
    /* after short runs, a long sleeper: over by at most the refresh period's CPU and the dispatch work */
    for (int i = 0; i < 300; i++)
      run(&m, 1 * US, 3 * US, 0, &cpu);
    c = run(&m, o, 10 * US, 50000 * US, &cpu);
    CHECK(c >= cpu && c <= cpu + SPOT__CPU_REFRESH_NS + 2 * o);
  }
}

static uint64_t clock_zero(void) {
  reads++;
  return 0;
}

static void test_bad_clock(void) {
  spot__cpumeter_t m;
  reset(&m);
  /* unreadable: a long run is charged its wall time */
  spot__cpumeter_begin(&m, now, clock_zero);
  uint64_t t0 = now;
  busy(10 * US);
  block(90 * US);
  CHECK_EQ(spot__cpumeter_end(&m, t0, now, clock_zero), 100 * US);
  /* a clock that went back (a forked child's new thread clock): the wall time, and a new base */
  reset(&m);
  fake_cpu = 900000 * US;
  spot__cpumeter_begin(&m, now, clock_read);
  fake_cpu = 10 * US;
  t0 = now;
  busy(60 * US);
  CHECK_EQ(spot__cpumeter_end(&m, t0, now, clock_read), 60 * US);
  CHECK_EQ(m.cpu_base, 70 * US);
}

static const spot_test_t tests[] = {{"first_run_reads_base", test_first_run_reads_base},
                                    {"short_runs", test_short_runs},
                                    {"long_runs", test_long_runs},
                                    {"bad_clock", test_bad_clock},
                                    {NULL, NULL}};
SPOT_TEST_MAIN(tests)
