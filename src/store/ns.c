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

/* Creates .spot/<rel> as a log with the given geometry unless it exists. */
static int ensure_log(const char *dir, const char *rel, uint32_t size, uint64_t history) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s/.spot/%s", dir, rel) >= (int)sizeof path)
    return spot__fail(SPOT_ERANGE, "namespace path is too long");
  if (spot__exists(path))
    return 0;
  spot_log_config_t cfg = {.elem_size = size, .history = history, .sync = SPOT_SYNC_NONE};
  int rc = spot_log_create(path, &cfg, NULL);
  return rc == SPOT_EEXIST ? 0 : rc;
}

static int read_node_id(const char *dir, uint64_t *out) {
  char path[4096];
  snprintf(path, sizeof path, "%s/.spot/node", dir);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return SPOT_ENOTFOUND;
  unsigned long long v = 0;
  int ok = fscanf(f, "%llx", &v) == 1;
  fclose(f);
  if (!ok || v == 0)
    return spot__fail(SPOT_ECORRUPT, "%s does not hold a node id; remove it and run `spot init %s`", path, dir);
  *out = v;
  return 0;
}

static int write_node_id(const char *dir) {
  char path[4096], tmp[4200];
  snprintf(path, sizeof path, "%s/.spot/node", dir);
  if (spot__exists(path))
    return 0;
  uint64_t id = 0;
  while (id == 0)
    spot__random(&id, sizeof id);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (f == NULL)
    return spot__fail(SPOT_EIO, "cannot write %s", tmp);
  fprintf(f, "%016llx\n", (unsigned long long)id);
  if (fclose(f) != 0 || spot_io_posix()->rename(spot_io_posix(), tmp, path) != 0)
    return spot__fail(SPOT_EIO, "cannot write %s", path);
  return 0;
}

int spot_ns_init(const char *dir) {
  char marker[4096];
  if (dir == NULL || dir[0] == '\0')
    return spot__fail(SPOT_EINVAL, "no namespace directory given (use -n DIR or set SPOT_DIR)");
  if (snprintf(marker, sizeof marker, "%s/%s", dir, MARKER) >= (int)sizeof marker)
    return spot__fail(SPOT_ERANGE, "namespace path is too long");
  int rc = spot__mkdir(dir);
  if (rc != 0)
    return spot__fail(rc, "cannot create directory %s: %s", dir, spot_strerror(rc));
  char sub[4096];
  snprintf(sub, sizeof sub, "%s/.spot", dir);
  if ((rc = spot__mkdir(sub)) != 0)
    return spot__fail(rc, "cannot create directory %s: %s", sub, spot_strerror(rc));
  snprintf(sub, sizeof sub, "%s/.spot/handlers", dir);
  if ((rc = spot__mkdir(sub)) != 0)
    return spot__fail(rc, "cannot create directory %s: %s", sub, spot_strerror(rc));
  if ((rc = write_node_id(dir)) != 0)
    return rc;
  if ((rc = ensure_log(dir, "events.log", 256, SPOT__EVENTS_HISTORY_DEFAULT)) != 0)
    return rc;
  if ((rc = ensure_log(dir, "triggers.log", 256, SPOT__EVENTS_HISTORY_DEFAULT)) != 0)
    return rc;
  if ((rc = ensure_log(dir, "handlers.log", SPOT__REG_RECORD, 4096)) != 0)
    return rc;
  rc = spot__touch(marker); /* last: a namespace is whole once its marker exists */
  if (rc != 0)
    return spot__fail(rc, "cannot write %s: %s", marker, spot_strerror(rc));
  return 0;
}

int spot_ns_open(const char *dir, spot_io_t *io, spot_ns_t **out) {
  char marker[4096];
  if (dir == NULL || dir[0] == '\0')
    return spot__fail(SPOT_ENONS, "no namespace given: use -n DIR or set SPOT_DIR (make one with `spot init DIR`)");
  if (snprintf(marker, sizeof marker, "%s/%s", dir, MARKER) >= (int)sizeof marker)
    return spot__fail(SPOT_ERANGE, "namespace path is too long");
  if (!spot__is_dir(dir))
    return spot__fail(SPOT_ENONS, "namespace %s does not exist; create it with `spot init %s`", dir, dir);
  if (!spot__exists(marker))
    return spot__fail(SPOT_ENONS, "%s is not a spot namespace; make it one with `spot init %s`", dir, dir);
  uint64_t node_id = 0;
  int rc = read_node_id(dir, &node_id);
  if (rc == SPOT_ENOTFOUND)
    return spot__fail(SPOT_ENONS, "%s has no node identity (made by an older spot?); run `spot init %s`", dir, dir);
  if (rc != 0)
    return rc;
  spot_ns_t *ns = calloc(1, sizeof *ns);
  if (ns == NULL || (ns->dir = strdup(dir)) == NULL) {
    free(ns);
    return SPOT_ENOMEM;
  }
  ns->io = io ? io : spot_io_posix();
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
  if (rc == 0)
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
