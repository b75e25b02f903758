/*
 * apps/vquery/device.c: `spot vquery device`, one device of the media-query application as a spot node.
 *
 * The process runs a node on its own namespace (threads) with three handlers compiled in: vq_forward puts each
 * query of `queries` to the aggregator's inbox, vq_tally puts each meter record's query count (the interval's
 * tally) to the aggregator's `tallies`, vq_answer turns each answer the cloud puts to `answers` into a latency
 * record. It serves the namespace (--listen, --key) so that the cloud can put answers. Before the run it calibrates
 * its energy rates (eps_a per query bit, eps_i per idle bit-equivalent) from repeated active frames and idle units;
 * then, for K intervals of T starting at T0, it makes the interval's queries from camera frames (controlled mode: a
 * volume drawn from a law; real mode: one query per frame with motion), does idle work for (rho - r)+
 * bit-equivalents, meters both parts and writes a vq_device_rec_t to `meter` (its tally goes to the aggregator
 * from there). Each query carries its interval number, by which the cloud bills it. At the end it waits (up to a
 * grace) for the answers, stops the node and exits 0; SIGTERM ends it early, after the put in progress.
 *
 * Idle work is counted in units: one unit (capture a frame, detect motion against the previous one) stands for
 * --idle-unit-bits bit-equivalents; the last fraction f of a unit spends f of a unit's calibrated CPU time (a capture
 * if the budget covers it, then motion detection passes, the last over the matching share of the frame's rows), so
 * the meter charges what the model charges: eps_i per idle bit-equivalent.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spot/handler.h>
#include <spot/net.h>
#include <spot/node.h>

#include "commands.h"
#include "device.h"
#include "tiers.h"
#include "vquery.h"

/* ---- the handlers (this process's node) ---- */

static char inbox_url[VQ_URL_MAX];  /* the aggregator's inbox, set before the node starts */
static char tally_url[VQ_URL_MAX];  /* the aggregator's tallies, beside the inbox */
static volatile int stopping;       /* SIGTERM, or the device ending: handlers give up their retries */

/* Puts data to url (another node) for element seq of this node, retrying a node that does not answer (down,
 * restarting, its log full: SPOT_ETIMEDOUT, SPOT_EBUSY) with back-off (50 ms doubling to 2 s) for as long as the
 * device runs; what says whose element it is in the messages. 0, or the error that ended it (another error, or the
 * device stopping). A put that timed out may still have arrived: the receiver can get the element twice. */
#define FORWARD_BACKOFF_MAX_MS 2000
static int put_retrying(spot_ctx_t *ctx, const char *url, const void *data, size_t len, const char *what,
                        uint64_t seq) {
  int64_t backoff_ms = 50;
  int rc;
  for (int attempt = 1;; attempt++) {
    rc = spot_ctx_put(ctx, url, data, len, NULL, NULL);
    if (rc == 0 || (rc != SPOT_ETIMEDOUT && rc != SPOT_EBUSY) || stopping)
      break;
    if (attempt == 3)
      spot_print(ctx, "%s %llu: %s did not take it after 3 attempts (%s); retrying until it does", what,
                 (unsigned long long)seq, url, spot_strerror(rc));
    vq_sleep_until(vq_now_ns() + backoff_ms * 1000000, &stopping);
    backoff_ms = backoff_ms * 2 > FORWARD_BACKOFF_MAX_MS ? FORWARD_BACKOFF_MAX_MS : backoff_ms * 2;
  }
  if (rc != 0)
    spot_print(ctx, "%s %llu not forwarded to %s: %s %s", what, (unsigned long long)seq, url, spot_strerror(rc),
               spot_errdetail());
  return rc;
}

/* Forwards a query to the aggregator. The query is durable in `queries` once put, and the device waits for its
 * answer, so an aggregator that does not answer is retried for as long as the device runs (put_retrying), not given
 * up after a few timeouts; only another error, or the device stopping, ends the handler with a failure (the query
 * then counts as unanswered). The aggregator may get a query twice; it uploads it once. */
static int vq_forward(spot_ctx_t *ctx, const spot_event_t *ev) {
  return put_retrying(ctx, inbox_url, ev->data, ev->size, "query", ev->seq) != 0;
}
SPOT_HANDLER(vq_forward)

/* Tells the aggregator how many queries the device made in a metered interval (a vq_tally_rec_t from the meter
 * record), retried as vq_forward is: the aggregator sends the interval's batch once every device's tally and
 * queries are in. */
static int vq_tally(spot_ctx_t *ctx, const spot_event_t *ev) {
  vq_device_rec_t m;
  if (ev->size < sizeof m)
    return 1;
  memcpy(&m, ev->data, sizeof m);
  vq_tally_rec_t t = {.version = VQ_REC_VERSION, .device = m.device, .interval = m.interval, .queries = m.queries};
  return put_retrying(ctx, tally_url, &t, sizeof t, "the tally of meter record", ev->seq) != 0;
}
SPOT_HANDLER(vq_tally)

