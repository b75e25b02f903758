/*
 * keys.c: CURVE key pairs (generate, write, load, check) and the known_nodes file; see net/keys.h for the formats.
 *
 * libzmq does the cryptography (zmq_curve_keypair, zmq_curve_public) and the Z85 coding; this file does the files
 * and the checking, so that a bad key is refused here with a line saying what is wrong, not later as a silent
 * CURVE handshake failure. Files are read and written with stdio, except the secret file, which is created with
 * mode 0600 by the platform (spot__write_private).
 */
#include "net/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "core/error.h"
#include "core/name.h"
#include "platform/platform.h"
#include "spot/net.h"

_Static_assert(SPOT_KEY_TEXT == SPOT__KEY_Z85_LEN + 1, "public and internal key text sizes differ");

#define KEYFILE_MAX 4096

static const char z85_alphabet[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

int spot__keys_z85_char(char c) { return c != '\0' && strchr(z85_alphabet, c) != NULL; }

static void wipe(void *p, size_t n) {
  volatile unsigned char *v = p;
  while (n--)
    *v++ = 0;
}

void spot__keys_wipe(spot__keypair_t *kp) { wipe(kp, sizeof *kp); }

/* Decodes a checked 40-character key; 0 or SPOT_EINVAL (a 5-character group over 32 bits). */
static int z85_decode(const char *text, size_t len, const char *what, char z85[SPOT__KEY_Z85_LEN + 1],
                      uint8_t raw[SPOT__KEY_RAW_LEN]) {
  if (len != SPOT__KEY_Z85_LEN)
    return spot__fail(SPOT_EINVAL,
                      "%s: a key is %d Z85 characters, this one has %zu; copy it whole from the NAME.pub file that "
                      "`spot keygen NAME` wrote",
                      what, SPOT__KEY_Z85_LEN, len);
  for (size_t i = 0; i < len; i++)
    if (!spot__keys_z85_char(text[i]))
      return spot__fail(SPOT_EINVAL,
                        "%s: character %zu of the key is not a Z85 character (byte 0x%02x); copy the key whole from "
                        "the NAME.pub file that `spot keygen NAME` wrote",
                        what, i + 1, (unsigned char)text[i]);
  char buf[SPOT__KEY_Z85_LEN + 1];
  memcpy(buf, text, len);
  buf[len] = '\0';
  uint8_t out[SPOT__KEY_RAW_LEN];
  if (zmq_z85_decode(out, buf) == NULL)
    return spot__fail(SPOT_EINVAL, "%s: '%s' is not a valid Z85 key (a group of 5 characters is out of range)", what,
                      buf);
  memcpy(z85, buf, sizeof buf);
  memcpy(raw, out, sizeof out);
  wipe(out, sizeof out);
  return 0;
}

int spot__keys_parse_public(const char *text, size_t len, const char *what, spot__pubkey_t *out) {
  spot__pubkey_t k;
  int rc = z85_decode(text, len, what, k.z85, k.raw);
  if (rc == 0)
    *out = k;
  return rc;
}

int spot__keys_generate(spot__keypair_t *out) {
  spot__keypair_t kp;
  if (zmq_curve_keypair(kp.pub.z85, kp.secret_z85) != 0)
    return spot__fail(SPOT_EINVAL, "this libzmq has no CURVE support; install a libzmq built with libsodium "
                                   "(Debian's libzmq5 is)");
  if (zmq_z85_decode(kp.pub.raw, kp.pub.z85) == NULL || zmq_z85_decode(kp.secret_raw, kp.secret_z85) == NULL) {
    spot__keys_wipe(&kp);
    return spot__fail(SPOT_EIO, "libzmq made a key pair it cannot decode");
  }
  *out = kp;
  spot__keys_wipe(&kp);
  return 0;
}

/* ---- files ---- */

int spot__keys_read_file(const char *path, size_t max, const char *what, char **out, size_t *len, unsigned *mode) {
  int rc = spot__read_regular(path, max, out, len, mode);
  switch (rc) {
  case 0:
    return 0;
  case SPOT_ENOTFOUND:
    return spot__fail(rc, "%s %s does not exist", what, path);
  case SPOT_EPERM:
    return spot__fail(rc, "cannot open %s %s (check its permissions)", what, path);
  case SPOT_EINVAL:
    return spot__fail(rc, "%s %s is not a regular file (a FIFO, a device or a directory?); replace it with a file",
                      what, path);
  case SPOT_ETOOBIG:
    return spot__fail(SPOT_EINVAL, "%s %s is larger than %zu bytes; is it the right file?", what, path, max);
  case SPOT_ENOMEM:
    return spot__fail(rc, "no memory to read %s", path);
  default:
    return spot__fail(rc, "cannot read %s %s: %s", what, path, spot_strerror(rc));
  }
}

static int join(char *buf, size_t cap, const char *dir, const char *name, const char *ext) {
  int n = snprintf(buf, cap, "%s/%s%s", dir, name, ext);
  if (n < 0 || (size_t)n >= cap)
    return spot__fail(SPOT_EINVAL, "path %s/%s%s is too long", dir, name, ext);
  return 0;
}

int spot__keys_write(const spot__keypair_t *kp, const char *dir, const char *name) {
  int rc = spot__name_check(name, "key");
  if (rc != 0)
    return rc;
  if (!spot__is_dir(dir))
    return spot__fail(SPOT_ENOTFOUND, "directory %s does not exist; create it or choose another", dir);
  char keypath[4096], pubpath[4096];
  if ((rc = join(keypath, sizeof keypath, dir, name, ".key")) != 0 ||
      (rc = join(pubpath, sizeof pubpath, dir, name, ".pub")) != 0)
    return rc;
  if (spot__exists(keypath) || spot__exists(pubpath))
    return spot__fail(SPOT_EEXIST,
                      "%s already exists; spot never overwrites a key (nodes and access files may rely on it): "
                      "choose another name, or remove the old %s and %s yourself",
                      spot__exists(keypath) ? keypath : pubpath, keypath, pubpath);
  char text[512];
  int n = snprintf(text, sizeof text,
                   "# spot CURVE key pair %s, made by `spot keygen`: keep this file secret; give out %s.pub\n"
                   "public %s\nsecret %s\n",
                   name, name, kp->pub.z85, kp->secret_z85);
  rc = spot__write_private(keypath, text, (size_t)n);
  wipe(text, sizeof text);
  if (rc == SPOT_EEXIST)
    return spot__fail(rc, "%s already exists (made just now by someone else?); choose another name", keypath);
  if (rc != 0)
    return spot__fail(rc, "cannot write %s: %s", keypath, spot_strerror(rc));
  FILE *f = fopen(pubpath, "wx");
  int ok = f != NULL && fprintf(f, "%s\n", kp->pub.z85) == SPOT__KEY_Z85_LEN + 1;
  if (f != NULL && fclose(f) != 0)
    ok = 0;
  if (!ok) {
    if (f != NULL)
      remove(pubpath);
    remove(keypath);
    return spot__fail(SPOT_EIO, "cannot write %s (is the directory writable, the disk full?); nothing was written",
                      pubpath);
  }
  return 0;
}

/* ---- line scanning, shared by the .key and known_nodes readers ---- */

typedef struct lines {
  const char *p, *end;
  unsigned no; /* number of the line last returned, from 1 */
} lines_t;

/* The next line (without its '\n' or "\r\n") as [*b, *e); 0 at the end. */
static int next_line(lines_t *l, const char **b, const char **e) {
  if (l->p >= l->end)
    return 0;
  const char *nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
  const char *stop = nl ? nl : l->end;
  *b = l->p;
  *e = stop;
  if (*e > *b && (*e)[-1] == '\r')
    (*e)--;
  l->p = nl ? nl + 1 : l->end;
  l->no++;
  return 1;
}

static int is_space(char c) { return c == ' ' || c == '\t'; }

/* The next whitespace-separated word of [*p, e) as [*wb, *we); 0 if none is left. */
static int next_word(const char **p, const char *e, const char **wb, const char **we) {
  const char *s = *p;
  while (s < e && is_space(*s))
    s++;
  if (s == e)
    return 0;
  const char *t = s;
  while (t < e && !is_space(*t))
    t++;
  *wb = s, *we = t, *p = t;
  return 1;
}

/* ---- .key and .pub ---- */

static int parse_keyfile(const char *text, size_t len, const char *path, spot__keypair_t *out) {
  lines_t l = {text, text + len, 0};
  const char *b, *e;
  unsigned seen_pub = 0, seen_sec = 0;
  char what[4200];
  spot__keypair_t kp;
  memset(&kp, 0, sizeof kp);
  int rc = 0;
  while (rc == 0 && next_line(&l, &b, &e)) {
    const char *p = b, *wb, *we, *kb, *ke, *xb, *xe;
    if (!next_word(&p, e, &wb, &we) || *wb == '#')
      continue;
    size_t wl = (size_t)(we - wb);
    int is_pub = wl == 6 && memcmp(wb, "public", 6) == 0;
    int is_sec = wl == 6 && memcmp(wb, "secret", 6) == 0;
    if ((!is_pub && !is_sec) || !next_word(&p, e, &kb, &ke) || next_word(&p, e, &xb, &xe)) {
      rc = spot__fail(SPOT_EINVAL,
                      "%s line %u: expected `public KEY` or `secret KEY`; is it a key file written by `spot keygen`?",
                      path, l.no);
      break;
    }
    if ((is_pub && seen_pub) || (is_sec && seen_sec)) {
      rc = spot__fail(SPOT_EINVAL, "%s line %u: a second %s key (first on line %u); a key file holds one pair", path,
                      l.no, is_pub ? "public" : "secret", is_pub ? seen_pub : seen_sec);
      break;
    }
    snprintf(what, sizeof what, "%s line %u", path, l.no);
    if (is_pub) {
      rc = z85_decode(kb, (size_t)(ke - kb), what, kp.pub.z85, kp.pub.raw);
      seen_pub = l.no;
    } else {
      rc = z85_decode(kb, (size_t)(ke - kb), what, kp.secret_z85, kp.secret_raw);
      seen_sec = l.no;
    }
  }
  if (rc == 0 && (!seen_pub || !seen_sec))
    rc = spot__fail(SPOT_EINVAL, "%s has no %s key line; a key file written by `spot keygen` has both", path,
                    seen_pub ? "secret" : "public");
  if (rc == 0) {
    char derived[SPOT__KEY_Z85_LEN + 1];
    if (zmq_curve_public(derived, kp.secret_z85) != 0)
      rc = spot__fail(SPOT_EINVAL, "this libzmq has no CURVE support; install a libzmq built with libsodium");
    else if (strcmp(derived, kp.pub.z85) != 0)
      rc = spot__fail(SPOT_EINVAL,
                      "%s: its public key does not belong to its secret key (the file was edited or mixed up); make "
                      "a new pair with `spot keygen NAME` and hand out the new NAME.pub",
                      path);
  }
  if (rc == 0)
    *out = kp;
  spot__keys_wipe(&kp);
  return rc;
}

int spot__keys_load(const char *path, spot__keypair_t *out) {
  char *text;
  size_t len;
  unsigned mode = 0;
  int rc = spot__keys_read_file(path, KEYFILE_MAX, "key file", &text, &len, &mode);
  if (rc == SPOT_ENOTFOUND)
    return spot__fail(rc, "key file %s does not exist; make one with `spot keygen NAME` (it writes NAME.key)", path);
  if (rc != 0)
    return rc;
  if (mode & 077) { /* as ssh does: a secret others can read is not a secret */
    wipe(text, len);
    free(text);
    return spot__fail(SPOT_EPERM,
                      "key file %s holds a secret key but is readable or writable by others (mode %04o): run `chmod "
                      "600 %s` (and make a new pair with `spot keygen` if others may have read it)",
                      path, mode, path);
  }
  rc = parse_keyfile(text, len, path, out);
  wipe(text, len);
  free(text);
  return rc;
}

int spot__keys_load_public(const char *path, spot__pubkey_t *out) {
  char *text;
  size_t len;
  int rc = spot__keys_read_file(path, KEYFILE_MAX, "public key file", &text, &len, NULL);
  if (rc == SPOT_ENOTFOUND)
    return spot__fail(rc, "public key file %s does not exist; `spot keygen NAME` writes NAME.pub", path);
  if (rc != 0)
    return rc;
  const char *b = text, *e = text + len;
  while (b < e && (is_space(*b) || *b == '\n' || *b == '\r'))
    b++;
  while (e > b && (is_space(e[-1]) || e[-1] == '\n' || e[-1] == '\r'))
    e--;
  if (strstr(text, "\nsecret ") != NULL || strncmp(text, "secret ", 7) == 0) {
    rc = spot__fail(SPOT_EINVAL, "%s holds a secret key: give the public NAME.pub here, never NAME.key", path);
  } else {
    char what[4200];
    snprintf(what, sizeof what, "public key file %s", path);
    rc = spot__keys_parse_public(b, (size_t)(e - b), what, out);
  }
  wipe(text, len);
  free(text);
  return rc;
}

int spot__keys_public_arg(const char *arg, const char *what, spot__pubkey_t *out) {
  if (arg == NULL || arg[0] == '\0')
    return spot__fail(SPOT_EINVAL, "%s is empty: give a NAME.pub file or a 40-character public key", what);
  if (spot__exists(arg) || strlen(arg) != SPOT__KEY_Z85_LEN)
    return spot__keys_load_public(arg, out);
  return spot__keys_parse_public(arg, strlen(arg), what, out);
}

/* ---- known_nodes ---- */

void spot__keys_known_free(spot__known_nodes_t *k) {
  for (size_t i = 0; i < k->n; i++)
    free(k->v[i].hostport);
  free(k->v);
  free(k->path);
  memset(k, 0, sizeof *k);
}

/* Checks HOST:PORT: a non-empty host (or [IPv6]), a colon, a port 1..65535. */
static int hostport_ok(const char *s, size_t n) {
  const char *colon = NULL;
  for (size_t i = 0; i < n; i++)
    if (s[i] == ':')
      colon = s + i;
  if (colon == NULL || colon == s || colon + 1 == s + n || (size_t)(s + n - colon - 1) > 5)
    return 0;
  unsigned long port = 0;
  for (const char *p = colon + 1; p < s + n; p++) {
    if (*p < '0' || *p > '9')
      return 0;
    port = port * 10 + (unsigned long)(*p - '0');
  }
  if (port == 0 || port > 65535)
    return 0;
  for (const char *p = s; p < colon; p++)
    if ((unsigned char)*p <= ' ' || *p == '#' || *p == '/' || (unsigned char)*p >= 0x7f)
      return 0;
  if (s[0] == '[' && colon[-1] != ']')
    return 0;
  return 1;
}

int spot__keys_known_parse(const char *text, size_t len, const char *what, spot__known_nodes_t *out) {
  spot__known_nodes_t k = {0};
  size_t cap = 0;
  lines_t l = {text, text + len, 0};
  const char *b, *e;
  char where[4200];
  int rc = 0;
  if ((k.path = strdup(what)) == NULL)
    return spot__fail(SPOT_ENOMEM, "no memory for %s", what);
  while (next_line(&l, &b, &e)) {
    const char *p = b, *hb, *he, *kb, *ke, *xb, *xe;
    if (!next_word(&p, e, &hb, &he) || *hb == '#')
      continue;
    if (!hostport_ok(hb, (size_t)(he - hb))) {
      rc = spot__fail(SPOT_EINVAL, "%s line %u: '%.*s' is not HOST:PORT (a port 1-65535; IPv6 as [::1]:PORT)", what,
                      l.no, (int)(he - hb > 80 ? 80 : he - hb), hb);
      goto fail;
    }
    if (!next_word(&p, e, &kb, &ke)) {
      rc = spot__fail(SPOT_EINVAL,
                      "%s line %u: no public key after %.*s; write `HOST:PORT KEY`, KEY from the node's "
                      "NAME.pub",
                      what, l.no, (int)(he - hb), hb);
      goto fail;
    }
    if (next_word(&p, e, &xb, &xe) && *xb != '#') {
      rc = spot__fail(SPOT_EINVAL, "%s line %u: unexpected '%.*s' after the key (a comment starts with '#')", what,
                      l.no, (int)(xe - xb > 40 ? 40 : xe - xb), xb);
      goto fail;
    }
    for (size_t i = 0; i < k.n; i++)
      if (strlen(k.v[i].hostport) == (size_t)(he - hb) && memcmp(k.v[i].hostport, hb, (size_t)(he - hb)) == 0) {
        rc = spot__fail(SPOT_EINVAL, "%s line %u: %s is already listed on line %u; keep one line per node", what, l.no,
                        k.v[i].hostport, k.v[i].line);
        goto fail;
      }
    if (k.n == cap) {
      size_t ncap = cap ? cap * 2 : 8;
      spot__known_node_t *v = realloc(k.v, ncap * sizeof *v);
      if (v == NULL) {
        rc = spot__fail(SPOT_ENOMEM, "no memory for %s", what);
        goto fail;
      }
      k.v = v, cap = ncap;
    }
    spot__known_node_t *x = &k.v[k.n];
    snprintf(where, sizeof where, "%s line %u", what, l.no);
    if ((rc = spot__keys_parse_public(kb, (size_t)(ke - kb), where, &x->key)) != 0)
      goto fail;
    if ((x->hostport = strndup(hb, (size_t)(he - hb))) == NULL) {
      rc = spot__fail(SPOT_ENOMEM, "no memory for %s", what);
      goto fail;
    }
    x->line = l.no;
    k.n++;
  }
  *out = k;
  return 0;
fail:
  spot__keys_known_free(&k);
  return rc;
}

int spot__keys_known_load(const char *path, spot__known_nodes_t *out) {
  char *text;
  size_t len;
  int rc = spot__keys_read_file(path, 1u << 20, "known_nodes file", &text, &len, NULL);
  if (rc == SPOT_ENOTFOUND)
    return spot__fail(rc,
                      "known_nodes file %s does not exist; create it with lines `HOST:PORT KEY` or name the "
                      "node's key with --node-key",
                      path);
  if (rc != 0)
    return rc;
  rc = spot__keys_known_parse(text, len, path, out);
  free(text);
  return rc;
}

int spot__keys_known_find(const spot__known_nodes_t *k, const char *hostport, spot__pubkey_t *out) {
  for (size_t i = 0; i < k->n; i++)
    if (strcmp(k->v[i].hostport, hostport) == 0) {
      *out = k->v[i].key;
      return 0;
    }
  return spot__fail(SPOT_ENOTFOUND,
                    "no key for node %s in %s; add a line `%s KEY` with the node's public key (its NAME.pub), or "
                    "name it with --node-key",
                    hostport, k->path && k->path[0] ? k->path : "known_nodes", hostport);
}

int spot_keygen(const char *dir, const char *name, char pub[SPOT_KEY_TEXT]) {
  spot__keypair_t kp;
  int rc = spot__keys_generate(&kp);
  if (rc == 0)
    rc = spot__keys_write(&kp, dir, name);
  if (rc == 0 && pub != NULL)
    memcpy(pub, kp.pub.z85, SPOT_KEY_TEXT);
  spot__keys_wipe(&kp);
  return rc;
}
