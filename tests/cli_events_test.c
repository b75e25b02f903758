/*
 * cli_events_test.c: `spot events` and `spot trace` against an event log written by an embedded node (thread
 * mode) running a chain of handlers: put a -> chain_a -> put b -> chain_b -> put c, plus a failing handler.
 * Checks the JSON lines (types, node, causes linking up), the text, JSON and Graphviz trees, --follow (new events
 * show up; it stops on SIGTERM and when its reader goes away), and the error sentences.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spot.h"
#include "support.h"
#include "test.h"

#define OUT_CAP (1 << 20)

static int chain_a(spot_ctx_t *ctx, const spot_event_t *ev) {
  return spot_ctx_put(ctx, "b", ev->data, 8, "chain_b", NULL);
}
SPOT_HANDLER(chain_a)

static int chain_b(spot_ctx_t *ctx, const spot_event_t *ev) { return spot_ctx_put(ctx, "c", ev->data, 8, NULL, NULL); }
SPOT_HANDLER(chain_b)

static int failing(spot_ctx_t *ctx, const spot_event_t *ev) { return 42; }
SPOT_HANDLER(failing)

static char out[OUT_CAP], err[4096];

/* ---- a namespace with the chain run once ---- */

/* Runs put a#1 with chain_a (which runs chain_b) and put n#1 with failing, in a node that is then stopped. */
static int run_chain(const char *dir) {
  spot_node_t *node;
  spot_node_opts_t o = {.mode = SPOT_MODE_THREAD, .workers = 2, .quiet = 1};
  if (spot_node_start(dir, &o, &node) != 0)
    return -1;
  spot_ns_t *ns;
  int rc = spot_ns_open(dir, NULL, &ns);
  uint64_t v = 99;
  if (rc == 0)
    rc = spot_put(ns, "a", &v, 8, "chain_a", NULL, NULL);
  if (rc == 0)
    rc = spot_put(ns, "n", &v, 8, "failing", NULL, NULL);
  if (rc == 0)
    rc = spot_test_wait_done(node, 3);
  spot_ns_close(ns);
  spot_node_stop(node);
  return rc;
}

/* ---- reading JSON lines (flat fields as `spot events --json` writes them) ---- */

typedef struct ev {
  uint64_t id, seqno, cause_id, ref;
  int has_cause, status;
  char type[8], node[17], cause_node[17], log[64], handler[64];
} ev_t;

static const char *member(const char *obj, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *p = strstr(obj, pat);
  return p ? p + strlen(pat) : NULL;
}

static void str_member(const char *obj, const char *key, char *buf, size_t cap) {
  const char *p = member(obj, key);
  buf[0] = '\0';
  if (p == NULL || *p != '"')
    return;
  size_t n = strcspn(p + 1, "\"");
  if (n >= cap)
    n = cap - 1;
  memcpy(buf, p + 1, n);
  buf[n] = '\0';
}

static uint64_t num_member(const char *obj, const char *key) {
  const char *p = member(obj, key);
  return p ? strtoull(p, NULL, 10) : UINT64_MAX;
}

static int parse_line(const char *line, ev_t *e) {
  memset(e, 0, sizeof *e);
  if (line[0] != '{')
    return -1;
  e->id = num_member(line, "id");
  e->seqno = num_member(line, "seqno");
  e->ref = num_member(line, "ref");
  e->status = (int)strtol(member(line, "status") ? member(line, "status") : "0", NULL, 10);
  str_member(line, "type", e->type, sizeof e->type);
  str_member(line, "node", e->node, sizeof e->node);
  str_member(line, "log", e->log, sizeof e->log);
  str_member(line, "handler", e->handler, sizeof e->handler);
  const char *c = member(line, "cause");
  if (c == NULL || member(line, "time_ns") == NULL || member(line, "duration_ns") == NULL ||
      member(line, "reason") == NULL)
    return -1;
  if (*c == '{') {
    e->has_cause = 1;
    str_member(c, "node", e->cause_node, sizeof e->cause_node);
    e->cause_id = num_member(c, "id");
  } else if (strncmp(c, "null", 4) != 0) {
    return -1;
  }
  return 0;
}

