/*
 * cmd_trace.c: `spot trace LOG SEQNO [--json|--dot]`, the causal tree of one element from the node's event log.
 *
 * It finds the put event of the element (the newest, if it was put more than once, e.g. recovered at a node start),
 * walks its causes back to the root (a put from outside any handler), then scans the event log forward from the
 * root once, taking every event whose cause is already in the tree: so the tree holds what led to the element and
 * everything that followed from it (starts of puts; puts, ends and fails of starts). Causes precede their effects
 * in the log, which is what makes one forward scan enough. Puts to other nodes' logs are followed into those nodes'
 * event logs (each read once), where every event caused by one in the tree joins it, once. A cause on another node
 * is walked back through the nodes given with --peer spot://HOST:PORT/NS (a receiver knows the sender's node id,
 * not its address: the peers' event logs say which node id each one is); a root caused by another node's event
 * that no peer holds, or by an event that has expired from the ring, hangs below a placeholder saying so.
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

/* Another node's event log, read once (every event it holds) and kept for the rest of the command. */
typedef struct nodelog {
  char url[256];      /* spot://host:port/namespace */
  uint64_t node;      /* its node id, 0 until its events are read (or when it has none) */
  spot_eventrec_t *ev; /* its events, in id order */
  size_t n;
  int state;          /* 0 not read yet, 1 read, -1 unreachable */
} nodelog_t;

typedef struct tree {
  tnode_t *v; /* v[0] is the root; ids increase with the index */
  size_t n, cap;
  uint64_t node_id; /* this node */
  uint64_t traced;  /* event id of the put asked about */
  top_kind_t top;   /* what caused the root, when it is not in an event log the trace can read */
  uint64_t top_node, top_id;
  nodelog_t *logs;  /* other nodes: the --peer ones first, then those that puts in the tree name */
  size_t nlogs, npeers;
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

/* Adds e below its cause when the cause is in the tree and e is not (an event reached twice, e.g. from two puts to
 * one node, or on a chain that comes back to a node already read, is shown once). */
static int tree_attach(tree_t *t, const spot_eventrec_t *e) {
  if (e->cause.node == 0 && e->cause.event == 0)
    return 0;
  size_t parent = tree_find(t, e->cause.node, e->cause.event);
  if (parent == NONE || tree_find(t, e->node, e->id) != NONE)
    return 0;
  return tree_add(t, e, parent);
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

/* ---- other nodes' event logs ---- */

#define BATCH 1024u

#if SPOT_HAVE_NET
static spot_remote_t *client;
static uint8_t *recs;

/* Reads every event of l->url once (l->state 1), or notes that it cannot (-1, with one line on stderr). */
static int nodelog_read(nodelog_t *l) {
  if (l->state != 0)
    return l->state == 1 ? 0 : -1;
  l->state = -1;
  if (client == NULL) {
    const char *to = getenv("SPOT_TIMEOUT_MS");
    int rc = spot_remote_new(spot_cli_key, spot_cli_node_key, to ? (uint32_t)strtoul(to, NULL, 10) : 0, &client);
    if (rc != 0 || (recs = malloc((size_t)BATCH * SPOT_EVENT_BYTES)) == NULL) {
      fprintf(stderr, "spot: cannot follow the trace to %s: %s\n", l->url, rc ? spot_errdetail() : "no memory");
      return -1;
    }
  }
  size_t cap = 0;
  for (uint64_t from = 1;;) {
    uint32_t n = 0;
    if (spot_remote_events(client, l->url, from, BATCH, recs, &n) != 0) {
      fprintf(stderr, "spot: cannot follow the trace to %s: %s\n", l->url, spot_errdetail());
      return -1; /* what was read is kept: show what the trace knows */
    }
    if (n == 0)
      break;
    for (uint32_t k = 0; k < n; k++) {
      spot_eventrec_t e;
      if (spot_events_decode(recs + (size_t)k * SPOT_EVENT_BYTES, SPOT_EVENT_BYTES, &e) != 0)
        continue;
      from = e.id + 1;
      if (l->n == cap) {
        size_t c = cap ? cap * 2 : 1024;
        spot_eventrec_t *v = realloc(l->ev, c * sizeof *v);
        if (v == NULL)
          return fprintf(stderr, "spot: no memory for the events of %s\n", l->url), -1;
        l->ev = v, cap = c;
      }
      l->ev[l->n++] = e;
    }
  }
  l->node = l->n ? l->ev[0].node : 0;
  l->state = 1;
  return 0;
}

/* The node log for namespace URL url, added to t->logs if it is not there. NULL when out of memory. */
static nodelog_t *nodelog_of(tree_t *t, const char *url) {
  for (size_t i = 0; i < t->nlogs; i++)
    if (strcmp(t->logs[i].url, url) == 0)
      return &t->logs[i];
  nodelog_t *v = realloc(t->logs, (t->nlogs + 1) * sizeof *v);
  if (v == NULL)
    return NULL;
  t->logs = v;
  nodelog_t *l = &v[t->nlogs++];
  memset(l, 0, sizeof *l);
  snprintf(l->url, sizeof l->url, "%s", url);
  return l;
}

/* Event (node, id) of another node, from the --peer whose node id it is. 0, or -1 when no peer is that node or the
 * event is not there (expired, or not written). */
static int peer_event(tree_t *t, uint64_t node, uint64_t id, nodelog_t **from, size_t *at) {
  for (size_t p = 0; p < t->npeers; p++) {
    nodelog_t *l = &t->logs[p];
    if (nodelog_read(l) != 0 || l->node != node)
      continue;
    for (size_t i = l->n; i-- > 0;)
      if (l->ev[i].id == id) {
        *from = l, *at = i;
        return 0;
      }
    return -1;
  }
  return -1;
}

/* Adds, from node log l, every event after position `after` whose cause is in the tree (and that is not). */
static int grow_from(tree_t *t, const nodelog_t *l, size_t after) {
  int rc = 0;
  for (size_t k = after + 1; k < l->n && rc == 0; k++)
    rc = tree_attach(t, &l->ev[k]);
  return rc;
}

/* For each put in the tree to another node's log, reads that node's event log and adds what the put caused there:
 * the node's put event for the element (same cause, same sequence number), then every event caused by what is
 * already in the tree. Puts from there to further nodes are followed the same way. */
static int grow_remote(tree_t *t) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < t->n; i++) {
    spot_eventrec_t put = t->v[i].e;
    spot_url_t u;
    if (put.type != SPOT_EVENT_PUT || !spot_is_remote(put.log) || spot_url_parse(put.log, &u) != 0)
      continue;
    char nsurl[256];
    snprintf(nsurl, sizeof nsurl, "spot://%s/%s", u.hostport, u.ns);
    nodelog_t *l = nodelog_of(t, nsurl);
    if (l == NULL) {
      rc = SPOT_ENOMEM;
      break;
    }
    if (nodelog_read(l) != 0)
      continue;
    for (size_t k = 0; k < l->n && rc == 0; k++) {
      const spot_eventrec_t *e = &l->ev[k];
      if (e->type == SPOT_EVENT_PUT && e->seq == put.seq && strcmp(e->log, u.log) == 0 &&
          e->cause.node == put.cause.node && e->cause.event == put.cause.event) {
        if (tree_find(t, e->node, e->id) == NONE && (rc = tree_add(t, e, i)) == 0)
          rc = grow_from(t, l, k);
        break;
      }
    }
  }
  return rc == 0 ? 0 : spot_cli_fail(rc, "cannot follow the trace to another node");
}

