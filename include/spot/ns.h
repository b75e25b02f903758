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

/* What `spot check LOG [--fix]` found: the open's recovery report, the verify's counts, and the verify's verdict. */
typedef struct spot_check_result {
  spot_log_report_t opened;   /* what recovery at the open found and did (with fix: damaged elements marked lost) */
  spot_log_report_t verified; /* what spot_log_verify counted in the window afterwards */
  int status;                 /* spot_log_verify's: 0, or SPOT_ECORRUPT when damage is left (run it with fix) */
  char detail[512];           /* the verify's detail line when status != 0, else "" */
} spot_check_result_t;

/* Checks log `name` of ns as `spot check` does: opens it (fix: with SPOT_LOG_FIX, which needs the log to itself:
 * SPOT_EBUSY while any other handle has it open, a serving node's included), verifies every slot of its window,
 * closes it, and fills *out (written only on success). Damage found is not a failure of the call: out->status says
 * it. Fails with spot_ns_open_log's errors when the log cannot be opened (SPOT_ENOTFOUND, SPOT_ECORRUPT for damage
 * recovery will not pass over without fix, SPOT_EBUSY), with a detail line. */
int spot_ns_check_log(spot_ns_t *ns, const char *name, int fix, spot_check_result_t *out);

/* Calls fn(name, arg) for every log in the namespace, in name order; a non-zero return stops and is returned. */
typedef int (*spot_ns_list_fn)(const char *name, void *arg);
int spot_ns_list(spot_ns_t *ns, spot_ns_list_fn fn, void *arg);

#ifdef __cplusplus
}
#endif
#endif
