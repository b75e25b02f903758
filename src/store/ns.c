/*
 * ns.c: namespaces, directories of logs (spot/ns.h). Log NAME is the file DIR/NAME.log; a marker file
 * DIR/.spot-namespace tells a namespace from any other directory; DIR/.spot/ holds the node's own files (see
 * store/ns_impl.h). Names are checked before they touch a path. An open namespace caches the handles of the logs
 * used through it (for puts and handlers), so a log is opened once per process, not once per put.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/name.h"
#include "platform/platform.h"
#include "store/ns_impl.h"

#define MARKER ".spot-namespace"
#define SUFFIX ".log"

/* The node's own logs, made by init. handlers.log is durable (`always`): a handler's id is a sequence number of
 * it, and marked elements of durable logs name that id across a power cut, so an id must never be handed out
 * twice. The event log and the trigger queue are `none`: after a power cut, a durable put whose trigger was lost
 * is found by its mark and recovered (pending.c), and a stale trigger whose handler id does not match the mark of
 * the element it names is dropped (put.c). */
static const struct internal_log {
  const char *rel;
  uint32_t size;
  uint64_t history;
  spot_sync_t sync;
} internal_logs[] = {
    {"events.log", 256, SPOT__EVENTS_HISTORY_DEFAULT, SPOT_SYNC_NONE},
    {"triggers.log", 256, SPOT__EVENTS_HISTORY_DEFAULT, SPOT_SYNC_NONE},
    {"handlers.log", SPOT__REG_RECORD, 4096, SPOT_SYNC_ALWAYS},
};

/* (The POSIX table opens files for writing; the marker and node files of a read-only namespace must still read.) */
static int exists(spot_io_t *io, const char *path) {
  if (io == spot_io_posix())
    return spot__exists(path);
  spot_file_t *f;
  if (io->open(io, path, 0, &f) != 0)
    return 0;
  io->close(f);
  return 1;
}

/* Reads up to cap-1 bytes of a small file through io, NUL-terminated. SPOT_ENOTFOUND if it does not exist. */
static int read_small(spot_io_t *io, const char *path, char *buf, size_t cap) {
  if (io == spot_io_posix()) {
    FILE *p = fopen(path, "r");
    if (p == NULL)
      return spot__exists(path) ? SPOT_EPERM : SPOT_ENOTFOUND;
    size_t got = fread(buf, 1, cap - 1, p);
    fclose(p);
    buf[got] = '\0';
    return 0;
  }
  spot_file_t *f;
  int rc = io->open(io, path, 0, &f);
  if (rc != 0)
    return rc;
  size_t got = 0;
  rc = io->read(f, 0, buf, cap - 1, &got);
  io->close(f);
  buf[rc == 0 ? got : 0] = '\0';
  return rc;
}

/* Writes a small file durably and atomically: a temporary file, written, synced, then renamed over nothing
 * (an existing path is removed first: callers only replace what they found damaged). */
static int write_small(spot_io_t *io, const char *path, const char *text) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  io->remove(io, tmp); /* left by an earlier, interrupted init */
  spot_file_t *f;
  int rc = io->open(io, tmp, SPOT_IO_CREATE | SPOT_IO_EXCL, &f);
  if (rc != 0)
    return rc;
  size_t len = strlen(text), done = 0;
  while (rc == 0 && done < len) {
    size_t put = 0;
    rc = io->write(f, done, text + done, len - done, &put);
    if (rc == 0 && put == 0)
      rc = SPOT_EIO;
    done += put;
  }
  if (rc == 0)
    rc = io->sync(f);
  int crc = io->close(f);
  if (rc == 0)
    rc = crc;
  if (rc == 0) {
    io->remove(io, path);
    rc = io->rename(io, tmp, path);
  }
  if (rc != 0)
    io->remove(io, tmp);
  return rc;
}

static int read_node_id(spot_io_t *io, const char *dir, uint64_t *out) {
  char path[4096], text[64];
  snprintf(path, sizeof path, "%s/.spot/node", dir);
  int rc = read_small(io, path, text, sizeof text);
  if (rc != 0)
    return rc == SPOT_ENOTFOUND ? rc : spot__fail(rc, "cannot read %s: %s", path, spot_strerror(rc));
  unsigned long long v = 0;
  if (sscanf(text, "%llx", &v) != 1 || v == 0)
    return spot__fail(SPOT_ECORRUPT, "%s does not hold a node id; remove it and run `spot init %s`", path, dir);
  *out = v;
  return 0;
}

