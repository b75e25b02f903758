/*
 * cmd_trace.c: `spot trace LOG SEQNO [--json|--dot]`, the causal tree of one element from the node's event log.
 *
 * It finds the put event of the element (the newest, if it was put more than once, e.g. recovered at a node start),
 * walks its causes back to the root (a put from outside any handler), then scans the event log forward from the
 * root once, taking every event whose cause is already in the tree: so the tree holds what led to the element and
 * everything that followed from it (starts of puts; puts, ends and fails of starts). Causes precede their effects
 * in the log, which is what makes one forward scan enough. A root caused by another node's event, or by an event
 * that has expired from the ring, hangs below a placeholder saying so (cross-node tracing is issue 6).
 *
 * Output: an indented tree (text), one JSON object with nested "children", or a Graphviz digraph (--dot).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "events.h"
#include "spot.h"
#if SPOT_HAVE_NET
#include "spot/net.h"
#endif

#define NONE ((size_t)-1)

typedef enum top_kind { TOP_NONE = 0, TOP_REMOTE, TOP_EXPIRED } top_kind_t;
typedef enum trace_fmt { FMT_TEXT = 0, FMT_JSON, FMT_DOT } trace_fmt_t;

typedef struct tnode {
  spot_eventrec_t e;
  size_t parent, first, last, next; /* indexes into tree.v, NONE if absent */
} tnode_t;

typedef struct tree {
  tnode_t *v; /* v[0] is the root; ids increase with the index */
  size_t n, cap;
  uint64_t node_id; /* this node */
  uint64_t traced;  /* event id of the put asked about */
  top_kind_t top;   /* what caused the root, when it is not in this event log */
  uint64_t top_node, top_id;
} tree_t;

/* ---- building the tree ---- */

static int tree_add(tree_t *t, const spot_eventrec_t *e, size_t parent) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 64;
    tnode_t *v = realloc(t->v, cap * sizeof *v);
    if (v == NULL)
      return SPOT_ENOMEM;
    t->v = v, t->cap = cap;
  }
  tnode_t *x = &t->v[t->n];
  x->e = *e;
  x->parent = parent;
  x->first = x->last = x->next = NONE;
  if (parent != NONE) {
    tnode_t *p = &t->v[parent];
    if (p->last == NONE)
      p->first = t->n;
    else
      t->v[p->last].next = t->n;
    p->last = t->n;
  }
  t->n++;
  return 0;
}

/* The index of event (node, id) in the tree, or NONE. Newest first: causes are usually close. */
static size_t tree_find(const tree_t *t, uint64_t node, uint64_t id) {
  for (size_t i = t->n; i-- > 0;)
    if (t->v[i].e.id == id && t->v[i].e.node == node)
      return i;
  return NONE;
}

/* The newest put event of element seq of log `log`, scanning the event log from its newest event. */
static int find_put(spot_ns_t *ns, const char *log, uint64_t seq, spot_eventrec_t *out) {
  uint64_t latest, earliest;
  int rc = spot_events_range(ns, &earliest, &latest);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot read the event log");
  for (uint64_t id = latest; id >= earliest && id > 0; id--) {
    spot_eventrec_t e;
    rc = spot_events_read(ns, id, &e);
    if (rc == SPOT_EEXPIRED)
      break; /* the ring moved on while we read: everything older is gone too */
    if (rc == 0 && e.type == SPOT_EVENT_PUT && e.seq == seq && strcmp(e.log, log) == 0) {
      *out = e;
      return 0;
    }
  }
  char window[64] = "it is empty";
  if (latest > 0)
    snprintf(window, sizeof window, "it holds events %" PRIu64 " to %" PRIu64, earliest, latest);
  return spot_cli_fail(0,
                       "no put event for %s#%" PRIu64 " in the event log (%s): it has expired from the event "
                       "log, or the element was appended directly (spot_log_append) rather than put with spot_put",
                       log, seq, window);
}