static int vq_answer(spot_ctx_t *ctx, const spot_event_t *ev) {
  vq_answer_rec_t a;
  if (ev->size < sizeof a)
    return 1;
  memcpy(&a, ev->data, sizeof a);
  if (a.version != VQ_REC_VERSION)
    return 1;
  vq_latency_rec_t l;
  memset(&l, 0, sizeof l);
  l.version = VQ_REC_VERSION;
  l.device = a.device;
  l.interval = a.interval;
  l.qid = a.qid;
  l.put_ns = a.put_ns;
  l.received_ns = vq_now_ns();
  l.truth = a.truth;
  l.match = a.match;
  l.score = a.score;
  return spot_ctx_put(ctx, VQ_LOG_LATENCY, &l, sizeof l, NULL, NULL) != 0;
}
SPOT_HANDLER(vq_answer)

/* ---- the device ---- */

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

typedef struct device {
  /* options */
  const char *ns_dir, *listen, *advertise, *key, *aggregator, *aggregator_key, *library, *images, *camera, *dist,
      *sampler, *start_file;
  int64_t index, interval_ms, start_ns, intervals, seed, calibrate, grace_ms, fps;
  double mu, alpha, rho, watts, unit_bits;
  int rapl, quiet;
  /* state */
  vq_library_t *lib;
  vq_camera_t *cam;
  vq_image_t buf[2];
  int cur, frames_seen;
  vq_volume_t vol;
  vq_meter_t meter;
  vq_calib_rec_t calib;
  spot_ns_t *ns;
  char reply[VQ_URL_MAX];
  uint64_t next_qid, first_qid;
} device_t;

/* Captures a frame into the device's own buffer (the previous one is kept for motion detection). */
static int capture(device_t *d, int32_t *truth) {
  const vq_image_t *f;
  int rc = vq_camera_next(d->cam, &f, truth);
  if (rc != 0)
    return vq_tiers_spot_fail(rc, "camera");
  int next = d->cur ^ 1;
  vq_image_t *b = &d->buf[next];
  if (b->px == NULL || b->w != f->w || b->h != f->h) {
    float *px = realloc(b->px, (size_t)f->w * (size_t)f->h * sizeof *px);
    if (px == NULL)
      return vq_tiers_fail(SPOT_ENOMEM, "no memory for a %dx%d frame", f->w, f->h);
    b->px = px;
    b->w = f->w;
    b->h = f->h;
  }
  memcpy(b->px, f->px, (size_t)f->w * (size_t)f->h * sizeof *b->px);
  d->cur = next;
  d->frames_seen++;
  return 0;
}

/* Motion detection between the last two frames over the first share (0..1] of their rows: *moved. */
static void motion(device_t *d, double share, int *moved) {
  const vq_image_t *cur = &d->buf[d->cur], *prev = &d->buf[d->cur ^ 1];
  *moved = 0;
  if (d->frames_seen < 2 || prev->w != cur->w || prev->h != cur->h)
    return;
  int rows = (int)lround(share * cur->h);
  if (rows < 1)
    return;
  if (rows > cur->h)
    rows = cur->h;
  vq_image_t a = {prev->w, rows, prev->px}, b = {cur->w, rows, cur->px};
  *moved = vq_motion(&a, &b, NULL) == 1;
}

/* One query from the camera: capture, motion, describe (a frame without features is skipped), the record. */
static int make_query(device_t *d, vq_query_rec_t *q, uint32_t *frames, uint32_t *moving) {
  for (int tries = 0; tries < 64; tries++) {
    int32_t truth;
    int rc = capture(d, &truth), moved;
    if (rc != 0)
      return rc;
    motion(d, 1.0, &moved);
    *frames += 1;
    *moving += (uint32_t)moved;
    rc = vq_describe(vq_library_model(d->lib), &d->buf[d->cur], q->vlad);
    if (rc == SPOT_EEMPTY)
      continue;
    if (rc != 0)
      return vq_tiers_spot_fail(rc, "describing a frame");
    q->version = VQ_REC_VERSION;
    q->device = (uint32_t)d->index;
    q->truth = truth;
    q->reserved = 0;
    memcpy(q->reply, d->reply, sizeof q->reply);
    return 0;
  }
  return vq_tiers_fail(SPOT_EEMPTY, "64 frames in a row had no SIFT feature: the camera shows nothing to ask about");
}

