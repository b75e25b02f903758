/*
 * workers.c: worker mode. Handlers run in pre-started worker processes, so one that crashes (SIGSEGV, abort) or
 * overruns its time limit takes down only its worker: the node records a fail event with the reason and starts a
 * new worker.
 *
 * The node and its workers share a small memory region (memfd) with one mailbox per worker: a queue of trigger
 * slots. One dispatcher thread in the node follows the trigger queue as thread mode does and appends each trigger to
 * the shortest worker queue; a worker takes triggers from its queue one after the other and runs them (writing the
 * start and end events itself). Either side makes a wake-up system call only when the other is asleep, so under
 * load handing work over costs no system call at all. The dispatcher alone assigns work and a worker notes which
 * trigger it is running, so when a worker dies the node knows what it was running (a fail event) and what it had
 * not started (given to another worker). Workers die with the node (PR_SET_PDEATHSIG, which follows the thread
 * that forked them: so the dispatcher thread forks every worker, first ones and replacements, and is the last to
 * end: it lets running handlers finish and stops the workers before it returns). The node waits only for its own
 * workers' pids, never for other children of a program that embeds it. A worker's standard output and error go
 * through bounded pipes (OUTPUT_LIMIT bytes per run each; the rest is dropped with a note).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "dispatch/node_impl.h"
#include "dispatch/status.h"
#include "store/store.h"

#define QDEPTH 16u /* triggers queued per worker: enough to keep it busy, few enough to keep latency fair */
#define OUTPUT_LIMIT 65536u /* bytes of standard output (and of error) a handler run may print */

typedef struct mailbox {
  _Alignas(64) uint32_t tail; /* futex word: bumped by the dispatcher after it queues a trigger */
  uint32_t sleeping;          /* the worker is asleep on tail (or about to be) */
  int32_t pid;
  _Alignas(64) uint32_t head; /* triggers before head have been taken by the worker */
  uint32_t pad;
  uint64_t running;  /* the trigger slot being run, 0 if none */
  uint64_t start_id; /* its start event, once written */
  uint64_t start_ns; /* monotonic, when the worker took it */
  uint64_t ended, failed; /* runs that returned 0, and that did not (spot_node_stats; a crash is counted apart) */
  char crash_tail[sizeof(((spot__event_t *)0)->reason)]; /* the last line a run printed before it crashed */
  uint64_t q[QDEPTH];
} mailbox_t;

typedef struct shm {
  _Alignas(64) uint32_t idle; /* futex word: bumped by a worker that finished a trigger while the dispatcher sleeps */
  uint32_t dispatcher_sleeping;
  uint32_t nworkers;
  uint64_t poll_ns; /* an idle worker looks at its queue this long before it sleeps (spot_node_opts_t.poll_us) */
  mailbox_t box[SPOT__MAX_WORKERS];
} shm_t;

struct spot__workers {
  spot_node_t *node;
  shm_t *shm;
  int fd;
  int timed_out[SPOT__MAX_WORKERS];
  uint64_t *redo; /* triggers taken back from dead workers' queues, to assign again */
  size_t nredo, capredo;
  spot__thread_t thread;
  int thread_started;
  spot__mutex_t mu; /* guards started (the dispatcher's first spawns, reported to spot__workers_start) */
  spot__cond_t cv;
  int started;      /* 0 while spawning; 1 when all run; a negative SPOT_E* code if one could not start */
  char error[256];
};

