// SPDX-License-Identifier: MIT
#include "virtio.h"
#include "snapshot/snap_format.h"

#include <linux/virtio_ring.h>
#include <string.h>

/*
 * Chains handled per kick. A driver that keeps refilling the ring while the
 * device drains it would otherwise hold the event loop forever; a real
 * driver cannot get near this without recycling every descriptor of the
 * largest queue four times within one kick.
 */
#define VIRTIO_DRAIN_BUDGET (4 * VIRTQ_MAX_SIZE)

void virtio_dev_init(struct virtio_dev *d, const struct virtio_dev_ops *ops, struct guest_mem *mem,
		     struct evloop *loop)
{
	d->ops = ops;
	d->transport_ops = NULL;
	d->transport = NULL;
	d->mem = mem;
	d->loop = loop;
	pthread_mutex_init(&d->lock, NULL);
	d->host_features =
	    (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << VIRTIO_RING_F_EVENT_IDX);
	d->driver_features = 0;
	d->status = 0;
	d->config_generation = 0;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		d->vq[q] = (struct virtq){.size = q < ops->num_queues ? ops->queue_max_size : 0};
}

void virtio_dev_finish(struct virtio_dev *d)
{
	pthread_mutex_destroy(&d->lock);
}

void virtio_queue_done(struct virtio_dev *d, unsigned q)
{
	if (q >= d->ops->num_queues || !virtq_needs_interrupt(&d->vq[q], d->mem))
		return;
	if (d->transport_ops && d->transport_ops->signal_queue)
		d->transport_ops->signal_queue(d, q);
}

bool virtio_dev_activate(struct virtio_dev *d)
{
	for (unsigned q = 0; q < d->ops->num_queues; q++) {
		struct virtq *vq = &d->vq[q];

		vq->event_idx = virtio_has_feature(d, VIRTIO_RING_F_EVENT_IDX);
		if (vq->ready && !virtq_check(vq, d->mem))
			return false;
	}
	return true;
}

void virtio_dev_reset(struct virtio_dev *d)
{
	for (unsigned q = 0; q < d->ops->num_queues; q++)
		virtq_reset(&d->vq[q]);
}

void virtio_queue_drain(struct virtio_dev *d, unsigned q, virtio_chain_fn fn)
{
	struct virtq_chain c;

	if (q >= d->ops->num_queues)
		return;
	pthread_mutex_lock(&d->lock);
	struct virtq *vq = &d->vq[q];
	for (unsigned n = 0; n < VIRTIO_DRAIN_BUDGET; n++) {
		uint16_t before = vq->last_avail;
		int r = virtq_pop(vq, d->mem, &c);
		if (r == 0)
			break;
		if (c.head != VIRTQ_NO_HEAD)
			virtq_push(vq, d->mem, c.head, r > 0 ? fn(d, q, &c) : 0);
		else if (vq->last_avail == before)
			break; /* the ring itself is bogus: nothing to do until a reset */
	}
	virtio_queue_done(d, q);
	pthread_mutex_unlock(&d->lock);
}

void virtio_config_copy(const void *cfg, size_t size, uint32_t off, void *data, uint32_t len)
{
	size_t n = off < size ? size - off : 0;

	if (n > len)
		n = len;
	if (n)
		memcpy(data, (const uint8_t *)cfg + off, n);
	memset((uint8_t *)data + n, 0, len - n);
}

void virtio_config_write_ignore(struct virtio_dev *d, uint32_t off, const void *data, uint32_t len)
{
}

void virtio_dev_save(struct virtio_dev *d, struct snap_writer *w)
{
	snap_put_u16(w, d->ops->device_id);
	pthread_mutex_lock(&d->lock);
	if (d->ops->save)
		d->ops->save(d, w);
	pthread_mutex_unlock(&d->lock);
}

bool virtio_dev_restore(struct virtio_dev *d, struct snap_section *s)
{
	uint16_t id;
	if (!snap_get_u16(s, &id))
		return false;
	if (id != d->ops->device_id)
		return snap_fail(s);
	pthread_mutex_lock(&d->lock);
	bool ok = !d->ops->restore || d->ops->restore(d, s);
	pthread_mutex_unlock(&d->lock);
	return (ok && snap_section_done(s)) || snap_fail(s);
}
