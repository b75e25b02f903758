/*
 * spotdev.c: the device firmware. A spot node on the microcontroller: its logs in the retained arena, the
 * handlers linked in with spot_add_firmware_handler (CMakeLists.txt: examples/frost, examples/hello and
 * examples/uplink, the same sources the host builds), served over UART0 to an edge node (`spotd --serial NAME=PATH`). At the first start it
 * creates the logs the example handlers use; after a reset it keeps them and runs again what was pending. Between
 * requests it runs queued handlers, and sleeps (wfi) until a byte or the tick arrives. Handlers' spot_print lines
 * go to the semihosting console.
 */
#include <stdint.h>

#include "board.h"
#include "core/error.h"
#include "device/device.h"
#include "device/link.h"

/* The logs a fresh device gets (the edge may create more with CREATE). Element sizes fit examples/frost's
 * records (frost.h: 24 bytes) and short greetings. */
static const struct {
  const char *name;
  uint32_t elem_size, history;
} logs[] = {{"temperature", 24, 24}, {"frost_alerts", 24, 8}, {"greetings", 32, 8},
             {"outgoing", 32, 8}, {"uplink_to", 64, 2}}; /* examples/uplink: what to send up, and where */

int main(void) {
  spot__dev_set_console(spot__bm_console);
  /* the node id comes from the board's unique id (0: from the clock) when the arena is first formatted */
  if (spot__dev_start(spot__mps2_arena, SPOT__MPS2_ARENA_BYTES, 8, spot__mps2_uid()) != 0) {
    spot__bm_printf("spotdev: %s\n", spot_errdetail());
    return 1;
  }
  for (unsigned i = 0; i < sizeof logs / sizeof logs[0]; i++) {
    int rc = spot__dev_create(logs[i].name, logs[i].elem_size, logs[i].history);
    if (rc != 0 && rc != SPOT_EEXIST)
      spot__bm_printf("spotdev: cannot create log %s: %s\n", logs[i].name, spot_errdetail());
  }
  const spot__dev_stats_t *st = spot__dev_stats();
  spot__bm_printf("spotdev: node %08lx%08lx boot %lu: %lu elements kept, %lu torn, %lu runs to redo\n",
                  (unsigned long)(spot__dev_node() >> 32), (unsigned long)spot__dev_node(), (unsigned long)st->boots,
                  (unsigned long)st->recovered, (unsigned long)st->torn, (unsigned long)st->rerun);
  spot__mps2_uart0_rx_irq_enable();
  spot__dev_link_start(spot__mps2_uart0.get, spot__mps2_uart0.put);
  for (;;) {
    spot__dev_link_poll();
    if (spot__dev_run_pending(1) > 0)
      continue; /* one run at a time: requests are answered between runs */
    __asm__ volatile("cpsid i" ::: "memory");
    if (!spot__mps2_uart0_waiting() && spot__dev_pending() == 0)
      __asm__ volatile("wfi"); /* a pending interrupt wakes it even while masked */
    __asm__ volatile("cpsie i" ::: "memory");
  }
}
