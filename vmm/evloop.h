/* SPDX-License-Identifier: MIT */
#ifndef INLAY_EVLOOP_H
#define INLAY_EVLOOP_H

#include <stdint.h>

/** Called on the loop thread with the epoll events that fired. */
typedef void (*evloop_fn)(void *opaque, uint32_t events);

struct evloop;

struct evloop *evloop_create(void);
/** Safe on NULL. Handlers still registered are dropped, fds are not closed. */
void evloop_destroy(struct evloop *loop);
/** Watch @fd for @events (EPOLLIN, ...). Returns 0 or -errno. */
int evloop_add(struct evloop *loop, int fd, uint32_t events, evloop_fn fn, void *opaque);
/** Stop watching @fd. Safe from a handler, including @fd's own. */
int evloop_del(struct evloop *loop, int fd);
/** Dispatch until evloop_stop(). Returns the code given to evloop_stop. */
int evloop_run(struct evloop *loop);
/** Ask the loop to return @code; callable from any thread; first call wins. */
void evloop_stop(struct evloop *loop, int code);

#endif
