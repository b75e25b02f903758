/*
 * cmd_events.c: `spot events`, the node's event log (every put, handler start, end and fail) oldest first, as
 * aligned text or one JSON object per line, and with --follow as it grows; plus the event printers that
 * `spot trace` (cmd_trace.c) shares.
 *
 * The event log is a ring: it keeps the newest events (65,536 by default). Events that expire while they are read
 * (a follower that falls behind) are skipped with one line on stderr saying which, never silently.
 */
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "events.h"
#include "spot.h"
#if SPOT_HAVE_NET
#include "spot/net.h"
#endif

#define FOLLOW_POLL_NS 200000000ull /* how often a follower checks for signals and a closed stdout */

void spot_cli_iso_time(uint64_t ns, char buf[32]) {
  time_t sec = (time_t)(ns / 1000000000u);
  struct tm tm;
  if (gmtime_r(&sec, &tm) == NULL || strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
    snprintf(buf, 32, "%" PRIu64, ns);
    return;
  }
  snprintf(buf + 19, 32 - 19, ".%06uZ", (unsigned)(ns % 1000000000u / 1000u));
}

void spot_cli_node_hex(uint64_t node, char buf[17]) { snprintf(buf, 17, "%016" PRIx64, node); }

/* The length of the valid UTF-8 sequence at s, or 0 if there is none (overlong, surrogate, cut short). */
static size_t utf8_len(const unsigned char *s) {
  static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
  size_t n;
  uint32_t cp;
  if (s[0] < 0x80)
    return 1;
  if ((s[0] & 0xE0) == 0xC0)
    n = 2, cp = s[0] & 0x1Fu;
  else if ((s[0] & 0xF0) == 0xE0)
    n = 3, cp = s[0] & 0x0Fu;
  else if ((s[0] & 0xF8) == 0xF0)
    n = 4, cp = s[0] & 0x07u;
  else
    return 0;
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) /* also stops at the terminating NUL */
      return 0;
    cp = cp << 6 | (s[i] & 0x3Fu);
  }
  if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

void spot_cli_json_string(FILE *out, const char *s) {
  if (s == NULL || s[0] == '\0') {
    fputs("null", out);
    return;
  }
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p;) {
    size_t n = utf8_len(p);
    if (n == 0) {
      fputs("\\ufffd", out);
      p++;
    } else if (*p == '"' || *p == '\\') {
      fputc('\\', out), fputc(*p++, out);
    } else if (*p == '\n') {
      fputs("\\n", out), p++;
    } else if (*p == '\t') {
      fputs("\\t", out), p++;
    } else if (*p < 0x20 || *p == 0x7f) {
      fprintf(out, "\\u%04x", *p++);
    } else {
      fwrite(p, 1, n, out);
      p += n;
    }
  }
  fputc('"', out);
}

void spot_cli_event_json_members(FILE *out, const spot_eventrec_t *e) {
  char node[17], when[32];
  spot_cli_node_hex(e->node, node);
  spot_cli_iso_time(e->time_ns, when);
  fprintf(out, "\"id\":%" PRIu64 ",\"type\":\"%s\",\"node\":\"%s\",\"time_ns\":%" PRIu64 ",\"time\":\"%s\",\"log\":",
          e->id, spot_events_type_name(e->type), node, e->time_ns, when);
  spot_cli_json_string(out, e->log);
  fprintf(out, ",\"seqno\":%" PRIu64 ",\"handler\":", e->seq);
  spot_cli_json_string(out, e->handler);
  if (e->cause.node == 0 && e->cause.event == 0) {
    fputs(",\"cause\":null", out);
  } else {
    spot_cli_node_hex(e->cause.node, node);
    fprintf(out, ",\"cause\":{\"node\":\"%s\",\"id\":%" PRIu64 "}", node, e->cause.event);
  }
  if (e->type == SPOT_EVENT_PUT)
    fputs(",\"ref\":null", out);
  else
    fprintf(out, ",\"ref\":%" PRIu64, e->ref);
  fprintf(out, ",\"status\":%" PRId32 ",\"duration_ns\":%" PRIu64 ",\"cpu_ns\":%" PRIu64 ",\"energy_nj\":%" PRIu64
          ",\"reason\":", e->status, e->duration_ns, e->cpu_ns, e->energy_nj);
  spot_cli_json_string(out, e->reason);
}

/* ---- spot events ---- */

