/*
 * net/access.h: a namespace's access file, DIR/access: which client keys may do what.
 *
 * Format, one rule per line:
 *   PUBLIC_KEY RIGHTS [# comment]
 *   any RIGHTS [# comment]
 * PUBLIC_KEY is a client's 40-character Z85 public key (its NAME.pub), RIGHTS a comma list of get, put, create,
 * deploy and admin (spaces around the commas allowed), and `any` in place of a key gives its rights to every client,
 * known or not: only an operator who writes it allows anonymous access. A key listed on several lines has the
 * union of their rights. Blank lines and lines whose first word starts with '#' are comments, except that a first
 * word of exactly 40 Z85 characters is always a key ('#' is a Z85 character): so `#KEY RIGHTS` and `# KEY RIGHTS`
 * comment a key out. After the rights, '#' starts a comment.
 * Any other line is malformed: it is skipped (it grants nothing) and the others stay in force; the table counts
 * the skipped lines and keeps the first one's error, naming its line number, for the node to log once.
 *
 * The table fails closed: while the file is missing, unreadable or not a regular file (a FIFO is refused, never
 * waited on), every check is refused (not even `any` applies) with a detail line saying why and what to do.
 * spot__access_refresh() re-reads the file when its stamp changes (modification or status-change time, size, or
 * inode: an edit in place and a file renamed over it alike), so an edit takes effect without a restart (a file
 * modified in the last two seconds is re-read at every refresh, since a second write within the clock's granularity
 * may keep the same stamp). spot__access_refresh_within() does the same at most once per interval, so that a
 * server checking every request costs one clock read, not one stat, and an edit (a revoked key) is in force for
 * every check that starts more than the interval after the write.
 *
 * Ownership: the table is caller-owned and owns its contents; free them with spot__access_free(). Not thread-safe:
 * the caller serialises refreshes and checks on one table.
 */
#ifndef SPOT_NET_ACCESS_H
#define SPOT_NET_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "net/keys.h"
#include "platform/platform.h"
#include "spot/net.h"

typedef struct spot__access_rule {
  char key[SPOT__KEY_Z85_LEN + 1]; /* Z85 public key */
  unsigned rights;                 /* SPOT_RIGHT_* bits */
  unsigned line;
} spot__access_rule_t;

typedef enum spot__access_state {
  SPOT__ACCESS_UNLOADED = 0, /* never loaded */
  SPOT__ACCESS_OK,           /* rules below are in force */
  SPOT__ACCESS_MISSING,      /* the file does not exist: nobody is allowed */
  SPOT__ACCESS_BROKEN        /* unreadable or does not parse: nobody is allowed; why says why */
} spot__access_state_t;

typedef struct spot__access {
  spot__access_state_t state;
  spot__access_rule_t *rules;
  size_t n, cap;
  unsigned any;      /* rights of every client (from `any` lines) */
  char *path;        /* the file the table was loaded from (owned), NULL when parsed from text */
  spot__file_stamp_t stamp; /* the file's stamp when read */
  uint64_t checked_ns; /* spot__now_ns() at the last load or stamp comparison (0: never) */
  int racy;          /* modified too recently to trust the stamp: re-read at the next refresh */
  int err;           /* the last load's result (0 when OK) */
  char why[400];     /* when BROKEN: the error */
  unsigned skipped;  /* malformed lines skipped by the last parse */
  char warn[400];    /* the first skipped line's error, naming its line ("" when none was skipped) */
  unsigned warn_gen; /* incremented by each parse whose skipped lines differ from the previous parse's, so that the
                        caller logs each new warning once */
} spot__access_t;

/* An empty table (state UNLOADED: every check refused). */
void spot__access_init(spot__access_t *a);

/* Frees the table's contents; it is then as after spot__access_init(). */
void spot__access_free(spot__access_t *a);

/* Replaces the rules with those in text (len bytes); what names the text in errors (a path). Malformed lines are
 * skipped and counted (skipped, warn, warn_gen). 0, or SPOT_ENOMEM (the table is then BROKEN and refuses
 * everything). */
int spot__access_parse(spot__access_t *a, const char *text, size_t len, const char *what);

/* Reads path now. 0 when the rules are in force; SPOT_ENOTFOUND (MISSING), SPOT_EINVAL (BROKEN: not a regular
 * file, or too large), SPOT_EPERM/SPOT_EIO (BROKEN: unreadable) or SPOT_ENOMEM, each with a detail line for the operator; in every
 * failure the table refuses everything until a later load succeeds. */
int spot__access_load(spot__access_t *a, const char *path);

/* Re-reads path if it is not the file loaded last, if its stamp changed since (or it appeared or disappeared), or
 * if it was modified too recently to trust; otherwise does nothing (one stat). Returns as spot__access_load, and
 * when nothing changed, the result the last load had. */
int spot__access_refresh(spot__access_t *a, const char *path);

/* As spot__access_refresh, but only if the last load or stamp comparison was interval_ns or more before now_ns
 * (spot__now_ns()); otherwise does nothing and returns what the last one had. So a change to the file is in force
 * for every call that starts more than interval_ns after the change was written. */
int spot__access_refresh_within(spot__access_t *a, const char *path, uint64_t now_ns, uint64_t interval_ns);

/* 0 if the client with public key client_z85 (40 Z85 characters) holds every right in `right` (SPOT_RIGHT_*
 * bits), else SPOT_EPERM with a detail line naming the key, the right and the file, and what to change. */
int spot__access_check(const spot__access_t *a, const char *client_z85, unsigned right);

/* 1 if the table is in force and lets client_z85 connect at all: the key is listed, or an `any` line exists. The
 * handshake refuses every other key, so a stranger cannot send requests (nor make the node hold them). */
int spot__access_admits(const spot__access_t *a, const char *client_z85);

/* 1 if the table is in force and lists client_z85 (by its key, not through `any`). */
int spot__access_listed(const spot__access_t *a, const char *client_z85);

/* The rights client_z85 holds (its lines' and `any`'s), 0 when the table is not in force. */
unsigned spot__access_rights(const spot__access_t *a, const char *client_z85);

/* The rights of right as text, "get,put" ("none" for 0), into buf (at least 32 bytes). Returns buf. */
const char *spot__access_rights_text(unsigned right, char *buf, size_t cap);

#endif
