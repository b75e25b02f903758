/*
 * ns.c: namespaces, directories of logs (spot/ns.h). Log NAME is the file DIR/NAME.log; a marker file
 * DIR/.spot-namespace tells a namespace from any other directory; DIR/.spot/ holds the node's identity (node) and
 * the files its user asks init to make (dispatch's event log, trigger queue and registry: the store does not know
 * what they are for). Names are checked before they touch a path. An open namespace keeps a table of the log
 * handles used through it (DIR/NAME.log and .spot/ logs alike), so a log is opened once per process, not once per
 * put, and one opaque attachment (dispatch's per-namespace state, store/store.h), dropped at spot_ns_close.
 *
 * The table is found by name in O(1) without a lock: an open-addressing hash table (FNV-1a, linear probing, at
 * most half full) of pointers to entries that never move nor change once published. A reader loads the table
 * (acquire) and probes it; only a name not found there takes the mutex, looks again and opens the log. A table
 * that grows is replaced by a copy twice its size; the old one stays allocated until spot_ns_close, since a reader
 * may still be probing it (a name added after the copy is missed there, and found under the mutex).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"
#include "core/name.h"
#include "platform/platform.h"
#include "store/store.h"

#define MARKER ".spot-namespace"
#define SUFFIX ".log"

typedef struct log_entry {
  char name[64]; /* a log name, or ".spot/REL" for a log of the node's own files (names never hold a '.') */
  uint32_t hash; /* spot__ns_hash(name) */
  spot_log_t *log;
  struct log_entry *retired; /* spot__ns_drop_log: the next dropped entry (kept until spot_ns_close) */
} log_entry_t;

/* The hash index: cap (a power of two) slots, each NULL or an entry; never more than half full. */
typedef struct log_index {
  size_t cap;
  struct log_index *older; /* the table this one replaced (freed at spot_ns_close) */
  log_entry_t *slot[];
} log_index_t;

struct spot_ns {
  char *dir;
  spot_io_t *io;
  uint64_t node_id;
  uint32_t busy_ms;     /* backpressure limit given to the logs opened here (0: the default) */
  spot__mutex_t mu;     /* guards adding to the table, and the attachment */
  log_entry_t **logs;   /* logs opened through spot__ns_log and spot__ns_own_log, open until spot_ns_close */
  size_t nlogs, caplogs;
  log_index_t *index;   /* the entries by name; read without the mutex (atomic load), replaced under it */
  log_entry_t *retired; /* entries spot__ns_drop_log took out: an older index may still list them */
  void *attached;       /* spot__ns_attach: its maker's, dropped with attached_drop at spot_ns_close */
  void (*attached_drop)(void *);
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
static int ensure_log(spot_io_t *io, const char *dir, const spot__ns_file_t *il, int complete) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s/.spot/%s", dir, il->rel) >= (int)sizeof path)
    return spot__fail(SPOT_ERANGE, "namespace path is too long");
  if (il->elem_size == 0) { /* a directory */
    int rc = spot__mkdir(path);
    return rc ? spot__fail(rc, "cannot create directory %s: %s", path, spot_strerror(rc)) : 0;
  }
  if (exists(io, path)) {
    if (complete)
      return 0;
    spot_log_t *l;
    if (spot_log_open(path, 0, io, &l, NULL) == 0) {
      spot_log_info_t info;
      int ok = spot_log_info(l, &info) == 0 && info.elem_size == il->elem_size;
      spot_log_close(l);
      if (ok)
        return 0;
    }
    io->remove(io, path); /* half-made, and nothing ever used it: make it again */
  }
  spot_log_config_t cfg = {.elem_size = il->elem_size, .history = il->history, .sync = il->sync};
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

int spot__ns_init_io(const char *dir, spot_io_t *io, const spot__ns_file_t *files, size_t nfiles) {
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
  for (size_t i = 0; i < nfiles; i++)
    if ((rc = ensure_log(io, dir, &files[i], complete)) != 0)
      return spot__fail(rc, "cannot make %s a namespace: %s; free space and run `spot init %s` again", dir,
                        spot_errdetail(), dir);
  if (!complete && (rc = write_small(io, marker, "spot namespace\n")) != 0) /* last */
    return spot__fail(rc, "cannot write %s: %s; free space and run `spot init %s` again", marker, spot_strerror(rc),
                      dir);
  return 0;
}

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
  if (ns->attached_drop)
    ns->attached_drop(ns->attached); /* before the logs it may point at */
  for (size_t i = 0; i < ns->nlogs; i++) {
    spot_log_close(ns->logs[i]->log);
    free(ns->logs[i]);
  }
  for (log_index_t *t = ns->index, *older; t != NULL; t = older) {
    older = t->older;
    free(t);
  }
  for (log_entry_t *e = ns->retired, *next; e != NULL; e = next) {
    next = e->retired;
    free(e);
  }
  spot__mutex_destroy(&ns->mu);
  free(ns->logs);
  free(ns->dir);
  free(ns);
}

