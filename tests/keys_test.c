/*
 * keys_test.c: CURVE key pairs and known_nodes (net/keys.h) and `spot keygen`: a pair written and loaded back is
 * the same pair; the .key file is mode 0600; nothing is overwritten; a .key whose public key is not its secret's,
 * bad Z85 (length, characters, range) and bad names are refused with a detail line; known_nodes parses, finds and
 * reports errors by line; a secret key file that group or others may read is refused naming `chmod 600`, as ssh
 * does; a FIFO in place of a key file is refused at once, never waited on.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "net/keys.h"
#include "spot.h"
#include "support.h"
#include "test.h"

/* Writes text to path, readable by its owner only (as a key file must be). */
static int write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (f == NULL)
    return -1;
  int ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok && chmod(path, 0600) == 0 ? 0 : -1;
}

static void read_text(const char *path, char *buf, size_t cap) {
  buf[0] = '\0';
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return;
  size_t n = fread(buf, 1, cap - 1, f);
  buf[n] = '\0';
  fclose(f);
}

static int exists(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f)
    fclose(f);
  return f != NULL;
}

static void test_generate_write_load(void) {
  char dir[4096], path[4200];
  snprintf(dir, sizeof dir, "%s", spot_test_dir("keys"));
  spot__keypair_t kp, back;
  CHECK_OK(spot__keys_generate(&kp));
  CHECK_EQ(strlen(kp.pub.z85), SPOT__KEY_Z85_LEN);
  CHECK_EQ(strlen(kp.secret_z85), SPOT__KEY_Z85_LEN);
  CHECK(strcmp(kp.pub.z85, kp.secret_z85) != 0);
  CHECK_OK(spot__keys_write(&kp, dir, "node-1"));
  snprintf(path, sizeof path, "%s/node-1.key", dir);
  CHECK_OK(spot__keys_load(path, &back));
  CHECK(strcmp(back.pub.z85, kp.pub.z85) == 0);
  CHECK(strcmp(back.secret_z85, kp.secret_z85) == 0);
  CHECK(memcmp(back.pub.raw, kp.pub.raw, SPOT__KEY_RAW_LEN) == 0);
  CHECK(memcmp(back.secret_raw, kp.secret_raw, SPOT__KEY_RAW_LEN) == 0);

  spot__pubkey_t pk;
  snprintf(path, sizeof path, "%s/node-1.pub", dir);
  char text[256];
  read_text(path, text, sizeof text);
  CHECK_EQ(strlen(text), SPOT__KEY_Z85_LEN + 1);
  CHECK(text[SPOT__KEY_Z85_LEN] == '\n');
  CHECK_OK(spot__keys_load_public(path, &pk));
  CHECK(strcmp(pk.z85, kp.pub.z85) == 0);
  CHECK(memcmp(pk.raw, kp.pub.raw, SPOT__KEY_RAW_LEN) == 0);
  /* An option naming a key: the file, or the key itself. */
  memset(&pk, 0, sizeof pk);
  CHECK_OK(spot__keys_public_arg(path, "--node-key", &pk));
  CHECK(strcmp(pk.z85, kp.pub.z85) == 0);
  memset(&pk, 0, sizeof pk);
  CHECK_OK(spot__keys_public_arg(kp.pub.z85, "--node-key", &pk));
  CHECK(memcmp(pk.raw, kp.pub.raw, SPOT__KEY_RAW_LEN) == 0);
  spot__keys_wipe(&kp);
  CHECK(kp.secret_z85[0] == '\0' && kp.secret_raw[0] == 0 && kp.secret_raw[31] == 0);
}

static void test_key_file_mode_0600(void) {
  char dir[4096], out[64];
  snprintf(dir, sizeof dir, "%s", spot_test_dir("keymode"));
  spot__keypair_t kp;
  CHECK_OK(spot__keys_generate(&kp));
  CHECK_OK(spot__keys_write(&kp, dir, "k"));
  CHECK_EQ(spot_test_sh(out, sizeof out, NULL, 0, "stat -c %%a %s/k.key", dir), 0);
  CHECK(strcmp(out, "600\n") == 0);
}

