/*
 * status.c: the counters of a running node (dispatch/status.h) and reading them (spot/status.h).
 *
 * The node makes DIR/.spot/status when it starts and maps it; its worker processes map the same file; every run
 * adds to it with relaxed atomics (runs, failures, CPU time, energy, a latency bucket, and the same per handler in a
 * slot found by the handler id). Readers map it and copy it out; whether a node serves the namespace now is
 * `running` and the pid being alive (a killed node leaves `running` set). Puts and bytes per log are read from the
 * logs (their latest sequence numbers), so the put path pays nothing for them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "dispatch/dispatch.h"
#include "dispatch/status.h"

#define STATUS_FILE "status"
#define RAPL_PERIOD_NS 1000000000ull /* a RAPL power figure is refreshed at most once a second */

static int status_path(spot_ns_t *ns, char *buf, size_t cap) {
  if ((size_t)snprintf(buf, cap, "%s/.spot/" STATUS_FILE, spot_ns_dir(ns)) >= cap)
    return spot__fail(SPOT_ERANGE, "namespace path is too long");
  return 0;
}

/* Opens (create: making it) and maps the status file; the mapping goes with the file. */
static int map_file(spot_ns_t *ns, int create, spot_file_t **file, spot__status_shm_t **out) {
  spot_io_t *io = spot_io_posix();
  char path[4200];
  int rc = status_path(ns, path, sizeof path);
  spot_file_t *f = NULL;
  uint64_t size = 0;
  void *addr;
  if (rc == 0 && (rc = io->open(io, path, create ? SPOT_IO_CREATE : 0, &f)) != 0)
    return rc == SPOT_ENOTFOUND ? rc : spot__fail(rc, "cannot open %s: %s", path, spot_strerror(rc));
  if (create)
    rc = io->allocate(f, sizeof(spot__status_shm_t));
  if (rc == 0)
    rc = io->size(f, &size);
  if (rc == 0 && size < sizeof(spot__status_shm_t))
    rc = spot__fail(SPOT_ECORRUPT, "%s is %llu bytes, not a node's status (%zu): restart the node", path,
                    (unsigned long long)size, sizeof(spot__status_shm_t));
  if (rc == 0 && (rc = io->map(f, sizeof(spot__status_shm_t), &addr)) != 0)
    rc = spot__fail(rc, "cannot map %s: %s", path, spot_strerror(rc));
  if (rc != 0)
    goto fail;
  *file = f;
  *out = addr;
  return 0;
fail:
  if (f)
    io->close(f);
  return rc;
}

static int keep(spot_ns_t *ns, spot_file_t *f, spot__status_shm_t *s) {
  spot__nsctx_t *c;
  int rc = spot__nsctx_get(ns, &c);
  if (rc != 0) {
    spot_io_posix()->close(f);
    return rc;
  }
  spot__mutex_lock(&c->mu);
  spot_file_t *old = c->status_file;
  c->status_file = f;
  __atomic_store_n(&c->status, (void *)s, __ATOMIC_RELEASE);
  spot__mutex_unlock(&c->mu);
  if (old)
    spot_io_posix()->close(old);
  return 0;
}

int spot__status_serve(spot_ns_t *ns, int mode, unsigned workers, double watts) {
  spot_file_t *f;
  spot__status_shm_t *s;
  int rc = map_file(ns, 1, &f, &s);
  if (rc != 0)
    return rc;
  atomic_store(&s->running, 0); /* readers ignore it while it is filled in */
  memset((char *)s + sizeof s->magic, 0, sizeof *s - sizeof s->magic);
  s->version = SPOT__STATUS_VERSION;
  s->bytes = (uint32_t)sizeof *s;
  s->pid = spot__getpid();
  s->mode = (uint32_t)mode;
  s->workers = workers;
  s->node = spot_ns_node_id(ns);
  s->started_ns = spot__wall_ns();
  uint64_t mw = watts > 0 ? (uint64_t)(watts * 1000.0 + 0.5) : 1;
  uint64_t uj;
  if (spot__rapl_uj(&uj) == 0) {
    s->power_source = SPOT_STATUS_POWER_RAPL;
    atomic_store(&s->rapl_uj, uj);
    atomic_store(&s->rapl_ns, spot__now_ns());
  }
  atomic_store(&s->milliwatts, mw); /* RAPL: until its first figure, a second from now */
  s->magic = SPOT__STATUS_MAGIC;
  atomic_store(&s->running, 1);
  return keep(ns, f, s);
}

