/*
 * cmd_bind.c: `spot bind LOG HANDLER`, `spot unbind LOG [HANDLER]` and `spot rm LOG --yes`: handlers bound to logs
 * (every put to LOG that names no handler runs HANDLER; spot_bind in spot/node.h) and removing a log. bind and
 * unbind and rm take remote names (spot://HOST:PORT/NS/LOG: the node's admin right, cmd_remote.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "spot.h"

static int open_ns(const char *ns_dir, spot_ns_t **ns) {
  int rc = spot_ns_open(ns_dir, NULL, ns);
  return rc ? spot_cli_fail(rc, "cannot open the namespace") : 0;
}

int spot_cli_bind(int argc, char **argv, const char *ns_dir) {
  if (argc != 3 || argv[1][0] == '-' || argv[2][0] == '-')
    return spot_cli_fail(0, "usage: spot bind LOG HANDLER");
  if (spot_is_remote(argv[1]))
    return spot_cli_remote_bind(argv[1], argv[2], 1);
  spot_ns_t *ns;
  if (open_ns(ns_dir, &ns) != 0)
    return 1;
  int rc = spot_bind(ns, argv[1], argv[2]);
  spot_ns_close(ns);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot bind %s to %s", argv[2], argv[1]);
  printf("every put to %s now runs %s (unless it names another handler)\n", argv[1], argv[2]);
  return 0;
}

int spot_cli_unbind(int argc, char **argv, const char *ns_dir) {
  if (argc < 2 || argc > 3 || argv[1][0] == '-' || (argc == 3 && argv[2][0] == '-'))
    return spot_cli_fail(0, "usage: spot unbind LOG [HANDLER]");
  const char *handler = argc == 3 ? argv[2] : NULL;
  if (spot_is_remote(argv[1]))
    return spot_cli_remote_bind(argv[1], handler, 0);
  spot_ns_t *ns;
  if (open_ns(ns_dir, &ns) != 0)
    return 1;
  int rc = spot_unbind(ns, argv[1], handler);
  spot_ns_close(ns);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot unbind %s", argv[1]);
  printf("puts to %s run no handler now unless they name one\n", argv[1]);
  return 0;
}

typedef struct bound {
  const char *log;
  char handler[64];
} bound_t;

static int find_bound(const char *log, const char *handler, void *arg) {
  bound_t *b = arg;
  if (strcmp(log, b->log) == 0)
    snprintf(b->handler, sizeof b->handler, "%s", handler);
  return 0;
}

int spot_cli_rm(int argc, char **argv, const char *ns_dir) {
  const char *name = NULL;
  int yes = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--yes") == 0 || strcmp(argv[i], "-y") == 0)
      yes = 1;
    else if (argv[i][0] != '-' && name == NULL)
      name = argv[i];
    else
      return spot_cli_fail(0, "usage: spot rm LOG --yes");
  }
  if (name == NULL)
    return spot_cli_fail(0, "usage: spot rm LOG --yes");
  if (spot_is_remote(name))
    return spot_cli_remote_rm(name, yes);
  spot_ns_t *ns;
  if (open_ns(ns_dir, &ns) != 0)
    return 1;
  spot_log_info_t info;
  spot_log_t *log;
  int rc = spot_ns_open_log(ns, name, 0, &log, NULL);
  if (rc != 0) {
    spot_ns_close(ns);
    return spot_cli_fail(rc, "cannot remove log %s", name);
  }
  spot_log_info(log, &info);
  spot_log_close(log);
  bound_t b = {.log = name};
  if (!yes) {
    spot_bindings(ns, find_bound, &b);
    spot_ns_close(ns);
    uint64_t held = info.latest >= info.earliest && info.earliest ? info.latest - info.earliest + 1 : 0;
    fprintf(stderr, "spot: rm would remove log %s (%llu elements held, numbers up to %llu, %llu bytes on disk)%s%s; "
            "nothing was removed: run `spot rm %s --yes` to remove it\n",
            name, (unsigned long long)held, (unsigned long long)info.latest, (unsigned long long)info.file_bytes,
            b.handler[0] ? " and its binding to handler " : "", b.handler, name);
    return 1;
  }
  rc = spot_ns_remove_log(ns, name);
  spot_ns_close(ns);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot remove log %s", name);
  printf("removed log %s\n", name);
  return 0;
}
