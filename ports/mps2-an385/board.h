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

/* The board's unique id, the seed of the device's node id (read once, when the arena is first formatted), or 0
 * if it has none. A real part reads its unique-id register here (an STM32's 96-bit UID at 0x1FFF7A10, an nRF52's
 * FICR DEVICEID, an RP2040's flash unique id), folded to 64 bits. The MPS2 board has no such register, so the port
 * keeps 8 bytes of RAM at SPOT__MPS2_UID_ADDR (the linker script's .uid, outside every loaded or zeroed section)
 * that QEMU fills at every reset: `-device loader,addr=0x20003ff0,data=0xID,data-len=8` (scripts/mcu.sh gives each
 * device a random ID). Without it (0) the device draws its id from its clock, which under QEMU is the same at every
 * first start: two emulated devices would share it. */
#define SPOT__MPS2_UID_ADDR 0x20003ff0u
uint64_t spot__mps2_uid(void);

/* Resets the board as a watchdog would (AIRCR.SYSRESETREQ): RAM outside the loaded image keeps its contents. */
__attribute__((noreturn)) void spot__mps2_reset(void);

#endif
