/*
 * cmd_store.c: the `spot` subcommands of the log store: init, create, put, get, latest, ls, info, check.
 *
 * Each opens the namespace (-n DIR or $SPOT_DIR), does one thing, and reports a failure as one line on stderr
 * through spot_cli_fail(), which adds the library's detail line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "spot.h"
#include "spot/net.h"
#include "spot/node.h"

int spot_cli_fail(int rc, const char *fmt, ...) {
  va_list ap;
  fputs("spot: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  const char *detail = rc ? spot_errdetail() : "";
  if (detail[0])
    fprintf(stderr, ": %s\n", detail);
  else if (rc)
    fprintf(stderr, ": %s\n", spot_strerror(rc));
  else
    fputc('\n', stderr);
  return 1;
}

int spot_cli_parse_u64(const char *text, int suffix, uint64_t *out) {
  if (text == NULL || text[0] < '0' || text[0] > '9')
    return SPOT_EINVAL;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno != 0)
    return SPOT_EINVAL;
  uint64_t mult = 1;
  if (suffix && *end) {
    switch (*end) {
    case 'K': case 'k': mult = 1u << 10; break;
    case 'M': case 'm': mult = 1u << 20; break;
    case 'G': case 'g': mult = 1u << 30; break;
    default: return SPOT_EINVAL;
    }
    end++;
  }
  if (*end != '\0' || (v != 0 && mult > UINT64_MAX / v))
    return SPOT_EINVAL;
  *out = (uint64_t)v * mult;
  return 0;
}

/* Opens the namespace or prints why not. */
static int open_ns(const char *ns_dir, spot_ns_t **ns) {
  int rc = spot_ns_open(ns_dir, NULL, ns);
  if (rc != 0)
    spot_cli_fail(rc, "cannot open the namespace");
  return rc;
}

static int open_log(const char *ns_dir, const char *name, unsigned flags, spot_log_t **log,
                    spot_log_report_t *rep) {
  spot_ns_t *ns;
  int rc = open_ns(ns_dir, &ns);
  if (rc != 0)
    return rc;
  rc = spot_ns_open_log(ns, name, flags, log, rep);
  if (rc != 0)
    spot_cli_fail(rc, "cannot open log %s", name);
  spot_ns_close(ns);
  return rc;
}

int spot_cli_init(int argc, char **argv, const char *ns_dir) {
  const char *dir = argc > 1 ? argv[1] : ns_dir;
  if (argc > 2)
    return spot_cli_fail(0, "usage: spot init [DIR]");
  if (dir == NULL)
    return spot_cli_fail(0, "init needs a directory: spot init DIR (or -n DIR, or SPOT_DIR)");
  int rc = spot_ns_init(dir);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot make %s a namespace", dir);
  printf("namespace %s ready\n", dir);
  return 0;
}

static int has_handler(const spot_handler_info_t *h, void *arg) { return strcmp(h->name, arg) == 0; }

