/*
 * serial.c: the edge's end of a device's serial link (net/serial.h): frames out and in over a platform byte
 * stream, retransmission, the device's comings and goings, the durable outbox of puts to the device, and the
 * device's own puts to other nodes (UP frames), forwarded with the device's handler run as their cause.
 *
 * Three threads share the link. The reader owns the stream: it opens it (again, every 100 ms while that fails,
 * and after a failed write or read), sends a PING so the device says HELLO, and takes every frame the device sends:
 * a REP goes to the exchange waiting for its id, a NAK or a HELLO makes that exchange send its request again, an
 * UP goes to the worker, a damaged frame gets a NAK. An exchange (a server thread's request, or the worker's
 * delivery of the outbox; one at a time under `call`) sends its REQ and sleeps on the `news` futex until its reply
 * comes, sending again after a NAK, a HELLO or SPOT__SERIAL_RESEND_MS of silence, until its deadline. The worker
 * forwards the device's UP puts (spot_put on the remote name, the device's run as cause) and answers each with a
 * REP, and delivers the outbox every 500 ms while it holds anything. `mu` guards the shared state and every write
 * to the stream, so frames never interleave.
 */
#include "net/serial.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crc32c.h"
#include "core/error.h"
#include "core/frame.h"
#include "core/name.h"
#include "platform/platform.h"
#include "spot/log.h"
#include "spot/node.h"

#define RESEND_MS 300u
#define DEFAULT_TIMEOUT_MS 2000u
#define REOPEN_MS 100u
#define READ_SLICE_MS 50u
#define FRAME_BYTES (SPOT__SERIAL_PAYLOAD + SPOT__FRAME_OVERHEAD)
#define OUTBOX_ELEM (16u + SPOT__SERIAL_PAYLOAD) /* u64 request id, u32 length, pad, the encoded request */
#define OUTBOX_HISTORY 256u
#define DRAIN_EVERY_MS 500u
#define MS 1000000ull

struct spot__serial {
  char name[SPOT_NAME_MAX + 1];
  char path[4096];
  uint32_t timeout_ms;
  spot__mutex_t mu;   /* guards what is marked (mu), and every write to fd */
  spot__mutex_t call; /* one exchange at a time; guards what is marked (call) */
  int fd;             /* opened and closed by the reader only (under mu); -1: not open */
  int broken;         /* (mu) a write failed: the reader closes the stream and opens it again */
  char open_err[256]; /* (mu) why the last open failed ("" if it did not) */
  uint32_t news;      /* futex word, bumped (under mu) at anything an exchange waits for */
  uint64_t want;      /* (mu) the request id an exchange waits for (0: none) */
  int got, resend;    /* (mu) its reply is in wantbuf (got_len bytes); send the request again */
  uint8_t *wantbuf;   /* (mu) where its reply goes */
  size_t got_len;
  uint8_t reply[SPOT__SERIAL_PAYLOAD];  /* the server's last reply, which its rep points into */
  uint8_t dreply[SPOT__SERIAL_PAYLOAD]; /* the outbox delivery's */
  uint8_t reqf[FRAME_BYTES];            /* (call) the request frame being exchanged */
  uint8_t wf[FRAME_BYTES];              /* (mu) the reply frame being written */
  uint8_t uprep[FRAME_BYTES];           /* (mu) the last reply to an UP, sent again after the device's NAK */
  size_t uprep_len;
  uint8_t seq;                          /* (mu) */
  uint64_t next_id;                     /* (call) */
  uint32_t boots;                       /* (mu) the device's boot count in its last HELLO (0: none seen) */
  uint64_t node;                        /* (mu) its node id in that HELLO */
  /* the device's puts to other nodes */
  uint32_t up_news;                     /* futex word of the worker */
  uint8_t up[SPOT__SERIAL_PAYLOAD];     /* (mu) the UP payload waiting for the worker */
  size_t up_len;
  int up_have, up_busy;                 /* (mu) one waits; the worker is forwarding one */
  uint64_t up_node, up_id, up_seq;      /* (mu) the last one forwarded (also in log NAME-uplink) */
  uint32_t up_crc;                      /* (mu) crc32c of its UP payload */
  spot__frame_rx_t rx;                  /* the reader's */
  uint8_t rxbuf[FRAME_BYTES];
  spot_log_t *outbox, *sent, *uplink;
  uint64_t delivered; /* (call) outbox elements up to this one have been delivered */
  spot__serial_stats_t stats; /* (mu) */
  spot__thread_t reader, worker;
  int threads;
  atomic_int stop;
};