/* Parses every line of text into evs (at most cap); returns the count, or -1 if a line is not an event. */
static int parse_lines(char *text, ev_t *evs, int cap) {
  int n = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    if (n == cap || parse_line(line, &evs[n]) != 0)
      return -1;
    n++;
  }
  return n;
}

/* The first event of a type with the given log (or handler, when log is NULL) and cause id (any when 0). */
static const ev_t *find_ev(const ev_t *evs, int n, const char *type, const char *log, const char *handler,
                           uint64_t cause) {
  for (int i = 0; i < n; i++)
    if (strcmp(evs[i].type, type) == 0 && (log == NULL || strcmp(evs[i].log, log) == 0) &&
        (handler == NULL || strcmp(evs[i].handler, handler) == 0) && (cause == 0 || evs[i].cause_id == cause))
      return &evs[i];
  return NULL;
}

static int starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* ---- the tests ---- */

static void test_events_json(void) {
  const char *dir = spot_test_ns("cli-ev-json", 100);
  CHECK(dir != NULL);
  CHECK_OK(run_chain(dir));
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  char node[17];
  snprintf(node, sizeof node, "%016" PRIx64, spot_ns_node_id(ns));
  spot_ns_close(ns);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s events --json", spot_test_bin(), dir), 0);
  static ev_t evs[64];
  int n = parse_lines(out, evs, 64);
  CHECK(n >= 10); /* put a, start, put b, start, put c, end, end, put n, start, fail */
  for (int i = 0; i < n; i++) {
    CHECK(strcmp(evs[i].node, node) == 0);
    CHECK(i == 0 || evs[i].id == evs[i - 1].id + 1); /* oldest first, none missing */
    CHECK(!evs[i].has_cause || (strcmp(evs[i].cause_node, node) == 0 && evs[i].cause_id < evs[i].id));
  }
  const ev_t *put_a = find_ev(evs, n, "put", "a", "chain_a", 0);
  CHECK(put_a != NULL && !put_a->has_cause && put_a->seqno == 1);
  const ev_t *start_a = find_ev(evs, n, "start", NULL, "chain_a", put_a->id);
  CHECK(start_a != NULL && start_a->ref == put_a->id);
  const ev_t *put_b = find_ev(evs, n, "put", "b", "chain_b", start_a->id);
  CHECK(put_b != NULL);
  const ev_t *start_b = find_ev(evs, n, "start", NULL, "chain_b", put_b->id);
  CHECK(start_b != NULL);
  const ev_t *put_c = find_ev(evs, n, "put", "c", NULL, start_b->id);
  CHECK(put_c != NULL && put_c->handler[0] == '\0'); /* "handler":null */
  const ev_t *end_b = find_ev(evs, n, "end", NULL, "chain_b", start_b->id);
  CHECK(end_b != NULL && end_b->ref == put_b->id && end_b->status == 0);
  const ev_t *end_a = find_ev(evs, n, "end", NULL, "chain_a", start_a->id);
  CHECK(end_a != NULL && end_a->ref == put_a->id);
  const ev_t *fail = find_ev(evs, n, "fail", "n", "failing", 0);
  CHECK(fail != NULL && fail->status == 42);
  /* --from and --limit pick a window */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s events --json --from 2 --limit 3",
                        spot_test_bin(), dir),
           0);
  CHECK_EQ(parse_lines(out, evs, 64), 3);
  CHECK_EQ(evs[0].id, 2);
  CHECK_EQ(evs[2].id, 4);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s events --json --limit 2", spot_test_bin(), dir),
           0);
  CHECK_EQ(parse_lines(out, evs, 64), 2);
  CHECK_EQ(evs[1].id, (uint64_t)n); /* the newest two */
}

static void test_events_text(void) {
  const char *dir = spot_test_ns("cli-ev-text", 100);
  CHECK(dir != NULL);
  CHECK_OK(run_chain(dir));
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "SPOT_DIR=%s %s events", dir, spot_test_bin()), 0);
  int lines = 0;
  for (const char *p = out; (p = strchr(p, '\n')) != NULL; p++)
    lines++;
  CHECK(lines >= 11); /* a header and one line per event */
  CHECK(strncmp(out + strspn(out, " "), "ID", 2) == 0);
  CHECK(strstr(out, " put ") && strstr(out, " start ") && strstr(out, " end ") && strstr(out, " fail "));
  CHECK(strstr(out, "a#1") && strstr(out, "chain_b") && strstr(out, "returned 42"));
  CHECK(strstr(out, "Z  ") != NULL); /* ISO-8601 UTC times */
}

