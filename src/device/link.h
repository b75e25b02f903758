/*
 * device/link.h: the device's end of the serial link to its edge node.
 *
 * Frames (core/frame.h) carry wire messages (core/wire.h): the edge sends one request at a time (REQ) and waits
 * for its reply (REP). The device answers CREATE, PUT, GET, LATEST, EARLIEST, INFO and EVENTS on its own logs
 * (device/device.h; the namespace named in a request is the edge's business) and refuses DEPLOY (handlers are
 * linked into the firmware). A damaged frame gets a NAK, after which the edge sends it again; a NAK from the edge
 * makes the device send its last frame again. A put sent again with the same request id (the edge retries when a
 * reply does not come) is answered from the device's memory of its last put, not appended twice. At start the
 * device says HELLO (its node id, boot count and largest frame); a PING gets a HELLO too, so an edge that
 * connects later learns the same.
 *
 * The other way, the device sends the puts its handlers made to other nodes (the outbox, device/device.h) as UP
 * frames, one at a time and in order, each with its outbox number as request id: again every
 * SPOT__DEV_UP_RESEND_MS until the edge's REP comes, a second later after an answer that says the edge or the
 * target is away for now (SPOT_ETIMEDOUT, SPOT_ECLOSED, SPOT_EBUSY, SPOT_EIO), and on to the next one after any
 * other answer (recorded in the event log either way).
 */
#ifndef SPOT_DEVICE_LINK_H
#define SPOT_DEVICE_LINK_H

#include <stddef.h>
#include <stdint.h>

#define SPOT__DEV_LINK_PAYLOAD 600u /* the largest wire message the device takes or sends */
#define SPOT__DEV_UP_RESEND_MS 500u /* an UP frame without an answer is sent again after this */
#define SPOT__DEV_UP_RETRY_MS 1000u /* an UP the edge could not deliver for now is sent again after this */

typedef struct spot__dev_link_stats {
  uint32_t frames_in, frames_out, naks_sent, naks_got, duplicates;
  uint32_t ups_sent, ups_done, ups_refused; /* UP frames sent (resends included), answered ok, refused */
} spot__dev_link_stats_t;

/* Starts the link over a byte stream: get returns a byte or -1 when none waits, put sends one. Sends a HELLO. */
void spot__dev_link_start(int (*get)(void), void (*put)(uint8_t byte));

/* Reads every byte waiting and answers every whole frame among them, then sends the outbox's next put if it is
 * due. Returns how many frames it handled. */
unsigned spot__dev_link_poll(void);

/* Executes one decoded request on the device's logs into *rep (its pointers may point into the arena or into
 * scratch, cap bytes, until the next call). Returns 0 or the SPOT_E* code to answer with (detail line set). */
struct spot__msg;
int spot__dev_serve(const struct spot__msg *req, struct spot__msg *rep, uint8_t *scratch, size_t cap);

const spot__dev_link_stats_t *spot__dev_link_stats(void);

#endif
