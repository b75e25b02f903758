/*
 * link.c: the device's end of the serial link (device/link.h): frames in, requests executed on the device's logs,
 * replies out; the outbox's puts out as UP frames and the edge's replies to them in. Static buffers: receive and
 * send (one frame each; the send buffer keeps the last reply until the next one, for a NAK) and the UP frame
 * being sent (kept until the edge answers it).
 */
#include "device/link.h"

#include <string.h>

#include "core/error.h"
#include "core/event.h"
#include "core/frame.h"
#include "core/name.h"
#include "core/wire.h"
#include "device/device.h"
#include "platform/platform.h"

#define FRAME_BYTES (SPOT__DEV_LINK_PAYLOAD + SPOT__FRAME_OVERHEAD)
#define EVENTS_PER_REPLY 1u /* records of 384 bytes in one reply: as many as fit SPOT__DEV_LINK_PAYLOAD */
/* an UP frame: u8 + HOST:PORT, then a wire PUT (header, ns, log and handler (within the url and handler limits),
 * the cause, the data) */
#define UP_PAYLOAD (1u + SPOT__WIRE_HDR_BYTES + 3u + 2u * SPOT__DEV_URL_MAX + 16u + 4u + SPOT__DEV_UP_DATA)

_Static_assert(EVENTS_PER_REPLY * SPOT__EVENT_BYTES + 64u <= SPOT__DEV_LINK_PAYLOAD, "events reply fits a frame");

static struct {
  int (*get)(void);
  void (*put)(uint8_t byte);
  spot__frame_rx_t rx;
  uint8_t rxbuf[FRAME_BYTES];
  uint8_t tx[FRAME_BYTES];
  size_t tx_len;
  uint8_t seq;
  spot__dev_link_stats_t stats;
  uint8_t up[UP_PAYLOAD + SPOT__FRAME_OVERHEAD]; /* the UP frame outstanding */
  size_t up_len;
  uint64_t up_id;  /* its request id (the outbox number), 0: none outstanding */
  uint64_t up_due; /* when to send it (again) */
} link;

static uint8_t events[EVENTS_PER_REPLY * SPOT__EVENT_BYTES];

const spot__dev_link_stats_t *spot__dev_link_stats(void) { return &link.stats; }

static void send_tx(void) {
  for (size_t i = 0; i < link.tx_len; i++)
    link.put(link.tx[i]);
  link.stats.frames_out++;
}

/* Frames the len bytes already at tx + SPOT__FRAME_HDR (encode moves nothing then) and sends them. */
static void send_frame(uint8_t kind, size_t len) {
  size_t n;
  if (spot__frame_encode(kind, ++link.seq, link.tx + SPOT__FRAME_HDR, len, link.tx, sizeof link.tx, &n) != 0)
    return;
  link.tx_len = n;
  send_tx();
}

static void send_hello(void) {
  const spot__dev_stats_t *st = spot__dev_stats();
  spot__frame_hello_encode(spot__dev_node(), st->boots, SPOT__DEV_LINK_PAYLOAD, link.tx + SPOT__FRAME_HDR);
  send_frame(SPOT__FRAME_HELLO, SPOT__FRAME_HELLO_BYTES);
}

void spot__dev_link_start(int (*get)(void), void (*put)(uint8_t byte)) {
  link.get = get;
  link.put = put;
  link.up_id = 0; /* a start: the outbox's next put is sent at the first poll */
  spot__frame_rx_init(&link.rx, link.rxbuf, sizeof link.rxbuf);
  send_hello();
}

/* ---- the device's own requests: the outbox's puts, as UP frames ---- */

/* Splits url (spot://HOST:PORT/NS/LOG) into its parts, pointing into url. 0 or SPOT_EBADNAME. */
static int split_url(const char *url, spot__wire_str_t *hostport, spot__wire_str_t *ns, spot__wire_str_t *log) {
  const char *p = url + 7, *a = strchr(p, '/'), *b = a ? strchr(a + 1, '/') : NULL;
  if (!spot_is_remote(url) || a == NULL || b == NULL || a == p || b == a + 1 || b[1] == '\0' ||
      a - p > (long)SPOT__FRAME_HOSTPORT_MAX)
    return spot__fail(SPOT_EBADNAME, "%s is not spot://HOST:PORT/NAMESPACE/LOG", url);
  *hostport = (spot__wire_str_t){p, (size_t)(a - p)};
  *ns = (spot__wire_str_t){a + 1, (size_t)(b - a - 1)};
  *log = (spot__wire_str_t){b + 1, strlen(b + 1)};
  return 0;
}

