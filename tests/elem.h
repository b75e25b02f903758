/*
 * tests/elem.h: the self-checking elements the store's concurrency and crash tests append (header only).
 *
 * An element is a header {magic, writer, counter, tag, len, sum} and then filler derived from it, zero-padded to
 * the log's element size. Rebuilding it from (writer, counter, tag) and comparing bytes shows whether what a log
 * returns is exactly what was appended, padding included; sum (fnv1a over the len bytes, with sum itself zero)
 * catches damage without knowing which element to expect. Each test passes its own magic.
 */
#ifndef SPOT_TEST_ELEM_H
#define SPOT_TEST_ELEM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ELEM_HDR 32u

typedef struct elem_hdr {
  uint32_t magic;
  uint32_t writer;
  uint64_t counter;
  uint64_t tag;
  uint32_t len; /* bytes written by the append; the rest up to elem_size must read as zeros */
  uint32_t sum; /* fnv1a of the len bytes with this field zero */
} elem_hdr_t;
_Static_assert(sizeof(elem_hdr_t) == ELEM_HDR, "element header size");

static inline uint32_t fnv1a(const uint8_t *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 16777619u;
  return h;
}

static inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

/* Writes the element of (writer, counter, tag) into buf (elem_size >= ELEM_HDR bytes, zero-padded); returns its
 * length. */
static inline size_t elem_make(uint8_t *buf, uint32_t elem_size, uint32_t magic, uint32_t writer, uint64_t counter,
                               uint64_t tag) {
  uint64_t r = mix64(((uint64_t)writer << 40) ^ counter ^ (tag << 56));
  size_t len = ELEM_HDR + (size_t)(r % (elem_size - ELEM_HDR + 1));
  memset(buf, 0, elem_size);
  elem_hdr_t h = {magic, writer, counter, tag, (uint32_t)len, 0};
  memcpy(buf, &h, sizeof h);
  for (size_t i = ELEM_HDR; i < len; i++) {
    if ((i & 7) == 0)
      r = mix64(r + i);
    buf[i] = (uint8_t)(r >> ((i & 7) * 8));
  }
  h.sum = fnv1a(buf, len);
  memcpy(buf, &h, sizeof h);
  return len;
}

#endif
