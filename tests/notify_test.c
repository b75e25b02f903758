/*
 * notify_test.c: spotd under systemd's readiness protocol (Type=notify, packaging/spotd@.service), with the test
 * in systemd's place: it binds the datagram socket named by $NOTIFY_SOCKET (a path, and an abstract "@name"),
 * starts spotd, and checks that READY=1 with spotd's MAINPID arrives, that by then spotd holds the namespace's node
 * lock (a second spotd is refused) and has written its pid file, that SIGTERM brings STOPPING=1 and exit 0, and
 * that without $NOTIFY_SOCKET spotd runs as before.
 */
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"
#include "test.h"

static const char *env(const char *name) {
  const char *v = getenv(name);
  return v ? v : "";
}

/* Binds a datagram socket at addr ("@name": abstract). Returns the fd or -1. */
static int listen_notify(const char *addr) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  size_t len = strlen(addr);
  if (len >= sizeof sa.sun_path)
    return -1;
  memcpy(sa.sun_path, addr, len);
  if (addr[0] == '@')
    sa.sun_path[0] = '\0';
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  if (fd < 0)
    return -1;
  socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (addr[0] == '/'));
  if (bind(fd, (struct sockaddr *)&sa, alen) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Receives one datagram (at most 20 s) as text into buf; its length, or -1 on time-out. */
static int receive(int fd, char *buf, size_t cap) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  if (poll(&p, 1, 20000) != 1)
    return -1;
  ssize_t n = recv(fd, buf, cap - 1, 0);
  if (n < 0)
    return -1;
  buf[n] = '\0';
  return (int)n;
}

static void run_with(const char *addr_fmt) {
  char root[4096], dir[4200], pidfile[4200], addr[200], msg[512], want[64], out[4096], err[4096];
  snprintf(root, sizeof root, "%s", spot_test_dir("notify"));
  snprintf(dir, sizeof dir, "%s/ns", root);
  snprintf(pidfile, sizeof pidfile, "%s/spotd.pid", root);
  snprintf(addr, sizeof addr, addr_fmt, root, (int)getpid());
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s init %s", spot_test_bin(), dir), 0);
  int fd = listen_notify(addr);
  CHECK(fd >= 0);
  pid_t pid = fork();
  if (pid == 0) {
    setenv("NOTIFY_SOCKET", addr, 1);
    execl(env("SPOTD_BIN"), "spotd", "-n", dir, "--quiet", "--mode", "thread", "--pidfile", pidfile, (char *)NULL);
    _exit(127);
  }
  int got = receive(fd, msg, sizeof msg);
  snprintf(want, sizeof want, "MAINPID=%d", (int)pid);
  int ready = got > 0 && strstr(msg, "READY=1") != NULL && strstr(msg, want) != NULL;
  if (!ready)
    fprintf(stderr, "notify: got %d: %s\n", got, got > 0 ? msg : "");
  /* ready means serving: the lock is held (a second node is refused) and the pid file names spotd */
  int second = spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s --quiet --mode thread", env("SPOTD_BIN"),
                            dir);
  int pid_ok = spot_test_sh(out, sizeof out, NULL, 0, "cat %s", pidfile) == 0 && atoi(out) == (int)pid;
  kill(pid, SIGTERM);
  got = receive(fd, msg, sizeof msg);
  int stopping = got > 0 && strstr(msg, "STOPPING=1") != NULL;
  int st = 0;
  waitpid(pid, &st, 0);
  close(fd);
  if (addr[0] == '/')
    unlink(addr);
  CHECK(ready);
  CHECK(second != 0);
  CHECK(strstr(err, "already") != NULL);
  CHECK(pid_ok);
  CHECK(stopping);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_path_socket(void) { run_with("%s/notify.sock%.0d"); }

static void test_abstract_socket(void) { run_with("@spot-notify-test-%.0s%d"); }

/* A bad address is reported, and spotd serves anyway (the notification is not what it is for). */
static void test_bad_address(void) {
  char root[4096], dir[4200], out[4096], err[4096];
  snprintf(root, sizeof root, "%s", spot_test_dir("notify-bad"));
  snprintf(dir, sizeof dir, "%s/ns", root);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s init %s", spot_test_bin(), dir), 0);
  int rc = spot_test_sh(out, sizeof out, err, sizeof err,
                        "NOTIFY_SOCKET=relative.sock %s -n %s --mode thread & p=$!; sleep 1; kill -TERM $p; wait $p",
                        env("SPOTD_BIN"), dir);
  CHECK_EQ(rc, 0);
  CHECK(strstr(err, "NOTIFY_SOCKET") != NULL && strstr(err, "serving") != NULL);
}

static const spot_test_t tests[] = {
    {"path_socket", test_path_socket},
    {"abstract_socket", test_abstract_socket},
    {"bad_address", test_bad_address},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
