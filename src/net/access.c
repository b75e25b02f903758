/*
 * access.c: the namespace access file (see net/access.h): parsing, checks, and reloading when the file changes.
 *
 * The table fails closed: until a load succeeds, and whenever the file is missing or broken, every check is
 * refused, and the refusal says why. Rules are few (one per client key), so they are a plain array searched in
 * order; a check is a scan of it, with no allocation and no I/O (the caller decides when to refresh: at every
 * check, one stat, or at most once per interval with spot__access_refresh_within, one clock read).
 */
#include "net/access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "platform/platform.h"

#define ACCESS_MAX (1u << 20) /* bytes: an access file larger than this is refused */
#define RACY_NS 2000000000ull /* a file modified this recently may change again without its time changing */

static const struct {
  const char *name;
  unsigned bit;
} rights[] = {
    {"get", SPOT_RIGHT_GET}, {"put", SPOT_RIGHT_PUT}, {"create", SPOT_RIGHT_CREATE}, {"deploy", SPOT_RIGHT_DEPLOY},
    {"admin", SPOT_RIGHT_ADMIN}};
#define NRIGHTS (sizeof rights / sizeof rights[0])

const char *spot__access_rights_text(unsigned right, char *buf, size_t cap) {
  size_t n = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < NRIGHTS; i++)
    if (right & rights[i].bit) {
      int w = snprintf(buf + n, cap - n, "%s%s", n ? "," : "", rights[i].name);
      if (w < 0 || (size_t)w >= cap - n)
        break;
      n += (size_t)w;
    }
  if (n == 0)
    snprintf(buf, cap, "none");
  return buf;
}

void spot__access_init(spot__access_t *a) { memset(a, 0, sizeof *a); }

void spot__access_free(spot__access_t *a) {
  free(a->rules);
  free(a->path);
  spot__access_init(a);
}

static void clear_rules(spot__access_t *a) {
  a->n = 0;
  a->any = 0;
}

int spot__access_admits(const spot__access_t *a, const char *client_z85) {
  if (a->state != SPOT__ACCESS_OK || client_z85 == NULL || strlen(client_z85) != SPOT__KEY_Z85_LEN)
    return 0;
  return a->any != 0 || spot__access_listed(a, client_z85);
}

unsigned spot__access_rights(const spot__access_t *a, const char *client_z85) {
  if (a->state != SPOT__ACCESS_OK || client_z85 == NULL)
    return 0;
  unsigned got = a->any;
  for (size_t i = 0; i < a->n; i++)
    if (strcmp(a->rules[i].key, client_z85) == 0)
      got |= a->rules[i].rights;
  return got;
}

int spot__access_listed(const spot__access_t *a, const char *client_z85) {
  if (a->state != SPOT__ACCESS_OK || client_z85 == NULL)
    return 0;
  for (size_t i = 0; i < a->n; i++)
    if (strcmp(a->rules[i].key, client_z85) == 0)
      return a->rules[i].rights != 0;
  return 0;
}

/* Marks the table BROKEN (or MISSING) with the current detail line and returns rc. */
static int refuse_all(spot__access_t *a, spot__access_state_t state, int rc) {
  clear_rules(a);
  a->state = state;
  a->err = rc;
  snprintf(a->why, sizeof a->why, "%s", spot_errdetail());
  return rc;
}

static int is_space(char c) { return c == ' ' || c == '\t'; }

/* Parses the comma list [b, e) into *out. what_line is "PATH line N" for errors. */
static int parse_rights(const char *b, const char *e, const char *what, unsigned line, unsigned *out) {
  unsigned bits = 0;
  const char *p = b;
  while (p < e && is_space(*p))
    p++;
  if (p == e)
    return spot__fail(
        SPOT_EINVAL, "%s line %u: no rights after the key; write a comma list of get, put, create, deploy, admin", what, line);
  while (p <= e) {
    const char *c = memchr(p, ',', (size_t)(e - p));
    const char *ie = c ? c : e;
    const char *ib = p;
    while (ib < ie && is_space(*ib))
      ib++;
    const char *te = ie;
    while (te > ib && is_space(te[-1]))
      te--;
    size_t n = (size_t)(te - ib);
    unsigned bit = 0;
    for (size_t i = 0; i < NRIGHTS; i++)
      if (strlen(rights[i].name) == n && memcmp(rights[i].name, ib, n) == 0)
        bit = rights[i].bit;
    if (bit == 0) {
      if (n == 0)
        return spot__fail(SPOT_EINVAL, "%s line %u: an empty right in the list (two commas, or one at an end)", what,
                          line);
      return spot__fail(SPOT_EINVAL,
                        "%s line %u: unknown right '%.*s'; rights are get, put, create, deploy and admin, separated by commas",
                        what, line, (int)(n > 40 ? 40 : n), ib);
    }
    bits |= bit;
    if (c == NULL)
      break;
    p = c + 1;
  }
  *out = bits;
  return 0;
}

