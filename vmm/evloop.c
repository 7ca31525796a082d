// SPDX-License-Identifier: MIT
#include "evloop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct evloop_handler {
	int fd;
	evloop_fn fn;
	void *opaque;
	bool dead; /* removed while its batch was being dispatched */
	struct evloop_handler *next;
};

struct evloop {
	int epfd;
	int stopfd;
	atomic_bool stopping;
	int code;
	struct evloop_handler *handlers;
	struct evloop_handler *graveyard; /* freed after the current batch */
	pthread_mutex_t lock;
};

struct evloop *evloop_create(void)
{
	struct evloop *loop = calloc(1, sizeof(*loop));
	if (!loop)
		return NULL;
	pthread_mutex_init(&loop->lock, NULL);
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		goto err_free;
	loop->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->stopfd < 0)
		goto err_epoll;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->stopfd, &ev) < 0)
		goto err_stop;
	return loop;
err_stop:
	close(loop->stopfd);
err_epoll:
	close(loop->epfd);
err_free:
	free(loop);
	return NULL;
}

static void free_list(struct evloop_handler *h)
{
	while (h) {
		struct evloop_handler *next = h->next;
		free(h);
		h = next;
	}
}

void evloop_destroy(struct evloop *loop)
{
	if (!loop)
		return;
	free_list(loop->handlers);
	free_list(loop->graveyard);
	close(loop->stopfd);
	close(loop->epfd);
	pthread_mutex_destroy(&loop->lock);
	free(loop);
}

int evloop_add(struct evloop *loop, int fd, uint32_t events, evloop_fn fn, void *opaque)
{
	struct evloop_handler *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	*h = (struct evloop_handler){.fd = fd, .fn = fn, .opaque = opaque};
	struct epoll_event ev = {.events = events, .data.ptr = h};
	pthread_mutex_lock(&loop->lock);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;
		pthread_mutex_unlock(&loop->lock);
		free(h);
		return err;
	}
	h->next = loop->handlers;
	loop->handlers = h;
	pthread_mutex_unlock(&loop->lock);
	return 0;
}

int evloop_del(struct evloop *loop, int fd)
{
	int ret = -ENOENT;
	pthread_mutex_lock(&loop->lock);
	for (struct evloop_handler **p = &loop->handlers; *p; p = &(*p)->next) {
		struct evloop_handler *h = *p;
		if (h->fd != fd)
			continue;
		epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
		*p = h->next;
		/* An event for it may already sit in the current batch. */
		h->dead = true;
		h->next = loop->graveyard;
		loop->graveyard = h;
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&loop->lock);
	return ret;
}

int evloop_run(struct evloop *loop)
{
	struct epoll_event evs[32];
	while (!atomic_load(&loop->stopping)) {
		int n = epoll_wait(loop->epfd, evs, 32, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n && !atomic_load(&loop->stopping); i++) {
			struct evloop_handler *h = evs[i].data.ptr;
			if (!h || h->dead)
				continue;
			h->fn(h->opaque, evs[i].events);
		}
		pthread_mutex_lock(&loop->lock);
		struct evloop_handler *dead = loop->graveyard;
		loop->graveyard = NULL;
		pthread_mutex_unlock(&loop->lock);
		free_list(dead);
	}
	pthread_mutex_lock(&loop->lock);
	int code = loop->code;
	pthread_mutex_unlock(&loop->lock);
	return code;
}

void evloop_stop(struct evloop *loop, int code)
{
	bool expected = false;
	pthread_mutex_lock(&loop->lock);
	if (atomic_compare_exchange_strong(&loop->stopping, &expected, true))
		loop->code = code;
	pthread_mutex_unlock(&loop->lock);
	uint64_t one = 1;
	ssize_t r = write(loop->stopfd, &one, sizeof(one));
	(void)r;
}
