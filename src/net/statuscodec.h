/*
 * net/statuscodec.h: a node's status (spot/status.h) as bytes, for the STATUS reply of the wire (core/wire.h).
 *
 * Little-endian with explicit lengths: u8 version (1), u8 served, u8 mode, u8 power source, i32 pid, u32 workers,
 * u64 node, started_ns, uptime_ns, milliwatts, queue_depth, runs, failures, cpu_ns, energy_nj, worker_restarts,
 * latency_sum_ns, p50_ns, p99_ns; u8 bucket count (SPOT_STATUS_BUCKETS) and that many u64; u32 handler count, each
 * a str name (u8 length + bytes), u32 id, u64 runs, failures, cpu_ns, energy_nj; u32 log count, each a str name,
 * u64 puts, u64 bytes. The decoder checks every length against what is left and refuses trailing bytes.
 */
#ifndef SPOT_NET_STATUSCODEC_H
#define SPOT_NET_STATUSCODEC_H

#include <stddef.h>
#include <stdint.h>

#include "spot/status.h"

/* The bytes st encodes to. */
size_t spot__statusc_size(const spot_status_t *st);
/* Encodes st into buf (cap bytes). 0 with *len, or SPOT_ERANGE if cap is too small. */
int spot__statusc_encode(const spot_status_t *st, uint8_t *buf, size_t cap, size_t *len);
/* Decodes len bytes into *out (handlers and logs allocated: spot_status_free). 0, SPOT_ECORRUPT (with a detail
 * line) or SPOT_ENOMEM; *out is written only on success. */
int spot__statusc_decode(const uint8_t *buf, size_t len, spot_status_t *out);

#endif
