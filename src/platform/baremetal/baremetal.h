/*
 * platform/baremetal/baremetal.h: the platform contract (platform/platform.h) for a Cortex-M without an OS, and
 * what such a port adds.
 *
 * Of platform.h a bare-metal port provides time (a millisecond tick from SysTick, refined by its counter) and
 * randomness (not cryptographic: a generator seeded from the tick, enough for node ids on one link). Files, mmap,
 * processes, threads and shared objects have no meaning without an OS: a firmware build compiles the portable
 * sources that do not need them (src/core, src/dispatch/remote.c, src/device) and nothing that calls them, so a
 * call would fail at link time, never at run time. Threads are absent by design: the device runtime is
 * single-threaded, so there are no locks either.
 *
 * A board (ports/<board>) supplies the CPU clock (spot__bm_cpu_hz), its UART and the vector table, which routes
 * SysTick to spot__bm_systick. Output that is not the link (logs, the self-test's report) goes through ARM
 * semihosting to the debugger or QEMU, and so does the program's exit status.
 */
#ifndef SPOT_PLATFORM_BAREMETAL_H
#define SPOT_PLATFORM_BAREMETAL_H

#include <stddef.h>
#include <stdint.h>

#include "platform/platform.h"

/* The core clock in Hz; defined by the board. */
extern const uint32_t spot__bm_cpu_hz;

/* Starts the SysTick at 1 kHz (spot__now_ns counts from here). */
void spot__bm_tick_start(void);
/* The SysTick interrupt: the board's vector table points at it. */
void spot__bm_systick(void);
/* Milliseconds since spot__bm_tick_start. */
uint32_t spot__bm_ms(void);

/* Writes len bytes of text to the semihosting console (QEMU: its standard output). */
void spot__bm_console(const char *text, size_t len);
/* printf to the semihosting console (at most 200 bytes a call). */
void spot__bm_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Ends the program with exit status code (semihosting SYS_EXIT_EXTENDED; QEMU exits with it). Never returns. */
__attribute__((noreturn)) void spot__bm_exit(int code);

/* A byte stream (the board's UART): get returns a byte (0..255) or -1 if none is waiting, put sends one (blocks
 * while the transmitter is full). */
typedef struct spot__bm_uart {
  int (*get)(void);
  void (*put)(uint8_t byte);
} spot__bm_uart_t;

#endif
