/*
 * registry.c: which handlers exist, in this process and in a namespace.
 *
 * In a process: SPOT_HANDLER's constructor calls spot_handler_register(), which files the definition in a table
 * (a program with built-in handlers, or a handler object just loaded with dlopen). In a namespace: the registry log
 * .spot/handlers.log holds one record per registration {name, object file}; a handler's id is the sequence number of
 * its first registration (stable, so it can mark elements), its current object the latest record's file. A put
 * naming a handler the registry does not know is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/grow.h"
#include "core/name.h"
#include "dispatch/dispatch.h"

/* ---- the process's table ---- */

#define MAX_PROCESS_HANDLERS 1024

static const spot_handler_def_t *table[MAX_PROCESS_HANDLERS];
static int ntable;
static spot__mutex_t table_mu; /* guards the table and on_register */
static spot__mutex_t load_mu;  /* held across a whole load: one dlopen (and its on_register) at a time */
static int mu_ready;           /* 0: not yet, 1: being initialised, 2: ready */
static int (*on_register)(const spot_handler_def_t *, void *);
static void *on_register_arg;

static void mu_init(void) {
  int expected = 0;
  if (__atomic_compare_exchange_n(&mu_ready, &expected, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
    spot__mutex_init(&table_mu);
    spot__mutex_init(&load_mu);
    __atomic_store_n(&mu_ready, 2, __ATOMIC_RELEASE);
  }
  while (__atomic_load_n(&mu_ready, __ATOMIC_ACQUIRE) != 2) {
  }
}

static void table_lock(void) {
  mu_init(); /* constructors run before main: initialise on first use */
  spot__mutex_lock(&table_mu);
}

void spot_handler_register(const spot_handler_def_t *def) {
  if (def == NULL || def->abi != SPOT_HANDLER_ABI || def->fn == NULL || spot__name_check(def->name, "handler") != 0)
    return; /* an object built for another spot: ignored, and missing at lookup */
  table_lock();
  int i;
  for (i = 0; i < ntable && strcmp(table[i]->name, def->name) != 0; i++) {
  }
  if (i < ntable)
    table[i] = def; /* a newer version replaces the older */
  else if (ntable < MAX_PROCESS_HANDLERS)
    table[ntable++] = def;
  if (on_register)
    on_register(def, on_register_arg);
  spot__mutex_unlock(&table_mu);
}

spot_handler_fn spot__handler_find(const char *name) {
  spot_handler_fn fn = NULL;
  table_lock();
  for (int i = 0; i < ntable; i++)
    if (strcmp(table[i]->name, name) == 0)
      fn = table[i]->fn;
  spot__mutex_unlock(&table_mu);
  return fn;
}

int spot__handler_each(int (*fn)(const spot_handler_def_t *, void *), void *arg) {
  const spot_handler_def_t *copy[MAX_PROCESS_HANDLERS];
  table_lock();
  int n = ntable;
  memcpy(copy, table, (size_t)n * sizeof copy[0]);
  spot__mutex_unlock(&table_mu);
  for (int i = 0; i < n; i++) {
    int rc = fn(copy[i], arg);
    if (rc != 0)
      return rc;
  }
  return 0;
}

int spot__handler_load(const char *path, int (*fn)(const spot_handler_def_t *, void *), void *arg) {
  char err[512];
  mu_init();
  spot__mutex_lock(&load_mu); /* so a concurrent load cannot take over or clear on_register during this dlopen */
  table_lock();
  on_register = fn;
  on_register_arg = arg;
  spot__mutex_unlock(&table_mu);
  void *h = spot__dl_open(path, err, sizeof err);
  table_lock();
  on_register = NULL;
  on_register_arg = NULL;
  spot__mutex_unlock(&table_mu);
  spot__mutex_unlock(&load_mu);
  if (h == NULL)
    return spot__fail(SPOT_EINVAL, "cannot load handler object %s: %s", path, err);
  return 0;
}

/* ---- the namespace's registry ---- */

typedef struct record {
  char name[64];
  char file[176];
  uint32_t id; /* the handler's id (the sequence number of its first record); 0 in a first record, and in records
                  written before ids were kept: then the id is the sequence number of the first record seen */
  uint32_t removed; /* 1: the name was removed (spot_ns_remove_handler); 0 in every older record */
} record_t;

/* Loads registry records newer than what c has seen. Caller holds c->mu. */
static int refresh(spot__nsctx_t *c, spot_log_t *reg) {
  uint64_t hi, lo;
  spot_log_latest(reg, &hi);
  if (hi == c->registry_seen)
    return 0;
  spot_log_earliest(reg, &lo);
  uint8_t buf[SPOT__REG_RECORD];
  for (uint64_t s = c->registry_seen + 1; s <= hi; s++) {
    if (s < lo)
      continue;
    int rc = spot_log_read(reg, s, buf, sizeof buf);
    if (rc != 0)
      return rc;
    record_t r;
    memcpy(&r, buf, sizeof r);
    r.name[63] = r.file[175] = '\0';
    size_t i;
    for (i = 0; i < c->nreg && strcmp(c->reg[i].name, r.name) != 0; i++) {
    }
    if (r.removed == 1) { /* the name is gone: a later registration starts a new id */
      if (i < c->nreg) {
        memmove(&c->reg[i], &c->reg[i + 1], (c->nreg - i - 1) * sizeof c->reg[0]);
        c->nreg--;
      }
      continue;
    }
    if (i == c->nreg) {
      if ((rc = spot__grow(&c->reg, &c->capreg, c->nreg, sizeof *c->reg, 16)) != 0)
        return rc;
      memset(&c->reg[i], 0, sizeof c->reg[i]);
      c->reg[i].id = r.id ? r.id : (uint32_t)s;
      memcpy(c->reg[i].name, r.name, sizeof r.name);
      c->nreg++;
    }
    memcpy(c->reg[i].file, r.file, sizeof r.file);
    c->reg[i].version = s;
  }
  /* on disk before any id read here can mark an element: an id that a power cut could hand out again would run
   * a durable put's handler by the wrong name (whatever the log's sync setting: older namespaces made it none) */
  int rc = spot_log_wait_durable(reg, hi);
  if (rc != 0)
    return rc;
  c->registry_seen = hi;
  return 0;
}

int spot__registry_lookup(spot_ns_t *ns, const char *name, spot__reg_entry_t *out) {
  int rc = spot__name_check(name, "handler");
  if (rc != 0)
    return rc;
  spot_log_t *reg;
  spot__nsctx_t *c;
  if ((rc = spot__nsctx_registry(ns, &reg)) != 0 || (rc = spot__nsctx_get(ns, &c)) != 0)
    return rc;
  spot__mutex_lock(&c->mu);
  rc = refresh(c, reg);
  size_t i = 0;
  for (; rc == 0 && i < c->nreg; i++)
    if (strcmp(c->reg[i].name, name) == 0) {
      *out = c->reg[i];
      break;
    }
  if (rc == 0 && i == c->nreg)
    rc = spot__fail(SPOT_ENOTFOUND,
                    "handler %s is not registered in %s (see `spot handlers`; build one with `spot build-handler`)",
                    name, spot_ns_dir(ns));
  spot__mutex_unlock(&c->mu);
  return rc;
}

int spot__registry_by_id(spot_ns_t *ns, uint32_t id, spot__reg_entry_t *out) {
  spot_log_t *reg;
  spot__nsctx_t *c;
  int rc = spot__nsctx_registry(ns, &reg);
  if (rc == 0)
    rc = spot__nsctx_get(ns, &c);
  if (rc != 0)
    return rc;
  spot__mutex_lock(&c->mu);
  rc = refresh(c, reg);
  size_t i = 0;
  for (; rc == 0 && i < c->nreg; i++)
    if (c->reg[i].id == id) {
      *out = c->reg[i];
      break;
    }
  if (rc == 0 && i == c->nreg)
    rc = spot__fail(SPOT_ENOTFOUND, "no handler with id %u in %s", id, spot_ns_dir(ns));
  spot__mutex_unlock(&c->mu);
  return rc;
}

int spot_ns_register_handler(spot_ns_t *ns, const char *name, const char *file) {
  int rc = spot__name_check(name, "handler");
  if (rc != 0)
    return rc;
  if (file == NULL)
    file = "";
  if (strlen(file) >= 176 || strchr(file, '/'))
    return spot__fail(SPOT_EINVAL, "handler object name '%s' must be a plain file name under .spot/handlers", file);
  spot__reg_entry_t cur;
  int known = spot__registry_lookup(ns, name, &cur) == 0;
  if (known && strcmp(cur.file, file) == 0)
    return 0; /* already registered with this object */
  spot_log_t *reg;
  if ((rc = spot__nsctx_registry(ns, &reg)) != 0)
    return rc;
  record_t r;
  memset(&r, 0, sizeof r);
  snprintf(r.name, sizeof r.name, "%s", name);
  snprintf(r.file, sizeof r.file, "%s", file);
  r.id = known ? cur.id : 0; /* the id survives the expiry of the first record */
  uint8_t buf[SPOT__REG_RECORD] = {0};
  memcpy(buf, &r, sizeof r);
  uint64_t seq;
  rc = spot_log_append(reg, buf, sizeof buf, &seq);
  if (rc == 0)
    rc = spot_log_wait_durable(reg, seq); /* durable before it is used, whatever the log's setting */
  return rc;
}

static int bound_to(const char *log, const char *handler, void *arg) {
  const char *name = arg;
  if (strcmp(handler, name) != 0)
    return 0;
  return spot__fail(SPOT_EBUSY, "handler %s runs on every put to log %s; `spot unbind %s %s` first, then remove it",
                    name, log, log, name);
}

int spot_ns_remove_handler(spot_ns_t *ns, const char *name) {
  spot__reg_entry_t cur;
  int rc = spot__registry_lookup(ns, name, &cur);
  if (rc != 0)
    return rc;
  if ((rc = spot_bindings(ns, bound_to, (void *)name)) != 0)
    return rc;
  spot_log_t *reg;
  if ((rc = spot__nsctx_registry(ns, &reg)) != 0)
    return rc;
  record_t r;
  memset(&r, 0, sizeof r);
  snprintf(r.name, sizeof r.name, "%s", name);
  r.id = cur.id;
  r.removed = 1;
  uint8_t buf[SPOT__REG_RECORD] = {0};
  memcpy(buf, &r, sizeof r);
  uint64_t seq;
  rc = spot_log_append(reg, buf, sizeof buf, &seq);
  if (rc == 0)
    rc = spot_log_wait_durable(reg, seq);
  return rc;
}

int spot_ns_handlers(spot_ns_t *ns, spot_ns_handler_fn fn, void *arg) {
  spot_log_t *reg;
  spot__nsctx_t *c;
  int rc = spot__nsctx_registry(ns, &reg);
  if (rc == 0)
    rc = spot__nsctx_get(ns, &c);
  if (rc != 0)
    return rc;
  spot__mutex_lock(&c->mu);
  rc = refresh(c, reg);
  size_t n = c->nreg;
  spot__reg_entry_t *copy = n ? malloc(n * sizeof *copy) : NULL;
  if (rc == 0 && n && copy == NULL)
    rc = SPOT_ENOMEM;
  if (rc == 0 && n)
    memcpy(copy, c->reg, n * sizeof *copy);
  spot__mutex_unlock(&c->mu);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    spot_handler_info_t info;
    memset(&info, 0, sizeof info);
    info.id = copy[i].id;
    info.version = copy[i].version;
    snprintf(info.name, sizeof info.name, "%s", copy[i].name);
    snprintf(info.file, sizeof info.file, "%s", copy[i].file);
    rc = fn(&info, arg);
  }
  free(copy);
  return rc;
}