const char *spot__serial_name(const spot__serial_t *s) { return s->name; }

void spot__serial_stats(spot__serial_t *s, spot__serial_stats_t *out) {
  spot__mutex_lock(&s->mu);
  *out = s->stats;
  spot__mutex_unlock(&s->mu);
}

/* Tells whoever waits on word that something changed. */
static void bump(uint32_t *word) {
  __atomic_add_fetch(word, 1, __ATOMIC_RELEASE);
  spot__futex_wake(word);
}

/* Writes n bytes to the stream. Caller holds mu. A failure marks the stream broken (the reader reopens it). */
static int write_locked(spot__serial_t *s, const uint8_t *p, size_t n) {
  if (s->fd < 0 || s->broken)
    return SPOT_ECLOSED;
  int rc = spot__stream_write(s->fd, p, n, 1000000000ull);
  if (rc != 0) {
    s->broken = 1;
    bump(&s->news);
  }
  return rc;
}

/* Frames len bytes of payload as kind into s->wf and writes it. Caller holds mu. */
static int send_frame_locked(spot__serial_t *s, uint8_t kind, const void *payload, size_t len) {
  size_t n;
  int rc = spot__frame_encode(kind, ++s->seq, payload, len, s->wf, sizeof s->wf, &n);
  return rc ? rc : write_locked(s, s->wf, n);
}

/* ---- the reader ---- */

/* Answers an UP with reply rep (its id set). Caller holds mu. */
static void answer_up_locked(spot__serial_t *s, spot__msg_t *rep) {
  uint8_t msg[SPOT__SERIAL_PAYLOAD];
  size_t n;
  rep->type = SPOT__WIRE_PUT;
  rep->flags = SPOT__WIRE_REPLY;
  if (spot__wire_encode(rep, msg, sizeof msg, &n) != 0 ||
      spot__frame_encode(SPOT__FRAME_REP, ++s->seq, msg, n, s->uprep, sizeof s->uprep, &s->uprep_len) != 0)
    return;
  write_locked(s, s->uprep, s->uprep_len);
}

/* An UP frame: the device's put to another node. Handed to the worker, or answered from memory if it is the last
 * one forwarded (the device sent it again: its reset, or a lost reply). */
static void on_up(spot__serial_t *s, const spot__frame_t *f) {
  char hp[SPOT__FRAME_HOSTPORT_MAX + 1];
  const uint8_t *msg;
  size_t mlen;
  spot__msg_t req, rep;
  memset(&rep, 0, sizeof rep);
  spot__mutex_lock(&s->mu);
  if (spot__frame_up_decode(f->payload, f->len, hp, sizeof hp, &msg, &mlen) != 0 ||
      spot__wire_decode(msg, mlen, &req) != 0 || req.type != SPOT__WIRE_PUT || (req.flags & SPOT__WIRE_REPLY)) {
    spot__wire_hdr_t h;
    if (spot__frame_up_decode(f->payload, f->len, hp, sizeof hp, &msg, &mlen) == 0 &&
        spot__wire_peek(msg, mlen, &h) == 0) { /* refused in words, so the device moves on */
      rep.id = h.id;
      rep.status = SPOT_ECORRUPT;
      spot__wire_set_detail(&rep, "the edge cannot decode this put");
      answer_up_locked(s, &rep);
    }
  } else if (s->up_id != 0 && req.id == s->up_id && req.cause_node == s->up_node &&
             spot__crc32c(0, f->payload, f->len) == s->up_crc) {
    /* the same bytes again: not a new put with a reused number (a device whose arena was formatted anew keeps its
     * node id, a board's unique id, and numbers its puts from 1 again) */
    rep.id = req.id;
    rep.seq = s->up_seq;
    s->stats.up_repeated++;
    answer_up_locked(s, &rep);
  } else if (!s->up_have && !s->up_busy) {
    memcpy(s->up, f->payload, f->len);
    s->up_len = f->len;
    s->up_have = 1;
    bump(&s->up_news);
  } /* else: the worker is forwarding it (a resend while it waits for the target) */
  spot__mutex_unlock(&s->mu);
}

