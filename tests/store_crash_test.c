/*
 * store_crash_test.c: writers killed with SIGKILL at random moments lose nothing they had acknowledged (DESIGN.md,
 * "Storage contract"; issue 3, "crash").
 *
 * Five logs live in one namespace: 64-byte elements with durability none, always and batch, and 4 KiB elements
 * with none and always. Each round picks one of them and forks 2 or 3 writer processes; each opens its own handle
 * and appends elements that carry (writer id, counter, length, checksum) plus filler derived from them, and after
 * every append that returned writes {seq, writer, counter} to its pipe (one write of 24 bytes: atomic, so a killed
 * writer leaves whole records only). The parent drains the pipes while it sleeps 0-5 ms at random between kills,
 * and kills the writers one at a time with SIGKILL (sometimes it lets the last one finish), so the others keep
 * appending past a writer that died between reserving a slot and publishing it. Then it reopens the log (recovery)
 * and checks that:
 *   - every acknowledged append of every round so far is readable with its exact bytes;
 *   - sequence numbers are dense: the window is 1..latest and every element in it is intact or the tombstone of a
 *     killed writer's number (buried by the writers that went on: "its writer died"), and each writer's counters
 *     run 0, 1, 2, ... in sequence order;
 *   - for durable logs, the durable mark covers every acknowledged append;
 *   - `spot -n DIR check LOG` (the command line) exits 0.
 * It ends with a summary line: `crash: N rounds, K kills, A acknowledged appends checked, L lost`.
 *
 * Random kills rarely land inside an append, so the died_* tests make it certain, at each step of the commit
 * protocol of core/logfmt.h: a child appends through the store's insides (store/log_impl.h), stops with the slot
 * reserved (nothing written), reserved and half written, or committed but not published, and is killed. With the
 * parent holding the log open, the parent's next append must not wait for it (the dead writer's number becomes a
 * tombstone, or its committed element is published) and everything acknowledged stays readable; with the parent
 * opening it afterwards, recovery clears the reservation or keeps the committed element. Either way the log
 * recovers and passes `spot check`. (No robust mutex: these hold under qemu-user too.)
 *
 * SPOT_TEST_QUICK=1 runs fewer rounds; SPOT_CRASH_SEED=N repeats a run's random choices.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "spot/log.h"
#include "spot/ns.h"
#include "store/log_impl.h" /* owner_died_*: a writer that dies at a chosen step of an append */
#include "elem.h"
#include "platform/platform.h"
#include "support.h"
#include "test.h"

#define ROUNDS_FULL 40
#define ROUNDS_QUICK 12
#define MAX_WRITERS 3
#define ELEM_MAGIC 0x52435053u /* "SPCR" */

static uint64_t rng_state;
static uint64_t rnd(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dull;
}

/* ---- elements ---- */

static size_t make_elem(uint8_t *buf, uint32_t elem_size, uint32_t writer, uint64_t counter, uint64_t tag) {
  return elem_make(buf, elem_size, ELEM_MAGIC, writer, counter, tag);
}

/* ---- the logs ---- */

typedef struct ack {
  uint64_t seq;
  uint32_t writer;
  uint32_t pad;
  uint64_t counter;
} ack_t;
_Static_assert(sizeof(ack_t) == 24, "ack record size");

typedef struct clog {
  const char *name;
  uint32_t elem_size;
  spot_sync_t sync;
  uint64_t cap;     /* appends per writer per round at most */
  uint64_t history; /* set so that nothing ever expires */
  uint64_t tag;
  ack_t *acks; /* every acknowledged append so far */
  size_t nacks, capacks;
  int rounds;
} clog_t;

