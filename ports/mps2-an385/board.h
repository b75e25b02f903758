/*
 * board.h: what the mps2-an385 port gives the firmware programs (selftest.c, spotdev.c): the UART0 byte stream
 * and the retained arena of the device's logs.
 */
#ifndef SPOT_PORT_MPS2_BOARD_H
#define SPOT_PORT_MPS2_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "platform/baremetal/baremetal.h"

/* CMSDK APB UART0, polled: 8 data bits, no parity (QEMU ignores the baud divider). */
extern const spot__bm_uart_t spot__mps2_uart0;

/* Lets a received byte wake the core from wfi (the UART0 receive interrupt, IRQ 0); the handler only
 * acknowledges it: the main loop reads the byte. */
void spot__mps2_uart0_rx_irq_enable(void);
void spot__mps2_uart0_rx_irq(void);
/* 1 if a received byte waits in UART0. */
int spot__mps2_uart0_waiting(void);

/* Bytes of the arena that keeps the device's logs across a reset (a .noinit section). */
#define SPOT__MPS2_ARENA_BYTES 7168u
extern uint8_t spot__mps2_arena[SPOT__MPS2_ARENA_BYTES];

/* Resets the board as a watchdog would (AIRCR.SYSRESETREQ): RAM outside the loaded image keeps its contents. */
__attribute__((noreturn)) void spot__mps2_reset(void);

#endif
