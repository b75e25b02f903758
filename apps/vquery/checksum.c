/*
 * apps/vquery/checksum.c: CRC32C (Castagnoli polynomial, reflected), table-driven, for the library file's header and
 * payload checksums. spot's own CRC32C is internal to the platform, so the application carries this small one.
 */
#include <pthread.h>

#include "library.h"

static uint32_t table[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void make_table(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++)
      c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    table[i] = c;
  }
}

uint32_t vq_crc32c(uint32_t crc, const void *buf, size_t n) {
  pthread_once(&once, make_table);
  const unsigned char *p = buf;
  crc = ~crc;
  while (n--)
    crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}
