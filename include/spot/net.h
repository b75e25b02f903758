/*
 * spot/net.h: spot nodes on a network.
 *
 * A node serves its namespace over ZeroMQ with CURVE: every connection is encrypted and each client is known by
 * its public key. What a key may do in a namespace is written in the namespace's access file, DIR/access, one line
 * per key: `PUBLIC_KEY RIGHTS [# comment]`, RIGHTS a comma list of get, put, create, deploy and admin, and the word `any`
 * in place of a key for rights given to every client. Key pairs are made with `spot keygen NAME`.
 *
 * A node's logs are named spot://HOST:PORT/NAMESPACE/LOG from elsewhere (woof:// is an alias), NAMESPACE being the
 * base name of the node's namespace directory. spotd serves them with --listen HOST:PORT --key NODE.key
 * (spot_server_start); clients reach them with a spot_remote_t; handlers put to them with spot_ctx_put and the
 * node's key; `spot deploy` installs handlers on a running node; `spot trace` follows puts into other nodes'
 * event logs (spot_remote_events).
 *
 * The network is optional at build time: a build with -DSPOT_NET=OFF has none of the functions below (and does not
 * install this header); spot_put and handlers' spot_ctx_* calls then refuse remote names with SPOT_ENOTSUP.
 */
#ifndef SPOT_NET_H
#define SPOT_NET_H

#include <stddef.h>
#include <stdint.h>

#include "spot/log.h"
#include "spot/node.h"
#include "spot/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Rights a key can hold in a namespace's access file, as bit flags (a check for several needs all of them). */
#define SPOT_RIGHT_GET 0x1u    /* read: get, latest, earliest, log info, event-log reads, log and handler lists */
#define SPOT_RIGHT_PUT 0x2u    /* append to existing logs (and so trigger their handlers) */
#define SPOT_RIGHT_CREATE 0x4u /* create logs */
#define SPOT_RIGHT_DEPLOY 0x8u /* install or replace handlers on the running node */
#define SPOT_RIGHT_ADMIN 0x10u /* change what the node runs and keeps: bind and unbind handlers to logs, check --fix,
                                  rm */
#define SPOT_RIGHT_ALL 0x1fu

/* ---- names ---- */

typedef struct spot_url {
  char hostport[128]; /* "host:port" ("[::1]:port" for IPv6) */
  char ns[64];
  char log[64];       /* "" when the name stops at the namespace */
} spot_url_t;

/* spot_is_remote (1 if name is spot:// or woof://) is in spot/node.h: every build has it, with the network or not. */
/* Parses spot://host:port/namespace[/log]; names are validated. SPOT_EINVAL or SPOT_EBADNAME with a detail line. */
int spot_url_parse(const char *url, spot_url_t *out);

/* ---- the client ---- */

typedef struct spot_remote spot_remote_t;

/* A client. key_file: its key pair (from `spot keygen`), else $SPOT_KEY, else a fresh key pair (enough for nodes
 * whose access file grants `any`). node_key: the node's public key (a .pub file or the 40-character key), else
 * $SPOT_NODE_KEY, else the known_nodes file ($SPOT_KNOWN_NODES or ~/.spot/known_nodes: `HOST:PORT KEY` lines).
 * timeout_ms: the limit of each call (0: 5000). A client may be shared by threads (calls are serialised).
 * A node refuses at the handshake a key its access file does not list (unless it has an `any` line): calls to it
 * then fail at once with SPOT_EPERM and a detail line naming the client's public key. */
int spot_remote_new(const char *key_file, const char *node_key, uint32_t timeout_ms, spot_remote_t **out);
void spot_remote_free(spot_remote_t *r);
/* The client's public key (Z85), for the node's access file. Valid until spot_remote_free. */
const char *spot_remote_public_key(const spot_remote_t *r);

/* The remote counterparts of spot_put, spot_log_read (*size gets the element size), spot_log_latest,
 * spot_log_info and spot_ns_create_log. Errors are the node's (with its detail line, prefixed by the node's
 * address), or SPOT_ETIMEDOUT when the node does not answer in time. */
int spot_remote_put(spot_remote_t *r, const char *url, const void *data, size_t len, const char *handler,
                    const spot_cause_t *cause, uint64_t *seq);
int spot_remote_get(spot_remote_t *r, const char *url, uint64_t seq, void *buf, size_t cap, size_t *size);

/* Pipelining: spot_remote_put_async sends a put and returns at once with its *ticket; spot_remote_put_result waits
 * for the next reply from the node of url, whichever put it answers (*ticket says which; replies come in the
 * order the node took the puts), and gives its sequence number or its error. One writer can so keep many puts in
 * flight on one connection. A time-out drops the connection: the puts still in flight then have no answer (they
 * may or may not have been taken), as with a node that died. */
int spot_remote_put_async(spot_remote_t *r, const char *url, const void *data, size_t len, const char *handler,
                          const spot_cause_t *cause, uint64_t *ticket);
int spot_remote_put_result(spot_remote_t *r, const char *url, uint64_t *ticket, uint64_t *seq);
int spot_remote_latest(spot_remote_t *r, const char *url, uint64_t *seq);
int spot_remote_info(spot_remote_t *r, const char *url, spot_log_info_t *out);
int spot_remote_create(spot_remote_t *r, const char *url, const spot_log_config_t *cfg);
/* Reads up to max events of the node's event log named by url (spot://host:port/namespace), from event id `from`
 * on (older ones have expired), into records (max * SPOT_EVENT_BYTES bytes); *count gets how many. Decode each
 * record with spot_events_decode (spot/events.h). Needs the get right. */
