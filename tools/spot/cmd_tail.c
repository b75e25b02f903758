/*
 * cmd_tail.c: `spot tail LOG [-n N] [--follow] [--from SEQ] [--to SEQ] [--count N] [--format raw|text|hex|json]`:
 * reads a log as a stream, local or remote (spot://HOST:PORT/NS/LOG, through the public client API).
 *
 * It prints the last N elements (default 10) of the range [--from, --to] (the whole readable window by default),
 * then with --follow waits for new ones and prints each as it is appended, until SIGINT or SIGTERM, --to is passed
 * or --count elements were printed (exit 0 in every case). An element that expires between the listing and its
 * read (a fast writer on a small ring) is skipped with a line on stderr; a damaged one stops the tail.
 *
 * Formats: text (the default) strips the zero padding and ends each element with a newline; raw writes the
 * elements' bytes as they are (element size each); hex writes "SEQ HEX" lines of the whole element; json writes
 * one object per line: seqno, time (the put's wall clock, from the node's event log, ISO-8601; null when the
 * event log does not hold it: an element appended without an event, a put event overwritten since, or a remote
 * log), and data: the element without its padding as a string when it is printable UTF-8 text, else the whole
 * element in base64 with "encoding":"base64".
 */
#include <inttypes.h>
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

typedef enum { FMT_TEXT, FMT_RAW, FMT_HEX, FMT_JSON } tail_fmt_t;

typedef struct tail_opts {
  const char *log;
  uint64_t n, from, to, count;
  int have_n, have_from, have_to, have_count, follow;
  tail_fmt_t fmt;
} tail_opts_t;

/* Where the elements come from: a local log (with the namespace, for the event log's put times) or a remote one. */
typedef struct source {
  spot_ns_t *ns;
  spot_log_t *log;
#if SPOT_HAVE_NET
  spot_remote_t *remote;
#endif
  const char *url;
  uint32_t elem_size;
  uint64_t ev_seen;      /* follow: the newest event id scanned for put times */
  uint64_t times[256];   /* follow: put times by seq % 256 ... */
  uint64_t time_seq[256]; /* ... for these sequence numbers */
  uint64_t block_lo, block_hi; /* the elements whose puts the last backward scan cached */
} source_t;

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig) {
  (void)sig;
  stop_requested = 1;
}

static const char usage[] = "usage: spot tail LOG [-n N] [--follow] [--from SEQ] [--to SEQ] [--count N] "
                            "[--format raw|text|hex|json]";

static int parse(int argc, char **argv, tail_opts_t *o) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    uint64_t *num = NULL;
    int *have = NULL;
    if (strcmp(a, "-n") == 0 || strcmp(a, "--lines") == 0)
      num = &o->n, have = &o->have_n;
    else if (strcmp(a, "--from") == 0)
      num = &o->from, have = &o->have_from;
    else if (strcmp(a, "--to") == 0)
      num = &o->to, have = &o->have_to;
    else if (strcmp(a, "--count") == 0)
      num = &o->count, have = &o->have_count;
    if (num) {
      if (v == NULL || spot_cli_parse_u64(v, 0, num) != 0)
        return spot_cli_fail(0, "tail: %s needs a whole number; %s", a, usage);
      *have = 1;
      i++;
    } else if (strcmp(a, "--follow") == 0 || strcmp(a, "-f") == 0) {
      o->follow = 1;
    } else if (strcmp(a, "--format") == 0) {
      static const char *const names[] = {"text", "raw", "hex", "json"};
      int k = 0;
      while (k < 4 && (v == NULL || strcmp(v, names[k]) != 0))
        k++;
      if (k == 4)
        return spot_cli_fail(0, "tail: --format must be raw, text, hex or json");
      o->fmt = (tail_fmt_t)k;
      i++;
    } else if (a[0] == '-') {
      return spot_cli_fail(0, "tail: unknown option %s; %s", a, usage);
    } else if (o->log == NULL) {
      o->log = a;
    } else {
      return spot_cli_fail(0, "tail: unexpected argument %s; %s", a, usage);
    }
  }
  if (o->log == NULL)
    return spot_cli_fail(0, "%s", usage);
  if (o->have_from && o->have_to && o->to < o->from)
    return spot_cli_fail(0, "tail: --to %" PRIu64 " is before --from %" PRIu64, o->to, o->from);
  return 0;
}