static void test_never_overwrites(void) {
  char dir[4096], path[4200], before[256], after[256];
  snprintf(dir, sizeof dir, "%s", spot_test_dir("keyexist"));
  spot__keypair_t a, b;
  CHECK_OK(spot__keys_generate(&a));
  CHECK_OK(spot__keys_generate(&b));
  CHECK_OK(spot__keys_write(&a, dir, "n"));
  snprintf(path, sizeof path, "%s/n.key", dir);
  read_text(path, before, sizeof before);
  CHECK_RC(spot__keys_write(&b, dir, "n"), SPOT_EEXIST);
  CHECK(strstr(spot_errdetail(), "n.key already exists") != NULL);
  read_text(path, after, sizeof after);
  CHECK(strcmp(before, after) == 0);
  /* A lone NAME.pub (someone else's key, copied here) is not overwritten either, and no .key is made. */
  snprintf(path, sizeof path, "%s/m.pub", dir);
  CHECK_EQ(write_text(path, "theirs\n"), 0);
  CHECK_RC(spot__keys_write(&b, dir, "m"), SPOT_EEXIST);
  read_text(path, after, sizeof after);
  CHECK(strcmp(after, "theirs\n") == 0);
  snprintf(path, sizeof path, "%s/m.key", dir);
  CHECK(!exists(path));
  snprintf(path, sizeof path, "%s/nowhere", dir);
  CHECK_RC(spot__keys_write(&b, path, "x"), SPOT_ENOTFOUND);
}

