/*
 * process.c: shared objects, child processes and shared memory for POSIX (platform.h): what spotd's worker mode
 * and handler loading need.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <spawn.h>
#include <stdatomic.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "platform/platform.h"
#include "spot/error.h"

extern char **environ;

void *spot__dl_open(const char *path, char *err, size_t errcap) {
  void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  if (h == NULL && err)
    snprintf(err, errcap, "%s", dlerror());
  return h;
}

int spot__spawn(char *const argv[], int keep_fd) {
  int parent = getpid();
  pid_t pid = fork();
  if (pid < 0)
    return SPOT_EIO;
  if (pid == 0) {
    /* the child: die with the parent, keep keep_fd across exec, then become argv[0] */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
      _exit(127);
    if (keep_fd >= 0) {
      int fl = fcntl(keep_fd, F_GETFD);
      if (fl >= 0)
        fcntl(keep_fd, F_SETFD, fl & ~FD_CLOEXEC);
    }
    execve(argv[0], argv, environ);
    _exit(127);
  }
  return (int)pid;
}

int spot__reap(int pid, int *signal, int *status) {
  int st = 0;
  pid_t got;
  while ((got = waitpid((pid_t)pid, &st, WNOHANG)) < 0 && errno == EINTR) {
  }
  if (got < 0)
    return SPOT_ENOTFOUND;
  if (got == 0)
    return 0;
  *signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return (int)got;
}

/* What a child of spot__run_isolated hands back, in memory shared with the parent. */
typedef struct isolated {
  int returned; /* 1 once fn returned */
  int rc;
  size_t len;
} isolated_t;

int spot__run_isolated(int (*fn)(void *arg, void *out, size_t cap, size_t *len), void *arg, void *out, size_t cap,
                       size_t *len, int *fn_rc, int *sig, uint64_t timeout_ns) {
  *len = 0;
  *fn_rc = 0;
  *sig = 0;
  size_t size = sizeof(isolated_t) + cap;
  void *mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED)
    return SPOT_ENOMEM;
  isolated_t *res = mem;
  memset(res, 0, sizeof *res);
  fflush(NULL); /* the child must not write what this process has buffered a second time */
  pid_t pid = fork();
  if (pid < 0) {
    munmap(mem, size);
    return SPOT_EIO;
  }
  if (pid == 0) {
    size_t n = 0;
    int rc = fn(arg, (char *)mem + sizeof *res, cap, &n);
    res->len = n <= cap ? n : cap;
    res->rc = rc;
    __atomic_store_n(&res->returned, 1, __ATOMIC_RELEASE);
    _exit(0);
  }
  int st = 0, rc = 0;
  uint64_t waited = 0;
  pid_t got;
  for (;;) {
    got = waitpid(pid, &st, WNOHANG);
    if (got == pid || (got < 0 && errno != EINTR))
      break;
    if (waited >= timeout_ns) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
      rc = SPOT_ETIMEDOUT;
      break;
    }
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
    waited += 1000000;
  }
  if (rc == 0 && got == pid && WIFSIGNALED(st)) {
    *sig = WTERMSIG(st);
    rc = SPOT_EIO;
  } else if (rc == 0 && !__atomic_load_n(&res->returned, __ATOMIC_ACQUIRE)) {
    rc = SPOT_EIO; /* it exited from inside fn (an object calling exit, say) */
  }
  if (rc == 0) {
    *fn_rc = res->rc;
    *len = res->len;
    memcpy(out, (char *)mem + sizeof *res, res->len);
  }
  munmap(mem, size);
  return rc;
}

void spot__kill(int pid, int hard) {
  if (pid > 0)
    kill(pid, hard ? SIGKILL : SIGTERM);
}

int spot__getpid(void) { return (int)getpid(); }

static _Atomic int g_pid;
static pthread_once_t g_pid_once = PTHREAD_ONCE_INIT;
static void pid_forget(void) { atomic_store_explicit(&g_pid, 0, memory_order_relaxed); }
static void pid_register(void) { pthread_atfork(NULL, NULL, pid_forget); }

int spot__pid_self(void) {
  int p = atomic_load_explicit(&g_pid, memory_order_relaxed);
  if (p != 0)
    return p;
  pthread_once(&g_pid_once, pid_register);
  p = (int)getpid();
  atomic_store_explicit(&g_pid, p, memory_order_relaxed);
  return p;
}

_Thread_local uint32_t spot__thread_id_cache __attribute__((tls_model("initial-exec")));
static pthread_once_t g_tid_once = PTHREAD_ONCE_INIT;
static void tid_forget(void) { spot__thread_id_cache = 0; } /* in the child, on the thread that forked */
static void tid_register(void) { pthread_atfork(NULL, NULL, tid_forget); }