/* Puts a query made in interval k to `queries` (vq_forward sends it on). */
static int put_query(device_t *d, vq_query_rec_t *q, uint64_t k) {
  q->interval = k;
  q->qid = d->next_qid;
  q->put_ns = vq_now_ns();
  uint64_t seq;
  int rc = spot_put(d->ns, VQ_LOG_QUERIES, q, sizeof *q, VQ_H_FORWARD, NULL, &seq);
  if (rc != 0)
    return vq_tiers_spot_fail(rc, "putting a query");
  if (seq != q->qid && !d->quiet)
    fprintf(stderr, "spot vquery device %lld: query put as %llu, numbered %llu (another writer on `queries`?)\n",
            (long long)d->index, (unsigned long long)seq, (unsigned long long)q->qid);
  d->next_qid = seq + 1;
  return 0;
}

/* Idle work for bits bit-equivalents (see the top of the file). */
static int idle_work(device_t *d, double bits, uint32_t *frames, uint32_t *moving) {
  uint64_t whole;
  double frac;
  vq_idle_split(bits, d->unit_bits, &whole, &frac);
  int32_t truth;
  int moved, rc = 0;
  for (uint64_t u = 0; u < whole && rc == 0 && !stopping; u++) {
    if ((rc = capture(d, &truth)) == 0) {
      motion(d, 1.0, &moved);
      *frames += 1;
      *moving += (uint32_t)moved;
    }
  }
  if (rc != 0 || frac <= 0 || stopping)
    return rc;
  double cap = d->calib.capture_cpu_s, mot = d->calib.motion_cpu_s, budget = frac * (cap + mot);
  if (mot <= 0)
    return 0;
  if (budget >= cap) {
    if ((rc = capture(d, &truth)) != 0)
      return rc;
    *frames += 1;
    budget -= cap;
  }
  for (; budget >= mot; budget -= mot) /* a capture costlier than the budget: motion passes spend it instead */
    motion(d, 1.0, &moved);
  motion(d, budget / mot, &moved);
  return 0;
}

static int put_local(device_t *d, const char *log, const void *rec, size_t len) {
  int rc = spot_put(d->ns, log, rec, len, NULL, NULL, NULL);
  return rc ? vq_tiers_spot_fail(rc, log) : 0;
}

/* Calibration: N active units and, after each, CALIB_IDLE_PER_ACTIVE idle units, on the thread CPU clock. An
 * active unit is what a query of the run is, put included: capture, motion, SIFT, VLAD, and the put of the record
 * into a log of the same kind as `queries` (VQ_LOG_REHEARSAL, no handler: nothing is sent). The rates are the means
 * over the units (the model's eps_a and eps_i are mean rates; a median would miss the costly frames), and the
 * record keeps the spread of one unit, which says how much a short run's mean may stray from them.
 * In controlled mode units are also metered inside the run's bursts of work: one unit after every CALIB_EVERY
 * queries of the run (a running count across intervals, so units are spread over the intervals as the queries
 * are), while three units' worth of time is left before the aggregator's deadline at half the interval. A query of
 * the run costs more CPU time than the same query alone: it runs while the other devices make theirs and while the
 * node forwards the previous one (another process on the same cores: caches, memory bandwidth).
 * Units metered before the run, or in its rests, did not see that and fed the model rates 1-11% low; a unit in the
 * burst sees what the query beside it sees. At the end a second calibration record holds the units of the run's
 * bursts (those before the run too when the bursts gave fewer than CALIB_RUN_MIN); the report uses the last record.
 * The run's own queries never enter it: the model is fed rates from separate units. */
#define CALIB_IDLE_PER_ACTIVE 8
#define CALIB_WARMUP 3
#define CALIB_EVERY 3    /* queries of the run per unit metered in the burst */
#define CALIB_RUN_MIN 10 /* units in the bursts enough for the final record on their own */

typedef struct calib_acc {
  double act_j, idle_j, cap_s, mot_s, act_s, act_s2, idle_s, idle_s2;
  uint32_t na, ni;
} calib_acc_t;

