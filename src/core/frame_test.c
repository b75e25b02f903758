/*
 * frame_test.c: the serial link's frames (core/frame.h): round trips, a frame found again after noise, a flipped
 * bit reported as damaged (so the receiver NAKs it) without losing the frame after it, an oversized length, and
 * the small CRC32C table the firmware uses (SPOT__CRC32C_SMALL) giving the host's values.
 */
#include <stdint.h>
#include <string.h>

#include "core/crc32c.h"
#include "core/frame.h"
#include "test.h"

/* Pushes n bytes; returns how many intact frames came out (the last in *last) and counts damaged ones. */
static int feed(spot__frame_rx_t *rx, const uint8_t *p, size_t n, spot__frame_t *last, int *damaged) {
  int frames = 0;
  for (size_t i = 0; i < n; i++) {
    spot__frame_t f;
    for (int rc = spot__frame_rx_push(rx, p[i], &f); rc != 0; rc = spot__frame_rx_more(rx, &f)) {
      if (rc == 1) {
        frames++;
        *last = f;
      } else
        (*damaged)++;
    }
  }
  return frames;
}

static void test_round_trip(void) {
  uint8_t buf[256], out[256];
  spot__frame_rx_t rx;
  spot__frame_rx_init(&rx, buf, sizeof buf);
  const char *msg = "a wire message";
  size_t n;
  CHECK_EQ(spot__frame_encode(SPOT__FRAME_REQ, 7, msg, strlen(msg), out, sizeof out, &n), 0);
  CHECK_EQ(n, strlen(msg) + SPOT__FRAME_OVERHEAD);
  spot__frame_t f;
  int damaged = 0;
  CHECK_EQ(feed(&rx, out, n, &f, &damaged), 1);
  CHECK_EQ(damaged, 0);
  CHECK_EQ(f.kind, SPOT__FRAME_REQ);
  CHECK_EQ(f.seq, 7);
  CHECK_EQ(f.len, strlen(msg));
  CHECK(memcmp(f.payload, msg, f.len) == 0);
  /* an empty payload (NAK) */
  CHECK_EQ(spot__frame_encode(SPOT__FRAME_NAK, 9, NULL, 0, out, sizeof out, &n), 0);
  CHECK_EQ(feed(&rx, out, n, &f, &damaged), 1);
  CHECK_EQ(f.kind, SPOT__FRAME_NAK);
  CHECK_EQ(f.len, 0);
  CHECK_EQ(spot__frame_encode(SPOT__FRAME_REQ, 1, out, sizeof out, out, sizeof out, &n), SPOT_ERANGE);
}

static void test_noise_then_frame(void) {
  uint8_t buf[128], stream[200];
  spot__frame_rx_t rx;
  spot__frame_rx_init(&rx, buf, sizeof buf);
  const uint8_t noise[] = {0x00, 'S', 'S', 'x', 0xff, 'S', 'F', 0x02}; /* ends mid-header of a fake frame */
  memcpy(stream, noise, sizeof noise);
  size_t n;
  CHECK_EQ(spot__frame_encode(SPOT__FRAME_REP, 3, "ok", 2, stream + sizeof noise, sizeof stream - sizeof noise, &n),
           0);
  spot__frame_t f;
  int damaged = 0;
  /* the fake header's length field takes bytes of the real frame: it is damaged, and the real one is found */
  int frames = feed(&rx, stream, sizeof noise + n, &f, &damaged);
  uint8_t again[64];
  size_t m;
  CHECK_EQ(spot__frame_encode(SPOT__FRAME_REP, 4, "ok", 2, again, sizeof again, &m), 0);
  frames += feed(&rx, again, m, &f, &damaged);
  CHECK(frames >= 1);
  CHECK_EQ(f.kind, SPOT__FRAME_REP);
  CHECK_EQ(f.seq, 4);
  CHECK(memcmp(f.payload, "ok", 2) == 0);
}

static void test_flipped_bit_is_damaged(void) {
  uint8_t buf[128], stream[128];
  spot__frame_rx_t rx;
  spot__frame_rx_init(&rx, buf, sizeof buf);
  size_t n1, n2;
  CHECK_EQ(spot__frame_encode(SPOT__FRAME_REQ, 1, "first!", 6, stream, sizeof stream, &n1), 0);
  CHECK_EQ(spot__frame_encode(SPOT__FRAME_REQ, 2, "second", 6, stream + n1, sizeof stream - n1, &n2), 0);
  for (size_t bit = 8 * 2; bit < 8 * n1; bit++) { /* every bit after the magic of the first frame */
    uint8_t copy[128];
    memcpy(copy, stream, n1 + n2);
    copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    spot__frame_rx_init(&rx, buf, sizeof buf);
    spot__frame_t f;
    int damaged = 0;
    int frames = feed(&rx, copy, n1 + n2, &f, &damaged);
    if (bit / 8 >= 4 && bit / 8 < 8 && damaged == 0) {
      /* a flipped length that grew: the receiver waits for bytes that have not come (the sender times out and
       * sends again); the next frame's bytes then complete the damaged one, which is refused, and the frame is
       * found again among the bytes held */
      CHECK_EQ(frames, 0);
      uint8_t more[128];
      size_t m;
      CHECK_EQ(spot__frame_encode(SPOT__FRAME_REQ, 3, "third!", 6, more, sizeof more, &m), 0);
      for (int k = 0; k < 8 && frames == 0; k++)
        frames += feed(&rx, more, m, &f, &damaged);
      CHECK(damaged >= 1);
      CHECK(frames >= 1);
      CHECK(f.seq == 2 || f.seq == 3);
      continue;
    }
    CHECK(damaged >= 1);
    CHECK_EQ(frames, 1);
    CHECK_EQ(f.seq, 2); /* the damaged first frame is never delivered, the one behind it is */
    CHECK(memcmp(f.payload, "second", 6) == 0);
  }
}