/* Makes .spot/<rel> a whole log unless it is one. When the namespace is not complete yet, a file that does not
 * open as a log (cut short by a full disk or a crash during an earlier init) is made again. */
static int ensure_log(spot_io_t *io, const char *dir, const struct internal_log *il, int complete) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s/.spot/%s", dir, il->rel) >= (int)sizeof path)
    return spot__fail(SPOT_ERANGE, "namespace path is too long");
  if (exists(io, path)) {
    if (complete)
      return 0;
    spot_log_t *l;
    if (spot_log_open(path, 0, io, &l, NULL) == 0) {
      spot_log_info_t info;
      int ok = spot_log_info(l, &info) == 0 && info.elem_size == il->size;
      spot_log_close(l);
      if (ok)
        return 0;
    }
    io->remove(io, path); /* half-made, and nothing ever used it: make it again */
  }
  spot_log_config_t cfg = {.elem_size = il->size, .history = il->history, .sync = il->sync};
  int rc = spot_log_create(path, &cfg, io);
  return rc == SPOT_EEXIST ? 0 : rc;
}

typedef struct sweep {
  spot_io_t *io;
  const char *dir;
} sweep_t;

/* Removes temporary files an interrupted init left in .spot/ (log creations cut short: NAME.log.tmp-ID). */
static int sweep_tmp(const char *name, void *arg) {
  sweep_t *sw = arg;
  if (strstr(name, ".tmp") != NULL) {
    char path[4200];
    snprintf(path, sizeof path, "%s/.spot/%s", sw->dir, name);
    sw->io->remove(sw->io, path);
  }
  return 0;
}

int spot__ns_init_io(const char *dir, spot_io_t *io) {
  char marker[4096], sub[4096];
  if (dir == NULL || dir[0] == '\0')
    return spot__fail(SPOT_EINVAL, "no namespace directory given (use -n DIR or set SPOT_DIR)");
  if (snprintf(marker, sizeof marker, "%s/%s", dir, MARKER) >= (int)sizeof marker)
    return spot__fail(SPOT_ERANGE, "namespace path is too long");
  int rc = spot__mkdir(dir);
  if (rc != 0)
    return spot__fail(rc, "cannot create directory %s: %s", dir, spot_strerror(rc));
  snprintf(sub, sizeof sub, "%s/.spot", dir);
  if ((rc = spot__mkdir(sub)) != 0)
    return spot__fail(rc, "cannot create directory %s: %s", sub, spot_strerror(rc));
  snprintf(sub, sizeof sub, "%s/.spot/handlers", dir);
  if ((rc = spot__mkdir(sub)) != 0)
    return spot__fail(rc, "cannot create directory %s: %s", sub, spot_strerror(rc));
  /* a namespace is whole once its marker exists; until then nothing has used its files, and init may remake them */
  int complete = exists(io, marker);
  if (!complete) {
    snprintf(sub, sizeof sub, "%s/.spot", dir);
    sweep_t sw = {io, dir};
    spot__dir_each(sub, sweep_tmp, &sw);
  }
  uint64_t id = 0;
  rc = read_node_id(io, dir, &id);
  if (rc != 0 && complete && rc != SPOT_ENOTFOUND)
    return rc; /* a served namespace's identity is not replaced silently */
  if (rc != 0) {
    char path[4096], text[32];
    while (id == 0)
      spot__random(&id, sizeof id);
    snprintf(path, sizeof path, "%s/.spot/node", dir);
    snprintf(text, sizeof text, "%016llx\n", (unsigned long long)id);
    if ((rc = write_small(io, path, text)) != 0)
      return spot__fail(rc, "cannot write %s: %s; free space and run `spot init %s` again", path, spot_strerror(rc),
                        dir);
  }
  for (size_t i = 0; i < sizeof internal_logs / sizeof internal_logs[0]; i++)
    if ((rc = ensure_log(io, dir, &internal_logs[i], complete)) != 0)
      return spot__fail(rc, "cannot make %s a namespace: %s; free space and run `spot init %s` again", dir,
                        spot_errdetail(), dir);
  if (!complete && (rc = write_small(io, marker, "spot namespace\n")) != 0) /* last */
    return spot__fail(rc, "cannot write %s: %s; free space and run `spot init %s` again", marker, spot_strerror(rc),
                      dir);
  return 0;
}