int spot_cli_create(int argc, char **argv, const char *ns_dir) {
  const char *name = NULL, *handler = NULL;
  uint64_t size = 0, history = 0, batch_us = 0;
  int have_size = 0, have_history = 0;
  spot_sync_t sync = SPOT_SYNC_NONE;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--size") == 0 || strcmp(a, "--history") == 0 || strcmp(a, "--sync") == 0 ||
        strcmp(a, "--batch-us") == 0 || strcmp(a, "--handler") == 0) {
      if (v == NULL)
        return spot_cli_fail(0, "%s needs a value", a);
      i++;
      if (strcmp(a, "--handler") == 0) {
        handler = v;
      } else if (strcmp(a, "--size") == 0) {
        if (spot_cli_parse_u64(v, 1, &size) != 0)
          return spot_cli_fail(0, "--size '%s' is not a number of bytes (e.g. 64, 1K, 1M)", v);
        have_size = 1;
      } else if (strcmp(a, "--history") == 0) {
        if (spot_cli_parse_u64(v, 1, &history) != 0)
          return spot_cli_fail(0, "--history '%s' is not a number of elements", v);
        have_history = 1;
      } else if (strcmp(a, "--sync") == 0) {
        int rc = spot_sync_parse(v, &sync);
        if (rc != 0)
          return spot_cli_fail(rc, "bad --sync");
      } else if (spot_cli_parse_u64(v, 0, &batch_us) != 0 || batch_us > 1000000) {
        return spot_cli_fail(0, "--batch-us '%s' is not a number of microseconds up to 1000000", v);
      }
    } else if (a[0] == '-') {
      return spot_cli_fail(0, "create: unknown option %s", a);
    } else if (name == NULL) {
      name = a;
    } else {
      return spot_cli_fail(0, "create: unexpected argument %s", a);
    }
  }
  if (name == NULL || !have_size || !have_history)
    return spot_cli_fail(0, "usage: spot create LOG --size BYTES --history N [--sync none|batch|always] "
                         "[--handler H]");
  if (size == 0 || size > SPOT_ELEM_MAX)
    return spot_cli_fail(0, "--size %" PRIu64 " is out of range: 1 to %u bytes", size, SPOT_ELEM_MAX);
  if (spot_is_remote(name)) {
    if (handler)
      return spot_cli_fail(0, "create --handler takes local names only for now: create %s, then bind on the node's "
                           "host", name);
    spot_log_config_t rcfg = {.elem_size = (uint32_t)size, .history = history, .sync = sync,
                              .batch_us = (uint32_t)batch_us};
    return spot_cli_remote_create(name, &rcfg);
  }
  spot_ns_t *ns;
  if (open_ns(ns_dir, &ns) != 0)
    return 1;
  spot_log_config_t cfg = {.elem_size = (uint32_t)size, .history = history, .sync = sync,
                           .batch_us = (uint32_t)batch_us};
  /* with --handler: the handler must be registered before anything is made, so a refusal leaves no log behind */
  int rc = handler ? spot_ns_handlers(ns, has_handler, (void *)handler) : 0;
  if (rc == 0 && handler)
    rc = spot_cli_fail(0, "cannot create log %s: handler %s is not registered (see `spot handlers`); "
                       "nothing was created", name, handler);
  else if (rc == 1)
    rc = 0;
  else if (rc != 0)
    rc = spot_cli_fail(rc, "cannot read the handler registry");
  if (rc != 0) {
    spot_ns_close(ns);
    return rc;
  }
  if ((rc = spot_ns_create_log(ns, name, &cfg)) != 0) {
    spot_ns_close(ns);
    return spot_cli_fail(rc, "cannot create log %s", name);
  }
  if (handler && (rc = spot_bind(ns, name, handler)) != 0) {
    spot_cli_fail(rc, "log %s was created, but binding %s to it failed (bind it with `spot bind %s %s`)", name,
                  handler, name, handler);
    spot_ns_close(ns);
    return 1;
  }
  spot_ns_close(ns);
  return 0;
}

/* Reads all of fp into a buffer of at most max bytes; SPOT_ETOOBIG if there is more. */
static int slurp(FILE *fp, size_t max, uint8_t **out, size_t *n) {
  size_t cap = max < 65536 ? max + 1 : 65536, len = 0;
  uint8_t *buf = malloc(cap);
  if (buf == NULL)
    return SPOT_ENOMEM;
  for (;;) {
    if (len == cap) {
      if (cap > max) {
        free(buf);
        return SPOT_ETOOBIG;
      }
      cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
      uint8_t *b = realloc(buf, cap);
      if (b == NULL) {
        free(buf);
        return SPOT_ENOMEM;
      }
      buf = b;
    }
    size_t got = fread(buf + len, 1, cap - len, fp);
    len += got;
    if (got == 0)
      break;
  }
  if (ferror(fp)) {
    free(buf);
    return SPOT_EIO;
  }
  if (len > max) {
    free(buf);
    return SPOT_ETOOBIG;
  }
  *out = buf;
  *n = len;
  return 0;
}

/* The length of text without one trailing newline ("22.0\n" from echo is the element "22.0"). */
static size_t drop_newline(const uint8_t *buf, size_t len) {
  return len > 0 && buf[len - 1] == '\n' ? len - 1 : len;
}

