/*
 * bridge_route_test.c: the text of bridge routes and carried causes (src/bridge/route.c), and the durable position
 * of an outbound bridge (position.c): routes in both directions with and without a handler, every malformed route
 * refused with a detail line and *out untouched, causes parsed strictly, and a saved position read back after the
 * position is closed and reopened.
 */
#include <string.h>

#include "bridge/bridge.h"
#include "support.h"
#include "test.h"

static void test_routes(void) {
  spot_bridge_route_t r;
  CHECK_OK(spot_bridge_route_parse("temp<-dev/+/temp:count", &r));
  CHECK(r.way == SPOT_BRIDGE_IN);
  CHECK(strcmp(r.log, "temp") == 0 && strcmp(r.topic, "dev/+/temp") == 0 && strcmp(r.handler, "count") == 0);
  CHECK_OK(spot_bridge_route_parse("temp<-dev/#", &r));
  CHECK(r.way == SPOT_BRIDGE_IN && strcmp(r.topic, "dev/#") == 0 && r.handler[0] == '\0');
  CHECK_OK(spot_bridge_route_parse("out->site/1/out", &r));
  CHECK(r.way == SPOT_BRIDGE_OUT && strcmp(r.log, "out") == 0 && strcmp(r.topic, "site/1/out") == 0);
  CHECK_OK(spot_bridge_route_parse("a<-x:y:h", &r)); /* the last ':' names the handler */
  CHECK(strcmp(r.topic, "x:y") == 0 && strcmp(r.handler, "h") == 0);
  CHECK_OK(spot_bridge_route_parse("a<-x:y/z", &r)); /* not a name after ':': part of the topic */
  CHECK(strcmp(r.topic, "x:y/z") == 0 && r.handler[0] == '\0');
}

static void test_bad_routes(void) {
  const char *bad[] = {"temp", "<-topic", "../x<-t", "a->", "a<-", "a->dev/+/x", "a->dev/#", "a<-t\x01", NULL};
  for (int i = 0; bad[i]; i++) {
    spot_bridge_route_t r;
    memset(&r, 0x5a, sizeof r);
    int rc = spot_bridge_route_parse(bad[i], &r);
    if (rc == 0)
      fprintf(stderr, "  route '%s' was taken\n", bad[i]);
    CHECK(rc == SPOT_EINVAL || rc == SPOT_EBADNAME);
    CHECK(spot_errdetail()[0] != '\0');
    CHECK(((unsigned char *)&r)[0] == 0x5a); /* untouched */
  }
}

static void test_causes(void) {
  spot_cause_t c = {7, 7};
  CHECK_OK(spot_bridge_cause_parse("00000000000000ab", "42", &c));
  CHECK(c.node == 0xab && c.event == 42);
  CHECK_RC(spot_bridge_cause_parse("zz", "1", &c), SPOT_EINVAL);
  CHECK_RC(spot_bridge_cause_parse("ab", "-1", &c), SPOT_EINVAL);
  CHECK_RC(spot_bridge_cause_parse("ab", "", &c), SPOT_EINVAL);
  CHECK_RC(spot_bridge_cause_parse("00000000000000abc", "1", &c), SPOT_EINVAL);
  CHECK(c.node == 0xab && c.event == 42);
}

static void test_position(void) {
  const char *dir = spot_test_dir("bridge-pos");
  CHECK_OK(spot_ns_init(dir));
  spot_bridge_pos_t *p;
  uint64_t pos = 99;
  CHECK_OK(spot_bridge_pos_open(dir, "mqtt", "a", "site/out", &p, &pos));
  CHECK_EQ(pos, 0);
  CHECK_OK(spot_bridge_pos_save(p, 5));
  CHECK_OK(spot_bridge_pos_save(p, 1000000000123ull));
  spot_bridge_pos_close(p);
  CHECK_OK(spot_bridge_pos_open(dir, "mqtt", "a", "site/out", &p, &pos));
  CHECK_EQ(pos, 1000000000123ull);
  spot_bridge_pos_close(p);
  CHECK_OK(spot_bridge_pos_open(dir, "mqtt", "a", "site/other", &p, &pos)); /* another target: its own */
  CHECK_EQ(pos, 0);
  spot_bridge_pos_close(p);
  CHECK_RC(spot_bridge_pos_open(dir, "mqtt", "../a", "t", &p, &pos), SPOT_EBADNAME);
}

static const spot_test_t tests[] = {{"routes", test_routes},
                                    {"bad_routes", test_bad_routes},
                                    {"causes", test_causes},
                                    {"position", test_position},
                                    {NULL, NULL}};
SPOT_TEST_MAIN(tests)
