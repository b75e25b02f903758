/*
 * serial.c: the edge's end of a device's serial link (net/serial.h): frames out and in over a platform byte
 * stream, retransmission, the device's comings and goings, and the durable outbox of puts.
 *
 * One mutex serialises exchanges (the server thread's requests and the outbox thread's deliveries). An exchange
 * sends a REQ and reads until its REP arrives; it sends the REQ again after a NAK, after a HELLO (the device
 * restarted and may have lost it), and after SPOT__SERIAL_RESEND_MS of silence, until the deadline. A damaged
 * frame from the device gets a NAK; replies to other request ids (late answers to an earlier exchange) are dropped.
 */
#include "net/serial.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/frame.h"
#include "core/name.h"
#include "platform/platform.h"
#include "spot/log.h"

#define RESEND_MS 300u
#define DEFAULT_TIMEOUT_MS 2000u
#define FRAME_BYTES (SPOT__SERIAL_PAYLOAD + SPOT__FRAME_OVERHEAD)
#define OUTBOX_ELEM (16u + SPOT__SERIAL_PAYLOAD) /* u64 request id, u32 length, pad, the encoded request */
#define OUTBOX_HISTORY 256u
#define DRAIN_EVERY_MS 500u

struct spot__serial {
  char name[SPOT_NAME_MAX + 1];
  char path[4096];
  spot__mutex_t mu;
  int fd;
  uint32_t timeout_ms;
  spot__frame_rx_t rx;
  uint8_t rxbuf[FRAME_BYTES];
  uint8_t reply[SPOT__SERIAL_PAYLOAD]; /* the last reply, which rep points into */
  uint8_t tx[FRAME_BYTES];
  uint8_t seq;
  uint64_t next_id;
  uint32_t boots; /* the device's boot count in its last HELLO (0: none seen) */
  uint64_t node;
  spot_log_t *outbox, *sent;
  uint64_t delivered; /* outbox elements up to this one have been delivered */
  spot__serial_stats_t stats;
  spot__thread_t thread;
  int thread_started;
  atomic_int stop;
};

const char *spot__serial_name(const spot__serial_t *s) { return s->name; }

void spot__serial_stats(spot__serial_t *s, spot__serial_stats_t *out) {
  spot__mutex_lock(&s->mu);
  *out = s->stats;
  spot__mutex_unlock(&s->mu);
}

/* ---- one exchange ---- */

static void drop_link(spot__serial_t *s) {
  spot__stream_close(s->fd);
  s->fd = -1;
  spot__frame_rx_init(&s->rx, s->rxbuf, sizeof s->rxbuf);
}

static int send_bytes(spot__serial_t *s, const uint8_t *p, size_t n) {
  int rc = spot__stream_write(s->fd, p, n, 1000000000ull);
  if (rc != 0)
    drop_link(s);
  return rc;
}

static int send_nak(spot__serial_t *s, uint8_t seq) {
  uint8_t f[SPOT__FRAME_OVERHEAD];
  size_t n;
  spot__frame_encode(SPOT__FRAME_NAK, seq, NULL, 0, f, sizeof f, &n);
  s->stats.naks_sent++;
  return send_bytes(s, f, n);
}

/* What a frame from the device means for the exchange waiting for reply id. 1: the reply is in s->reply (*len);
 * 2: send the request again; 0: nothing for us. */
static int on_frame(spot__serial_t *s, int rc, const spot__frame_t *f, uint64_t id, size_t *len) {
  if (rc < 0) {
    send_nak(s, f->seq);
    return 0;
  }
  switch (f->kind) {
  case SPOT__FRAME_REP: {
    spot__wire_hdr_t h;
    if (spot__wire_peek(f->payload, f->len, &h) != 0 || h.id != id || h.total != f->len)
      return 0; /* a late reply to an earlier request */
    memcpy(s->reply, f->payload, f->len);
    *len = f->len;
    return 1;
  }
  case SPOT__FRAME_NAK:
    s->stats.naks_got++;
    return 2;
  case SPOT__FRAME_HELLO: {
    uint64_t node;
    uint32_t boots, max;
    if (spot__frame_hello_decode(f->payload, f->len, &node, &boots, &max) == 0) {
      s->stats.hellos++;
      s->node = node;
      s->boots = boots;
    }
    return 2; /* it restarted (or answers a ping): whatever it had of our request is gone */
  }
  default:
    return 0;
  }
}

