/*
 * process.c: shared objects, child processes and shared memory for POSIX (platform.h): what spotd's worker mode
 * and handler loading need.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
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

int spot__reap(int *signal, int *status) {
  int st = 0;
  pid_t pid = waitpid(-1, &st, WNOHANG);
  if (pid <= 0)
    return 0;
  *signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return (int)pid;
}

void spot__kill(int pid, int hard) {
  if (pid > 0)
    kill(pid, hard ? SIGKILL : SIGTERM);
}

int spot__getpid(void) { return (int)getpid(); }

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
  default: return "a signal";
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

int spot__shm_map(int fd, size_t size, void **addr) {
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED)
    return SPOT_EIO;
  *addr = p;
  return 0;
}
