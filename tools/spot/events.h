/*
 * tools/spot/events.h: the `spot` subcommands that read a node's event log (cmd_events.c: `spot events`;
 * cmd_trace.c: `spot trace`), and the ways of printing one event that both use.
 *
 * The printers write to a caller's FILE and keep nothing: every pointer they take is read during the call only.
 * Both commands read events through the public API only (spot/events.h), as any program could.
 */
#ifndef SPOT_CLI_EVENTS_H
#define SPOT_CLI_EVENTS_H

#include <stdint.h>
#include <stdio.h>

#include "spot/events.h"

/* `spot events [--follow] [--json] [--from ID] [--limit N]` and `spot trace LOG SEQNO [--json|--dot]`. */
int spot_cli_events(int argc, char **argv, const char *ns_dir);
int spot_cli_trace(int argc, char **argv, const char *ns_dir);

/* Wall-clock nanoseconds as ISO-8601 UTC with microseconds, "2024-05-01T12:00:00.123456Z" (buf of 32 bytes). */
void spot_cli_iso_time(uint64_t ns, char buf[32]);

/* s as a JSON string literal (quotes, escapes, invalid UTF-8 as U+FFFD), or null when s is NULL or "". */
void spot_cli_json_string(FILE *out, const char *s);

/* The members of event e as JSON, without the braces: "id", "type", "node", "time_ns", "time", "log", "seqno",
 * "handler" (null if none), "cause" ({"node","id"}, null for a put from outside), "ref" (null for a put),
 * "status", "duration_ns", "reason" (null if none). */
void spot_cli_event_json_members(FILE *out, const spot_eventrec_t *e);

/* A node id as the 16 hex digits used everywhere in the output (buf of 17 bytes). */
void spot_cli_node_hex(uint64_t node, char buf[17]);

#endif
