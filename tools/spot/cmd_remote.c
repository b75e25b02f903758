/*
 * cmd_remote.c: the `spot` subcommands on remote names (spot://HOST:PORT/NAMESPACE/LOG): put, get, latest, info,
 * create, ls, handlers, bind, unbind, check and rm through a spot_remote_t, with the keys given by --key /
 * --node-key or their environment variables.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "spot.h"
#include "spot/net.h"

static int client(spot_remote_t **r) {
  const char *t = getenv("SPOT_TIMEOUT_MS");
  uint32_t ms = t ? (uint32_t)strtoul(t, NULL, 10) : 0;
  int rc = spot_remote_new(spot_cli_key, spot_cli_node_key, ms, r);
  if (rc != 0)
    spot_cli_fail(rc, "cannot set up the client");
  return rc;
}

int spot_cli_remote_put(const char *url, const void *data, size_t len, const char *handler) {
  spot_remote_t *r;
  if (client(&r) != 0)
    return 1;
  uint64_t seq;
  int rc = spot_remote_put(r, url, data, len, handler, NULL, &seq);
  spot_remote_free(r);
  if (rc != 0)
    return spot_cli_fail(rc, "put to %s failed", url);
  printf("%" PRIu64 "\n", seq);
  return 0;
}

int spot_cli_remote_get(const char *url, const char *seqtext) {
  spot_remote_t *r;
  if (client(&r) != 0)
    return 1;
  uint64_t seq = 0;
  int rc = 0;
  if (strcmp(seqtext, "latest") == 0)
    rc = spot_remote_latest(r, url, &seq);
  else if (spot_cli_parse_u64(seqtext, 0, &seq) != 0 || seq == 0) {
    spot_remote_free(r);
    return spot_cli_fail(0, "'%s' is not a sequence number (1, 2, ... or latest)", seqtext);
  }
  if (rc == 0 && seq == 0)
    rc = SPOT_EEMPTY;
  uint8_t *buf = malloc(SPOT_ELEM_MAX);
  size_t size = 0;
  if (rc == 0)
    rc = buf ? spot_remote_get(r, url, seq, buf, SPOT_ELEM_MAX, &size) : SPOT_ENOMEM;
  if (rc == 0 && fwrite(buf, 1, size, stdout) != size)
    rc = SPOT_EIO;
  free(buf);
  spot_remote_free(r);
  if (rc == SPOT_EEMPTY)
    return spot_cli_fail(0, "log %s is empty", url);
  if (rc != 0)
    return spot_cli_fail(rc, "get %s %s failed", url, seqtext);
  return 0;
}

int spot_cli_remote_latest(const char *url) {
  spot_remote_t *r;
  if (client(&r) != 0)
    return 1;
  uint64_t seq;
  int rc = spot_remote_latest(r, url, &seq);
  spot_remote_free(r);
  if (rc != 0)
    return spot_cli_fail(rc, "latest %s failed", url);
  printf("%" PRIu64 "\n", seq);
  return 0;
}

int spot_cli_remote_info(const char *url, int json) {
  spot_remote_t *r;
  if (client(&r) != 0)
    return 1;
  spot_log_info_t i;
  int rc = spot_remote_info(r, url, &i);
  spot_remote_free(r);
  if (rc != 0)
    return spot_cli_fail(rc, "info %s failed", url);
  if (json)
    printf("{\"name\":\"%s\",\"elem_size\":%u,\"history\":%" PRIu64 ",\"sync\":\"%s\",\"latest\":%" PRIu64
           ",\"earliest\":%" PRIu64 ",\"durable\":%" PRIu64 "}\n",
           url, i.elem_size, i.history, spot_sync_name(i.sync), i.latest, i.earliest, i.durable);
  else
    printf("log:        %s\nelement:    %u bytes\nhistory:    %" PRIu64 " elements\nsync:       %s\nlatest:     %" PRIu64
           "\nearliest:   %" PRIu64 "\ndurable:    %" PRIu64 "\n",
           url, i.elem_size, i.history, spot_sync_name(i.sync), i.latest, i.earliest, i.durable);
  return 0;
}

int spot_cli_remote_create(const char *url, const spot_log_config_t *cfg) {
  spot_remote_t *r;
  if (client(&r) != 0)
    return 1;
  int rc = spot_remote_create(r, url, cfg);
  spot_remote_free(r);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot create %s", url);
  return 0;
}

/* `spot ls` / `spot handlers` on spot://HOST:PORT/NS: the node's lines (spot_remote_list) in the local columns. */
int spot_cli_remote_list(const char *url, int handlers) {
  spot_remote_t *r;
  if (client(&r) != 0)
    return 1;
  char *text = NULL;
  size_t len = 0;
  int rc = spot_remote_list(r, url, handlers, &text, &len);
  spot_remote_free(r);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot list the %s of %s", handlers ? "handlers" : "logs", url);
  if (handlers)
    printf("%-6s %-24s %-8s %-40s %s\n", "ID", "HANDLER", "VERSION", "OBJECT", "BOUND TO");
  else
    printf("%-24s %10s %12s %-7s %12s %s\n", "LOG", "SIZE", "HISTORY", "SYNC", "LATEST", "HANDLER");
  for (char *line = text, *end; line < text + len && *line; line = end + 1) {
    end = strchr(line, '\n');
    if (end == NULL)
      break;
    *end = '\0';
    char *f[6] = {0};
    int n = 0;
    for (char *p = line; n < 6 && p; n++) {
      f[n] = p;
      p = strchr(p, '\t');
      if (p)
        *p++ = '\0';
    }
    if (handlers && n >= 5)
      printf("%-6s %-24s %-8s %-40s %s\n", f[0], f[1], f[2],
             strcmp(f[3], "-") == 0 ? "(built into the node's program)" : f[3], f[4]);
    else if (!handlers && n >= 6)
      printf("%-24s %10s %12s %-7s %12s %s\n", f[0], f[1], f[2], f[3], f[4], f[5]);
  }
  free(text);
  return 0;
}

