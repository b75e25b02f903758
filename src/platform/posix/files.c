/*
 * files.c: the two file calls the network's keys and access control need (platform.h): writing a secret file that
 * only its owner can read, and a file's modification time, by which an access file is reloaded when it changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/platform.h"
#include "platform/posix/posix.h"
#include "spot/error.h"

int spot__write_private(const char *path, const void *data, size_t n) {
  /* O_EXCL: never overwrite (and never follow a symlink planted at path); 0600 whatever the umask leaves. */
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return spot__posix_err(errno);
  int rc = 0;
  if (fchmod(fd, 0600) != 0)
    rc = spot__posix_err(errno);
  const unsigned char *p = data;
  while (rc == 0 && n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      rc = spot__posix_err(errno);
      break;
    }
    p += w;
    n -= (size_t)w;
  }
  if (rc == 0 && fsync(fd) != 0)
    rc = spot__posix_err(errno);
  if (close(fd) != 0 && rc == 0)
    rc = spot__posix_err(errno);
  if (rc != 0)
    unlink(path);
  return rc;
}

int spot__mtime_ns(const char *path, uint64_t *out) {
  struct stat st;
  if (stat(path, &st) != 0)
    return spot__posix_err(errno);
  *out = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
  return 0;
}