int spot_cli_put(int argc, char **argv, const char *ns_dir) {
  const char *name = NULL, *data = NULL, *file = NULL, *handler = NULL;
  int from_stdin = 0, binary = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--handler") == 0 && i + 1 < argc)
      handler = argv[++i];
    else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
      data = argv[++i];
    else if (strcmp(argv[i], "--file") == 0 && i + 1 < argc)
      file = argv[++i];
    else if (strcmp(argv[i], "-") == 0)
      from_stdin = 1;
    else if (strcmp(argv[i], "--binary") == 0)
      binary = 1;
    else if (argv[i][0] == '-')
      return spot_cli_fail(0, "put: unknown option %s (or missing value)", argv[i]);
    else if (name == NULL)
      name = argv[i];
    else
      return spot_cli_fail(0, "put: unexpected argument %s", argv[i]);
  }
  if (name == NULL || (data != NULL) + (file != NULL) + from_stdin > 1)
    return spot_cli_fail(0, "usage: spot put LOG [--handler NAME] [--data STRING | --file PATH | - [--binary]]");
  /* stdin is text unless --binary: one trailing newline is dropped (read one byte more than fits, for it) */
  int text_in = !binary && data == NULL && file == NULL;
  if (spot_is_remote(name)) {
    uint8_t *rbuf = NULL;
    size_t rlen = 0;
    int rrc = 0;
    if (data != NULL) {
      rlen = strlen(data);
      rbuf = (uint8_t *)strdup(data);
    } else {
      FILE *fp = file ? fopen(file, "rb") : stdin;
      if (fp == NULL)
        return spot_cli_fail(0, "cannot read %s: %s", file, strerror(errno));
      rrc = slurp(fp, SPOT_ELEM_MAX + (size_t)text_in, &rbuf, &rlen);
      if (file)
        fclose(fp);
      if (rrc == 0 && text_in)
        rlen = drop_newline(rbuf, rlen);
    }
    if (rrc != 0 || (rbuf == NULL && rlen > 0)) {
      free(rbuf);
      return spot_cli_fail(rrc ? rrc : SPOT_ENOMEM, "cannot read the input");
    }
    rrc = spot_cli_remote_put(name, rbuf, rlen, handler);
    free(rbuf);
    return rrc;
  }
  spot_ns_t *ns;
  if (open_ns(ns_dir, &ns) != 0)
    return 1;
  spot_log_t *log;
  int rc = spot_ns_open_log(ns, name, 0, &log, NULL);
  if (rc != 0) {
    spot_ns_close(ns);
    return spot_cli_fail(rc, "cannot open log %s", name);
  }
  spot_log_info_t info;
  spot_log_info(log, &info);
  spot_log_close(log);
  uint8_t *buf = NULL;
  size_t len = 0;
  if (data != NULL) {
    len = strlen(data);
    if (len > info.elem_size)
      rc = SPOT_ETOOBIG;
    else
      buf = (uint8_t *)strdup(data);
  } else {
    FILE *fp = file ? fopen(file, "rb") : stdin;
    if (fp == NULL) {
      spot_ns_close(ns);
      return spot_cli_fail(0, "cannot read %s: %s", file, strerror(errno));
    }
    rc = slurp(fp, info.elem_size + (size_t)text_in, &buf, &len);
    if (file)
      fclose(fp);
    if (rc == 0 && text_in && (len = drop_newline(buf, len)) > info.elem_size)
      rc = SPOT_ETOOBIG;
  }
  if (rc == SPOT_ETOOBIG) {
    spot_ns_close(ns);
    return spot_cli_fail(0, "input is longer than log %s's element size (%u bytes)", name, info.elem_size);
  }
  uint64_t seq = 0;
  if (rc == 0)
    rc = spot_put(ns, name, buf, len, handler, NULL, &seq);
  free(buf);
  spot_ns_close(ns);
  if (rc != 0)
    return spot_cli_fail(rc, "put to %s failed", name);
  printf("%" PRIu64 "\n", seq);
  return 0;
}

int spot_cli_get(int argc, char **argv, const char *ns_dir) {
  if (argc != 3)
    return spot_cli_fail(0, "usage: spot get LOG SEQNO|latest");
  if (spot_is_remote(argv[1]))
    return spot_cli_remote_get(argv[1], argv[2]);
  spot_log_t *log;
  if (open_log(ns_dir, argv[1], 0, &log, NULL) != 0)
    return 1;
  uint64_t seq;
  int rc = 0;
  if (strcmp(argv[2], "latest") == 0) {
    spot_log_latest(log, &seq);
    if (seq == 0) {
      spot_log_close(log);
      return spot_cli_fail(0, "log %s is empty", argv[1]);
    }
  } else if (spot_cli_parse_u64(argv[2], 0, &seq) != 0 || seq == 0) {
    spot_log_close(log);
    return spot_cli_fail(0, "'%s' is not a sequence number (1, 2, ... or latest)", argv[2]);
  }
  spot_log_info_t info;
  spot_log_info(log, &info);
  uint8_t *buf = malloc(info.elem_size);
  rc = buf ? spot_log_read(log, seq, buf, info.elem_size) : SPOT_ENOMEM;
  if (rc == 0 && fwrite(buf, 1, info.elem_size, stdout) != info.elem_size)
    rc = SPOT_EIO;
  free(buf);
  spot_log_close(log);
  if (rc != 0)
    return spot_cli_fail(rc, "get %s %s failed", argv[1], argv[2]);
  return 0;
}