static clog_t logs[] = {
    {"c64none", 64, SPOT_SYNC_NONE, 4000, 0, 11, NULL, 0, 0, 0},
    {"c64always", 64, SPOT_SYNC_ALWAYS, 400, 0, 12, NULL, 0, 0, 0},
    {"c4knone", 4096, SPOT_SYNC_NONE, 600, 0, 13, NULL, 0, 0, 0},
    {"c64batch", 64, SPOT_SYNC_BATCH, 400, 0, 14, NULL, 0, 0, 0},
    {"c4kalways", 4096, SPOT_SYNC_ALWAYS, 200, 0, 15, NULL, 0, 0, 0},
};
#define NLOGS ((int)(sizeof logs / sizeof logs[0]))

typedef struct totals {
  int rounds;
  uint64_t kills;     /* SIGKILLs that ended a running writer */
  uint64_t buried;     /* numbers of killed writers found as tombstones (their writer died mid-append) */
  uint64_t acks_checked; /* distinct acknowledged appends, each checked after its round and every later one */
  uint64_t ack_reads;    /* reads of acknowledged appends, over all rounds */
  uint64_t repaired;     /* reopens whose recovery cleared a torn slot */
  uint64_t lost;
  uint64_t finished; /* writers that reached their cap */
} totals_t;

/* ---- a writer process ---- */

static void writer_process(const char *path, const clog_t *lg, uint32_t writer, int fd) {
  spot_log_t *log = NULL;
  int rc = spot_log_open(path, 0, NULL, &log, NULL);
  if (rc != 0) {
    fprintf(stderr, "  writer %u: open failed: %s (%s)\n", writer, spot_errname(rc), spot_errdetail());
    _exit(2);
  }
  uint8_t *buf = malloc(lg->elem_size);
  if (buf == NULL)
    _exit(3);
  for (uint64_t c = 0; c < lg->cap; c++) {
    size_t len = make_elem(buf, lg->elem_size, writer, c, lg->tag);
    uint64_t seq = 0;
    rc = spot_log_append(log, buf, len, &seq);
    if (rc != 0) {
      fprintf(stderr, "  writer %u: append %llu failed: %s (%s)\n", writer, (unsigned long long)c, spot_errname(rc),
              spot_errdetail());
      _exit(4);
    }
    ack_t a = {seq, writer, 0, c};
    if (write(fd, &a, sizeof a) != (ssize_t)sizeof a)
      _exit(5);
  }
  spot_log_close(log);
  free(buf);
  _exit(0);
}

/* ---- the parent ---- */

typedef struct wproc {
  pid_t pid;
  int fd; /* read end of its pipe, -1 at EOF */
  uint8_t part[sizeof(ack_t)];
  size_t npart;
  int killed;
} wproc_t;

static int add_ack(clog_t *lg, const ack_t *a) {
  if (lg->nacks == lg->capacks) {
    size_t n = lg->capacks ? lg->capacks * 2 : 4096;
    ack_t *p = realloc(lg->acks, n * sizeof *p);
    if (p == NULL)
      return -1;
    lg->acks = p;
    lg->capacks = n;
  }
  lg->acks[lg->nacks++] = *a;
  return 0;
}

/* Reads what is available on the pipes (waiting at most ms); returns -1 on a broken record stream. */
static int drain(wproc_t *w, int n, clog_t *lg, int ms) {
  struct pollfd pf[MAX_WRITERS];
  int idx[MAX_WRITERS], np = 0;
  for (int i = 0; i < n; i++)
    if (w[i].fd >= 0) {
      pf[np] = (struct pollfd){.fd = w[i].fd, .events = POLLIN};
      idx[np++] = i;
    }
  if (np == 0) {
    if (ms > 0)
      usleep((useconds_t)ms * 1000);
    return 0;
  }
  if (poll(pf, (nfds_t)np, ms) <= 0)
    return 0;
  for (int k = 0; k < np; k++) {
    if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
      continue;
    wproc_t *p = &w[idx[k]];
    uint8_t buf[24 * 256];
    ssize_t got = read(p->fd, buf, sizeof buf);
    if (got < 0 && (errno == EAGAIN || errno == EINTR))
      continue;
    if (got <= 0) {
      close(p->fd);
      p->fd = -1;
      if (p->npart != 0) {
        fprintf(stderr, "  a writer's pipe ended inside a record\n");
        return -1;
      }
      continue;
    }
    for (ssize_t i = 0; i < got; i++) {
      p->part[p->npart++] = buf[i];
      if (p->npart == sizeof(ack_t)) {
        ack_t a;
        memcpy(&a, p->part, sizeof a);
        p->npart = 0;
        if (add_ack(lg, &a) != 0)
          return -1;
      }
    }
  }
  return 0;
}

