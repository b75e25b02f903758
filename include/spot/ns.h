/*
 * spot/ns.h: namespaces, the directories of logs that a node serves.
 *
 * A namespace is a directory made by spot_ns_init() (it holds a marker file `.spot-namespace` and the node's own
 * files in .spot/: its id, event log and handler registry); log NAME lives in DIR/NAME.log. Names are validated
 * identifiers (letters, digits, '_' and '-'), never paths. A spot_ns_t may be shared by threads.
 */
#ifndef SPOT_NS_H
#define SPOT_NS_H

#include <stddef.h>

#include "spot/log.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct spot_ns spot_ns_t;

/* Makes dir a namespace (creating the directory if missing). Idempotent: an existing namespace is left alone. */
int spot_ns_init(const char *dir);

/* Opens the namespace at dir. SPOT_ENONS (with a detail line naming `spot init`) if dir is not one. io NULL means
 * spot_io_posix(). *out is the caller's until spot_ns_close(). */
int spot_ns_open(const char *dir, spot_io_t *io, spot_ns_t **out);
void spot_ns_close(spot_ns_t *ns);

/* The namespace's node id: a random 64-bit number chosen by spot_ns_init, naming this node in event logs. */
uint64_t spot_ns_node_id(const spot_ns_t *ns);

/* How long puts through ns wait for a pending handler before SPOT_EBUSY (see spot_log_set_busy_timeout). */
void spot_ns_set_busy_timeout(spot_ns_t *ns, uint32_t ms);

/* The namespace's directory, as given to spot_ns_open(); valid until spot_ns_close(). */
const char *spot_ns_dir(const spot_ns_t *ns);

/* Creates log `name`. SPOT_EBADNAME, SPOT_EEXIST, SPOT_EINVAL. */
int spot_ns_create_log(spot_ns_t *ns, const char *name, const spot_log_config_t *cfg);

/* Opens log `name` (see spot_log_open). SPOT_ENOTFOUND with a detail line if there is no such log. */
int spot_ns_open_log(spot_ns_t *ns, const char *name, unsigned flags, spot_log_t **out, spot_log_report_t *report);

/* Writes the path of log `name` into buf. SPOT_EBADNAME, SPOT_ERANGE if cap is too small. */
int spot_ns_log_path(const spot_ns_t *ns, const char *name, char *buf, size_t cap);

/* Calls fn(name, arg) for every log in the namespace, in name order; a non-zero return stops and is returned. */
typedef int (*spot_ns_list_fn)(const char *name, void *arg);
int spot_ns_list(spot_ns_t *ns, spot_ns_list_fn fn, void *arg);

#ifdef __cplusplus
}
#endif
#endif
