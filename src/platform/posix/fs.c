/*
 * fs.c: directories and small files for POSIX (platform.h), used by namespaces.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/platform.h"
#include "platform/posix/posix.h"
#include "spot/error.h"

int spot__mkdir(const char *path) {
  if (mkdir(path, 0755) == 0 || (errno == EEXIST && spot__is_dir(path)))
    return 0;
  return spot__posix_err(errno);
}

int spot__is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int spot__exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

int spot__touch(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return spot__posix_err(errno);
  close(fd);
  return 0;
}

int spot__dir_each(const char *dir, int (*fn)(const char *name, void *arg), void *arg) {
  DIR *d = opendir(dir);
  if (d == NULL)
    return spot__posix_err(errno);
  int rc = 0;
  struct dirent *e;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    rc = fn(e->d_name, arg);
  }
  closedir(d);
  return rc;
}