/* Walks causes back from put to the root: the first event whose cause is outside (0,0), on another node, or gone. */
static int find_root(spot_ns_t *ns, tree_t *t, const spot_eventrec_t *put, spot_eventrec_t *root) {
  spot_eventrec_t cur = *put;
  for (;;) {
    if (cur.cause.node == 0 && cur.cause.event == 0)
      break;
    if (cur.cause.node != t->node_id) {
      t->top = TOP_REMOTE;
      break;
    }
    spot_eventrec_t up;
    int rc = cur.cause.event < cur.id ? spot_events_read(ns, cur.cause.event, &up) : SPOT_ECORRUPT;
    if (rc == SPOT_EEXPIRED || rc == SPOT_ENOTYET || rc == SPOT_ECORRUPT) {
      t->top = TOP_EXPIRED;
      break;
    }
    if (rc != 0)
      return spot_cli_fail(rc, "cannot read event %" PRIu64, cur.cause.event);
    cur = up;
  }
  t->top_node = cur.cause.node;
  t->top_id = cur.cause.event;
  *root = cur;
  return 0;
}

/* Adds the root and, in one forward scan, every event whose cause is already in the tree. */
static int grow(spot_ns_t *ns, tree_t *t, const spot_eventrec_t *root) {
  int rc = tree_add(t, root, NONE);
  uint64_t latest = 0;
  if (rc == 0)
    rc = spot_events_range(ns, NULL, &latest);
  for (uint64_t id = root->id + 1; rc == 0 && id <= latest; id++) {
    spot_eventrec_t e;
    if (spot_events_read(ns, id, &e) != 0)
      continue; /* expired meanwhile, or damaged: not part of what we can show */
    if (e.cause.node != t->node_id || e.cause.event < root->id || e.cause.event >= id)
      continue;
    size_t parent = tree_find(t, e.cause.node, e.cause.event);
    if (parent != NONE)
      rc = tree_add(t, &e, parent);
  }
  return rc == 0 ? 0 : spot_cli_fail(rc, "cannot build the tree");
}

/* ---- other nodes ---- */

#define BATCH 1024u

#if SPOT_HAVE_NET
/* For each put in the tree to another node's log, reads that node's event log and adds what the put caused there:
 * the node's put event for the element (same cause, same sequence number), then every event caused by what is
 * already in the subtree. Puts from there to further nodes are followed the same way. */
static int grow_remote(tree_t *t) {
  spot_remote_t *r = NULL;
  uint8_t *recs = NULL;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < t->n; i++) {
    spot_eventrec_t put = t->v[i].e;
    spot_url_t u;
    if (put.type != SPOT_EVENT_PUT || !spot_is_remote(put.log) || spot_url_parse(put.log, &u) != 0)
      continue;
    if (r == NULL) {
      const char *to = getenv("SPOT_TIMEOUT_MS");
      if ((rc = spot_remote_new(spot_cli_key, spot_cli_node_key, to ? (uint32_t)strtoul(to, NULL, 10) : 0, &r)) != 0 ||
          (recs = malloc((size_t)BATCH * SPOT_EVENT_BYTES)) == NULL) {
        rc = rc ? rc : SPOT_ENOMEM;
        break;
      }
    }
    char nsurl[256];
    snprintf(nsurl, sizeof nsurl, "spot://%s/%s", u.hostport, u.ns);
    uint64_t from = 1, their_node = 0;
    size_t sub = NONE;
    for (;;) {
      uint32_t n = 0;
      if (spot_remote_events(r, nsurl, from, BATCH, recs, &n) != 0) {
        fprintf(stderr, "spot: cannot follow the trace to %s: %s\n", nsurl, spot_errdetail());
        break; /* show what this node knows */
      }
      if (n == 0)
        break;
      for (uint32_t k = 0; k < n && rc == 0; k++) {
        spot_eventrec_t e;
        if (spot_events_decode(recs + (size_t)k * SPOT_EVENT_BYTES, SPOT_EVENT_BYTES, &e) != 0)
          continue;
        from = e.id + 1;
        if (sub == NONE) {
          if (e.type == SPOT_EVENT_PUT && e.seq == put.seq && strcmp(e.log, u.log) == 0 &&
              e.cause.node == put.cause.node && e.cause.event == put.cause.event) {
            their_node = e.node;
            rc = tree_add(t, &e, i);
            sub = t->n - 1;
          }
          continue;
        }
        size_t parent = e.cause.node == their_node ? tree_find(t, e.cause.node, e.cause.event) : NONE;
        if (parent != NONE)
          rc = tree_add(t, &e, parent);
      }
    }
  }
  spot_remote_free(r);
  free(recs);
  return rc == 0 ? 0 : spot_cli_fail(rc, "cannot follow the trace to another node");
}
#else
/* Without the network, another node's events cannot be read: the tree stops at puts to other nodes, and one line on
 * stderr says so. */
