// SPDX-License-Identifier: MIT
#include "virtq.h"
#include "snapshot/snap_format.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_ring.h>
#include <string.h>

/*
 * Cap on the bytes of one direction of a chain. The used ring reports a
 * chain's length in 32 bits, so more could not even be accounted for, and
 * none of Inlay's devices has a request that large.
 */
#define VIRTQ_MAX_CHAIN_BYTES UINT32_MAX

/* Host views of the three rings of a queue. */
struct virtq_rings {
	const uint8_t *desc;
	struct vring_avail *avail;
	struct vring_used *used;
};

/*
 * Map the rings (each checked to lie in RAM and be aligned as the spec
 * requires, with the event-index words at their ends). Done on every use
 * rather than cached, so a queue the transport reconfigured is never read
 * through stale pointers.
 */
static bool virtq_map(const struct virtq *q, const struct guest_mem *m, struct virtq_rings *r)
{
	uint64_t n = q->size;

	if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return false;
	if ((q->desc_gpa % VRING_DESC_ALIGN_SIZE) || (q->avail_gpa % VRING_AVAIL_ALIGN_SIZE) ||
	    (q->used_gpa % VRING_USED_ALIGN_SIZE))
		return false;
	r->desc = guest_mem_ptr(m, q->desc_gpa, n * sizeof(struct vring_desc));
	r->avail =
	    guest_mem_ptr(m, q->avail_gpa, sizeof(struct vring_avail) + (n + 1) * sizeof(uint16_t));
	r->used = guest_mem_ptr(m, q->used_gpa,
				sizeof(struct vring_used) + n * sizeof(struct vring_used_elem) +
				    sizeof(uint16_t));
	return r->desc && r->avail && r->used;
}

bool virtq_check(const struct virtq *q, const struct guest_mem *m)
{
	struct virtq_rings r;

	return virtq_map(q, m, &r);
}

/*
 * Acquire pairs with the driver's write barrier before it bumps avail->idx:
 * the ring entries and descriptors it published are visible once the index
 * is.
 */
static uint16_t virtq_avail_idx(const struct virtq_rings *r)
{
	return le16toh(__atomic_load_n(&r->avail->idx, __ATOMIC_ACQUIRE));
}

static uint16_t *virtq_avail_event(const struct virtq *q, const struct virtq_rings *r)
{
	return (uint16_t *)&r->used->ring[q->size];
}

static int virtq_add_segment(const struct guest_mem *m, struct virtq_chain *c, uint64_t addr,
			     uint32_t len, bool writable)
{
	uint64_t *total = writable ? &c->in_len : &c->out_len;

	/* A zero-length buffer carries nothing: it is neither mapped nor kept. */
	if (len == 0)
		return 0;
	if (c->n_out + c->n_in >= VIRTQ_MAX_SEGS || len > VIRTQ_MAX_CHAIN_BYTES - *total)
		return -EINVAL;
	void *p = guest_mem_ptr(m, addr, len);
	if (!p)
		return -EINVAL;
	struct iovec *iov = writable ? &c->in[c->n_in++] : &c->out[c->n_out++];
	*iov = (struct iovec){.iov_base = p, .iov_len = len};
	*total += len;
	return 0;
}

/*
 * Follow the chain from c->head. Every descriptor table (the ring, then at
 * most one indirect table) is walked at most its own size times, which
 * bounds the walk and catches loops.
 */
static int virtq_walk(const struct virtq *q, const struct guest_mem *m, const uint8_t *desc,
		      struct virtq_chain *c)
{
	const uint8_t *table = desc;
	uint32_t table_size = q->size;
	uint32_t budget = table_size;
	bool indirect = false, writing = false;
	uint16_t i = c->head;

	for (;;) {
		struct vring_desc d;

		if (i >= table_size || budget == 0)
			return -EINVAL;
		budget--;
		/* One copy: the driver may rewrite the descriptor meanwhile. */
		memcpy(&d, table + (size_t)i * sizeof(d), sizeof(d));
		uint64_t addr = le64toh(d.addr);
		uint32_t len = le32toh(d.len);
		uint16_t flags = le16toh(d.flags);

		if (flags & VRING_DESC_F_INDIRECT) {
			if (indirect || (flags & VRING_DESC_F_NEXT) || len == 0 ||
			    len % sizeof(d) || len / sizeof(d) > VIRTQ_MAX_SIZE)
				return -EINVAL;
			table = guest_mem_ptr(m, addr, len);
			if (!table)
				return -EINVAL;
			table_size = budget = len / sizeof(d);
			indirect = true;
			i = 0;
			continue;
		}
		bool writable = flags & VRING_DESC_F_WRITE;
		if (writing && !writable)
			return -EINVAL;
		writing = writable;
		int err = virtq_add_segment(m, c, addr, len, writable);
		if (err)
			return err;
		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		i = le16toh(d.next);
	}
}

int virtq_pop(struct virtq *q, const struct guest_mem *m, struct virtq_chain *c)
{
	struct virtq_rings r;

	c->head = VIRTQ_NO_HEAD;
	c->n_out = c->n_in = 0;
	c->out_len = c->in_len = 0;
	if (!q->ready)
		return 0;
	if (!virtq_map(q, m, &r))
		return -EINVAL;
	uint16_t avail_idx = virtq_avail_idx(&r);
	if (avail_idx == q->last_avail) {
		if (!q->event_idx)
			return 0;
		/*
		 * Ask for a notification at the next buffer, then look again:
		 * the driver may have added one before it saw the new
		 * avail_event. The full fence orders our store before that
		 * load, pairing with the driver's barrier between its idx
		 * store and its avail_event load.
		 */
		*virtq_avail_event(q, &r) = htole16(q->last_avail);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = virtq_avail_idx(&r);
		if (avail_idx == q->last_avail)
			return 0;
	}
	if ((uint16_t)(avail_idx - q->last_avail) > q->size)
		return -EINVAL;
	uint16_t head = le16toh(r.avail->ring[q->last_avail & (q->size - 1)]);
	q->last_avail++;
	if (head >= q->size)
		return -EINVAL;
	c->head = head;
	int err = virtq_walk(q, m, r.desc, c);
	return err ? err : 1;
}