static void on_frame(spot__serial_t *s, int rc, const spot__frame_t *f) {
  spot__mutex_lock(&s->mu);
  if (rc < 0) {
    uint8_t nak[SPOT__FRAME_OVERHEAD];
    size_t n;
    s->stats.naks_sent++;
    if (spot__frame_encode(SPOT__FRAME_NAK, f->seq, NULL, 0, nak, sizeof nak, &n) == 0)
      write_locked(s, nak, n);
    spot__mutex_unlock(&s->mu);
    return;
  }
  switch (f->kind) {
  case SPOT__FRAME_REP: {
    spot__wire_hdr_t h;
    if (s->want != 0 && !s->got && spot__wire_peek(f->payload, f->len, &h) == 0 && h.id == s->want &&
        h.total == f->len) {
      memcpy(s->wantbuf, f->payload, f->len);
      s->got_len = f->len;
      s->got = 1;
      bump(&s->news);
    } /* else a late reply to an earlier request */
    break;
  }
  case SPOT__FRAME_NAK: /* the device lost a frame of ours: the request outstanding, or our last reply to an UP */
    s->stats.naks_got++;
    s->resend = 1;
    if (s->uprep_len)
      write_locked(s, s->uprep, s->uprep_len);
    bump(&s->news);
    break;
  case SPOT__FRAME_HELLO: {
    uint64_t node;
    uint32_t boots, max;
    if (spot__frame_hello_decode(f->payload, f->len, &node, &boots, &max) == 0) {
      s->stats.hellos++;
      if (node != s->node || boots != s->boots)
        fprintf(stderr, "spotd: device %s (%s): node %016llx, boot %lu\n", s->name, s->path,
                (unsigned long long)node, (unsigned long)boots);
      s->node = node;
      s->boots = boots;
    }
    s->resend = 1; /* it restarted (or answers our ping): whatever it had of our request is gone */
    bump(&s->news);
    break;
  }
  case SPOT__FRAME_UP:
    spot__mutex_unlock(&s->mu);
    on_up(s, f);
    return;
  default:
    break;
  }
  spot__mutex_unlock(&s->mu);
}

static void *reader_main(void *arg) {
  spot__serial_t *s = arg;
  while (!atomic_load(&s->stop)) {
    if (s->fd < 0) {
      int fd;
      int rc = spot__stream_open(s->path, &fd);
      spot__mutex_lock(&s->mu);
      if (rc != 0)
        snprintf(s->open_err, sizeof s->open_err, "%s", spot_errdetail());
      else {
        s->fd = fd;
        s->broken = 0;
        s->open_err[0] = '\0';
        spot__frame_rx_init(&s->rx, s->rxbuf, sizeof s->rxbuf);
        send_frame_locked(s, SPOT__FRAME_PING, NULL, 0); /* its HELLO tells us who is there */
        bump(&s->news);
      }
      spot__mutex_unlock(&s->mu);
      if (rc != 0)
        spot__sleep_ns(REOPEN_MS * MS);
      continue;
    }
    uint8_t buf[256];
    size_t got = 0;
    int rc = spot__stream_read(s->fd, buf, sizeof buf, READ_SLICE_MS * MS, &got);
    spot__mutex_lock(&s->mu);
    int drop = rc != 0 || s->broken;
    if (drop) {
      snprintf(s->open_err, sizeof s->open_err, "%s", rc ? spot_errdetail() : "a write to the link failed");
      spot__stream_close(s->fd);
      s->fd = -1;
      bump(&s->news);
    }
    spot__mutex_unlock(&s->mu);
    if (drop)
      continue;
    for (size_t i = 0; i < got; i++) {
      spot__frame_t f;
      for (int r = spot__frame_rx_push(&s->rx, buf[i], &f); r != 0; r = spot__frame_rx_more(&s->rx, &f))
        on_frame(s, r, &f);
    }
  }
  return NULL;
}

/* ---- one exchange ---- */

/* Sends the n encoded bytes of a request (id id) and waits for its reply, into replybuf, until deadline. Caller
 * holds call. */