static uint32_t load32(uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void store32(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

static int spawn(spot__workers_t *w, unsigned i) {
  char fd[16], idx[16];
  snprintf(fd, sizeof fd, "%d", w->fd);
  snprintf(idx, sizeof idx, "%u", i);
  char *argv[] = {(char *)w->node->opts.worker_exe, "--worker", fd, idx, (char *)spot_ns_dir(w->node->ns), NULL};
  mailbox_t *b = &w->shm->box[i];
  store32(&b->head, 0);
  store32(&b->tail, 0);
  b->sleeping = 0;
  b->crash_tail[0] = '\0';
  __atomic_store_n(&b->running, 0, __ATOMIC_RELEASE);
  w->timed_out[i] = 0;
  int pid = spot__spawn(argv, w->fd);
  if (pid < 0)
    return spot__fail(pid, "cannot start worker process %s", w->node->opts.worker_exe);
  b->pid = pid;
  return 0;
}

int spot__workers_overran(uint64_t now, uint64_t start_ns, uint64_t limit_ns) {
  return now > start_ns && now - start_ns > limit_ns;
}

/* A worker died: a fail event for what it ran (unless that run had ended), its queue to the others, and (unless
 * the node stops) a new worker. */
static void worker_died(spot__workers_t *w, unsigned i, int sig, int status) {
  spot_node_t *node = w->node;
  mailbox_t *b = &w->shm->box[i];
  uint64_t running = __atomic_load_n(&b->running, __ATOMIC_ACQUIRE);
  if (running) {
    spot__event_t put;
    char reason[sizeof(((spot__event_t *)0)->reason)];
    if (w->timed_out[i])
      snprintf(reason, sizeof reason, "timed out after %u ms", node->opts.timeout_ms);
    else if (sig) { /* the signal, then what the run printed last, as much as fits */
      int n = snprintf(reason, sizeof reason, "worker killed by %s", spot__signame(sig));
      if (b->crash_tail[0] && n > 0 && (size_t)n + 3 < sizeof reason) {
        size_t t = strnlen(b->crash_tail, sizeof b->crash_tail), room = sizeof reason - (size_t)n - 3;
        memcpy(reason + n, ": ", 2);
        memcpy(reason + n + 2, b->crash_tail, t < room ? t : room);
        reason[(size_t)n + 2 + (t < room ? t : room)] = '\0';
      }
    }
    else
      snprintf(reason, sizeof reason, "worker exited with status %d", status);
    uint64_t now = spot__now_ns(), start = __atomic_load_n(&b->start_ns, __ATOMIC_ACQUIRE);
    uint64_t ran = now > start ? now - start : 0;
    if (spot__life_trigger_read(node->ns, running, &put) == 0) {
      int wrote = spot__invoke_failed(node->ns, &put, __atomic_load_n(&b->start_id, __ATOMIC_ACQUIRE),
                                      w->timed_out[i] ? SPOT_ETIMEDOUT : SPOT_EIO, reason, ran);
      if (wrote == 1) {
        atomic_fetch_add(&node->failed, 1);
        if (!node->opts.quiet)
          fprintf(stderr, "spot: handler %s on %s #%llu failed: %s; starting a new worker\n", put.handler, put.log,
                  (unsigned long long)put.seq, reason);
      }
    }
  }
  /* what it had queued but not started goes to the others */
  for (uint32_t h = load32(&b->head), t = load32(&b->tail); h != t; h++) {
    uint64_t trig = b->q[h % QDEPTH];
    if (trig == running)
      continue;
    if (w->nredo == w->capredo) {
      size_t cap = w->capredo ? w->capredo * 2 : 64;
      uint64_t *v = realloc(w->redo, cap * sizeof *v);
      if (v == NULL)
        break; /* still marked: it runs at the next start */
      w->redo = v;
      w->capredo = cap;
    }
    w->redo[w->nredo++] = trig;
  }
  b->pid = 0;
  if (!atomic_load(&node->stop)) {
    atomic_fetch_add(&node->worker_restarts, 1);
    spot__status_shm_t *stat = spot__status_of(node->ns);
    if (stat)
      atomic_fetch_add_explicit(&stat->worker_restarts, 1, memory_order_relaxed);
    if (spawn(w, i) != 0)
      fprintf(stderr, "spot: %s\n", spot_errdetail());
  }
}

/* Handles dead workers and kills those over their time limit. Runs on the dispatcher thread only. */
static void supervise(spot__workers_t *w) {
  spot_node_t *node = w->node;
  for (unsigned i = 0; i < w->shm->nworkers; i++) {
    int sig = 0, status = 0, pid = w->shm->box[i].pid;
    if (pid <= 0)
      continue;
    int got = spot__reap(pid, &sig, &status);
    if (got == pid)
      worker_died(w, i, sig, status);
    else if (got < 0)
      worker_died(w, i, 0, -1); /* reaped by someone else: gone all the same */
  }
  if (node->opts.timeout_ms == 0)
    return;
  uint64_t limit = (uint64_t)node->opts.timeout_ms * 1000000u;
  for (unsigned i = 0; i < w->shm->nworkers; i++) {
    mailbox_t *b = &w->shm->box[i];
    if (b->pid <= 0 || w->timed_out[i] || !__atomic_load_n(&b->running, __ATOMIC_ACQUIRE))
      continue;
    uint64_t start = __atomic_load_n(&b->start_ns, __ATOMIC_ACQUIRE);
    if (spot__workers_overran(spot__now_ns(), start, limit)) { /* now read after start_ns */
      w->timed_out[i] = 1;
      spot__kill(b->pid, 1);
    }
  }
}

/* The live worker with the shortest queue that has room, or -1. */
static int pick_worker(spot__workers_t *w) {
  int best = -1;
  uint32_t best_len = QDEPTH;
  for (unsigned i = 0; i < w->shm->nworkers; i++) {
    mailbox_t *b = &w->shm->box[i];
    uint32_t len = load32(&b->tail) - load32(&b->head);
    if (b->pid > 0 && len < best_len) {
      best = (int)i;
      best_len = len;
    }
  }
  return best;
}

static void assign(spot__workers_t *w, uint64_t trig) {
  spot_node_t *node = w->node;
  for (;;) {
    int i = pick_worker(w);
    if (i >= 0) {
      mailbox_t *b = &w->shm->box[i];
      uint32_t t = load32(&b->tail);
      b->q[t % QDEPTH] = trig;
      __atomic_store_n(&b->tail, t + 1, __ATOMIC_SEQ_CST);
      if (__atomic_load_n(&b->sleeping, __ATOMIC_SEQ_CST))
        spot__futex_wake(&b->tail);
      atomic_fetch_add(&node->started, 1);
      return;
    }
    int alive = 0;
    for (unsigned k = 0; k < w->shm->nworkers; k++)
      alive |= w->shm->box[k].pid > 0;
    if (!alive && atomic_load(&node->stop))
      return; /* stopping, and no worker is left: still marked, it runs at the next start */
    /* every queue is full: sleep until a worker finishes something (or 10 ms, to supervise) */
    uint32_t idle = load32(&w->shm->idle);
    __atomic_store_n(&w->shm->dispatcher_sleeping, 1, __ATOMIC_SEQ_CST);
    if (pick_worker(w) < 0)
      spot__futex_wait(&w->shm->idle, idle, 10000000ull);
    __atomic_store_n(&w->shm->dispatcher_sleeping, 0, __ATOMIC_SEQ_CST);
    supervise(w);
  }
}

/* Assigns what dead workers left queued. */
static void assign_redo(spot__workers_t *w) {
  while (w->nredo > 0) {
    uint64_t trig = w->redo[--w->nredo];
    assign(w, trig);
  }
}

/* Lets running and queued handlers finish (their time limit, or 10 s), then stops the workers and reaps them. */
static void drain_and_stop(spot__workers_t *w) {
  spot_node_t *node = w->node;
  uint64_t limit = node->opts.timeout_ms ? (uint64_t)node->opts.timeout_ms * 1000000u : 10000000000ull;
  uint64_t until = spot__now_ns() + limit;
  for (;;) {
    int busy = 0;
    for (unsigned i = 0; i < w->shm->nworkers; i++) {
      mailbox_t *b = &w->shm->box[i];
      busy |= b->pid > 0 && (load32(&b->head) != load32(&b->tail) || __atomic_load_n(&b->running, __ATOMIC_ACQUIRE));
    }
    if (!busy || spot__now_ns() > until)
      break;
    spot__sleep_ns(1000000);
    supervise(w);
    assign_redo(w);
  }
  for (unsigned i = 0; i < w->shm->nworkers; i++)
    spot__kill(w->shm->box[i].pid, 1);
  for (int tries = 0; tries < 2000; tries++) { /* reap them (at most 2 s) */
    int left = 0;
    for (unsigned i = 0; i < w->shm->nworkers; i++) {
      int sig, status, pid = w->shm->box[i].pid;
      if (pid > 0 && spot__reap(pid, &sig, &status) != 0)
        w->shm->box[i].pid = 0; /* reaped (or not ours any more) */
      left += w->shm->box[i].pid > 0;
    }
    if (!left)
      break;
    spot__sleep_ns(1000000);
  }
}

static void report_started(spot__workers_t *w, int rc) {
  spot__mutex_lock(&w->mu);
  w->started = rc == 0 ? 1 : rc;
  if (rc != 0)
    snprintf(w->error, sizeof w->error, "%s", spot_errdetail());
  spot__cond_broadcast(&w->cv);
  spot__mutex_unlock(&w->mu);
}

/* The dispatcher thread: it forks every worker (so they live as long as it does), feeds them, and stops them. */
static void *dispatcher_main(void *arg) {
  spot__workers_t *w = arg;
  spot_node_t *node = w->node;
  int rc = 0;
  for (unsigned i = 0; i < w->shm->nworkers && rc == 0; i++)
    rc = spawn(w, i);
  report_started(w, rc);
  if (rc != 0) {
    drain_and_stop(w);
    return NULL;
  }
  uint64_t last_supervise = spot__now_ns();
  for (size_t r = 0; r < node->nrerun; r++)
    assign(w, node->rerun[r]);
  while (!atomic_load(&node->stop)) {
    assign_redo(w);
    uint64_t now = spot__now_ns();
    if (now - last_supervise > 10000000ull) { /* dead or overrunning workers are noticed under load too */
      supervise(w);
      last_supervise = now;
    }
    uint64_t t = atomic_load(&node->cursor);
    if (w->shm->poll_ns) /* look for it a while before sleeping (spot_node_opts_t.poll_us) */
      spot__log_poll_newer(node->triggers, t - 1, w->shm->poll_ns);
    if (spot_log_wait_newer(node->triggers, t - 1, 10000000ull) == SPOT_ETIMEDOUT) {
      supervise(w);
      continue;
    }
    atomic_store(&node->cursor, t + 1);
    spot__status_taken(spot__status_of(node->ns), t);
    if (spot__log_pending(node->triggers, t) != 0)
      assign(w, t);
  }
  drain_and_stop(w);
  return NULL;
}

int spot__workers_start(spot_node_t *node, spot__workers_t **out) {
  if (node->opts.worker_exe == NULL)
    return spot__fail(SPOT_EINVAL, "worker mode needs the worker program (spotd)");
  spot__workers_t *w = calloc(1, sizeof *w);
  if (w == NULL)
    return SPOT_ENOMEM;
  w->node = node;
  w->fd = -1;
  int rc = spot__shm_create(sizeof(shm_t), &w->fd, (void **)&w->shm);
  if (rc != 0) {
    free(w);
    return spot__fail(rc, "cannot create the workers' shared memory");
  }
  memset(w->shm, 0, sizeof *w->shm);
  w->shm->nworkers = node->opts.workers;
  w->shm->poll_ns = (uint64_t)node->opts.poll_us * 1000u;
  spot__mutex_init(&w->mu);
  spot__cond_init(&w->cv);
  rc = spot__thread_start(&w->thread, dispatcher_main, w);
  w->thread_started = rc == 0;
  if (rc == 0) {
    spot__mutex_lock(&w->mu);
    while (w->started == 0)
      spot__cond_wait(&w->cv, &w->mu);
    if (w->started < 0)
      rc = spot__fail(w->started, "%s", w->error);
    spot__mutex_unlock(&w->mu);
  }
  *out = w;
  return rc;
}

void spot__workers_stop(spot__workers_t *w) {
  /* the caller set node->stop: the dispatcher lets running handlers end, stops the workers and returns */
  if (w->thread_started)
    spot__thread_join(&w->thread);
  spot__cond_destroy(&w->cv);
  spot__mutex_destroy(&w->mu);
  spot__shm_free(w->fd, w->shm, sizeof(shm_t));
  free(w->redo);
  free(w);
}

void spot__workers_counts(spot__workers_t *w, uint64_t *ended, uint64_t *failed) {
  for (unsigned i = 0; i < w->shm->nworkers; i++) {
    *ended += __atomic_load_n(&w->shm->box[i].ended, __ATOMIC_RELAXED);
    *failed += __atomic_load_n(&w->shm->box[i].failed, __ATOMIC_RELAXED);
  }
}

/* ---- the worker process ---- */

/* A run's output (spot__runout_t): what the handler wrote to stdout and stderr, to the node's streams with each
 * line prefixed, and its last line for the fail event. */
typedef struct run_output {
  spot__capture_t *cap;
  const spot__event_t *put;
} run_output_t;

/* The crash path's prefix (spot__capture_on_crash): "[HANDLER #RUN] " of the run going on, written with
 * async-signal-safe code only. */
static struct {
  const spot__event_t *put;
  mailbox_t *box;
} crashing;

static void crash_prefix(void *arg, char *buf, size_t cap) {
  (void)arg;
  size_t n = 0;
  const char *h = crashing.put ? crashing.put->handler : "?";
  if (cap < 32)
    return;
  buf[n++] = '[';
  for (size_t k = 0; h[k] && n < cap - 28; k++)
    buf[n++] = h[k];
  buf[n++] = ' ', buf[n++] = '#';
  char digits[24];
  int d = 0;
  uint64_t id = __atomic_load_n(&crashing.box->start_id, __ATOMIC_ACQUIRE);
  do
    digits[d++] = (char)('0' + id % 10);
  while ((id /= 10) != 0);
  while (d > 0)
    buf[n++] = digits[--d];
  buf[n++] = ']', buf[n++] = ' ', buf[n] = '\0';
}

static void run_output_flush(void *arg, const char *prefix, char *tail, size_t cap) {
  run_output_t *ro = arg;
  fflush(stdout); /* unbuffered (spot__capture_start): no system call unless a handler gave it a buffer */
  fflush(stderr);
  if (!spot__capture_ready(ro->cap)) { /* the usual run prints nothing: one poll, no notes formatted */
    if (cap)
      tail[0] = '\0';
    return;
  }
  char note[2][400];
  for (int k = 0; k < 2; k++)
    snprintf(note[k], sizeof note[k], "%s[spot: handler %s on %s #%llu wrote more than %u bytes to %s; the rest "
             "was dropped]\n", prefix, ro->put->handler, ro->put->log, (unsigned long long)ro->put->seq,
             OUTPUT_LIMIT, k ? "stderr" : "stdout");
  spot__capture_flush(ro->cap, prefix, note[0], note[1], tail, cap);
}

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
  if (spot__status_attach(ns) != 0) /* runs go uncounted in status, and their energy is 0; they still run */
    fprintf(stderr, "spot worker: %s\n", spot_errdetail());
  spot__capture_t cap;
  int capturing = spot__capture_start(&cap, OUTPUT_LIMIT) == 0;
  crashing.box = b; /* a crash copies what its run printed (it would die with the pipes) and its last line */
  if (capturing && spot__capture_on_crash(&cap, crash_prefix, NULL, b->crash_tail, sizeof b->crash_tail) != 0)
    fprintf(stderr, "spot worker: cannot arm the crash path; a crashed run's output will be lost\n");
  for (uint32_t head = load32(&b->head);;) {
    uint32_t tail = __atomic_load_n(&b->tail, __ATOMIC_SEQ_CST);
    if (head == tail) {
      /* What a run's own threads wrote after its flush comes out here, unprefixed, before the worker sleeps: one
       * poll when going idle, none between runs under load (where the next run's flush prints it with its prefix) */
      if (capturing)
        spot__capture_flush(&cap, NULL, NULL, NULL, NULL, 0);
      if (shm->poll_ns && spot__poll_word(&b->tail, head, shm->poll_ns) == 0)
        continue; /* work came while it looked: no sleep, no wake-up */
      __atomic_store_n(&b->sleeping, 1, __ATOMIC_SEQ_CST);
      if (__atomic_load_n(&b->tail, __ATOMIC_SEQ_CST) == head)
        spot__futex_wait(&b->tail, head, 0);
      __atomic_store_n(&b->sleeping, 0, __ATOMIC_SEQ_CST);
      continue;
    }
    uint64_t trig = b->q[head % QDEPTH];
    __atomic_store_n(&b->start_id, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&b->start_ns, spot__now_ns(), __ATOMIC_RELEASE);
    __atomic_store_n(&b->running, trig, __ATOMIC_RELEASE); /* before head moves: never lost between the two */
    store32(&b->head, ++head);
    spot__event_t put;
    if (spot__life_trigger_read(ns, trig, &put) == 0 && put.type == SPOT__EV_PUT) {
      spot_handler_fn fn = spot__node_handler(ns, &put, &loaded);
      run_output_t ro = {&cap, &put};
      crashing.put = &put;
      spot__runout_t out = {run_output_flush, &ro};
      int status = spot__invoke(ns, &put, fn, &b->start_id, NULL, capturing ? &out : NULL);
      __atomic_fetch_add(status == 0 ? &b->ended : &b->failed, 1, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&b->running, 0, __ATOMIC_RELEASE);
    /* A dispatcher asleep because every queue was full is woken once this queue has room for half of it, not after
     * every run: it then queues several at once, and a saturated node pays one wake-up per QDEPTH / 2 runs. */
    if (__atomic_load_n(&shm->dispatcher_sleeping, __ATOMIC_SEQ_CST) &&
        __atomic_load_n(&b->tail, __ATOMIC_SEQ_CST) - head <= QDEPTH / 2) {
      __atomic_fetch_add(&shm->idle, 1, __ATOMIC_SEQ_CST);
      spot__futex_wake(&shm->idle);
    }
  }
}
