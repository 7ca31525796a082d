/* SPDX-License-Identifier: MIT */
#ifndef INLAY_TEST_VRING_DRIVER_H
#define INLAY_TEST_VRING_DRIVER_H

/*
 * The driver side of a split virtqueue, for tests and fuzz targets: lays
 * rings out in guest RAM, builds chains and reads back used elements.
 */

#include "virtio/virtio.h"

#include <stdbool.h>
#include <stdint.h>

struct vring_driver {
	struct guest_mem *mem;
	struct virtq *q;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t size;
	uint16_t next_desc; /* descriptors are handed out round-robin */
	uint16_t avail_idx;
	uint16_t last_used;
};

/** One buffer of a chain. */
struct vring_buf {
	uint64_t gpa;
	uint32_t len;
	bool writable;
};

/** Stands in for a transport: counts the interrupts a device raises. */
struct vring_signals {
	unsigned queue[VIRTIO_MAX_QUEUES];
	unsigned config;
};

/** A device under test with its guest RAM, its event loop and a counting transport. */
struct vring_device {
	struct guest_mem mem;
	struct evloop *loop;
	struct virtio_dev *d;
	struct vring_signals sig;
};

/** Make @ram_size bytes of guest RAM and an event loop. Returns 0 or -1. */
int vring_device_init(struct vring_device *vd, uint64_t ram_size);

/** Take @d as the device and attach vd->sig to it; -1 for a NULL @d. */
int vring_device_set(struct vring_device *vd, struct virtio_dev *d);

/** Destroy the device (if set), the loop and the RAM. */
void vring_device_finish(struct vring_device *vd);

/** cmocka teardown for a calloc()ed fixture whose first member is a struct vring_device. */
int vring_device_teardown(void **state);

/** Lay out rings of @size at @base and configure @q (ready) as a transport would. */
void vring_driver_init(struct vring_driver *drv, struct guest_mem *mem, struct virtq *q,
		       uint16_t size, uint64_t base);

/** Write descriptor @i of the table at @table_gpa. */
void vring_driver_set_desc(const struct vring_driver *drv, uint64_t table_gpa, uint16_t i,
			   uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);

/** Chain @n buffers in ring descriptors and make the chain available. Returns its head. */
uint16_t vring_driver_add(struct vring_driver *drv, const struct vring_buf *bufs, unsigned n);

/** Same through one ring descriptor pointing at an indirect table at @table_gpa. */
uint16_t vring_driver_add_indirect(struct vring_driver *drv, uint64_t table_gpa,
				   const struct vring_buf *bufs, unsigned n);

/** Put @head (any value) in the avail ring and publish it. */
void vring_driver_publish(struct vring_driver *drv, uint16_t head);

/** Store @idx as the avail ring index, as a (possibly misbehaving) driver would. */
void vring_driver_set_avail_idx(struct vring_driver *drv, uint16_t idx);

void vring_driver_set_avail_flags(const struct vring_driver *drv, uint16_t flags);
void vring_driver_set_used_event(const struct vring_driver *drv, uint16_t used_event);
uint16_t vring_driver_avail_event(const struct vring_driver *drv);

/** Take the next used element; false when there is none. */
bool vring_driver_get_used(struct vring_driver *drv, uint32_t *id, uint32_t *len);

/** Same, waiting up to @ms for a device running on another thread. */
bool vring_driver_wait_used(struct vring_driver *drv, uint32_t *id, uint32_t *len, int ms);

/** Host pointer to guest RAM at @gpa (the range must be RAM). */
void *vring_driver_ptr(const struct vring_driver *drv, uint64_t gpa, uint64_t len);

/** Attach @sig to @d as its transport. */
void vring_signals_attach(struct vring_signals *sig, struct virtio_dev *d);

#endif