/* Encodes put id of the outbox as an UP frame into link.up. 0, or the error that keeps it from travelling. */
static int encode_up(uint64_t id, const spot__dev_up_t *up) {
  spot__wire_str_t hp = {NULL, 0};
  spot__msg_t m;
  memset(&m, 0, sizeof m);
  int rc = split_url(up->url, &hp, &m.ns, &m.log);
  if (rc != 0)
    return rc;
  m.type = SPOT__WIRE_PUT;
  m.id = id;
  m.handler = (spot__wire_str_t){up->handler, strlen(up->handler)};
  m.cause_node = spot__dev_node();
  m.cause_event = up->cause;
  m.data = up->data;
  m.data_len = up->data_len;
  uint8_t *p = link.up + SPOT__FRAME_HDR;
  size_t n;
  p[0] = (uint8_t)hp.len;
  memcpy(p + 1, hp.ptr, hp.len);
  if ((rc = spot__wire_encode(&m, p + 1 + hp.len, UP_PAYLOAD - 1 - hp.len, &n)) != 0)
    return rc;
  return spot__frame_encode(SPOT__FRAME_UP, ++link.seq, p, 1 + hp.len + n, link.up, sizeof link.up, &link.up_len);
}

/* Sends the outbox's next put if one waits and it is due. */
static void up_pump(void) {
  uint64_t now = spot__now_ns();
  if (link.up_id == 0) {
    uint64_t id;
    const spot__dev_up_t *up;
    if (spot__dev_up_next(&id, &up) != 0)
      return;
    int rc = encode_up(id, up);
    if (rc != 0) { /* it cannot travel (a bad name): recorded as refused, never retried forever */
      link.stats.ups_refused++;
      spot__dev_up_done(id, rc, 0, spot_errdetail());
      return;
    }
    link.up_id = id;
    link.up_due = now;
  }
  if (now < link.up_due)
    return;
  for (size_t i = 0; i < link.up_len; i++)
    link.put(link.up[i]);
  link.stats.frames_out++;
  link.stats.ups_sent++;
  link.up_due = now + SPOT__DEV_UP_RESEND_MS * 1000000ull;
}

/* A REP frame from the edge: the answer to the outstanding UP, or a late duplicate (dropped). */
static void on_rep(const spot__frame_t *f) {
  spot__msg_t rep;
  if (link.up_id == 0 || spot__wire_decode(f->payload, f->len, &rep) != 0 || !(rep.flags & SPOT__WIRE_REPLY) ||
      rep.type != SPOT__WIRE_PUT || rep.id != link.up_id)
    return;
  int rc = rep.status;
  if (rc == SPOT_ETIMEDOUT || rc == SPOT_ECLOSED || rc == SPOT_EBUSY || rc == SPOT_EIO) {
    link.up_due = spot__now_ns() + SPOT__DEV_UP_RETRY_MS * 1000000ull; /* away for now: the same put, later */
    return;
  }
  char why[48] = "";
  if (rc != 0 && rep.detail.ptr) { /* the first words of the edge's detail line */
    size_t n = rep.detail.len < sizeof why - 1 ? rep.detail.len : sizeof why - 1;
    memcpy(why, rep.detail.ptr, n);
    why[n] = '\0';
  }
  if (rc == 0)
    link.stats.ups_done++;
  else
    link.stats.ups_refused++;
  spot__dev_up_done(link.up_id, rc, rep.seq, why);
  link.up_id = 0;
}

static int copy_name(spot__wire_str_t s, char *out, size_t cap) { return spot__wire_copy(s, out, cap); }

