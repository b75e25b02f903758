/*
 * workers.c: worker mode. Handlers run in pre-started worker processes, so one that crashes (SIGSEGV, abort) or
 * overruns its time limit takes down only its worker: the node records a fail event with the reason and starts a
 * new worker.
 *
 * The node and its workers share a small memory region (memfd) with one mailbox per worker. One dispatcher thread
 * in the node follows the event log as thread mode does, and hands each marked put to an idle worker by writing
 * the trigger's slot into its mailbox and waking it (a futex); the worker runs the handler (writing the start and
 * end events itself), then marks itself idle and wakes the dispatcher. The dispatcher alone assigns work, so it
 * always knows which put a dead worker was running. Workers die with the node (PR_SET_PDEATHSIG).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "dispatch/node_impl.h"
#include "store/store.h"

enum { W_STARTING = 0, W_IDLE = 1, W_ASSIGNED = 2, W_RUNNING = 3 };

typedef struct mailbox {
  _Alignas(64) uint32_t state; /* futex word, W_* */
  int32_t pid;
  uint64_t put_id;   /* the trigger slot being run */
  uint64_t start_id; /* its start event, once written */
  uint64_t start_ns; /* monotonic, when the worker took it */
} mailbox_t;

typedef struct shm {
  _Alignas(64) uint32_t idle; /* futex word: bumped by a worker going idle */
  uint32_t nworkers;
  mailbox_t box[SPOT__MAX_WORKERS];
} shm_t;

struct spot__workers {
  spot_node_t *node;
  shm_t *shm;
  int fd;
  int timed_out[SPOT__MAX_WORKERS];
  spot__thread_t thread;
  int thread_started;
};

