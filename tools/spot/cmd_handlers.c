/*
 * cmd_handlers.c: `spot build-handler`, `spot deploy` and `spot handlers`.
 *
 * build-handler compiles a handler source file into a shared object with the C compiler ($CC, else cc) and the
 * headers of this spot's own install prefix (headers.c: or this build tree's), installs it under a new
 * name in DIR/.spot/handlers/ (so a node loads the new version next to the old one), loads it once in a
 * short-lived child process to learn which SPOT_HANDLERs it defines (an object that crashes while loading is
 * refused, and takes down only that child), and registers each in the namespace. A ready .so (from the CMake
 * function spot_add_handler) is installed the same way without compiling. deploy builds the object the same way
 * here and sends it to a running node, which installs it (it needs the deploy right).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "spot.h"
#if SPOT_HAVE_NET
#include "spot/net.h"
#endif

/* build-handler -v: print the compiler's command line and where spot's headers came from. */
static int verbose;

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

/* Reads a whole file (at most max bytes). */
static int read_file(const char *path, size_t max, uint8_t **out, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return spot_fail(SPOT_ENOTFOUND, "cannot read %s: %s", path, strerror(errno));
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  while (buf) {
    if (n == cap) {
      if (cap > max) {
        free(buf);
        fclose(f);
        return spot_fail(SPOT_ETOOBIG, "%s is larger than %zu bytes", path, max);
      }
      uint8_t *b = realloc(buf, cap * 2);
      if (b == NULL)
        break;
      buf = b;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0)
      break;
  }
  fclose(f);
  if (buf == NULL)
    return SPOT_ENOMEM;
  *out = buf;
  *len = n;
  return 0;
}

int spot_cli_handler_object(const char *src, uint8_t **bytes, size_t *len) {
  size_t n = strlen(src);
  int is_so = n > 3 && strcmp(src + n - 3, ".so") == 0;
  if (!is_so && !(n > 2 && strcmp(src + n - 2, ".c") == 0))
    return spot_fail(SPOT_EINVAL, "%s is neither a C source file (.c) nor a shared object (.so)", src);
  if (access(src, R_OK) != 0)
    return spot_fail(SPOT_ENOTFOUND, "cannot read %s: %s", src, strerror(errno));
  if (is_so)
    return read_file(src, 64u << 20, bytes, len);
  char out[] = "/tmp/spot-handler-XXXXXX";
  int fd = mkstemp(out);
  if (fd < 0)
    return spot_fail(SPOT_EIO, "cannot make a temporary file: %s", strerror(errno));
  close(fd);
  const char *cc = getenv("CC"), *from = "";
  char cflags[4200];
  int hrc = spot_cli_include_flags(cflags, sizeof cflags, &from);
  if (hrc != 0) {
    unlink(out);
    return hrc;
  }
  char *cargv[32];
  int k = 0;
  cargv[k++] = (char *)(cc && cc[0] ? cc : "cc");
  cargv[k++] = "-shared";
  cargv[k++] = "-fPIC";
  cargv[k++] = "-O2";
  cargv[k++] = "-std=c11";
  cargv[k++] = "-Wall";
  if (strcmp(from, "pkg-config") != 0)
    cargv[k++] = cflags; /* one -I<dir>, which may hold spaces */
  else
    for (char *tok = strtok(cflags, " "); tok && k < 26; tok = strtok(NULL, " "))
      cargv[k++] = tok;
  cargv[k++] = (char *)src;
  cargv[k++] = "-o";
  cargv[k++] = out;
  cargv[k] = NULL;
  if (verbose) {
    fprintf(stderr, "spot: headers from %s:", from);
    for (int i = 0; i < k; i++)
      fprintf(stderr, " %s", cargv[i]);
    fputc('\n', stderr);
  }
  int rc = run(cargv) == 0 ? read_file(out, 64u << 20, bytes, len)
                           : spot_fail(SPOT_EINVAL, "compiling %s failed (the compiler's messages are above)", src);
  unlink(out);
  return rc;
}

/* The stem of a handler file's name ("dir/frost.c" -> "frost"), for naming the installed object. */
static void stem_of(const char *src, char *out, size_t cap) {
  const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
  snprintf(out, cap, "%s", base);
  out[strcspn(out, ".")] = '\0';
}

