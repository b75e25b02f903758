/*
 * bench.c: the firmware half of bench_mcu. Run under `qemu-system-arm -icount shift=0`, where the virtual clock
 * advances one nanosecond per instruction, so spot__now_ns differences count instructions. Prints JSON lines on the
 * semihosting console: instructions per put without handler (the element and its put event), per put that names
 * a handler plus its run (put, start, the handler, end, unmark), and per crc32c of 64 bytes.
 */
#include <stdint.h>
#include <string.h>

#include "board.h"
#include "core/crc32c.h"
#include "device/device.h"

static int bench_nop(spot_ctx_t *ctx, const spot_event_t *ev) { return 0; }
SPOT_HANDLER(bench_nop)

#define N 200u

static void report(const char *name, uint64_t ns, unsigned n) {
  /* with -icount shift=0, 1 ns of virtual time is one instruction (the 1 kHz tick's interrupts included) */
  spot__bm_printf("{\"name\":\"%s\",\"board\":\"mps2-an385\",\"cpu\":\"cortex-m3\",\"n\":%u,"
                  "\"instructions_per_op\":%lu}\n",
                  name, n, (unsigned long)(ns / n));
}

int main(void) {
  if (spot__dev_start(spot__mps2_arena, SPOT__MPS2_ARENA_BYTES, 8, 0) != 0 || spot__dev_create("b", 24, 16) != 0)
    return 1;
  uint8_t e[24] = "a 24-byte element......";
  for (unsigned i = 0; i < 20; i++) /* warm: the rings have wrapped once */
    spot__dev_put("b", e, sizeof e, NULL, NULL, NULL);
  uint64_t t0 = spot__now_ns();
  for (unsigned i = 0; i < N; i++)
    if (spot__dev_put("b", e, sizeof e, NULL, NULL, NULL) != 0)
      return 2;
  report("mcu_put_no_handler", spot__now_ns() - t0, N);
  t0 = spot__now_ns();
  for (unsigned i = 0; i < N; i++) {
    if (spot__dev_put("b", e, sizeof e, "bench_nop", NULL, NULL) != 0)
      return 3;
    spot__dev_run_pending(0);
  }
  report("mcu_put_and_dispatch", spot__now_ns() - t0, N);
  uint8_t buf[64] = {1};
  volatile uint32_t c = 0;
  t0 = spot__now_ns();
  for (unsigned i = 0; i < N; i++)
    c += spot__crc32c(0, buf, sizeof buf);
  report("mcu_crc32c_64B", spot__now_ns() - t0, N);
  return 0;
}
