/*
 * position.c: how far an outbound bridge has been acknowledged, kept durably. A position is a small spot log
 * (8-byte elements, a ring of 64, sync always) in DIR/.spot/bridge/: saving appends the new position and returns
 * after the fdatasync that covers it; opening reads the newest element. The log store's recovery makes a torn
 * save invisible (the previous position is read), so a crash at any moment leaves a position that was acknowledged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge/bridge.h"
#include "core/crc32c.h"
#include "core/error.h"
#include "core/name.h"
#include "platform/platform.h"

struct spot_bridge_pos {
  spot_log_t *log;
  uint64_t last;
};

int spot_bridge_pos_open(const char *dir, const char *kind, const char *log, const char *target,
                         spot_bridge_pos_t **out, uint64_t *pos) {
  char path[4200];
  int rc = spot__name_check(log, "log");
  if (rc != 0)
    return rc;
  if ((size_t)snprintf(path, sizeof path, "%s/.spot", dir) >= sizeof path || !spot__is_dir(path))
    return spot__fail(SPOT_ENONS, "%s is not a spot namespace (no .spot folder): run `spot init %s`", dir, dir);
  snprintf(path, sizeof path, "%s/.spot/bridge", dir);
  if ((rc = spot__mkdir(path)) != 0)
    return rc;
  uint32_t h = spot__crc32c(0, target, strlen(target));
  if ((size_t)snprintf(path, sizeof path, "%s/.spot/bridge/%s-%s-%08x.pos", dir, kind, log, h) >= sizeof path)
    return spot__fail(SPOT_EINVAL, "namespace path %s is too long", dir);
  spot_log_config_t cfg = {.elem_size = 8, .history = 64, .sync = SPOT_SYNC_ALWAYS};
  if (!spot__exists(path) && (rc = spot_log_create(path, &cfg, NULL)) != 0 && rc != SPOT_EEXIST)
    return rc;
  spot_bridge_pos_t *p = calloc(1, sizeof *p);
  if (p == NULL)
    return spot__fail(SPOT_ENOMEM, "out of memory opening a bridge position");
  if ((rc = spot_log_open(path, 0, NULL, &p->log, NULL)) != 0)
    goto fail;
  uint64_t latest = 0;
  if ((rc = spot_log_latest(p->log, &latest)) != 0)
    goto fail;
  if (latest > 0) {
    uint8_t b[8];
    if ((rc = spot_log_read(p->log, latest, b, sizeof b)) != 0)
      goto fail;
    for (int i = 7; i >= 0; i--)
      p->last = p->last << 8 | b[i];
  }
  *pos = p->last;
  *out = p;
  return 0;
fail:
  if (p->log)
    spot_log_close(p->log);
  free(p);
  return rc;
}

int spot_bridge_pos_save(spot_bridge_pos_t *p, uint64_t pos) {
  if (pos == p->last)
    return 0;
  uint8_t b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (uint8_t)(pos >> (8 * i));
  int rc = spot_log_append(p->log, b, sizeof b, NULL); /* sync always: on disk when it returns */
  if (rc == 0)
    p->last = pos;
  return rc;
}

void spot_bridge_pos_close(spot_bridge_pos_t *p) {
  if (p == NULL)
    return;
  spot_log_close(p->log);
  free(p);
}
