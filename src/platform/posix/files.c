/*
 * files.c: the file calls the network's keys and access control need (platform.h): writing a secret file that
 * only its owner can read, a file's modification time and stamp (times, size, inode), by which an access file is
 * reloaded when it changes, and reading a small configuration file (a key, the access file) without ever blocking
 * on a FIFO put in its place.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
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

int spot__file_stamp(const char *path, spot__file_stamp_t *out) {
  struct stat st;
  if (stat(path, &st) != 0)
    return spot__posix_err(errno);
  out->mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec;
  out->ctime_ns = (uint64_t)st.st_ctim.tv_sec * 1000000000u + (uint64_t)st.st_ctim.tv_nsec;
  out->size = (uint64_t)st.st_size;
  out->dev = (uint64_t)st.st_dev;
  out->ino = (uint64_t)st.st_ino;
  return 0;
}

int spot__read_regular(const char *path, size_t max, char **out, size_t *len, unsigned *mode) {
  /* O_NONBLOCK: opening a FIFO without a writer (or a device) must not block; it is refused after the fstat. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return spot__posix_err(errno);
  int rc = 0;
  char *buf = NULL;
  size_t n = 0;
  struct stat st;
  if (fstat(fd, &st) != 0)
    rc = spot__posix_err(errno);
  else if (!S_ISREG(st.st_mode))
    rc = SPOT_EINVAL;
  else if ((uint64_t)st.st_size > max)
    rc = SPOT_ETOOBIG;
  else if ((buf = malloc(max + 2)) == NULL)
    rc = SPOT_ENOMEM;
  while (rc == 0) { /* read to the end: the file may have grown since the fstat */
    ssize_t got = read(fd, buf + n, max + 1 - n);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      rc = spot__posix_err(errno);
    else if (got == 0)
      break;
    else if ((n += (size_t)got) > max)
      rc = SPOT_ETOOBIG;
  }
  close(fd);
  if (rc != 0) {
    free(buf);
    return rc;
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  if (mode)
    *mode = (unsigned)(st.st_mode & 0777);
  return 0;
}