static int grow_remote(tree_t *t) {
  for (size_t i = 0; i < t->n; i++)
    if (t->v[i].e.type == SPOT_EVENT_PUT && spot_is_remote(t->v[i].e.log)) {
      fprintf(stderr, "spot: the trace stops at puts to other nodes (%s): this spot was built without the network "
                      "(-DSPOT_NET=OFF)\n", t->v[i].e.log);
      break;
    }
  return 0;
}
#endif

/* ---- text ---- */

static int is_ended(const tnode_t *x) { return x->e.type == SPOT_EVENT_END || x->e.type == SPOT_EVENT_FAIL; }

static int has_end(const tree_t *t, const tnode_t *x) {
  for (size_t c = x->first; c != NONE; c = t->v[c].next)
    if (is_ended(&t->v[c]))
      return 1;
  return 0;
}

static void print_text_line(const tree_t *t, const tnode_t *x, size_t depth) {
  const spot_eventrec_t *e = &x->e;
  printf("%*s", (int)(depth * 2), "");
  switch (e->type) {
  case SPOT_EVENT_PUT:
    printf("put %s#%" PRIu64, e->log, e->seq);
    if (e->handler[0])
      printf(" -> %s", e->handler);
    if (e->cause.node == 0 && e->cause.event == 0)
      printf(" (external)");
    if (e->reason[0])
      printf(" (%s)", e->reason);
    break;
  case SPOT_EVENT_START:
    printf("start %s", e->handler);
    if (!has_end(t, x))
      printf(" (not ended)");
    break;
  case SPOT_EVENT_END:
    printf("end %s ok, %.1f us, cpu %.1f us, %.3f uJ", e->handler, (double)e->duration_ns / 1e3,
           (double)e->cpu_ns / 1e3, (double)e->energy_nj / 1e3);
    break;
  default:
    printf("%s %s status %" PRId32 ", %.1f us, cpu %.1f us, %.3f uJ", spot_events_type_name(e->type), e->handler,
           e->status, (double)e->duration_ns / 1e3, (double)e->cpu_ns / 1e3, (double)e->energy_nj / 1e3);
    if (e->reason[0])
      printf(": %s", e->reason);
    break;
  }
  if (e->node != t->node_id)
    printf("  [node %016" PRIx64 " event %" PRIu64 "]", e->node, e->id);
  else
    printf("  [event %" PRIu64 "]", e->id);
  if (e->id == t->traced && e->node == t->node_id)
    printf("  <== %s#%" PRIu64, e->log, e->seq);
  putchar('\n');
}

static void print_top_text(const tree_t *t) {
  if (t->top == TOP_REMOTE)
    printf("remote node %016" PRIx64 " event %" PRIu64 " (cross-node tracing is not supported yet)\n", t->top_node,
           t->top_id);
  else if (t->top == TOP_EXPIRED)
    printf("event %" PRIu64 " (expired from the event log)\n", t->top_id);
}

/* The runs of the tree (its end and fail events) and their CPU time and energy. */
typedef struct total {
  uint64_t runs, cpu_ns, energy_nj;
} total_t;

static total_t tree_total(const tree_t *t) {
  total_t s = {0, 0, 0};
  for (size_t i = 0; i < t->n; i++)
    if (is_ended(&t->v[i])) {
      s.runs++;
      s.cpu_ns += t->v[i].e.cpu_ns;
      s.energy_nj += t->v[i].e.energy_nj;
    }
  return s;
}