/* ---- the source ---- */

static int src_open(source_t *s, const char *name, const char *ns_dir) {
  memset(s, 0, sizeof *s);
  s->url = name;
  if (spot_is_remote(name)) {
#if SPOT_HAVE_NET
    const char *t = getenv("SPOT_TIMEOUT_MS");
    spot_log_info_t info;
    int rc = spot_remote_new(spot_cli_key, spot_cli_node_key, t ? (uint32_t)strtoul(t, NULL, 10) : 0, &s->remote);
    if (rc != 0)
      return spot_cli_fail(rc, "cannot set up the client");
    if ((rc = spot_remote_info(s->remote, name, &info)) != 0)
      return spot_cli_fail(rc, "cannot read %s", name);
    s->elem_size = info.elem_size;
    return 0;
#else
    return spot_cli_no_network(name);
#endif
  }
  int rc = spot_ns_open(ns_dir, NULL, &s->ns);
  if (rc != 0)
    return spot_cli_fail(rc, "cannot open the namespace");
  if ((rc = spot_ns_open_log(s->ns, name, 0, &s->log, NULL)) != 0)
    return spot_cli_fail(rc, "cannot open log %s", name);
  spot_log_info_t info;
  spot_log_info(s->log, &info);
  s->elem_size = info.elem_size;
  spot_events_range(s->ns, NULL, &s->ev_seen);
  return 0;
}

static void src_close(source_t *s) {
  if (s->log)
    spot_log_close(s->log);
  if (s->ns)
    spot_ns_close(s->ns);
#if SPOT_HAVE_NET
  if (s->remote)
    spot_remote_free(s->remote);
#endif
}

/* The readable window now: *earliest..*latest (0, 0 when empty). */
static int src_window(source_t *s, uint64_t *earliest, uint64_t *latest) {
#if SPOT_HAVE_NET
  if (s->remote) {
    spot_log_info_t info;
    int rc = spot_remote_info(s->remote, s->url, &info);
    if (rc == 0)
      *earliest = info.earliest, *latest = info.latest;
    return rc;
  }
#endif
  spot_log_latest(s->log, latest);
  spot_log_earliest(s->log, earliest);
  return 0;
}

static int src_read(source_t *s, uint64_t seq, uint8_t *buf) {
#if SPOT_HAVE_NET
  if (s->remote) {
    size_t size = 0;
    int rc = spot_remote_get(s->remote, s->url, seq, buf, s->elem_size, &size);
    if (rc == 0 && size < s->elem_size)
      memset(buf + size, 0, s->elem_size - size);
    return rc;
  }
#endif
  return spot_log_read(s->log, seq, buf, s->elem_size);
}

/* Waits (at most about 200 ms, so a stop signal is seen) for an element newer than `after`. */
static void src_wait(source_t *s, uint64_t after) {
  if (s->log) {
    spot_log_wait_newer(s->log, after, 200000000ull);
    return;
  }
  struct timespec pause = {.tv_nsec = 100000000};
  nanosleep(&pause, NULL);
}

/* The wall-clock time of the put of element seq from the node's event log, or 0 when the log does not hold it.
 * back (the first listing, printed upwards): scans back from the newest event to seq's put and caches the puts of
 * seq..seq+255 on the way, so the next 255 elements need no scan; follow: scans only the events written since the
 * last call, waiting briefly for a put event that trails its append. */