/* Waits until ms milliseconds have passed, draining the pipes meanwhile. */
static int sleep_draining(wproc_t *w, int n, clog_t *lg, uint64_t us) {
  uint64_t end = spot__now_ns() + us * 1000;
  for (;;) {
    uint64_t t = spot__now_ns();
    if (t >= end)
      return drain(w, n, lg, 0);
    int ms = (int)((end - t + 999999) / 1000000);
    if (drain(w, n, lg, ms) != 0)
      return -1;
  }
}

/* Runs one round on lg; returns -1 if the round could not be run as planned (not a store failure). */
static int run_round(const char *path, clog_t *lg, int round, totals_t *tot) {
  int n = 2 + (int)(rnd() % 2);
  wproc_t w[MAX_WRITERS];
  memset(w, 0, sizeof w);
  fflush(NULL);
  for (int i = 0; i < n; i++) {
    int pfd[2];
    if (pipe(pfd) != 0)
      return -1;
    pid_t pid = fork();
    if (pid < 0)
      return -1;
    if (pid == 0) {
      close(pfd[0]);
      for (int j = 0; j < i; j++)
        close(w[j].fd);
      writer_process(path, lg, (uint32_t)(round * MAX_WRITERS + i), pfd[1]);
    }
    close(pfd[1]);
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    w[i].pid = pid;
    w[i].fd = pfd[0];
  }
  /* Kill the writers one by one, in a random order, 0-5 ms apart; one round in four lets the last one finish. */
  int order[MAX_WRITERS];
  for (int i = 0; i < n; i++)
    order[i] = i;
  for (int i = n - 1; i > 0; i--) {
    int j = (int)(rnd() % (uint64_t)(i + 1)), t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  int nkill = (rnd() % 4 == 0) ? n - 1 : n;
  int rc = 0;
  for (int k = 0; k < nkill && rc == 0; k++) {
    rc = sleep_draining(w, n, lg, rnd() % 5001);
    wproc_t *p = &w[order[k]];
    int st;
    if (waitpid(p->pid, &st, WNOHANG) == p->pid) { /* it already finished (or failed) */
      if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "  round %d: writer %d ended with status 0x%x before its kill\n", round, order[k], st);
        rc = -2;
      } else {
        tot->finished++;
      }
      p->pid = 0;
      continue;
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &st, 0);
    p->pid = 0;
    if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
      tot->kills++;
    } else if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
      tot->finished++;
    } else {
      fprintf(stderr, "  round %d: writer %d ended with status 0x%x\n", round, order[k], st);
      rc = -2;
    }
  }
  /* Let the survivor finish (bounded: it appends at most cap elements), then read the pipes to their ends. */
  uint64_t deadline = spot__now_ns() + 60ull * 1000000000ull;
  for (int i = 0; i < n; i++) {
    while (w[i].pid > 0) {
      int st;
      pid_t r = waitpid(w[i].pid, &st, WNOHANG);
      if (r == w[i].pid) {
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
          fprintf(stderr, "  round %d: surviving writer %d ended with status 0x%x\n", round, i, st);
          rc = -2;
        } else {
          tot->finished++;
        }
        w[i].pid = 0;
        break;
      }
      if (spot__now_ns() > deadline) {
        fprintf(stderr, "  round %d: writer %d still running after 60 s (deadlock?), killing it\n", round, i);
        kill(w[i].pid, SIGKILL);
        waitpid(w[i].pid, NULL, 0);
        w[i].pid = 0;
        rc = -2;
        break;
      }
      if (drain(w, n, lg, 2) != 0)
        rc = -1;
    }
  }
  for (int guard = 0; guard < 100000; guard++) {
    int open_fds = 0;
    for (int i = 0; i < n; i++)
      open_fds += w[i].fd >= 0;
    if (open_fds == 0)
      break;
    if (drain(w, n, lg, 10) != 0) {
      rc = -1;
      break;
    }
  }
  for (int i = 0; i < n; i++)
    if (w[i].fd >= 0)
      close(w[i].fd);
  return rc;
}

