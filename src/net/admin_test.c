/*
 * admin_test.c: the bytes a remote check's result travels as (net/admin.c): a result decodes to itself field by
 * field; every shorter or longer buffer, a positive status and a detail length past the end are refused with
 * SPOT_ECORRUPT; control bytes in the detail never reach the caller; an encode into too small a buffer is refused.
 */
#include <string.h>

#include "net/net_impl.h"
#include "spot.h"
#include "support.h"
#include "test.h"

static spot_check_result_t sample(void) {
  spot_check_result_t c;
  memset(&c, 0, sizeof c);
  c.opened = (spot_log_report_t){.latest = 10, .earliest = 1, .valid_slots = 9, .torn_slots = 2, .dropped = 3,
                                 .damaged = 1, .damaged_seq = 10, .lost = 4, .lost_seq = 5, .marked = 6,
                                 .bad_marks = 7, .bad_mark_seq = 8, .power_loss = 1, .repaired = 1, .scanned_all = 1};
  c.verified = (spot_log_report_t){.latest = UINT64_MAX, .earliest = UINT64_MAX - 1, .valid_slots = 1, .lost = 2};
  c.status = SPOT_ECORRUPT;
  snprintf(c.detail, sizeof c.detail, "log x: element 10 is damaged; run `spot check LOG --fix`");
  return c;
}

static void test_roundtrip(void) {
  spot_check_result_t c = sample(), d;
  uint8_t buf[1024];
  uint32_t len;
  CHECK_OK(spot__net_check_encode(&c, buf, sizeof buf, &len));
  CHECK_OK(spot__net_check_decode(buf, len, &d));
  CHECK(memcmp(&c.opened, &d.opened, sizeof c.opened) == 0);
  CHECK(memcmp(&c.verified, &d.verified, sizeof c.verified) == 0);
  CHECK_EQ(d.status, SPOT_ECORRUPT);
  CHECK(strcmp(c.detail, d.detail) == 0);
  c.status = 0; /* a sound log: no detail */
  c.detail[0] = '\0';
  CHECK_OK(spot__net_check_encode(&c, buf, sizeof buf, &len));
  CHECK_OK(spot__net_check_decode(buf, len, &d));
  CHECK_EQ(d.status, 0);
  CHECK_EQ(d.detail[0], '\0');
}

static void test_malformed(void) {
  spot_check_result_t c = sample(), d;
  d.status = 12345; /* never written on failure */
  uint8_t buf[1024];
  uint32_t len;
  CHECK_RC(spot__net_check_encode(&c, buf, 20, &len), SPOT_ERANGE);
  CHECK_OK(spot__net_check_encode(&c, buf, sizeof buf, &len));
  for (uint32_t n = 0; n < len; n++)
    CHECK_RC(spot__net_check_decode(buf, n, &d), SPOT_ECORRUPT);
  CHECK_RC(spot__net_check_decode(buf, len + 1, &d), SPOT_ECORRUPT);
  buf[0] = 1, buf[1] = buf[2] = buf[3] = 0; /* status 1 */
  CHECK_RC(spot__net_check_decode(buf, len, &d), SPOT_ECORRUPT);
  CHECK_EQ(d.status, 12345);
  CHECK_OK(spot__net_check_encode(&c, buf, sizeof buf, &len));
  buf[4] = 0xff, buf[5] = 0xff; /* a detail longer than the buffer */
  CHECK_RC(spot__net_check_decode(buf, len, &d), SPOT_ECORRUPT);
  CHECK_OK(spot__net_check_encode(&c, buf, sizeof buf, &len));
  buf[6] = '\n'; /* a control byte in the detail */
  CHECK_OK(spot__net_check_decode(buf, len, &d));
  CHECK(strchr(d.detail, '\n') == NULL && d.detail[0] == '?');
}

static const spot_test_t tests[] = {
    {"roundtrip", test_roundtrip},
    {"malformed", test_malformed},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