static uint64_t put_time(source_t *s, uint64_t seq, int back) {
  if (s->ns == NULL)
    return 0;
  size_t slot = seq % 256;
  if (s->time_seq[slot] == seq && s->times[slot])
    return s->times[slot];
  if (back && seq >= s->block_lo && seq <= s->block_hi && s->block_hi)
    return 0; /* scanned already: its put is not in the event log */
  uint64_t first = 0, last = 0;
  spot_events_range(s->ns, &first, &last);
  if (back) {
    for (uint64_t id = last; id >= first && id > 0; id--) {
      spot_eventrec_t e;
      if (spot_events_read(s->ns, id, &e) != 0 || e.type != SPOT_EVENT_PUT || strcmp(e.log, s->url) != 0)
        continue;
      if (e.seq >= seq && e.seq - seq < 256) {
        s->time_seq[e.seq % 256] = e.seq;
        s->times[e.seq % 256] = e.time_ns;
      }
      if (e.seq <= seq)
        break;
    }
    s->block_lo = seq;
    s->block_hi = seq + 255;
  } else {
    for (int tries = 0; tries < 2; tries++) {
      for (uint64_t id = s->ev_seen + 1 > first ? s->ev_seen + 1 : first; id <= last; id++) {
        spot_eventrec_t e;
        if (spot_events_read(s->ns, id, &e) == 0 && e.type == SPOT_EVENT_PUT && strcmp(e.log, s->url) == 0) {
          s->time_seq[e.seq % 256] = e.seq;
          s->times[e.seq % 256] = e.time_ns;
        }
        s->ev_seen = id;
      }
      if (s->time_seq[slot] == seq || tries == 1)
        break;
      spot_events_wait(s->ns, s->ev_seen, 50000000ull); /* the put event follows the append by a moment */
      spot_events_range(s->ns, &first, &last);
    }
  }
  return s->time_seq[slot] == seq ? s->times[slot] : 0;
}

/* ---- printing ---- */

static void base64(FILE *out, const uint8_t *p, size_t n) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
    fputc(abc[v >> 18 & 63], out);
    fputc(abc[v >> 12 & 63], out);
    fputc(i + 1 < n ? abc[v >> 6 & 63] : '=', out);
    fputc(i + 2 < n ? abc[v & 63] : '=', out);
  }
}

/* 1 if p[0..n) is UTF-8 text without control characters other than tab, newline and carriage return. */
static int printable(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n;) {
    uint8_t c = p[i];
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
        return 0;
      i++;
      continue;
    }
    size_t len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (len == 0 || i + len > n || c == 0xc0 || c == 0xc1)
      return 0;
    for (size_t k = 1; k < len; k++)
      if ((p[i + k] & 0xc0) != 0x80)
        return 0;
    i += len;
  }
  return 1;
}

static void print_element(source_t *s, const tail_opts_t *o, uint64_t seq, const uint8_t *buf, int back) {
  size_t len = s->elem_size;
  while (len > 0 && buf[len - 1] == 0)
    len--;
  switch (o->fmt) {
  case FMT_RAW:
    fwrite(buf, 1, s->elem_size, stdout);
    break;
  case FMT_TEXT:
    fwrite(buf, 1, len, stdout);
    fputc('\n', stdout);
    break;
  case FMT_HEX:
    printf("%" PRIu64 " ", seq);
    for (size_t i = 0; i < s->elem_size; i++)
      printf("%02x", buf[i]);
    fputc('\n', stdout);
    break;
  case FMT_JSON: {
    uint64_t t = put_time(s, seq, back);
    printf("{\"seqno\":%" PRIu64 ",\"time\":", seq);
    if (t) {
      char when[32];
      spot_cli_iso_time(t, when);
      printf("\"%s\"", when);
    } else {
      fputs("null", stdout);
    }
    fputs(",\"data\":", stdout);
    if (printable(buf, len)) {
      char *text = malloc(len + 1);
      if (text) {
        memcpy(text, buf, len);
        text[len] = '\0';
        if (len == 0)
          fputs("\"\"", stdout);
        else
          spot_cli_json_string(stdout, text);
        free(text);
      }
    } else {
      fputc('"', stdout);
      base64(stdout, buf, s->elem_size);
      fputs("\",\"encoding\":\"base64\"", stdout);
    }
    fputs("}\n", stdout);
    break;
  }
  }
}

