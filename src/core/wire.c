/*
 * wire.c: encoding and decoding of node-to-node messages (core/wire.h).
 *
 * One function lays out each body for encoding (body_put, which only counts when given no buffer, so sizing and
 * writing cannot disagree) and one reads it back (body_get). Every read goes through take(), which compares the
 * wanted length with what is left before touching a byte. Names are checked with the same rule as the store's
 * (core/name.h), so nothing decoded here can name a path outside a namespace.
 */
#include "core/wire.h"

#include <string.h>

#include "core/error.h"
#include "core/event.h"
#include "core/name.h"

enum { O_MAGIC = 0, O_VERSION = 2, O_TYPE = 3, O_FLAGS = 4, O_RESERVED = 5, O_BODYLEN = 8, O_ID = 12 };

static const uint8_t magic[2] = {'S', 'W'};

/* ---- shared checks ---- */

static int known_type(unsigned t) { return t >= SPOT__WIRE_CREATE && t <= SPOT__WIRE_LAST; }

/* Types whose request names a log after the namespace. */
static int has_log(unsigned t) {
  return t != SPOT__WIRE_EVENTS && t != SPOT__WIRE_DEPLOY && t != SPOT__WIRE_LIST && t != SPOT__WIRE_HANDLERS &&
         t != SPOT__WIRE_STATUS;
}

/* A name of the store (ns, log, handler): length and bytes as spot__name_check wants them. */
static int name_check(const char *p, size_t len, const char *what) {
  char buf[SPOT_NAME_MAX + 1];
  if (len > SPOT_NAME_MAX)
    return spot__fail(SPOT_EBADNAME, "%s name in message is %zu bytes long, more than %d", what, len, SPOT_NAME_MAX);
  if (len > 0 && (p == NULL || memchr(p, 0, len) != NULL))
    return spot__fail(SPOT_EBADNAME, "%s name in message has a NUL byte", what);
  if (len > 0)
    memcpy(buf, p, len);
  buf[len] = '\0';
  return spot__name_check(buf, what);
}

static int object_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

int spot__wire_object_check(const char *name, size_t len) {
  if (len == 0 || name == NULL)
    return spot__fail(SPOT_EBADNAME, "deploy object name is empty");
  if (len > SPOT__WIRE_OBJECT_MAX)
    return spot__fail(SPOT_EBADNAME, "deploy object name is %zu bytes long, more than %u", len, SPOT__WIRE_OBJECT_MAX);
  if (name[0] == '.' || name[0] == '-')
    return spot__fail(SPOT_EBADNAME, "deploy object name '%.*s' starts with '%c'", (int)len, name, name[0]);
  for (size_t i = 0; i < len; i++) {
    if (!object_char(name[i]))
      return spot__fail(SPOT_EBADNAME,
                        "deploy object name has a character other than letters, digits, '_', '-' and '.' at "
                        "position %zu (use a file name such as 'handler.so')",
                        i + 1);
    if (name[i] == '.' && i + 1 < len && name[i + 1] == '.')
      return spot__fail(SPOT_EBADNAME, "deploy object name '%.*s' contains \"..\"", (int)len, name);
  }
  return 0;
}

static int detail_check(const char *p, size_t len) {
  if (len > SPOT__WIRE_DETAIL_MAX)
    return spot__fail(SPOT_EINVAL, "detail text is %zu bytes long, more than %u", len, SPOT__WIRE_DETAIL_MAX);
  if (len > 0 && p == NULL)
    return spot__fail(SPOT_EINVAL, "detail text is NULL with length %zu", len);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c < 0x20 || c == 0x7f)
      return spot__fail(SPOT_EINVAL, "detail text has control byte 0x%02x at position %zu", c, i + 1);
  }
  return 0;
}

/* ---- encoding ---- */

typedef struct wr {
  uint8_t *p; /* NULL: count only */
  size_t n;   /* bytes laid out so far */
} wr_t;

static void w_bytes(wr_t *w, const void *src, size_t len) {
  if (w->p != NULL && len > 0)
    memcpy(w->p + w->n, src, len);
  w->n += len;
}
static void w_uint(wr_t *w, uint64_t v, unsigned bytes) {
  if (w->p != NULL)
    for (unsigned i = 0; i < bytes; i++)
      w->p[w->n + i] = (uint8_t)(v >> (8 * i));
  w->n += bytes;
}
static void w_str(wr_t *w, spot__wire_str_t s) {
  w_uint(w, s.len, 1);
  w_bytes(w, s.ptr, s.len);
}
static void w_data(wr_t *w, const uint8_t *d, uint32_t len) {
  w_uint(w, len, 4);
  w_bytes(w, d, len);
}