/* Sends the n encoded bytes of a request (id id) and waits for its reply until deadline. */
static int exchange(spot__serial_t *s, const uint8_t *msg, size_t n, uint64_t id, uint64_t deadline, size_t *len) {
  size_t flen;
  if (spot__frame_encode(SPOT__FRAME_REQ, ++s->seq, msg, n, s->tx, sizeof s->tx, &flen) != 0)
    return spot__fail(SPOT_ETOOBIG, "a request of %zu bytes does not fit the serial link's frames (%u bytes)", n,
                      SPOT__SERIAL_PAYLOAD);
  int last = 0, sends = 0;
  while (spot__now_ns() < deadline) {
    if (s->fd < 0) {
      int rc = spot__stream_open(s->path, &s->fd);
      if (rc != 0) {
        s->fd = -1;
        last = rc;
        spot__sleep_ns(100000000ull);
        continue;
      }
      spot__frame_rx_init(&s->rx, s->rxbuf, sizeof s->rxbuf);
    }
    if (send_bytes(s, s->tx, flen) != 0) {
      last = SPOT_ECLOSED;
      continue;
    }
    if (sends++ > 0)
      s->stats.resent++;
    uint64_t resend_at = spot__now_ns() + RESEND_MS * 1000000ull;
    int again = 0;
    while (!again && s->fd >= 0) {
      uint64_t now = spot__now_ns();
      if (now >= deadline || now >= resend_at)
        break;
      uint8_t buf[256];
      size_t got;
      int rc = spot__stream_read(s->fd, buf, sizeof buf, (resend_at < deadline ? resend_at : deadline) - now, &got);
      if (rc != 0) {
        last = rc;
        drop_link(s);
        break;
      }
      for (size_t i = 0; i < got && !again; i++) {
        spot__frame_t f;
        for (int r = spot__frame_rx_push(&s->rx, buf[i], &f); r != 0 && !again; r = spot__frame_rx_more(&s->rx, &f)) {
          int what = on_frame(s, r, &f, id, len);
          if (what == 1)
            return 0;
          again = what == 2;
        }
      }
    }
  }
  s->stats.timeouts++;
  if (s->fd < 0 && last != 0)
    return spot__fail(SPOT_ETIMEDOUT, "device %s is not reachable at %s within %u ms (%s); is it plugged in, "
                      "or QEMU running?", s->name, s->path, s->timeout_ms, spot_errdetail());
  return spot__fail(SPOT_ETIMEDOUT, "device %s (%s) did not answer within %u ms (%d sends): unplugged, reset or "
                    "stuck in a handler?", s->name, s->path, s->timeout_ms, sends);
}

/* Encodes req with id into msg; *n its length. */
static int encode(const spot__msg_t *req, uint64_t id, uint8_t *msg, size_t cap, size_t *n) {
  spot__msg_t m = *req;
  m.id = id;
  int rc = spot__wire_encode(&m, msg, cap, n);
  if (rc == SPOT_ERANGE)
    return spot__fail(SPOT_ETOOBIG, "the request does not fit the serial link's frames (%u bytes): device "
                      "elements must be small", SPOT__SERIAL_PAYLOAD);
  return rc;
}

static int decode_reply(spot__serial_t *s, size_t len, spot__msg_t *rep) {
  int rc = spot__wire_decode(s->reply, len, rep);
  if (rc != 0)
    return spot__fail(SPOT_ECORRUPT, "device %s sent a reply that does not decode: %s", s->name, spot_errdetail());
  return 0;
}

/* ---- the outbox ---- */

typedef struct outbox_elem {
  uint64_t id;
  uint32_t len, pad;
  uint8_t msg[SPOT__SERIAL_PAYLOAD];
} outbox_elem_t;

_Static_assert(sizeof(outbox_elem_t) == OUTBOX_ELEM, "outbox element layout");

static uint64_t outbox_latest(spot__serial_t *s) {
  uint64_t l = 0;
  spot_log_latest(s->outbox, &l);
  return l;
}

