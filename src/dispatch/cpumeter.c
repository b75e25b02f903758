/*
 * cpumeter.c: the CPU time charged to a handler run, with at most one read of the thread CPU clock per long run or
 * per SPOT__CPU_REFRESH_NS of a busy thread (dispatch/cpumeter.h has the method and its error bound).
 */
#include "dispatch/cpumeter.h"

#include "platform/platform.h"

static void reading(spot__cpumeter_t *m, uint64_t now, uint64_t cpu) {
  m->cpu_base = cpu;
  m->mono_base = now;
  m->have = 1;
  m->due = 0;
}

void spot__cpumeter_begin(spot__cpumeter_t *m, uint64_t t0, spot__cpu_clock_fn cpu_clock) {
  if (!m->have)
    reading(m, t0, cpu_clock());
}

uint64_t spot__cpumeter_end(spot__cpumeter_t *m, uint64_t t0, uint64_t t1, spot__cpu_clock_fn cpu_clock) {
  uint64_t wall = t1 > t0 ? t1 - t0 : 0;
  if (wall < SPOT__CPU_SHORT_NS) {
    if (!m->have || t1 - m->mono_base >= SPOT__CPU_REFRESH_NS)
      m->due = 1;
    return wall;
  }
  uint64_t cpu = cpu_clock();
  uint64_t charge = wall;
  if (m->have && cpu != 0 && cpu >= m->cpu_base && cpu - m->cpu_base < wall)
    charge = cpu - m->cpu_base;
  reading(m, t1, cpu);
  return charge;
}

void spot__cpumeter_settle(spot__cpumeter_t *m, uint64_t now, spot__cpu_clock_fn cpu_clock) {
  if (m->due)
    reading(m, now, cpu_clock());
}

static _Thread_local spot__cpumeter_t self;

uint64_t spot__cpumeter_start(void) {
  uint64_t t0 = spot__now_ns();
  if (!self.have) {
    spot__cpumeter_begin(&self, t0, spot__thread_cpu_ns);
    t0 = spot__now_ns(); /* the reading is not the run's */
  }
  return t0;
}

uint64_t spot__cpumeter_stop(uint64_t t0) { return spot__cpumeter_end(&self, t0, spot__now_ns(), spot__thread_cpu_ns); }

void spot__cpumeter_settle_self(void) {
  if (self.due)
    spot__cpumeter_settle(&self, spot__now_ns(), spot__thread_cpu_ns);
}
