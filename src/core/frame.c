/*
 * frame.c: the serial link's framing (core/frame.h): length, CRC32C, and a byte-at-a-time receiver that finds
 * frames again after noise.
 */
#include "core/frame.h"

#include <string.h>

#include "core/crc32c.h"
#include "spot/error.h"

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void spot__frame_rx_init(spot__frame_rx_t *rx, uint8_t *buf, size_t cap) {
  memset(rx, 0, sizeof *rx);
  rx->buf = buf;
  rx->cap = cap;
}

/* Drops the first k buffered bytes. */
static void drop(spot__frame_rx_t *rx, size_t k) {
  memmove(rx->buf, rx->buf + k, rx->have - k);
  rx->have -= k;
}

/* Looks at the buffered bytes for a frame: see spot__frame_rx_more. */
static int parse(spot__frame_rx_t *rx, spot__frame_t *out) {
  for (;;) {
    size_t i = 0;
    while (i < rx->have && rx->buf[i] != 'S')
      i++;
    if (i) {
      rx->skipped += i;
      drop(rx, i);
    }
    if (rx->have >= 2 && rx->buf[1] != 'F') {
      rx->skipped++;
      drop(rx, 1);
      continue;
    }
    if (rx->have < SPOT__FRAME_HDR)
      return 0;
    uint32_t len = get32(rx->buf + 4);
    out->kind = rx->buf[2];
    out->seq = rx->buf[3];
    out->payload = NULL;
    out->len = 0;
    if ((uint64_t)len + SPOT__FRAME_OVERHEAD > rx->cap) {
      rx->bad++;
      drop(rx, 1); /* look for the next magic after this one */
      return SPOT_ECORRUPT;
    }
    size_t total = (size_t)len + SPOT__FRAME_OVERHEAD;
    if (rx->have < total)
      return 0;
    uint32_t crc = spot__crc32c(0, rx->buf + 2, SPOT__FRAME_HDR - 2 + len);
    if (crc != get32(rx->buf + SPOT__FRAME_HDR + len)) {
      rx->bad++;
      drop(rx, 1);
      return SPOT_ECORRUPT;
    }
    /* deliver: the payload stays in place until the next push or more(), which drop the frame first */
    rx->deliver = total;
    out->payload = rx->buf + SPOT__FRAME_HDR;
    out->len = len;
    return 1;
  }
}

int spot__frame_rx_push(spot__frame_rx_t *rx, uint8_t byte, spot__frame_t *out) {
  if (rx->deliver) {
    drop(rx, rx->deliver);
    rx->deliver = 0;
  }
  if (rx->have == 0 && byte != 'S') {
    rx->skipped++;
    return 0;
  }
  if (rx->have == rx->cap) /* cannot happen: parse drops a frame longer than cap; kept as a guard */
    drop(rx, 1);
  rx->buf[rx->have++] = byte;
  return parse(rx, out);
}

int spot__frame_rx_more(spot__frame_rx_t *rx, spot__frame_t *out) {
  if (rx->deliver) {
    drop(rx, rx->deliver);
    rx->deliver = 0;
  }
  return parse(rx, out);
}

int spot__frame_encode(uint8_t kind, uint8_t seq, const void *payload, size_t len, uint8_t *out, size_t cap,
                       size_t *n) {
  if (cap < SPOT__FRAME_OVERHEAD || len > cap - SPOT__FRAME_OVERHEAD)
    return SPOT_ERANGE;
  out[0] = 'S';
  out[1] = 'F';
  out[2] = kind;
  out[3] = seq;
  put32(out + 4, (uint32_t)len);
  if (len)
    memmove(out + SPOT__FRAME_HDR, payload, len);
  put32(out + SPOT__FRAME_HDR + len, spot__crc32c(0, out + 2, SPOT__FRAME_HDR - 2 + len));
  *n = len + SPOT__FRAME_OVERHEAD;
  return 0;
}

int spot__frame_up_decode(const uint8_t *p, size_t len, char *hostport, size_t cap, const uint8_t **msg,
                          size_t *msg_len) {
  if (len < 1 || p[0] == 0 || p[0] > SPOT__FRAME_HOSTPORT_MAX || (size_t)p[0] + 1 > len || cap <= p[0])
    return SPOT_ECORRUPT;
  size_t n = p[0];
  for (size_t i = 0; i < n; i++) {
    uint8_t c = p[1 + i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == ':' ||
             c == '-' || c == '[' || c == ']';
    if (!ok)
      return SPOT_ECORRUPT;
  }
  memcpy(hostport, p + 1, n);
  hostport[n] = '\0';
  *msg = p + 1 + n;
  *msg_len = len - 1 - n;
  return 0;
}

void spot__frame_hello_encode(uint64_t node, uint32_t boots, uint32_t max_payload,
                              uint8_t out[SPOT__FRAME_HELLO_BYTES]) {
  put32(out, (uint32_t)node);
  put32(out + 4, (uint32_t)(node >> 32));
  put32(out + 8, boots);
  put32(out + 12, max_payload);
}

int spot__frame_hello_decode(const uint8_t *p, size_t len, uint64_t *node, uint32_t *boots, uint32_t *max_payload) {
  if (len != SPOT__FRAME_HELLO_BYTES)
    return SPOT_ECORRUPT;
  *node = (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
  *boots = get32(p + 8);
  *max_payload = get32(p + 12);
  return 0;
}