/* Delivers queued puts in order until one is not answered by deadline. Caller holds s->mu. 0 when the outbox is
 * empty, else the error of the put that did not go. */
static int drain(spot__serial_t *s, uint64_t deadline) {
  while (s->delivered < outbox_latest(s)) {
    outbox_elem_t e;
    uint64_t k = s->delivered + 1;
    int rc = spot_log_read(s->outbox, k, &e, sizeof e);
    if (rc == 0 && e.len > SPOT__SERIAL_PAYLOAD)
      rc = SPOT_ECORRUPT;
    size_t len = 0;
    if (rc == 0)
      rc = exchange(s, e.msg, e.len, e.id, deadline, &len);
    if (rc == SPOT_ETIMEDOUT || rc == SPOT_ECLOSED)
      return rc;
    spot__msg_t rep;
    uint64_t done[2] = {k, 0};
    if (rc == 0 && decode_reply(s, len, &rep) == 0 && rep.status == 0)
      done[1] = rep.seq;
    else /* refused by the device (or unreadable here): recorded as delivered with no sequence number */
      fprintf(stderr, "spotd: outbox put %llu to device %s was refused: %s\n", (unsigned long long)k, s->name,
              rc ? spot_errdetail() : "see the device's reply");
    if ((rc = spot_log_append(s->sent, done, sizeof done, NULL)) != 0)
      return rc;
    s->delivered = k;
    s->stats.delivered++;
  }
  return 0;
}

static int queue_put(spot__serial_t *s, const uint8_t *msg, size_t n, uint64_t id, int why) {
  if (outbox_latest(s) - s->delivered >= OUTBOX_HISTORY)
    return spot__fail(SPOT_EBUSY, "device %s has been away for %u puts, all its outbox keeps; try again when it "
                      "is back", s->name, OUTBOX_HISTORY);
  outbox_elem_t e;
  memset(&e, 0, sizeof e);
  e.id = id;
  e.len = (uint32_t)n;
  memcpy(e.msg, msg, n);
  char detail[512];
  snprintf(detail, sizeof detail, "%s", spot_errdetail());
  uint64_t k;
  int rc = spot_log_append(s->outbox, &e, sizeof e, &k);
  if (rc != 0)
    return rc;
  s->stats.queued++;
  return spot__fail(why, "%s; the put is kept in the edge's outbox (log %s-outbox, element %llu) and goes to the "
                    "device when it answers again", detail, s->name, (unsigned long long)k);
}

static void *drain_main(void *arg) {
  spot__serial_t *s = arg;
  while (!atomic_load(&s->stop)) {
    for (unsigned i = 0; i < DRAIN_EVERY_MS / 50u && !atomic_load(&s->stop); i++)
      spot__sleep_ns(50000000ull);
    spot__mutex_lock(&s->mu);
    if (s->delivered < outbox_latest(s)) {
      uint64_t before = s->delivered;
      drain(s, spot__now_ns() + (uint64_t)s->timeout_ms * 1000000u);
      if (s->delivered > before)
        fprintf(stderr, "spotd: delivered %llu queued put(s) to device %s\n",
                (unsigned long long)(s->delivered - before), s->name);
    }
    spot__mutex_unlock(&s->mu);
  }
  return NULL;
}

/* ---- calls ---- */

int spot__serial_call(spot__serial_t *s, const spot__msg_t *req, spot__msg_t *rep) {
  uint8_t msg[SPOT__SERIAL_PAYLOAD];
  size_t n, len = 0;
  spot__mutex_lock(&s->mu);
  uint64_t id = ++s->next_id;
  s->stats.requests++;
  uint64_t deadline = spot__now_ns() + (uint64_t)s->timeout_ms * 1000000u;
  int rc = encode(req, id, msg, sizeof msg, &n);
  if (rc == 0 && req->type == SPOT__WIRE_PUT) {
    /* puts keep their order: behind what the outbox holds */
    rc = drain(s, deadline);
    if (rc == SPOT_ETIMEDOUT || rc == SPOT_ECLOSED) {
      rc = queue_put(s, msg, n, id, SPOT_ETIMEDOUT);
      goto done;
    }
    if (rc == 0) {
      rc = exchange(s, msg, n, id, deadline, &len);
      if (rc == SPOT_ETIMEDOUT || rc == SPOT_ECLOSED)
        rc = queue_put(s, msg, n, id, SPOT_ETIMEDOUT);
    }
  } else if (rc == 0)
    rc = exchange(s, msg, n, id, deadline, &len);
  if (rc == 0)
    rc = decode_reply(s, len, rep);
done:
  spot__mutex_unlock(&s->mu);
  return rc;
}

