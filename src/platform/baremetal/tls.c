/*
 * tls.c: thread-local storage on a single-threaded Cortex-M. The portable core keeps its error detail line per
 * thread (_Thread_local, src/core/error.c); the compiler reaches such variables through __aeabi_read_tp, which
 * returns the thread pointer. With one thread there is one TLS block, laid out by the board's linker script
 * (symbol __spot_tls_base: the start of .tdata, which the startup code initialises with .data and zeroes with
 * .bss). ARM's TLS variant 1 puts an 8-byte control block before the block, so the pointer is 8 bytes below it.
 */
#include <stdint.h>

extern char __spot_tls_base[];

__attribute__((naked)) void *__aeabi_read_tp(void) {
  /* must keep every register but r0 (the ABI's promise for this helper) */
  __asm__ volatile("ldr r0, =__spot_tls_base\n"
                   "subs r0, r0, #8\n"
                   "bx lr\n");
}