/* n active units, each followed by CALIB_IDLE_PER_ACTIVE idle units, metered into acc. */
static int calib_units(device_t *d, int64_t n, calib_acc_t *acc) {
  int rc = 0, moved;
  int32_t truth;
  uint32_t frames = 0, moving = 0;
  vq_query_rec_t q;
  for (int64_t i = 0; rc == 0 && i < n && !stopping; i++) {
    vq_mark_t a, b, e;
    vq_meter_mark(&d->meter, &a);
    if ((rc = make_query(d, &q, &frames, &moving)) == 0) {
      q.interval = UINT64_MAX, q.qid = 0, q.put_ns = vq_now_ns();
      rc = put_local(d, VQ_LOG_REHEARSAL, &q, sizeof q);
    }
    vq_meter_mark(&d->meter, &b);
    double s = vq_meter_cpu(&a, &b);
    acc->act_s += s, acc->act_s2 += s * s;
    acc->act_j += vq_meter_energy(&d->meter, &a, &b);
    acc->na++;
    for (int u = 0; rc == 0 && u < CALIB_IDLE_PER_ACTIVE; u++) {
      vq_meter_mark(&d->meter, &a);
      rc = capture(d, &truth);
      vq_meter_mark(&d->meter, &b);
      motion(d, 1.0, &moved);
      vq_meter_mark(&d->meter, &e);
      acc->cap_s += vq_meter_cpu(&a, &b);
      acc->mot_s += vq_meter_cpu(&b, &e);
      s = vq_meter_cpu(&a, &e);
      acc->idle_s += s, acc->idle_s2 += s * s;
      acc->idle_j += vq_meter_energy(&d->meter, &a, &e);
      acc->ni++;
    }
  }
  return rc;
}

/* The calibration record of acc's units into *c (version, device, watts, unit size and rapl already set). */
static int calib_finish(device_t *d, const calib_acc_t *acc, vq_calib_rec_t *c) {
  if (acc->na == 0 || acc->ni == 0)
    return vq_tiers_fail(SPOT_EINVAL, "calibration needs at least one frame (--calibrate N, N >= 1)");
  double na = acc->na, ni = acc->ni;
  c->active_frames = acc->na;
  c->idle_units = acc->ni;
  c->active_cpu_s = acc->act_s / na;
  c->active_cpu_sd_s = sqrt(fmax(acc->act_s2 / na - c->active_cpu_s * c->active_cpu_s, 0));
  c->capture_cpu_s = acc->cap_s / ni;
  c->motion_cpu_s = acc->mot_s / ni;
  c->idle_cpu_s = c->capture_cpu_s + c->motion_cpu_s;
  c->idle_cpu_sd_s = sqrt(fmax(acc->idle_s2 / ni - (acc->idle_s / ni) * (acc->idle_s / ni), 0));
  c->eps_a = acc->act_j / na / VQ_QUERY_BITS;
  c->eps_i = acc->idle_j / ni / d->unit_bits;
  return 0;
}

static calib_acc_t calib_pool;  /* every calibration unit of this process, before the run and in its bursts */
static calib_acc_t calib_burst; /* the units metered in the run's bursts */
static uint32_t calib_credit;   /* queries of the run since the last unit in a burst */

static int calibrate(device_t *d) {
  vq_calib_rec_t c;
  memset(&c, 0, sizeof c);
  c.version = VQ_REC_VERSION;
  c.device = (uint32_t)d->index;
  c.watts = d->watts;
  c.idle_unit_bits = d->unit_bits;
  c.rapl = (uint32_t)d->meter.rapl;
  uint32_t frames = 0, moving = 0;
  int32_t truth;
  int rc = capture(d, &truth), moved; /* a previous frame for motion detection */
  vq_query_rec_t q;
  /* warm-up, not measured: the first queries pay one-time costs (first touches of the model and of the
   * descriptor's buffers, lazy library set-up, the scratch log's first pages) that no query of the run pays again */
  for (int i = 0; rc == 0 && i < CALIB_WARMUP && !stopping; i++) {
    if ((rc = make_query(d, &q, &frames, &moving)) == 0)
      rc = put_local(d, VQ_LOG_REHEARSAL, &q, sizeof q);
    for (int u = 0; rc == 0 && u < CALIB_IDLE_PER_ACTIVE; u++)
      if ((rc = capture(d, &truth)) == 0)
        motion(d, 1.0, &moved);
  }
  /* active frames and idle units interleaved, so that both see the same machine and the same stretch of the
   * camera's film */
  if (rc == 0)
    rc = calib_units(d, d->calibrate, &calib_pool);
  if (rc != 0 || (rc = calib_finish(d, &calib_pool, &c)) != 0)
    return rc;
  d->calib = c;
  return put_local(d, VQ_LOG_CALIB, &c, sizeof c);
}

/* Adds the sums of b to a. */
static void calib_add(calib_acc_t *a, const calib_acc_t *b) {
  a->act_j += b->act_j, a->idle_j += b->idle_j, a->cap_s += b->cap_s, a->mot_s += b->mot_s;
  a->act_s += b->act_s, a->act_s2 += b->act_s2, a->idle_s += b->idle_s, a->idle_s2 += b->idle_s2;
  a->na += b->na, a->ni += b->ni;
}

/* After each query of the run: every CALIB_EVERY queries, one unit metered in the burst, into both pools, unless
 * fewer than three units' worth of time are left before cut_ns (the aggregator's deadline for this interval):
 * calibration must not make the run's queries late. A unit skipped so stays owed to the next query. */