static void test_trace_text(void) {
  const char *dir = spot_test_ns("cli-trace-text", 100);
  CHECK(dir != NULL);
  CHECK_OK(run_chain(dir));
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s trace a 1", spot_test_bin(), dir), 0);
  /* the tree, line by line, indented two spaces per level */
  const char *want[] = {"put a#1 -> chain_a (external)", "\n  start chain_a", "\n    put b#1 -> chain_b",
                        "\n      start chain_b", "\n        put c#1", "\n        end chain_b ok",
                        "\n    end chain_a ok"};
  const char *at = out;
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const char *p = strstr(at, want[i]);
    if (p == NULL)
      fprintf(stderr, "  missing '%s' in:\n%s", want[i], out);
    CHECK(p != NULL);
    at = p + 1;
  }
  CHECK(starts(out, "put a#1"));
  CHECK(strstr(out, "<== a#1") != NULL && strstr(out, "<== b#1") == NULL);
  CHECK(strstr(out, "failing") == NULL); /* another tree */
  /* asking about b#1 shows the same tree from its root, marking b#1 */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s trace b 1", spot_test_bin(), dir), 0);
  CHECK(starts(out, "put a#1 -> chain_a (external)"));
  CHECK(strstr(out, "<== b#1") != NULL && strstr(out, "<== a#1") == NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s trace n 1", spot_test_bin(), dir), 0);
  CHECK(strstr(out, "put n#1 -> failing (external)") != NULL);
  CHECK(strstr(out, "\n    fail failing status 42") != NULL);
}

/* The bracket depth of `[` at each event object of a nested JSON tree, outside strings. */
typedef struct at_depth {
  int depth;
  ev_t e;
} at_depth_t;

static int walk_json(const char *s, at_depth_t *v, int cap) {
  int depth = 0, braces = 0, n = 0, in_str = 0;
  for (const char *p = s; *p; p++) {
    if (in_str) {
      if (*p == '\\')
        p++;
      else if (*p == '"')
        in_str = 0;
      continue;
    }
    if (*p == '"')
      in_str = 1;
    else if (*p == '[')
      depth++;
    else if (*p == ']')
      depth--;
    else if (*p == '}')
      braces--;
    else if (*p == '{') {
      braces++;
      if (strncmp(p, "{\"id\":", 6) == 0 && n < cap) {
        char one[4096];
        size_t len = strcspn(p, "[");
        snprintf(one, sizeof one, "%.*s", (int)(len < sizeof one ? len : sizeof one - 1), p);
        v[n].depth = depth;
        if (parse_line(one, &v[n].e) != 0)
          return -1;
        n++;
      }
    }
    if (depth < 0 || braces < 0)
      return -1;
  }
  return depth == 0 && braces == 0 && !in_str ? n : -1;
}

static void test_trace_json(void) {
  const char *dir = spot_test_ns("cli-trace-json", 100);
  CHECK(dir != NULL);
  CHECK_OK(run_chain(dir));
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s trace c 1 --json", spot_test_bin(), dir), 0);
  CHECK(out[0] == '{' && strchr(out, '\n') == out + strlen(out) - 1); /* one object, one line */
  at_depth_t v[32];
  int n = walk_json(out, v, 32);
  CHECK_EQ(n, 7);
  struct {
    const char *type, *what;
    int depth;
  } want[] = {{"put", "a", 0},        {"start", "chain_a", 1}, {"put", "b", 2}, {"start", "chain_b", 3},
              {"put", "c", 4},        {"end", "chain_b", 4},   {"end", "chain_a", 2}};
  for (int i = 0; i < n; i++) {
    CHECK(strcmp(v[i].e.type, want[i].type) == 0);
    CHECK(strcmp(v[i].e.type, "put") == 0 ? strcmp(v[i].e.log, want[i].what) == 0
                                          : strcmp(v[i].e.handler, want[i].what) == 0);
    CHECK_EQ(v[i].depth, want[i].depth);
    if (i > 0) /* every event's cause is in the tree, above it */
      CHECK(v[i].e.has_cause && v[i].e.cause_id < v[i].e.id);
  }
  CHECK(!v[0].e.has_cause);
  CHECK_EQ(v[1].e.cause_id, v[0].e.id);
  CHECK_EQ(v[3].e.cause_id, v[2].e.id);
  const char *traced = strstr(out, "\"traced\":true");
  CHECK(traced != NULL && strstr(traced + 1, "\"traced\":true") == NULL);
  CHECK(strstr(out, "\"log\":\"c\",\"seqno\":1,\"handler\":null") != NULL);
}