/* Prints elements lo..hi; *printed counts them. 0, or 1 after printing why it stopped. */
static int print_range(source_t *s, const tail_opts_t *o, uint8_t *buf, uint64_t lo, uint64_t hi, int back,
                       uint64_t *printed) {
  for (uint64_t seq = lo; seq <= hi && !stop_requested; seq++) {
    if (o->have_count && *printed >= o->count)
      return 0;
    int rc = src_read(s, seq, buf);
    if (rc == SPOT_EEXPIRED) {
      fprintf(stderr, "spot: tail: element %" PRIu64 " of %s expired before it was read\n", seq, o->log);
      continue;
    }
    if (rc != 0)
      return spot_cli_fail(rc, "tail: cannot read %s#%" PRIu64, o->log, seq);
    print_element(s, o, seq, buf, back);
    (*printed)++;
  }
  if (fflush(stdout) != 0)
    return spot_cli_fail(SPOT_EIO, "tail: cannot write the output");
  return 0;
}

int spot_cli_tail(int argc, char **argv, const char *ns_dir) {
  tail_opts_t o = {.n = 10, .fmt = FMT_TEXT};
  if (parse(argc, argv, &o) != 0)
    return 1;
  source_t s;
  uint8_t *buf = NULL;
  int rc = src_open(&s, o.log, ns_dir);
  if (rc != 0)
    goto done;
  buf = malloc(s.elem_size ? s.elem_size : 1);
  if (buf == NULL) {
    rc = spot_cli_fail(SPOT_ENOMEM, "tail");
    goto done;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  uint64_t earliest = 0, latest = 0, printed = 0;
  if ((rc = src_window(&s, &earliest, &latest)) != 0) {
    rc = spot_cli_fail(rc, "tail: cannot read %s", o.log);
    goto done;
  }
  uint64_t lo = earliest, hi = latest;
  if (o.have_from && o.from > lo)
    lo = o.from;
  if (o.have_from && earliest && o.from < earliest)
    fprintf(stderr, "spot: tail: elements before %" PRIu64 " of %s have expired; starting there\n", earliest, o.log);
  if (o.have_to && o.to < hi)
    hi = o.to;
  if ((o.have_n || (!o.have_from && !o.have_to)) && hi >= lo && hi - lo + 1 > o.n)
    lo = hi - o.n + 1;
  if (o.have_n && o.n == 0)
    lo = hi + 1;
  if (latest > 0 && lo >= 1 && lo <= hi)
    rc = print_range(&s, &o, buf, lo, hi, 1, &printed);
  /* follow: from the first element not yet shown */
  uint64_t next = (hi >= lo ? hi : (lo > 0 ? lo - 1 : 0)) + 1;
  if (next <= latest && !o.have_from)
    next = latest + 1;
  if (o.have_from && o.from > next)
    next = o.from;
  while (rc == 0 && o.follow && !stop_requested && !(o.have_to && next > o.to) &&
         !(o.have_count && printed >= o.count)) {
    src_wait(&s, next - 1);
    if ((rc = src_window(&s, &earliest, &latest)) != 0) {
      rc = spot_cli_fail(rc, "tail: cannot read %s", o.log);
      break;
    }
    if (latest < next)
      continue;
    if (earliest > next) {
      fprintf(stderr, "spot: tail: elements %" PRIu64 " to %" PRIu64 " of %s expired before they were read\n",
              next, earliest - 1, o.log);
      next = earliest;
    }
    uint64_t end = o.have_to && o.to < latest ? o.to : latest;
    rc = print_range(&s, &o, buf, next, end, 0, &printed);
    next = end + 1;
  }
done:
  free(buf);
  src_close(&s);
  return rc;
}