typedef struct events_opts {
  int follow, json;
  int have_from, have_limit;
  uint64_t from, limit;
  const char *remote; /* spot://host:port/namespace: another node's event log */
} events_opts_t;

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static int parse_events_args(int argc, char **argv, events_opts_t *o) {
  static const char usage[] = "usage: spot events [spot://HOST:PORT/NAMESPACE] [--follow] [--json] [--from ID] "
                              "[--limit N]";
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--follow") == 0 || strcmp(a, "-f") == 0) {
      o->follow = 1;
    } else if (strcmp(a, "--json") == 0) {
      o->json = 1;
    } else if (strcmp(a, "--from") == 0 || strcmp(a, "--limit") == 0) {
      int from = strcmp(a, "--from") == 0;
      uint64_t v;
      if (i + 1 >= argc)
        return spot_cli_fail(0, "%s needs a value; %s", a, usage);
      if (spot_cli_parse_u64(argv[++i], 0, &v) != 0)
        return spot_cli_fail(0, "%s '%s' is not a whole number", a, argv[i]);
      if (from)
        o->from = v, o->have_from = 1;
      else
        o->limit = v, o->have_limit = 1;
    } else if (spot_is_remote(a) && o->remote == NULL) {
      o->remote = a;
    } else {
      return spot_cli_fail(0, "events: unexpected argument %s; %s", a, usage);
    }
  }
  return 0;
}

static void print_header(void) {
  printf("%8s  %-27s  %-5s  %-20s  %-16s  %-26s  %6s  %10s  %10s  %11s  %s\n", "ID", "TIME", "TYPE", "ELEMENT",
         "HANDLER", "CAUSE", "STATUS", "DUR_US", "CPU_US", "ENERGY_UJ", "REASON");
}

static void print_text(const spot_eventrec_t *e) {
  char when[32], element[96], cause[48], status[16], dur[24], cpu[24], energy[24];
  spot_cli_iso_time(e->time_ns, when);
  snprintf(element, sizeof element, "%s#%" PRIu64, e->log, e->seq);
  if (e->cause.node == 0 && e->cause.event == 0)
    snprintf(cause, sizeof cause, "-");
  else
    snprintf(cause, sizeof cause, "%016" PRIx64 ":%" PRIu64, e->cause.node, e->cause.event);
  int ended = e->type == SPOT_EVENT_END || e->type == SPOT_EVENT_FAIL;
  if (!ended)
    snprintf(status, sizeof status, "-");
  else if (e->type == SPOT_EVENT_END)
    snprintf(status, sizeof status, "ok");
  else
    snprintf(status, sizeof status, "%" PRId32, e->status);
  snprintf(dur, sizeof dur, "-");
  snprintf(cpu, sizeof cpu, "-");
  snprintf(energy, sizeof energy, "-");
  if (ended) {
    snprintf(dur, sizeof dur, "%.1f", (double)e->duration_ns / 1e3);
    snprintf(cpu, sizeof cpu, "%.1f", (double)e->cpu_ns / 1e3);
    snprintf(energy, sizeof energy, "%.3f", (double)e->energy_nj / 1e3);
  }
  printf("%8" PRIu64 "  %-27s  %-5s  %-20s  %-16s  %-26s  %6s  %10s  %10s  %11s%s%s\n", e->id, when,
         spot_events_type_name(e->type), element, e->handler[0] ? e->handler : "-", cause, status, dur, cpu, energy,
         e->reason[0] ? "  " : "", e->reason);
}

/* Prints events next..to; *next becomes the first id not printed. Stops early (0) at an event not written yet.
 * Returns non-zero only when stdout fails. */
static int print_range(spot_ns_t *ns, const events_opts_t *o, uint64_t *next, uint64_t to) {
  while (*next <= to) {
    spot_eventrec_t e;
    int rc = spot_events_read(ns, *next, &e);
    if (rc == SPOT_ENOTYET)
      return 0;
    if (rc == SPOT_EEXPIRED) {
      uint64_t earliest = 0;
      spot_events_range(ns, &earliest, NULL);
      if (earliest <= *next)
        earliest = *next + 1;
      fprintf(stderr, "spot: events %" PRIu64 " to %" PRIu64 " expired from the event log before they were read\n",
              *next, earliest - 1);
      *next = earliest;
      continue;
    }
    if (rc != 0) {
      spot_cli_fail(rc, "skipping event %" PRIu64, *next);
    } else if (o->json) {
      fputc('{', stdout);
      spot_cli_event_json_members(stdout, &e);
      fputs("}\n", stdout);
    } else {
      print_text(&e);
    }
    (*next)++;
    if (o->follow && fflush(stdout) != 0)
      return SPOT_EIO;
  }
  return ferror(stdout) ? SPOT_EIO : 0;
}

/* The first event to print: --from, else the oldest; with --limit and no --from, the newest N. */
static uint64_t first_event(uint64_t earliest, const events_opts_t *o, uint64_t latest) {
  if (earliest == 0)
    earliest = 1;
  uint64_t first = earliest;
  if (o->have_from) {
    first = o->from;
    if (first < earliest) {
      if (first != 0)
        fprintf(stderr, "spot: events before %" PRIu64 " have expired from the event log\n", earliest);
      first = earliest;
    }
  } else if (o->have_limit && latest >= o->limit && latest - o->limit + 1 > first) {
    first = latest - o->limit + 1;
  }
  return first;
}