uint32_t spot__thread_id_slow(void) {
  pthread_once(&g_tid_once, tid_register);
#ifdef SYS_gettid
  spot__thread_id_cache = (uint32_t)syscall(SYS_gettid);
#else
  spot__thread_id_cache = (uint32_t)(uintptr_t)pthread_self() | 1u; /* unique within the process only */
#endif
  return spot__thread_id_cache;
}

void spot__yield(void) { sched_yield(); }

int spot__pid_alive(int pid) {
  if (pid <= 0)
    return 0;
  if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
    return 0;
  /* A zombie (killed, not yet reaped by its parent) still answers kill(): its state in /proc says Z (or X). */
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? 0 : 1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0)
    return 1;
  buf[n] = '\0';
  const char *rp = strrchr(buf, ')'); /* the name may hold spaces and parentheses: the state follows the last ')' */
  return !(rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'));
}

int spot__self_exe(char *buf, size_t cap) {
  ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
  if (n <= 0)
    return SPOT_ENOTFOUND;
  buf[n] = '\0';
  return 0;
}

const char *spot__signame(int sig) {
  switch (sig) {
  case SIGSEGV: return "SIGSEGV";
  case SIGABRT: return "SIGABRT";
  case SIGBUS: return "SIGBUS";
  case SIGFPE: return "SIGFPE";
  case SIGILL: return "SIGILL";
  case SIGKILL: return "SIGKILL";
  case SIGTERM: return "SIGTERM";
  case SIGPIPE: return "SIGPIPE";
  case SIGTRAP: return "SIGTRAP";
  case SIGSYS: return "SIGSYS";
  case SIGXCPU: return "SIGXCPU";
  case SIGXFSZ: return "SIGXFSZ";
  case SIGINT: return "SIGINT";
  case SIGHUP: return "SIGHUP";
  case SIGQUIT: return "SIGQUIT";
  case SIGUSR1: return "SIGUSR1";
  case SIGUSR2: return "SIGUSR2";
  case SIGALRM: return "SIGALRM";
  default: {
    static _Thread_local char other[24];
    snprintf(other, sizeof other, "signal %d", sig);
    return other;
  }
  }
}

int spot__shm_create(size_t size, int *fd, void **addr) {
  int f = memfd_create("spot-workers", MFD_CLOEXEC);
  if (f < 0)
    return SPOT_EIO;
  if (ftruncate(f, (off_t)size) != 0) {
    close(f);
    return SPOT_ENOMEM;
  }
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
  if (p == MAP_FAILED) {
    close(f);
    return SPOT_ENOMEM;
  }
  *fd = f;
  *addr = p;
  return 0;
}

void spot__shm_free(int fd, void *addr, size_t size) {
  if (addr != NULL)
    munmap(addr, size);
  if (fd >= 0)
    close(fd);
}

int spot__shm_map(int fd, size_t size, void **addr) {
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    return SPOT_EIO;
  *addr = p;
  return 0;
}

int spot__capture_start(spot__capture_t *c, size_t limit) {
  memset(c, 0, sizeof *c);
  c->limit = limit;
  for (int i = 0; i < 2; i++) {
    int fd = i == 0 ? STDOUT_FILENO : STDERR_FILENO;
    if (pipe2(c->pipe[i], O_CLOEXEC) != 0)
      return SPOT_EIO;
    fcntl(c->pipe[i][0], F_SETFL, O_NONBLOCK);
    fcntl(c->pipe[i][1], F_SETFL, O_NONBLOCK);
    fcntl(c->pipe[i][1], F_SETPIPE_SZ, (int)limit); /* rounded up to pages; the default (64 KiB) if refused */
    c->size[i] = fcntl(c->pipe[i][1], F_GETPIPE_SZ);
    fflush(i == 0 ? stdout : stderr);
    if ((c->orig[i] = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0 || dup2(c->pipe[i][1], fd) < 0)
      return SPOT_EIO;
  }
  setvbuf(stdout, NULL, _IONBF, 0); /* a full pipe drops a write at once, never a buffer held for the next run */
  signal(SIGPIPE, SIG_IGN);
  return 0;
}

/* Writes n bytes to fd, giving up on an error (the original stream went away). */
static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return;
    p += w;
    n -= (size_t)w;
  }
}

/* One stream's lines on their way out: each line is written whole, prefix and all, in one write when it fits (a
 * pipe or O_APPEND file then never interleaves it with another process's lines). */
typedef struct linebuf {
  char buf[4096];
  size_t len, plen; /* bytes in buf; of them, the prefix's */
  int fd;
  int mid;          /* a piece of a longer line was written: the rest gets no prefix */
} linebuf_t;

