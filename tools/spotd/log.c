/*
 * log.c: spotd's own log (see log.h): levelled lines to stderr or the journal, and with --log FILE a logger thread
 * that reads spotd's stdout and stderr (and so its workers', which inherit them) from a pipe, stamps each line with
 * the time and appends it to FILE, opening FILE anew after SIGHUP.
 *
 * Every line is written with one write(2) call, so lines of spotd's threads and worker processes never interleave
 * inside a line (a pipe keeps writes of up to PIPE_BUF bytes whole; longer lines are rare and may be split).
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 4096 /* a longer line is written in pieces, each stamped */

int spotd_log_level = SPOTD_LOG_INFO;

static int journal;        /* stderr is the systemd journal: <N> prefixes */
static int term_fd = -1;   /* the stderr spotd had before spotd_log_open, until spotd_log_detach */
static const char *path;   /* --log FILE */
static int file_fd = -1;   /* FILE, owned by the logger thread once it runs */
static int pipe_rd = -1;   /* the logger's end of the pipe */
static pthread_t logger;
static int logger_started;
static atomic_int reopen_asked, closing;

static const char *level_name(int level) {
  switch (level) {
  case SPOTD_LOG_ERROR:
    return "error";
  case SPOTD_LOG_WARN:
    return "warn";
  case SPOTD_LOG_INFO:
    return "info";
  default:
    return "debug";
  }
}

int spotd_log_parse_level(const char *name, int *level) {
  static const int levels[] = {SPOTD_LOG_ERROR, SPOTD_LOG_WARN, SPOTD_LOG_INFO, SPOTD_LOG_DEBUG};
  for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
    if (strcmp(name, level_name(levels[i])) == 0) {
      *level = levels[i];
      return 0;
    }
  return -1;
}

void spotd_log_init(void) {
  const char *js = getenv("JOURNAL_STREAM"); /* "DEVICE:INODE" of the journal's stream socket */
  unsigned long long dev, ino;
  struct stat st;
  journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
            (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* Writes all of buf to fd, giving up on an error other than EINTR (nowhere to report it). */
static void write_all(int fd, const char *buf, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    buf += w;
    n -= (size_t)w;
  }
}

void spotd_log_line(int level, const char *fmt, ...) {
  char line[LINE_MAX_BYTES];
  int n = journal ? snprintf(line, sizeof line, "<%d>", level)
                  : snprintf(line, sizeof line, "spotd: %s: ", level_name(level));
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  va_end(ap);
  size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
  if (len > sizeof line - 2)
    len = sizeof line - 2;
  line[len++] = '\n';
  fflush(stdout); /* what spotd printed before this line comes first */
  write_all(STDERR_FILENO, line, len);
  if (level <= SPOTD_LOG_ERROR && term_fd >= 0)
    write_all(term_fd, line, len);
}

/* ---- the logger thread (--log FILE) ---- */

static void stamp(char out[32]) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out + n, 32 - n, ".%03ldZ ", ts.tv_nsec / 1000000);
}

/* Opens path anew if SIGHUP asked for it; on failure the old file is kept and a line says so. */
static void maybe_reopen(void) {
  if (!atomic_exchange(&reopen_asked, 0))
    return;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
  char ts[32], msg[512];
  stamp(ts);
  if (fd < 0) {
    int n = snprintf(msg, sizeof msg, "%sspotd: error: cannot open the log %s again after SIGHUP: %s; still writing "
                     "to the file it had open\n", ts, path, strerror(errno));
    write_all(file_fd, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
    return;
  }
  close(file_fd);
  file_fd = fd;
}

static void *logger_main(void *arg) {
  (void)arg;
  char line[LINE_MAX_BYTES + 32], buf[8192];
  size_t len = 0;     /* bytes in line, stamp included */
  int mid_line = 0;   /* line[0..len) continues a line whose start was written already */
  int quiet_polls = 0;
  for (;;) {
    maybe_reopen();
    struct pollfd p = {.fd = pipe_rd, .events = POLLIN};
    int r = poll(&p, 1, 200);
    if (r < 0 && errno == EINTR)
      continue;
    ssize_t got = 0;
    if (r > 0) {
      got = read(pipe_rd, buf, sizeof buf);
      if (got < 0 && errno == EINTR)
        continue;
    }
    if (r == 0 || got < 0) { /* quiet: write out a pending piece of a line; once closing, stop after ~1 s */
      if (len > 0)
        write_all(file_fd, line, len), len = 0, mid_line = 1;
      if (atomic_load(&closing) && ++quiet_polls >= 5)
        break;
      continue;
    }
    quiet_polls = 0;
    if (got == 0) /* every writer has gone */
      break;
    maybe_reopen();
    for (ssize_t i = 0; i < got; i++) {
      if (len == 0 && !mid_line) {
        stamp(line);
        len = strlen(line);
      }
      line[len++] = buf[i];
      if (buf[i] == '\n' || len == sizeof line) {
        write_all(file_fd, line, len);
        mid_line = buf[i] != '\n';
        len = 0;
      }
    }
  }
  if (len > 0)
    write_all(file_fd, line, len);
  return NULL;
}

int spotd_log_open(const char *file) {
  int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
  if (fd < 0)
    return -1;
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  fflush(stdout);
  fflush(stderr);
  term_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
  /* dup2 clears close-on-exec: worker processes inherit the pipe as their stdout and stderr */
  if (dup2(p[1], STDOUT_FILENO) < 0 || dup2(p[1], STDERR_FILENO) < 0) {
    int e = errno;
    if (term_fd >= 0)
      dup2(term_fd, STDERR_FILENO), close(term_fd), term_fd = -1;
    close(p[0]), close(p[1]), close(fd);
    errno = e;
    return -1;
  }
  close(p[1]);
  setvbuf(stdout, NULL, _IOLBF, 0);
  journal = 0;
  path = file;
  file_fd = fd;
  pipe_rd = p[0];
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old); /* signals are for the main thread's sigsuspend */
  int rc = pthread_create(&logger, NULL, logger_main, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) { /* no thread to read the pipe: lines go straight to the file instead */
    dup2(fd, STDOUT_FILENO), dup2(fd, STDERR_FILENO);
    close(pipe_rd), pipe_rd = -1;
    return 0;
  }
  logger_started = 1;
  return 0;
}

const char *spotd_log_path(void) { return path; }

void spotd_log_reopen(void) { atomic_store(&reopen_asked, 1); }

void spotd_log_detach(void) {
  if (term_fd >= 0)
    close(term_fd);
  term_fd = -1;
}

void spotd_log_close(void) {
  if (path == NULL)
    return;
  fflush(stdout);
  fflush(stderr);
  int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (null >= 0) { /* spotd's own ends of the pipe go: the logger sees the end once no worker holds it either */
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    close(null);
  }
  atomic_store(&closing, 1);
  if (logger_started)
    pthread_join(logger, NULL);
  logger_started = 0;
  if (pipe_rd >= 0)
    close(pipe_rd);
  if (file_fd >= 0)
    close(file_fd);
  pipe_rd = file_fd = -1;
  spotd_log_detach();
  path = NULL;
}