/* Refuses what the decoder would refuse, so that whatever encodes also decodes. */
static int validate(const spot__msg_t *m) {
  if (!known_type(m->type))
    return spot__fail(SPOT_EINVAL, "message type %u is unknown", m->type);
  if (m->flags & ~SPOT__WIRE_REPLY)
    return spot__fail(SPOT_EINVAL, "message flags 0x%02x has unknown bits", m->flags);
  int rc;
  if (m->flags & SPOT__WIRE_REPLY) {
    if (m->status > 0)
      return spot__fail(SPOT_EINVAL, "reply status %d is positive (use 0 or a SPOT_E* code)", (int)m->status);
    if (m->status != 0)
      return detail_check(m->detail.ptr, m->detail.len);
    switch (m->type) {
    case SPOT__WIRE_GET:
    case SPOT__WIRE_LIST:
    case SPOT__WIRE_HANDLERS:
    case SPOT__WIRE_STATUS:
    case SPOT__WIRE_CHECK:
      break;
    case SPOT__WIRE_INFO:
      if (m->sync > SPOT__WIRE_SYNC_MAX)
        return spot__fail(SPOT_EINVAL, "sync value %u is unknown", m->sync);
      return 0;
    case SPOT__WIRE_EVENTS:
      if (m->count > SPOT__WIRE_MAX_EVENTS)
        return spot__fail(SPOT_ETOOBIG, "%u event records do not fit in one reply (at most %u)", (unsigned)m->count,
                          SPOT__WIRE_MAX_EVENTS);
      if (m->count > 0 && m->events == NULL)
        return spot__fail(SPOT_EINVAL, "event records are NULL with count %u", (unsigned)m->count);
      return 0;
    default:
      return 0;
    }
  } else {
    if ((rc = name_check(m->ns.ptr, m->ns.len, "namespace")) != 0)
      return rc;
    if (has_log(m->type) && (rc = name_check(m->log.ptr, m->log.len, "log")) != 0)
      return rc;
    switch (m->type) {
    case SPOT__WIRE_CREATE:
      if (m->sync > SPOT__WIRE_SYNC_MAX)
        return spot__fail(SPOT_EINVAL, "sync value %u is unknown", m->sync);
      return 0;
    case SPOT__WIRE_PUT:
    case SPOT__WIRE_UNBIND:
      if (m->handler.len > 0 && (rc = name_check(m->handler.ptr, m->handler.len, "handler")) != 0)
        return rc;
      if (m->type == SPOT__WIRE_UNBIND)
        return 0;
      break;
    case SPOT__WIRE_BIND:
      return name_check(m->handler.ptr, m->handler.len, "handler");
    case SPOT__WIRE_CHECK:
      if (m->fix > 1)
        return spot__fail(SPOT_EINVAL, "check's fix value %u is not 0 or 1", m->fix);
      return 0;
    case SPOT__WIRE_DEPLOY:
      if ((rc = spot__wire_object_check(m->object.ptr, m->object.len)) != 0)
        return rc;
      break;
    default:
      return 0;
    }
  }
  /* the types that carry data: PUT and DEPLOY requests, GET reply */
  if (m->data_len > SPOT__WIRE_MAX_DATA)
    return spot__fail(SPOT_ETOOBIG, "data of %u bytes is longer than %u", (unsigned)m->data_len, SPOT__WIRE_MAX_DATA);
  if (m->data_len > 0 && m->data == NULL)
    return spot__fail(SPOT_EINVAL, "data is NULL with length %u", (unsigned)m->data_len);
  return 0;
}