/* Reopens the log and checks it against every acknowledged append so far. Adds what it lost to tot->lost.
 * Returns -1 on any failure. */
static int check_round(const char *path, clog_t *lg, int rounds_total, totals_t *tot) {
  spot_log_t *log = NULL;
  spot_log_report_t rep;
  int rc = spot_log_open(path, 0, NULL, &log, &rep);
  if (rc != 0) {
    fprintf(stderr, "  %s: reopen after the kills failed: %s (%s)\n", lg->name, spot_errname(rc), spot_errdetail());
    tot->lost += lg->nacks;
    return -1;
  }
  int bad = 0;
  uint64_t lo, hi;
  spot_log_earliest(log, &lo);
  spot_log_latest(log, &hi);
  uint8_t *got = malloc(lg->elem_size), *want = malloc(lg->elem_size);
  size_t nwriters = (size_t)rounds_total * MAX_WRITERS;
  int64_t *last = malloc(nwriters * sizeof *last);
  if (got == NULL || want == NULL || last == NULL) {
    bad = 1;
    goto out;
  }
  /* Dense window from 1, every element intact, counters per writer 0, 1, 2, ... in sequence order. */
  if (hi > 0 && lo != 1) {
    fprintf(stderr, "  %s: window %llu..%llu does not start at 1 though nothing expired\n", lg->name,
            (unsigned long long)lo, (unsigned long long)hi);
    bad = 1;
  }
  for (size_t i = 0; i < nwriters; i++)
    last[i] = -1;
  uint64_t buried = 0;
  for (uint64_t s = 1; s <= hi && !bad; s++) {
    rc = spot_log_read(log, s, got, lg->elem_size);
    if (rc == SPOT_EEXPIRED && strstr(spot_errdetail(), "writer died") != NULL) {
      buried++; /* a writer killed mid-append while others went on: its number is a tombstone, never a gap */
      continue;
    }
    if (rc != 0) {
      fprintf(stderr, "  %s: seq %llu of 1..%llu unreadable: %s (%s)\n", lg->name, (unsigned long long)s,
              (unsigned long long)hi, spot_errname(rc), spot_errdetail());
      bad = 1;
      break;
    }
    elem_hdr_t h;
    memcpy(&h, got, sizeof h);
    if (h.magic != ELEM_MAGIC || h.tag != lg->tag || h.writer >= nwriters || h.len < ELEM_HDR ||
        h.len > lg->elem_size) {
      fprintf(stderr, "  %s: seq %llu holds no element of this test\n", lg->name, (unsigned long long)s);
      bad = 1;
      break;
    }
    make_elem(want, lg->elem_size, h.writer, h.counter, lg->tag);
    if (memcmp(want, got, lg->elem_size) != 0) {
      fprintf(stderr, "  %s: seq %llu: bytes differ from writer %u counter %llu\n", lg->name, (unsigned long long)s,
              h.writer, (unsigned long long)h.counter);
      bad = 1;
      break;
    }
    if ((int64_t)h.counter != last[h.writer] + 1) {
      fprintf(stderr, "  %s: seq %llu: writer %u counter %llu follows counter %lld\n", lg->name,
              (unsigned long long)s, h.writer, (unsigned long long)h.counter, (long long)last[h.writer]);
      bad = 1;
      break;
    }
    last[h.writer] = (int64_t)h.counter;
  }
  spot_log_report_t ver;
  rc = spot_log_verify(log, &ver);
  if (rc != 0 || (hi > 0 && ver.valid_slots + buried != hi) || ver.lost != buried) {
    fprintf(stderr, "  %s: verify: %s, %llu intact and %llu lost of latest %llu (%llu buried)\n", lg->name,
            spot_errname(rc), (unsigned long long)ver.valid_slots, (unsigned long long)ver.lost,
            (unsigned long long)hi, (unsigned long long)buried);
    bad = 1;
  }
  tot->buried += buried;
  /* Every acknowledged append, with its exact bytes. */
  uint64_t max_acked = 0, lost = 0;
  for (size_t i = 0; i < lg->nacks; i++) {
    const ack_t *a = &lg->acks[i];
    make_elem(want, lg->elem_size, a->writer, a->counter, lg->tag);
    rc = spot_log_read(log, a->seq, got, lg->elem_size);
    if (rc != 0 || memcmp(want, got, lg->elem_size) != 0) {
      if (lost < 5)
        fprintf(stderr, "  %s: LOST acknowledged append seq %llu (writer %u counter %llu): %s\n", lg->name,
                (unsigned long long)a->seq, a->writer, (unsigned long long)a->counter,
                rc ? spot_errname(rc) : "other bytes");
      lost++;
    }
    if (a->seq > max_acked)
      max_acked = a->seq;
  }
  tot->ack_reads += lg->nacks;
  tot->repaired += rep.torn_slots != 0;
  tot->lost += lost;
  if (lost)
    bad = 1;
  if (max_acked > hi) {
    fprintf(stderr, "  %s: acknowledged seq %llu is past latest %llu\n", lg->name, (unsigned long long)max_acked,
            (unsigned long long)hi);
    bad = 1;
  }
  if (lg->sync != SPOT_SYNC_NONE) {
    spot_log_info_t info;
    spot_log_info(log, &info);
    if (info.durable < max_acked) {
      fprintf(stderr, "  %s: durable mark %llu below acknowledged seq %llu\n", lg->name,
              (unsigned long long)info.durable, (unsigned long long)max_acked);
      bad = 1;
    }
  }
out:
  free(got);
  free(want);
  free(last);
  spot_log_close(log);
  return bad ? -1 : 0;
}

