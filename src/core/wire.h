/*
 * core/wire.h: the messages spot nodes exchange, and their portable encoding.
 *
 * One request and one reply per operation: create, put (with handler and cause), get, latest, earliest, info,
 * events (reads of a node's event log), deploy (a handler object sent to a running node), and the operator's
 * list, handlers, bind, unbind, status, check and rm. The same bytes travel
 * over ZeroMQ between Linux nodes and over the serial link of a microcontroller, so this module is plain C11: no OS
 * headers, no allocation, no I/O. Everything is little-endian with explicit lengths; the decoder checks every
 * length against what is left before it reads, refuses trailing bytes and unknown versions, types and flags, and
 * validates every name, so the server can pass decoded names straight to the store.
 *
 * A message is a 20-byte header followed by a body whose layout depends on the type and on the reply flag:
 *
 *   offset size  field
 *   0      2     magic "SW"
 *   2      1     version (SPOT__WIRE_VERSION)
 *   3      1     type (spot__wire_type_t)
 *   4      1     flags (SPOT__WIRE_REPLY; other bits zero)
 *   5      3     reserved, zero
 *   8      4     body length in bytes (u32, at most SPOT__WIRE_MAX - SPOT__WIRE_HDR_BYTES)
 *   12     8     request id (u64): chosen by the client, copied into the reply, so one connection can carry
 *                several requests in flight and match replies to them
 *
 * Body fields: str = u8 length + bytes (no NUL), data = u32 length + bytes, uN = N-bit unsigned, i32 = signed.
 *
 *   request   CREATE    str ns, str log, u32 elem_size, u64 history, u8 sync
 *             PUT       str ns, str log, str handler (length 0: none), u64 cause_node, u64 cause_event, data
 *             GET       str ns, str log, u64 seq
 *             LATEST, EARLIEST, INFO    str ns, str log
 *             EVENTS    str ns, u64 from, u32 max
 *             DEPLOY    str ns, str object (file name), data (the object's bytes)
 *             LIST, HANDLERS            str ns
 *             BIND      str ns, str log, str handler (not empty)
 *             UNBIND    str ns, str log, str handler (length 0: whichever is bound)
 *             STATUS    str ns
 *             CHECK     str ns, str log, u8 fix (0: look only, the get right; 1: `check --fix`, the admin right)
 *             RM        str ns, str log (the admin right)
 *   reply     all       i32 status, then if status != 0: u16 length + detail text, and nothing else;
 *                       if status == 0 the type's payload:
 *             PUT, LATEST, EARLIEST   u64 seq
 *             GET       data
 *             LIST      data: one line per log, tab-separated: name, elem_size, history, sync name, latest,
 *                       bound handler or "-" (text; the client parses it, nothing here does)
 *             HANDLERS  data: one line per handler: id, name, version, object file ("-" built in), bound logs
 *                       (comma-separated) or "-"
 *             STATUS    data: the node's status (spot/status.h), encoded by net/statuscodec.c
 *             CHECK     data: what the check found (the open's and the verify's reports, the verify's status and
 *                       detail line), encoded by net/admin.c
 *             INFO      u32 elem_size, u64 history, u8 sync, u64 latest, u64 earliest, u64 durable
 *             EVENTS    u32 count, then count event records of SPOT__EVENT_BYTES (384) each, version 2
 *                       (core/event.h); wire version 1 carried 256-byte version-1 records
 *             CREATE, DEPLOY, BIND, UNBIND, RM   nothing
 *
 * The encoding is canonical: a buffer that decodes re-encodes to exactly the same bytes. The first 20 bytes keep
 * this layout in every version, so a node can read a message's length, type and id (spot__wire_peek) and answer
 * SPOT_EVERSION to a peer that speaks another version.
 */