static int exchange(spot__serial_t *s, const uint8_t *msg, size_t n, uint64_t id, uint64_t deadline,
                    uint8_t *replybuf, size_t *len) {
  size_t flen;
  spot__mutex_lock(&s->mu);
  if (spot__frame_encode(SPOT__FRAME_REQ, ++s->seq, msg, n, s->reqf, sizeof s->reqf, &flen) != 0) {
    spot__mutex_unlock(&s->mu);
    return spot__fail(SPOT_ETOOBIG, "a request of %zu bytes does not fit the serial link's frames (%u bytes)", n,
                      SPOT__SERIAL_PAYLOAD);
  }
  s->want = id;
  s->wantbuf = replybuf;
  s->got = 0;
  int sends = 0, rc = 0;
  uint64_t now = spot__now_ns();
  while (now < deadline && !s->got) {
    uint64_t until = deadline;
    if (s->fd >= 0 && !s->broken && write_locked(s, s->reqf, flen) == 0) {
      if (sends++ > 0)
        s->stats.resent++;
      s->resend = 0;
      until = now + RESEND_MS * MS < deadline ? now + RESEND_MS * MS : deadline;
    } else {
      s->resend = 0; /* nothing was sent: wait for the reader to reopen the link (it bumps news), not spin */
      if (now + REOPEN_MS * MS < deadline)
        until = now + REOPEN_MS * MS;
    }
    while (!s->got && !s->resend && now < until) {
      uint32_t w = __atomic_load_n(&s->news, __ATOMIC_ACQUIRE);
      spot__mutex_unlock(&s->mu);
      spot__futex_wait(&s->news, w, until - now);
      spot__mutex_lock(&s->mu);
      now = spot__now_ns();
      if (s->fd < 0 || s->broken)
        break;
    }
    now = spot__now_ns();
  }
  s->want = 0;
  if (s->got) {
    *len = s->got_len;
  } else {
    s->stats.timeouts++;
    if (sends == 0)
      rc = spot__fail(SPOT_ETIMEDOUT, "device %s is not reachable at %s within %u ms (%s); is it plugged in, or QEMU "
                      "running?", s->name, s->path, s->timeout_ms, s->open_err);
    else
      rc = spot__fail(SPOT_ETIMEDOUT, "device %s (%s) did not answer within %u ms (%d sends): unplugged, reset or "
                      "stuck in a handler?", s->name, s->path, s->timeout_ms, sends);
  }
  spot__mutex_unlock(&s->mu);
  return rc;
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

static int decode_reply(spot__serial_t *s, const uint8_t *buf, size_t len, spot__msg_t *rep) {
  int rc = spot__wire_decode(buf, len, rep);
  if (rc != 0)
    return spot__fail(SPOT_ECORRUPT, "device %s sent a reply that does not decode: %s", s->name, spot_errdetail());
  return 0;
}

/* ---- the outbox of puts to the device ---- */

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

/* Delivers queued puts in order until one is not answered by deadline. Caller holds call. 0 when the outbox is
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
      rc = exchange(s, e.msg, e.len, e.id, deadline, s->dreply, &len);
    if (rc == SPOT_ETIMEDOUT || rc == SPOT_ECLOSED)
      return rc;
    spot__msg_t rep;
    uint64_t done[2] = {k, 0};
    if (rc == 0 && decode_reply(s, s->dreply, len, &rep) == 0 && rep.status == 0)
      done[1] = rep.seq;
    else /* refused by the device (or unreadable here): recorded as delivered with no sequence number */
      fprintf(stderr, "spotd: outbox put %llu to device %s was refused: %s\n", (unsigned long long)k, s->name,
              rc ? spot_errdetail() : "see the device's reply");
    if ((rc = spot_log_append(s->sent, done, sizeof done, NULL)) != 0)
      return rc;
    s->delivered = k;
    spot__mutex_lock(&s->mu);
    s->stats.delivered++;
    spot__mutex_unlock(&s->mu);
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
  spot__mutex_lock(&s->mu);
  s->stats.queued++;
  spot__mutex_unlock(&s->mu);
  return spot__fail(why, "%s; the put is kept in the edge's outbox (log %s-outbox, element %llu) and goes to the "
                    "device when it answers again", detail, s->name, (unsigned long long)k);
}

/* ---- the worker: the device's puts to other nodes, and the outbox's deliveries ---- */

typedef struct uplink_rec {
  uint64_t node, id, seq; /* the device (node id), its request id, the target's sequence number */
  uint32_t crc, pad;      /* crc32c of the UP payload */
} uplink_rec_t;

/* Forwards the UP payload waiting in s->up: spot_put on its remote name with the device's run as cause, then the
 * reply to the device. Transient failures are the device's to retry; they are not remembered. */
