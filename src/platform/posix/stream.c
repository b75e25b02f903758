/*
 * stream.c: byte streams to a device on a serial link (platform/platform.h): a unix socket that QEMU's emulated
 * UART listens on, or a tty/pty set raw. Non-blocking descriptors with poll(), so every read and write has a time
 * limit and an edge node never hangs on an unplugged device.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "core/error.h"
#include "platform/platform.h"
#include "platform/posix/posix.h"

static int open_socket(const char *path, int *fd) {
  struct sockaddr_un a;
  memset(&a, 0, sizeof a);
  a.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof a.sun_path)
    return spot__fail(SPOT_EINVAL, "socket path %s is too long for a unix socket", path);
  memcpy(a.sun_path, path, strlen(path));
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    return spot__fail(spot__posix_err(errno), "cannot make a socket for %s: %s", path, strerror(errno));
  if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
    int e = errno;
    close(s);
    return spot__fail(e == ECONNREFUSED ? SPOT_ECLOSED : spot__posix_err(e),
                      "cannot connect to the device's socket %s: %s (is QEMU running with -serial unix:%s,server?)",
                      path, strerror(e), path);
  }
  fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
  *fd = s;
  return 0;
}

int spot__stream_open(const char *path, int *fd) {
  struct stat st;
  if (stat(path, &st) != 0)
    return spot__fail(spot__posix_err(errno), "cannot open the device link %s: %s", path, strerror(errno));
  if (S_ISSOCK(st.st_mode))
    return open_socket(path, fd);
  int f = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (f < 0)
    return spot__fail(spot__posix_err(errno), "cannot open the device link %s: %s", path, strerror(errno));
  struct termios t;
  if (tcgetattr(f, &t) != 0) {
    int e = errno;
    close(f);
    return spot__fail(SPOT_EIO, "%s is not a terminal or a unix socket (%s): give the device's tty, pty or socket",
                      path, strerror(e));
  }
  cfmakeraw(&t);
  t.c_cflag |= CLOCAL | CREAD;
  t.c_cc[VMIN] = 0;
  t.c_cc[VTIME] = 0;
  if (tcsetattr(f, TCSANOW, &t) != 0) {
    int e = errno;
    close(f);
    return spot__fail(SPOT_EIO, "cannot set %s raw: %s", path, strerror(e));
  }
  *fd = f;
  return 0;
}

int spot__stream_read(int fd, void *buf, size_t cap, uint64_t timeout_ns, size_t *got) {
  struct pollfd p = {fd, POLLIN, 0};
  int ms = (int)((timeout_ns + 999999u) / 1000000u);
  int n = poll(&p, 1, ms);
  if (n < 0 && errno != EINTR)
    return spot__fail(SPOT_EIO, "waiting for the device link: %s", strerror(errno));
  if (n <= 0) {
    *got = 0;
    return 0;
  }
  ssize_t r = read(fd, buf, cap);
  if (r > 0) {
    *got = (size_t)r;
    return 0;
  }
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
    *got = 0;
    return 0;
  }
  if (r == 0 || errno == EIO || errno == ECONNRESET) /* a pty whose other side closed reads EIO */
    return spot__fail(SPOT_ECLOSED, "the device link was closed (device unplugged, or QEMU stopped)");
  return spot__fail(SPOT_EIO, "reading the device link: %s", strerror(errno));
}

int spot__stream_write(int fd, const void *buf, size_t n, uint64_t timeout_ns) {
  const char *p = buf;
  uint64_t deadline = spot__now_ns() + timeout_ns;
  while (n > 0) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == ENOTSOCK)
      w = write(fd, p, n);
    if (w > 0) {
      p += w;
      n -= (size_t)w;
      continue;
    }
    if (w < 0 && errno != EAGAIN && errno != EINTR)
      return spot__fail(errno == EPIPE || errno == ECONNRESET || errno == EIO ? SPOT_ECLOSED : SPOT_EIO,
                        "writing to the device link: %s", strerror(errno));
    uint64_t now = spot__now_ns();
    if (now >= deadline)
      return spot__fail(SPOT_ETIMEDOUT, "the device link takes no more bytes (device stalled)");
    struct pollfd q = {fd, POLLOUT, 0};
    poll(&q, 1, (int)((deadline - now + 999999u) / 1000000u));
  }
  return 0;
}

void spot__stream_close(int fd) {
  if (fd >= 0)
    close(fd);
}
