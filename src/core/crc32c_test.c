/*
 * crc32c_test.c: CRC-32C check values, the accelerated path against the portable one, and incremental use.
 */
#include <stdint.h>
#include <string.h>

#include "core/crc32c.h"
#include "test.h"

static void test_check_value(void) {
  CHECK_EQ(spot__crc32c(0, "123456789", 9), 0xE3069283u);
  CHECK_EQ(spot__crc32c_portable(0, "123456789", 9), 0xE3069283u);
  CHECK_EQ(spot__crc32c(0, NULL, 0), 0);
  uint8_t zeros[32] = {0};
  CHECK_EQ(spot__crc32c(0, zeros, 32), 0x8A9136AAu); /* RFC 3720 B.4: 32 bytes of zeros */
}

static void test_fast_matches_portable(void) {
  uint8_t buf[4099];
  uint64_t x = 88172645463325252ull;
  for (size_t i = 0; i < sizeof buf; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    buf[i] = (uint8_t)x;
  }
  for (size_t off = 0; off < 9; off++)
    for (size_t n = 0; n < 600; n += 7)
      CHECK_EQ(spot__crc32c(0, buf + off, n), spot__crc32c_portable(0, buf + off, n));
  CHECK_EQ(spot__crc32c(0, buf, sizeof buf), spot__crc32c_portable(0, buf, sizeof buf));
}

static void test_incremental(void) {
  const char *s = "the quick brown fox jumps over the lazy dog";
  size_t n = strlen(s);
  uint32_t whole = spot__crc32c(0, s, n);
  for (size_t cut = 0; cut <= n; cut++)
    CHECK_EQ(spot__crc32c(spot__crc32c(0, s, cut), s + cut, n - cut), whole);
}

static const spot_test_t tests[] = {
    {"check_value", test_check_value},
    {"fast_matches_portable", test_fast_matches_portable},
    {"incremental", test_incremental},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