static void body_put(const spot__msg_t *m, wr_t *w) {
  if (m->flags & SPOT__WIRE_REPLY) {
    w_uint(w, (uint32_t)m->status, 4);
    if (m->status != 0) {
      w_uint(w, m->detail.len, 2);
      w_bytes(w, m->detail.ptr, m->detail.len);
      return;
    }
    switch (m->type) {
    case SPOT__WIRE_PUT:
    case SPOT__WIRE_LATEST:
    case SPOT__WIRE_EARLIEST:
      w_uint(w, m->seq, 8);
      break;
    case SPOT__WIRE_GET:
    case SPOT__WIRE_LIST:
    case SPOT__WIRE_HANDLERS:
    case SPOT__WIRE_STATUS:
    case SPOT__WIRE_CHECK:
      w_data(w, m->data, m->data_len);
      break;
    case SPOT__WIRE_INFO:
      w_uint(w, m->elem_size, 4);
      w_uint(w, m->history, 8);
      w_uint(w, m->sync, 1);
      w_uint(w, m->latest, 8);
      w_uint(w, m->earliest, 8);
      w_uint(w, m->durable, 8);
      break;
    case SPOT__WIRE_EVENTS:
      w_uint(w, m->count, 4);
      w_bytes(w, m->events, (size_t)m->count * SPOT__EVENT_BYTES);
      break;
    }
    return;
  }
  w_str(w, m->ns);
  if (has_log(m->type))
    w_str(w, m->log);
  switch (m->type) {
  case SPOT__WIRE_CREATE:
    w_uint(w, m->elem_size, 4);
    w_uint(w, m->history, 8);
    w_uint(w, m->sync, 1);
    break;
  case SPOT__WIRE_PUT:
    w_str(w, m->handler);
    w_uint(w, m->cause_node, 8);
    w_uint(w, m->cause_event, 8);
    w_data(w, m->data, m->data_len);
    break;
  case SPOT__WIRE_GET:
    w_uint(w, m->seq, 8);
    break;
  case SPOT__WIRE_EVENTS:
    w_uint(w, m->from, 8);
    w_uint(w, m->max, 4);
    break;
  case SPOT__WIRE_DEPLOY:
    w_str(w, m->object);
    w_data(w, m->data, m->data_len);
    break;
  case SPOT__WIRE_BIND:
  case SPOT__WIRE_UNBIND:
    w_str(w, m->handler);
    break;
  case SPOT__WIRE_CHECK:
    w_uint(w, m->fix, 1);
    break;
  }
}

int spot__wire_encoded_size(const spot__msg_t *m, size_t *len) {
  int rc = validate(m);
  if (rc != 0)
    return rc;
  wr_t w = {NULL, SPOT__WIRE_HDR_BYTES};
  body_put(m, &w);
  if (w.n > SPOT__WIRE_MAX) /* unreachable with the limits above; kept as the last word on size */
    return spot__fail(SPOT_ETOOBIG, "message of %zu bytes is longer than %u", w.n, SPOT__WIRE_MAX);
  *len = w.n;
  return 0;
}

int spot__wire_encode(const spot__msg_t *m, uint8_t *buf, size_t cap, size_t *len) {
  size_t n;
  int rc = spot__wire_encoded_size(m, &n);
  if (rc != 0)
    return rc;
  if (buf == NULL || cap < n)
    return spot__fail(SPOT_ERANGE, "%s message needs %zu bytes, buffer has %zu", spot__wire_type_name(m->type), n,
                      buf == NULL ? (size_t)0 : cap);
  wr_t w = {buf, 0};
  w_bytes(&w, magic, 2);
  w_uint(&w, SPOT__WIRE_VERSION, 1);
  w_uint(&w, m->type, 1);
  w_uint(&w, m->flags, 1);
  w_uint(&w, 0, 3);
  w_uint(&w, n - SPOT__WIRE_HDR_BYTES, 4);
  w_uint(&w, m->id, 8);
  body_put(m, &w);
  *len = w.n;
  return 0;
}

/* ---- decoding ---- */

typedef struct rd {
  const uint8_t *p; /* next unread byte */
  size_t left;      /* bytes after p */
} rd_t;

static uint64_t le(const uint8_t *p, unsigned bytes) {
  uint64_t v = 0;
  for (unsigned i = 0; i < bytes; i++)
    v |= (uint64_t)p[i] << (8 * i);
  return v;
}

/* The next n bytes, or SPOT_ECORRUPT naming the field if fewer are left. */
static int take(rd_t *r, size_t n, const char *field, const uint8_t **out) {
  *out = NULL; /* the compiler cannot tell that spot__fail returns non-zero */
  if (n > r->left)
    return spot__fail(SPOT_ECORRUPT, "message cut short in its %s (needs %zu bytes, %zu left)", field, n, r->left);
  *out = r->p;
  r->p += n;
  r->left -= n;
  return 0;
}