/* ---- installing handler objects ---- */

#define PROBE_TIMEOUT_NS 10000000000ull /* an object's constructors get 10 s */
#define PROBE_OUT 8192u

/* What a probe child hands back: the names of the handlers the object registers, or why it could not be loaded. */
typedef struct probe_out {
  int32_t n;         /* names found; -1: not loadable, see msg */
  char msg[512];
  char names[(PROBE_OUT - 516) / 64][64];
} probe_out_t;

static int probe_collect(const spot_handler_def_t *def, void *arg) {
  probe_out_t *p = arg;
  if (p->n >= 0 && (size_t)p->n < sizeof p->names / sizeof p->names[0])
    snprintf(p->names[p->n++], 64, "%s", def->name);
  return 0;
}

/* In the probe child (only this thread exists): load the object and note the handlers it registers. */
static int probe_child(void *arg, void *out, size_t cap, size_t *len) {
  const char *path = arg;
  probe_out_t *p = out;
  if (cap < sizeof *p)
    return SPOT_EINVAL;
  memset(p, 0, sizeof *p);
  /* a thread of the parent may have held these at the fork: they are this process's alone now */
  spot__mutex_init(&table_mu);
  spot__mutex_init(&load_mu);
  int rc = spot__handler_load(path, probe_collect, p);
  if (rc != 0) {
    p->n = -1;
    snprintf(p->msg, sizeof p->msg, "%s", spot_errdetail());
  }
  *len = sizeof *p;
  return rc;
}

