/*
 * core/error.h: internal helpers for reporting errors with a detail line (see include/spot/error.h).
 */
#ifndef SPOT_CORE_ERROR_H
#define SPOT_CORE_ERROR_H

#include "spot/error.h"

/* Records a printf-style explanation for spot_errdetail() on this thread and returns err unchanged. */
int spot__fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Forgets the current thread's detail line. */
void spot__clear_detail(void);

#endif
