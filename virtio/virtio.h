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
struct snap_writer;
struct snap_section;

/**
 * What a device model provides; the transport (virtio_pci.c) owns the
 * registers, feature negotiation, status and queue setup.
 *
 * Locking: the transport holds d->lock while it calls config_read,
 * config_write, activate and reset (register accesses from vCPU threads).
 * It calls queue_notify WITHOUT d->lock; the device takes d->lock itself
 * whenever it touches queue state. destroy is called without the lock, once
 * nothing else can call into the device.
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
	/*
	 * The driver kicked queue @q. Runs on the event-loop thread, called
	 * WITHOUT d->lock held: the device locks d->lock around queue access.
	 */
	void (*queue_notify)(struct virtio_dev *d, unsigned q);
	/* The driver reset the device; drop in-flight state. */
	void (*reset)(struct virtio_dev *d);
	/* Free the device (after the transport is gone). */
	void (*destroy)(struct virtio_dev *d);
	/*
	 * Snapshots (docs/SNAPSHOTS.md): append the model's own state to the
	 * open section of @w, and take it back checking every value. Called
	 * with d->lock held, vCPUs paused, on the event-loop thread. NULL:
	 * the device has no state beyond its queues.
	 */
	void (*save)(struct virtio_dev *d, struct snap_writer *w);
	bool (*restore)(struct virtio_dev *d, struct snap_section *s);
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
	pthread_mutex_t lock;	/* serializes config, queue state and the device */
	uint64_t host_features; /* set by the device; VERSION_1 added by transport */
	uint64_t driver_features;
	uint8_t status;
	uint8_t config_generation;
	struct virtq vq[VIRTIO_MAX_QUEUES];
};

/**
 * Initialize the common part. host_features starts with the ring features
 * every device here supports (INDIRECT_DESC, EVENT_IDX); the device adds its
 * own bits afterwards.
 */
void virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops, struct guest_mem *mem,
		     struct evloop *loop);

/** Undo virtio_dev_init (the device frees itself). */
void virtio_dev_finish(struct virtio_dev *d);

/** Push used chains done; interrupt the driver if it wants one. Caller holds d->lock. */
void virtio_queue_done(struct virtio_dev *d, unsigned q);

/**
 * Common activate: take VIRTIO_RING_F_EVENT_IDX from the driver features
 * into each queue and refuse queues whose rings are not valid RAM.
 */
bool virtio_dev_activate(struct virtio_dev *d);

/** Common reset: forget the ring state of every queue. */
void virtio_dev_reset(struct virtio_dev *d);

/** Handle one chain; returns the bytes written to the driver's buffers. */
typedef uint32_t (*virtio_chain_fn)(struct virtio_dev *d, unsigned q, struct virtq_chain *c);

/**
 * Under d->lock, pop the chains available on queue @q, hand each to @fn and
 * return it (malformed ones with length 0), then virtio_queue_done().
 */
void virtio_queue_drain(struct virtio_dev *d, unsigned q, virtio_chain_fn fn);

/** Copy config bytes [@off, @off + @len) of @cfg (@size bytes); zeros past its end. */
void virtio_config_copy(const void *cfg, size_t size, uint32_t off, void *data, uint32_t len);

/** config_write for devices without writable config fields. */
void virtio_config_write_ignore(struct virtio_dev *d, uint32_t off, const void *data, uint32_t len);

/**
 * Snapshots: the device model's own state through ops->save/restore, under
 * d->lock; a device without hooks saves nothing and accepts only an empty
 * section. The restore fails unless every byte was consumed.
 */
void virtio_dev_save(struct virtio_dev *d, struct snap_writer *w);
bool virtio_dev_restore(struct virtio_dev *d, struct snap_section *s);

static inline bool virtio_has_feature(const struct virtio_dev *d, unsigned bit)
{
	return d->driver_features & (1ULL << bit);
}

/*
 * Devices (virtio/console.c, blk.c, rng.c). NULL on failure, with a message.
 * The console reads @in_fd and writes @out_fd (either may be -1); it does
 * not close them.
 */
struct virtio_dev *virtio_console_create(struct guest_mem *mem, struct evloop *loop, int in_fd,
					 int out_fd);
/**
 * A console whose input and output are one client at a time on a unix
 * socket listening at @path (a stale socket there is replaced; the file is
 * removed on destroy). Output while no client is connected is dropped.
 */
struct virtio_dev *virtio_console_create_listener(struct guest_mem *mem, struct evloop *loop,
						  const char *path);
struct virtio_dev *virtio_blk_create(struct guest_mem *mem, struct evloop *loop, const char *path,
				     bool read_only);
struct virtio_dev *virtio_rng_create(struct guest_mem *mem, struct evloop *loop);

#endif