static int add_rule(spot__access_t *a, const char *z85, unsigned bits, unsigned line) {
  for (size_t i = 0; i < a->n; i++)
    if (strcmp(a->rules[i].key, z85) == 0) {
      a->rules[i].rights |= bits;
      return 0;
    }
  if (a->n == a->cap) {
    size_t cap = a->cap ? a->cap * 2 : 16;
    spot__access_rule_t *r = realloc(a->rules, cap * sizeof *r);
    if (r == NULL)
      return spot__fail(SPOT_ENOMEM, "no memory for the access rules");
    a->rules = r, a->cap = cap;
  }
  spot__access_rule_t *r = &a->rules[a->n++];
  memcpy(r->key, z85, sizeof r->key);
  r->rights = bits;
  r->line = line;
  return 0;
}

/* Parses one non-blank line [b, e), number line, into the table. 0, SPOT_EINVAL (the line is malformed: the caller
 * skips it) or SPOT_ENOMEM. */
static int parse_line(spot__access_t *a, const char *b, const char *e, const char *what, unsigned line) {
  const char *we = b;
  while (we < e && !is_space(*we))
    we++;
  size_t wl = (size_t)(we - b);
  int rc;
  unsigned bits;
  const char *hash = memchr(we, '#', (size_t)(e - we));
  if (wl == 3 && memcmp(b, "any", 3) == 0) {
    if ((rc = parse_rights(we, hash ? hash : e, what, line, &bits)) != 0)
      return rc;
    a->any |= bits;
    return 0;
  }
  int keyish = wl == SPOT__KEY_Z85_LEN;
  for (size_t i = 0; keyish && i < wl; i++)
    keyish = spot__keys_z85_char(b[i]);
  if (!keyish && *b == '#')
    return 0; /* a comment line */
  if (!keyish)
    return spot__fail(SPOT_EINVAL,
                      "%s line %u: '%.*s' is neither a 40-character public key (from a NAME.pub) nor `any`; lines "
                      "are `PUBLIC_KEY RIGHTS [# comment]`",
                      what, line, (int)(wl > 48 ? 48 : wl), b);
  spot__pubkey_t key;
  char where[4200];
  snprintf(where, sizeof where, "%s line %u", what, line);
  if ((rc = spot__keys_parse_public(b, wl, where, &key)) != 0)
    return rc;
  if ((rc = parse_rights(we, hash ? hash : e, what, line, &bits)) != 0)
    return rc;
  return add_rule(a, key.z85, bits, line);
}

/* Parses every line; a malformed line is skipped (it grants nothing) and counted, the first one's error kept in
 * a->warn. 0 or SPOT_ENOMEM. */
static int parse(spot__access_t *a, const char *text, size_t len, const char *what) {
  const char *p = text, *end = text + len;
  unsigned line = 0;
  a->skipped = 0;
  a->warn[0] = '\0';
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *b = p, *e = nl ? nl : end;
    p = nl ? nl + 1 : end;
    line++;
    if (e > b && e[-1] == '\r')
      e--;
    while (b < e && is_space(*b))
      b++;
    if (b == e)
      continue;
    int rc = parse_line(a, b, e, what, line);
    if (rc == SPOT_ENOMEM)
      return rc;
    if (rc != 0) {
      if (a->skipped++ == 0)
        snprintf(a->warn, sizeof a->warn, "%s", spot_errdetail());
    }
  }
  return 0;
}

static int set_path(spot__access_t *a, const char *path) {
  if (a->path != NULL && strcmp(a->path, path) == 0)
    return 0;
  char *copy = strdup(path);
  if (copy == NULL)
    return spot__fail(SPOT_ENOMEM, "no memory for the access file's path");
  free(a->path);
  a->path = copy;
  return 0;
}

int spot__access_parse(spot__access_t *a, const char *text, size_t len, const char *what) {
  char before[sizeof a->warn];
  unsigned skipped_before = a->skipped;
  memcpy(before, a->warn, sizeof before);
  clear_rules(a);
  int rc = set_path(a, what);
  if (rc == 0)
    rc = parse(a, text, len, what);
  if (rc != 0)
    return refuse_all(a, SPOT__ACCESS_BROKEN, rc);
  if (a->skipped != 0 && (a->skipped != skipped_before || strcmp(before, a->warn) != 0))
    a->warn_gen++;
  a->state = SPOT__ACCESS_OK;
  a->err = 0;
  a->why[0] = '\0';
  return 0;
}