static void test_bad_names(void) {
  char dir[4096], path[4200];
  snprintf(dir, sizeof dir, "%s", spot_test_dir("keyname"));
  spot__keypair_t kp;
  CHECK_OK(spot__keys_generate(&kp));
  const char *bad[] = {"", "-x", "../x", "a/b", "a.b", "a b", "x\n"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK_RC(spot__keys_write(&kp, dir, bad[i]), SPOT_EBADNAME);
  snprintf(path, sizeof path, "%s/../x.key", dir);
  CHECK(!exists(path));
}

static void test_mismatched_pair_refused(void) {
  char dir[4096], path[4200], text[512];
  snprintf(dir, sizeof dir, "%s", spot_test_dir("keymix"));
  spot__keypair_t a, b, got;
  CHECK_OK(spot__keys_generate(&a));
  CHECK_OK(spot__keys_generate(&b));
  snprintf(path, sizeof path, "%s/mixed.key", dir);
  snprintf(text, sizeof text, "# mixed up\npublic %s\nsecret %s\n", a.pub.z85, b.secret_z85);
  CHECK_EQ(write_text(path, text), 0);
  CHECK_RC(spot__keys_load(path, &got), SPOT_EINVAL);
  CHECK(strstr(spot_errdetail(), "does not belong to its secret key") != NULL);
  CHECK(strstr(spot_errdetail(), "spot keygen") != NULL);
  /* The same pair, in the other order, with CRLF line ends and blank lines, is fine. */
  snprintf(text, sizeof text, "\r\nsecret %s\r\n\r\n  public\t%s  \r\n", b.secret_z85, b.pub.z85);
  CHECK_EQ(write_text(path, text), 0);
  CHECK_OK(spot__keys_load(path, &got));
  CHECK(strcmp(got.pub.z85, b.pub.z85) == 0);
}

static void test_bad_key_files(void) {
  char dir[4096], path[4200], text[512];
  snprintf(dir, sizeof dir, "%s", spot_test_dir("keybad"));
  spot__keypair_t a, got;
  spot__pubkey_t pk;
  CHECK_OK(spot__keys_generate(&a));
  snprintf(path, sizeof path, "%s/x.key", dir);
  CHECK_RC(spot__keys_load(path, &got), SPOT_ENOTFOUND);
  CHECK(strstr(spot_errdetail(), "spot keygen") != NULL);

  struct {
    const char *fmt, *detail;
  } cases[] = {
      {"public %s\n", "no secret key line"},
      {"public %s\nsecret %s\nsecret %s\n", "line 3: a second secret key"},
      {"public %s\nsecret %s extra\n", "line 2: expected"},
      {"publik %s\n", "line 1: expected"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(text, sizeof text, cases[i].fmt, a.pub.z85, a.secret_z85, a.secret_z85);
    CHECK_EQ(write_text(path, text), 0);
    CHECK_RC(spot__keys_load(path, &got), SPOT_EINVAL);
    if (strstr(spot_errdetail(), cases[i].detail) == NULL) {
      fprintf(stderr, "  case %zu: detail '%s'\n", i, spot_errdetail());
      CHECK(0);
    }
  }
  /* A secret key with a character outside Z85, named by line and position. */
  char sec[41];
  memcpy(sec, a.secret_z85, sizeof sec);
  sec[7] = '"';
  snprintf(text, sizeof text, "public %s\nsecret %s\n", a.pub.z85, sec);
  CHECK_EQ(write_text(path, text), 0);
  CHECK_RC(spot__keys_load(path, &got), SPOT_EINVAL);
  CHECK(strstr(spot_errdetail(), "line 2: character 8") != NULL);

  /* A .key given where a .pub is wanted is refused without echoing the secret. */
  snprintf(text, sizeof text, "# pair\npublic %s\nsecret %s\n", a.pub.z85, a.secret_z85);
  CHECK_EQ(write_text(path, text), 0);
  CHECK_RC(spot__keys_load_public(path, &pk), SPOT_EINVAL);
  CHECK(strstr(spot_errdetail(), "NAME.pub") != NULL);
  CHECK(strstr(spot_errdetail(), a.secret_z85) == NULL);
  snprintf(path, sizeof path, "%s/short.pub", dir);
  CHECK_EQ(write_text(path, "abc\n"), 0);
  CHECK_RC(spot__keys_load_public(path, &pk), SPOT_EINVAL);
  CHECK(strstr(spot_errdetail(), "has 3") != NULL);
}

static void test_bad_z85_refused(void) {
  spot__pubkey_t pk;
  spot__keypair_t a;
  CHECK_OK(spot__keys_generate(&a));
  char k[64];
  CHECK_RC(spot__keys_parse_public(a.pub.z85, 39, "k", &pk), SPOT_EINVAL);
  CHECK(strstr(spot_errdetail(), "40 Z85 characters, this one has 39") != NULL);
  snprintf(k, sizeof k, "%sA", a.pub.z85);
  CHECK_RC(spot__keys_parse_public(k, strlen(k), "k", &pk), SPOT_EINVAL);
  CHECK_RC(spot__keys_parse_public("", 0, "k", &pk), SPOT_EINVAL);
  const char bad_chars[] = {' ', '"', '\'', ',', ';', '\\', '_', '|', '~', '`', '\0', '\x80'};
  for (size_t i = 0; i < sizeof bad_chars; i++) {
    memcpy(k, a.pub.z85, 41);
    k[39] = bad_chars[i];
    CHECK_RC(spot__keys_parse_public(k, 40, "k", &pk), SPOT_EINVAL);
    CHECK(strstr(spot_errdetail(), "character 40") != NULL);
  }
  /* Right characters, value out of range: "#####" is 85^5 - 1 > 2^32 - 1. */
  memcpy(k, a.pub.z85, 41);
  memcpy(k + 10, "#####", 5);
  CHECK_RC(spot__keys_parse_public(k, 40, "k", &pk), SPOT_EINVAL);
  CHECK(strstr(spot_errdetail(), "out of range") != NULL);
  /* public_arg: neither a file nor a key. */
  CHECK_RC(spot__keys_public_arg("/nonexistent/node.pub", "--node-key", &pk), SPOT_ENOTFOUND);
  CHECK_RC(spot__keys_public_arg("", "--node-key", &pk), SPOT_EINVAL);
  CHECK_OK(spot__keys_parse_public(a.pub.z85, 40, "k", &pk));
  CHECK(strcmp(pk.z85, a.pub.z85) == 0);
}

static void test_known_nodes(void) {
  spot__keypair_t a, b;
  CHECK_OK(spot__keys_generate(&a));
  CHECK_OK(spot__keys_generate(&b));
  char text[1024];
  snprintf(text, sizeof text,
           "# nodes this client talks to\n\n"
           "edge.local:7000 %s   # the edge\n"
           "  [::1]:7001\t%s\r\n"
           "10.0.0.2:7000 %s\n",
           a.pub.z85, b.pub.z85, b.pub.z85);
  spot__known_nodes_t k;
  CHECK_OK(spot__keys_known_parse(text, strlen(text), "known_nodes", &k));
  CHECK_EQ(k.n, 3);
  spot__pubkey_t pk;
  CHECK_OK(spot__keys_known_find(&k, "edge.local:7000", &pk));
  CHECK(strcmp(pk.z85, a.pub.z85) == 0);
  CHECK_OK(spot__keys_known_find(&k, "[::1]:7001", &pk));
  CHECK(strcmp(pk.z85, b.pub.z85) == 0);
  CHECK_RC(spot__keys_known_find(&k, "edge.local:7001", &pk), SPOT_ENOTFOUND);
  CHECK(strstr(spot_errdetail(), "edge.local:7001 KEY") != NULL);
  spot__keys_known_free(&k);
  CHECK(k.v == NULL && k.n == 0);

  struct {
    const char *fmt, *detail;
  } bad[] = {
      {"# x\nnoport %s\n", "line 2: 'noport' is not HOST:PORT"},
      {"h:0 %s\n", "line 1: 'h:0' is not HOST:PORT"},
      {"h:65536 %s\n", "is not HOST:PORT"},
      {"h:1\n%.0s", "line 1: no public key"},
      {"h:1 %s extra\n", "line 1: unexpected 'extra'"},
      {"h:1 %.39s\n", "line 1: a key is 40"},
      {"\nh:1 %s\n h:1 %s\n", "line 3: h:1 is already listed on line 2"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(text, sizeof text, bad[i].fmt, a.pub.z85, b.pub.z85);
    memset(&k, 0, sizeof k);
    CHECK_RC(spot__keys_known_parse(text, strlen(text), "known_nodes", &k), SPOT_EINVAL);
    if (strstr(spot_errdetail(), bad[i].detail) == NULL) {
      fprintf(stderr, "  case %zu: detail '%s'\n", i, spot_errdetail());
      CHECK(0);
    }
    CHECK(k.v == NULL && k.n == 0);
  }

  char dir[4096], path[4200];
  snprintf(dir, sizeof dir, "%s", spot_test_dir("known"));
  snprintf(path, sizeof path, "%s/known_nodes", dir);
  CHECK_RC(spot__keys_known_load(path, &k), SPOT_ENOTFOUND);
  CHECK(strstr(spot_errdetail(), "--node-key") != NULL);
  snprintf(text, sizeof text, "localhost:7000 %s\n", a.pub.z85);
  CHECK_EQ(write_text(path, text), 0);
  CHECK_OK(spot__keys_known_load(path, &k));
  CHECK_OK(spot__keys_known_find(&k, "localhost:7000", &pk));
  CHECK(memcmp(pk.raw, a.pub.raw, SPOT__KEY_RAW_LEN) == 0);
  spot__keys_known_free(&k);
}

static void test_keygen_cli(void) {
  char dir[4096], out[512], err[1024], path[4200], pub[256];
  snprintf(dir, sizeof dir, "%s", spot_test_dir("keygen"));
  /* Whatever the umask lets through, the secret is the owner's alone. */
  CHECK_EQ(
      spot_test_sh(out, sizeof out, err, sizeof err, "umask 000 && %s keygen edge-1 --dir %s", spot_test_bin(), dir),
      0);
  snprintf(path, sizeof path, "%s/edge-1.pub", dir);
  read_text(path, pub, sizeof pub);
  CHECK_EQ(strlen(out), SPOT__KEY_Z85_LEN + 1);
  CHECK(strcmp(out, pub) == 0);
  snprintf(path, sizeof path, "%s/edge-1.key", dir);
  spot__keypair_t kp;
  CHECK_OK(spot__keys_load(path, &kp));
  CHECK(strncmp(kp.pub.z85, out, SPOT__KEY_Z85_LEN) == 0);
  CHECK_EQ(spot_test_sh(out, sizeof out, NULL, 0, "stat -c %%a %s", path), 0);
  CHECK(strcmp(out, "600\n") == 0);

  /* A second keygen of the same name fails, says why, and leaves the pair alone. */
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s keygen edge-1 --dir %s", spot_test_bin(), dir), 1);
  CHECK(strstr(err, "already exists") != NULL);
  CHECK(out[0] == '\0');
  spot__keypair_t again;
  CHECK_OK(spot__keys_load(path, &again));
  CHECK(strcmp(again.secret_z85, kp.secret_z85) == 0);

  /* Bad names: refused, nothing written (the name is quoted for the shell; -- lets "-x" through as a name). */
  const char *bad[] = {"../up", "a/b", "a.b", "-x", "with space", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s keygen --dir %s -- '%s'", spot_test_bin(), dir, bad[i]),
             1);
    if (strstr(err, "key name") == NULL) {
      fprintf(stderr, "  name '%s': err '%s'\n", bad[i], err);
      CHECK(0);
    }
  }
  CHECK_EQ(spot_test_sh(out, sizeof out, NULL, 0, "ls -A %s; ls %s/..", dir, dir), 0);
  CHECK(strncmp(out, "edge-1.key\nedge-1.pub\n", 22) == 0);
  CHECK(strstr(out, "up.") == NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s keygen a --dir %s/missing", spot_test_bin(), dir), 1);
  CHECK(strstr(err, "does not exist") != NULL);
  CHECK_EQ(spot_test_sh(out, sizeof out, err, sizeof err, "%s keygen", spot_test_bin()), 1);
  CHECK(strstr(err, "usage: spot keygen NAME") != NULL);
}

/* A secret key file readable (or writable) by group or others is refused, naming the fix; 0600 and 0400 load. */
static void test_open_key_file_refused(void) {
  char dir[4096], path[4200], text[512];
  snprintf(dir, sizeof dir, "%s", spot_test_dir("keyperm"));
  spot__keypair_t a, got;
  CHECK_OK(spot__keys_generate(&a));
  snprintf(path, sizeof path, "%s/node.key", dir);
  snprintf(text, sizeof text, "public %s\nsecret %s\n", a.pub.z85, a.secret_z85);
  CHECK_EQ(write_text(path, text), 0);
  CHECK_OK(spot__keys_load(path, &got));
  const unsigned modes[] = {0640, 0604, 0620, 0644, 0660, 0606};
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    CHECK_EQ(chmod(path, modes[i]), 0);
    memset(&got, 0, sizeof got);
    CHECK_RC(spot__keys_load(path, &got), SPOT_EPERM);
    char want[4400];
    snprintf(want, sizeof want, "run `chmod 600 %s`", path);
    CHECK(strstr(spot_errdetail(), want) != NULL);
    CHECK(strstr(spot_errdetail(), a.secret_z85) == NULL);
    CHECK(got.secret_z85[0] == '\0'); /* nothing written on failure */
  }
  CHECK_EQ(chmod(path, 0400), 0);
  CHECK_OK(spot__keys_load(path, &got));
  CHECK(strcmp(got.pub.z85, a.pub.z85) == 0);
}

/* A FIFO where a key file should be: refused at once (before the fix, the open blocked for good). */
static void test_fifo_key_file_refused(void) {
  char dir[4096], path[4200];
  snprintf(dir, sizeof dir, "%s", spot_test_dir("keyfifo"));
  snprintf(path, sizeof path, "%s/node.key", dir);
  CHECK_EQ(mkfifo(path, 0600), 0);
  spot__keypair_t got;
  CHECK_RC(spot__keys_load(path, &got), SPOT_EINVAL);
  CHECK(strstr(spot_errdetail(), "not a regular file") != NULL);
  spot__pubkey_t pk;
  CHECK_RC(spot__keys_load_public(path, &pk), SPOT_EINVAL);
}

static const spot_test_t tests[] = {
    {"open_key_file_refused", test_open_key_file_refused},
    {"fifo_key_file_refused", test_fifo_key_file_refused},
    {"generate_write_load", test_generate_write_load},
    {"key_file_mode_0600", test_key_file_mode_0600},
    {"never_overwrites", test_never_overwrites},
    {"bad_names", test_bad_names},
    {"mismatched_pair_refused", test_mismatched_pair_refused},
    {"bad_key_files", test_bad_key_files},
    {"bad_z85_refused", test_bad_z85_refused},
    {"known_nodes", test_known_nodes},
    {"keygen_cli", test_keygen_cli},
    {NULL, NULL},
};
SPOT_TEST_MAIN(tests)
