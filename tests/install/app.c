/*
 * tests/install/app.c: a program outside spot's tree, built by install_test.sh against an installed spot (once with
 * pkg-config, once with find_package(spot CONFIG)): it makes a namespace, appends to a log and reads the element
 * back through the installed headers and libspot. Prints "ok SEQ" and exits 0, or says what failed and exits 1.
 *   app DIR
 */
#include <spot.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: app DIR\n");
    return 2;
  }
  spot_ns_t *ns = NULL;
  spot_log_t *log = NULL;
  char buf[16] = {0};
  uint64_t seq = 0;
  spot_log_config_t cfg = {.elem_size = sizeof buf, .history = 8};
  int rc = spot_ns_init(argv[1]);
  if (rc == 0)
    rc = spot_ns_open(argv[1], NULL, &ns);
  if (rc == 0)
    rc = spot_ns_create_log(ns, "outside", &cfg);
  if (rc == 0)
    rc = spot_put(ns, "outside", "installed", 9, NULL, NULL, &seq);
  if (rc == 0)
    rc = spot_ns_open_log(ns, "outside", 0, &log, NULL);
  if (rc == 0)
    rc = spot_log_read(log, seq, buf, sizeof buf);
  if (log)
    spot_log_close(log);
  if (ns)
    spot_ns_close(ns);
  if (rc != 0 || strcmp(buf, "installed") != 0) {
    fprintf(stderr, "app: %s: %s\n", spot_errname(rc), spot_errdetail());
    return 1;
  }
  printf("ok %llu\n", (unsigned long long)seq);
  return 0;
}