uint64_t spot_ns_node_id(const spot_ns_t *ns) { return ns->node_id; }

void spot_ns_set_busy_timeout(spot_ns_t *ns, uint32_t ms) {
  spot__mutex_lock(&ns->mu);
  ns->busy_ms = ms;
  for (size_t i = 0; i < ns->nlogs; i++)
    spot_log_set_busy_timeout(ns->logs[i]->log, ms);
  spot__mutex_unlock(&ns->mu);
}

int spot__ns_path(const spot_ns_t *ns, const char *rel, char *buf, size_t cap) {
  if ((size_t)snprintf(buf, cap, "%s/.spot/%s", ns->dir, rel) >= cap)
    return spot__fail(SPOT_ERANGE, "namespace path is too long");
  return 0;
}

int spot__ns_attach(spot_ns_t *ns, int (*make)(spot_ns_t *, void **), void (*drop)(void *), void **out) {
  void *got = __atomic_load_n(&ns->attached, __ATOMIC_ACQUIRE);
  if (got != NULL && ns->attached_drop == drop) {
    *out = got;
    return 0;
  }
  int rc = 0;
  spot__mutex_lock(&ns->mu);
  if (ns->attached == NULL) {
    void *made = NULL;
    if ((rc = make(ns, &made)) == 0) {
      ns->attached_drop = drop;
      __atomic_store_n(&ns->attached, made, __ATOMIC_RELEASE);
    }
  } else if (ns->attached_drop != drop) {
    rc = spot__fail(SPOT_EINVAL, "namespace %s already carries another module's state", ns->dir);
  }
  if (rc == 0)
    *out = ns->attached;
  spot__mutex_unlock(&ns->mu);
  return rc;
}

uint32_t spot__ns_hash(const char *name) {
  uint32_t h = 2166136261u; /* FNV-1a */
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    h = (h ^ *p) * 16777619u;
  return h;
}

/* The entry named key in table t (may be NULL), or NULL. Safe without the mutex. */
static log_entry_t *index_find(const log_index_t *t, const char *key, uint32_t hash) {
  if (t == NULL)
    return NULL;
  for (size_t i = hash & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
    log_entry_t *e = __atomic_load_n(&t->slot[i], __ATOMIC_ACQUIRE);
    if (e == NULL)
      return NULL; /* never full: every probe ends at an empty slot */
    if (e->hash == hash && strcmp(e->name, key) == 0)
      return e;
  }
}

/* Puts e in the first empty slot of its probe sequence in t (caller holds ns->mu; t has room). */
static void index_put(log_index_t *t, log_entry_t *e) {
  size_t i = e->hash & (t->cap - 1);
  while (t->slot[i] != NULL)
    i = (i + 1) & (t->cap - 1);
  __atomic_store_n(&t->slot[i], e, __ATOMIC_RELEASE);
}

/* Makes room in ns's index for one more entry: keeps it at most half full by publishing a copy twice its size.
 * Caller holds ns->mu. 0 or SPOT_ENOMEM. */