static int calib_in_burst(device_t *d, int64_t cut_ns) {
  if (++calib_credit < CALIB_EVERY)
    return 0;
  double unit_s = d->calib.active_cpu_s + CALIB_IDLE_PER_ACTIVE * d->calib.idle_cpu_s;
  if ((double)(cut_ns - vq_now_ns()) < 3 * unit_s * 1e9)
    return 0;
  calib_credit = 0;
  calib_acc_t one;
  memset(&one, 0, sizeof one);
  int rc = calib_units(d, 1, &one);
  if (rc == 0) {
    calib_add(&calib_burst, &one);
    calib_add(&calib_pool, &one);
  }
  return rc;
}

/* The final calibration record: the units of the run's bursts, or all units when the bursts gave too few. */
static int calib_final(device_t *d) {
  if (calib_burst.na == 0)
    return 0; /* no unit in the run: the first record stands */
  vq_calib_rec_t c = d->calib;
  int rc = calib_finish(d, calib_burst.na >= CALIB_RUN_MIN ? &calib_burst : &calib_pool, &c);
  return rc ? rc : put_local(d, VQ_LOG_CALIB, &c, sizeof c);
}

/* One interval's work: its queries and its idle work; fills r's measured fields. */
static int interval_work(device_t *d, uint64_t k, int64_t start_ns, vq_device_rec_t *r) {
  vq_mark_t a, b;
  double act_j = 0, idle_j = 0;
  vq_query_rec_t q;
  int rc = 0;
  if (d->dist) { /* controlled: the volume is drawn in advance */
    r->drawn_bits = vq_volume_draw(&d->vol);
    uint32_t n = vq_volume_queries(r->drawn_bits);
    for (uint32_t i = 0; i < n && rc == 0 && !stopping; i++) {
      vq_meter_mark(&d->meter, &a);
      if ((rc = make_query(d, &q, &r->frames, &r->motion_frames)) == 0 && (rc = put_query(d, &q, k)) == 0)
        r->queries++;
      vq_meter_mark(&d->meter, &b);
      double j = vq_meter_energy(&d->meter, &a, &b);
      r->active_cpu_s += vq_meter_cpu(&a, &b);
      act_j += j;
      /* the share of this query's bits [i b, (i+1) b) above rho: its energy counts in V+'s deviation */
      double above = ((double)(i + 1) * VQ_QUERY_BITS - d->rho) / VQ_QUERY_BITS;
      r->over_j += j * fmin(fmax(above, 0), 1);
      if (rc == 0)
        rc = calib_in_burst(d, d->start_ns + (int64_t)k * d->interval_ms * 1000000 + d->interval_ms * 500000);
    }
  } else { /* real: frames at --fps through the interval, a query per frame with motion */
    int64_t n = d->interval_ms * d->fps / 1000, period = 1000000000 / d->fps;
    for (int64_t j = 0; j < (n > 0 ? n : 1) && rc == 0 && !stopping; j++) {
      vq_sleep_until(start_ns + j * period, &stopping);
      int32_t truth;
      int moved = 0;
      vq_meter_mark(&d->meter, &a);
      if ((rc = capture(d, &truth)) == 0) {
        motion(d, 1.0, &moved);
        r->frames++;
      }
      if (rc == 0 && moved) {
        r->motion_frames++;
        rc = vq_describe(vq_library_model(d->lib), &d->buf[d->cur], q.vlad);
        if (rc == SPOT_EEMPTY) {
          rc = 0;
          moved = 0; /* nothing to ask: a watching frame */
        } else if (rc != 0) {
          rc = vq_tiers_spot_fail(rc, "describing a frame");
        } else {
          q.version = VQ_REC_VERSION;
          q.device = (uint32_t)d->index;
          q.truth = truth;
          q.reserved = 0;
          memcpy(q.reply, d->reply, sizeof q.reply);
          if ((rc = put_query(d, &q, k)) == 0)
            r->queries++;
        }
      }
      vq_meter_mark(&d->meter, &b);
      if (moved) {
        double fj = vq_meter_energy(&d->meter, &a, &b);
        r->active_cpu_s += vq_meter_cpu(&a, &b);
        act_j += fj;
        double above = ((double)r->queries * VQ_QUERY_BITS - d->rho) / VQ_QUERY_BITS; /* as in controlled mode */
        r->over_j += fj * fmin(fmax(above, 0), 1);
      } else {
        r->watch_cpu_s += vq_meter_cpu(&a, &b);
      }
    }
    r->drawn_bits = (double)r->queries * VQ_QUERY_BITS;
  }
  if (rc != 0)
    return rc;
  r->active_bits = (double)r->queries * VQ_QUERY_BITS;
  double idle = d->rho - r->active_bits;
  r->idle_bits = idle > 0 ? idle : 0;
  vq_meter_mark(&d->meter, &a);
  rc = idle_work(d, r->idle_bits, &r->frames, &r->motion_frames);
  vq_meter_mark(&d->meter, &b);
  r->idle_cpu_s = vq_meter_cpu(&a, &b);
  idle_j = vq_meter_energy(&d->meter, &a, &b);
  r->energy_j = act_j + idle_j;
  r->idle_j = idle_j;
  return rc;
}

