/*
 * dispatch/cpumeter.h: the CPU time charged to a handler run (its end/fail event's cpu_ns, and so its energy),
 * without two reads of the thread CPU clock per run. On some kernels (this project's VM among them) that clock is a
 * real system call of about 7 us, where the monotonic clock is a vDSO read of tens of ns: reading it around every
 * run halved sustained thread-mode runs/s.
 *
 * The method (docs/DESIGN.md, "CPU time of a run"): every run is timed with the monotonic clock (t0, t1).
 * - A run shorter than SPOT__CPU_SHORT_NS is charged its wall time t1 - t0. A thread's CPU time over an interval
 *   never exceeds the interval, so this never undercharges; it overcharges by the time the thread spent off the
 *   CPU during the run (preempted or blocked), which is less than SPOT__CPU_SHORT_NS.
 * - A longer run reads the thread CPU clock once, at its end, and is charged min(t1 - t0, cpu(t1) - base), where
 *   base is the thread's previous reading. Both are upper bounds of the run's CPU time. base is kept recent: after a
 *   run that ends SPOT__CPU_REFRESH_NS or more after the last reading, the clock is read again (at most one read per
 *   SPOT__CPU_REFRESH_NS of a busy thread). So cpu(t1) - base exceeds the run's CPU time by at most the CPU the
 *   thread used in the SPOT__CPU_REFRESH_NS before the previous run ended, plus the dispatch work between the two
 *   runs; time blocked waiting for work costs no CPU and adds nothing.
 * - A thread's first run reads the clock before it starts, so it has a base.
 * The charge is therefore never below the run's CPU time, and above it by less than SPOT__CPU_SHORT_NS for a short
 * run and by less than min(its off-CPU time, SPOT__CPU_REFRESH_NS + the dispatch work of one run) for a long one.
 *
 * The state is per thread (the clock it reads is the calling thread's). The functions taking a spot__cpumeter_t
 * are pure but for the clock function they are given, for tests with a synthetic clock; spot__cpumeter_start and
 * _stop use the calling thread's own state and the real clocks (platform.h).
 */
#ifndef SPOT_DISPATCH_CPUMETER_H
#define SPOT_DISPATCH_CPUMETER_H

#include <stdint.h>

#define SPOT__CPU_SHORT_NS 50000u     /* runs shorter than this are charged their wall time */
#define SPOT__CPU_REFRESH_NS 1000000u /* the CPU clock base of a busy thread is at most this old (monotonic) */

typedef struct spot__cpumeter {
  uint64_t cpu_base;  /* the thread's CPU clock at its last reading (ns) */
  uint64_t mono_base; /* the monotonic clock at that reading */
  int have;           /* 0 until the first reading */
  int due;            /* a reading is due (spot__cpumeter_settle) */
} spot__cpumeter_t;

typedef uint64_t (*spot__cpu_clock_fn)(void);

/* Before a run that starts at monotonic t0: the thread's first run reads cpu_clock for its base. */
void spot__cpumeter_begin(spot__cpumeter_t *m, uint64_t t0, spot__cpu_clock_fn cpu_clock);
/* After the run [t0, t1]: the CPU time to charge it (ns, as above). A long run reads cpu_clock; a short one may
 * leave a reading due, for spot__cpumeter_settle. A clock that reads 0 (unreadable) or less than the base (a new
 * thread clock, as in a forked process) charges the wall time, which is still an upper bound, and resets the base. */
uint64_t spot__cpumeter_end(spot__cpumeter_t *m, uint64_t t0, uint64_t t1, spot__cpu_clock_fn cpu_clock);
/* Takes a reading that spot__cpumeter_end left due (at monotonic now); nothing otherwise. Called once the run's end
 * event is written, so the reading does not delay it. */
void spot__cpumeter_settle(spot__cpumeter_t *m, uint64_t now, spot__cpu_clock_fn cpu_clock);

/* The same on the calling thread's own meter with the real clocks. _start returns t0 for _stop; _stop returns the
 * run's charge; _settle after the end event. */
uint64_t spot__cpumeter_start(void);
uint64_t spot__cpumeter_stop(uint64_t t0);
void spot__cpumeter_settle_self(void);

#endif