static void forward_up(spot__serial_t *s) {
  uint8_t buf[SPOT__SERIAL_PAYLOAD];
  spot__mutex_lock(&s->mu);
  size_t len = s->up_len;
  memcpy(buf, s->up, len);
  s->up_have = 0;
  s->up_busy = 1;
  spot__mutex_unlock(&s->mu);
  char hp[SPOT__FRAME_HOSTPORT_MAX + 1], ns[SPOT_NAME_MAX + 1], log[SPOT_NAME_MAX + 1], handler[SPOT_NAME_MAX + 1];
  char url[SPOT__FRAME_HOSTPORT_MAX + 2 * SPOT_NAME_MAX + 16];
  const uint8_t *msg;
  size_t mlen;
  spot__msg_t req, rep;
  memset(&rep, 0, sizeof rep);
  /* on_up checked that it decodes */
  spot__frame_up_decode(buf, len, hp, sizeof hp, &msg, &mlen);
  spot__wire_decode(msg, mlen, &req);
  spot__wire_copy(req.ns, ns, sizeof ns);
  spot__wire_copy(req.log, log, sizeof log);
  spot__wire_copy(req.handler, handler, sizeof handler);
  snprintf(url, sizeof url, "spot://%s/%s/%s", hp, ns, log);
  spot_cause_t cause = {req.cause_node, req.cause_event};
  spot__clear_detail();
  uint64_t seq = 0;
  int rc = spot_put(NULL, url, req.data, req.data_len, handler[0] ? handler : NULL, &cause, &seq);
  char detail[512];
  snprintf(detail, sizeof detail, "%s", rc ? spot_errdetail() : "");
  uint32_t crc = spot__crc32c(0, buf, len);
  if (rc == 0) { /* remembered before the reply, so the device's resend after a lost reply is not put twice */
    uplink_rec_t r = {req.cause_node, req.id, seq, crc, 0};
    if (spot_log_append(s->uplink, &r, sizeof r, NULL) != 0)
      fprintf(stderr, "spotd: device %s: cannot record its put %llu as forwarded (%s): a resend after a restart "
              "would put it again\n", s->name, (unsigned long long)req.id, spot_errdetail());
  } else
    fprintf(stderr, "spotd: device %s: its put to %s failed: %s\n", s->name, url, detail);
  spot__mutex_lock(&s->mu);
  if (rc == 0) {
    s->up_node = req.cause_node;
    s->up_id = req.id;
    s->up_seq = seq;
    s->up_crc = crc;
    s->stats.up_forwarded++;
  } else
    s->stats.up_failed++;
  rep.id = req.id;
  rep.status = rc;
  rep.seq = seq;
  if (rc != 0)
    spot__wire_set_detail(&rep, detail[0] ? detail : spot_strerror(rc));
  answer_up_locked(s, &rep);
  s->up_busy = 0;
  spot__mutex_unlock(&s->mu);
}

static void *worker_main(void *arg) {
  spot__serial_t *s = arg;
  uint64_t next_drain = spot__now_ns() + DRAIN_EVERY_MS * MS;
  while (!atomic_load(&s->stop)) {
    uint32_t w = __atomic_load_n(&s->up_news, __ATOMIC_ACQUIRE);
    spot__mutex_lock(&s->mu);
    int have = s->up_have;
    spot__mutex_unlock(&s->mu);
    if (have) {
      forward_up(s);
      continue;
    }
    uint64_t now = spot__now_ns();
    if (now >= next_drain) {
      spot__mutex_lock(&s->call);
      if (s->delivered < outbox_latest(s)) {
        uint64_t before = s->delivered;
        drain(s, spot__now_ns() + (uint64_t)s->timeout_ms * MS);
        if (s->delivered > before)
          fprintf(stderr, "spotd: delivered %llu queued put(s) to device %s\n",
                  (unsigned long long)(s->delivered - before), s->name);
      }
      spot__mutex_unlock(&s->call);
      next_drain = spot__now_ns() + DRAIN_EVERY_MS * MS;
      continue;
    }
    spot__futex_wait(&s->up_news, w, next_drain - now < 50 * MS ? next_drain - now : 50 * MS);
  }
  return NULL;
}

/* ---- calls ---- */

int spot__serial_call(spot__serial_t *s, const spot__msg_t *req, spot__msg_t *rep) {
  uint8_t msg[SPOT__SERIAL_PAYLOAD];
  size_t n, len = 0;
  spot__mutex_lock(&s->call);
  uint64_t id = ++s->next_id;
  spot__mutex_lock(&s->mu);
  s->stats.requests++;
  spot__mutex_unlock(&s->mu);
  uint64_t deadline = spot__now_ns() + (uint64_t)s->timeout_ms * MS;
  int rc = encode(req, id, msg, sizeof msg, &n);
  if (rc == 0 && req->type == SPOT__WIRE_PUT) {
    /* puts keep their order: behind what the outbox holds */
    rc = drain(s, deadline);
    if (rc == SPOT_ETIMEDOUT || rc == SPOT_ECLOSED) {
      rc = queue_put(s, msg, n, id, SPOT_ETIMEDOUT);
      goto done;
    }
    if (rc == 0) {
      rc = exchange(s, msg, n, id, deadline, s->reply, &len);
      if (rc == SPOT_ETIMEDOUT || rc == SPOT_ECLOSED)
        rc = queue_put(s, msg, n, id, SPOT_ETIMEDOUT);
    }
  } else if (rc == 0)
    rc = exchange(s, msg, n, id, deadline, s->reply, &len);
  if (rc == 0)
    rc = decode_reply(s, s->reply, len, rep);
done:
  spot__mutex_unlock(&s->call);
  return rc;
}

