/*
 * event_test.c: the two event record layouts (core/event.h): version 2 keeps every field, version 1 (event logs
 * made by an older spot, and trigger queues) drops CPU time and energy and cuts the reason; each decodes only at its
 * own size, and damage is refused.
 */
#include <string.h>

#include "core/error.h"
#include "core/event.h"
#include "test.h"

static spot__event_t sample(void) {
  spot__event_t e;
  memset(&e, 0, sizeof e);
  e.type = SPOT__EV_FAIL;
  e.status = -3;
  e.node = 0x1122334455667788ull;
  e.id = 9;
  e.cause_node = 5;
  e.cause_id = 6;
  e.ref = 7;
  e.time_ns = 1000;
  e.duration_ns = 2000;
  e.seq = 44;
  e.cpu_ns = 1234567;
  e.energy_nj = 9876543210ull;
  e.handler_id = 3;
  strcpy(e.log, "temp");
  strcpy(e.handler, "frost");
  memset(e.reason, 'r', sizeof e.reason - 1); /* the longest reason: 127 bytes */
  return e;
}

static void test_v2_round_trip(void) {
  spot__event_t e = sample(), d;
  uint8_t rec[SPOT__EVENT_BYTES];
  spot__event_encode(&e, rec);
  CHECK(rec[1] == SPOT__EVENT_VERSION);
  CHECK_OK(spot__event_decode(rec, sizeof rec, &d));
  CHECK(d.cpu_ns == e.cpu_ns && d.energy_nj == e.energy_nj && d.status == -3 && d.seq == 44);
  CHECK(d.node == e.node && d.cause_node == 5 && d.cause_id == 6 && d.ref == 7 && d.handler_id == 3);
  CHECK(strcmp(d.reason, e.reason) == 0 && strlen(d.reason) == 127);
  CHECK(strcmp(d.log, "temp") == 0 && strcmp(d.handler, "frost") == 0);
  uint8_t again[SPOT__EVENT_BYTES];
  CHECK_OK(spot__event_encode_as(&d, again, sizeof again));
  CHECK(memcmp(rec, again, sizeof rec) == 0);
}

static void test_v1_layout(void) {
  spot__event_t e = sample(), d;
  uint8_t rec[SPOT__EVENT_V1_BYTES];
  CHECK_OK(spot__event_encode_as(&e, rec, sizeof rec));
  CHECK(rec[1] == 1);
  CHECK_OK(spot__event_decode(rec, sizeof rec, &d));
  CHECK(d.cpu_ns == 0 && d.energy_nj == 0); /* version 1 has no room for them */
  CHECK(strlen(d.reason) == SPOT__EVENT_V1_REASON - 1 && strncmp(d.reason, e.reason, strlen(d.reason)) == 0);
  CHECK(d.seq == 44 && d.status == -3 && strcmp(d.handler, "frost") == 0 && d.time_ns == 1000);
  /* the 80-byte head is shared: the offsets of version 1 did not move */
  uint8_t v2[SPOT__EVENT_BYTES];
  spot__event_encode(&e, v2);
  CHECK(memcmp(rec + 2, v2 + 2, 78) == 0);
}

static void test_refused(void) {
  spot__event_t e = sample(), d;
  d.seq = 1;
  uint8_t rec[SPOT__EVENT_BYTES];
  spot__event_encode(&e, rec);
  CHECK_RC(spot__event_decode(rec, SPOT__EVENT_V1_BYTES, &d), SPOT_ECORRUPT); /* a version-2 record cut short */
  CHECK_RC(spot__event_decode(rec, 300, &d), SPOT_EINVAL);
  CHECK_RC(spot__event_encode_as(&e, rec, 300), SPOT_EINVAL);
  rec[1] = 1; /* says version 1 at the size of version 2 */
  CHECK_RC(spot__event_decode(rec, sizeof rec, &d), SPOT_ECORRUPT);
  spot__event_encode(&e, rec);
  rec[0] = 5; /* no such type */
  CHECK_RC(spot__event_decode(rec, sizeof rec, &d), SPOT_ECORRUPT);
  spot__event_encode(&e, rec);
  memset(rec + 224, 'x', 128); /* an unterminated reason */
  CHECK_RC(spot__event_decode(rec, sizeof rec, &d), SPOT_ECORRUPT);
  CHECK(d.seq == 1); /* never written on failure */
}

static const spot_test_t tests[] = {
    {"v2_round_trip", test_v2_round_trip},
    {"v1_layout", test_v1_layout},
    {"refused", test_refused},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