static void test_oversized_length(void) {
  uint8_t buf[64], out[256];
  spot__frame_rx_t rx;
  spot__frame_rx_init(&rx, buf, sizeof buf);
  uint8_t payload[100] = {0};
  size_t n;
  CHECK_EQ(spot__frame_encode(SPOT__FRAME_REQ, 5, payload, sizeof payload, out, sizeof out, &n), 0);
  spot__frame_t f;
  int damaged = 0;
  CHECK_EQ(feed(&rx, out, n, &f, &damaged), 0);
  CHECK(damaged >= 1);
  CHECK(rx.bad >= 1);
}

static void test_hello(void) {
  uint8_t p[SPOT__FRAME_HELLO_BYTES];
  spot__frame_hello_encode(0x1122334455667788ull, 42, 512, p);
  uint64_t node;
  uint32_t boots, max;
  CHECK_EQ(spot__frame_hello_decode(p, sizeof p, &node, &boots, &max), 0);
  CHECK_EQ(node, 0x1122334455667788ull);
  CHECK_EQ(boots, 42);
  CHECK_EQ(max, 512);
  CHECK_EQ(spot__frame_hello_decode(p, 3, &node, &boots, &max), SPOT_ECORRUPT);
}

/* UP payloads: HOST:PORT then the wire request; cut, empty or odd host names are refused. */
static void test_up_decode(void) {
  const uint8_t ok[] = {14, '1', '2', '7', '.', '0', '.', '0', '.', '1', ':', '7', '4', '0', '1', 'S', 'W'};
  char hp[SPOT__FRAME_HOSTPORT_MAX + 1];
  const uint8_t *msg;
  size_t n;
  CHECK_EQ(spot__frame_up_decode(ok, sizeof ok, hp, sizeof hp, &msg, &n), 0);
  CHECK(strcmp(hp, "127.0.0.1:7401") == 0);
  CHECK(msg == ok + 15);
  CHECK_EQ(n, 2);
  CHECK_EQ(spot__frame_up_decode(ok, 10, hp, sizeof hp, &msg, &n), SPOT_ECORRUPT);  /* cut short */
  CHECK_EQ(spot__frame_up_decode(ok, sizeof ok, hp, 8, &msg, &n), SPOT_ECORRUPT);   /* does not fit */
  const uint8_t empty[] = {0, 'S', 'W'}, slash[] = {3, 'a', '/', 'b'};
  CHECK_EQ(spot__frame_up_decode(empty, sizeof empty, hp, sizeof hp, &msg, &n), SPOT_ECORRUPT);
  CHECK_EQ(spot__frame_up_decode(slash, sizeof slash, hp, sizeof hp, &msg, &n), SPOT_ECORRUPT);
}

/* The firmware's crc (a 16-entry table, SPOT__CRC32C_SMALL) computed here the same way: the same values. */
static uint32_t crc_nibble(uint32_t crc, const uint8_t *b, size_t n) {
  static const uint32_t nib[16] = {0x00000000u, 0x105EC76Fu, 0x20BD8EDEu, 0x30E349B1u, 0x417B1DBCu, 0x5125DAD3u,
                                   0x61C69362u, 0x7198540Du, 0x82F63B78u, 0x92A8FC17u, 0xA24BB5A6u, 0xB21572C9u,
                                   0xC38D26C4u, 0xD3D3E1ABu, 0xE330A81Au, 0xF36E6F75u};
  crc = ~crc;
  while (n--) {
    crc ^= *b++;
    crc = (crc >> 4) ^ nib[crc & 15];
    crc = (crc >> 4) ^ nib[crc & 15];
  }
  return ~crc;
}

static void test_small_crc_table(void) {
  uint8_t buf[1000];
  for (size_t i = 0; i < sizeof buf; i++)
    buf[i] = (uint8_t)(i * 131 + 7);
  for (size_t n = 0; n < sizeof buf; n += 37)
    CHECK_EQ(crc_nibble(0, buf, n), spot__crc32c(0, buf, n));
}

static const spot_test_t tests[] = {
    {"round_trip", test_round_trip},
    {"noise_then_frame", test_noise_then_frame},
    {"flipped_bit_is_damaged", test_flipped_bit_is_damaged},
    {"oversized_length", test_oversized_length},
    {"hello", test_hello},
    {"up_decode", test_up_decode},
    {"small_crc_table", test_small_crc_table},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
