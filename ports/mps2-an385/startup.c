/*
 * startup.c: reset and exceptions of the mps2-an385 firmware. The vector table's first words are the initial stack
 * pointer and the reset handler; reset copies .data and .tdata from flash, zeroes .bss and .tbss, starts the tick,
 * runs the constructors (SPOT_HANDLER registers its handler from one) and calls main. A fault ends the program
 * with status 3 through semihosting, so a test sees it at once instead of a hang. It also holds the board's unique
 * id cell (board.h), which reset leaves alone.
 */
#include <stdint.h>
#include <string.h>

#include "board.h"

extern uint32_t __spot_stack_top[];
extern uint8_t __spot_data_start[], __spot_data_end[], __spot_data_load[], __spot_bss_start[], __spot_bss_end[];
extern void (*__spot_init_array_start[])(void);
extern void (*__spot_init_array_end[])(void);

int main(void);

__attribute__((noreturn)) void spot__reset(void);

static void fault(void) {
  spot__bm_printf("firmware: fault (exception %lu)\n", (unsigned long)(*(volatile uint32_t *)0xE000ED04u & 0x1ffu));
  spot__bm_exit(3);
}

#define AIRCR (*(volatile uint32_t *)0xE000ED0Cu)

void spot__mps2_reset(void) {
  __asm__ volatile("dsb" ::: "memory");
  AIRCR = (0x5FAu << 16) | (1u << 2); /* VECTKEY, SYSRESETREQ */
  __asm__ volatile("dsb" ::: "memory");
  for (;;)
    ;
}

__attribute__((section(".isr_vector"), used)) static void (*const vectors[17])(void) = {
    (void (*)(void))(uintptr_t)__spot_stack_top,
    spot__reset,
    fault, /* NMI */
    fault, /* HardFault */
    fault, /* MemManage */
    fault, /* BusFault */
    fault, /* UsageFault */
    0, 0, 0, 0,
    fault, /* SVCall */
    fault, /* DebugMon */
    0,
    fault, /* PendSV */
    spot__bm_systick,
    spot__mps2_uart0_rx_irq, /* IRQ 0: UART0 receive */
};

/* 16 bytes at SPOT__MPS2_UID_ADDR (the linker script places .uid there): the id QEMU's loader device writes. */
__attribute__((section(".uid"), used)) volatile uint64_t spot__mps2_uid_cell[2];

uint64_t spot__mps2_uid(void) { return spot__mps2_uid_cell[0]; }

void spot__reset(void) {
  memcpy(__spot_data_start, __spot_data_load, (size_t)(__spot_data_end - __spot_data_start));
  memset(__spot_bss_start, 0, (size_t)(__spot_bss_end - __spot_bss_start));
  spot__bm_tick_start();
  for (void (**f)(void) = __spot_init_array_start; f < __spot_init_array_end; f++)
    (*f)();
  spot__bm_exit(main());
}