int spot__access_load(spot__access_t *a, const char *path) {
  int rc = set_path(a, path);
  if (rc != 0)
    return refuse_all(a, SPOT__ACCESS_BROKEN, rc);
  spot__file_stamp_t stamp;
  a->checked_ns = spot__now_ns(); /* before the stat: a change after this instant is seen by a later check */
  rc = spot__file_stamp(path, &stamp);
  memset(&a->stamp, 0, sizeof a->stamp);
  a->racy = 0;
  if (rc == SPOT_ENOTFOUND) {
    spot__fail(rc,
               "access file %s does not exist, so no client may connect; create it with lines `PUBLIC_KEY RIGHTS` "
               "(rights: get, put, create, deploy, admin; `any` in place of a key for every client)",
               path);
    return refuse_all(a, SPOT__ACCESS_MISSING, rc);
  }
  if (rc != 0) {
    spot__fail(rc, "cannot read access file %s (%s), so no client may connect; check its permissions", path,
               spot_strerror(rc));
    return refuse_all(a, SPOT__ACCESS_BROKEN, rc);
  }
  char *text;
  size_t len;
  rc = spot__keys_read_file(path, ACCESS_MAX, "access file", &text, &len, NULL);
  if (rc == SPOT_ENOTFOUND) /* removed since the stat */
    return spot__access_load(a, path);
  if (rc != 0)
    return refuse_all(a, SPOT__ACCESS_BROKEN, rc);
  rc = spot__access_parse(a, text, len, path);
  free(text);
  a->stamp = stamp;
  uint64_t now = spot__wall_ns(), last = stamp.mtime_ns > stamp.ctime_ns ? stamp.mtime_ns : stamp.ctime_ns;
  a->racy = last > now || now - last < RACY_NS;
  return rc;
}

static int same_stamp(const spot__file_stamp_t *x, const spot__file_stamp_t *y) {
  return x->mtime_ns == y->mtime_ns && x->ctime_ns == y->ctime_ns && x->size == y->size && x->dev == y->dev &&
         x->ino == y->ino;
}

/* The last load's result, again (nothing changed). */
static int last_result(const spot__access_t *a) { return a->err != 0 ? spot__fail(a->err, "%s", a->why) : 0; }

int spot__access_refresh(spot__access_t *a, const char *path) {
  if (a->state == SPOT__ACCESS_UNLOADED || a->path == NULL || strcmp(a->path, path) != 0 || a->racy)
    return spot__access_load(a, path);
  spot__file_stamp_t stamp;
  a->checked_ns = spot__now_ns();
  int rc = spot__file_stamp(path, &stamp);
  int missing_still = rc == SPOT_ENOTFOUND && a->state == SPOT__ACCESS_MISSING;
  if (!missing_still && (rc != 0 || a->state == SPOT__ACCESS_MISSING || !same_stamp(&stamp, &a->stamp)))
    return spot__access_load(a, path);
  return last_result(a);
}

int spot__access_refresh_within(spot__access_t *a, const char *path, uint64_t now_ns, uint64_t interval_ns) {
  if (a->state != SPOT__ACCESS_UNLOADED && a->path != NULL && a->checked_ns != 0 && now_ns >= a->checked_ns &&
      now_ns - a->checked_ns < interval_ns && strcmp(a->path, path) == 0)
    return last_result(a);
  return spot__access_refresh(a, path);
}

int spot__access_check(const spot__access_t *a, const char *client_z85, unsigned right) {
  if (a->state == SPOT__ACCESS_OK && client_z85 != NULL && (spot__access_rights(a, client_z85) & right) == right &&
      strlen(client_z85) == SPOT__KEY_Z85_LEN)
    return 0; /* allowed: no text to make */
  char want[64], have[64];
  const char *file = a->path ? a->path : "the access file";
  spot__access_rights_text(right, want, sizeof want);
  if (client_z85 == NULL || strlen(client_z85) != SPOT__KEY_Z85_LEN)
    return spot__fail(SPOT_EPERM, "refused %s: the client's key is not a 40-character Z85 key", want);
  switch (a->state) {
  case SPOT__ACCESS_UNLOADED:
    return spot__fail(SPOT_EPERM, "refused %s for key %s: no access file has been loaded", want, client_z85);
  case SPOT__ACCESS_MISSING:
    return spot__fail(SPOT_EPERM,
                      "refused %s for key %s: %s does not exist, so nobody may connect; create it with the line "
                      "`%s %s` (or `any %s` for every client)",
                      want, client_z85, file, client_z85, want, want);
  case SPOT__ACCESS_BROKEN:
    return spot__fail(SPOT_EPERM, "refused %s for key %s: nobody may connect until %s is fixed: %s", want, client_z85,
                      file, a->why);
  case SPOT__ACCESS_OK:
    break;
  }
  unsigned got = a->any;
  const spot__access_rule_t *rule = NULL;
  for (size_t i = 0; i < a->n; i++)
    if (memcmp(a->rules[i].key, client_z85, SPOT__KEY_Z85_LEN) == 0) {
      rule = &a->rules[i];
      got |= rule->rights;
      break;
    }
  if ((got & right) == right)
    return 0;
  if (rule == NULL) {
    char anyp[96] = "";
    if (a->any)
      snprintf(anyp, sizeof anyp, " (and `any` gives only %s)", spot__access_rights_text(a->any, have, sizeof have));
    return spot__fail(SPOT_EPERM, "refused %s for key %s: it is not in %s%s; to allow it, add the line `%s %s`", want,
                      client_z85, file, anyp, client_z85, want);
  }
  spot__access_rights_text(got, have, sizeof have);
  return spot__fail(SPOT_EPERM, "refused %s for key %s: %s line %u gives it only %s; to allow it, add %s to that line",
                    want, client_z85, file, rule->line, have, want);
}