static void line_put(linebuf_t *lb, const char *prefix, char c) {
  if (lb->len == 0 && !lb->mid && prefix) {
    lb->plen = strlen(prefix) < sizeof lb->buf / 2 ? strlen(prefix) : 0;
    memcpy(lb->buf, prefix, lb->plen);
    lb->len = lb->plen;
  }
  lb->buf[lb->len++] = c;
  if (c == '\n' || lb->len == sizeof lb->buf) {
    write_all(lb->fd, lb->buf, lb->len);
    lb->len = 0;
    lb->mid = c != '\n';
  }
}

/* Copies what stream i of c holds to its original stream, line by line with prefix; the last non-empty line goes to
 * tail. Async-signal-safe (read, write, strlen, memcpy only): the crash path uses it too. The number of bytes read. */
static size_t copy_stream(spot__capture_t *c, int i, const char *prefix, char *tail, size_t tailcap) {
  size_t got = 0, tlen = 0;
  char buf[2048], last[512];
  int in_line = 0; /* bytes of the current line were seen */
  linebuf_t lb = {.fd = c->orig[i]};
  for (;;) {
    ssize_t r = read(c->pipe[i][0], buf, sizeof buf);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    for (ssize_t k = 0; k < r; k++) {
      char ch = buf[k];
      line_put(&lb, prefix, ch);
      if (ch == '\n') {
        if (in_line && tail && tailcap) { /* a non-empty line ended: it is the tail so far */
          size_t n = tlen < tailcap - 1 ? tlen : tailcap - 1;
          memcpy(tail, last, n);
          tail[n] = '\0';
        }
        in_line = 0, tlen = 0;
      } else if (ch != '\r') {
        in_line = 1;
        if (tlen < sizeof last)
          last[tlen++] = ch;
      }
    }
    got += (size_t)r;
  }
  if (lb.len > 0 || lb.mid) /* a last line without its newline: ended here, so the next run's lines start clean */
    line_put(&lb, prefix, '\n');
  if (in_line && tail && tailcap) {
    size_t n = tlen < tailcap - 1 ? tlen : tailcap - 1;
    memcpy(tail, last, n);
    tail[n] = '\0';
  }
  return got;
}

int spot__capture_ready(spot__capture_t *c) {
  struct pollfd p[2] = {{.fd = c->pipe[0][0], .events = POLLIN}, {.fd = c->pipe[1][0], .events = POLLIN}};
  int n;
  while ((n = poll(p, 2, 0)) < 0 && errno == EINTR) {
  }
  if (n < 0)
    return 3; /* cannot tell: read both, as before */
  return (p[0].revents ? 1 : 0) | (p[1].revents ? 2 : 0);
}

void spot__capture_flush(spot__capture_t *c, const char *prefix, const char *note_out, const char *note_err,
                         char *tail, size_t tailcap) {
  fflush(stdout);
  fflush(stderr);
  if (tail && tailcap)
    tail[0] = '\0';
  int ready = spot__capture_ready(c);
  for (int i = 0; i < 2; i++) {
    if (!(ready & (1 << i)))
      continue;
    size_t got = copy_stream(c, i, prefix, tail, tailcap);
    const char *note = i == 0 ? note_out : note_err;
    if (c->size[i] > 0 && got >= (size_t)c->size[i] && note)
      write_all(c->orig[i], note, strlen(note));
  }
  clearerr(stdout);
  clearerr(stderr);
}

/* The crash path's state: one capture per process (a worker has one). */
static struct {
  spot__capture_t *c;
  void (*prefix)(void *, char *, size_t);
  void *arg;
  char *tail;
  size_t tailcap;
} crash;

static void on_crash(int sig) {
  char prefix[128];
  prefix[0] = '\0';
  crash.prefix(crash.arg, prefix, sizeof prefix);
  if (crash.tail && crash.tailcap)
    crash.tail[0] = '\0';
  for (int i = 0; i < 2; i++)
    copy_stream(crash.c, i, prefix, crash.tail, crash.tailcap);
  raise(sig); /* the handler was reset on entry (SA_RESETHAND): the default action now */
}

int spot__capture_on_crash(spot__capture_t *c, void (*prefix)(void *arg, char *buf, size_t cap), void *arg,
                           char *tail, size_t tailcap) {
  static char altstack[65536];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
  if (sigaltstack(&ss, NULL) != 0)
    return SPOT_EIO;
  crash.c = c, crash.prefix = prefix, crash.arg = arg, crash.tail = tail, crash.tailcap = tailcap;
  static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_crash;
  sa.sa_flags = SA_RESETHAND | SA_NODEFER | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (sigaction(sigs[i], &sa, NULL) != 0)
      return SPOT_EIO;
  return 0;
}
