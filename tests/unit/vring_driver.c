// SPDX-License-Identifier: MIT
#include "vring_driver.h"

#include <endian.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void *vring_driver_ptr(const struct vring_driver *drv, uint64_t gpa, uint64_t len)
{
	void *p = guest_mem_ptr(drv->mem, gpa, len);

	if (!p)
		abort(); /* a broken test, not device behaviour */
	return p;
}

void vring_driver_init(struct vring_driver *drv, struct guest_mem *mem, struct virtq *q,
		       uint16_t size, uint64_t base)
{
	*drv = (struct vring_driver){.mem = mem, .q = q, .size = size};
	drv->desc_gpa = base;
	drv->avail_gpa = base + 16ULL * size;
	drv->used_gpa = (drv->avail_gpa + 6 + 2ULL * size + 3) & ~3ULL;
	memset(vring_driver_ptr(drv, base, drv->used_gpa + 6 + 8ULL * size - base), 0,
	       drv->used_gpa + 6 + 8ULL * size - base);
	q->size = size;
	q->desc_gpa = drv->desc_gpa;
	q->avail_gpa = drv->avail_gpa;
	q->used_gpa = drv->used_gpa;
	q->ready = true;
}

void vring_driver_set_desc(const struct vring_driver *drv, uint64_t table_gpa, uint16_t i,
			   uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc d = {.addr = htole64(addr),
			       .len = htole32(len),
			       .flags = htole16(flags),
			       .next = htole16(next)};

	memcpy(vring_driver_ptr(drv, table_gpa + 16ULL * i, sizeof(d)), &d, sizeof(d));
}

static uint16_t vring_driver_flags(const struct vring_buf *b, bool more)
{
	return (b->writable ? VRING_DESC_F_WRITE : 0) | (more ? VRING_DESC_F_NEXT : 0);
}

void vring_driver_set_avail_idx(struct vring_driver *drv, uint16_t idx)
{
	struct vring_avail *avail = vring_driver_ptr(drv, drv->avail_gpa, 4);

	drv->avail_idx = idx;
	__atomic_store_n(&avail->idx, htole16(idx), __ATOMIC_RELEASE);
}

void vring_driver_publish(struct vring_driver *drv, uint16_t head)
{
	uint16_t *ring = vring_driver_ptr(drv, drv->avail_gpa + 4, 2ULL * drv->size);

	ring[drv->avail_idx % drv->size] = htole16(head);
	vring_driver_set_avail_idx(drv, (uint16_t)(drv->avail_idx + 1));
}

uint16_t vring_driver_add(struct vring_driver *drv, const struct vring_buf *bufs, unsigned n)
{
	uint16_t head = drv->next_desc;

	for (unsigned i = 0; i < n; i++) {
		uint16_t cur = (uint16_t)((head + i) % drv->size);
		uint16_t next = (uint16_t)((cur + 1) % drv->size);
		vring_driver_set_desc(drv, drv->desc_gpa, cur, bufs[i].gpa, bufs[i].len,
				      vring_driver_flags(&bufs[i], i + 1 < n), next);
	}
	drv->next_desc = (uint16_t)((head + n) % drv->size);
	vring_driver_publish(drv, head);
	return head;
}

uint16_t vring_driver_add_indirect(struct vring_driver *drv, uint64_t table_gpa,
				   const struct vring_buf *bufs, unsigned n)
{
	uint16_t head = drv->next_desc;

	for (unsigned i = 0; i < n; i++)
		vring_driver_set_desc(drv, table_gpa, (uint16_t)i, bufs[i].gpa, bufs[i].len,
				      vring_driver_flags(&bufs[i], i + 1 < n), (uint16_t)(i + 1));
	vring_driver_set_desc(drv, drv->desc_gpa, head, table_gpa, 16 * n, VRING_DESC_F_INDIRECT,
			      0);
	drv->next_desc = (uint16_t)((head + 1) % drv->size);
	vring_driver_publish(drv, head);
	return head;
}

void vring_driver_set_avail_flags(const struct vring_driver *drv, uint16_t flags)
{
	struct vring_avail *avail = vring_driver_ptr(drv, drv->avail_gpa, 4);

	avail->flags = htole16(flags);
}

void vring_driver_set_used_event(const struct vring_driver *drv, uint16_t used_event)
{
	uint16_t *p = vring_driver_ptr(drv, drv->avail_gpa + 4 + 2ULL * drv->size, 2);

	*p = htole16(used_event);
}

uint16_t vring_driver_avail_event(const struct vring_driver *drv)
{
	const uint16_t *p = vring_driver_ptr(drv, drv->used_gpa + 4 + 8ULL * drv->size, 2);

	return le16toh(*p);
}

bool vring_driver_get_used(struct vring_driver *drv, uint32_t *id, uint32_t *len)
{
	struct vring_used *used = vring_driver_ptr(drv, drv->used_gpa, 4 + 8ULL * drv->size);
	uint16_t idx = le16toh(__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE));
	struct vring_used_elem e;

	if (idx == drv->last_used)
		return false;
	memcpy(&e, &used->ring[drv->last_used % drv->size], sizeof(e));
	drv->last_used++;
	*id = le32toh(e.id);
	*len = le32toh(e.len);
	return true;
}

bool vring_driver_wait_used(struct vring_driver *drv, uint32_t *id, uint32_t *len, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (vring_driver_get_used(drv, id, len))
			return true;
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
	return vring_driver_get_used(drv, id, len);
}

static void vring_signals_queue(struct virtio_dev *d, unsigned q)
{
	struct vring_signals *sig = d->transport;

	if (q < VIRTIO_MAX_QUEUES)
		__atomic_add_fetch(&sig->queue[q], 1, __ATOMIC_SEQ_CST);
}

static void vring_signals_config(struct virtio_dev *d)
{
	struct vring_signals *sig = d->transport;

	__atomic_add_fetch(&sig->config, 1, __ATOMIC_SEQ_CST);
}

static const struct virtio_transport_ops vring_signals_ops = {
    .signal_queue = vring_signals_queue,
    .signal_config = vring_signals_config,
};

void vring_signals_attach(struct vring_signals *sig, struct virtio_dev *d)
{
	*sig = (struct vring_signals){0};
	d->transport = sig;
	d->transport_ops = &vring_signals_ops;
}

int vring_device_init(struct vring_device *vd, uint64_t ram_size)
{
	if (guest_mem_init(&vd->mem, ram_size))
		return -1;
	vd->loop = evloop_create();
	return vd->loop ? 0 : -1;
}

int vring_device_set(struct vring_device *vd, struct virtio_dev *d)
{
	vd->d = d;
	if (!d)
		return -1;
	vring_signals_attach(&vd->sig, d);
	return 0;
}

void vring_device_finish(struct vring_device *vd)
{
	if (vd->d)
		vd->d->ops->destroy(vd->d);
	evloop_destroy(vd->loop);
	guest_mem_finish(&vd->mem);
}

int vring_device_teardown(void **state)
{
	vring_device_finish(*state);
	free(*state);
	return 0;
}