static int index_reserve(spot_ns_t *ns) {
  log_index_t *t = ns->index;
  if (t != NULL && (ns->nlogs + 1) * 2 <= t->cap)
    return 0;
  size_t cap = t ? t->cap * 2 : 16;
  log_index_t *bigger = calloc(1, sizeof *bigger + cap * sizeof bigger->slot[0]);
  if (bigger == NULL)
    return spot__fail(SPOT_ENOMEM, "no memory for the table of open logs");
  bigger->cap = cap;
  bigger->older = t;
  for (size_t i = 0; i < ns->nlogs; i++)
    index_put(bigger, ns->logs[i]);
  __atomic_store_n(&ns->index, bigger, __ATOMIC_RELEASE);
  return 0;
}

/* The handle of log `key` in the table, opening it at path on first use. Looks without the mutex first; takes it
 * to add. */
static int table_log(spot_ns_t *ns, const char *key, const char *name, int own, spot_log_t **out) {
  uint32_t hash = spot__ns_hash(key);
  log_entry_t *e = index_find(__atomic_load_n(&ns->index, __ATOMIC_ACQUIRE), key, hash);
  if (e != NULL) {
    *out = e->log;
    return 0;
  }
  if (strlen(key) >= sizeof e->name) { /* longer than any valid name: say why */
    int rc = own ? SPOT_EINVAL : spot__name_check(name, "log");
    return rc ? rc : spot__fail(SPOT_EINVAL, "%.64s... is too long for a log name", key);
  }
  spot__mutex_lock(&ns->mu);
  int rc = 0;
  spot_log_t *log = NULL;
  if ((e = index_find(ns->index, key, hash)) != NULL) { /* added meanwhile */
    log = e->log;
    goto done;
  }
  if (ns->nlogs == ns->caplogs) {
    size_t cap = ns->caplogs ? ns->caplogs * 2 : 8;
    log_entry_t **v = realloc(ns->logs, cap * sizeof *v);
    if (v == NULL) {
      rc = SPOT_ENOMEM;
      goto done;
    }
    ns->logs = v, ns->caplogs = cap;
  }
  if ((rc = index_reserve(ns)) != 0)
    goto done;
  if ((e = calloc(1, sizeof *e)) == NULL) {
    rc = SPOT_ENOMEM;
    goto done;
  }
  if (own) {
    char path[4096];
    rc = spot__ns_path(ns, name, path, sizeof path);
    if (rc == 0)
      rc = spot_log_open(path, 0, ns->io, &log, NULL);
    if (rc == SPOT_ENOTFOUND)
      rc = spot__fail(rc, "namespace %s has no %s; run `spot init %s`", ns->dir, name, ns->dir);
  } else {
    rc = spot_ns_open_log(ns, name, 0, &log, NULL);
  }
  if (rc != 0) {
    free(e);
    goto done;
  }
  if (ns->busy_ms)
    spot_log_set_busy_timeout(log, ns->busy_ms);
  snprintf(e->name, sizeof e->name, "%s", key);
  e->hash = hash;
  e->log = log;
  ns->logs[ns->nlogs++] = e;
  index_put(ns->index, e); /* last: readers see the entry whole */
done:
  spot__mutex_unlock(&ns->mu);
  if (rc == 0)
    *out = log;
  return rc;
}

int spot__ns_log(spot_ns_t *ns, const char *name, spot_log_t **out) { return table_log(ns, name, name, 0, out); }

int spot__ns_own_log(spot_ns_t *ns, const char *rel, spot_log_t **out) {
  char key[64];
  if ((size_t)snprintf(key, sizeof key, ".spot/%s", rel) >= sizeof key || strchr(rel, '/') != NULL)
    return spot__fail(SPOT_EINVAL, "%s is not a file name for the node's own logs", rel);
  return table_log(ns, key, rel, 1, out);
}

const char *spot_ns_dir(const spot_ns_t *ns) { return ns->dir; }

spot_io_t *spot__ns_io(const spot_ns_t *ns) { return ns->io; }

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

