/*
 * core/name.h: validation of log, namespace and handler names.
 *
 * A name is an identifier, never a path: 1 to 63 characters from [A-Za-z0-9_-], not starting with '-'. So a name
 * can be joined to a directory without escaping it ("..", "/", "" and control bytes are all refused).
 */
#ifndef SPOT_CORE_NAME_H
#define SPOT_CORE_NAME_H

#include <stddef.h>

#define SPOT_NAME_MAX 63

/* Returns 0 if name is a valid spot name, SPOT_EBADNAME (with a detail line saying why, naming `what`, e.g. "log")
 * otherwise. name may be NULL (refused). */
int spot__name_check(const char *name, const char *what);

#endif