/* True once nobody reads our stdout any more (the read end of a pipe closed, a terminal hung up). */
static int stdout_gone(void) {
  struct pollfd p = {.fd = fileno(stdout), .events = 0};
  return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0;
}

/* Prints new events as they arrive until SIGINT/SIGTERM or until stdout closes. */
static int follow(spot_ns_t *ns, const events_opts_t *o, uint64_t next) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN); /* a closed stdout shows up as a failed write, and ends the follow quietly */
  while (!stop_requested && !stdout_gone()) {
    int rc = spot_events_wait(ns, next - 1, FOLLOW_POLL_NS);
    if (rc == SPOT_ETIMEDOUT)
      continue;
    if (rc != 0)
      return spot_cli_fail(rc, "cannot follow the event log");
    uint64_t latest = 0;
    if ((rc = spot_events_range(ns, NULL, &latest)) != 0)
      return spot_cli_fail(rc, "cannot follow the event log");
    if (print_range(ns, o, &next, latest) != 0)
      break;
  }
  return 0;
}

#if SPOT_HAVE_NET
/* Another node's event log, read with EVENTS requests (the get right there); --follow polls it. --limit counts from
 * --from (default: the oldest kept). */
static int remote_events(const events_opts_t *o) {
  spot_remote_t *r;
  const char *t = getenv("SPOT_TIMEOUT_MS");
  int rc = spot_remote_new(spot_cli_key, spot_cli_node_key, t ? (uint32_t)strtoul(t, NULL, 10) : 0, &r);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot set up the client");
  enum { BATCH = 512 };
  uint8_t *recs = malloc((size_t)BATCH * SPOT_EVENT_BYTES);
  uint64_t next = o->have_from ? o->from : 1, printed = 0;
  if (!o->json)
    print_header();
  while (rc == 0 && recs && !stop_requested && !(o->have_limit && printed >= o->limit)) {
    uint32_t n = 0;
    rc = spot_remote_events(r, o->remote, next, BATCH, recs, &n);
    for (uint32_t k = 0; rc == 0 && k < n && !(o->have_limit && printed >= o->limit); k++) {
      spot_eventrec_t e;
      if (spot_events_decode(recs + (size_t)k * SPOT_EVENT_BYTES, SPOT_EVENT_BYTES, &e) != 0)
        continue;
      next = e.id + 1;
      printed++;
      if (o->json) {
        fputc('{', stdout);
        spot_cli_event_json_members(stdout, &e);
        fputs("}\n", stdout);
      } else {
        print_text(&e);
      }
    }
    if (rc == 0 && fflush(stdout) != 0)
      rc = SPOT_EIO;
    if (rc == 0 && n == 0) {
      if (!o->follow || stdout_gone())
        break;
      struct timespec pause = {.tv_nsec = 200000000};
      nanosleep(&pause, NULL);
    }
  }
  free(recs);
  spot_remote_free(r);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot read the events of %s", o->remote);
  return 0;
}
#endif

int spot_cli_events(int argc, char **argv, const char *ns_dir) {
  events_opts_t o = {0};
  if (parse_events_args(argc, argv, &o) != 0)
    return 1;
  if (o.remote) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
#if SPOT_HAVE_NET
    return remote_events(&o);
#else
    return spot_cli_no_network(o.remote);
#endif
  }
  spot_ns_t *ns;
  int rc = spot_ns_open(ns_dir, NULL, &ns);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot open the namespace");
  uint64_t earliest, latest;
  if ((rc = spot_events_range(ns, &earliest, &latest)) != 0) {
    spot_ns_close(ns);
    return spot_cli_fail(rc, "cannot open the event log");
  }
  uint64_t next = first_event(earliest, &o, latest);
  uint64_t to = latest;
  if (o.have_limit && o.limit == 0)
    to = next - 1;
  else if (o.have_limit && o.have_from && next <= latest && o.limit - 1 < latest - next)
    to = next + o.limit - 1; /* without --from, first_event already picked the newest N */
  if (!o.json)
    print_header();
  rc = print_range(ns, &o, &next, to);
  if (rc == 0 && fflush(stdout) != 0)
    rc = SPOT_EIO;
  if (rc == 0 && o.follow) {
    if (next <= latest)
      next = latest + 1; /* --limit ended the backlog early: follow from the newest */
    rc = follow(ns, &o, next);
    spot_ns_close(ns);
    return rc;
  }
  spot_ns_close(ns);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot write the events");
  return 0;
}
