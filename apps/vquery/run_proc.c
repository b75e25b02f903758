/*
 * apps/vquery/run_proc.c: the processes of `spot vquery run` (run.h): the tiers run as separate programs, each in
 * its own process group with its output in a log file in the run's scratch directory; the run stops only the
 * processes it started, by their ids. Also the run's one-line failure message and small file helpers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <spot/error.h>

#include "run.h"

int vq_run_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("spot vquery run: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return 1;
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

int vq_proc_start(vq_proc_t *p, const char *name, char *const argv[], const char *logpath, char *const env[]) {
  memset(p, 0, sizeof *p);
  snprintf(p->name, sizeof p->name, "%s", name);
  snprintf(p->log, sizeof p->log, "%s", logpath);
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "spot vquery run: cannot start the %s: fork: %s\n", name, strerror(errno));
    return SPOT_EIO;
  }
  if (pid == 0) {
    setpgid(0, 0);
    int in = open("/dev/null", O_RDONLY), out = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in >= 0)
      dup2(in, 0);
    if (out >= 0) {
      dup2(out, 1);
      dup2(out, 2);
    }
    for (size_t i = 0; env && env[i]; i++)
      putenv(env[i]);
    execv(argv[0], argv);
    fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  setpgid(pid, pid); /* also here: no race with a stop right after the start */
  p->pid = pid;
  return 0;
}

int vq_proc_poll(vq_proc_t *p) {
  if (p->ended || p->pid == 0)
    return 1;
  int st;
  pid_t r = waitpid(p->pid, &st, WNOHANG);
  if (r == p->pid) {
    p->status = st;
    p->ended = 1;
    return 1;
  }
  return 0;
}

int vq_proc_wait(vq_proc_t *p, int wait_ms) {
  for (int waited = 0;; waited += 20) {
    if (vq_proc_poll(p))
      return 1;
    if (waited >= wait_ms)
      return 0;
    sleep_ms(20);
  }
}

void vq_proc_stop(vq_proc_t *p, int sig, int wait_ms) {
  if (p->pid == 0 || p->ended)
    return;
  kill(-p->pid, sig);
  if (!vq_proc_wait(p, wait_ms)) {
    kill(-p->pid, SIGKILL);
    vq_proc_wait(p, 10000);
  }
  kill(-p->pid, SIGKILL); /* what it left in its group (workers) */
}

int vq_proc_ok(const vq_proc_t *p) {
  return p->ended && WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0;
}

void vq_proc_tail(const vq_proc_t *p, int lines) {
  FILE *f = fopen(p->log, "r");
  if (f == NULL)
    return;
  char *ring[64] = {0};
  if (lines > 64)
    lines = 64;
  char buf[1024];
  int n = 0;
  while (fgets(buf, sizeof buf, f)) {
    free(ring[n % lines]);
    ring[n % lines] = strdup(buf);
    n++;
  }
  fclose(f);
  fprintf(stderr, "--- the last lines of %s (%s) ---\n", p->name, p->log);
  for (int i = n > lines ? n - lines : 0; i < n; i++)
    fputs(ring[i % lines] ? ring[i % lines] : "", stderr);
  for (int i = 0; i < lines; i++)
    free(ring[i]);
}

int vq_proc_run(char *const argv[], const char *logpath, char *const env[]) {
  vq_proc_t p;
  if (vq_proc_start(&p, "helper", argv, logpath, env) < 0)
    return -1;
  while (!vq_proc_wait(&p, 1000)) {
  }
  return WIFEXITED(p.status) ? WEXITSTATUS(p.status) : -1;
}

int vq_free_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0)
    return 0;
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(s, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(s, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  close(s);
  return port;
}

int vq_read_pub(const char *dir, const char *name, char *out, size_t cap) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s.pub", dir, name);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return SPOT_ENOTFOUND;
  char line[256];
  int rc = SPOT_ECORRUPT;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, " \t\r\n")] = '\0'; /* Z85 keys may hold a # */
    if (line[0] && strlen(line) < cap) {
      snprintf(out, cap, "%s", line);
      rc = 0;
      break;
    }
  }
  fclose(f);
  return rc;
}

int vq_write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f == NULL)
    return SPOT_EIO;
  int ok = fputs(text, f) >= 0;
  ok &= fclose(f) == 0;
  return ok ? 0 : SPOT_EIO;
}

int vq_self_dir(char *out, size_t cap) {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0)
    return SPOT_ENOTFOUND;
  buf[n] = '\0';
  char *slash = strrchr(buf, '/');
  if (slash == NULL)
    return SPOT_ENOTFOUND;
  *slash = '\0';
  if (strlen(buf) + 1 > cap)
    return SPOT_ERANGE;
  snprintf(out, cap, "%s", buf);
  return 0;
}