static void test_trace_dot(void) {
  const char *dir = spot_test_ns("cli-trace-dot", 100);
  CHECK(dir != NULL);
  CHECK_OK(run_chain(dir));
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s trace a 1 --dot", spot_test_bin(), dir), 0);
  CHECK(starts(out, "digraph "));
  CHECK(strlen(out) >= 2 && strcmp(out + strlen(out) - 2, "}\n") == 0);
  int nodes = 0, edges = 0;
  char copy[OUT_CAP];
  snprintf(copy, sizeof copy, "%s", out);
  for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n")) {
    uint64_t from, to;
    char tail[8];
    if (sscanf(line, " e%" SCNu64 " -> e%" SCNu64 "%7s", &from, &to, tail) == 3 && strcmp(tail, ";") == 0) {
      CHECK(from < to); /* cause -> effect */
      edges++;
    } else if (strstr(line, "[label=\"") != NULL && line[2] == 'e') {
      nodes++;
    }
  }
  CHECK_EQ(nodes, 7);
  CHECK_EQ(edges, 6); /* a tree */
  CHECK(strstr(out, "put a#1\\n-> chain_a") != NULL);
  CHECK(strstr(out, "start b#1\\nchain_b") != NULL);
  CHECK(strstr(out, "put c#1") != NULL && strstr(out, "end a#1\\nchain_a") != NULL);
  CHECK(strstr(out, "fillcolor") != NULL); /* the element asked about */
}