void spot__status_unserve(spot_ns_t *ns) {
  spot__status_shm_t *s = spot__status_of(ns);
  if (s)
    atomic_store(&s->running, 0);
}

int spot__status_attach(spot_ns_t *ns) {
  spot_file_t *f;
  spot__status_shm_t *s;
  int rc = map_file(ns, 0, &f, &s);
  if (rc == 0 && (s->magic != SPOT__STATUS_MAGIC || s->version != SPOT__STATUS_VERSION)) {
    spot_io_posix()->close(f);
    return spot__fail(SPOT_ECORRUPT, "the status file of %s is not this version's", spot_ns_dir(ns));
  }
  return rc ? rc : keep(ns, f, s);
}

spot__status_shm_t *spot__status_of(spot_ns_t *ns) {
  spot__nsctx_t *c;
  if (spot__nsctx_get(ns, &c) != 0)
    return NULL;
  return __atomic_load_n(&c->status, __ATOMIC_ACQUIRE);
}

/* ---- counting ---- */

/* RAPL: the package's mean power over the last period, shared over the CPUs (a run uses one). */
static void rapl_refresh(spot__status_shm_t *s) {
  uint64_t now = spot__now_ns(), then = atomic_load_explicit(&s->rapl_ns, memory_order_relaxed);
  if (now - then < RAPL_PERIOD_NS ||
      !atomic_compare_exchange_strong_explicit(&s->rapl_ns, &then, now, memory_order_relaxed, memory_order_relaxed))
    return; /* not yet, or another thread does it */
  uint64_t uj, last = atomic_load_explicit(&s->rapl_uj, memory_order_relaxed);
  if (spot__rapl_uj(&uj) != 0)
    return;
  atomic_store_explicit(&s->rapl_uj, uj, memory_order_relaxed);
  if (uj <= last)
    return; /* the counter wrapped: keep the last figure */
  /* uJ / ns = 1e3 W; per CPU, in mW: (uj - last) * 1e6 / (ns * ncpus) */
  uint64_t mw = (uj - last) * 1000000ull / ((now - then) * spot__ncpus());
  atomic_store_explicit(&s->milliwatts, mw ? mw : 1, memory_order_relaxed);
}

uint64_t spot__status_energy(spot__status_shm_t *s, uint64_t cpu_ns) {
  if (s == NULL)
    return 0;
  if (s->power_source == SPOT_STATUS_POWER_RAPL)
    rapl_refresh(s);
  /* ns x mW = pJ; / 1000 = nJ */
  return cpu_ns * atomic_load_explicit(&s->milliwatts, memory_order_relaxed) / 1000u;
}

static spot__status_handler_t *handler_slot(spot__status_shm_t *s, uint32_t hid) {
  if (hid == 0)
    return NULL;
  for (uint32_t k = 0; k < 8; k++) {
    spot__status_handler_t *h = &s->h[(hid + k) % SPOT__STATUS_HANDLERS];
    uint32_t id = atomic_load_explicit(&h->id, memory_order_acquire);
    if (id == hid)
      return h;
    if (id == 0 && (atomic_compare_exchange_strong(&h->id, &id, hid) || id == hid))
      return h;
  }
  return NULL; /* more handlers than slots near this one: counted in the totals only */
}

