/*
 * sync.c: mutexes and condition variables for POSIX (platform.h): the robust process-shared mutex that lives in a
 * log's mapping, and the process-local ones.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "platform/platform.h"
#include "spot/error.h"

_Static_assert(sizeof(pthread_mutex_t) <= SPOT__PMUTEX_BYTES, "pthread_mutex_t does not fit SPOT__PMUTEX_BYTES");
_Static_assert(sizeof(pthread_mutex_t) <= sizeof(spot__mutex_t), "pthread_mutex_t does not fit spot__mutex_t");
_Static_assert(sizeof(pthread_cond_t) <= sizeof(spot__cond_t), "pthread_cond_t does not fit spot__cond_t");

int spot__pmutex_init(void *mem) {
  pthread_mutexattr_t a;
  memset(mem, 0, SPOT__PMUTEX_BYTES);
  if (pthread_mutexattr_init(&a) != 0)
    return SPOT_EIO;
  int rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  if (rc == 0)
    rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  if (rc == 0)
    rc = pthread_mutex_init((pthread_mutex_t *)mem, &a);
  pthread_mutexattr_destroy(&a);
  return rc == 0 ? 0 : SPOT_EIO;
}

int spot__pmutex_lock(void *mem) {
  int rc = pthread_mutex_lock((pthread_mutex_t *)mem);
  if (rc == EOWNERDEAD) {
    pthread_mutex_consistent((pthread_mutex_t *)mem);
    return 1;
  }
  if (rc != 0)
    abort(); /* ENOTRECOVERABLE or EINVAL: the mapping is broken, an invariant, not an input error */
  return 0;
}

void spot__pmutex_unlock(void *mem) { pthread_mutex_unlock((pthread_mutex_t *)mem); }

void spot__mutex_init(spot__mutex_t *m) { pthread_mutex_init((pthread_mutex_t *)m->opaque, NULL); }
void spot__mutex_destroy(spot__mutex_t *m) { pthread_mutex_destroy((pthread_mutex_t *)m->opaque); }
void spot__mutex_lock(spot__mutex_t *m) { pthread_mutex_lock((pthread_mutex_t *)m->opaque); }
void spot__mutex_unlock(spot__mutex_t *m) { pthread_mutex_unlock((pthread_mutex_t *)m->opaque); }
void spot__cond_init(spot__cond_t *c) { pthread_cond_init((pthread_cond_t *)c->opaque, NULL); }
void spot__cond_destroy(spot__cond_t *c) { pthread_cond_destroy((pthread_cond_t *)c->opaque); }
void spot__cond_wait(spot__cond_t *c, spot__mutex_t *m) {
  pthread_cond_wait((pthread_cond_t *)c->opaque, (pthread_mutex_t *)m->opaque);
}
void spot__cond_broadcast(spot__cond_t *c) { pthread_cond_broadcast((pthread_cond_t *)c->opaque); }

_Static_assert(sizeof(pthread_t) <= sizeof(spot__thread_t), "pthread_t does not fit spot__thread_t");

int spot__thread_start(spot__thread_t *t, void *(*fn)(void *), void *arg) {
  return pthread_create((pthread_t *)t->opaque, NULL, fn, arg) == 0 ? 0 : SPOT_ENOMEM;
}

void spot__thread_join(spot__thread_t *t) { pthread_join(*(pthread_t *)t->opaque, NULL); }

void spot__thread_detach(spot__thread_t *t) { pthread_detach(*(pthread_t *)t->opaque); }