int spot_cli_build_handler(int argc, char **argv, const char *ns_dir) {
  if (argc == 3 && strcmp(argv[1], "-v") == 0)
    verbose = 1, argv[1] = argv[2], argc = 2;
  if (argc != 2)
    return spot_cli_fail(0, "usage: spot build-handler [-v] FILE.c|FILE.so [-n DIR]");
  spot_ns_t *ns;
  int rc = spot_ns_open(ns_dir, NULL, &ns);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot open the namespace");
  uint8_t *bytes = NULL;
  size_t len = 0;
  char names[64][64], stem[64];
  int n = 0;
  stem_of(argv[1], stem, sizeof stem);
  rc = spot_cli_handler_object(argv[1], &bytes, &len);
  if (rc == 0)
    rc = spot_ns_install_handlers(ns, stem, bytes, len, names, 64, &n);
  free(bytes);
  spot_ns_close(ns);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot install %s", argv[1]);
  printf("installed %s; registered:", argv[1]);
  for (int i = 0; i < n; i++)
    printf(" %s", names[i]);
  printf("\n");
  return 0;
}

int spot_cli_deploy(int argc, char **argv, const char *ns_dir) {
  if (argc != 3 || !spot_is_remote(argv[2]))
    return spot_cli_fail(0, "usage: spot deploy FILE.c|FILE.so spot://HOST:PORT/NAMESPACE [--key FILE] "
                            "[--node-key FILE]");
#if !SPOT_HAVE_NET
  return spot_cli_no_network("deploy");
#else
  uint8_t *bytes = NULL;
  size_t len = 0;
  int rc = spot_cli_handler_object(argv[1], &bytes, &len);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot build %s", argv[1]);
  const char *t = getenv("SPOT_TIMEOUT_MS");
  spot_remote_t *r;
  rc = spot_remote_new(spot_cli_key, spot_cli_node_key, t ? (uint32_t)strtoul(t, NULL, 10) : 30000, &r);
  if (rc == 0) {
    char object[80];
    stem_of(argv[1], object, 64);
    strcat(object, ".so");
    rc = spot_remote_deploy(r, argv[2], object, bytes, len);
    spot_remote_free(r);
  }
  free(bytes);
  if (rc != 0)
    return spot_cli_fail(rc, "deploy of %s to %s failed", argv[1], argv[2]);
  printf("deployed %s to %s\n", argv[1], argv[2]);
  return 0;
#endif
}

typedef struct handlers_ctx {
  spot_ns_t *ns;
  const char *name; /* the handler print_bound looks for */
  int shown;        /* logs printed for it */
} handlers_ctx_t;

static int print_bound(const char *log, const char *handler, void *arg) {
  handlers_ctx_t *c = arg;
  if (strcmp(handler, c->name) == 0)
    printf("%s%s", c->shown++ ? "," : "", log);
  return 0;
}

static int print_handler(const spot_handler_info_t *h, void *arg) {
  handlers_ctx_t *c = arg;
  printf("%-6u %-24s %-8llu %-40s ", h->id, h->name, (unsigned long long)h->version,
         h->file[0] ? h->file : "(built into the node's program)");
  c->name = h->name;
  c->shown = 0;
  int rc = spot_bindings(c->ns, print_bound, c);
  printf("%s\n", c->shown ? "" : "-");
  return rc;
}

int spot_cli_handlers(int argc, char **argv, const char *ns_dir) {
  const char *remove = NULL;
  if (argc == 2 && spot_is_remote(argv[1]))
    return spot_cli_remote_list(argv[1], 1);
  if (argc == 3 && strcmp(argv[1], "--remove") == 0 && argv[2][0] != '-')
    remove = argv[2];
  else if (argc != 1)
    return spot_cli_fail(0, "usage: spot handlers [--remove NAME] | spot handlers spot://HOST:PORT/NS");
  spot_ns_t *ns;
  int rc = spot_ns_open(ns_dir, NULL, &ns);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot open the namespace");
  if (remove) {
    rc = spot_ns_remove_handler(ns, remove);
    spot_ns_close(ns);
    if (rc != 0)
      return spot_cli_fail(rc, "cannot remove handler %s", remove);
    printf("removed handler %s: puts can no longer name it\n", remove);
    return 0;
  }
  handlers_ctx_t c = {.ns = ns};
  printf("%-6s %-24s %-8s %-40s %s\n", "ID", "HANDLER", "VERSION", "OBJECT", "BOUND TO");
  rc = spot_ns_handlers(ns, print_handler, &c);
  spot_ns_close(ns);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot read the handler registry");
  return 0;
}
