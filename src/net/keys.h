/*
 * net/keys.h: CURVE key pairs for spot nodes and clients, and the known_nodes file.
 *
 * Keys are libzmq CURVE (Curve25519) keys. Files hold them as Z85 text, 40 characters for 32 bytes:
 *   NAME.key  the pair, mode 0600, written by `spot keygen NAME` (never overwritten):
 *               # spot CURVE key pair NAME, made by `spot keygen`: keep this file secret; give out NAME.pub
 *               public <40 Z85 characters>
 *               secret <40 Z85 characters>
 *             Blank lines and lines starting with '#' are ignored; `public` and `secret` each appear once.
 *   NAME.pub  the public key alone: 40 Z85 characters and a newline.
 *   known_nodes  one node per line, `HOST:PORT PUBLIC_KEY [# comment]` (blank lines and '#' lines ignored): the
 *             public key a client expects from the node at HOST:PORT (an IPv6 host is written in brackets).
 * Every loader checks lengths and characters, and a .key file's public key must be the one its secret key gives.
 * Errors carry a detail line (spot_errdetail()) naming the file and line and saying what to do.
 *
 * Ownership: the structures below are caller-owned values; nothing here keeps a pointer to an argument. A key
 * pair holds a secret: wipe it with spot__keys_wipe() when done.
 */
#ifndef SPOT_NET_KEYS_H
#define SPOT_NET_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define SPOT__KEY_Z85_LEN 40 /* characters of a key in Z85 */
#define SPOT__KEY_RAW_LEN 32 /* bytes of a key */

typedef struct spot__pubkey {
  char z85[SPOT__KEY_Z85_LEN + 1]; /* NUL-terminated */
  uint8_t raw[SPOT__KEY_RAW_LEN];
} spot__pubkey_t;

typedef struct spot__keypair {
  spot__pubkey_t pub;
  char secret_z85[SPOT__KEY_Z85_LEN + 1]; /* NUL-terminated */
  uint8_t secret_raw[SPOT__KEY_RAW_LEN];
} spot__keypair_t;

/* Makes a new random key pair into *out. 0, or SPOT_EINVAL when libzmq was built without CURVE. */
int spot__keys_generate(spot__keypair_t *out);

/* Writes DIR/NAME.key (the pair, mode 0600, synced) and DIR/NAME.pub (the public key). name must be a spot name
 * (letters, digits, '_' and '-'): SPOT_EBADNAME otherwise. Refuses to overwrite: SPOT_EEXIST if either file exists,
 * and nothing is written. SPOT_ENOTFOUND if DIR is not a directory; SPOT_EPERM, SPOT_ENOSPC, SPOT_EIO. On failure
 * no file is left behind. */
int spot__keys_write(const spot__keypair_t *kp, const char *dir, const char *name);

/* Loads the key pair in the .key file at path into *out (written only on success). SPOT_ENOTFOUND, SPOT_EPERM
 * (unreadable, or readable or writable by group or others: the detail line names the `chmod 600 FILE` fix, as ssh
 * does), SPOT_EINVAL (not a regular file, bad format, bad key, or a public key that does not match the secret
 * key). */
int spot__keys_load(const char *path, spot__keypair_t *out);

/* Loads the public key in the .pub file at path. SPOT_ENOTFOUND, SPOT_EPERM, SPOT_EINVAL. */
int spot__keys_load_public(const char *path, spot__pubkey_t *out);

/* Parses the len characters at text as a Z85 public key (exactly 40 characters of the Z85 alphabet, and a value
 * that fits). what names the key in the detail line ("--node-key", "known_nodes line 3"). 0 or SPOT_EINVAL. */
int spot__keys_parse_public(const char *text, size_t len, const char *what, spot__pubkey_t *out);

/* The public key an option names: the file at arg if one exists, else arg itself as 40 Z85 characters.
 * what names the option in errors ("--node-key"). 0, SPOT_ENOTFOUND, SPOT_EPERM or SPOT_EINVAL. */
int spot__keys_public_arg(const char *arg, const char *what, spot__pubkey_t *out);

/* Overwrites the secret half (and the rest) of *kp with zeros in a way the compiler does not drop. */
void spot__keys_wipe(spot__keypair_t *kp);

/* ---- known_nodes ---- */

typedef struct spot__known_node {
  char *hostport; /* "host:port", owned by the table */
  spot__pubkey_t key;
  unsigned line;
} spot__known_node_t;

typedef struct spot__known_nodes {
  spot__known_node_t *v;
  size_t n;
  char *path; /* the file read, for messages (owned; "" when parsed from text) */
} spot__known_nodes_t;

/* Parses known_nodes text (len bytes; what names it in errors, e.g. the path) into *out, which the caller frees
 * with spot__keys_known_free(). A line that is not blank, not a comment and not `HOST:PORT KEY [# comment]`, or a
 * HOST:PORT listed twice, is SPOT_EINVAL naming the line number; *out is then left empty. SPOT_ENOMEM. */
int spot__keys_known_parse(const char *text, size_t len, const char *what, spot__known_nodes_t *out);

/* Reads and parses the known_nodes file at path (as spot__keys_known_parse). SPOT_ENOTFOUND, SPOT_EPERM too. */
int spot__keys_known_load(const char *path, spot__known_nodes_t *out);

/* The key listed for hostport ("host:port", compared exactly) into *out. SPOT_ENOTFOUND with a detail line saying
 * how to add it. */
int spot__keys_known_find(const spot__known_nodes_t *k, const char *hostport, spot__pubkey_t *out);

/* Frees what the table owns and empties it. Safe on an empty (zeroed) table. */
void spot__keys_known_free(spot__known_nodes_t *k);

/* ---- shared with access.c ---- */

/* Reads the whole regular file at path (at most max bytes) into a new NUL-terminated buffer *out (caller frees) of
 * *len bytes, and its permission bits into *mode (may be NULL). Never blocks on a FIFO or device put at path.
 * what names the file's role in errors ("access file"). SPOT_ENOTFOUND, SPOT_EPERM, SPOT_EINVAL (not a regular
 * file, or larger than max), SPOT_ENOMEM, SPOT_EIO, each with a detail line. */
int spot__keys_read_file(const char *path, size_t max, const char *what, char **out, size_t *len, unsigned *mode);

/* 1 if c may appear in a Z85 string. */
int spot__keys_z85_char(char c);

#endif