void spot__status_run(spot__status_shm_t *s, uint32_t hid, int failed, uint64_t cpu_ns, uint64_t energy_nj) {
  if (s == NULL)
    return;
  atomic_fetch_add_explicit(&s->runs, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->cpu_ns, cpu_ns, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->energy_nj, energy_nj, memory_order_relaxed);
  if (failed)
    atomic_fetch_add_explicit(&s->failures, 1, memory_order_relaxed);
  spot__status_handler_t *h = handler_slot(s, hid);
  if (h == NULL)
    return;
  atomic_fetch_add_explicit(&h->runs, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&h->cpu_ns, cpu_ns, memory_order_relaxed);
  atomic_fetch_add_explicit(&h->energy_nj, energy_nj, memory_order_relaxed);
  if (failed)
    atomic_fetch_add_explicit(&h->failures, 1, memory_order_relaxed);
}

void spot__status_latency(spot__status_shm_t *s, uint64_t latency_ns) {
  if (s == NULL)
    return;
  unsigned b = 0;
  while (b + 1 < SPOT_STATUS_BUCKETS && latency_ns >= SPOT_STATUS_BUCKET_NS(b))
    b++;
  atomic_fetch_add_explicit(&s->latency[b], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->latency_sum_ns, latency_ns, memory_order_relaxed);
}

void spot__status_taken(spot__status_shm_t *s, uint64_t upto) {
  if (s == NULL)
    return;
  uint64_t cur = atomic_load_explicit(&s->taken, memory_order_relaxed);
  while (cur < upto &&
         !atomic_compare_exchange_weak_explicit(&s->taken, &cur, upto, memory_order_relaxed, memory_order_relaxed)) {
  }
}

/* ---- reading ---- */

uint64_t spot_status_quantile(const spot_status_t *st, double q) {
  uint64_t n = 0;
  for (unsigned b = 0; b < SPOT_STATUS_BUCKETS; b++)
    n += st->latency[b];
  if (n == 0)
    return 0;
  double want = q * (double)n, seen = 0;
  for (unsigned b = 0; b < SPOT_STATUS_BUCKETS; b++) {
    if (st->latency[b] == 0 || seen + (double)st->latency[b] < want) {
      seen += (double)st->latency[b];
      continue;
    }
    double lo = b == 0 ? 0 : (double)SPOT_STATUS_BUCKET_NS(b - 1);
    double hi = b + 1 < SPOT_STATUS_BUCKETS ? (double)SPOT_STATUS_BUCKET_NS(b) : lo * 2;
    return (uint64_t)(lo + (hi - lo) * ((want - seen) / (double)st->latency[b]));
  }
  return (uint64_t)SPOT_STATUS_BUCKET_NS(SPOT_STATUS_BUCKETS - 1);
}

typedef struct collect {
  spot_status_t *st;
  spot_ns_t *ns;
  size_t cap;
  int rc;
} collect_t;

static int add_handler(const spot_handler_info_t *info, void *arg) {
  collect_t *c = arg;
  spot_status_t *st = c->st;
  if (st->nhandlers == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 16;
    spot_status_handler_t *v = realloc(st->handlers, cap * sizeof *v);
    if (v == NULL)
      return c->rc = SPOT_ENOMEM;
    st->handlers = v;
    c->cap = cap;
  }
  spot_status_handler_t *h = &st->handlers[st->nhandlers++];
  memset(h, 0, sizeof *h);
  snprintf(h->name, sizeof h->name, "%s", info->name);
  h->id = info->id;
  return 0;
}

static int add_log(const char *name, void *arg) {
  collect_t *c = arg;
  spot_status_t *st = c->st;
  spot_log_t *l;
  if (spot__ns_log(c->ns, name, &l) != 0)
    return 0; /* removed meanwhile, or damaged: `spot check` says */
  if (st->nlogs == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 16;
    spot_status_log_t *v = realloc(st->logs, cap * sizeof *v);
    if (v == NULL)
      return c->rc = SPOT_ENOMEM;
    st->logs = v;
    c->cap = cap;
  }
  spot_status_log_t *g = &st->logs[st->nlogs++];
  memset(g, 0, sizeof *g);
  snprintf(g->name, sizeof g->name, "%s", name);
  spot_log_latest(l, &g->puts);
  g->bytes = g->puts * spot__log_elem_size(l);
  return 0;
}