static int run_intervals(device_t *d) {
  int64_t t = vq_now_ns(), T = d->interval_ms * 1000000; /* t: when the previous interval's work ended */
  for (int64_t k = 0; k < d->intervals && !stopping; k++) {
    int64_t nominal = d->start_ns + k * T;
    if (t < nominal) {
      vq_sleep_until(nominal, &stopping);
      t = nominal;
    }
    if (stopping)
      break;
    vq_device_rec_t r;
    memset(&r, 0, sizeof r);
    r.version = VQ_REC_VERSION;
    r.device = (uint32_t)d->index;
    r.interval = (uint64_t)k;
    r.start_ns = vq_now_ns();
    int rc = interval_work(d, (uint64_t)k, t, &r);
    if (rc != 0)
      return rc;
    if (stopping)
      break; /* an interval cut short by SIGTERM is not metered */
    r.end_ns = vq_now_ns();
    r.overrun = r.end_ns > nominal + T;
    if ((rc = spot_put(d->ns, VQ_LOG_METER, &r, sizeof r, VQ_H_TALLY, NULL, NULL)) != 0) /* vq_tally tells the
                                                                                          * aggregator */
      return vq_tiers_spot_fail(rc, VQ_LOG_METER);
    t = r.end_ns; /* late: the next interval starts at once */
  }
  return stopping ? 0 : calib_final(d);
}

/* Waits up to the grace for the answers to this run's queries; *answered gets how many came. */
static int wait_answers(device_t *d, uint64_t *answered) {
  uint64_t n = d->next_qid - d->first_qid, got = 0;
  *answered = 0;
  if (n == 0)
    return 0;
  unsigned char *seen = calloc(n, 1);
  if (seen == NULL)
    return vq_tiers_fail(SPOT_ENOMEM, "no memory to follow %llu answers", (unsigned long long)n);
  spot_log_t *lat;
  int rc = spot_ns_open_log(d->ns, VQ_LOG_LATENCY, 0, &lat, NULL);
  if (rc != 0) {
    free(seen);
    return vq_tiers_spot_fail(rc, VQ_LOG_LATENCY);
  }
  uint64_t from = 1, latest = 0;
  spot_log_earliest(lat, &from);
  if (from == 0)
    from = 1;
  int64_t deadline = vq_now_ns() + d->grace_ms * 1000000;
  while (got < n && !stopping) {
    spot_log_latest(lat, &latest);
    for (; from <= latest; from++) {
      vq_latency_rec_t l;
      if (spot_log_read(lat, from, &l, sizeof l) == 0 && l.qid >= d->first_qid && l.qid < d->next_qid &&
          !seen[l.qid - d->first_qid]) {
        seen[l.qid - d->first_qid] = 1;
        got++;
      }
    }
    if (got == n || vq_now_ns() >= deadline)
      break;
    spot_log_wait_newer(lat, latest, 50000000);
  }
  spot_log_close(lat);
  free(seen);
  *answered = got;
  return 0;
}

/* --start-file: once calibrated, waits for the file to hold T0 (decimal CLOCK_REALTIME ns), which replaces
 * --start-ns; a driver so starts the run when every device is ready, however long their start took. */
static int wait_start_file(device_t *d) {
  while (!stopping) {
    FILE *f = fopen(d->start_file, "r");
    if (f) {
      char line[64] = "";
      int got = fgets(line, sizeof line, f) != NULL;
      fclose(f);
      line[strcspn(line, "\r\n")] = '\0';
      if (got && line[0]) /* an empty file is still being written */
        return vq_parse_i64("--start-file's T0", line, 0, (int64_t)4e18, &d->start_ns);
    }
    vq_sleep_until(vq_now_ns() + 20000000, &stopping);
  }
  return 0;
}