static void test_kill_writers(void) {
  const char *seed_env = getenv("SPOT_CRASH_SEED");
  uint64_t seed = seed_env ? strtoull(seed_env, NULL, 10) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
  rng_state = seed ? seed : 1;
  int rounds = spot_test_quick() ? ROUNDS_QUICK : ROUNDS_FULL;
  printf("  crash: seed %llu (SPOT_CRASH_SEED repeats it)\n", (unsigned long long)seed);

  char dir[4096];
  snprintf(dir, sizeof dir, "%s", spot_test_dir("crash"));
  CHECK_OK(spot_ns_init(dir));
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  int per_log = (rounds + NLOGS - 1) / NLOGS;
  for (int i = 0; i < NLOGS; i++) {
    logs[i].history = (uint64_t)per_log * MAX_WRITERS * logs[i].cap + 8;
    logs[i].nacks = 0;
    spot_log_config_t cfg = {logs[i].elem_size, logs[i].history, logs[i].sync, 0};
    CHECK_OK(spot_ns_create_log(ns, logs[i].name, &cfg));
  }
  totals_t tot;
  memset(&tot, 0, sizeof tot);
  int failed = 0;
  for (int r = 0; r < rounds && !failed; r++) {
    clog_t *lg = &logs[r % NLOGS];
    char path[4096];
    CHECK_OK(spot_ns_log_path(ns, lg->name, path, sizeof path));
    int rc = run_round(path, lg, r, &tot);
    if (rc != 0) {
      fprintf(stderr, "  round %d (%s): the writers failed\n", r, lg->name);
      failed = 1;
    }
    tot.rounds++;
    if (check_round(path, lg, rounds, &tot) != 0) {
      fprintf(stderr, "  round %d (%s): check failed (seed %llu)\n", r, lg->name, (unsigned long long)seed);
      failed = 1;
    }
    char out[512], err[512];
    int st = spot_test_sh(out, sizeof out, err, sizeof err, "'%s' -n '%s' check %s", spot_test_bin(), dir, lg->name);
    if (st != 0) {
      fprintf(stderr, "  round %d: `spot check %s` exited %d: %s%s\n", r, lg->name, st, out, err);
      failed = 1;
    }
  }
  spot_ns_close(ns);
  for (int i = 0; i < NLOGS; i++)
    tot.acks_checked += logs[i].nacks;
  printf("crash: %d rounds, %llu kills, %llu acknowledged appends checked, %llu lost\n", tot.rounds,
         (unsigned long long)tot.kills, (unsigned long long)tot.acks_checked, (unsigned long long)tot.lost);
  printf("  crash: %llu numbers of killed writers buried as tombstones, %llu recoveries cleared a torn slot, "
         "%llu writers finished, %llu reads of acknowledged appends\n",
         (unsigned long long)tot.buried, (unsigned long long)tot.repaired, (unsigned long long)tot.finished,
         (unsigned long long)tot.ack_reads);
  for (int i = 0; i < NLOGS; i++) {
    free(logs[i].acks);
    logs[i].acks = NULL;
    logs[i].capacks = 0;
  }
  CHECK(!failed);
  CHECK_EQ(tot.lost, 0);
  CHECK(tot.kills > 0);
  /* Passed: remove the namespace, its .spot/ files included (they are tens of MB). */
  char out[64], err[64];
  spot_test_sh(out, sizeof out, err, sizeof err, "rm -rf '%s'", dir);
}

