/*
 * name_test.c: what is and is not a valid name, and that every error has a code and a detail line.
 */
#include <string.h>

#include "core/error.h"
#include "core/name.h"
#include "test.h"

static void test_valid(void) {
  const char *ok[] = {"a", "temp", "Temp_2", "sensor-7", "_x", "9lives", "a-b_c-D"};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    CHECK_OK(spot__name_check(ok[i], "log"));
  char longest[SPOT_NAME_MAX + 1];
  memset(longest, 'x', SPOT_NAME_MAX);
  longest[SPOT_NAME_MAX] = '\0';
  CHECK_OK(spot__name_check(longest, "log"));
}

static void test_invalid(void) {
  const char *bad[] = {"", "..", ".", "a/b", "/etc", "-rf", "a b", "a.log", "tab\t", "caf\xc3\xa9", "x\n"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK_RC(spot__name_check(bad[i], "log"), SPOT_EBADNAME);
    CHECK(strstr(spot_errdetail(), "log name") != NULL);
  }
  CHECK_RC(spot__name_check(NULL, "handler"), SPOT_EBADNAME);
  char toolong[SPOT_NAME_MAX + 2];
  memset(toolong, 'x', SPOT_NAME_MAX + 1);
  toolong[SPOT_NAME_MAX + 1] = '\0';
  CHECK_RC(spot__name_check(toolong, "log"), SPOT_EBADNAME);
}

static void test_error_list(void) {
  CHECK(strcmp(spot_errname(SPOT_EEXPIRED), "SPOT_EEXPIRED") == 0);
  CHECK(strstr(spot_strerror(SPOT_EEXPIRED), "expired") != NULL);
  CHECK(strcmp(spot_strerror(0), "success") == 0);
  CHECK(strcmp(spot_strerror(-9999), "unknown error") == 0);
  for (int e = -1; e >= SPOT_ENOTSUP; e--) {
    CHECK(strncmp(spot_errname(e), "SPOT_E", 6) == 0);
    CHECK(strcmp(spot_strerror(e), "unknown error") != 0);
  }
  CHECK_EQ(spot__fail(SPOT_EIO, "disk %d gone", 3), SPOT_EIO);
  CHECK(strcmp(spot_errdetail(), "disk 3 gone") == 0);
}

static const spot_test_t tests[] = {
    {"valid", test_valid},
    {"invalid", test_invalid},
    {"error_list", test_error_list},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