int spot_remote_events(spot_remote_t *r, const char *url, uint64_t from, uint32_t max, uint8_t *records,
                       uint32_t *count);

/* The logs (handlers 0) or the handlers (1) of the node's namespace named by url (spot://host:port/namespace), as
 * text: one line per log (tab-separated: name, element size, history, sync, newest number, bound handler or "-")
 * or per handler (id, name, version, object file or "-", bound logs comma-separated or "-"). *text is malloc'ed
 * (the caller frees it), NUL-terminated, *len its length; both written only on success. Needs the get right. */
int spot_remote_list(spot_remote_t *r, const char *url, int handlers, char **text, size_t *len);

/* spot_bind (bind 1) or spot_unbind (bind 0; handler NULL: whichever is bound) on the node of url
 * (spot://host:port/namespace/log). Needs the admin right. */
int spot_remote_bind(spot_remote_t *r, const char *url, const char *handler, int bind);
/* The status of the node serving the namespace named by url (spot://host:port/namespace), as spot_status_read
 * reads it there (spot/status.h; free with spot_status_free). Needs the get right. */
int spot_remote_status(spot_remote_t *r, const char *url, spot_status_t *out);

/* Checks the log named by url (spot://host:port/namespace/log) on the node that serves it, as spot_ns_check_log
 * does there, into *out (written only on success: damage found is out->status, not a failure of the call). A
 * plain check needs the get right; fix (spot check --fix) the admin right, and the node steps aside for it (its
 * handlers pause while the log is fixed: spot_server_set_exclusive). */
int spot_remote_check(spot_remote_t *r, const char *url, int fix, spot_check_result_t *out);

/* Removes the log named by url (spot://host:port/namespace/log) from the node that serves it, with its binding
 * (spot_ns_remove_log there); needs the admin right, and the node steps aside for it as for a check with fix.
 * SPOT_ENOTFOUND if there is no such log; SPOT_EBUSY (naming what holds it) if something else has it open. */
int spot_remote_rm(spot_remote_t *r, const char *url);

/* Installs a handler object (the bytes of a shared object; object: its file name, e.g. "frost.so") in the node's
 * namespace named by url (spot://host:port/namespace); needs the deploy right. The node registers every
 * SPOT_HANDLER in it and runs the new version for the puts that follow. */
int spot_remote_deploy(spot_remote_t *r, const char *url, const char *object, const void *bytes, size_t len);

/* ---- keys ---- */

#define SPOT_KEY_TEXT 41 /* a public key as text: 40 Z85 characters and a NUL */

/* Makes a new CURVE key pair and writes it as DIR/NAME.key (both keys, mode 0600, synced: the node's or client's
 * secret, for --key) and DIR/NAME.pub (the public key, for access files, known_nodes and --node-key), as `spot keygen`
 * does. pub (may be NULL) gets the public key. name must be a spot name (SPOT_EBADNAME). Never overwrites: SPOT_EEXIST
 * if either file exists, and nothing is written. SPOT_ENOTFOUND if DIR is not a directory; SPOT_EPERM, SPOT_ENOSPC,
 * SPOT_EIO; SPOT_EINVAL when libzmq was built without CURVE. The secret key is wiped from memory before return. */
int spot_keygen(const char *dir, const char *name, char pub[SPOT_KEY_TEXT]);

/* ---- the server ---- */

typedef struct spot_server spot_server_t;

/* Serves namespace dir on listen ("HOST:PORT") with the node's key pair from key_file, checking every request
 * against DIR/access (re-read when it changes). Runs on its own threads until spot_server_stop. */
int spot_server_start(const char *dir, const char *listen, const char *key_file, spot_server_t **out);
void spot_server_stop(spot_server_t *s);

/* An operation that needs the namespace (directory dir) to itself: a remote `check --fix` or `rm`. */
typedef int (*spot_server_op_fn)(const char *dir, void *op_arg);

/* How the program that runs the node gives the namespace to such an operation: it stops its node (and whatever
 * else of it holds the namespace's logs open), calls op(dir, op_arg), starts the node again, and returns op's
 * result (or the restart's error). Called on the server's thread, one operation at a time; requests wait meanwhile. */
typedef int (*spot_server_exclusive_fn)(void *arg, spot_server_op_fn op, void *op_arg);

/* Sets the function above (spotd sets one that stops and restarts its node). Without one, those operations run at
 * once, and are refused with SPOT_EBUSY while anything has the log open. Call before clients may send them. */
void spot_server_set_exclusive(spot_server_t *s, spot_server_exclusive_fn fn, void *arg);

/* Serves the device on the serial link at path (a tty, a pty, or a unix socket such as QEMU's `-serial
 * unix:PATH,server`) as namespace name of this node, under the same access file: requests for name go to the
 * device, whose handlers run there. A device that is away gives SPOT_ETIMEDOUT (never a hang), and its puts wait
 * in a durable outbox (logs NAME-outbox, NAME-outbox-sent of the node's namespace) until it answers again. The
 * device need not be there yet. SPOT_EEXIST (the node's own name, or attached already), SPOT_EBADNAME. */
int spot_server_attach_serial(spot_server_t *s, const char *name, const char *path);

#ifdef __cplusplus
}
#endif
#endif