static uint32_t load32(uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void store32(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

static int spawn(spot__workers_t *w, unsigned i) {
  char fd[16], idx[16];
  snprintf(fd, sizeof fd, "%d", w->fd);
  snprintf(idx, sizeof idx, "%u", i);
  char *argv[] = {(char *)w->node->opts.worker_exe, "--worker", fd, idx, (char *)spot_ns_dir(w->node->ns), NULL};
  store32(&w->shm->box[i].state, W_STARTING);
  w->timed_out[i] = 0;
  int pid = spot__spawn(argv, w->fd);
  if (pid < 0)
    return spot__fail(pid, "cannot start worker process %s", w->node->opts.worker_exe);
  w->shm->box[i].pid = pid;
  return 0;
}

/* Handles dead workers (a fail event for what they ran, a new worker) and kills those over their time limit. */
static void supervise(spot__workers_t *w) {
  spot_node_t *node = w->node;
  int sig, status, pid;
  while ((pid = spot__reap(&sig, &status)) > 0) {
    unsigned i;
    for (i = 0; i < w->shm->nworkers && w->shm->box[i].pid != pid; i++) {
    }
    if (i == w->shm->nworkers)
      continue;
    mailbox_t *b = &w->shm->box[i];
    uint32_t st = load32(&b->state);
    if (st == W_ASSIGNED || st == W_RUNNING) {
      spot__event_t put;
      char reason[48];
      if (w->timed_out[i])
        snprintf(reason, sizeof reason, "timed out after %u ms", node->opts.timeout_ms);
      else if (sig)
        snprintf(reason, sizeof reason, "worker killed by %s", spot__signame(sig));
      else
        snprintf(reason, sizeof reason, "worker exited with status %d", status);
      uint64_t ran = st == W_RUNNING ? spot__now_ns() - b->start_ns : 0;
      if (spot__ns_trigger_read(node->ns, b->put_id, &put) == 0)
        spot__invoke_failed(node->ns, &put, __atomic_load_n(&b->start_id, __ATOMIC_ACQUIRE),
                            w->timed_out[i] ? SPOT_ETIMEDOUT : SPOT_EIO, reason, ran);
      atomic_fetch_add(&node->failed, 1);
      if (!node->opts.quiet)
        fprintf(stderr, "spot: handler %s on %s #%llu failed: %s; starting a new worker\n", put.handler, put.log,
                (unsigned long long)put.seq, reason);
    }
    b->pid = 0;
    atomic_fetch_add(&node->worker_restarts, 1);
    if (!atomic_load(&node->stop) && spawn(w, i) != 0)
      fprintf(stderr, "spot: %s\n", spot_errdetail());
  }
  if (node->opts.timeout_ms == 0)
    return;
  uint64_t now = spot__now_ns(), limit = (uint64_t)node->opts.timeout_ms * 1000000u;
  for (unsigned i = 0; i < w->shm->nworkers; i++) {
    mailbox_t *b = &w->shm->box[i];
    if (load32(&b->state) == W_RUNNING && !w->timed_out[i] && now - b->start_ns > limit) {
      w->timed_out[i] = 1;
      spot__kill(b->pid, 1);
    }
  }
}

static int idle_worker(spot__workers_t *w) {
  for (unsigned i = 0; i < w->shm->nworkers; i++)
    if (load32(&w->shm->box[i].state) == W_IDLE)
      return (int)i;
  return -1;
}

static void assign(spot__workers_t *w, uint64_t put_id) {
  spot_node_t *node = w->node;
  for (;;) {
    uint32_t idle = load32(&w->shm->idle);
    int i = idle_worker(w);
    if (i >= 0) {
      mailbox_t *b = &w->shm->box[i];
      b->put_id = put_id;
      __atomic_store_n(&b->start_id, 0, __ATOMIC_RELEASE);
      store32(&b->state, W_ASSIGNED);
      spot__futex_wake(&b->state);
      atomic_fetch_add(&node->started, 1);
      return;
    }
    spot__futex_wait(&w->shm->idle, idle, 10000000ull);
    supervise(w);
  }
}

static void *dispatcher_main(void *arg) {
  spot__workers_t *w = arg;
  spot_node_t *node = w->node;
  for (size_t r = 0; r < node->nrerun; r++)
    assign(w, node->rerun[r]);
  while (!atomic_load(&node->stop)) {
    uint64_t t = atomic_load(&node->cursor);
    if (spot_log_wait_newer(node->triggers, t - 1, 10000000ull) == SPOT_ETIMEDOUT) {
      supervise(w);
      continue;
    }
    atomic_store(&node->cursor, t + 1);
    if (spot__log_pending(node->triggers, t) != 0)
      assign(w, t);
  }
  return NULL;
}

int spot__workers_start(spot_node_t *node, spot__workers_t **out) {
  if (node->opts.worker_exe == NULL)
    return spot__fail(SPOT_EINVAL, "worker mode needs the worker program (spotd)");
  spot__workers_t *w = calloc(1, sizeof *w);
  if (w == NULL)
    return SPOT_ENOMEM;
  w->node = node;
  int rc = spot__shm_create(sizeof(shm_t), &w->fd, (void **)&w->shm);
  if (rc != 0) {
    free(w);
    return spot__fail(rc, "cannot create the workers' shared memory");
  }
  memset(w->shm, 0, sizeof *w->shm);
  w->shm->nworkers = node->opts.workers;
  for (unsigned i = 0; i < node->opts.workers && rc == 0; i++)
    rc = spawn(w, i);
  if (rc == 0)
    rc = spot__thread_start(&w->thread, dispatcher_main, w);
  w->thread_started = rc == 0;
  *out = w;
  return rc;
}

void spot__workers_stop(spot__workers_t *w) {
  spot_node_t *node = w->node;
  if (w->thread_started)
    spot__thread_join(&w->thread);
  /* let running handlers finish (their time limit, or 10 s), then stop the workers */
  uint64_t limit = node->opts.timeout_ms ? (uint64_t)node->opts.timeout_ms * 1000000u : 10000000000ull;
  uint64_t until = spot__now_ns() + limit;
  for (;;) {
    int busy = 0;
    for (unsigned i = 0; i < w->shm->nworkers; i++) {
      uint32_t st = load32(&w->shm->box[i].state);
      busy |= st == W_ASSIGNED || st == W_RUNNING;
    }
    if (!busy || spot__now_ns() > until)
      break;
    spot__sleep_ns(1000000);
    supervise(w);
  }
  for (unsigned i = 0; i < w->shm->nworkers; i++)
    spot__kill(w->shm->box[i].pid, 1);
  for (int tries = 0; tries < 2000; tries++) { /* reap them (at most 2 s) */
    int sig, status, pid, left = 0;
    while ((pid = spot__reap(&sig, &status)) > 0)
      for (unsigned i = 0; i < w->shm->nworkers; i++)
        if (w->shm->box[i].pid == pid)
          w->shm->box[i].pid = 0;
    for (unsigned i = 0; i < w->shm->nworkers; i++)
      left += w->shm->box[i].pid > 0;
    if (!left)
      break;
    spot__sleep_ns(1000000);
  }
  free(w);
}

/* ---- the worker process ---- */

int spot_node_worker_main(int shm_fd, unsigned index, const char *dir) {
  shm_t *shm;
  int rc = spot__shm_map(shm_fd, sizeof(shm_t), (void **)&shm);
  if (rc != 0 || index >= shm->nworkers)
    return 2;
  mailbox_t *b = &shm->box[index];
  spot_ns_t *ns;
  if ((rc = spot_ns_open(dir, NULL, &ns)) != 0) {
    fprintf(stderr, "spot worker: %s\n", spot_errdetail());
    return 2;
  }
  uint64_t loaded = 0;
  spot__node_load_handlers(ns, &loaded);
  for (;;) {
    store32(&b->state, W_IDLE);
    __atomic_fetch_add(&shm->idle, 1, __ATOMIC_SEQ_CST);
    spot__futex_wake(&shm->idle);
    while (load32(&b->state) != W_ASSIGNED)
      spot__futex_wait(&b->state, W_IDLE, 0);
    b->start_ns = spot__now_ns();
    store32(&b->state, W_RUNNING);
    spot__event_t put;
    if (spot__ns_trigger_read(ns, b->put_id, &put) == 0 && put.type == SPOT__EV_PUT) {
      spot_handler_fn fn = spot__node_handler(ns, &put, &loaded);
      spot__invoke(ns, &put, fn, &b->start_id);
    }
  }
}
