/*
 * apps/vquery/imagedir.c: the image files of a directory, in name order: what `library build` indexes and trains on
 * and what `--camera DIR` replays.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "vquery.h"

static int is_image_name(const char *name) {
  static const char *const ext[] = {".jpg", ".jpeg", ".png", ".ppm", ".pgm"};
  size_t n = strlen(name);
  if (name[0] == '.')
    return 0;
  for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
    size_t e = strlen(ext[i]);
    if (n > e && strcasecmp(name + n - e, ext[i]) == 0)
      return 1;
  }
  return 0;
}

static int by_name(const void *a, const void *b) {
  return strcmp(vq_basename(*(char *const *)a), vq_basename(*(char *const *)b));
}

const char *vq_basename(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

void vq_image_list_free(char **paths, size_t n) {
  if (!paths)
    return;
  for (size_t i = 0; i < n; i++)
    free(paths[i]);
  free(paths);
}

int vq_image_list(const char *dir, char ***paths, size_t *n) {
  int rc = 0;
  char **list = NULL;
  size_t len = 0, cap = 0;
  DIR *d = opendir(dir);
  if (!d)
    return spot_fail(errno == ENOENT || errno == ENOTDIR ? SPOT_ENOTFOUND : SPOT_EIO, "cannot read directory %s: %s",
                     dir, strerror(errno));
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (!is_image_name(e->d_name))
      continue;
    size_t plen = strlen(dir) + strlen(e->d_name) + 2;
    char *p = malloc(plen);
    if (!p) {
      rc = spot_fail(SPOT_ENOMEM, "no memory to list %s", dir);
      goto fail;
    }
    snprintf(p, plen, "%s/%s", dir, e->d_name);
    struct stat st;
    if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
      free(p);
      continue;
    }
    if (len == cap) {
      cap = cap ? 2 * cap : 64;
      char **l = realloc(list, cap * sizeof *l);
      if (!l) {
        free(p);
        rc = spot_fail(SPOT_ENOMEM, "no memory to list %s", dir);
        goto fail;
      }
      list = l;
    }
    list[len++] = p;
  }
  if (len == 0) {
    rc = spot_fail(SPOT_EEMPTY, "%s holds no image (.jpg .jpeg .png .ppm .pgm)", dir);
    goto fail;
  }
  qsort(list, len, sizeof *list, by_name);
  closedir(d);
  *paths = list;
  *n = len;
  return 0;
fail:
  closedir(d);
  vq_image_list_free(list, len);
  return rc;
}