static int r_uint(rd_t *r, unsigned bytes, const char *field, uint64_t *v) {
  const uint8_t *p;
  int rc = take(r, bytes, field, &p);
  if (rc == 0)
    *v = le(p, bytes);
  return rc;
}
static int r_u8(rd_t *r, const char *field, uint8_t *v) {
  uint64_t x;
  int rc = r_uint(r, 1, field, &x);
  if (rc == 0)
    *v = (uint8_t)x;
  return rc;
}
static int r_u32(rd_t *r, const char *field, uint32_t *v) {
  uint64_t x;
  int rc = r_uint(r, 4, field, &x);
  if (rc == 0)
    *v = (uint32_t)x;
  return rc;
}
static int r_u64(rd_t *r, const char *field, uint64_t *v) { return r_uint(r, 8, field, v); }

/* A str field; what names the name's kind for its check: "namespace", "log", "handler" (may be empty), or NULL
 * for the deploy object name. */
static int r_name(rd_t *r, const char *what, spot__wire_str_t *s) {
  uint8_t n;
  const uint8_t *p;
  int rc;
  if ((rc = r_u8(r, what ? what : "object name", &n)) != 0 ||
      (rc = take(r, n, what ? what : "object name", &p)) != 0)
    return rc;
  if (what == NULL)
    rc = spot__wire_object_check((const char *)p, n);
  else if (n > 0 || strcmp(what, "handler") != 0)
    rc = name_check((const char *)p, n, what);
  if (rc != 0)
    return rc;
  s->ptr = n > 0 ? (const char *)p : NULL;
  s->len = n;
  return 0;
}

static int r_data(rd_t *r, spot__msg_t *m) {
  uint32_t n;
  const uint8_t *p;
  int rc = r_u32(r, "data length", &n);
  if (rc != 0)
    return rc;
  if (n > SPOT__WIRE_MAX_DATA)
    return spot__fail(SPOT_ECORRUPT, "message data length %u is above the maximum %u", (unsigned)n, SPOT__WIRE_MAX_DATA);
  if ((rc = take(r, n, "data", &p)) != 0)
    return rc;
  m->data = n > 0 ? p : NULL;
  m->data_len = n;
  return 0;
}

static int r_sync(rd_t *r, uint8_t *sync) {
  int rc = r_u8(r, "sync", sync);
  if (rc == 0 && *sync > SPOT__WIRE_SYNC_MAX)
    return spot__fail(SPOT_ECORRUPT, "message sync value %u is unknown", *sync);
  return rc;
}

static int reply_get(rd_t *r, spot__msg_t *m) {
  uint32_t status;
  int rc = r_u32(r, "status", &status);
  if (rc != 0)
    return rc;
  m->status = (int32_t)status;
  if (m->status > 0)
    return spot__fail(SPOT_ECORRUPT, "reply status %d is positive", (int)m->status);
  if (m->status != 0) {
    uint64_t n;
    const uint8_t *p;
    if ((rc = r_uint(r, 2, "detail length", &n)) != 0)
      return rc;
    if (n > SPOT__WIRE_DETAIL_MAX)
      return spot__fail(SPOT_ECORRUPT, "reply detail length %u is above the maximum %u", (unsigned)n,
                        SPOT__WIRE_DETAIL_MAX);
    if ((rc = take(r, (size_t)n, "detail", &p)) != 0)
      return rc;
    if (detail_check((const char *)p, (size_t)n) != 0)
      return spot__fail(SPOT_ECORRUPT, "reply detail text has a control byte");
    m->detail.ptr = n > 0 ? (const char *)p : NULL;
    m->detail.len = (size_t)n;
    return 0;
  }
  switch (m->type) {
  case SPOT__WIRE_PUT:
  case SPOT__WIRE_LATEST:
  case SPOT__WIRE_EARLIEST:
    return r_u64(r, "sequence number", &m->seq);
  case SPOT__WIRE_GET:
  case SPOT__WIRE_LIST:
  case SPOT__WIRE_HANDLERS:
  case SPOT__WIRE_STATUS:
  case SPOT__WIRE_CHECK:
    return r_data(r, m);
  case SPOT__WIRE_INFO:
    if ((rc = r_u32(r, "element size", &m->elem_size)) != 0 || (rc = r_u64(r, "history", &m->history)) != 0 ||
        (rc = r_sync(r, &m->sync)) != 0 || (rc = r_u64(r, "latest", &m->latest)) != 0 ||
        (rc = r_u64(r, "earliest", &m->earliest)) != 0 || (rc = r_u64(r, "durable", &m->durable)) != 0)
      return rc;
    return 0;
  case SPOT__WIRE_EVENTS: {
    const uint8_t *p;
    if ((rc = r_u32(r, "event count", &m->count)) != 0)
      return rc;
    if (m->count > SPOT__WIRE_MAX_EVENTS)
      return spot__fail(SPOT_ECORRUPT, "reply event count %u is above the maximum %u", (unsigned)m->count,
                        SPOT__WIRE_MAX_EVENTS);
    if ((rc = take(r, (size_t)m->count * SPOT__EVENT_BYTES, "event records", &p)) != 0)
      return rc;
    m->events = m->count > 0 ? p : NULL;
    return 0;
  }
  }
  return 0; /* CREATE, DEPLOY, BIND, UNBIND, RM: no payload */
}