static const char usage_text[] =
    "usage: spot vquery device --ns DIR --listen HOST:PORT [--advertise HOST:PORT] --key FILE --index I\n"
    "         --aggregator spot://H:P/NS/inbox [--aggregator-key FILE.pub] --library FILE.vql --images DIR\n"
    "         [--camera synthetic|DIR] --interval-ms T --start-ns T0 | --start-file FILE --intervals K\n"
    "         [--dist uniform|exponential|pareto --mu BITS [--alpha A] [--sampler inverse|reject]] [--fps F]\n"
    "         [--rho BITS] [--watts W] [--rapl] [--seed S] [--calibrate N] [--idle-unit-bits B] [--grace-ms MS]\n"
    "         [--quiet]\n"
    "  one device as a spot node: calibrates eps_a and eps_i, then runs K intervals of T ms from T0 (CLOCK_REALTIME\n"
    "  ns): queries from camera frames (controlled: ceil(r/8192) for r drawn from the law; without --dist: one per\n"
    "  frame with motion at --fps), idle work for (rho - r)+ bit-equivalents, one meter record per interval.\n"
    "  --start-file FILE: after calibrating (its calibration record says it is ready) it waits for FILE to hold T0\n";

static int fail(const char *what) {
  fprintf(stderr, "spot vquery device: %s: %s\n", what, vq_tiers_detail());
  return 1;
}

