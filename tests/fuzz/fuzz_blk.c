// SPDX-License-Identifier: MIT
/*
 * virtio-blk requests built by a well-behaved driver from fuzzer-chosen
 * types, sectors and segment layouts, against a small disk in a temporary
 * file (unlinked as soon as it is open).
 *
 * Input: [0] flags (bit 0: read-only disk, bit 1: event idx), then per
 * request: type, sector, segment count, request flags (bit 0: indirect,
 * bit 1: huge sector), and per segment: flags (bit 0: writable, bit 1:
 * address outside RAM), length (2 bytes, little endian).
 */
#include "vring_driver.h"

#include <endian.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RAM_SIZE     (4ULL << 20)
#define RINGS	     0x1000ULL
#define TABLE	     0x8000ULL
#define DATA	     0x10000ULL
#define DISK_SIZE    (64 * 1024)
#define MAX_REQUESTS 8
#define MAX_SEGS     12

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct guest_mem mem;
static struct evloop *loop;
static struct virtio_dev *disks[2]; /* read-write, read-only */

/* Open the same disk twice: the image's name is gone before any input runs. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	char path[64];

	snprintf(path, sizeof(path), "%s/inlay-fuzz-blk-XXXXXX", dir);
	int fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, DISK_SIZE) < 0)
		abort();
	close(fd);
	loop = evloop_create();
	if (guest_mem_init(&mem, RAM_SIZE) || !loop)
		abort();
	disks[0] = virtio_blk_create(&mem, loop, path, false);
	disks[1] = virtio_blk_create(&mem, loop, path, true);
	unlink(path);
	if (!disks[0] || !disks[1])
		abort();
	return 0;
}

struct cursor {
	const uint8_t *p;
	size_t n;
};

static bool take(struct cursor *cur, void *dst, size_t len)
{
	if (cur->n < len)
		return false;
	memcpy(dst, cur->p, len);
	cur->p += len;
	cur->n -= len;
	return true;
}

static const uint32_t types[] = {VIRTIO_BLK_T_IN,     VIRTIO_BLK_T_OUT,	    VIRTIO_BLK_T_FLUSH,
				 VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_DISCARD, 0x7fff};

/* Queue one request; returns false when the input ran out. */
static bool add_request(struct vring_driver *drv, struct cursor *cur)
{
	uint8_t h[4];
	struct vring_buf bufs[MAX_SEGS];
	uint64_t gpa = DATA;

	if (!take(cur, h, sizeof(h)))
		return false;
	struct virtio_blk_outhdr hdr = {
	    .type = htole32(types[h[0] % (sizeof(types) / sizeof(types[0]))]),
	    .sector = htole64(h[3] & 2 ? UINT64_MAX - h[1] : h[1]),
	};
	memcpy(mem.host + DATA, &hdr, sizeof(hdr));
	unsigned n = h[2] % MAX_SEGS + 1;
	for (unsigned i = 0; i < n; i++) {
		uint8_t f;
		uint16_t len;
		if (!take(cur, &f, 1) || !take(cur, &len, 2))
			return false;
		len = le16toh(len) & 0x3fff;
		bufs[i] = (struct vring_buf){f & 2 ? RAM_SIZE - 8 : gpa, len, f & 1};
		gpa += len;
	}
	if (h[3] & 1)
		vring_driver_add_indirect(drv, TABLE, bufs, n);
	else
		vring_driver_add(drv, bufs, n);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor cur = {data, size};
	struct vring_driver drv;
	uint8_t flags;

	if (!take(&cur, &flags, 1))
		return 0;
	struct virtio_dev *d = disks[flags & 1];
	virtq_reset(&d->vq[0]);
	vring_driver_init(&drv, &mem, &d->vq[0], 16, RINGS);
	d->driver_features = flags & 2 ? 1ULL << VIRTIO_RING_F_EVENT_IDX : 0;
	if (!d->ops->activate(d))
		__builtin_trap();
	/* Indirect tables share one spot, so each request is handled before the next. */
	for (unsigned r = 0; r < MAX_REQUESTS && add_request(&drv, &cur); r++) {
		uint32_t id, len;
		d->ops->queue_notify(d, 0);
		if (!vring_driver_get_used(&drv, &id, &len) || len > DISK_SIZE + 1)
			__builtin_trap();
	}
	return 0;
}
