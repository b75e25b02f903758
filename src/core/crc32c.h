/*
 * core/crc32c.h: CRC-32C (Castagnoli), the checksum of every log slot.
 *
 * Portable table-driven code, with the x86-64 SSE4.2 crc32 instruction used when the CPU has it (checked once at
 * run time). Same results everywhere; check value: crc32c("123456789") == 0xE3069283.
 */
#ifndef SPOT_CORE_CRC32C_H
#define SPOT_CORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends crc (0 to start) over n bytes at p and returns the new value. p may be NULL only when n == 0. */
uint32_t spot__crc32c(uint32_t crc, const void *p, size_t n);

/* The portable implementation alone, for tests that compare it with the accelerated one. */
uint32_t spot__crc32c_portable(uint32_t crc, const void *p, size_t n);

#endif
