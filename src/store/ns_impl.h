/*
 * store/ns_impl.h: the insides of a spot_ns_t, shared by ns.c (directories, the log cache) and src/dispatch/
 * (the handler registry, puts with events, the node runtime).
 *
 * A namespace directory holds NAME.log for each log, the marker file .spot-namespace, and .spot/ with the node's
 * identity (node), its event log (events.log: every put, start, end and fail, never blocking), its trigger queue
 * (triggers.log: the puts whose handlers have not ended, kept by the ring until they do), its handler registry
 * (handlers.log), and handler objects
 * (handlers/NAME-VERSION.so).
 */
#ifndef SPOT_STORE_NS_IMPL_H
#define SPOT_STORE_NS_IMPL_H

#include "platform/platform.h"
#include "spot/ns.h"

#define SPOT__EVENTS_HISTORY_DEFAULT 65536u
#define SPOT__REG_RECORD 256u

typedef struct spot__reg_entry {
  uint32_t id;      /* sequence number of the name's first registration */
  char name[64];
  char file[176];   /* object file under .spot/handlers/, "" for a handler built into the node's program */
  uint64_t version; /* sequence number of the latest registration */
} spot__reg_entry_t;

typedef struct spot__log_cache {
  char name[64];
  spot_log_t *log;
} spot__log_cache_t;

struct spot_ns {
  char *dir;
  spot_io_t *io;
  uint64_t node_id;
  uint32_t busy_ms;        /* backpressure limit given to the logs opened here (0: the default) */
  spot__mutex_t mu;        /* guards everything below */
  spot_log_t *events;      /* .spot/events.log, opened on first use */
  spot_log_t *triggers;    /* .spot/triggers.log, opened on first use */
  spot_log_t *registry;    /* .spot/handlers.log, opened on first use */
  uint64_t registry_seen;  /* registry records loaded into reg[] */
  spot__reg_entry_t *reg;
  size_t nreg, capreg;
  spot__log_cache_t *logs; /* logs opened through spot__ns_log, kept open until spot_ns_close */
  size_t nlogs, caplogs;
};

/* The open handle of log `name`, opened on first use and owned by ns. */
int spot__ns_log(spot_ns_t *ns, const char *name, spot_log_t **out);
/* The node's event log, trigger queue and handler registry, owned by ns. */
int spot__ns_events(spot_ns_t *ns, spot_log_t **out);
int spot__ns_triggers(spot_ns_t *ns, spot_log_t **out);
int spot__ns_registry(spot_ns_t *ns, spot_log_t **out);
/* spot_ns_init with every file of the namespace written through io (directories are made in the file system):
 * idempotent and complete. Until the marker exists (written last, through a temporary name), init may remake
 * what an interrupted init left (a damaged node file, a log that does not open, temporary files); a second init
 * after a failure finishes the namespace. Once the marker exists, only missing logs are added. */
int spot__ns_init_io(const char *dir, spot_io_t *io);
/* Writes the path of .spot/<rel> into buf. */
int spot__ns_path(const spot_ns_t *ns, const char *rel, char *buf, size_t cap);

#endif