static void copy_counters(const spot__status_shm_t *s, spot_status_t *st) {
  st->pid = s->pid;
  st->started_ns = s->started_ns;
  st->mode = (int)s->mode;
  st->workers = s->workers;
  st->power_source = (int)s->power_source;
  st->milliwatts = atomic_load(&s->milliwatts);
  st->runs = atomic_load(&s->runs);
  st->failures = atomic_load(&s->failures);
  st->cpu_ns = atomic_load(&s->cpu_ns);
  st->energy_nj = atomic_load(&s->energy_nj);
  st->worker_restarts = atomic_load(&s->worker_restarts);
  st->latency_sum_ns = atomic_load(&s->latency_sum_ns);
  for (unsigned b = 0; b < SPOT_STATUS_BUCKETS; b++)
    st->latency[b] = atomic_load(&s->latency[b]);
}

static void copy_handlers(const spot__status_shm_t *s, spot_status_t *st) {
  for (size_t i = 0; i < st->nhandlers; i++) {
    spot_status_handler_t *h = &st->handlers[i];
    for (uint32_t k = 0; k < 8; k++) {
      const spot__status_handler_t *x = &s->h[(h->id + k) % SPOT__STATUS_HANDLERS];
      if (atomic_load(&x->id) == h->id) {
        h->runs = atomic_load(&x->runs);
        h->failures = atomic_load(&x->failures);
        h->cpu_ns = atomic_load(&x->cpu_ns);
        h->energy_nj = atomic_load(&x->energy_nj);
        break;
      }
    }
  }
}

int spot_status_read(spot_ns_t *ns, spot_status_t *out) {
  spot_status_t st;
  memset(&st, 0, sizeof st);
  st.node = spot_ns_node_id(ns);
  spot__status_shm_t *s = spot__status_of(ns), *mapped = NULL;
  spot_file_t *f = NULL;
  int rc = 0;
  if (s == NULL) {
    rc = map_file(ns, 0, &f, &mapped);
    if (rc == SPOT_ENOTFOUND)
      rc = 0, spot__clear_detail(); /* no node ever ran here */
    else if (rc == 0 && (mapped->magic != SPOT__STATUS_MAGIC || mapped->version != SPOT__STATUS_VERSION))
      rc = spot__fail(SPOT_ECORRUPT, "the status file of %s is not this version's: restart its node",
                      spot_ns_dir(ns));
    s = mapped;
  }
  if (rc != 0)
    goto fail;
  collect_t c = {&st, ns, 0, 0};
  if ((rc = spot_ns_handlers(ns, add_handler, &c)) != 0 || (rc = c.rc) != 0)
    goto fail;
  c.cap = 0;
  if ((rc = spot_ns_list(ns, add_log, &c)) != 0 || (rc = c.rc) != 0)
    goto fail;
  if (s != NULL) {
    copy_counters(s, &st);
    copy_handlers(s, &st);
    st.served = atomic_load(&s->running) == 1 && spot__pid_alive(s->pid);
    if (st.served) {
      uint64_t now = spot__wall_ns();
      st.uptime_ns = now > st.started_ns ? now - st.started_ns : 0;
      spot_log_t *triggers;
      uint64_t latest = 0, taken = atomic_load(&s->taken);
      if (spot__nsctx_triggers(ns, &triggers) == 0)
        spot_log_latest(triggers, &latest);
      st.queue_depth = latest > taken ? latest - taken : 0;
    }
  }
  st.p50_ns = spot_status_quantile(&st, 0.50);
  st.p99_ns = spot_status_quantile(&st, 0.99);
  if (f)
    spot_io_posix()->close(f);
  spot__clear_detail();
  *out = st;
  return 0;
fail:
  if (f)
    spot_io_posix()->close(f);
  spot_status_free(&st);
  return rc;
}

void spot_status_free(spot_status_t *st) {
  free(st->handlers);
  free(st->logs);
  st->handlers = NULL;
  st->logs = NULL;
  st->nhandlers = st->nlogs = 0;
}