/* ---- life ---- */

static int open_log(spot_ns_t *ns, const char *name, const spot_log_config_t *cfg, spot_log_t **out) {
  int rc = spot_ns_create_log(ns, name, cfg);
  if (rc != 0 && rc != SPOT_EEXIST)
    return rc;
  return spot_ns_open_log(ns, name, 0, out, NULL);
}

static int open_logs(spot__serial_t *s, spot_ns_t *ns) {
  char box[SPOT_NAME_MAX + 1], sent[SPOT_NAME_MAX + 1], up[SPOT_NAME_MAX + 1];
  if ((size_t)snprintf(box, sizeof box, "%s-outbox", s->name) >= sizeof box ||
      (size_t)snprintf(sent, sizeof sent, "%s-outbox-sent", s->name) >= sizeof sent ||
      (size_t)snprintf(up, sizeof up, "%s-uplink", s->name) >= sizeof up)
    return spot__fail(SPOT_EBADNAME, "device name %s is too long for its outbox logs (at most %d characters)",
                      s->name, SPOT_NAME_MAX - 12);
  spot_log_config_t cb = {.elem_size = OUTBOX_ELEM, .history = OUTBOX_HISTORY, .sync = SPOT_SYNC_ALWAYS};
  spot_log_config_t cs = {.elem_size = 16, .history = 1024, .sync = SPOT_SYNC_ALWAYS};
  spot_log_config_t cu = {.elem_size = sizeof(uplink_rec_t), .history = 1024, .sync = SPOT_SYNC_ALWAYS};
  int rc;
  if ((rc = open_log(ns, box, &cb, &s->outbox)) != 0 || (rc = open_log(ns, sent, &cs, &s->sent)) != 0 ||
      (rc = open_log(ns, up, &cu, &s->uplink)) != 0)
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
  last = 0;
  spot_log_latest(s->uplink, &last);
  if (last) { /* the memory of the last put forwarded for the device survives the edge's restart */
    uplink_rec_t r;
    if ((rc = spot_log_read(s->uplink, last, &r, sizeof r)) != 0)
      return rc;
    s->up_node = r.node, s->up_id = r.id, s->up_seq = r.seq, s->up_crc = r.crc;
  }
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
  spot__mutex_init(&s->call);
  const char *t = getenv("SPOT_SERIAL_TIMEOUT_MS");
  s->timeout_ms = t && atoi(t) > 0 ? (uint32_t)atoi(t) : DEFAULT_TIMEOUT_MS;
  snprintf(s->open_err, sizeof s->open_err, "not opened yet");
  uint64_t r;
  spot__random(&r, sizeof r);
  s->next_id = (r & 0x7fffffff00000000ull); /* distinct from a previous run's ids, as the device remembers one */
  if ((rc = open_logs(s, ns)) != 0)
    goto fail;
  if ((rc = spot__thread_start(&s->reader, reader_main, s)) != 0)
    goto fail;
  s->threads = 1;
  if ((rc = spot__thread_start(&s->worker, worker_main, s)) != 0)
    goto fail;
  s->threads = 2;
  *out = s;
  return 0;
fail:
  spot__serial_close(s);
  return rc;
}

void spot__serial_close(spot__serial_t *s) {
  if (s == NULL)
    return;
  atomic_store(&s->stop, 1);
  bump(&s->up_news);
  if (s->threads >= 1)
    spot__thread_join(&s->reader);
  if (s->threads >= 2)
    spot__thread_join(&s->worker);
  if (s->fd >= 0)
    spot__stream_close(s->fd);
  if (s->outbox)
    spot_log_close(s->outbox);
  if (s->sent)
    spot_log_close(s->sent);
  if (s->uplink)
    spot_log_close(s->uplink);
  spot__mutex_destroy(&s->call);
  spot__mutex_destroy(&s->mu);
  free(s);
}