/* A put caused by another node's event hangs below a "remote node" leaf (cross-node tracing is issue 6). */
static void test_trace_remote(void) {
  const char *dir = spot_test_ns("cli-trace-remote", 100);
  CHECK(dir != NULL);
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  spot_cause_t remote = {.node = 0xabcdefull, .event = 77};
  uint64_t v = 3;
  CHECK_OK(spot_put(ns, "b", &v, 8, NULL, &remote, NULL));
  spot_ns_close(ns);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s trace b 1", spot_test_bin(), dir), 0);
  CHECK(starts(out, "remote node 0000000000abcdef event 77"));
  CHECK(strstr(out, "\n  put b#1") != NULL && strstr(out, "(external)") == NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s trace b 1 --json", spot_test_bin(), dir), 0);
  CHECK(starts(out, "{\"type\":\"remote\",\"node\":\"0000000000abcdef\",\"id\":77,\"children\":[{"));
  CHECK(strstr(out, "\"cause\":{\"node\":\"0000000000abcdef\",\"id\":77}") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s trace b 1 --dot", spot_test_bin(), dir), 0);
  CHECK(strstr(out, "top -> e0;") != NULL);
}

static void test_errors(void) {
  const char *dir = spot_test_ns("cli-ev-errors", 100);
  CHECK(dir != NULL);
  CHECK_OK(run_chain(dir));
  const char *bin = spot_test_bin();
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s trace zz 1", bin, dir), 1);
  CHECK(strstr(err, "spot: ") == err && strstr(err, "no log named zz") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s trace a 7", bin, dir), 1);
  CHECK(strstr(err, "has no element 7") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s trace a x", bin, dir), 1);
  CHECK(strstr(err, "not a sequence number") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s trace a 1 --json --dot", bin, dir), 1);
  /* an element appended directly to the log has no put event */
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  spot_log_t *log;
  CHECK_OK(spot_ns_open_log(ns, "c", 0, &log, NULL));
  uint64_t v = 1, seq;
  CHECK_OK(spot_log_append(log, &v, 8, &seq));
  CHECK_EQ(seq, 2);
  spot_log_close(log);
  spot_ns_close(ns);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s trace c %" PRIu64, bin, dir, seq), 1);
  CHECK(strstr(err, "no put event for c#2") != NULL && strstr(err, "spot_log_append") != NULL);
  CHECK(out[0] == '\0');
  /* a namespace that does not exist */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s/nowhere events", bin, dir), 1);
  CHECK(strstr(err, "does not exist") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "env -u SPOT_DIR %s events --json", bin), 1);
  CHECK(strstr(err, "no namespace given") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s -n %s events --limit x", bin, dir), 1);
}

/* Reads a whole small file into out ("" if it cannot). */
static void read_file(const char *path) {
  out[0] = '\0';
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return;
  size_t n = fread(out, 1, sizeof out - 1, f);
  out[n] = '\0';
  fclose(f);
}

/* Waits (at most 20 s) until file holds `want` (NULL: anything ending in a newline); 0 when it does. */
static int wait_file(const char *path, const char *want) {
  for (int i = 0; i < 20000; i++) {
    read_file(path);
    size_t n = strlen(out);
    if (want ? strstr(out, want) != NULL : n > 0 && out[n - 1] == '\n')
      return 0;
    usleep(1000);
  }
  return -1;
}

static void test_follow(void) {
  const char *dir = spot_test_ns("cli-ev-follow", 100);
  CHECK(dir != NULL);
  spot_ns_t *ns;
  CHECK_OK(spot_ns_open(dir, NULL, &ns));
  uint64_t v = 5;
  CHECK_OK(spot_put(ns, "n", &v, 8, NULL, NULL, NULL)); /* event 1: the backlog */
  char file[4400], pidfile[4400], rcfile[4400];
  snprintf(file, sizeof file, "%s.follow", dir);
  snprintf(pidfile, sizeof pidfile, "%s.follow.pid", dir);
  snprintf(rcfile, sizeof rcfile, "%s.follow.rc", dir);
  /* in the background, a shell that records the follower's pid and, once it ends, its exit status */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err,
                        "sh -c 'timeout 30 %s -n %s events --follow --json >%s 2>%s.err </dev/null & "
                        "echo $! >%s; wait $!; echo $? >%s' >/dev/null 2>&1 </dev/null &",
                        spot_test_bin(), dir, file, file, pidfile, rcfile),
           0);
  CHECK_OK(wait_file(pidfile, NULL));
  pid_t pid = (pid_t)atoi(out);
  CHECK(pid > 0);
  /* once the backlog is out, the follower has read the latest id: anything newer must follow */
  int rc = wait_file(file, "\"seqno\":1");
  if (rc == 0)
    rc = spot_put(ns, "n", &v, 8, NULL, NULL, NULL);
  if (rc == 0)
    rc = wait_file(file, "\"log\":\"n\",\"seqno\":2");
  spot_ns_close(ns);
  if (rc != 0)
    kill(pid, SIGTERM);
  CHECK_OK(rc);
  static ev_t evs[8];
  CHECK_EQ(parse_lines(out, evs, 8), 2);
  CHECK_EQ(evs[1].id, 2);
  CHECK(strcmp(evs[1].type, "put") == 0 && !evs[1].has_cause);
  /* SIGTERM ends it cleanly (timeout passes the signal on, and exits with the follower's status) */
  CHECK_EQ(kill(pid, SIGTERM), 0);
  CHECK_OK(wait_file(rcfile, NULL));
  CHECK_EQ(atoi(out), 0);
  /* a follower whose reader goes away ends too (head exits after one line; 124 would mean timeout killed it) */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err,
                        "timeout 30 sh -c '%s -n %s events --follow --json | head -n 1 >/dev/null'; echo $?",
                        spot_test_bin(), dir),
           0);
  CHECK_EQ(atoi(out), 0);
}

static const spot_test_t tests[] = {
    {"events_json", test_events_json},
    {"events_text", test_events_text},
    {"trace_text", test_trace_text},
    {"trace_json", test_trace_json},
    {"trace_dot", test_trace_dot},
    {"trace_remote", test_trace_remote},
    {"errors", test_errors},
    {"follow", test_follow},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