int spot__dev_serve(const spot__msg_t *req, spot__msg_t *rep, uint8_t *scratch, size_t cap) {
  char log[SPOT_NAME_MAX + 1] = "", handler[SPOT_NAME_MAX + 1] = "";
  copy_name(req->log, log, sizeof log);
  copy_name(req->handler, handler, sizeof handler);
  int rc;
  switch (req->type) {
  case SPOT__WIRE_CREATE:
    return spot__dev_create(log, req->elem_size, req->history);
  case SPOT__WIRE_PUT: {
    uint64_t last_id, last_seq;
    spot__dev_last_put(&last_id, &last_seq);
    if (req->id != 0 && req->id == last_id) { /* sent again: the reply was lost, the put was not */
      link.stats.duplicates++;
      rep->seq = last_seq;
      return 0;
    }
    spot_cause_t cause = {req->cause_node, req->cause_event};
    rc = spot__dev_put(log, req->data, req->data_len, handler[0] ? handler : NULL, &cause, &rep->seq);
    if (rc == 0)
      spot__dev_set_last_put(req->id, rep->seq);
    return rc;
  }
  case SPOT__WIRE_GET: {
    const void *data;
    uint32_t size;
    if ((rc = spot__dev_peek(log, req->seq, &data, &size)) != 0)
      return rc;
    if (size + 64u > SPOT__DEV_LINK_PAYLOAD)
      return spot__fail(SPOT_ETOOBIG, "elements of log %s are too long for the serial link", log);
    rep->data = data;
    rep->data_len = size;
    return 0;
  }
  case SPOT__WIRE_LATEST:
    return spot__dev_info(log, &rep->seq, NULL, NULL, NULL);
  case SPOT__WIRE_EARLIEST:
    return spot__dev_info(log, NULL, &rep->seq, NULL, NULL);
  case SPOT__WIRE_INFO: {
    uint64_t latest, earliest, history;
    uint32_t elem;
    if ((rc = spot__dev_info(log, &latest, &earliest, &elem, &history)) != 0)
      return rc;
    rep->elem_size = elem;
    rep->history = history;
    rep->sync = 0; /* RAM kept across a reset, not a power cut: as SPOT_SYNC_NONE */
    rep->latest = latest;
    rep->earliest = earliest;
    rep->durable = 0;
    return 0;
  }
  case SPOT__WIRE_EVENTS: {
    uint64_t lo, hi;
    if ((rc = spot__dev_info(SPOT__DEV_EVENTS_LOG, &hi, &lo, NULL, NULL)) != 0)
      return rc;
    uint64_t from = req->from < lo ? lo : req->from;
    uint32_t n = 0, max = req->max < EVENTS_PER_REPLY ? req->max : EVENTS_PER_REPLY;
    if (cap < (size_t)max * SPOT__EVENT_BYTES)
      max = (uint32_t)(cap / SPOT__EVENT_BYTES);
    for (uint64_t id = from; lo && id <= hi && n < max; id++)
      if (spot__dev_event(id, scratch + (size_t)n * SPOT__EVENT_BYTES) == 0)
        n++;
    rep->events = scratch;
    rep->count = n;
    return 0;
  }
  case SPOT__WIRE_DEPLOY:
    return spot__fail(SPOT_ENOTSUP, "a device's handlers are linked into its firmware: rebuild it with "
                                    "spot_add_firmware_handler() and flash it");
  default:
    return spot__fail(SPOT_EINVAL, "the device does not serve %s requests", spot__wire_type_name(req->type));
  }
}

static void answer(const spot__frame_t *f) {
  spot__msg_t req, rep;
  memset(&rep, 0, sizeof rep);
  spot__clear_detail();
  int rc = spot__wire_decode(f->payload, f->len, &req);
  if (rc == 0 && (req.flags & SPOT__WIRE_REPLY))
    return;
  if (rc != 0) {
    spot__wire_hdr_t h;
    if (spot__wire_peek(f->payload, f->len, &h) != 0 || h.type < SPOT__WIRE_CREATE || h.type > SPOT__WIRE_UNBIND)
      return;
    req.type = h.type;
    req.id = h.id;
  } else
    rc = spot__dev_serve(&req, &rep, events, sizeof events);
  rep.type = req.type;
  rep.flags = SPOT__WIRE_REPLY;
  rep.id = req.id;
  if (rc != 0) {
    spot__msg_t err;
    memset(&err, 0, sizeof err);
    err.type = rep.type;
    err.flags = SPOT__WIRE_REPLY;
    err.id = rep.id;
    err.status = rc;
    spot__wire_set_detail(&err, spot_errdetail()[0] ? spot_errdetail() : spot_strerror(rc));
    rep = err;
  }
  size_t n;
  /* the reply is encoded straight into the send buffer, after the frame's header */
  if (spot__wire_encode(&rep, link.tx + SPOT__FRAME_HDR, SPOT__DEV_LINK_PAYLOAD, &n) != 0)
    return;
  send_frame(SPOT__FRAME_REP, n);
}

unsigned spot__dev_link_poll(void) {
  unsigned handled = 0;
  int c;
  while ((c = link.get()) >= 0) {
    spot__frame_t f;
    for (int rc = spot__frame_rx_push(&link.rx, (uint8_t)c, &f); rc != 0; rc = spot__frame_rx_more(&link.rx, &f)) {
      handled++;
      if (rc < 0) { /* damaged: ask for it again (the send buffer keeps the last reply, for the edge's NAK) */
        uint8_t nak[SPOT__FRAME_OVERHEAD];
        size_t n;
        link.stats.naks_sent++;
        if (spot__frame_encode(SPOT__FRAME_NAK, f.seq, NULL, 0, nak, sizeof nak, &n) == 0)
          for (size_t i = 0; i < n; i++)
            link.put(nak[i]);
        continue;
      }
      link.stats.frames_in++;
      switch (f.kind) {
      case SPOT__FRAME_REQ:
        answer(&f);
        break;
      case SPOT__FRAME_REP:
        on_rep(&f);
        break;
      case SPOT__FRAME_NAK: /* the edge lost a frame of ours: the last reply, or the UP outstanding */
        link.stats.naks_got++;
        if (link.tx_len)
          send_tx();
        link.up_due = 0;
        break;
      case SPOT__FRAME_PING:
        send_hello();
        break;
      default:
        break;
      }
    }
  }
  up_pump();
  return handled;
}