#ifndef SPOT_CORE_WIRE_H
#define SPOT_CORE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define SPOT__WIRE_VERSION 2u /* 2: event records of 384 bytes (event record version 2) */
#define SPOT__WIRE_HDR_BYTES 20u
#define SPOT__WIRE_MAX_DATA (64u << 20)                     /* largest data field: SPOT_ELEM_MAX */
#define SPOT__WIRE_MAX (SPOT__WIRE_MAX_DATA + 4096u)        /* largest whole message, header included */
#define SPOT__WIRE_MAX_EVENTS (SPOT__WIRE_MAX_DATA / 384u)  /* most event records in one reply */
#define SPOT__WIRE_DETAIL_MAX 512u                          /* longest detail text of an error reply */
#define SPOT__WIRE_OBJECT_MAX 127u                          /* longest deploy object file name */
#define SPOT__WIRE_SYNC_MAX 2u                              /* sync values are spot_sync_t: 0 none .. 2 always */

#define SPOT__WIRE_REPLY 0x01u /* flags: the message is a reply */

typedef enum spot__wire_type {
  SPOT__WIRE_CREATE = 1,
  SPOT__WIRE_PUT = 2,
  SPOT__WIRE_GET = 3,
  SPOT__WIRE_LATEST = 4,
  SPOT__WIRE_EARLIEST = 5,
  SPOT__WIRE_INFO = 6,
  SPOT__WIRE_EVENTS = 7,
  SPOT__WIRE_DEPLOY = 8,
  SPOT__WIRE_LIST = 9,
  SPOT__WIRE_HANDLERS = 10,
  SPOT__WIRE_BIND = 11,
  SPOT__WIRE_UNBIND = 12,
  SPOT__WIRE_STATUS = 13,
  SPOT__WIRE_CHECK = 14,
  SPOT__WIRE_RM = 15,
  SPOT__WIRE_LAST = SPOT__WIRE_RM, /* the highest type this version knows */
} spot__wire_type_t;

/* A counted string. On the wire it has no terminating NUL, so neither has ptr: always use len. */
typedef struct spot__wire_str {
  const char *ptr; /* may be NULL when len is 0 */
  size_t len;
} spot__wire_str_t;

/*
 * One message, request or reply. Only the fields that the type (and the reply flag) uses are encoded; decode sets
 * all the others to zero. Field use:
 *   ns                 every request
 *   log                CREATE, PUT, GET, LATEST, EARLIEST, INFO, BIND, UNBIND, CHECK, RM requests
 *   handler            PUT and UNBIND requests (len 0: none), BIND request
 *   object             DEPLOY request: the object's file name ([A-Za-z0-9_.-], no leading '.' or '-', no "..")
 *   elem_size, history, sync   CREATE request, INFO reply
 *   cause_node, cause_event    PUT request: the event that caused the put ((0, 0): none)
 *   seq                GET request; PUT, LATEST, EARLIEST replies
 *   from, max          EVENTS request: first event id and most records wanted
 *   fix                CHECK request: 0 or 1
 *   data, data_len     PUT and DEPLOY requests, GET, LIST, HANDLERS, STATUS and CHECK replies
 *   status, detail     every reply: 0, or a negative SPOT_E* code with an optional explanation (printable text)
 *   latest, earliest, durable  INFO reply
 *   events, count      EVENTS reply: count records of SPOT__EVENT_BYTES each, back to back (opaque here)
 * A decoded message's pointers (ns.ptr ... detail.ptr, data, events) point into the buffer it was decoded from and
 * are valid only while that buffer is, unchanged; nothing is copied and nothing needs to be freed.
 */
typedef struct spot__msg {
  uint8_t type;  /* spot__wire_type_t */
  uint8_t flags; /* SPOT__WIRE_REPLY or 0 */
  uint64_t id;   /* request id, echoed in the reply */
  spot__wire_str_t ns, log, handler, object;
  uint32_t elem_size;
  uint64_t history;
  uint8_t sync;
  uint64_t cause_node, cause_event;
  uint64_t seq;
  uint64_t from;
  uint32_t max;
  uint8_t fix;
  const uint8_t *data;
  uint32_t data_len;
  int32_t status;
  spot__wire_str_t detail;
  uint64_t latest, earliest, durable;
  const uint8_t *events;
  uint32_t count;
} spot__msg_t;