int spot_cli_remote_bind(const char *url, const char *handler, int bind) {
  spot_remote_t *r;
  if (client(&r) != 0)
    return 1;
  int rc = spot_remote_bind(r, url, handler, bind);
  spot_remote_free(r);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot %s %s", bind ? "bind a handler to" : "unbind", url);
  if (bind)
    printf("every put to %s now runs %s (unless it names another handler)\n", url, handler);
  else
    printf("puts to %s run no handler now unless they name one\n", url);
  return 0;
}

int spot_cli_remote_check(const char *url, int fix) {
  spot_remote_t *r;
  if (client(&r) != 0)
    return 1;
  spot_check_result_t c;
  int rc = spot_remote_check(r, url, fix, &c);
  spot_remote_free(r);
  if (rc != 0)
    return spot_cli_fail(rc, "check of %s failed", url);
  return spot_cli_check_print(url, fix, &c);
}

int spot_cli_remote_rm(const char *url, int yes) {
  spot_remote_t *r;
  if (client(&r) != 0)
    return 1;
  int rc;
  if (!yes) { /* say what would go (the get right), remove nothing */
    spot_log_info_t i;
    rc = spot_remote_info(r, url, &i);
    spot_remote_free(r);
    if (rc != 0)
      return spot_cli_fail(rc, "cannot remove log %s", url);
    uint64_t held = i.latest >= i.earliest && i.earliest ? i.latest - i.earliest + 1 : 0;
    fprintf(stderr, "spot: rm would remove log %s (%" PRIu64 " elements held, numbers up to %" PRIu64 ", and its "
            "binding if it has one); nothing was removed: run `spot rm %s --yes` to remove it\n",
            url, held, i.latest, url);
    return 1;
  }
  rc = spot_remote_rm(r, url);
  spot_remote_free(r);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot remove log %s", url);
  printf("removed log %s\n", url);
  return 0;
}