int spot_cli_latest(int argc, char **argv, const char *ns_dir) {
  if (argc != 2)
    return spot_cli_fail(0, "usage: spot latest LOG");
  if (spot_is_remote(argv[1]))
    return spot_cli_remote_latest(argv[1]);
  spot_log_t *log;
  if (open_log(ns_dir, argv[1], 0, &log, NULL) != 0)
    return 1;
  uint64_t seq;
  spot_log_latest(log, &seq);
  spot_log_close(log);
  printf("%" PRIu64 "\n", seq);
  return 0;
}

typedef struct ls_ctx {
  spot_ns_t *ns;
  int count;
  char (*bound)[2][64]; /* {log, handler} of every bound log */
  size_t nbound, capbound;
} ls_ctx_t;

static int ls_collect(const char *log, const char *handler, void *arg) {
  ls_ctx_t *c = arg;
  if (c->nbound == c->capbound) {
    size_t cap = c->capbound ? c->capbound * 2 : 16;
    void *v = realloc(c->bound, cap * sizeof *c->bound);
    if (v == NULL)
      return SPOT_ENOMEM;
    c->bound = v;
    c->capbound = cap;
  }
  snprintf(c->bound[c->nbound][0], 64, "%s", log);
  snprintf(c->bound[c->nbound][1], 64, "%s", handler);
  c->nbound++;
  return 0;
}

static const char *ls_handler(const ls_ctx_t *c, const char *log) {
  for (size_t i = 0; i < c->nbound; i++)
    if (strcmp(c->bound[i][0], log) == 0)
      return c->bound[i][1];
  return "-";
}

static int ls_one(const char *name, void *arg) {
  ls_ctx_t *c = arg;
  spot_log_t *log;
  int rc = spot_ns_open_log(c->ns, name, 0, &log, NULL);
  if (rc != 0) {
    printf("%-24s %s: %s\n", name, spot_errname(rc), spot_errdetail());
    return 0;
  }
  spot_log_info_t i;
  spot_log_info(log, &i);
  printf("%-24s %10u %12" PRIu64 " %-7s %12" PRIu64 " %s\n", name, i.elem_size, i.history, spot_sync_name(i.sync),
         i.latest, ls_handler(c, name));
  spot_log_close(log);
  c->count++;
  return 0;
}

int spot_cli_ls(int argc, char **argv, const char *ns_dir) {
  if (argc == 2 && spot_is_remote(argv[1]))
    return spot_cli_remote_list(argv[1], 0);
  if (argc != 1)
    return spot_cli_fail(0, "usage: spot ls [spot://HOST:PORT/NS]");
  ls_ctx_t c = {0};
  if (open_ns(ns_dir, &c.ns) != 0)
    return 1;
  int rc = spot_bindings(c.ns, ls_collect, &c);
  if (rc != 0) {
    spot_ns_close(c.ns);
    free(c.bound);
    return spot_cli_fail(rc, "cannot read the namespace's bindings");
  }
  printf("%-24s %10s %12s %-7s %12s %s\n", "LOG", "SIZE", "HISTORY", "SYNC", "LATEST", "HANDLER");
  rc = spot_ns_list(c.ns, ls_one, &c);
  spot_ns_close(c.ns);
  free(c.bound);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot list the namespace");
  return 0;
}