int spot_ns_init(const char *dir) { return spot__ns_init_io(dir, spot_io_posix()); }

int spot_ns_open(const char *dir, spot_io_t *io, spot_ns_t **out) {
  char marker[4096];
  if (dir == NULL || dir[0] == '\0')
    return spot__fail(SPOT_ENONS, "no namespace given: use -n DIR or set SPOT_DIR (make one with `spot init DIR`)");
  if (snprintf(marker, sizeof marker, "%s/%s", dir, MARKER) >= (int)sizeof marker)
    return spot__fail(SPOT_ERANGE, "namespace path is too long");
  if (io == NULL)
    io = spot_io_posix();
  if (!exists(io, marker)) {
    if (!spot__is_dir(dir))
      return spot__fail(SPOT_ENONS, "namespace %s does not exist; create it with `spot init %s`", dir, dir);
    return spot__fail(SPOT_ENONS, "%s is not a spot namespace; make it one with `spot init %s`", dir, dir);
  }
  uint64_t node_id = 0;
  int rc = read_node_id(io, dir, &node_id);
  if (rc == SPOT_ENOTFOUND)
    return spot__fail(SPOT_ENONS, "%s has no node identity (made by an older spot?); run `spot init %s`", dir, dir);
  if (rc != 0)
    return rc;
  spot_ns_t *ns = calloc(1, sizeof *ns);
  if (ns == NULL || (ns->dir = strdup(dir)) == NULL) {
    free(ns);
    return SPOT_ENOMEM;
  }
  ns->io = io;
  ns->node_id = node_id;
  spot__mutex_init(&ns->mu);
  *out = ns;
  return 0;
}

void spot_ns_close(spot_ns_t *ns) {
  if (ns == NULL)
    return;
  for (size_t i = 0; i < ns->nlogs; i++)
    spot_log_close(ns->logs[i].log);
  spot_log_close(ns->events);
  spot_log_close(ns->triggers);
  spot_log_close(ns->registry);
  spot__mutex_destroy(&ns->mu);
  free(ns->logs);
  free(ns->reg);
  free(ns->dir);
  free(ns);
}

uint64_t spot_ns_node_id(const spot_ns_t *ns) { return ns->node_id; }

void spot_ns_set_busy_timeout(spot_ns_t *ns, uint32_t ms) {
  spot__mutex_lock(&ns->mu);
  ns->busy_ms = ms;
  for (size_t i = 0; i < ns->nlogs; i++)
    spot_log_set_busy_timeout(ns->logs[i].log, ms);
  if (ns->triggers)
    spot_log_set_busy_timeout(ns->triggers, ms);
  spot__mutex_unlock(&ns->mu);
}

int spot__ns_path(const spot_ns_t *ns, const char *rel, char *buf, size_t cap) {
  if ((size_t)snprintf(buf, cap, "%s/.spot/%s", ns->dir, rel) >= cap)
    return spot__fail(SPOT_ERANGE, "namespace path is too long");
  return 0;
}

static int open_internal(spot_ns_t *ns, const char *rel, spot_log_t **slot, spot_log_t **out) {
  int rc = 0;
  spot__mutex_lock(&ns->mu);
  if (*slot == NULL) {
    char path[4096];
    rc = spot__ns_path(ns, rel, path, sizeof path);
    if (rc == 0)
      rc = spot_log_open(path, 0, ns->io, slot, NULL);
    if (rc == 0 && ns->busy_ms)
      spot_log_set_busy_timeout(*slot, ns->busy_ms);
    if (rc == SPOT_ENOTFOUND)
      rc = spot__fail(rc, "namespace %s has no %s; run `spot init %s`", ns->dir, rel, ns->dir);
  }
  *out = *slot;
  spot__mutex_unlock(&ns->mu);
  return rc;
}

int spot__ns_events(spot_ns_t *ns, spot_log_t **out) { return open_internal(ns, "events.log", &ns->events, out); }
int spot__ns_triggers(spot_ns_t *ns, spot_log_t **out) {
  return open_internal(ns, "triggers.log", &ns->triggers, out);
}
int spot__ns_registry(spot_ns_t *ns, spot_log_t **out) {
  return open_internal(ns, "handlers.log", &ns->registry, out);
}