static int request_get(rd_t *r, spot__msg_t *m) {
  int rc;
  if ((rc = r_name(r, "namespace", &m->ns)) != 0)
    return rc;
  if (has_log(m->type) && (rc = r_name(r, "log", &m->log)) != 0)
    return rc;
  switch (m->type) {
  case SPOT__WIRE_CREATE:
    if ((rc = r_u32(r, "element size", &m->elem_size)) != 0 || (rc = r_u64(r, "history", &m->history)) != 0)
      return rc;
    return r_sync(r, &m->sync);
  case SPOT__WIRE_PUT:
    if ((rc = r_name(r, "handler", &m->handler)) != 0 || (rc = r_u64(r, "cause node", &m->cause_node)) != 0 ||
        (rc = r_u64(r, "cause event", &m->cause_event)) != 0)
      return rc;
    return r_data(r, m);
  case SPOT__WIRE_GET:
    return r_u64(r, "sequence number", &m->seq);
  case SPOT__WIRE_EVENTS:
    if ((rc = r_u64(r, "first event id", &m->from)) != 0)
      return rc;
    return r_u32(r, "event count", &m->max);
  case SPOT__WIRE_DEPLOY:
    if ((rc = r_name(r, NULL, &m->object)) != 0)
      return rc;
    return r_data(r, m);
  case SPOT__WIRE_BIND:
  case SPOT__WIRE_UNBIND:
    if ((rc = r_name(r, "handler", &m->handler)) != 0)
      return rc;
    if (m->type == SPOT__WIRE_BIND && m->handler.len == 0)
      return spot__fail(SPOT_EBADNAME, "bind request names no handler");
    return 0;
  case SPOT__WIRE_CHECK:
    if ((rc = r_u8(r, "fix", &m->fix)) != 0)
      return rc;
    if (m->fix > 1)
      return spot__fail(SPOT_ECORRUPT, "check request's fix value %u is not 0 or 1", m->fix);
    return 0;
  }
  return 0; /* LATEST, EARLIEST, INFO, LIST, HANDLERS, STATUS, RM: the names only */
}

int spot__wire_peek(const uint8_t *buf, size_t len, spot__wire_hdr_t *h) {
  if (buf == NULL || len < SPOT__WIRE_HDR_BYTES)
    return spot__fail(SPOT_ERANGE, "message header needs %u bytes, have %zu", SPOT__WIRE_HDR_BYTES,
                      buf == NULL ? (size_t)0 : len);
  if (memcmp(buf + O_MAGIC, magic, 2) != 0)
    return spot__fail(SPOT_ECORRUPT, "not a spot message (magic 0x%02x%02x, expected \"SW\")", buf[0], buf[1]);
  uint64_t body = le(buf + O_BODYLEN, 4);
  if (body > SPOT__WIRE_MAX - SPOT__WIRE_HDR_BYTES)
    return spot__fail(SPOT_ECORRUPT, "message body length %u is above the maximum %u", (unsigned)body,
                      SPOT__WIRE_MAX - SPOT__WIRE_HDR_BYTES);
  h->version = buf[O_VERSION];
  h->type = buf[O_TYPE];
  h->flags = buf[O_FLAGS];
  h->id = le(buf + O_ID, 8);
  h->total = SPOT__WIRE_HDR_BYTES + (size_t)body;
  return 0;
}

