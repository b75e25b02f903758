/*
 * logfmt_test.c: the header check refuses geometry beyond the log format's own limits (core/logfmt.h). That these
 * limits equal the public API's (spot/log.h) is checked at compile time where both are seen, in src/store/log.c.
 */
#include <string.h>

#include "core/logfmt.h"
#include "test.h"

/* A valid header for elem_size and history, with its checksum. */
static void header(spot__loghdr_t *h, uint32_t elem_size, uint64_t history, uint32_t sync) {
  memset(h, 0, sizeof *h);
  memcpy(h->magic, SPOT__LOG_MAGIC, 8);
  h->version = SPOT__LOG_VERSION;
  h->header_bytes = SPOT__HDR_BYTES;
  h->elem_size = elem_size;
  h->slot_bytes = spot__slot_bytes(elem_size);
  h->history = history;
  h->sync_mode = sync;
  h->hdr_crc = spot__hdr_crc(h);
}

static void test_limits(void) {
  static spot__loghdr_t h;
  header(&h, SPOT__ELEM_MAX, 1, SPOT__SYNC_MODE_MAX);
  CHECK_OK(spot__hdr_check(&h, SPOT__HDR_BYTES + h.slot_bytes, "x.log"));
  header(&h, SPOT__ELEM_MAX + 1, 1, 0);
  CHECK_RC(spot__hdr_check(&h, SPOT__HDR_BYTES + h.slot_bytes, "x.log"), SPOT_ECORRUPT);
  header(&h, 16, 1, SPOT__SYNC_MODE_MAX + 1);
  CHECK_RC(spot__hdr_check(&h, SPOT__HDR_BYTES + h.slot_bytes, "x.log"), SPOT_ECORRUPT);
  header(&h, 16, (SPOT__LOG_BYTES_MAX - SPOT__HDR_BYTES) / spot__slot_bytes(16) + 1, 0);
  CHECK_RC(spot__hdr_check(&h, UINT64_MAX, "x.log"), SPOT_ECORRUPT);
  header(&h, 16, 4, 1);
  CHECK_RC(spot__hdr_check(&h, SPOT__HDR_BYTES + 3 * h.slot_bytes, "x.log"), SPOT_ECORRUPT); /* truncated */
  CHECK_OK(spot__hdr_check(&h, SPOT__HDR_BYTES + 4 * h.slot_bytes, "x.log"));
}

static const spot_test_t tests[] = {
    {"limits", test_limits},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