/* Loads the object at path in a short-lived child process, never in this one: constructors that crash, hang or
 * exit take down only the child. names gets the handlers it defines (at most cap), *n how many. */
static int probe_object(const char *path, const char *shown, char (*names)[64], int cap, int *n) {
  probe_out_t *p = malloc(sizeof *p);
  if (p == NULL)
    return SPOT_ENOMEM;
  size_t len = 0;
  int fn_rc = 0, sig = 0;
  mu_init();
  int rc = spot__run_isolated(probe_child, (void *)path, p, sizeof *p, &len, &fn_rc, &sig, PROBE_TIMEOUT_NS);
  if (rc == SPOT_ETIMEDOUT)
    rc = spot__fail(SPOT_EINVAL, "handler object %s did not finish loading within %llu s (a constructor that never "
                    "returns?); it was not installed", shown, PROBE_TIMEOUT_NS / 1000000000ull);
  else if (rc == SPOT_EIO && sig)
    rc = spot__fail(SPOT_EINVAL, "handler object %s crashed while loading (%s in its constructors); it was not "
                    "installed: fix the object and deploy it again", shown, spot__signame(sig));
  else if (rc == SPOT_EIO)
    rc = spot__fail(SPOT_EINVAL, "handler object %s ended the process while loading (exit in a constructor?); it "
                    "was not installed", shown);
  else if (rc != 0)
    rc = spot__fail(rc, "cannot start a process to check handler object %s", shown);
  else if (fn_rc != 0 || len != sizeof *p || p->n < 0)
    rc = spot__fail(SPOT_EINVAL, "%s", p->msg[0] ? p->msg : "the handler object cannot be loaded");
  else if (p->n == 0)
    rc = spot__fail(SPOT_EINVAL, "the object defines no handler: add SPOT_HANDLER(function) after a handler function");
  if (rc == 0) {
    int k = 0;
    for (; k < p->n && k < cap; k++) {
      p->names[k][63] = '\0';
      memcpy(names[k], p->names[k], 64);
    }
    *n = k;
  }
  free(p);
  return rc;
}

