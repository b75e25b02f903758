/*
 * tools/spot/cli.h: what the `spot` command line's subcommands share: the command signature, option helpers and
 * the one way to report an error (one clear line on stderr, exit status 1).
 */
#ifndef SPOT_CLI_H
#define SPOT_CLI_H

#include <stddef.h>
#include <stdint.h>

/* A subcommand: argv[0] is its own name; ns_dir is the namespace chosen by -n DIR or $SPOT_DIR (NULL if neither).
 * Returns the process exit status. */
typedef int (*spot_cli_cmd_fn)(int argc, char **argv, const char *ns_dir);

/* Prints "spot: " + the formatted message (+ ": " + spot_errdetail() when rc is a spot error with a detail line)
 * to stderr and returns 1 (the exit status). rc 0 means a usage error with no spot code. */
int spot_cli_fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses a whole decimal unsigned number (with an optional K, M or G binary suffix when suffix is non-zero).
 * Returns 0 or SPOT_EINVAL. */
int spot_cli_parse_u64(const char *text, int suffix, uint64_t *out);

/* --key FILE and --node-key FILE|KEY (any position), for remote names; NULL when not given. */
extern const char *spot_cli_key, *spot_cli_node_key;

/* Subcommands of the log store (cmd_store.c). */
int spot_cli_init(int argc, char **argv, const char *ns_dir);
int spot_cli_create(int argc, char **argv, const char *ns_dir);
int spot_cli_put(int argc, char **argv, const char *ns_dir);
int spot_cli_get(int argc, char **argv, const char *ns_dir);
int spot_cli_latest(int argc, char **argv, const char *ns_dir);
int spot_cli_ls(int argc, char **argv, const char *ns_dir);
int spot_cli_info(int argc, char **argv, const char *ns_dir);
int spot_cli_check(int argc, char **argv, const char *ns_dir);
/* Handlers bound to logs, and removing a log (cmd_bind.c). */
int spot_cli_bind(int argc, char **argv, const char *ns_dir);
int spot_cli_unbind(int argc, char **argv, const char *ns_dir);
int spot_cli_rm(int argc, char **argv, const char *ns_dir);
/* `spot tail`: a log as a stream, local or remote (cmd_tail.c). */
int spot_cli_tail(int argc, char **argv, const char *ns_dir);
int spot_cli_status(int argc, char **argv, const char *ns_dir);

/* SPOT_HAVE_NET (set by the build): 1 with the network, 0 for -DSPOT_NET=OFF. */
#ifndef SPOT_HAVE_NET
#define SPOT_HAVE_NET 1
#endif

/* Refuses `what` (a remote name or a network command) in a build without the network: prints one line saying so
 * and returns 1 (cmd_nonet.c, only in such a build). */
int spot_cli_no_network(const char *what);

/* The same on remote names (cmd_remote.c; cmd_nonet.c refuses them in a build without the network). */
int spot_cli_remote_put(const char *url, const void *data, size_t len, const char *handler);
int spot_cli_remote_get(const char *url, const char *seqtext);
int spot_cli_remote_latest(const char *url);
int spot_cli_remote_info(const char *url, int json);
struct spot_log_config;
int spot_cli_remote_create(const char *url, const struct spot_log_config *cfg);
/* `spot ls`/`spot handlers` on spot://HOST:PORT/NS (the get right); bind (1) or unbind (0, handler "" or NULL:
 * whichever) on spot://HOST:PORT/NS/LOG (the admin right). */
int spot_cli_remote_list(const char *url, int handlers);
int spot_cli_remote_bind(const char *url, const char *handler, int bind);
/* `spot check spot://HOST:PORT/NS/LOG [--fix]` (the get right; --fix: admin) and `spot rm spot://... [--yes]`
 * (admin; without --yes it only says what would go, with the get right). */
int spot_cli_remote_check(const char *url, int fix);
int spot_cli_remote_rm(const char *url, int yes);

/* Prints what a check found as `spot check` does (cmd_store.c), the damage line on stderr: 0 when the log is
 * sound, 1 when damage is left. */
struct spot_check_result;
int spot_cli_check_print(const char *name, int fix, const struct spot_check_result *c);

/* Subcommands of handlers (cmd_handlers.c). */
int spot_cli_build_handler(int argc, char **argv, const char *ns_dir);
int spot_cli_handlers(int argc, char **argv, const char *ns_dir);
int spot_cli_deploy(int argc, char **argv, const char *ns_dir);
/* The compiler flag for spot's headers (headers.c): -I<dir> of this program's own install prefix, of the source
 * tree when it runs from its build tree, else `pkg-config --cflags spot`. *from (static) says which. 0, or
 * SPOT_ENOTFOUND with a detail line; flags is written only on success. */
int spot_cli_include_flags(char *flags, size_t cap, const char **from);
/* The bytes of a handler object: FILE.so as it is, FILE.c compiled (malloc'ed, the caller frees). */
int spot_cli_handler_object(const char *src, uint8_t **bytes, size_t *len);

#endif