/* ---- life ---- */

static int open_outbox(spot__serial_t *s, spot_ns_t *ns) {
  char box[SPOT_NAME_MAX + 1], sent[SPOT_NAME_MAX + 1];
  if ((size_t)snprintf(box, sizeof box, "%s-outbox", s->name) >= sizeof box ||
      (size_t)snprintf(sent, sizeof sent, "%s-outbox-sent", s->name) >= sizeof sent)
    return spot__fail(SPOT_EBADNAME, "device name %s is too long for its outbox logs (at most %d characters)",
                      s->name, SPOT_NAME_MAX - 12);
  spot_log_config_t cb = {.elem_size = OUTBOX_ELEM, .history = OUTBOX_HISTORY, .sync = SPOT_SYNC_ALWAYS};
  spot_log_config_t cs = {.elem_size = 16, .history = 1024, .sync = SPOT_SYNC_ALWAYS};
  int rc = spot_ns_create_log(ns, box, &cb);
  if (rc != 0 && rc != SPOT_EEXIST)
    return rc;
  rc = spot_ns_create_log(ns, sent, &cs);
  if (rc != 0 && rc != SPOT_EEXIST)
    return rc;
  if ((rc = spot_ns_open_log(ns, box, 0, &s->outbox, NULL)) != 0 ||
      (rc = spot_ns_open_log(ns, sent, 0, &s->sent, NULL)) != 0)
    return rc;
  uint64_t last = 0;
  spot_log_latest(s->sent, &last);
  if (last) {
    uint64_t done[2];
    if ((rc = spot_log_read(s->sent, last, done, sizeof done)) != 0)
      return rc;
    s->delivered = done[0];
  }
  uint64_t lo = 0;
  spot_log_earliest(s->outbox, &lo);
  if (lo > s->delivered + 1) /* the oldest undelivered ones expired: cannot happen while queue_put checks room */
    s->delivered = lo - 1;
  return 0;
}

int spot__serial_open(const char *name, const char *path, spot_ns_t *ns, spot__serial_t **out) {
  int rc = spot__name_check(name, "device namespace");
  if (rc != 0)
    return rc;
  if (strlen(path) >= sizeof(((spot__serial_t *)0)->path))
    return spot__fail(SPOT_EINVAL, "device path is too long");
  spot__serial_t *s = calloc(1, sizeof *s);
  if (s == NULL)
    return SPOT_ENOMEM;
  snprintf(s->name, sizeof s->name, "%s", name);
  snprintf(s->path, sizeof s->path, "%s", path);
  s->fd = -1;
  spot__mutex_init(&s->mu);
  spot__frame_rx_init(&s->rx, s->rxbuf, sizeof s->rxbuf);
  const char *t = getenv("SPOT_SERIAL_TIMEOUT_MS");
  s->timeout_ms = t && atoi(t) > 0 ? (uint32_t)atoi(t) : DEFAULT_TIMEOUT_MS;
  uint64_t r;
  spot__random(&r, sizeof r);
  s->next_id = (r & 0x7fffffff00000000ull); /* distinct from a previous run's ids, as the device remembers one */
  if ((rc = open_outbox(s, ns)) != 0 || (rc = spot__thread_start(&s->thread, drain_main, s)) != 0) {
    spot__serial_close(s);
    return rc;
  }
  s->thread_started = 1;
  *out = s;
  return 0;
}

void spot__serial_close(spot__serial_t *s) {
  if (s == NULL)
    return;
  atomic_store(&s->stop, 1);
  if (s->thread_started)
    spot__thread_join(&s->thread);
  spot__stream_close(s->fd);
  if (s->outbox)
    spot_log_close(s->outbox);
  if (s->sent)
    spot_log_close(s->sent);
  spot__mutex_destroy(&s->mu);
  free(s);
}