/* ---- deterministic death at each step of an append ---- */

enum { DIE_RESERVED, DIE_TORN, DIE_COMMITTED };

/* Child: opens its own handle, appends `before` elements, then does the next append through the store's insides
 * (core/logfmt.h, "commit protocol") up to step `how`: slot reserved under its pid (nothing written), reserved with
 * half the data, or committed but not published; tells the parent (one byte on fd) and waits to be killed. */
static void die_in_append(const char *path, uint32_t es, uint64_t tag, int before, int how, int fd) {
  spot_log_t *log = NULL;
  if (spot_log_open(path, 0, NULL, &log, NULL) != 0)
    _exit(2);
  uint8_t *buf = calloc(1, es);
  if (buf == NULL)
    _exit(3);
  for (int c = 0; c < before; c++) {
    size_t len = make_elem(buf, es, 1, (uint64_t)c, tag);
    if (spot_log_append(log, buf, len, NULL) != 0)
      _exit(4);
  }
  uint64_t s = atomic_load((_Atomic uint64_t *)&log->hdr->next);
  spot__slot_t *slot = spot__slot_at(log, s);
  uint64_t old = atomic_load((_Atomic uint64_t *)&slot->seq);
  if (!atomic_compare_exchange_strong((_Atomic uint64_t *)&slot->seq, &old, SPOT__SEQ_PENDING | (uint64_t)getpid()))
    _exit(7);
  make_elem(buf, es, 1, (uint64_t)before, tag);
  if (how != DIE_RESERVED)
    memcpy(spot__slot_data(slot), buf, how == DIE_TORN ? es / 2 : es); /* torn: half the data, no crc */
  if (how == DIE_COMMITTED) {
    slot->crc = spot__slot_crc(s, buf, es);
    slot->pending = 0;
    atomic_store((_Atomic uint64_t *)&slot->seq, s);
  }
  char one = 'x';
  if (write(fd, &one, 1) != 1)
    _exit(5);
  for (int i = 0; i < 6000; i++) /* bounded: the parent kills it long before */
    usleep(10000);
  _exit(6);
}