/* Depth-first, without recursion (a chain of handlers can be as deep as the event log is long). */
static void print_text(const tree_t *t) {
  print_top_text(t);
  size_t depth = t->top != TOP_NONE, i = 0;
  for (;;) {
    print_text_line(t, &t->v[i], depth);
    if (t->v[i].first != NONE) {
      i = t->v[i].first, depth++;
      continue;
    }
    while (i != 0 && t->v[i].next == NONE)
      i = t->v[i].parent, depth--;
    if (i == 0)
      break;
    i = t->v[i].next;
  }
  total_t s = tree_total(t);
  printf("total: %" PRIu64 " run%s, cpu %.1f us, energy %.3f uJ\n", s.runs, s.runs == 1 ? "" : "s",
         (double)s.cpu_ns / 1e3, (double)s.energy_nj / 1e3);
}

/* ---- JSON ---- */

/* Closes the object of node i (its children array first); the outermost object also gets the tree's total. */
static void close_json(const tree_t *t, int outermost) {
  if (!outermost) {
    fputs("]}", stdout);
    return;
  }
  total_t s = tree_total(t);
  printf("],\"total\":{\"runs\":%" PRIu64 ",\"cpu_ns\":%" PRIu64 ",\"energy_nj\":%" PRIu64 "}}", s.runs, s.cpu_ns,
         s.energy_nj);
}

static void print_json(const tree_t *t) {
  char node[17];
  if (t->top != TOP_NONE) {
    spot_cli_node_hex(t->top_node, node);
    printf("{\"type\":\"%s\",\"node\":\"%s\",\"id\":%" PRIu64 ",\"children\":[",
           t->top == TOP_REMOTE ? "remote" : "expired", node, t->top_id);
  }
  size_t i = 0;
  for (;;) {
    putchar('{');
    spot_cli_event_json_members(stdout, &t->v[i].e);
    printf(",\"traced\":%s,\"children\":[",
           t->v[i].e.id == t->traced && t->v[i].e.node == t->node_id ? "true" : "false");
    if (t->v[i].first != NONE) {
      i = t->v[i].first;
      continue;
    }
    close_json(t, i == 0 && t->top == TOP_NONE);
    while (i != 0 && t->v[i].next == NONE) {
      i = t->v[i].parent;
      close_json(t, i == 0 && t->top == TOP_NONE);
    }
    if (i == 0)
      break;
    putchar(',');
    i = t->v[i].next;
  }
  if (t->top != TOP_NONE)
    close_json(t, 1);
  putchar('\n');
}

/* ---- Graphviz ---- */

/* s inside a DOT double-quoted string. */
static void dot_text(const char *s) {
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      putchar('\\');
    if ((unsigned char)*s >= 0x20)
      putchar(*s);
  }
}

static void print_dot_node(const tree_t *t, const tnode_t *x) {
  const spot_eventrec_t *e = &x->e;
  printf("  e%zu [label=\"%s %s#%" PRIu64, (size_t)(x - t->v), spot_events_type_name(e->type), e->log, e->seq);
  if (e->handler[0])
    printf("\\n%s%s", e->type == SPOT_EVENT_PUT ? "-> " : "", e->handler);
  if (e->type == SPOT_EVENT_END)
    printf("\\nok, %.1f us", (double)e->duration_ns / 1e3);
  if (e->type == SPOT_EVENT_FAIL) {
    printf("\\nstatus %" PRId32 ", %.1f us", e->status, (double)e->duration_ns / 1e3);
    if (e->reason[0])
      printf("\\n"), dot_text(e->reason);
  }
  if (e->node != t->node_id)
    printf("\\nnode %016" PRIx64, e->node);
  printf("\\nevent %" PRIu64 "\"", e->id);
  if (e->type == SPOT_EVENT_FAIL)
    printf(", color=red");
  if (e->type == SPOT_EVENT_START)
    printf(", style=rounded");
  if (e->id == t->traced && e->node == t->node_id)
    printf(", style=\"bold,filled\", fillcolor=lightyellow");
  printf("];\n");
}

