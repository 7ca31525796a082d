// SPDX-License-Identifier: MIT
#include "virtio.h"

#include <errno.h>
#include <linux/virtio_console.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CONSOLE_QUEUE_SIZE 128
#define CONSOLE_RX	   0
#define CONSOLE_TX	   1
/*
 * A reader that stops draining a non-blocking output gets this many waits
 * of CONSOLE_STALL_MS per chain before the rest of the chain is dropped, so
 * a stuck client cannot hold the event loop.
 */
#define CONSOLE_MAX_STALLS 10
#define CONSOLE_STALL_MS   100

struct console {
	struct virtio_dev dev; /* first: ops get &dev */
	struct virtio_console_config cfg;
	int in_fd, out_fd;  /* the caller's fds, or the connected client */
	bool out_is_socket; /* write with MSG_NOSIGNAL */
	bool registered;    /* in_fd is in the event loop */
	bool reading;	    /* ... and watched for input */
	bool in_closed;	    /* in_fd reached EOF or hung up */
	int listen_fd;	    /* listener mode, else -1 */
	int client_fd;	    /* the connected client, else -1 */
	char *path;	    /* the listening socket's file */
};

static struct console *to_console(struct virtio_dev *d)
{
	return (struct console *)d;
}

static void console_input(void *opaque, uint32_t events);

/*
 * (Re)register in_fd: for input when @read, otherwise, for a client, only
 * for its hang-up. Plain input fds are dropped from the loop while the
 * driver has no rx buffers, so the loop neither spins on them nor buffers.
 */
static void console_watch(struct console *con, bool read)
{
	uint32_t events = read ? EPOLLIN : 0;

	if (con->client_fd >= 0)
		events |= EPOLLRDHUP;
	if (con->registered)
		evloop_del(con->dev.loop, con->in_fd);
	con->registered = con->reading = false;
	if (!events)
		return;
	int err = evloop_add(con->dev.loop, con->in_fd, events, console_input, con);
	if (err) {
		fprintf(stderr, "virtio-console: cannot watch input: %s\n", strerror(-err));
		con->in_closed = true;
		return;
	}
	con->registered = true;
	con->reading = read;
}

static void console_drop_client(struct console *con)
{
	if (con->registered)
		evloop_del(con->dev.loop, con->client_fd);
	close(con->client_fd);
	con->client_fd = con->in_fd = con->out_fd = -1;
	con->registered = con->reading = false;
}

static void console_input_closed(struct console *con)
{
	if (con->client_fd >= 0) {
		console_drop_client(con);
		return;
	}
	con->in_closed = true;
	console_watch(con, false);
}

/* Fill one rx chain from in_fd. One read per event: a second could block. */
static void console_rx_one(struct console *con)
{
	struct virtio_dev *d = &con->dev;
	struct virtq *vq = &d->vq[CONSOLE_RX];
	struct virtq_chain c;

	int r = virtq_pop(vq, d->mem, &c);
	if (r == 0 || (r < 0 && c.head == VIRTQ_NO_HEAD)) {
		/* No buffers: leave the input where it is until the next rx kick. */
		console_watch(con, false);
		return;
	}
	ssize_t n = 0;
	if (r > 0 && c.n_in) {
		n = readv(con->in_fd, c.in, (int)c.n_in);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			console_input_closed(con);
		if (n < 0)
			n = 0;
	}
	virtq_push(vq, d->mem, c.head, (uint32_t)n);
	virtio_queue_done(d, CONSOLE_RX);
}

static bool console_input_pending(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) == 0 && n > 0;
}

static void console_input(void *opaque, uint32_t events)
{
	struct console *con = opaque;

	pthread_mutex_lock(&con->dev.lock);
	/* Data sent before a hang-up is still delivered; the end uses no buffer. */
	if ((events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) && !console_input_pending(con->in_fd))
		console_input_closed(con);
	else if (con->reading && (events & EPOLLIN))
		console_rx_one(con);
	pthread_mutex_unlock(&con->dev.lock);
}

/*
 * Write all of @c's readable bytes to out_fd. Returns false when out_fd
 * failed (the rest of the chain is dropped).
 */
