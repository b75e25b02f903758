/*
 * core/frame.h: frames of the serial link between an edge node and a device (a microcontroller on a UART).
 *
 * A UART is a byte stream that can lose, add or flip bytes, so every wire message (core/wire.h) travels in a
 * frame that says how long it is and carries a CRC32C of itself; a receiver that sees a damaged frame asks for it
 * again (NAK), and hunts for the next frame's magic. Portable C11, no allocation, no I/O: the edge (src/net/serial.c)
 * and the firmware (src/device/link.c) share this file.
 *
 *   offset size  field
 *   0      2     magic 'S' 'F'
 *   2      1     kind (spot__frame_kind_t)
 *   3      1     seq: the sender's frame counter (for the logs; a NAK names the seq it refuses)
 *   4      4     payload length (u32, little-endian), at most the receiver's buffer
 *   8      len   payload
 *   8+len  4     crc32c of bytes 2 .. 8+len (kind, seq, length, payload), little-endian
 *
 * Kinds: REQ carries one wire request (edge to device) and REP its reply (device to edge); UP carries a request of
 * the device's own (device to edge: a device handler's put to another node; payload: u8 n, the n bytes of the
 * target's HOST:PORT, then one wire PUT request naming the target's namespace and log), answered by a REP from the
 * edge with the same request id. NAK asks the peer to send its last frames again (payload empty), HELLO says a
 * device is up (payload: u64 node id, u32 boot count, u32 the largest payload it takes; sent at boot and in answer
 * to PING), PING asks for a HELLO. Each side has at most one request of its own outstanding at a time.
 */
#ifndef SPOT_CORE_FRAME_H
#define SPOT_CORE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define SPOT__FRAME_HDR 8u
#define SPOT__FRAME_OVERHEAD 12u /* header and crc around a payload */
#define SPOT__FRAME_HELLO_BYTES 16u

typedef enum spot__frame_kind {
  SPOT__FRAME_REQ = 1,
  SPOT__FRAME_REP = 2,
  SPOT__FRAME_NAK = 3,
  SPOT__FRAME_HELLO = 4,
  SPOT__FRAME_PING = 5,
  SPOT__FRAME_UP = 6,
} spot__frame_kind_t;

#define SPOT__FRAME_HOSTPORT_MAX 127u /* longest HOST:PORT in an UP frame */

/* A received frame. payload points into the receiver's buffer and is valid until its next push. */
typedef struct spot__frame {
  uint8_t kind, seq;
  const uint8_t *payload;
  uint32_t len;
} spot__frame_t;

/* A receiver: feed it the bytes of the stream one at a time. buf (cap bytes, the largest payload plus
 * SPOT__FRAME_OVERHEAD) is the caller's and must outlive it. */
typedef struct spot__frame_rx {
  uint8_t *buf;
  size_t cap;
  size_t have;     /* bytes buffered */
  size_t deliver;  /* bytes of the frame last delivered, dropped at the next push or more() */
  uint64_t bad;    /* damaged frames seen (crc mismatch or too long) */
  uint64_t skipped; /* bytes dropped while looking for a frame's start */
} spot__frame_rx_t;

/* Prepares rx over buf (cap >= SPOT__FRAME_OVERHEAD + SPOT__FRAME_HELLO_BYTES). */
void spot__frame_rx_init(spot__frame_rx_t *rx, uint8_t *buf, size_t cap);

/* Feeds one byte. Returns 0 (no frame yet), 1 (a whole intact frame: *out describes it) or SPOT_ECORRUPT (a
 * damaged frame ended here, or one announced more than the buffer holds: the receiver should NAK it; *out's kind
 * and seq are those its header claimed, and may be damaged too). After a damaged frame the receiver looks for the
 * next magic from the byte after the bad frame's magic, among the bytes it holds, so a flipped length byte delays
 * the frames behind it but does not lose them. Whenever push returns non-zero, call spot__frame_rx_more until it
 * returns 0: the bytes held may already hold more frames. */
int spot__frame_rx_push(spot__frame_rx_t *rx, uint8_t byte, spot__frame_t *out);
/* Looks again at the bytes held, without a new one; returns as spot__frame_rx_push. */
int spot__frame_rx_more(spot__frame_rx_t *rx, spot__frame_t *out);

/* Encodes a frame of kind and seq around len bytes of payload into out (cap bytes) and sets *n. payload may be
 * NULL when len is 0. Returns 0 or SPOT_ERANGE if cap < len + SPOT__FRAME_OVERHEAD. */
int spot__frame_encode(uint8_t kind, uint8_t seq, const void *payload, size_t len, uint8_t *out, size_t cap,
                       size_t *n);

/* UP payloads. Splits p (len bytes) into the target's HOST:PORT (copied into hostport, cap >= 
 * SPOT__FRAME_HOSTPORT_MAX + 1, NUL-terminated) and the wire request after it (*msg points into p). 0, or
 * SPOT_ECORRUPT (cut short, empty, or a HOST:PORT with bytes other than letters, digits, '.', ':', '-', '[', ']'). */
int spot__frame_up_decode(const uint8_t *p, size_t len, char *hostport, size_t cap, const uint8_t **msg,
                          size_t *msg_len);

/* HELLO payloads. */
void spot__frame_hello_encode(uint64_t node, uint32_t boots, uint32_t max_payload,
                              uint8_t out[SPOT__FRAME_HELLO_BYTES]);
/* 0, or SPOT_ECORRUPT if len is not SPOT__FRAME_HELLO_BYTES. */
int spot__frame_hello_decode(const uint8_t *p, size_t len, uint64_t *node, uint32_t *boots, uint32_t *max_payload);

#endif
