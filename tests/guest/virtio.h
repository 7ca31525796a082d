/* SPDX-License-Identifier: MIT */
/*
 * Minimal modern (1.x) virtio-pci driver: capabilities, feature negotiation,
 * split queues with one outstanding chain each, MSI-X routing.
 */
#ifndef GUEST_VIRTIO_H
#define GUEST_VIRTIO_H

#include "pci.h"

#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdint.h>

#define VIO_QUEUE_MAX 16 /* descriptors per queue we use */

struct vio_dev {
	pci_devfn df;
	uintptr_t common;
	uintptr_t notify;
	uint32_t notify_len;
	uint32_t notify_mult;
	uintptr_t isr;
	uintptr_t device;
	uint32_t device_len;
	uintptr_t msix_table; /* 0 without MSI-X */
	uint16_t msix_size;
	uint8_t msix_cap;
	uint64_t features; /* negotiated */
};

struct vio_queue {
	struct vio_dev *dev;
	uint16_t index;
	uint16_t size;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uintptr_t notify;
	uint16_t avail_idx; /* chains made available */
	uint16_t used_idx;  /* used entries consumed */
};

struct vio_buf {
	void *addr;
	uint32_t len;
	bool device_writes;
};

enum vio_wait_mode {
	VIO_POLL, /* spin on the used ring */
	VIO_HALT, /* HLT between checks: needs interrupts (MSI-X and a timer tick) */
};

/**
 * Find @df's virtio capabilities, reset the device and negotiate VERSION_1
 * plus whatever of @wanted the device offers (see d->features). Leaves the
 * device at FEATURES_OK. Returns 0, or -1 after printing why.
 */
int vio_init(struct vio_dev *d, pci_devfn df, uint64_t wanted);
/**
 * Enable MSI-X and point table entry @entry at @vector on the local APIC
 * @apic_id (fixed delivery, edge). Returns 0 or -1.
 */
int vio_msix_route(struct vio_dev *d, uint16_t entry, uint8_t apic_id, uint8_t vector);
/**
 * Set up queue @index with at most VIO_QUEUE_MAX descriptors, interrupting
 * through MSI-X @msix_entry (VIRTIO_MSI_NO_VECTOR for none). Returns 0 or -1.
 */
int vio_queue_init(struct vio_dev *d, struct vio_queue *q, uint16_t index, uint16_t msix_entry);
/** Set DRIVER_OK; returns -1 if the device reports NEEDS_RESET or FAILED. */
int vio_driver_ok(struct vio_dev *d);
/** Read @len (1, 2 or 4) bytes of device config at @off; 0 past its end. */
uint32_t vio_config_read(struct vio_dev *d, uint32_t off, uint32_t len);
/**
 * Make the chain @bufs[0..n) available and notify. Only one chain may be
 * outstanding per queue. Returns 0 or -1.
 */
int vio_submit(struct vio_queue *q, const struct vio_buf *bufs, unsigned n);
/**
 * Wait up to @timeout_ms for the outstanding chain to be used; *@len gets
 * the written length. Returns 0, or -1 on timeout or a malformed used entry.
 */
int vio_wait(struct vio_queue *q, enum vio_wait_mode mode, uint32_t timeout_ms, uint32_t *len);

#endif
