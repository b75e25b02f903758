/*
 * crc32c.c: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78).
 *
 * The portable path is slicing-by-8 over tables built on first use; on x86-64 CPUs with SSE4.2 the crc32
 * instruction does 8 bytes per step. Both give the same value, which crc32c_test.c checks on random buffers.
 * A build for a small RAM (the Cortex-M firmware, ports/) defines SPOT__CRC32C_SMALL: a 16-entry table in
 * read-only memory, two lookups per byte, instead of 8 KiB of tables in RAM; the same values again (the firmware's
 * self-test checks them against the host's).
 */
#include "core/crc32c.h"

#include <string.h>

#define POLY 0x82F63B78u

#if defined(SPOT__CRC32C_SMALL)
/* crc of each 4-bit value: table[i] = crc32c step of nibble i (reflected) */
static const uint32_t nibble[16] = {
    0x00000000u, 0x105EC76Fu, 0x20BD8EDEu, 0x30E349B1u, 0x417B1DBCu, 0x5125DAD3u, 0x61C69362u, 0x7198540Du,
    0x82F63B78u, 0x92A8FC17u, 0xA24BB5A6u, 0xB21572C9u, 0xC38D26C4u, 0xD3D3E1ABu, 0xE330A81Au, 0xF36E6F75u};

uint32_t spot__crc32c_portable(uint32_t crc, const void *p, size_t n) {
  const unsigned char *b = p;
  crc = ~crc;
  while (n--) {
    crc ^= *b++;
    crc = (crc >> 4) ^ nibble[crc & 15];
    crc = (crc >> 4) ^ nibble[crc & 15];
  }
  return ~crc;
}
#else
static uint32_t table[8][256];
static int table_ready;

static void build_table(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++)
      c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
    table[0][i] = c;
  }
  for (uint32_t i = 0; i < 256; i++)
    for (int t = 1; t < 8; t++)
      table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
  __atomic_store_n(&table_ready, 1, __ATOMIC_RELEASE);
}

uint32_t spot__crc32c_portable(uint32_t crc, const void *p, size_t n) {
  const unsigned char *b = p;
  if (!__atomic_load_n(&table_ready, __ATOMIC_ACQUIRE))
    build_table(); /* idempotent: concurrent first callers compute the same tables */
  crc = ~crc;
  while (n >= 8) {
    uint32_t lo = crc ^ ((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
    uint32_t hi = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
    crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
          table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^ table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
    b += 8;
    n -= 8;
  }
  while (n--)
    crc = (crc >> 8) ^ table[0][(crc ^ *b++) & 0xff];
  return ~crc;
}
#endif

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const void *p, size_t n) {
  const unsigned char *b = p;
  uint64_t c = ~crc;
  while (n >= 8) {
    uint64_t v;
    memcpy(&v, b, 8);
    c = __builtin_ia32_crc32di(c, v);
    b += 8;
    n -= 8;
  }
  uint32_t c32 = (uint32_t)c;
  while (n--)
    c32 = __builtin_ia32_crc32qi(c32, *b++);
  return ~c32;
}

uint32_t spot__crc32c(uint32_t crc, const void *p, size_t n) {
  static int have_sse42 = -1;
  int h = __atomic_load_n(&have_sse42, __ATOMIC_RELAXED);
  if (h < 0) {
    __builtin_cpu_init();
    h = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    __atomic_store_n(&have_sse42, h, __ATOMIC_RELAXED);
  }
  return h ? crc32c_sse42(crc, p, n) : spot__crc32c_portable(crc, p, n);
}
#else
uint32_t spot__crc32c(uint32_t crc, const void *p, size_t n) { return spot__crc32c_portable(crc, p, n); }
#endif
