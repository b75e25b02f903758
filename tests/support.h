/*
 * tests/support.h: helpers shared by the tests: scratch directories and running the `spot` command line.
 */
#ifndef SPOT_TEST_SUPPORT_H
#define SPOT_TEST_SUPPORT_H

#include <stddef.h>

/* Makes a new empty directory for one test (under $SPOT_TEST_TMP or /tmp) and returns its path (static storage,
 * overwritten by the next call). Aborts the program if it cannot. The directory and what is in it are removed when
 * the process that made it exits normally; a test that aborts keeps it, and SPOT_TEST_KEEP=1 keeps every one. */
const char *spot_test_dir(const char *tag);
/* 1 when SPOT_TEST_QUICK is set (and not "0"): the sanitizer and no-network builds, where tests run shorter. */
int spot_test_quick(void);

/* The `spot` executable under test ($SPOT_BIN, else "spot" on PATH). */
const char *spot_test_bin(void);

/* Runs a shell command line, captures up to cap-1 bytes of its stdout (and, if err is not NULL, of its stderr)
 * as NUL-terminated text, and returns its exit status (or -1 if it could not run or died by a signal). */
int spot_test_sh(char *out, size_t cap, char *err, size_t errcap, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Makes a namespace DIR (a new scratch directory, tag names it) holding logs a, b, c and n of 8-byte elements
 * with the given history; returns DIR (static storage) or NULL. */
const char *spot_test_ns(const char *tag, unsigned long long history);

/* Makes a namespace in a new scratch directory (tag names it) with one log, name, made with cfg: the open
 * namespace into *ns (the caller closes it) and the log file's path into path (cap bytes). 0 or a SPOT_E* code. */
typedef struct spot_ns spot_ns_t;
typedef struct spot_log_config spot_log_config_t;
int spot_test_ns_log(const char *tag, const char *name, const spot_log_config_t *cfg, spot_ns_t **ns, char *path,
                     size_t cap);

/* Appends n elements "e1", "e2", ... to log name of the namespace dir (no node may hold it), with
 * spot_log_append (sync != 0) or spot_log_append_async: 0, or a negative SPOT_E* code. */
int spot_test_fill_log(const char *dir, const char *name, int n, int sync);

/* XORs byte off of the file of log name in dir with x (damage on purpose): 0, or -1. */
int spot_test_flip_byte(const char *dir, const char *name, long off, unsigned x);

typedef struct spot_node spot_node_t;
/* Waits (at most 60 s) until the node has ended or failed `want` handler runs: 0, or -1 on timeout. */
int spot_test_wait_done(spot_node_t *node, unsigned long long want);

/* ---- servers started by a test (the bridges' brokers) ---- */

/* A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed), or -1. */
int spot_test_free_port(void);
/* Waits until something accepts TCP connections on 127.0.0.1:port, at most timeout_ms: 0, or -1. */
int spot_test_wait_port(int port, int timeout_ms);
/* Runs `sh -c "exec CMD"` in a new process group and returns its pid (or -1); spot_test_stop_all kills every process
 * started so (also at exit, when a failed CHECK left early). */
int spot_test_spawn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Sends sig to pid and waits for it (SIGKILL after 20 s): its wait status, or -1. */
int spot_test_stop(int pid, int sig);
void spot_test_stop_all(void);
/* 1 if program is found on PATH or at /usr/sbin, /usr/bin (the servers' Debian packages put them there). */
int spot_test_have(const char *program);

#endif
