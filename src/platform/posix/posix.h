/*
 * platform/posix/posix.h: what the POSIX port's files share.
 */
#ifndef SPOT_PLATFORM_POSIX_H
#define SPOT_PLATFORM_POSIX_H

/* The SPOT_E* code for an errno value (SPOT_EIO for anything without a closer one). */
int spot__posix_err(int e);

#endif
