/*
 * apps/vquery/run.h: the processes of `spot vquery run` (run_proc.c): starting the tiers' programs with their
 * output in a log file, polling and stopping them by their own process ids, free loopback ports, key pairs and
 * access files. POSIX; used by run.c only.
 */
#ifndef VQUERY_RUN_H
#define VQUERY_RUN_H

#include <stddef.h>
#include <sys/types.h>

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

/* A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0 and read it back); 0 on failure. */
int vq_free_port(void);

/* Reads the public key from DIR/NAME.pub (made by `spot keygen NAME --dir DIR`) into out (>= 64 bytes). */
int vq_read_pub(const char *dir, const char *name, char *out, size_t cap);

/* Writes text to path (created or truncated). 0 or SPOT_EIO. */
int vq_write_file(const char *path, const char *text);

/* The directory of this program (from /proc/self/exe), for its sibling programs spot, spotd and vquery_cloud.so. */
int vq_self_dir(char *out, size_t cap);

#endif
