/*
 * cmd_nonet.c: the command line's network side in a build without the network (-DSPOT_NET=OFF), in place of
 * cmd_remote.c and cmd_keygen.c. Every remote name (spot://..., woof://...) and every command that needs the network
 * (keygen, deploy) is refused with one line that says why and what build would do it; nothing is written anywhere.
 */
#include <stdio.h>

#include "cli.h"
#include "keygen.h"

int spot_cli_no_network(const char *what) {
  return spot_cli_fail(0, "%s: this spot was built without the network (-DSPOT_NET=OFF); remote names, deploy and "
                          "keygen need a build with -DSPOT_NET=ON",
                       what);
}

int spot_cli_remote_put(const char *url, const void *data, size_t len, const char *handler) {
  return spot_cli_no_network(url);
}

int spot_cli_remote_get(const char *url, const char *seqtext) { return spot_cli_no_network(url); }

int spot_cli_remote_latest(const char *url) { return spot_cli_no_network(url); }

int spot_cli_remote_info(const char *url, int json) { return spot_cli_no_network(url); }

int spot_cli_remote_create(const char *url, const struct spot_log_config *cfg) { return spot_cli_no_network(url); }

int spot_cli_keygen(int argc, char **argv, const char *ns_dir) { return spot_cli_no_network("keygen"); }

int spot_cli_remote_list(const char *url, int handlers) { return spot_cli_no_network(url); }

int spot_cli_remote_bind(const char *url, const char *handler, int bind) { return spot_cli_no_network(url); }

int spot_cli_remote_check(const char *url, int fix) { return spot_cli_no_network(url); }

int spot_cli_remote_rm(const char *url, int yes) { return spot_cli_no_network(url); }
