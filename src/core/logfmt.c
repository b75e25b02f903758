/*
 * logfmt.c: checksums and header validation of the log file format (see core/logfmt.h).
 */
#include "core/logfmt.h"

#include <string.h>

#include "core/crc32c.h"
#include "core/error.h"

uint32_t spot__slot_crc_finish(uint32_t data_crc, uint64_t seq) {
  uint8_t b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t)(seq >> (8 * i));
  return spot__crc32c(data_crc, b, 8);
}

uint32_t spot__slot_crc(uint64_t seq, const void *data, size_t n) {
  return spot__slot_crc_finish(spot__crc32c(0, data, n), seq);
}

uint32_t spot__mark_code(uint64_t seq, uint32_t mark) {
  if (mark == 0)
    return 0;
  uint8_t b[12];
  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t)(seq >> (8 * i));
  for (int i = 0; i < 4; i++)
    b[8 + i] = (uint8_t)(mark >> (8 * i));
  return spot__crc32c(0x6d61726bu, b, sizeof b); /* any fixed seed; this one spells "mark" */
}

uint32_t spot__tomb_crc(uint64_t seq, uint32_t mark) {
  return spot__slot_crc_finish(0, seq | SPOT__SEQ_LOST) ^ spot__mark_code(seq | SPOT__SEQ_LOST, mark);
}

int spot__slot_check(uint64_t seq, uint32_t dcrc, uint32_t crc, uint32_t mark, uint32_t *good_mark) {
  if (crc == (dcrc ^ spot__mark_code(seq, mark)))
    return 1;
  /* The data fits the crc under another mark: none (a mark set by hand) or one bit away (a flipped bit). */
  uint32_t want = crc ^ dcrc;
  for (int b = -1; b < 32; b++) {
    uint32_t m = b < 0 ? 0 : mark ^ (1u << b);
    if (m != mark && spot__mark_code(seq, m) == want) {
      if (good_mark)
        *good_mark = m;
      return 2;
    }
  }
  return 0;
}

uint32_t spot__hwm_check(const spot__loghdr_t *h, uint64_t hwm) {
  uint64_t v[3] = {hwm, h->log_id, h->history};
  return spot__crc32c(0x5a17u, v, sizeof v);
}

uint32_t spot__hdr_crc(const spot__loghdr_t *h) { return spot__crc32c(0, h, offsetof(spot__loghdr_t, hdr_crc)); }

int spot__hdr_check(const spot__loghdr_t *h, uint64_t file_bytes, const char *path) {
  if (memcmp(h->magic, SPOT__LOG_MAGIC, 8) != 0)
    return spot__fail(SPOT_ECORRUPT, "%s is not a spot log (no SPOTLOG magic)", path);
  if (h->version < SPOT__LOG_VERSION_OLDEST || h->version > SPOT__LOG_VERSION)
    return spot__fail(SPOT_EVERSION,
                      "%s has log format version %u; this spot reads versions %u to %u (a newer spot wrote it: use "
                      "that one)",
                      path, (unsigned)h->version, SPOT__LOG_VERSION_OLDEST, SPOT__LOG_VERSION);
  if (spot__hdr_crc(h) != h->hdr_crc)
    return spot__fail(SPOT_ECORRUPT, "%s: the log header is damaged (checksum mismatch); it cannot be repaired", path);
  if (h->header_bytes != SPOT__HDR_BYTES || h->elem_size == 0 || h->elem_size > SPOT__ELEM_MAX ||
      h->slot_bytes != spot__slot_bytes(h->elem_size) || h->history == 0 || h->sync_mode > SPOT__SYNC_MODE_MAX ||
      h->history > (SPOT__LOG_BYTES_MAX - SPOT__HDR_BYTES) / h->slot_bytes)
    return spot__fail(SPOT_ECORRUPT, "%s: the log header has impossible geometry", path);
  uint64_t want = SPOT__HDR_BYTES + h->history * h->slot_bytes;
  if (file_bytes < want)
    return spot__fail(SPOT_ECORRUPT, "%s is truncated: %llu bytes, the header needs %llu", path,
                      (unsigned long long)file_bytes, (unsigned long long)want);
  return 0;
}