/* What spot__wire_peek reads from a header. */
typedef struct spot__wire_hdr {
  uint8_t version, type, flags;
  uint64_t id;
  size_t total; /* the whole message's length, header included */
} spot__wire_hdr_t;

/* The message's size once encoded into *len. Returns 0, or SPOT_EINVAL (unknown type or flags, a NULL pointer with
 * a non-zero length, a positive status, a sync value above SPOT__WIRE_SYNC_MAX, a detail text too long or with
 * control bytes), SPOT_EBADNAME (a name or the object name fails its check) or SPOT_ETOOBIG (data longer than
 * SPOT__WIRE_MAX_DATA or more than SPOT__WIRE_MAX_EVENTS records), with a detail line. */
int spot__wire_encoded_size(const spot__msg_t *m, size_t *len);

/* Encodes m into buf (cap bytes) and sets *len to the bytes written. The same checks as spot__wire_encoded_size,
 * and SPOT_ERANGE if cap is too small (buf is then left unspecified). m and buf stay the caller's. */
int spot__wire_encode(const spot__msg_t *m, uint8_t *buf, size_t cap, size_t *len);

/* Decodes exactly len bytes of buf into *m (written only on success; its pointers point into buf, see above).
 * Returns 0, or with a detail line: SPOT_EVERSION if the version is not SPOT__WIRE_VERSION; SPOT_EBADNAME if a
 * name (or the object name) is invalid; SPOT_ECORRUPT for anything else malformed: bad magic, unknown type or
 * flags, non-zero reserved bytes, a body length that disagrees with len, a field cut short, a length above its
 * maximum, a positive status, a bad sync, fix value or detail text, bytes left over. */
int spot__wire_decode(const uint8_t *buf, size_t len, spot__msg_t *m);

/* Reads the header at the start of buf (len >= SPOT__WIRE_HDR_BYTES), whatever its version, type and flags: for a
 * byte stream (the serial link) to learn how long the message is, and for a node to reply to a message it cannot
 * decode. Returns 0, SPOT_ERANGE if len is shorter than a header, SPOT_ECORRUPT for a bad magic or a length above
 * SPOT__WIRE_MAX. */
int spot__wire_peek(const uint8_t *buf, size_t len, spot__wire_hdr_t *h);

/* Copies s into out (cap bytes) with a terminating NUL: a decoded name into a char[SPOT_NAME_MAX + 1], an object
 * name into a char[SPOT__WIRE_OBJECT_MAX + 1]. SPOT_ERANGE if it does not fit or s holds a NUL byte. */
int spot__wire_copy(spot__wire_str_t s, char *out, size_t cap);

/* A counted string over a NUL-terminated one (s may be NULL: the empty string). s must outlive the result. */
spot__wire_str_t spot__wire_cstr(const char *s);

/* Sets an error reply's detail to text (not copied), cut to SPOT__WIRE_DETAIL_MAX bytes and at the first control
 * byte, so any spot_errdetail() line encodes. */
void spot__wire_set_detail(spot__msg_t *m, const char *text);

/* Checks a deploy object file name: 1 to SPOT__WIRE_OBJECT_MAX bytes of [A-Za-z0-9_.-], not starting with '.' or
 * '-', without "..". Returns 0 or SPOT_EBADNAME with a detail line. */
int spot__wire_object_check(const char *name, size_t len);

/* "create", "put", "get", "latest", "earliest", "info", "events", "deploy", "list", "handlers", "bind", "unbind",
 * "status", "check", "rm" (or "?"). */
const char *spot__wire_type_name(int type);

#endif