int spot_cli_info(int argc, char **argv, const char *ns_dir) {
  const char *name = NULL;
  int json = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0)
      json = 1;
    else if (argv[i][0] != '-' && name == NULL)
      name = argv[i];
    else
      return spot_cli_fail(0, "usage: spot info LOG [--json]");
  }
  if (name == NULL)
    return spot_cli_fail(0, "usage: spot info LOG [--json]");
  if (spot_is_remote(name))
    return spot_cli_remote_info(name, json);
  spot_log_t *log;
  if (open_log(ns_dir, name, 0, &log, NULL) != 0)
    return 1;
  spot_log_info_t i;
  spot_log_info(log, &i);
  spot_log_close(log);
  if (json) {
    printf("{\"name\":\"%s\",\"elem_size\":%u,\"history\":%" PRIu64 ",\"sync\":\"%s\",\"batch_us\":%u,"
           "\"latest\":%" PRIu64 ",\"earliest\":%" PRIu64 ",\"durable\":%" PRIu64 ",\"file_bytes\":%" PRIu64
           ",\"log_id\":\"%016" PRIx64 "\",\"created_ns\":%" PRIu64 "}\n",
           name, i.elem_size, i.history, spot_sync_name(i.sync), i.batch_us, i.latest, i.earliest, i.durable,
           i.file_bytes, i.log_id, i.created_ns);
  } else {
    printf("log:        %s\nelement:    %u bytes\nhistory:    %" PRIu64 " elements\nsync:       %s",
           name, i.elem_size, i.history, spot_sync_name(i.sync));
    if (i.sync == SPOT_SYNC_BATCH)
      printf(" (every %u us at most)", i.batch_us);
    printf("\nlatest:     %" PRIu64 "\nearliest:   %" PRIu64 "\ndurable:    %" PRIu64 "\nfile:       %" PRIu64
           " bytes\nid:         %016" PRIx64 "\n",
           i.latest, i.earliest, i.durable, i.file_bytes, i.log_id);
  }
  return 0;
}

int spot_cli_check_print(const char *name, int fix, const spot_check_result_t *c) {
  const spot_log_report_t *rec = &c->opened, *ver = &c->verified;
  if (rec->torn_slots || rec->dropped)
    printf("%s: recovered%s: %" PRIu64 " torn slot(s) cleared, %" PRIu64 " element(s) dropped\n", name,
           rec->power_loss ? " after a restart" : "", rec->torn_slots, rec->dropped);
  if (fix && rec->damaged)
    printf("%s: fixed: %" PRIu64 " damaged element(s) marked lost, the first is %" PRIu64 "\n", name, rec->damaged,
           rec->damaged_seq);
  if (fix && rec->bad_marks)
    printf("%s: fixed: %" PRIu64 " damaged handler mark(s) restored, the first on element %" PRIu64 "\n", name,
           rec->bad_marks, rec->bad_mark_seq);
  printf("%s: elements %" PRIu64 " to %" PRIu64 ": %" PRIu64 " intact, %" PRIu64 " damaged, %" PRIu64 " lost", name,
         ver->earliest, ver->latest, ver->valid_slots, ver->damaged, ver->lost);
  if (ver->damaged)
    printf(" (first damaged: %" PRIu64 ")", ver->damaged_seq);
  if (ver->lost)
    printf(" (first lost: %" PRIu64 ")", ver->lost_seq);
  printf("\n");
  if (ver->marked)
    printf("%s: %" PRIu64 " element(s) wait for their handler (a node runs them while it runs)\n", name, ver->marked);
  if (c->status != 0) {
    fflush(stdout);
    fprintf(stderr, "spot: check of %s found damage: %s\n", name, c->detail[0] ? c->detail : spot_strerror(c->status));
    return 1;
  }
  printf("%s: ok\n", name);
  return 0;
}

int spot_cli_check(int argc, char **argv, const char *ns_dir) {
  const char *name = NULL;
  int fix = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--fix") == 0)
      fix = 1;
    else if (argv[i][0] != '-' && name == NULL)
      name = argv[i];
    else
      return spot_cli_fail(0, "usage: spot check LOG [--fix]");
  }
  if (name == NULL)
    return spot_cli_fail(0, "usage: spot check LOG [--fix]");
  if (spot_is_remote(name))
    return spot_cli_remote_check(name, fix);
  spot_ns_t *ns;
  if (open_ns(ns_dir, &ns) != 0)
    return 1;
  spot_check_result_t c;
  int rc = spot_ns_check_log(ns, name, fix, &c);
  spot_ns_close(ns);
  if (rc != 0)
    return spot_cli_fail(rc, "check of %s failed", name);
  return spot_cli_check_print(name, fix, &c);
}