int virtq_push(struct virtq *q, const struct guest_mem *m, uint16_t head, uint32_t written)
{
	struct virtq_rings r;

	if (!q->ready || head >= q->size || !virtq_map(q, m, &r))
		return -EINVAL;
	struct vring_used_elem e = {.id = htole32(head), .len = htole32(written)};
	memcpy(&r.used->ring[q->used_idx & (q->size - 1)], &e, sizeof(e));
	q->used_idx++;
	/*
	 * Release: the element and the buffer contents the device wrote must
	 * be visible before the index that hands them to the driver.
	 */
	__atomic_store_n(&r.used->idx, htole16(q->used_idx), __ATOMIC_RELEASE);
	return 0;
}

bool virtq_needs_interrupt(struct virtq *q, const struct guest_mem *m)
{
	struct virtq_rings r;

	/* Both start at 0 on reset, so equal means nothing was pushed since. */
	if (!q->ready || q->used_idx == q->signalled_used || !virtq_map(q, m, &r))
		return false;
	/*
	 * The used idx store must be visible before we read the driver's
	 * suppression fields, or a driver re-enabling interrupts could miss
	 * both the new entries and the interrupt.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t old = q->signalled_used;
	bool valid = q->signalled_used_valid;
	q->signalled_used = q->used_idx;
	q->signalled_used_valid = true;
	if (q->event_idx) {
		uint16_t used_event = le16toh(r.avail->ring[q->size]);
		return !valid || vring_need_event(used_event, q->used_idx, old);
	}
	return !(le16toh(r.avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
}

void virtq_reset(struct virtq *q)
{
	*q = (struct virtq){.size = q->size, .msix_vector = q->msix_vector};
}

unsigned virtq_iov_slice(const struct iovec *src, unsigned n, size_t off, size_t len,
			 struct iovec *dst)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n && len; i++) {
		if (off >= src[i].iov_len) {
			off -= src[i].iov_len;
			continue;
		}
		size_t take = src[i].iov_len - off;
		if (take > len)
			take = len;
		dst[k++] =
		    (struct iovec){.iov_base = (uint8_t *)src[i].iov_base + off, .iov_len = take};
		len -= take;
		off = 0;
	}
	return k;
}

size_t virtq_copy_from_out(const struct virtq_chain *c, size_t off, void *dst, size_t len)
{
	struct iovec iov[VIRTQ_MAX_SEGS];
	unsigned n = virtq_iov_slice(c->out, c->n_out, off, len, iov);
	size_t done = 0;

	for (unsigned i = 0; i < n; i++) {
		memcpy((uint8_t *)dst + done, iov[i].iov_base, iov[i].iov_len);
		done += iov[i].iov_len;
	}
	return done;
}

size_t virtq_copy_to_in(const struct virtq_chain *c, size_t off, const void *src, size_t len)
{
	struct iovec iov[VIRTQ_MAX_SEGS];
	unsigned n = virtq_iov_slice(c->in, c->n_in, off, len, iov);
	size_t done = 0;

	for (unsigned i = 0; i < n; i++) {
		memcpy(iov[i].iov_base, (const uint8_t *)src + done, iov[i].iov_len);
		done += iov[i].iov_len;
	}
	return done;
}

void virtq_save(const struct virtq *q, struct snap_writer *w)
{
	snap_put_u16(w, q->size);
	snap_put_u8(w, q->ready);
	snap_put_u64(w, q->desc_gpa);
	snap_put_u64(w, q->avail_gpa);
	snap_put_u64(w, q->used_gpa);
	snap_put_u16(w, q->last_avail);
	snap_put_u16(w, q->used_idx);
	snap_put_u8(w, q->event_idx);
	snap_put_u16(w, q->signalled_used);
	snap_put_u8(w, q->signalled_used_valid);
	snap_put_u16(w, q->msix_vector);
}

bool virtq_restore(struct virtq *q, struct snap_section *s, uint16_t max_size)
{
	struct virtq n = {0};
	uint8_t ready = 0, event_idx = 0, valid = 0;
	if (!snap_get_u16(s, &n.size) || !snap_get_u8(s, &ready) || !snap_get_u64(s, &n.desc_gpa) ||
	    !snap_get_u64(s, &n.avail_gpa) || !snap_get_u64(s, &n.used_gpa) ||
	    !snap_get_u16(s, &n.last_avail) || !snap_get_u16(s, &n.used_idx) ||
	    !snap_get_u8(s, &event_idx) || !snap_get_u16(s, &n.signalled_used) ||
	    !snap_get_u8(s, &valid) || !snap_get_u16(s, &n.msix_vector))
		return false;
	if (!n.size || n.size > max_size || (n.size & (n.size - 1)) || ready > 1 || event_idx > 1 ||
	    valid > 1)
		return snap_fail(s);
	n.ready = ready;
	n.event_idx = event_idx;
	n.signalled_used_valid = valid;
	*q = n;
	return true;
}