int vq_cmd_device(int argc, char **argv) {
  device_t d;
  memset(&d, 0, sizeof d);
  d.camera = "synthetic";
  d.interval_ms = 1000;
  d.intervals = 10;
  d.watts = 2.0;
  d.calibrate = 20;
  d.grace_ms = 3000;
  d.fps = 5;
  d.unit_bits = 1024;
  d.seed = 1;
  d.alpha = 3;
  const vq_opt_t opts[] = {
      {"--ns", VQ_OPT_STR, &d.ns_dir, 0, 0},
      {"--listen", VQ_OPT_STR, &d.listen, 0, 0},
      {"--advertise", VQ_OPT_STR, &d.advertise, 0, 0},
      {"--key", VQ_OPT_STR, &d.key, 0, 0},
      {"--index", VQ_OPT_I64, &d.index, 0, 1e9},
      {"--aggregator", VQ_OPT_STR, &d.aggregator, 0, 0},
      {"--aggregator-key", VQ_OPT_STR, &d.aggregator_key, 0, 0},
      {"--library", VQ_OPT_STR, &d.library, 0, 0},
      {"--images", VQ_OPT_STR, &d.images, 0, 0},
      {"--camera", VQ_OPT_STR, &d.camera, 0, 0},
      {"--interval-ms", VQ_OPT_I64, &d.interval_ms, 1, 1e9},
      {"--start-ns", VQ_OPT_I64, &d.start_ns, 0, 4e18},
      {"--start-file", VQ_OPT_STR, &d.start_file, 0, 0},
      {"--intervals", VQ_OPT_I64, &d.intervals, 0, 1e9},
      {"--dist", VQ_OPT_STR, &d.dist, 0, 0},
      {"--mu", VQ_OPT_DBL, &d.mu, 0, 1e15},
      {"--alpha", VQ_OPT_DBL, &d.alpha, 0, 1e9},
      {"--sampler", VQ_OPT_STR, &d.sampler, 0, 0},
      {"--fps", VQ_OPT_I64, &d.fps, 1, 1000},
      {"--rho", VQ_OPT_DBL, &d.rho, 0, 1e15},
      {"--watts", VQ_OPT_DBL, &d.watts, 1e-6, 1e6},
      {"--rapl", VQ_OPT_FLAG, &d.rapl, 0, 0},
      {"--seed", VQ_OPT_I64, &d.seed, 0, 4e18},
      {"--calibrate", VQ_OPT_I64, &d.calibrate, 1, 1e6},
      {"--idle-unit-bits", VQ_OPT_DBL, &d.unit_bits, 1, 1e12},
      {"--grace-ms", VQ_OPT_I64, &d.grace_ms, 0, 1e9},
      {"--quiet", VQ_OPT_FLAG, &d.quiet, 0, 0},
  };
  int prc = vq_opts_parse("device", opts, sizeof opts / sizeof opts[0], argc, argv);
  if (prc == 1)
    return fputs(usage_text, stdout), 0;
  if (prc != 0)
    return 2;
  if (!d.ns_dir || !d.listen || !d.aggregator || !d.library || (!d.images && strcmp(d.camera, "synthetic") == 0))
    return fputs(usage_text, stderr), 2;
  if (d.key == NULL)
    d.key = getenv("SPOT_KEY");
  if (d.key == NULL || d.key[0] == '\0')
    return fprintf(stderr, "spot vquery device: --key FILE (the device's key pair, from `spot keygen`) is needed "
                           "to serve its namespace\n"),
           2;
  if (d.start_ns == 0)
    d.start_ns = vq_now_ns();

  spot_url_t agg;
  if (spot_url_parse(d.aggregator, &agg) != 0 || agg.log[0] == '\0' ||
      strlen(d.aggregator) + sizeof VQ_LOG_TALLIES >= sizeof inbox_url)
    return fprintf(stderr, "spot vquery device: --aggregator wants spot://HOST:PORT/NAMESPACE/inbox, not '%s'\n",
                   d.aggregator),
           2;
  snprintf(inbox_url, sizeof inbox_url, "%s", d.aggregator);
  snprintf(tally_url, sizeof tally_url, "%.*s%s", (int)(strrchr(d.aggregator, '/') - d.aggregator + 1), d.aggregator,
           VQ_LOG_TALLIES);  char nsname[128];
  if (vq_ns_name(d.ns_dir, nsname, sizeof nsname) != 0)
    return fail("--ns");
  if (snprintf(d.reply, sizeof d.reply, "spot://%s/%s/%s", d.advertise ? d.advertise : d.listen, nsname,
               VQ_LOG_ANSWERS) >= (int)sizeof d.reply)
    return fprintf(stderr, "spot vquery device: the reply name is longer than %d characters\n", VQ_URL_MAX - 1), 2;
  if (d.dist && vq_volume_init(&d.vol, d.dist, d.mu, d.alpha, d.sampler, (uint64_t)d.seed, (uint32_t)d.index) != 0)
    return fprintf(stderr, "spot vquery device: %s\n", vq_tiers_detail()), 2;
  const char *note;
  vq_meter_init(&d.meter, d.watts, d.rapl, &note);
  if (note && !d.quiet)
    fprintf(stderr, "spot vquery device %lld: %s\n", (long long)d.index, note);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  /* handlers' puts to other nodes (the aggregator) go with this device's key */
  setenv("SPOT_KEY", d.key, 1);
  if (d.aggregator_key)
    setenv("SPOT_NODE_KEY", d.aggregator_key, 1);

  int status = 1, rc;
  spot_node_t *node = NULL;
  spot_server_t *server = NULL;
  if (vq_device_setup(d.ns_dir) != 0) {
    fail("setting up the namespace");
    goto out;
  }
  if ((rc = vq_library_open(d.library, &d.lib)) != 0) {
    vq_tiers_spot_fail(rc, d.library);
    fail("opening the library");
    goto out;
  }
  rc = strcmp(d.camera, "synthetic") == 0 ? vq_camera_synthetic(d.lib, d.images, (uint64_t)d.seed * 1000003u +
                                                                                     (uint64_t)d.index, &d.cam)
                                          : vq_camera_dir(d.lib, d.camera, &d.cam);
  if (rc != 0) {
    vq_tiers_spot_fail(rc, d.camera);
    fail("opening the camera");
    goto out;
  }
  if ((rc = spot_ns_open(d.ns_dir, NULL, &d.ns)) != 0) {
    vq_tiers_spot_fail(rc, d.ns_dir);
    fail("opening the namespace");
    goto out;
  }
  uint64_t latest = 0;
  spot_log_t *ql;
  if ((rc = spot_ns_open_log(d.ns, VQ_LOG_QUERIES, 0, &ql, NULL)) == 0) {
    spot_log_latest(ql, &latest);
    spot_log_close(ql);
  }
  d.first_qid = d.next_qid = latest + 1;
  spot_node_opts_t nopts = {.mode = SPOT_MODE_THREAD, .workers = 2, .quiet = 1};
  if ((rc = spot_node_start(d.ns_dir, &nopts, &node)) != 0) {
    vq_tiers_spot_fail(rc, d.ns_dir);
    fail("starting the node");
    goto out;
  }
  if ((rc = spot_server_start(d.ns_dir, d.listen, d.key, &server)) != 0) {
    vq_tiers_spot_fail(rc, d.listen);
    fail("serving the namespace");
    goto out;
  }
  if (calibrate(&d) != 0) {
    fail("calibration");
    goto out;
  }
  if (d.start_file && wait_start_file(&d) != 0) {
    fail("--start-file");
    goto out;
  }
  if (run_intervals(&d) != 0) {
    fail("the run");
    goto out;
  }
  uint64_t answered = 0;
  if (!stopping && wait_answers(&d, &answered) != 0) {
    fail("waiting for answers");
    goto out;
  }
  if (!d.quiet)
    fprintf(stderr, "spot vquery device %lld: %llu queries, %llu answered; eps_a %.3g J/b, eps_i %.3g J/b\n",
            (long long)d.index, (unsigned long long)(d.next_qid - d.first_qid), (unsigned long long)answered,
            d.calib.eps_a, d.calib.eps_i);
  status = 0;
out:
  stopping = 1; /* a forward still retrying gives up: the node can stop */
  spot_server_stop(server);
  if (node)
    spot_node_stop(node);
  if (d.ns)
    spot_ns_close(d.ns);
  if (d.cam)
    vq_camera_close(d.cam);
  if (d.lib)
    vq_library_close(d.lib);
  free(d.buf[0].px);
  free(d.buf[1].px);
  return status;
}