int spot__wire_decode(const uint8_t *buf, size_t len, spot__msg_t *m) {
  spot__wire_hdr_t h;
  int rc = spot__wire_peek(buf, len, &h);
  if (rc == SPOT_ERANGE)
    return spot__fail(SPOT_ECORRUPT, "message of %zu bytes is shorter than its %u-byte header", len,
                      SPOT__WIRE_HDR_BYTES);
  if (rc != 0)
    return rc;
  if (h.version != SPOT__WIRE_VERSION)
    return spot__fail(SPOT_EVERSION, "message version %u, this node speaks version %u (upgrade the older node)",
                      h.version, SPOT__WIRE_VERSION);
  if (!known_type(h.type))
    return spot__fail(SPOT_ECORRUPT, "message type %u is unknown", h.type);
  if (h.flags & ~SPOT__WIRE_REPLY)
    return spot__fail(SPOT_ECORRUPT, "message flags 0x%02x has unknown bits", h.flags);
  if (buf[O_RESERVED] | buf[O_RESERVED + 1] | buf[O_RESERVED + 2])
    return spot__fail(SPOT_ECORRUPT, "message reserved header bytes are not zero");
  if (h.total != len)
    return spot__fail(SPOT_ECORRUPT, "message header says %zu bytes, %zu received", h.total, len);

  spot__msg_t d;
  memset(&d, 0, sizeof d);
  d.type = h.type;
  d.flags = h.flags;
  d.id = h.id;
  rd_t r = {buf + SPOT__WIRE_HDR_BYTES, len - SPOT__WIRE_HDR_BYTES};
  rc = (d.flags & SPOT__WIRE_REPLY) ? reply_get(&r, &d) : request_get(&r, &d);
  if (rc != 0)
    return rc;
  if (r.left != 0)
    return spot__fail(SPOT_ECORRUPT, "%s %s has %zu bytes left over after its last field",
                      spot__wire_type_name(d.type), (d.flags & SPOT__WIRE_REPLY) ? "reply" : "request", r.left);
  *m = d;
  return 0;
}

/* ---- helpers ---- */

int spot__wire_copy(spot__wire_str_t s, char *out, size_t cap) {
  if (cap == 0 || s.len >= cap)
    return spot__fail(SPOT_ERANGE, "string of %zu bytes does not fit in %zu", s.len, cap);
  if (s.len > 0 && (s.ptr == NULL || memchr(s.ptr, 0, s.len) != NULL))
    return spot__fail(SPOT_ERANGE, "string holds a NUL byte");
  if (s.len > 0)
    memcpy(out, s.ptr, s.len);
  out[s.len] = '\0';
  return 0;
}

spot__wire_str_t spot__wire_cstr(const char *s) {
  spot__wire_str_t r = {s, s != NULL ? strlen(s) : 0};
  return r;
}

void spot__wire_set_detail(spot__msg_t *m, const char *text) {
  size_t n = 0;
  if (text != NULL)
    while (n < SPOT__WIRE_DETAIL_MAX && (unsigned char)text[n] >= 0x20 && text[n] != 0x7f)
      n++;
  m->detail.ptr = n > 0 ? text : NULL;
  m->detail.len = n;
}

const char *spot__wire_type_name(int type) {
  switch (type) {
  case SPOT__WIRE_CREATE:
    return "create";
  case SPOT__WIRE_PUT:
    return "put";
  case SPOT__WIRE_GET:
    return "get";
  case SPOT__WIRE_LATEST:
    return "latest";
  case SPOT__WIRE_EARLIEST:
    return "earliest";
  case SPOT__WIRE_INFO:
    return "info";
  case SPOT__WIRE_EVENTS:
    return "events";
  case SPOT__WIRE_DEPLOY:
    return "deploy";
  case SPOT__WIRE_LIST:
    return "list";
  case SPOT__WIRE_HANDLERS:
    return "handlers";
  case SPOT__WIRE_BIND:
    return "bind";
  case SPOT__WIRE_UNBIND:
    return "unbind";
  case SPOT__WIRE_STATUS:
    return "status";
  case SPOT__WIRE_CHECK:
    return "check";
  case SPOT__WIRE_RM:
    return "rm";
  }
  return "?";
}
