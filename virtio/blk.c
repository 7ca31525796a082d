// SPDX-License-Identifier: MIT
#include "virtio.h"
#include "snapshot/snap_format.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLK_SECTOR     512
#define BLK_QUEUE_SIZE 256
/* EINTRs tolerated per request before it fails. */
#define BLK_MAX_INTERRUPTS 16

struct blk {
	struct virtio_dev dev; /* first: ops get &dev */
	struct virtio_blk_config cfg;
	int fd;
	bool read_only;
	uint64_t capacity; /* sectors */
	char id[VIRTIO_BLK_ID_BYTES];
};

static struct blk *to_blk(struct virtio_dev *d)
{
	return (struct blk *)d;
}

/*
 * Move @len bytes between the file at @pos and the chain segments @base
 * (@n of them) from byte @off, retrying short transfers. Returns the bytes
 * moved; fewer than @len means an I/O error or a file that shrank.
 */
static uint64_t blk_transfer(struct blk *b, bool write, const struct iovec *base, unsigned n,
			     size_t off, uint64_t len, off_t pos)
{
	struct iovec iov[VIRTQ_MAX_SEGS];
	uint64_t done = 0;
	unsigned interrupts = 0;

	while (done < len) {
		unsigned k = virtq_iov_slice(base, n, off + done, len - done, iov);
		ssize_t r = write ? pwritev(b->fd, iov, (int)k, pos + (off_t)done)
				  : preadv(b->fd, iov, (int)k, pos + (off_t)done);
		if (r < 0 && errno == EINTR && ++interrupts < BLK_MAX_INTERRUPTS)
			continue;
		if (r <= 0)
			break;
		done += (uint64_t)r;
	}
	return done;
}

/* IN or OUT; @data_in is the writable data length (status byte excluded). */
static uint8_t blk_rw(struct blk *b, const struct virtq_chain *c, bool write, uint64_t sector,
		      uint64_t data_in, uint32_t *written)
{
	uint64_t len = write ? c->out_len - sizeof(struct virtio_blk_outhdr) : data_in;

	if (write && b->read_only)
		return VIRTIO_BLK_S_IOERR;
	if (len % BLK_SECTOR || sector > b->capacity || len / BLK_SECTOR > b->capacity - sector)
		return VIRTIO_BLK_S_IOERR;
	off_t pos = (off_t)(sector * BLK_SECTOR);
	uint64_t done;
	if (write) {
		done = blk_transfer(b, true, c->out, c->n_out, sizeof(struct virtio_blk_outhdr),
				    len, pos);
	} else {
		done = blk_transfer(b, false, c->in, c->n_in, 0, len, pos);
		*written = (uint32_t)done;
	}
	return done == len ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
}

static uint32_t blk_request(struct virtio_dev *d, unsigned q, struct virtq_chain *c)
{
	struct blk *b = to_blk(d);
	struct virtio_blk_outhdr hdr;
	uint32_t written = 0;
	uint8_t status;

	/* The status byte is the last writable byte; without one, no reply. */
	if (c->in_len == 0)
		return 0;
	uint64_t data_in = c->in_len - 1;
	if (virtq_copy_from_out(c, 0, &hdr, sizeof(hdr)) != sizeof(hdr)) {
		status = VIRTIO_BLK_S_IOERR;
	} else {
		switch (le32toh(hdr.type)) {
		case VIRTIO_BLK_T_IN:
		case VIRTIO_BLK_T_OUT:
			status = blk_rw(b, c, le32toh(hdr.type) == VIRTIO_BLK_T_OUT,
					le64toh(hdr.sector), data_in, &written);
			break;
		case VIRTIO_BLK_T_FLUSH:
			status = fdatasync(b->fd) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
			break;
		case VIRTIO_BLK_T_GET_ID:
			written = (uint32_t)virtq_copy_to_in(
			    c, 0, b->id, data_in < sizeof(b->id) ? data_in : sizeof(b->id));
			status = VIRTIO_BLK_S_OK;
			break;
		default:
			status = VIRTIO_BLK_S_UNSUPP;
			break;
		}
	}
	virtq_copy_to_in(c, data_in, &status, 1);
	return written + 1;
}

