// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/virtio_console.h>

#include "vring_driver.h"

#define RAM_SIZE (4ULL << 20)
#define RX_RINGS 0x1000ULL
#define TX_RINGS 0x3000ULL
#define BUF	 0x10000ULL
#define TXBUF	 0x20000ULL
#define WAIT_MS	 2000

/*
 * The device runs on an event loop thread, as in the VMM; the test thread
 * plays the driver and the transport's notify path.
 */
struct fx {
	struct guest_mem mem;
	struct evloop *loop;
	pthread_t thread;
	bool running;
	struct virtio_dev *d;
	struct vring_driver rx, tx;
	struct vring_signals sig;
	int in[2], out[2];
	char dir[64], path[128];
};

static void *loop_thread(void *opaque)
{
	evloop_run(opaque);
	return NULL;
}

/* Attach rings and start the loop for the device in f->d. */
static int fx_start(struct fx *f)
{
	if (!f->d)
		return -1;
	vring_signals_attach(&f->sig, f->d);
	vring_driver_init(&f->rx, &f->mem, &f->d->vq[0], 16, RX_RINGS);
	vring_driver_init(&f->tx, &f->mem, &f->d->vq[1], 16, TX_RINGS);
	if (!f->d->ops->activate(f->d))
		return -1;
	if (pthread_create(&f->thread, NULL, loop_thread, f->loop))
		return -1;
	f->running = true;
	return 0;
}

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || guest_mem_init(&f->mem, RAM_SIZE))
		return NULL;
	f->in[0] = f->in[1] = f->out[0] = f->out[1] = -1;
	f->loop = evloop_create();
	return f->loop ? f : NULL;
}

static int setup_pipes(void **state)
{
	struct fx *f = fx_new();

	if (!f || pipe(f->in) || pipe(f->out))
		return -1;
	*state = f;
	f->d = virtio_console_create(&f->mem, f->loop, f->in[0], f->out[1]);
	return fx_start(f);
}

static int setup_no_fds(void **state)
{
	struct fx *f = fx_new();

	if (!f)
		return -1;
	*state = f;
	f->d = virtio_console_create(&f->mem, f->loop, -1, -1);
	return fx_start(f);
}

static int setup_listener(void **state)
{
	struct fx *f = fx_new();

	if (!f)
		return -1;
	*state = f;
	strcpy(f->dir, "/tmp/inlay-con-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/console.sock", f->dir);
	f->d = virtio_console_create_listener(&f->mem, f->loop, f->path);
	return fx_start(f);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->running) {
		evloop_stop(f->loop, 0);
		pthread_join(f->thread, NULL);
	}
	if (f->d)
		f->d->ops->destroy(f->d);
	evloop_destroy(f->loop);
	for (int i = 0; i < 2; i++) {
		if (f->in[i] >= 0)
			close(f->in[i]);
		if (f->out[i] >= 0)
			close(f->out[i]);
	}
	if (f->dir[0]) {
		unlink(f->path);
		rmdir(f->dir);
	}
	guest_mem_finish(&f->mem);
	free(f);
	return 0;
}

static uint8_t *host(struct fx *f, uint64_t gpa)
{
	return f->mem.host + gpa;
}

static void msleep(int ms)
{
	nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L}, NULL);
}

/* Read exactly @len bytes from @fd within WAIT_MS. */
static void read_exact(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		assert_int_equal(poll(&p, 1, WAIT_MS), 1);
		ssize_t r = read(fd, (uint8_t *)buf + done, len - done);
		assert_true(r > 0);
		done += (size_t)r;
	}
}

static void post_rx(struct fx *f, uint64_t gpa, uint32_t len)
{
	const struct vring_buf b = {gpa, len, true};

	vring_driver_add(&f->rx, &b, 1);
	f->d->ops->queue_notify(f->d, 0);
}

/* Send @s as a tx chain of two segments; returns the used length. */
static uint32_t send_tx(struct fx *f, const char *s)
{
	size_t n = strlen(s), half = n / 2;
	const struct vring_buf bufs[] = {{TXBUF, (uint32_t)half, false},
					 {TXBUF + 0x1000, (uint32_t)(n - half), false}};
	uint32_t id, len;

	memcpy(host(f, TXBUF), s, half);
	memcpy(host(f, TXBUF + 0x1000), s + half, n - half);
	vring_driver_add(&f->tx, bufs, 2);
	f->d->ops->queue_notify(f->d, 1);
	assert_true(vring_driver_wait_used(&f->tx, &id, &len, WAIT_MS));
	return len;
}

static void expect_rx(struct fx *f, uint64_t gpa, const char *want)
{
	uint32_t id, len;

	assert_true(vring_driver_wait_used(&f->rx, &id, &len, WAIT_MS));
	assert_int_equal(len, strlen(want));
	assert_memory_equal(host(f, gpa), want, len);
}

static void test_tx(void **state)
{
	struct fx *f = *state;
	char got[12];

	assert_int_equal(send_tx(f, "hello world!"), 0);
	read_exact(f->out[0], got, sizeof(got));
	assert_memory_equal(got, "hello world!", sizeof(got));
	assert_int_equal(f->sig.queue[1], 1);
}

