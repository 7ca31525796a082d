/* SPDX-License-Identifier: MIT */
#ifndef INLAY_VIRTIO_H
#define INLAY_VIRTIO_H

#include "virtq.h"
#include "../vmm/evloop.h"

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define VIRTIO_MAX_QUEUES 8

struct virtio_dev;

/**
 * What a device model provides; the transport (virtio_pci.c) owns the
 * registers, feature negotiation, status and queue setup.
 */
struct virtio_dev_ops {
	const char *name;
	uint16_t device_id; /* VIRTIO_ID_* */
	unsigned num_queues;
	uint16_t queue_max_size;
	uint32_t config_size;
	/* Device-specific config space; @off + @len <= config_size. */
	void (*config_read)(struct virtio_dev *d, uint32_t off, void *data, uint32_t len);
	void (*config_write)(struct virtio_dev *d, uint32_t off, const void *data, uint32_t len);
	/* DRIVER_OK was set: queues are valid. Return false to refuse. */
	bool (*activate)(struct virtio_dev *d);
	/* The driver kicked queue @q. Runs on the event-loop thread. */
	void (*queue_notify)(struct virtio_dev *d, unsigned q);
	/* The driver reset the device; drop in-flight state. */
	void (*reset)(struct virtio_dev *d);
	/* Free the device (after the transport is gone). */
	void (*destroy)(struct virtio_dev *d);
};

/** Transport callbacks into which a device raises interrupts. */
struct virtio_transport_ops {
	void (*signal_queue)(struct virtio_dev *d, unsigned q);
	void (*signal_config)(struct virtio_dev *d);
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	const struct virtio_transport_ops *transport_ops;
	void *transport;
	struct guest_mem *mem;
	struct evloop *loop;
	pthread_mutex_t lock; /* serializes config, queue state and the device */
	uint64_t host_features; /* set by the device; VERSION_1 added by transport */
	uint64_t driver_features;
	uint8_t status;
	uint8_t config_generation;
	struct virtq vq[VIRTIO_MAX_QUEUES];
};

/** Initialize the common part; the device sets host_features afterwards. */
void virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops,
		     struct guest_mem *mem, struct evloop *loop);

/** Push used chains done; interrupt the driver if it wants one. Caller holds d->lock. */
void virtio_queue_done(struct virtio_dev *d, unsigned q);

static inline bool virtio_has_feature(const struct virtio_dev *d, unsigned bit)
{
	return d->driver_features & (1ULL << bit);
}

/* Devices (virtio/console.c, blk.c, rng.c). NULL on failure, with a message. */
struct virtio_dev *virtio_console_create(struct guest_mem *mem, struct evloop *loop,
					 int in_fd, int out_fd);
struct virtio_dev *virtio_blk_create(struct guest_mem *mem, struct evloop *loop,
				     const char *path, bool read_only);
struct virtio_dev *virtio_rng_create(struct guest_mem *mem, struct evloop *loop);

#endif