static void nodelogs_free(tree_t *t) {
  for (size_t i = 0; i < t->nlogs; i++)
    free(t->logs[i].ev);
  free(t->logs);
  spot_remote_free(client);
  free(recs);
  client = NULL, recs = NULL;
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

static int peer_event(tree_t *t, uint64_t node, uint64_t id, nodelog_t **from, size_t *at) {
  (void)t, (void)node, (void)id, (void)from, (void)at;
  return -1;
}

static int grow_from(tree_t *t, const nodelog_t *l, size_t after) {
  (void)t, (void)l, (void)after;
  return 0;
}

static void nodelogs_free(tree_t *t) { free(t->logs); }
#endif

/* Walks causes back from put to the root: the first event whose cause is outside (0,0), or on a node that is
 * neither this one nor a --peer, or gone. *root_log gets the peer's log when the root is another node's event (its
 * position in *root_at), NULL when it is this node's. */
static int find_root(spot_ns_t *ns, tree_t *t, const spot_eventrec_t *put, spot_eventrec_t *root,
                     nodelog_t **root_log, size_t *root_at) {
  spot_eventrec_t cur = *put;
  nodelog_t *cur_log = NULL;
  size_t cur_at = 0;
  for (;;) {
    if (cur.cause.node == 0 && cur.cause.event == 0)
      break;
    spot_eventrec_t up;
    if (cur.cause.node != t->node_id) {
      nodelog_t *l;
      size_t at;
      if (peer_event(t, cur.cause.node, cur.cause.event, &l, &at) != 0) {
        t->top = TOP_REMOTE;
        break;
      }
      cur = l->ev[at], cur_log = l, cur_at = at;
      continue;
    }
    int rc = cur.node != t->node_id || cur.cause.event < cur.id ? spot_events_read(ns, cur.cause.event, &up)
                                                                 : SPOT_ECORRUPT;
    if (rc == SPOT_EEXPIRED || rc == SPOT_ENOTYET || rc == SPOT_ECORRUPT) {
      t->top = TOP_EXPIRED;
      break;
    }
    if (rc != 0)
      return spot_cli_fail(rc, "cannot read event %" PRIu64, cur.cause.event);
    cur = up, cur_log = NULL;
  }
  t->top_node = cur.cause.node;
  t->top_id = cur.cause.event;
  *root = cur;
  *root_log = cur_log;
  *root_at = cur_at;
  return 0;
}

/* Adds the root and, in one forward scan of its node's event log, every event whose cause is already in the
 * tree. */
static int grow(spot_ns_t *ns, tree_t *t, const spot_eventrec_t *root, const nodelog_t *root_log, size_t root_at) {
  int rc = tree_add(t, root, NONE);
  if (rc == 0 && root_log != NULL)
    rc = grow_from(t, root_log, root_at);
  if (rc != 0 || root_log != NULL)
    return rc == 0 ? 0 : spot_cli_fail(rc, "cannot build the tree");
  uint64_t latest = 0;
  rc = spot_events_range(ns, NULL, &latest);
  for (uint64_t id = root->id + 1; rc == 0 && id <= latest; id++) {
    spot_eventrec_t e;
    if (spot_events_read(ns, id, &e) != 0)
      continue; /* expired meanwhile, or damaged: not part of what we can show */
    if (e.cause.node != t->node_id || e.cause.event < root->id || e.cause.event >= id)
      continue;
    rc = tree_attach(t, &e);
  }
  return rc == 0 ? 0 : spot_cli_fail(rc, "cannot build the tree");
}

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
    printf("remote node %016" PRIx64 " event %" PRIu64 " (not followed: give that node's address with --peer "
           "spot://HOST:PORT/NS)\n", t->top_node, t->top_id);
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

static int parse_trace_args(int argc, char **argv, tree_t *t, const char **log, uint64_t *seq, trace_fmt_t *fmt) {
  static const char usage[] = "usage: spot trace LOG SEQNO [--json | --dot] [--peer spot://HOST:PORT/NS]...";
  const char *seq_text = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "--dot") == 0) {
      trace_fmt_t f = strcmp(argv[i], "--json") == 0 ? FMT_JSON : FMT_DOT;
      if (*fmt != FMT_TEXT && *fmt != f)
        return spot_cli_fail(0, "trace: --json and --dot exclude each other");
      *fmt = f;
    } else if (strcmp(argv[i], "--peer") == 0) {
#if SPOT_HAVE_NET
      spot_url_t u;
      if (i + 1 >= argc || spot_url_parse(argv[i + 1], &u) != 0 || u.log[0] != '\0')
        return spot_cli_fail(0, "trace: --peer wants a node's namespace, spot://HOST:PORT/NS, not '%s'",
                             i + 1 < argc ? argv[i + 1] : "");
      char nsurl[256];
      snprintf(nsurl, sizeof nsurl, "spot://%s/%s", u.hostport, u.ns);
      if (nodelog_of(t, nsurl) == NULL)
        return spot_cli_fail(SPOT_ENOMEM, "trace: no memory");
      t->npeers = t->nlogs;
      i++;
#else
      (void)t;
      return spot_cli_fail(SPOT_ENOTSUP, "trace: --peer needs the network, and this spot was built without it "
                                         "(-DSPOT_NET=OFF)");
#endif
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
  tree_t t = {.v = NULL};
  if (parse_trace_args(argc, argv, &t, &name, &seq, &fmt) != 0) {
    nodelogs_free(&t);
    return 1;
  }
  spot_ns_t *ns;
  int rc = spot_ns_open(ns_dir, NULL, &ns);
  if (rc != 0) {
    nodelogs_free(&t);
    return spot_cli_fail(rc, "cannot open the namespace");
  }
  t.node_id = spot_ns_node_id(ns);
  spot_eventrec_t put, root = {.type = 0};
  nodelog_t *root_log = NULL;
  size_t root_at = 0;
  int status = 1;
  if (check_element(ns, name, seq) != 0)
    goto done;
  if (find_put(ns, name, seq, &put) != 0 || find_root(ns, &t, &put, &root, &root_log, &root_at) != 0 ||
      grow(ns, &t, &root, root_log, root_at) != 0 || grow_remote(&t) != 0)
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
  nodelogs_free(&t);
  spot_ns_close(ns);
  return status;
}
