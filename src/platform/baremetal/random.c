/*
 * random.c: spot__random without an entropy source: xorshift64* seeded, at first use, from the tick counter and a
 * per-call counter. Good enough to tell the nodes of one link apart; never use it for keys (the device has none:
 * its edge holds the link's trust).
 */
#include <stdint.h>
#include <string.h>

#include "platform/baremetal/baremetal.h"

static uint64_t state;

void spot__random(void *buf, size_t n) {
  if (state == 0)
    state = (spot__now_ns() ^ 0x9E3779B97F4A7C15ull) | 1u;
  uint8_t *p = buf;
  while (n > 0) {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    uint64_t v = state * 0x2545F4914F6CDD1Dull;
    size_t k = n < 8 ? n : 8;
    memcpy(p, &v, k);
    p += k;
    n -= k;
  }
}
