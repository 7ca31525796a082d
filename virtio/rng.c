// SPDX-License-Identifier: MIT
#include "virtio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

/*
 * Bytes filled per request. The spec lets the device use less than the
 * whole buffer, and this keeps one request from holding the event loop
 * (drivers ask for tens of bytes at a time).
 */
#define RNG_MAX_PER_REQUEST (64 * 1024)
#define RNG_QUEUE_SIZE	    64

/* Fill @buf from getrandom(); returns the bytes filled. */
static size_t rng_fill(void *buf, size_t len)
{
	size_t done = 0;
	unsigned interrupts = 0;

	while (done < len) {
		ssize_t r = getrandom((uint8_t *)buf + done, len - done, 0);
		if (r < 0 && errno == EINTR && ++interrupts < 16)
			continue;
		if (r <= 0)
			break;
		done += (size_t)r;
	}
	return done;
}

static uint32_t rng_request(struct virtio_dev *d, unsigned q, struct virtq_chain *c)
{
	size_t budget = RNG_MAX_PER_REQUEST, filled = 0;

	for (unsigned i = 0; i < c->n_in && budget; i++) {
		size_t want = c->in[i].iov_len < budget ? c->in[i].iov_len : budget;
		size_t got = rng_fill(c->in[i].iov_base, want);

		filled += got;
		budget -= got;
		if (got < want)
			break;
	}
	return (uint32_t)filled;
}

static void rng_queue_notify(struct virtio_dev *d, unsigned q)
{
	virtio_queue_drain(d, q, rng_request);
}

static void rng_config_read(struct virtio_dev *d, uint32_t off, void *data, uint32_t len)
{
	virtio_config_copy(NULL, 0, off, data, len);
}

static void rng_destroy(struct virtio_dev *d)
{
	if (!d)
		return;
	virtio_dev_finish(d);
	free(d);
}

static const struct virtio_dev_ops rng_ops = {
    .name = "virtio-rng",
    .device_id = VIRTIO_ID_RNG,
    .num_queues = 1,
    .queue_max_size = RNG_QUEUE_SIZE,
    .config_size = 0,
    .config_read = rng_config_read,
    .config_write = virtio_config_write_ignore,
    .activate = virtio_dev_activate,
    .queue_notify = rng_queue_notify,
    .reset = virtio_dev_reset,
    .destroy = rng_destroy,
};

struct virtio_dev *virtio_rng_create(struct guest_mem *mem, struct evloop *loop)
{
	struct virtio_dev *d = calloc(1, sizeof(*d));

	if (!d) {
		fprintf(stderr, "virtio-rng: out of memory\n");
		return NULL;
	}
	virtio_dev_init(d, &rng_ops, mem, loop);
	return d;
}