static void blk_queue_notify(struct virtio_dev *d, unsigned q)
{
	virtio_queue_drain(d, q, blk_request);
}

static void blk_config_read(struct virtio_dev *d, uint32_t off, void *data, uint32_t len)
{
	struct blk *b = to_blk(d);

	virtio_config_copy(&b->cfg, sizeof(b->cfg), off, data, len);
}

static void blk_destroy(struct virtio_dev *d)
{
	if (!d)
		return;
	struct blk *b = to_blk(d);
	close(b->fd);
	virtio_dev_finish(d);
	free(b);
}

/* The disk itself is reopened by path; what the guest saw of it must still hold. */
static void blk_save(struct virtio_dev *d, struct snap_writer *w)
{
	struct blk *b = to_blk(d);

	snap_put_u64(w, b->capacity);
	snap_put_u8(w, b->read_only);
}

static bool blk_restore(struct virtio_dev *d, struct snap_section *s)
{
	struct blk *b = to_blk(d);
	uint64_t capacity;
	uint8_t ro;

	if (!snap_get_u64(s, &capacity) || !snap_get_u8(s, &ro))
		return false;
	return (capacity == b->capacity && ro == b->read_only) || snap_fail(s);
}

static const struct virtio_dev_ops blk_ops = {
    .name = "virtio-blk",
    .device_id = VIRTIO_ID_BLOCK,
    .num_queues = 1,
    .queue_max_size = BLK_QUEUE_SIZE,
    .config_size = sizeof(struct virtio_blk_config),
    .config_read = blk_config_read,
    .config_write = virtio_config_write_ignore,
    .activate = virtio_dev_activate,
    .queue_notify = blk_queue_notify,
    .reset = virtio_dev_reset,
    .destroy = blk_destroy,
    .save = blk_save,
    .restore = blk_restore,
};

/* The disk's size in bytes: a non-zero multiple of the sector size. */
static int blk_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return -EINVAL;
	off_t end = lseek(fd, 0, SEEK_END);
	if (end < 0)
		return -errno;
	if (end == 0 || end % BLK_SECTOR)
		return -EINVAL;
	*size = (uint64_t)end;
	return 0;
}

struct virtio_dev *virtio_blk_create(struct guest_mem *mem, struct evloop *loop, const char *path,
				     bool read_only)
{
	struct blk *b = calloc(1, sizeof(*b));
	uint64_t size = 0;

	if (!b) {
		fprintf(stderr, "virtio-blk: %s: %s\n", path, strerror(ENOMEM));
		return NULL;
	}
	b->fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (b->fd < 0) {
		fprintf(stderr, "virtio-blk: %s: %s\n", path, strerror(errno));
		goto err_free;
	}
	int err = blk_size(b->fd, &size);
	if (err == -EINVAL) {
		fprintf(stderr,
			"virtio-blk: %s: not a disk image (need a regular file or block device "
			"whose size is a non-zero multiple of %d bytes)\n",
			path, BLK_SECTOR);
		goto err_close;
	} else if (err) {
		fprintf(stderr, "virtio-blk: %s: %s\n", path, strerror(-err));
		goto err_close;
	}
	virtio_dev_init(&b->dev, &blk_ops, mem, loop);
	b->read_only = read_only;
	b->capacity = size / BLK_SECTOR;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	memcpy(b->id, base, strnlen(base, sizeof(b->id)));
	b->cfg.capacity = htole64(b->capacity);
	b->cfg.seg_max = htole32(VIRTQ_MAX_SEGS - 2);
	b->cfg.blk_size = htole32(BLK_SECTOR);
	b->dev.host_features |= (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |
				(1ULL << VIRTIO_BLK_F_BLK_SIZE);
	if (read_only)
		b->dev.host_features |= 1ULL << VIRTIO_BLK_F_RO;
	return &b->dev;
err_close:
	close(b->fd);
err_free:
	free(b);
	return NULL;
}
