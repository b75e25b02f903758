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
#include "core/name.h"
#include "dispatch/dispatch.h"
#include "store/ns_impl.h"

/* ---- the process's table ---- */

#define MAX_PROCESS_HANDLERS 1024

static const spot_handler_def_t *table[MAX_PROCESS_HANDLERS];
static int ntable;
static spot__mutex_t table_mu;
static int table_mu_ready;
static int (*on_register)(const spot_handler_def_t *, void *);
static void *on_register_arg;

static void table_lock(void) {
  /* constructors run before main, single-threaded: initialise on first use */
  if (!__atomic_load_n(&table_mu_ready, __ATOMIC_ACQUIRE)) {
    spot__mutex_init(&table_mu);
    __atomic_store_n(&table_mu_ready, 1, __ATOMIC_RELEASE);
  }
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
  table_lock();
  on_register = fn;
  on_register_arg = arg;
  spot__mutex_unlock(&table_mu);
  void *h = spot__dl_open(path, err, sizeof err);
  table_lock();
  on_register = NULL;
  on_register_arg = NULL;
  spot__mutex_unlock(&table_mu);
  if (h == NULL)
    return spot__fail(SPOT_EINVAL, "cannot load handler object %s: %s", path, err);
  return 0;
}

/* ---- the namespace's registry ---- */

typedef struct record {
  char name[64];
  char file[176];
} record_t;

/* Loads registry records newer than what ns has seen. Caller holds ns->mu. */
static int refresh(spot_ns_t *ns, spot_log_t *reg) {
  uint64_t hi, lo;
  spot_log_latest(reg, &hi);
  if (hi == ns->registry_seen)
    return 0;
  spot_log_earliest(reg, &lo);
  uint8_t buf[SPOT__REG_RECORD];
  for (uint64_t s = ns->registry_seen + 1; s <= hi; s++) {
    if (s < lo)
      continue;
    int rc = spot_log_read(reg, s, buf, sizeof buf);
    if (rc != 0)
      return rc;
    record_t r;
    memcpy(&r, buf, sizeof r);
    r.name[63] = r.file[175] = '\0';
    size_t i;
    for (i = 0; i < ns->nreg && strcmp(ns->reg[i].name, r.name) != 0; i++) {
    }
    if (i == ns->nreg) {
      if (ns->nreg == ns->capreg) {
        size_t cap = ns->capreg ? ns->capreg * 2 : 16;
        spot__reg_entry_t *v = realloc(ns->reg, cap * sizeof *v);
        if (v == NULL)
          return SPOT_ENOMEM;
        ns->reg = v;
        ns->capreg = cap;
      }
      memset(&ns->reg[i], 0, sizeof ns->reg[i]);
      ns->reg[i].id = (uint32_t)s;
      memcpy(ns->reg[i].name, r.name, sizeof r.name);
      ns->nreg++;
    }
    memcpy(ns->reg[i].file, r.file, sizeof r.file);
    ns->reg[i].version = s;
  }
  ns->registry_seen = hi;
  return 0;
}

int spot__ns_handler_lookup(spot_ns_t *ns, const char *name, spot__reg_entry_t *out) {
  int rc = spot__name_check(name, "handler");
  if (rc != 0)
    return rc;
  spot_log_t *reg;
  if ((rc = spot__ns_registry(ns, &reg)) != 0)
    return rc;
  spot__mutex_lock(&ns->mu);
  rc = refresh(ns, reg);
  size_t i = 0;
  for (; rc == 0 && i < ns->nreg; i++)
    if (strcmp(ns->reg[i].name, name) == 0) {
      *out = ns->reg[i];
      break;
    }
  if (rc == 0 && i == ns->nreg)
    rc = spot__fail(SPOT_ENOTFOUND,
                    "handler %s is not registered in %s (see `spot handlers`; build one with `spot build-handler`)",
                    name, ns->dir);
  spot__mutex_unlock(&ns->mu);
  return rc;
}

int spot__ns_handler_by_id(spot_ns_t *ns, uint32_t id, spot__reg_entry_t *out) {
  spot_log_t *reg;
  int rc = spot__ns_registry(ns, &reg);
  if (rc != 0)
    return rc;
  spot__mutex_lock(&ns->mu);
  rc = refresh(ns, reg);
  size_t i = 0;
  for (; rc == 0 && i < ns->nreg; i++)
    if (ns->reg[i].id == id) {
      *out = ns->reg[i];
      break;
    }
  if (rc == 0 && i == ns->nreg)
    rc = spot__fail(SPOT_ENOTFOUND, "no handler with id %u in %s", id, ns->dir);
  spot__mutex_unlock(&ns->mu);
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
  if (spot__ns_handler_lookup(ns, name, &cur) == 0 && strcmp(cur.file, file) == 0)
    return 0; /* already registered with this object */
  spot_log_t *reg;
  if ((rc = spot__ns_registry(ns, &reg)) != 0)
    return rc;
  record_t r;
  memset(&r, 0, sizeof r);
  snprintf(r.name, sizeof r.name, "%s", name);
  snprintf(r.file, sizeof r.file, "%s", file);
  uint8_t buf[SPOT__REG_RECORD] = {0};
  memcpy(buf, &r, sizeof r);
  return spot_log_append(reg, buf, sizeof buf, NULL);
}

int spot_ns_handlers(spot_ns_t *ns, spot_ns_handler_fn fn, void *arg) {
  spot_log_t *reg;
  int rc = spot__ns_registry(ns, &reg);
  if (rc != 0)
    return rc;
  spot__mutex_lock(&ns->mu);
  rc = refresh(ns, reg);
  size_t n = ns->nreg;
  spot__reg_entry_t *copy = n ? malloc(n * sizeof *copy) : NULL;
  if (rc == 0 && n && copy == NULL)
    rc = SPOT_ENOMEM;
  if (rc == 0 && n)
    memcpy(copy, ns->reg, n * sizeof *copy);
  spot__mutex_unlock(&ns->mu);
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

typedef struct found_names {
  char (*names)[64];
  int n, cap;
} found_names_t;

static int collect_name(const spot_handler_def_t *def, void *arg) {
  found_names_t *f = arg;
  if (f->n < f->cap)
    snprintf(f->names[f->n++], 64, "%s", def->name);
  return 0;
}

int spot__ns_install_object(spot_ns_t *ns, const char *stem, const void *bytes, size_t len, char (*names)[64],
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
  FILE *f = fopen(tmp, "wb");
  int ok = f && fwrite(bytes, 1, len, f) == len;
  if (f && fclose(f) != 0)
    ok = 0;
  if (!ok || spot_io_posix()->rename(spot_io_posix(), tmp, path) != 0) {
    remove(tmp);
    return spot__fail(SPOT_EIO, "cannot write the handler object %s", path);
  }
  found_names_t found = {.names = names, .n = 0, .cap = cap};
  rc = spot__handler_load(path, collect_name, &found);
  if (rc == 0 && found.n == 0)
    rc = spot__fail(SPOT_EINVAL, "the object defines no handler: add SPOT_HANDLER(function) after a handler function");
  for (int i = 0; rc == 0 && i < found.n; i++)
    rc = spot_ns_register_handler(ns, names[i], file);
  if (rc != 0) {
    remove(path);
    return rc;
  }
  *n = found.n;
  return 0;
}