static void print_dot(const tree_t *t) {
  printf("digraph spot_trace {\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n");
  if (t->top != TOP_NONE) {
    if (t->top == TOP_REMOTE)
      printf("  top [label=\"remote node %016" PRIx64 "\\nevent %" PRIu64 "\"", t->top_node, t->top_id);
    else
      printf("  top [label=\"event %" PRIu64 "\\nexpired\"", t->top_id);
    printf(", shape=ellipse, style=dashed];\n  top -> e0;\n");
  }
  for (size_t i = 0; i < t->n; i++) {
    print_dot_node(t, &t->v[i]);
    if (t->v[i].parent != NONE)
      printf("  e%zu -> e%zu;\n", t->v[i].parent, i);
  }
  printf("}\n");
}

/* ---- the command ---- */

static int parse_trace_args(int argc, char **argv, const char **log, uint64_t *seq, trace_fmt_t *fmt) {
  static const char usage[] = "usage: spot trace LOG SEQNO [--json | --dot]";
  const char *seq_text = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "--dot") == 0) {
      trace_fmt_t f = strcmp(argv[i], "--json") == 0 ? FMT_JSON : FMT_DOT;
      if (*fmt != FMT_TEXT && *fmt != f)
        return spot_cli_fail(0, "trace: --json and --dot exclude each other");
      *fmt = f;
    } else if (argv[i][0] == '-') {
      return spot_cli_fail(0, "trace: unknown option %s; %s", argv[i], usage);
    } else if (*log == NULL) {
      *log = argv[i];
    } else if (seq_text == NULL) {
      seq_text = argv[i];
    } else {
      return spot_cli_fail(0, "trace: unexpected argument %s; %s", argv[i], usage);
    }
  }
  if (*log == NULL || seq_text == NULL)
    return spot_cli_fail(0, "%s", usage);
  if (spot_cli_parse_u64(seq_text, 0, seq) != 0 || *seq == 0)
    return spot_cli_fail(0, "'%s' is not a sequence number (1, 2, ...)", seq_text);
  return 0;
}

/* Checks that log `name` exists and has element seq (it may have expired from the log: the events still tell). */
static int check_element(spot_ns_t *ns, const char *name, uint64_t seq) {
  spot_log_t *log;
  int rc = spot_ns_open_log(ns, name, 0, &log, NULL);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot trace %s#%" PRIu64, name, seq);
  uint64_t latest;
  spot_log_latest(log, &latest);
  spot_log_close(log);
  if (seq > latest)
    return spot_cli_fail(0, "log %s has no element %" PRIu64 " yet (its latest is %" PRIu64 ")", name, seq, latest);
  return 0;
}

int spot_cli_trace(int argc, char **argv, const char *ns_dir) {
  const char *name = NULL;
  uint64_t seq = 0;
  trace_fmt_t fmt = FMT_TEXT;
  if (parse_trace_args(argc, argv, &name, &seq, &fmt) != 0)
    return 1;
  spot_ns_t *ns;
  int rc = spot_ns_open(ns_dir, NULL, &ns);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot open the namespace");
  tree_t t = {.node_id = spot_ns_node_id(ns)};
  spot_eventrec_t put, root;
  int status = 1;
  if (check_element(ns, name, seq) != 0)
    goto done;
  if (find_put(ns, name, seq, &put) != 0 || find_root(ns, &t, &put, &root) != 0 || grow(ns, &t, &root) != 0 ||
      grow_remote(&t) != 0)
    goto done;
  t.traced = put.id;
  if (fmt == FMT_JSON)
    print_json(&t);
  else if (fmt == FMT_DOT)
    print_dot(&t);
  else
    print_text(&t);
  status = fflush(stdout) == 0 && !ferror(stdout) ? 0 : spot_cli_fail(SPOT_EIO, "cannot write the trace");
done:
  free(t.v);
  spot_ns_close(ns);
  return status;
}
