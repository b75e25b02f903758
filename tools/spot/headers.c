/*
 * headers.c: where `spot build-handler` and `spot deploy` find spot's headers to compile a handler against.
 *
 * The headers that match this program are those of its own install prefix, found from the program's place
 * (/proc/self/exe, then SPOT_BIN_TO_INCLUDE, e.g. bin/../include): an installed spot never reaches into the source
 * tree it was built from, and an install tree that is moved keeps working. A `spot` run from its build tree uses
 * the source tree's include directory (that build's headers). Only when neither holds (a copied binary, say) does
 * it ask pkg-config for the flags of an installed spot.pc.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "spot.h"

#ifndef SPOT_BUILD_INCLUDE_DIR
#define SPOT_BUILD_INCLUDE_DIR ""
#endif
#ifndef SPOT_BUILD_BIN_DIR
#define SPOT_BUILD_BIN_DIR ""
#endif
#ifndef SPOT_BIN_TO_INCLUDE
#define SPOT_BIN_TO_INCLUDE "../include"
#endif

/* realpath() of path's directory part into out (PATH_MAX); 0 or -1. */
static int real_dir(const char *path, char *out) {
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s", path);
  char *slash = strrchr(tmp, '/');
  if (slash == NULL)
    return -1;
  *slash = '\0';
  return realpath(tmp[0] ? tmp : "/", out) ? 0 : -1;
}

static int has_handler_h(const char *dir) {
  char probe[PATH_MAX + 32];
  snprintf(probe, sizeof probe, "%s/spot/handler.h", dir);
  return access(probe, R_OK) == 0;
}

int spot_cli_include_flags(char *flags, size_t cap, const char **from) {
  char exe[PATH_MAX], bindir[PATH_MAX], builddir[PATH_MAX], inc[PATH_MAX * 2];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    if (real_dir(exe, bindir) == 0) {
      if (SPOT_BUILD_BIN_DIR[0] && realpath(SPOT_BUILD_BIN_DIR, builddir) && strcmp(bindir, builddir) == 0 &&
          has_handler_h(SPOT_BUILD_INCLUDE_DIR)) {
        snprintf(flags, cap, "-I%s", SPOT_BUILD_INCLUDE_DIR);
        *from = "this build tree";
        return 0;
      }
      snprintf(inc, sizeof inc, "%s/%s", bindir, SPOT_BIN_TO_INCLUDE);
      char real[PATH_MAX];
      if (realpath(inc, real) && has_handler_h(real)) {
        snprintf(flags, cap, "-I%s", real);
        *from = "this spot's install prefix";
        return 0;
      }
    }
  }
  FILE *p = popen("pkg-config --cflags spot 2>/dev/null", "r");
  if (p) {
    char got[4096] = "";
    if (fgets(got, (int)sizeof got, p) == NULL)
      got[0] = '\0';
    int st = pclose(p);
    got[strcspn(got, "\n")] = '\0';
    if (st == 0 && got[0]) {
      snprintf(flags, cap, "%s", got);
      *from = "pkg-config";
      return 0;
    }
  }
  return spot_fail(SPOT_ENOTFOUND,
                   "cannot find spot's headers: not beside this program (%s/spot/handler.h), and `pkg-config "
                   "--cflags spot` found none: install spot (cmake --install) or set PKG_CONFIG_PATH",
                   SPOT_BIN_TO_INCLUDE);
}