static void test_rx(void **state)
{
	struct fx *f = *state;

	post_rx(f, BUF, 64);
	assert_int_equal(write(f->in[1], "abc", 3), 3);
	expect_rx(f, BUF, "abc");
	assert_true(f->sig.queue[0] >= 1);
}

static void test_rx_waits_for_buffers(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;
	int pending = 0;

	/* a kick without buffers, then input: nothing may be consumed */
	f->d->ops->queue_notify(f->d, 0);
	assert_int_equal(write(f->in[1], "xyz", 3), 3);
	msleep(100);
	assert_int_equal(ioctl(f->in[0], FIONREAD, &pending), 0);
	assert_int_equal(pending, 3);
	assert_false(vring_driver_get_used(&f->rx, &id, &len));
	post_rx(f, BUF, 64);
	expect_rx(f, BUF, "xyz");
}

static void test_rx_spans_buffers(void **state)
{
	struct fx *f = *state;
	char data[100];
	uint32_t id, len;

	for (int i = 0; i < 100; i++)
		data[i] = (char)('a' + i % 26);
	assert_int_equal(write(f->in[1], data, sizeof(data)), sizeof(data));
	post_rx(f, BUF, 64);
	post_rx(f, BUF + 0x1000, 64);
	assert_true(vring_driver_wait_used(&f->rx, &id, &len, WAIT_MS));
	assert_int_equal(len, 64);
	assert_memory_equal(host(f, BUF), data, 64);
	assert_true(vring_driver_wait_used(&f->rx, &id, &len, WAIT_MS));
	assert_int_equal(len, 36);
	assert_memory_equal(host(f, BUF + 0x1000), data + 64, 36);
}

static void test_rx_eof(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;

	assert_int_equal(write(f->in[1], "end", 3), 3);
	close(f->in[1]);
	f->in[1] = -1;
	post_rx(f, BUF, 64);
	expect_rx(f, BUF, "end");
	/* input has stopped: further buffers stay with the device */
	post_rx(f, BUF + 0x100, 64);
	msleep(100);
	assert_false(vring_driver_get_used(&f->rx, &id, &len));
}

static void test_no_fds(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;
	struct virtio_console_config cfg;

	assert_int_equal(send_tx(f, "dropped"), 0);
	post_rx(f, BUF, 64);
	msleep(50);
	assert_false(vring_driver_get_used(&f->rx, &id, &len));
	f->d->ops->config_read(f->d, 0, &cfg, sizeof(cfg));
	assert_int_equal(cfg.max_nr_ports, 0);
	assert_int_equal(f->d->ops->device_id, VIRTIO_ID_CONSOLE);
	assert_int_equal(f->d->ops->num_queues, 2);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	strcpy(sa.sun_path, path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Whether the peer closed @fd within WAIT_MS. */
static bool closed_by_peer(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;

	return poll(&p, 1, WAIT_MS) == 1 && read(fd, &c, 1) == 0;
}

static void test_listener(void **state)
{
	struct fx *f = *state;
	struct stat st;
	char got[8];

	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	/* nobody connected: output is dropped */
	assert_int_equal(send_tx(f, "lost"), 0);

	int c1 = connect_to(f->path);
	post_rx(f, BUF, 64);
	assert_int_equal(write(c1, "hi", 2), 2);
	expect_rx(f, BUF, "hi");
	send_tx(f, "out1");
	read_exact(c1, got, 4);
	assert_memory_equal(got, "out1", 4);

	/* one client at a time */
	int c2 = connect_to(f->path);
	assert_true(closed_by_peer(c2));
	close(c2);

	/* after a hang-up the next client is served */
	close(c1);
	int c3 = connect_to(f->path);
	post_rx(f, BUF + 0x100, 64);
	assert_int_equal(write(c3, "again", 5), 5);
	expect_rx(f, BUF + 0x100, "again");
	send_tx(f, "out3");
	read_exact(c3, got, 4);
	assert_memory_equal(got, "out3", 4);
	close(c3);

	evloop_stop(f->loop, 0);
	pthread_join(f->thread, NULL);
	f->running = false;
	f->d->ops->destroy(f->d);
	f->d = NULL;
	assert_int_equal(stat(f->path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_listener_paths(void **state)
{
	struct fx *f = *state;
	char path[160];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	/* an existing non-socket file is left alone */
	snprintf(path, sizeof(path), "%s/file", f->dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_null(virtio_console_create_listener(&f->mem, f->loop, path));
	unlink(path);
	/* a socket in use is left alone */
	assert_null(virtio_console_create_listener(&f->mem, f->loop, f->path));
	/* a stale socket is replaced */
	snprintf(path, sizeof(path), "%s/stale", f->dir);
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	struct virtio_dev *d = virtio_console_create_listener(&f->mem, f->loop, path);
	assert_non_null(d);
	d->ops->destroy(d);
	assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_tx, setup_pipes, teardown),
	    cmocka_unit_test_setup_teardown(test_rx, setup_pipes, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_waits_for_buffers, setup_pipes, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_spans_buffers, setup_pipes, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_eof, setup_pipes, teardown),
	    cmocka_unit_test_setup_teardown(test_no_fds, setup_no_fds, teardown),
	    cmocka_unit_test_setup_teardown(test_listener, setup_listener, teardown),
	    cmocka_unit_test_setup_teardown(test_listener_paths, setup_listener, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
