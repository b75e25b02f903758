/*
 * time.c: time on a Cortex-M without an OS (platform/platform.h): the architectural SysTick timer interrupts once
 * a millisecond, and its down-counter gives the time within the millisecond. There is no wall clock on the device:
 * spot__wall_ns is the time since the tick started (event records of a device say so by their small values).
 */
#include <stdint.h>

#include "platform/baremetal/baremetal.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

static volatile uint32_t ms;

void spot__bm_tick_start(void) {
  SYST_RVR = spot__bm_cpu_hz / 1000u - 1u;
  SYST_CVR = 0;
  SYST_CSR = 7u; /* processor clock, interrupt, enable */
}

void spot__bm_systick(void) { ms++; }

uint32_t spot__bm_ms(void) { return ms; }

uint64_t spot__now_ns(void) {
  uint32_t m, cvr;
  do { /* a tick between the two reads: read again */
    m = ms;
    cvr = SYST_CVR;
  } while (m != ms);
  uint32_t reload = SYST_RVR + 1u;
  uint64_t within = (uint64_t)(reload - 1u - cvr) * 1000000u / reload;
  return (uint64_t)m * 1000000u + within;
}

uint64_t spot__wall_ns(void) { return spot__now_ns(); }

void spot__sleep_ns(uint64_t ns) {
  uint64_t end = spot__now_ns() + ns;
  while (spot__now_ns() < end)
    __asm__ volatile("wfi");
}

/* Without an operating system one handler runs at a time on the only core: a run's CPU time is its time. */
uint64_t spot__thread_cpu_ns(void) { return spot__now_ns(); }

unsigned spot__ncpus(void) { return 1u; }

/* No RAPL on a microcontroller: the power figure is the configured one. */
int spot__rapl_uj(uint64_t *out) {
  (void)out;
  return -21; /* SPOT_ENOTSUP */
}
