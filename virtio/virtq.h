/* SPDX-License-Identifier: MIT */
#ifndef INLAY_VIRTQ_H
#define INLAY_VIRTQ_H

#include "../vmm/guest_mem.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

/* Maximum segments in one chain (direct plus indirect). Longer chains are
 * rejected: Inlay's devices advertise seg_max well below it. */
#define VIRTQ_MAX_SEGS 256
#define VIRTQ_MAX_SIZE 1024
/* virtq_chain.head when no head could be consumed (nothing to give back). */
#define VIRTQ_NO_HEAD 0xffff

/** One split virtqueue as the driver configured it through the transport. */
struct virtq {
	uint16_t size; /* power of two, 1..VIRTQ_MAX_SIZE */
	bool ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t last_avail;	 /* next avail ring index the device consumes */
	uint16_t used_idx;	 /* next used ring index the device fills */
	bool event_idx;		 /* VIRTIO_RING_F_EVENT_IDX negotiated */
	uint16_t signalled_used; /* used_idx at the last interrupt (event idx) */
	bool signalled_used_valid;
	uint16_t msix_vector; /* owned by the transport */
};

struct snap_writer;
struct snap_section;

/** A popped descriptor chain mapped to host memory. */
struct virtq_chain {
	uint16_t head;
	unsigned n_out; /* device-readable segments, in order */
	unsigned n_in;	/* device-writable segments, in order */
	struct iovec out[VIRTQ_MAX_SEGS];
	struct iovec in[VIRTQ_MAX_SEGS];
	uint64_t out_len, in_len;
};

/** Check that the rings of a queue the driver enabled lie in RAM and are aligned. */
bool virtq_check(const struct virtq *q, const struct guest_mem *m);

/**
 * Take the next available chain. Returns 1 with @c filled, 0 when the ring
 * is empty, or -EINVAL when the chain is malformed (out-of-range index or
 * address, loop, too long, readable after writable, bad indirect table); then
 * @c->head is set when a head was consumed so the device can return it
 * with virtq_push(len 0), or VIRTQ_NO_HEAD when even the avail index was
 * bogus or the head itself was out of range. With @q->event_idx, finding the
 * ring empty also asks the driver to notify on its next buffer (avail_event).
 */
int virtq_pop(struct virtq *q, const struct guest_mem *m, struct virtq_chain *c);

/** Return chain @head with @written bytes. Returns 0 or -EINVAL. */
int virtq_push(struct virtq *q, const struct guest_mem *m, uint16_t head, uint32_t written);

/** After pushes: whether the driver wants an interrupt (flags / event idx). */
bool virtq_needs_interrupt(struct virtq *q, const struct guest_mem *m);

/** Append the queue's configuration and ring indices to the open section of @w. */
void virtq_save(const struct virtq *q, struct snap_writer *w);
/**
 * Take back what virtq_save() wrote into @q, checking the size against
 * @max_size. Ring placement is the transport's to check (virtq_check()).
 * False, changing nothing, on bad state.
 */
bool virtq_restore(struct virtq *q, struct snap_section *s, uint16_t max_size);

/** Forget ring state (device reset). */
void virtq_reset(struct virtq *q);

/** Gather/scatter helpers over a chain's segments; return bytes copied. */
size_t virtq_copy_from_out(const struct virtq_chain *c, size_t off, void *dst, size_t len);
size_t virtq_copy_to_in(const struct virtq_chain *c, size_t off, const void *src, size_t len);

/**
 * Describe bytes [@off, @off + @len) of the @n segments @src in @dst (room
 * for @n entries), clipped to what @src holds. Returns the entries used.
 */
unsigned virtq_iov_slice(const struct iovec *src, unsigned n, size_t off, size_t len,
			 struct iovec *dst);

#endif