static bool console_write_chain(struct console *con, const struct virtq_chain *c)
{
	struct iovec iov[VIRTQ_MAX_SEGS];
	uint64_t done = 0;
	unsigned stalls = 0;

	while (done < c->out_len) {
		unsigned k = virtq_iov_slice(c->out, c->n_out, done, c->out_len - done, iov);
		struct msghdr msg = {.msg_iov = iov, .msg_iovlen = k};
		ssize_t w = con->out_is_socket ? sendmsg(con->out_fd, &msg, MSG_NOSIGNAL)
					       : writev(con->out_fd, iov, (int)k);
		if (w > 0) {
			done += (uint64_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return false;
		if (++stalls > CONSOLE_MAX_STALLS)
			return true;
		poll(&(struct pollfd){.fd = con->out_fd, .events = POLLOUT}, 1, CONSOLE_STALL_MS);
	}
	return true;
}

static uint32_t console_tx(struct virtio_dev *d, unsigned q, struct virtq_chain *c)
{
	struct console *con = to_console(d);

	if (con->out_fd >= 0 && !console_write_chain(con, c) && con->client_fd >= 0)
		console_drop_client(con);
	return 0;
}

static void console_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct console *con = to_console(d);

	if (q == CONSOLE_TX) {
		virtio_queue_drain(d, q, console_tx);
		return;
	}
	if (q != CONSOLE_RX)
		return;
	pthread_mutex_lock(&d->lock);
	if (con->in_fd >= 0 && !con->in_closed && !con->reading)
		console_watch(con, true);
	pthread_mutex_unlock(&d->lock);
}

static void console_config_read(struct virtio_dev *d, uint32_t off, void *data, uint32_t len)
{
	struct console *con = to_console(d);

	virtio_config_copy(&con->cfg, sizeof(con->cfg), off, data, len);
}

/* Called with d->lock held (see struct virtio_dev_ops). */
static void console_reset(struct virtio_dev *d)
{
	struct console *con = to_console(d);

	virtio_dev_reset(d);
	if (con->reading)
		console_watch(con, false);
}

static void console_destroy(struct virtio_dev *d)
{
	if (!d)
		return;
	struct console *con = to_console(d);
	if (con->client_fd >= 0)
		console_drop_client(con);
	else if (con->registered)
		evloop_del(d->loop, con->in_fd);
	if (con->listen_fd >= 0) {
		evloop_del(d->loop, con->listen_fd);
		close(con->listen_fd);
		unlink(con->path);
	}
	free(con->path);
	virtio_dev_finish(d);
	free(con);
}

static const struct virtio_dev_ops console_ops = {
    .name = "virtio-console",
    .device_id = VIRTIO_ID_CONSOLE,
    .num_queues = 2,
    .queue_max_size = CONSOLE_QUEUE_SIZE,
    .config_size = sizeof(struct virtio_console_config),
    .config_read = console_config_read,
    .config_write = virtio_config_write_ignore,
    .activate = virtio_dev_activate,
    .queue_notify = console_queue_notify,
    .reset = console_reset,
    .destroy = console_destroy,
};

static struct console *console_new(struct guest_mem *mem, struct evloop *loop)
{
	struct console *con = calloc(1, sizeof(*con));

	if (!con) {
		fprintf(stderr, "virtio-console: %s\n", strerror(ENOMEM));
		return NULL;
	}
	virtio_dev_init(&con->dev, &console_ops, mem, loop);
	con->in_fd = con->out_fd = con->listen_fd = con->client_fd = -1;
	return con;
}

static bool console_fd_is_socket(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

struct virtio_dev *virtio_console_create(struct guest_mem *mem, struct evloop *loop, int in_fd,
					 int out_fd)
{
	struct console *con = console_new(mem, loop);

	if (!con)
		return NULL;
	con->in_fd = in_fd;
	con->out_fd = out_fd;
	con->out_is_socket = out_fd >= 0 && console_fd_is_socket(out_fd);
	return &con->dev;
}

static bool console_peer_gone(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR));
}

static void console_accept(void *opaque, uint32_t events)
{
	struct console *con = opaque;

	pthread_mutex_lock(&con->dev.lock);
	int fd = accept4(con->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		goto out;
	/* A client that hung up while we were not watching it makes room. */
	if (con->client_fd >= 0 && console_peer_gone(con->client_fd))
		console_drop_client(con);
	if (con->client_fd >= 0) {
		close(fd);
		goto out;
	}
	con->client_fd = con->in_fd = con->out_fd = fd;
	con->out_is_socket = true;
	con->in_closed = false;
	console_watch(con, true);
out:
	pthread_mutex_unlock(&con->dev.lock);
}

/* Whether a socket file at @sa has a listener (so it is not stale). */
static bool console_socket_live(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return true;
	bool live =
	    connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno != ECONNREFUSED;
	close(fd);
	return live;
}

/* Bind a listening socket at @path, replacing a stale one. Returns fd or -errno. */
static int console_listen(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -ENOTSOCK;
		if (console_socket_live(&sa))
			return -EADDRINUSE;
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto err_close;
	if (listen(fd, 1) < 0)
		goto err_unlink;
	return fd;
err_unlink:;
	int err = -errno;
	unlink(path);
	close(fd);
	return err;
err_close:
	err = -errno;
	close(fd);
	return err;
}

struct virtio_dev *virtio_console_create_listener(struct guest_mem *mem, struct evloop *loop,
						  const char *path)
{
	int fd = console_listen(path);

	if (fd < 0) {
		fprintf(stderr, "virtio-console: %s: %s\n", path,
			fd == -ENOTSOCK	    ? "exists and is not a socket"
			: fd == -EADDRINUSE ? "another process is listening on it"
					    : strerror(-fd));
		return NULL;
	}
	struct console *con = console_new(mem, loop);
	if (!con)
		goto err_unlink;
	con->listen_fd = fd;
	con->path = strdup(path);
	if (!con->path) {
		fprintf(stderr, "virtio-console: %s\n", strerror(ENOMEM));
		goto err_con;
	}
	int err = evloop_add(loop, fd, EPOLLIN, console_accept, con);
	if (err) {
		fprintf(stderr, "virtio-console: %s: %s\n", path, strerror(-err));
		goto err_con;
	}
	return &con->dev;
err_con:
	free(con->path);
	virtio_dev_finish(&con->dev);
	free(con);
err_unlink:
	unlink(path);
	close(fd);
	return NULL;
}