int spot__ns_log(spot_ns_t *ns, const char *name, spot_log_t **out) {
  spot__mutex_lock(&ns->mu);
  for (size_t i = 0; i < ns->nlogs; i++)
    if (strcmp(ns->logs[i].name, name) == 0) {
      *out = ns->logs[i].log;
      spot__mutex_unlock(&ns->mu);
      return 0;
    }
  int rc = 0;
  if (ns->nlogs == ns->caplogs) {
    size_t cap = ns->caplogs ? ns->caplogs * 2 : 8;
    spot__log_cache_t *v = realloc(ns->logs, cap * sizeof *v);
    if (v == NULL)
      rc = SPOT_ENOMEM;
    else
      ns->logs = v, ns->caplogs = cap;
  }
  spot_log_t *log = NULL;
  if (rc == 0)
    rc = spot_ns_open_log(ns, name, 0, &log, NULL);
  if (rc == 0) {
    if (ns->busy_ms)
      spot_log_set_busy_timeout(log, ns->busy_ms);
    snprintf(ns->logs[ns->nlogs].name, sizeof ns->logs[ns->nlogs].name, "%s", name);
    ns->logs[ns->nlogs++].log = log;
    *out = log;
  }
  spot__mutex_unlock(&ns->mu);
  return rc;
}

const char *spot_ns_dir(const spot_ns_t *ns) { return ns->dir; }

int spot_ns_log_path(const spot_ns_t *ns, const char *name, char *buf, size_t cap) {
  int rc = spot__name_check(name, "log");
  if (rc != 0)
    return rc;
  if ((size_t)snprintf(buf, cap, "%s/%s" SUFFIX, ns->dir, name) >= cap)
    return spot__fail(SPOT_ERANGE, "path of log %s is too long", name);
  return 0;
}

int spot_ns_create_log(spot_ns_t *ns, const char *name, const spot_log_config_t *cfg) {
  char path[4096];
  int rc = spot_ns_log_path(ns, name, path, sizeof path);
  if (rc != 0)
    return rc;
  rc = spot_log_create(path, cfg, ns->io);
  if (rc == SPOT_EEXIST)
    return spot__fail(rc, "log %s already exists in %s", name, ns->dir);
  return rc;
}

int spot_ns_open_log(spot_ns_t *ns, const char *name, unsigned flags, spot_log_t **out, spot_log_report_t *report) {
  char path[4096];
  int rc = spot_ns_log_path(ns, name, path, sizeof path);
  if (rc != 0)
    return rc;
  rc = spot_log_open(path, flags, ns->io, out, report);
  if (rc == SPOT_ENOTFOUND)
    return spot__fail(rc, "no log named %s in %s (see `spot ls`; create it with `spot create %s ...`)", name, ns->dir,
                      name);
  return rc;
}

typedef struct names {
  char **v;
  size_t n, cap;
} names_t;

static int collect(const char *entry, void *arg) {
  names_t *ns = arg;
  size_t len = strlen(entry);
  if (len <= strlen(SUFFIX) || strcmp(entry + len - strlen(SUFFIX), SUFFIX) != 0)
    return 0;
  char name[SPOT_NAME_MAX + 8];
  size_t nlen = len - strlen(SUFFIX);
  if (nlen > SPOT_NAME_MAX)
    return 0;
  memcpy(name, entry, nlen);
  name[nlen] = '\0';
  if (spot__name_check(name, "log") != 0)
    return 0; /* not one of ours (a temporary file, say) */
  if (ns->n == ns->cap) {
    size_t cap = ns->cap ? ns->cap * 2 : 16;
    char **v = realloc(ns->v, cap * sizeof *v);
    if (v == NULL)
      return SPOT_ENOMEM;
    ns->v = v;
    ns->cap = cap;
  }
  if ((ns->v[ns->n] = strdup(name)) == NULL)
    return SPOT_ENOMEM;
  ns->n++;
  return 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int spot_ns_list(spot_ns_t *ns, spot_ns_list_fn fn, void *arg) {
  names_t names = {0};
  int rc = spot__dir_each(ns->dir, collect, &names);
  if (rc == 0 && names.n > 0) /* qsort must not be given NULL, even for no names */
    qsort(names.v, names.n, sizeof *names.v, by_name);
  for (size_t i = 0; i < names.n; i++) {
    if (rc == 0)
      rc = fn(names.v[i], arg);
    free(names.v[i]);
  }
  free(names.v);
  if (rc == 0)
    spot__clear_detail(); /* the names refused while listing are not errors */
  return rc;
}
