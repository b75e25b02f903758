/*
 * sync.c: process-local mutexes, condition variables and threads for POSIX (platform.h). (The log store needs no
 * process-shared mutex: appends reserve slots with atomics in the mapping, see store/log.c.)
 */
#include <pthread.h>

#include "platform/platform.h"
#include "spot/error.h"

_Static_assert(sizeof(pthread_mutex_t) <= sizeof(spot__mutex_t), "pthread_mutex_t does not fit spot__mutex_t");
_Static_assert(sizeof(pthread_cond_t) <= sizeof(spot__cond_t), "pthread_cond_t does not fit spot__cond_t");

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