/* Reads seq and compares it with the element of (writer, counter); 0 if equal. */
static int read_is(spot_log_t *log, uint32_t es, uint64_t tag, uint64_t seq, uint32_t writer, uint64_t counter) {
  uint8_t *got = malloc(es), *want = malloc(es);
  int rc = -1;
  if (got && want && spot_log_read(log, seq, got, es) == 0) {
    make_elem(want, es, writer, counter, tag);
    rc = memcmp(got, want, es) == 0 ? 0 : -1;
  }
  free(got);
  free(want);
  return rc;
}

/* hold: the parent holds the log open across the death and appends next: it must not wait for the dead writer
 * (its number becomes a tombstone, or, committed, is published) and gets the number after it. Otherwise the next
 * opener is alone and recovers the file: a reservation is cleared (its number is handed out again: nothing was
 * acknowledged), a committed element is kept as the newest. */
static void writer_died(int how, uint64_t history, int before, int hold) {
  const uint32_t es = 64;
  const uint64_t tag = 21 + (uint64_t)how;
  spot_ns_t *ns;
  spot_log_config_t cfg = {es, history, SPOT_SYNC_NONE, 0};
  char path[4096];
  CHECK_OK(spot_test_ns_log("writerdied", "od", &cfg, &ns, path, sizeof path));
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", spot_ns_dir(ns)); /* used after the namespace is closed */
  spot_log_t *log = NULL;
  if (hold)
    CHECK_OK(spot_ns_open_log(ns, "od", 0, &log, NULL));

  int pfd[2];
  CHECK(pipe(pfd) == 0);
  fflush(NULL);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    close(pfd[0]);
    die_in_append(path, es, tag, before, how, pfd[1]);
  }
  close(pfd[1]);
  char one;
  struct pollfd pf = {.fd = pfd[0], .events = POLLIN};
  int ready = poll(&pf, 1, 30000) == 1 && read(pfd[0], &one, 1) == 1;
  close(pfd[0]);
  kill(pid, SIGKILL);
  int st;
  if (hold && how != DIE_COMMITTED) {
    /* A killed writer not yet reaped (a zombie) is dead too: the parent's append below must not wait for the
     * reaping. Reaped after the append. */
    usleep(20000);
  } else {
    waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  }
  CHECK(ready);
  spot_log_report_t rep;
  if (!hold) {
    CHECK_OK(spot_ns_open_log(ns, "od", 0, &log, &rep));
    if (how == DIE_COMMITTED) /* complete but unacknowledged: recovery keeps it, the next append follows it */
      before++;
  }

  /* The dead writer's append never returned: latest is what it had acknowledged, all of it readable (in the
   * window; with a wrapped ring the slot it was overwriting is no longer offered). */
  uint64_t s = (uint64_t)before + 1, lo, hi;
  CHECK_OK(spot_log_latest(log, &hi));
  CHECK_OK(spot_log_earliest(log, &lo));
  CHECK_EQ(hi, before);
  uint64_t want_lo = (uint64_t)before > history ? (uint64_t)before - history + 1 : 1;
  if (hold && (uint64_t)before >= history)
    want_lo++; /* the oldest slot is reserved by the dead writer */
  if (!hold && how != DIE_COMMITTED && (uint64_t)before >= history)
    want_lo++; /* recovery cleared the dead writer's reservation: the element it displaced is gone */
  CHECK_EQ(lo, want_lo);
  if (!hold)
    CHECK(rep.torn_slots <= 1 && rep.dropped == 0); /* at most the dead writer's slot */
  for (uint64_t q = lo; q <= hi; q++)
    CHECK(read_is(log, es, tag, q, 1, q - 1) == 0);
  uint8_t buf[64];
  CHECK_RC(spot_log_read(log, s, buf, sizeof buf), SPOT_ENOTYET);

  /* The next append does not wait for the dead writer: with the log held, it gets the number after the dead
   * writer's, which is a tombstone (reserved) or the dead writer's element (committed); after a recovery it gets
   * the dead writer's number. */
  uint64_t first = hold ? s + 1 : s;
  make_elem(buf, es, 2, 0, tag);
  uint64_t got = 0;
  CHECK_OK(spot_log_append(log, buf, es, &got));
  CHECK_EQ(got, first);
  if (hold && how != DIE_COMMITTED) {
    waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
  }
  CHECK(read_is(log, es, tag, first, 2, 0) == 0);
  if (hold && how == DIE_COMMITTED) {
    CHECK(read_is(log, es, tag, s, 1, (uint64_t)before) == 0);
  } else if (hold) {
    CHECK_RC(spot_log_read(log, s, buf, sizeof buf), SPOT_EEXPIRED);
    CHECK(strstr(spot_errdetail(), "writer died") != NULL);
  }
  make_elem(buf, es, 2, 1, tag);
  CHECK_OK(spot_log_append(log, buf, es, &got));
  CHECK_EQ(got, first + 1);
  CHECK_OK(spot_log_verify(log, NULL));
  spot_log_close(log);

  /* Recovery by a fresh opener keeps all of it, and the command line agrees. */
  CHECK_OK(spot_ns_open_log(ns, "od", 0, &log, &rep));
  CHECK_OK(spot_log_latest(log, &hi));
  CHECK_EQ(hi, first + 1);
  CHECK(read_is(log, es, tag, first, 2, 0) == 0);
  CHECK(read_is(log, es, tag, first + 1, 2, 1) == 0);
  spot_log_close(log);
  spot_ns_close(ns);
  char out[512], err[512];
  int rc = spot_test_sh(out, sizeof out, err, sizeof err, "'%s' -n '%s' check od", spot_test_bin(), dir);
  if (rc != 0)
    fprintf(stderr, "  spot check: %s%s", out, err);
  CHECK_EQ(rc, 0);
  spot_test_sh(out, sizeof out, err, sizeof err, "rm -rf '%s'", dir); /* with .spot/: 36 MB a namespace */
}

