/*
 * apps/vquery/run.h: what the files of `spot vquery run` share: the run's state (vq_run_t), its preparation
 * (run_setup.c: library, keys, namespaces, access files), the trace of one query (run_trace.c), and the processes
 * (run_proc.c: starting the tiers' programs with their output in a log file, polling and stopping them by their
 * own process ids, free loopback ports, small files). POSIX; used by the run's files only.
 */
#ifndef VQUERY_RUN_H
#define VQUERY_RUN_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include "report.h"

#define PATH 4200 /* a file path composed from the directories below */
#define DIRMAX 1024 /* the scratch directory and this program's */
#define SUB 1100    /* a file or directory right inside one of them */
#define MAX_DEVICES 64
#define MAX_MEMBERS 32 /* pool members at most (--pool-max-members) */

typedef struct vq_proc {
  pid_t pid;       /* 0: not running */
  char name[32];   /* for messages: "cloud", "aggregator", "device 3" */
  char log[4200];  /* its stdout and stderr */
  int status;      /* waitpid status once it ended */
  int ended;
} vq_proc_t;

/* Starts argv[0] (a path) with argv in its own process group (so that its own children, e.g. spotd's workers, go
 * with it), stdin from /dev/null, stdout and stderr appended to logpath; env (may be NULL) is a NULL-terminated
 * list of NAME=VALUE added to the environment. SPOT_EIO (with a detail on stderr) if it cannot start. */
int vq_proc_start(vq_proc_t *p, const char *name, char *const argv[], const char *logpath, char *const env[]);
/* 1 if it has ended (status in p->status), 0 if it runs. */
int vq_proc_poll(vq_proc_t *p);
/* Sends sig to its process group, waits up to wait_ms for it to end, then SIGKILLs the group and reaps it. */
void vq_proc_stop(vq_proc_t *p, int sig, int wait_ms);
/* Waits up to wait_ms for it to end by itself: 1 if it ended, 0 if not. */
int vq_proc_wait(vq_proc_t *p, int wait_ms);
/* 1 if it ended with exit status 0. */
int vq_proc_ok(const vq_proc_t *p);
/* Prints the last lines of its log to stderr (after a failure). */
void vq_proc_tail(const vq_proc_t *p, int lines);
/* Runs argv to completion (output to logpath): its exit status, or -1 if it could not run or died by a signal. */
int vq_proc_run(char *const argv[], const char *logpath, char *const env[]);

/* Prints "spot vquery run: " and the message as one line on stderr; returns 1 (the exit status of a failure). */
int vq_run_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0 and read it back); 0 on failure. */
int vq_free_port(void);

/* Reads the public key from DIR/NAME.pub (made by `spot keygen NAME --dir DIR`) into out (>= 64 bytes). */
int vq_read_pub(const char *dir, const char *name, char *out, size_t cap);

/* Writes text to path (created or truncated). 0 or SPOT_EIO. */
int vq_write_file(const char *path, const char *text);

/* The directory of this program (from /proc/self/exe), for its sibling programs spot, spotd and vquery_cloud.so. */
int vq_self_dir(char *out, size_t cap);

/* ---- the run ---- */

/* The run: its options, what it derived, its scratch directory's layout and its processes. */
typedef struct vq_run {
  /* options */
  int64_t devices, intervals, interval_ms, seed, idle_inst, active_inst, calibrate, lead_ms, mc_samples, kill_at;
  double mu, alpha, rho, watts, price;
  const char *dist, *sampler, *quota, *camera, *data, *library, *images, *plot, *keep;
  int64_t nprobe;
  int json, rapl, quiet, exact;
  const char *pool; /* --pool nats://HOST:PORT[,...] or local; NULL: the cloud's own workers match */
  int64_t pool_max; /* --pool-max-members */
  /* derived */
  vq_params_t p;
  char scratch[DIRMAX], bindir[DIRMAX], spot[SUB], spotd[SUB], self[SUB], so[SUB], lib[SUB], imgs[SUB];
  char keys[SUB], cloud_dir[SUB], edge_dir[SUB], known[SUB], known_env[SUB + 32], start_file[SUB];
  char dev_dir[MAX_DEVICES][SUB];
  int cloud_port, edge_port, dev_port[MAX_DEVICES];
  vq_proc_t cloud, edge, dev[MAX_DEVICES];
  int64_t t0;
  char *trace;
  uint64_t trace_qid;
  vq_cloud_config_t cloud_cfg; /* what the cloud's config log holds (pool members get the same) */
  /* the pool (run_pool.c) */
  char pool_url[1024], pool_name[64], member_key[PATH];
  vq_proc_t nats, member[MAX_MEMBERS];
  int members;                    /* running: member[0..members) */
  uint64_t member_starts, member_stops, billing_seen; /* stops: by the autoscaler (not at the end) */
  uint64_t scale_ups, scale_downs; /* intervals after which the autoscaler added or removed members */
  uint32_t *pool_asked, *pool_ran; /* per interval: instances the autoscaler set, members running */
  uint8_t *pool_seen;              /* per interval: a billing record was read */
  uint64_t pool_taken, pool_redelivered, pool_ran_total; /* summed from the members' closing lines */
} vq_run_t;


/* Prepares the run's scratch directory (r->keep or a new one in /tmp): the library (built from r->data unless
 * r->library is given), key pairs, the namespaces (the tiers' vq_*_setup), the access files and known_nodes.
 * 0, or 1 after printing one line saying what failed. */
int vq_run_prepare(vq_run_t *r);

/* ---- the pool of matchers (run_pool.c, `run --pool`) ---- */

/* Prepares the pool after vq_run_prepare: starts a nats-server with JetStream in the scratch directory for
 * `--pool local` (on a free port), names the pool after this run, and allocates the per-interval figures. 0, or 1
 * after a line saying what failed. */
int vq_pool_begin(vq_run_t *r);
/* Starts or stops (SIGTERM, waiting for it to end) pool members until want run. Each member is a fresh spotd node
 * (its own namespace from vq_pool_member_setup, the members' key, one worker) taking work from the pool. 0, or 1. */
int vq_pool_scale(vq_run_t *r, uint32_t want);
/* The autoscaler: reads the cloud's billing records written since the last call; for each interval it notes the
 * instances set and the members running, then scales to min(next instances, --pool-max-members). 0, or 1. */
int vq_pool_follow(vq_run_t *r);
/* Stops the members (reading their closing lines) and the local nats-server. */
void vq_pool_end(vq_run_t *r);
/* Prints the pool's figures: text lines, or (json) the members of a "pool" object without braces. */
void vq_pool_print(FILE *out, const vq_run_t *r, int json);

/* The newest seqno of log `log` of namespace dir (0 if empty, missing or unreadable). */
uint64_t vq_run_latest(const char *dir, const char *log);

/* Traces the first answered query of device 0 across the three nodes with `spot trace` (the operator's key) into
 * r->trace (malloc'ed text; left NULL when no query was answered yet). */
void vq_run_trace(vq_run_t *r);

#endif
