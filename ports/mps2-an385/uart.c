/*
 * uart.c: ARM CMSDK APB UART0 of the mps2-an385 board (0x40004000), polled. QEMU connects it to its first
 * `-serial` backend (a pty, a unix socket, a file). Its receive buffer holds one byte and QEMU stops reading the
 * backend while it is full, so nothing is lost while the firmware is busy: the sender waits.
 */
#include <stdint.h>

#include "board.h"

#define UART0 0x40004000u
#define REG(off) (*(volatile uint32_t *)(UART0 + (off)))
#define DATA 0x00u
#define STATE 0x04u /* bit 0: transmit buffer full, bit 1: receive buffer full */
#define CTRL 0x08u  /* bit 0: transmit enable, bit 1: receive enable */
#define INTSTATUS 0x0Cu /* write 1 to bit 1: acknowledge the receive interrupt */
#define BAUDDIV 0x10u
#define NVIC_ISER0 (*(volatile uint32_t *)0xE000E100u)

static int ready;

static void init(void) {
  REG(BAUDDIV) = 16u; /* the smallest divider the CMSDK UART accepts */
  REG(CTRL) = 3u;
  ready = 1;
}

static int get(void) {
  if (!ready)
    init();
  if (!(REG(STATE) & 2u))
    return -1;
  return (int)(REG(DATA) & 0xffu);
}

static void put(uint8_t byte) {
  if (!ready)
    init();
  while (REG(STATE) & 1u)
    ;
  REG(DATA) = byte;
}

const spot__bm_uart_t spot__mps2_uart0 = {get, put};

void spot__mps2_uart0_rx_irq_enable(void) {
  if (!ready)
    init();
  REG(CTRL) = 3u | 8u; /* and the receive interrupt */
  NVIC_ISER0 = 1u;     /* IRQ 0 */
}

void spot__mps2_uart0_rx_irq(void) { REG(INTSTATUS) = 2u; }

int spot__mps2_uart0_waiting(void) { return (REG(STATE) & 2u) != 0; }

__attribute__((section(".noinit"), aligned(8))) uint8_t spot__mps2_arena[SPOT__MPS2_ARENA_BYTES];
const uint32_t spot__bm_cpu_hz = 25000000u; /* the AN385 image's system clock */
