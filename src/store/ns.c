/*
 * ns.c: namespaces, directories of logs (spot/ns.h). Log NAME is the file DIR/NAME.log; a marker file
 * DIR/.spot-namespace tells a namespace from any other directory. Names are checked before they touch a path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/name.h"
#include "platform/platform.h"
#include "spot/ns.h"

#define MARKER ".spot-namespace"
#define SUFFIX ".log"

struct spot_ns {
  char *dir;
  spot_io_t *io;
};

int spot_ns_init(const char *dir) {
  char marker[4096];
  if (dir == NULL || dir[0] == '\0')
    return spot__fail(SPOT_EINVAL, "no namespace directory given (use -n DIR or set SPOT_DIR)");
  if (snprintf(marker, sizeof marker, "%s/%s", dir, MARKER) >= (int)sizeof marker)
    return spot__fail(SPOT_ERANGE, "namespace path is too long");
  int rc = spot__mkdir(dir);
  if (rc != 0)
    return spot__fail(rc, "cannot create directory %s: %s", dir, spot_strerror(rc));
  rc = spot__touch(marker);
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
  spot_ns_t *ns = calloc(1, sizeof *ns);
  if (ns == NULL || (ns->dir = strdup(dir)) == NULL) {
    free(ns);
    return SPOT_ENOMEM;
  }
  ns->io = io ? io : spot_io_posix();
  *out = ns;
  return 0;
}

void spot_ns_close(spot_ns_t *ns) {
  if (ns == NULL)
    return;
  free(ns->dir);
  free(ns);
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
