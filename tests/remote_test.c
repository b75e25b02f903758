/*
 * remote_test.c: how dispatch reaches other nodes through the network's method table (src/dispatch/remote.h), in
 * both builds: with the network (SPOT_NET=ON) a remote name goes to the registered table of src/net; without it
 * (-DSPOT_NET=OFF) spot_put and the CLI refuse remote names with SPOT_ENOTSUP and a line naming the build option,
 * and spotd refuses --listen. A table registered by hand receives the put unchanged, cause included.
 */
#include <string.h>

#include "dispatch/remote.h"
#include "spot.h"
#include "support.h"
#include "test.h"

static void test_is_remote(void) {
  CHECK(spot_is_remote("spot://127.0.0.1:7000/ns/log"));
  CHECK(spot_is_remote("woof://127.0.0.1:7000/ns/log"));
  CHECK(!spot_is_remote("log"));
  CHECK(!spot_is_remote("spot:/x"));
  CHECK(!spot_is_remote(NULL));
}

/* A remote name without a port never touches a socket: the network's client refuses it (EINVAL, "no port"), a
 * build without the network refuses every remote name (ENOTSUP). Either way nothing is written locally. */
static void test_put_without_port(void) {
  const char *dir = spot_test_ns("remote_put", 16);
  CHECK(dir != NULL);
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  uint64_t seq = 99;
  int rc = spot_put(ns, "spot://127.0.0.1/ns/a", "x", 1, NULL, NULL, &seq);
  const char *detail = spot_errdetail();
#if SPOT_HAVE_NET
  CHECK_EQ(rc, SPOT_EINVAL);
  CHECK(strstr(detail, "no port") != NULL);
#else
  CHECK_EQ(rc, SPOT_ENOTSUP);
  CHECK(strstr(detail, "SPOT_NET=OFF") != NULL);
  CHECK(strstr(detail, "spot://127.0.0.1/ns/a") != NULL);
#endif
  CHECK_EQ(seq, 99); /* output parameter untouched on failure */
  CHECK_EQ(spot__remote_latest("spot://127.0.0.1/ns/a", &seq), rc);
  uint8_t buf[8];
  CHECK_EQ(spot__remote_get("spot://127.0.0.1/ns/a", 1, buf, sizeof buf), rc);
  spot_log_t *a;
  CHECK_OK(spot_ns_open_log(ns, "a", 0, &a, NULL));
  CHECK_OK(spot_log_latest(a, &seq));
  CHECK_EQ(seq, 0);
  spot_log_close(a);
  spot_ns_close(ns);
}

static struct {
  char url[128];
  char data[16];
  size_t len;
  char handler[64];
  spot_cause_t cause;
  int calls;
} seen;

static int fake_put(const char *url, const void *data, size_t len, const char *handler, const spot_cause_t *cause,
                    uint64_t *seq) {
  seen.calls++;
  snprintf(seen.url, sizeof seen.url, "%s", url);
  seen.len = len < sizeof seen.data ? len : sizeof seen.data;
  memcpy(seen.data, data, seen.len);
  snprintf(seen.handler, sizeof seen.handler, "%s", handler ? handler : "");
  seen.cause = cause ? *cause : (spot_cause_t){0, 0};
  *seq = 41 + (uint64_t)seen.calls;
  return 0;
}
static int fake_get(const char *url, uint64_t seq, void *buf, size_t cap) { return SPOT_EEXPIRED; }
static int fake_latest(const char *url, uint64_t *seq) {
  *seq = 7;
  return 0;
}

/* Runs last: it replaces the process's table. */
static void test_registered_table(void) {
  static const spot__remote_ops_t fake = {.name = "fake", .put = fake_put, .get = fake_get, .latest = fake_latest};
  spot__remote_register(&fake);
  const char *dir = spot_test_ns("remote_table", 16);
  CHECK(dir != NULL);
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  spot_cause_t cause = {0x1234, 56};
  uint64_t seq = 0;
  CHECK_OK(spot_put(ns, "woof://h:1/ns/log", "hello", 5, "h1", &cause, &seq));
  CHECK_EQ(seq, 42);
  CHECK_EQ(seen.calls, 1);
  CHECK(strcmp(seen.url, "woof://h:1/ns/log") == 0);
  CHECK(seen.len == 5 && memcmp(seen.data, "hello", 5) == 0);
  CHECK(strcmp(seen.handler, "h1") == 0);
  CHECK(seen.cause.node == 0x1234 && seen.cause.event == 56);
  CHECK_OK(spot__remote_latest("spot://h:1/ns/log", &seq));
  CHECK_EQ(seq, 7);
  uint8_t buf[8];
  CHECK_RC(spot__remote_get("spot://h:1/ns/log", 1, buf, sizeof buf), SPOT_EEXPIRED);
  spot_ns_close(ns);
}

#if !SPOT_HAVE_NET
/* The command line and spotd without the network: one clear line, a failing exit status. */
static void test_tools_refuse(void) {
  const char *dir = spot_test_ns("remote_cli", 16);
  CHECK(dir != NULL);
  char out[256], err[512];
  int st = spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s put spot://127.0.0.1:7000/ns/a --data x",
                        spot_test_bin(), dir);
  CHECK_EQ(st, 1);
  CHECK(strstr(err, "without the network") != NULL && strstr(err, "-DSPOT_NET=ON") != NULL);
  st = spot_test_sh(out, sizeof out, err, sizeof err, "%s keygen k --dir %s", spot_test_bin(), dir);
  CHECK_EQ(st, 1);
  CHECK(strstr(err, "without the network") != NULL);
  const char *spotd = getenv("SPOTD_BIN");
  CHECK(spotd != NULL);
  st = spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s --listen 127.0.0.1:7000 --key x.key", spotd, dir);
  CHECK_EQ(st, 2);
  CHECK(strstr(err, "--listen") != NULL && strstr(err, "SPOT_NET=OFF") != NULL);
}
#endif

static const spot_test_t tests[] = {
    {"is_remote", test_is_remote},
    {"put_without_port", test_put_without_port},
#if !SPOT_HAVE_NET
    {"tools_refuse", test_tools_refuse},
#endif
    {"registered_table", test_registered_table},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