static void test_died_reserved(void) { writer_died(DIE_RESERVED, 100, 5, 1); }
static void test_died_torn(void) { writer_died(DIE_TORN, 100, 5, 1); }
static void test_died_committed(void) { writer_died(DIE_COMMITTED, 100, 5, 1); }
static void test_died_reserved_wrapped(void) { writer_died(DIE_RESERVED, 4, 9, 1); }
static void test_died_torn_wrapped(void) { writer_died(DIE_TORN, 4, 9, 1); }
static void test_died_committed_wrapped(void) { writer_died(DIE_COMMITTED, 4, 9, 1); }
static void test_died_alone_reserved(void) { writer_died(DIE_RESERVED, 100, 5, 0); }
static void test_died_alone_torn(void) { writer_died(DIE_TORN, 100, 5, 0); }
static void test_died_alone_committed(void) { writer_died(DIE_COMMITTED, 100, 5, 0); }
static void test_died_alone_reserved_wrapped(void) { writer_died(DIE_RESERVED, 4, 9, 0); }
static void test_died_alone_torn_wrapped(void) { writer_died(DIE_TORN, 4, 9, 0); }
static void test_died_alone_committed_wrapped(void) { writer_died(DIE_COMMITTED, 4, 9, 0); }

static const spot_test_t tests[] = {{"died_reserved", test_died_reserved},
                                    {"died_torn", test_died_torn},
                                    {"died_committed", test_died_committed},
                                    {"died_reserved_wrapped", test_died_reserved_wrapped},
                                    {"died_torn_wrapped", test_died_torn_wrapped},
                                    {"died_committed_wrapped", test_died_committed_wrapped},
                                    {"died_alone_reserved", test_died_alone_reserved},
                                    {"died_alone_torn", test_died_alone_torn},
                                    {"died_alone_committed", test_died_alone_committed},
                                    {"died_alone_reserved_wrapped", test_died_alone_reserved_wrapped},
                                    {"died_alone_torn_wrapped", test_died_alone_torn_wrapped},
                                    {"died_alone_committed_wrapped", test_died_alone_committed_wrapped},
                                    {"kill_writers", test_kill_writers},
                                    {NULL, NULL}};
SPOT_TEST_MAIN(tests)
