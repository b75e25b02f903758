/*
 * cmd_handlers.c: `spot build-handler` and `spot handlers`.
 *
 * build-handler compiles a handler source file into a shared object with the C compiler ($CC, else cc) and the
 * flags of the spot pkg-config file (or, in a build tree, spot's own include directory), installs it under a new
 * name in DIR/.spot/handlers/ (so a node loads the new version next to the old one), loads it once here to learn
 * which SPOT_HANDLERs it defines, and registers each in the namespace. A ready .so (from the CMake function
 * spot_add_handler) is installed the same way without compiling.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "core/error.h"
#include "dispatch/dispatch.h"
#include "spot.h"

#ifndef SPOT_BUILD_INCLUDE_DIR
#define SPOT_BUILD_INCLUDE_DIR ""
#endif

/* Runs argv, waits; returns its exit status (-1 if it could not run). */
static int run(char *const argv[]) {
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    execvp(argv[0], argv);
    fprintf(stderr, "spot: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The include flag for spot's headers: from `pkg-config --cflags spot`, else the build tree's include dir. */
static void spot_cflags(char *buf, size_t cap) {
  buf[0] = '\0';
  FILE *p = popen("pkg-config --cflags spot 2>/dev/null", "r");
  if (p) {
    if (fgets(buf, (int)cap, p) == NULL)
      buf[0] = '\0';
    int st = pclose(p);
    buf[strcspn(buf, "\n")] = '\0';
    if (st == 0 && buf[0])
      return;
  }
  snprintf(buf, cap, "-I%s", SPOT_BUILD_INCLUDE_DIR);
}

typedef struct found {
  char names[64][64];
  int n;
} found_t;

static int collect(const spot_handler_def_t *def, void *arg) {
  found_t *f = arg;
  if (f->n < 64)
    snprintf(f->names[f->n++], 64, "%s", def->name);
  return 0;
}

static int copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
  int ok = in && out;
  char buf[65536];
  size_t n;
  while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
    ok = fwrite(buf, 1, n, out) == n;
  if (in)
    fclose(in);
  if (out && fclose(out) != 0)
    ok = 0;
  return ok ? 0 : -1;
}

int spot_cli_build_handler(int argc, char **argv, const char *ns_dir) {
  if (argc != 2)
    return spot_cli_fail(0, "usage: spot build-handler FILE.c|FILE.so [-n DIR]");
  const char *src = argv[1];
  size_t len = strlen(src);
  int is_so = len > 3 && strcmp(src + len - 3, ".so") == 0;
  if (!is_so && !(len > 2 && strcmp(src + len - 2, ".c") == 0))
    return spot_cli_fail(0, "%s is neither a C source file (.c) nor a shared object (.so)", src);
  if (access(src, R_OK) != 0)
    return spot_cli_fail(0, "cannot read %s: %s", src, strerror(errno));
  spot_ns_t *ns;
  int rc = spot_ns_open(ns_dir, NULL, &ns);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot open the namespace");

  /* the object's file name: the source's stem (as a valid name) and a unique suffix */
  const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
  char stem[48];
  size_t k = 0;
  for (const char *c = base; *c && *c != '.' && k + 1 < sizeof stem; c++)
    stem[k++] = (char)((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ? *c : '_');
  stem[k] = '\0';
  uint64_t unique;
  spot__random(&unique, sizeof unique);
  char file[128], rel[160], path[4096];
  snprintf(file, sizeof file, "%s-%016llx.so", stem[0] ? stem : "handler", (unsigned long long)unique);
  snprintf(rel, sizeof rel, "handlers/%s", file);
  if ((rc = spot__ns_path(ns, rel, path, sizeof path)) != 0) {
    spot_ns_close(ns);
    return spot_cli_fail(rc, "cannot name the handler object");
  }

  if (is_so) {
    if (copy_file(src, path) != 0) {
      spot_ns_close(ns);
      return spot_cli_fail(0, "cannot copy %s to %s", src, path);
    }
  } else {
    const char *cc = getenv("CC");
    char cflags[1024];
    spot_cflags(cflags, sizeof cflags);
    char *cargv[32];
    int n = 0;
    cargv[n++] = (char *)(cc && cc[0] ? cc : "cc");
    cargv[n++] = "-shared";
    cargv[n++] = "-fPIC";
    cargv[n++] = "-O2";
    cargv[n++] = "-std=c11";
    cargv[n++] = "-Wall";
    for (char *tok = strtok(cflags, " "); tok && n < 26; tok = strtok(NULL, " "))
      cargv[n++] = tok;
    cargv[n++] = (char *)src;
    cargv[n++] = "-o";
    cargv[n++] = path;
    cargv[n] = NULL;
    int st = run(cargv);
    if (st != 0) {
      unlink(path);
      spot_ns_close(ns);
      return spot_cli_fail(0, "compiling %s failed (the compiler's messages are above)", src);
    }
  }
  found_t found = {.n = 0};
  rc = spot__handler_load(path, collect, &found);
  if (rc == 0 && found.n == 0)
    rc = spot__fail(SPOT_EINVAL, "%s defines no handler: add SPOT_HANDLER(function) after a handler function", src);
  for (int i = 0; rc == 0 && i < found.n; i++)
    rc = spot_ns_register_handler(ns, found.names[i], file);
  spot_ns_close(ns);
  if (rc != 0) {
    unlink(path);
    return spot_cli_fail(rc, "cannot install %s", src);
  }
  printf("installed %s as %s; registered:", src, file);
  for (int i = 0; i < found.n; i++)
    printf(" %s", found.names[i]);
  printf("\n");
  return 0;
}

static int print_handler(const spot_handler_info_t *h, void *arg) {
  (void)arg;
  printf("%-6u %-24s %-8llu %s\n", h->id, h->name, (unsigned long long)h->version,
         h->file[0] ? h->file : "(built into the node's program)");
  return 0;
}

int spot_cli_handlers(int argc, char **argv, const char *ns_dir) {
  if (argc != 1)
    return spot_cli_fail(0, "usage: spot handlers");
  spot_ns_t *ns;
  int rc = spot_ns_open(ns_dir, NULL, &ns);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot open the namespace");
  printf("%-6s %-24s %-8s %s\n", "ID", "HANDLER", "VERSION", "OBJECT");
  rc = spot_ns_handlers(ns, print_handler, NULL);
  spot_ns_close(ns);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot read the handler registry");
  return 0;
}