int spot_ns_install_handlers(spot_ns_t *ns, const char *stem, const void *bytes, size_t len, char (*names)[64],
                             int cap, int *n) {
  char file[128], rel[160], path[4096], tmp[4200];
  uint64_t unique;
  spot__random(&unique, sizeof unique);
  char clean[48];
  size_t k = 0;
  for (const char *c = stem; *c && *c != '.' && k + 1 < sizeof clean; c++)
    clean[k++] = (char)((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ? *c : '_');
  clean[k] = '\0';
  snprintf(file, sizeof file, "%s-%016llx.so", clean[0] ? clean : "handler", (unsigned long long)unique);
  snprintf(rel, sizeof rel, "handlers/%s", file);
  int rc = spot__ns_path(ns, rel, path, sizeof path);
  if (rc != 0)
    return rc;
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  /* on disk (synced, then renamed durably) before the registry can name it: a power cut never leaves a registered
   * handler without its object */
  rc = spot__write_private(tmp, bytes, len);
  if (rc == 0 && (rc = spot_io_posix()->rename(spot_io_posix(), tmp, path)) != 0)
    spot_io_posix()->remove(spot_io_posix(), tmp);
  if (rc != 0)
    return spot__fail(rc, "cannot write the handler object %s: %s", path, spot_strerror(rc));
  int found = 0;
  rc = probe_object(path, stem, names, cap, &found);
  int registered = 0;
  for (int i = 0; rc == 0 && i < found; i++)
    if ((rc = spot_ns_register_handler(ns, names[i], file)) == 0)
      registered++;
  if (rc != 0) {
    if (registered == 0) /* else names point at it already: it stays (the rest can be registered again) */
      spot_io_posix()->remove(spot_io_posix(), path);
    return rc;
  }
  *n = found;
  return 0;
}
