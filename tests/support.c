/*
 * support.c: scratch directories and command runs for the tests (see support.h).
 */
#include "support.h"

#include "spot.h"

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The scratch directories this process made, removed when it exits normally (a test that aborts keeps them for a
 * look, and SPOT_TEST_KEEP=1 keeps them always). Only the process that made a directory removes it: forked
 * children that exit do not. */
#define SCRATCH_MAX 64
static char scratch[SCRATCH_MAX][4096];
static int scratch_n;
static pid_t scratch_owner;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

static void remove_scratch(void) {
  const char *keep = getenv("SPOT_TEST_KEEP");
  if (getpid() != scratch_owner || (keep != NULL && strcmp(keep, "1") == 0))
    return;
  for (int i = 0; i < scratch_n; i++)
    nftw(scratch[i], remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *spot_test_dir(const char *tag) {
  static char path[4096];
  const char *base = getenv("SPOT_TEST_TMP");
  if (base == NULL || base[0] == '\0')
    base = "/tmp";
  mkdir(base, 0755);
  snprintf(path, sizeof path, "%s/spot-%s-XXXXXX", base, tag);
  if (mkdtemp(path) == NULL) {
    perror("spot_test_dir: mkdtemp");
    abort();
  }
  if (scratch_n == 0) {
    scratch_owner = getpid();
    atexit(remove_scratch);
  }
  if (scratch_n < SCRATCH_MAX && getpid() == scratch_owner)
    snprintf(scratch[scratch_n++], sizeof scratch[0], "%s", path);
  return path;
}

const char *spot_test_bin(void) {
  const char *b = getenv("SPOT_BIN");
  return (b && b[0]) ? b : "spot";
}

static void slurp(const char *path, char *buf, size_t cap) {
  if (buf == NULL || cap == 0)
    return;
  buf[0] = '\0';
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return;
  size_t n = fread(buf, 1, cap - 1, f);
  buf[n] = '\0';
  fclose(f);
}

int spot_test_sh(char *out, size_t cap, char *err, size_t errcap, const char *fmt, ...) {
  char cmd[8192], outpath[64], errpath[64], full[8400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  snprintf(outpath, sizeof outpath, "/tmp/spot-test-out-%d", (int)getpid());
  snprintf(errpath, sizeof errpath, "/tmp/spot-test-err-%d", (int)getpid());
  snprintf(full, sizeof full, "( %s ) >%s 2>%s </dev/null", cmd, outpath, errpath);
  int st = system(full);
  slurp(outpath, out, cap);
  slurp(errpath, err, errcap);
  unlink(outpath);
  unlink(errpath);
  if (st == -1 || !WIFEXITED(st))
    return -1;
  return WEXITSTATUS(st);
}

const char *spot_test_ns(const char *tag, unsigned long long history) {
  static char dir[4200];
  snprintf(dir, sizeof dir, "%s/ns", spot_test_dir(tag));
  if (spot_ns_init(dir) != 0)
    return NULL;
  spot_ns_t *ns;
  if (spot_ns_open(dir, NULL, &ns) != 0)
    return NULL;
  spot_log_config_t c = {.elem_size = 8, .history = history};
  const char *logs[] = {"a", "b", "c", "n"};
  for (int i = 0; i < 4; i++)
    if (spot_ns_create_log(ns, logs[i], &c) != 0) {
      spot_ns_close(ns);
      return NULL;
    }
  spot_ns_close(ns);
  return dir;
}

int spot_test_ns_log(const char *tag, const char *name, const spot_log_config_t *cfg, spot_ns_t **ns, char *path,
                     size_t cap) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", spot_test_dir(tag));
  int rc = spot_ns_init(dir);
  if (rc == 0)
    rc = spot_ns_open(dir, NULL, ns);
  if (rc != 0)
    return rc;
  if ((rc = spot_ns_create_log(*ns, name, cfg)) == 0)
    rc = spot_ns_log_path(*ns, name, path, cap);
  if (rc != 0)
    spot_ns_close(*ns);
  return rc;
}

int spot_test_wait_done(spot_node_t *node, unsigned long long want) {
  for (int i = 0; i < 60000; i++) {
    spot_node_stats_t st;
    spot_node_stats(node, &st);
    if (st.ended + st.failed >= want)
      return 0;
    usleep(1000);
  }
  return -1;
}

/* ---- servers started by a test ---- */

int spot_test_free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = -1;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

int spot_test_wait_port(int port, int timeout_ms) {
  for (int waited = 0; waited <= timeout_ms; waited += 20) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
      return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    if (ok)
      return 0;
    usleep(20 * 1000);
  }
  return -1;
}

static int spawned[64];
static int nspawned;

void spot_test_stop_all(void) {
  for (int i = 0; i < nspawned; i++)
    if (spawned[i] > 0) {
      kill(-spawned[i], SIGKILL);
      waitpid(spawned[i], NULL, 0);
      spawned[i] = 0;
    }
}

int spot_test_spawn(const char *fmt, ...) {
  char cmd[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  if (nspawned == 0)
    atexit(spot_test_stop_all);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    char full[8300];
    snprintf(full, sizeof full, "exec %s", cmd);
    execl("/bin/sh", "sh", "-c", full, (char *)NULL);
    _exit(127);
  }
  if (pid < 0)
    return -1;
  setpgid(pid, pid);
  for (int i = 0; i < nspawned; i++)
    if (spawned[i] == 0)
      return spawned[i] = pid;
  if (nspawned < 64)
    spawned[nspawned++] = pid;
  return pid;
}

int spot_test_stop(int pid, int sig) {
  if (pid <= 0)
    return -1;
  for (int i = 0; i < nspawned; i++)
    if (spawned[i] == pid)
      spawned[i] = 0;
  kill(pid, sig);
  int st = 0;
  for (int i = 0; i < 2000; i++) { /* at most 20 s */
    if (waitpid(pid, &st, WNOHANG) == pid)
      return st;
    usleep(10 * 1000);
  }
  kill(-pid, SIGKILL);
  waitpid(pid, &st, 0);
  return -1;
}

int spot_test_have(const char *program) {
  char out[256];
  return spot_test_sh(out, sizeof out, NULL, 0, "command -v %s || test -x /usr/sbin/%s || test -x /usr/bin/%s",
                      program, program, program) == 0;
}

int spot_test_fill_log(const char *dir, const char *name, int n, int sync) {
  spot_ns_t *ns;
  spot_log_t *log;
  int rc = spot_ns_open(dir, NULL, &ns);
  if (rc != 0)
    return rc;
  rc = spot_ns_open_log(ns, name, 0, &log, NULL);
  spot_ns_close(ns);
  for (int i = 1; rc == 0 && i <= n; i++) {
    char e[32] = {0};
    snprintf(e, sizeof e, "e%d", i);
    rc = sync ? spot_log_append(log, e, strlen(e), NULL) : spot_log_append_async(log, e, strlen(e), NULL);
  }
  if (rc == 0)
    spot_log_close(log);
  return rc;
}

int spot_test_flip_byte(const char *dir, const char *name, long off, unsigned x) {
  char path[4400];
  snprintf(path, sizeof path, "%s/%s.log", dir, name);
  FILE *fp = fopen(path, "r+b");
  if (fp == NULL)
    return -1;
  int c = -1;
  if (fseek(fp, off, SEEK_SET) == 0)
    c = fgetc(fp);
  int rc = c < 0 || fseek(fp, off, SEEK_SET) != 0 || fputc(c ^ (int)x, fp) == EOF ? -1 : 0;
  return fclose(fp) == 0 ? rc : -1;
}

int spot_test_quick(void) {
  const char *q = getenv("SPOT_TEST_QUICK");
  return q && q[0] && strcmp(q, "0") != 0;
}