int spot__ns_drop_log(spot_ns_t *ns, const char *name) {
  int rc = spot__name_check(name, "log");
  if (rc != 0)
    return rc;
  spot__mutex_lock(&ns->mu);
  log_entry_t *e = index_find(ns->index, name, spot__ns_hash(name));
  log_index_t *t = ns->index, *copy = NULL;
  if (e != NULL && (copy = calloc(1, sizeof *copy + t->cap * sizeof copy->slot[0])) == NULL)
    rc = spot__fail(SPOT_ENOMEM, "no memory for the table of open logs");
  if (copy != NULL) {
    size_t at = 0;
    while (ns->logs[at] != e)
      at++;
    ns->logs[at] = ns->logs[--ns->nlogs];
    copy->cap = t->cap;
    copy->older = t; /* a reader may still probe t, which lists e: e stays allocated until spot_ns_close */
    for (size_t i = 0; i < ns->nlogs; i++)
      index_put(copy, ns->logs[i]);
    __atomic_store_n(&ns->index, copy, __ATOMIC_RELEASE);
    e->retired = ns->retired;
    ns->retired = e;
  }
  spot__mutex_unlock(&ns->mu);
  if (copy != NULL) {
    spot_log_close(e->log); /* the caller vouches that nobody uses it */
    e->log = NULL;
  }
  return rc;
}

/* Takes path's advisory lock exclusively without waiting, into *f (left NULL for a missing optional file).
 * SPOT_EBUSY when another handle holds it. */
static int lock_excl(spot_io_t *io, const char *path, int optional, spot_file_t **f) {
  *f = NULL;
  int rc = io->open(io, path, 0, f);
  if (rc == SPOT_ENOTFOUND && optional)
    return 0;
  if (rc == 0 && (rc = io->lock(*f, SPOT_IO_LOCK_EXCL_TRY)) != 0) {
    io->close(*f);
    *f = NULL;
  }
  return rc;
}

int spot__ns_remove_log(spot_ns_t *ns, const char *name, int (*before)(spot_ns_t *, const char *)) {
  char path[4096], lockpath[4096];
  spot_file_t *lf = NULL, *nf = NULL;
  int rc = spot_ns_log_path(ns, name, path, sizeof path);
  if (rc != 0 || (rc = spot__ns_path(ns, "node.lock", lockpath, sizeof lockpath)) != 0)
    return rc;
  spot__mutex_lock(&ns->mu);
  if (index_find(ns->index, name, spot__ns_hash(name)) != NULL)
    rc = spot__fail(SPOT_EBUSY, "log %s is open in this process; close it first", name);
  spot__mutex_unlock(&ns->mu); /* (the lock on the log's file below keeps anyone from opening it meanwhile) */
  if (rc != 0)
    return rc;
  /* no node may serve the namespace (it would recreate nothing, but it could be about to open the log) and no
   * handle of the log may be open anywhere (each holds a shared lock): a writer would go on writing to a removed
   * file. Both locks are held until the file is gone. */
  if ((rc = lock_excl(ns->io, lockpath, 1, &nf)) == SPOT_EBUSY) {
    rc = spot__fail(rc, "%s is served by a node; stop it (its spotd) before removing log %s", ns->dir, name);
    goto fail;
  }
  if (rc == 0 && (rc = lock_excl(ns->io, path, 0, &lf)) == SPOT_EBUSY)
    rc = spot__fail(rc, "log %s is open in another process (a put, a tail, a program); stop it first", name);
  else if (rc == SPOT_ENOTFOUND)
    rc = spot__fail(rc, "no log named %s in %s (see `spot ls`)", name, ns->dir);
  if (rc == 0 && before)
    rc = before(ns, name);
  if (rc == 0 && (rc = ns->io->remove(ns->io, path)) != 0)
    rc = spot__fail(rc, "cannot remove %s: %s", path, spot_strerror(rc));
fail:
  if (lf)
    ns->io->close(lf);
  if (nf)
    ns->io->close(nf);
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
  int rc = spot__grow(&ns->v, &ns->cap, ns->n, sizeof *ns->v, 16);
  if (rc != 0)
    return rc;
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
