// SPDX-License-Identifier: MIT
/*
 * virtio-gpu control and cursor queues: fuzzer-chosen command sequences
 * against one device, with a presenter that holds and releases images the
 * way a compositor does, and display size changes in between.
 *
 * Input, per command: op (bits 0-3: command from the table, bit 4: fence,
 * bit 5: the presenter holds flushed images, bit 6: release every held
 * image, bit 7: change the display size from the next two bytes), body
 * length (1 byte), response length (1 byte, times 8), then the body that
 * follows the control header (a length of 255 cuts the header itself short).
 */
#include "gpu_commands.h"
#include "virtio/gpu.h"
#include "vring_driver.h"

#include <linux/virtio_gpu.h>
#include <stdlib.h>
#include <string.h>

#define RAM_SIZE     (4ULL << 20)
#define CTRL_RING    0x1000ULL
#define CURSOR_RING  0x4000ULL
#define REQ	     0x10000ULL
#define RESP	     0x20000ULL
#define MAX_COMMANDS 64
#define MAX_HELD     16

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t commands[16] = {
    VIRTIO_GPU_CMD_GET_DISPLAY_INFO,
    GPU_BODY_COMMANDS, /* 1 to 8 */
    VIRTIO_GPU_CMD_GET_CAPSET_INFO,
    VIRTIO_GPU_CMD_CTX_CREATE,
    VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
    VIRTIO_GPU_CMD_UPDATE_CURSOR,
    VIRTIO_GPU_CMD_MOVE_CURSOR,
    0,
    0xffffffff,
};

static struct guest_mem mem;
static struct evloop *loop;
static struct virtio_dev *dev;
static struct vring_driver ctrl, cursor;

static struct {
	struct vgpu_image *held[MAX_HELD];
	bool hold;
} fp;

static void fp_scanout(void *opaque, struct vgpu_image *img, const struct vgpu_rect *rect)
{
	if (img && ((uint64_t)rect->x + rect->width > img->width ||
		    (uint64_t)rect->y + rect->height > img->height))
		abort();
}

static void fp_flush(void *opaque, struct vgpu_image *img, const struct vgpu_rect *damage)
{
	if (damage->x + damage->width > img->width || damage->y + damage->height > img->height)
		abort();
	if (!fp.hold || img->busy)
		return;
	for (unsigned i = 0; i < MAX_HELD; i++)
		if (!fp.held[i]) {
			fp.held[i] = img;
			img->busy = true;
			return;
		}
}

static void fp_image_gone(void *opaque, struct vgpu_image *img)
{
	for (unsigned i = 0; i < MAX_HELD; i++)
		if (fp.held[i] == img)
			fp.held[i] = NULL;
}

static void fp_cursor(void *opaque, const struct vgpu_image *img, uint32_t hot_x, uint32_t hot_y)
{
	if (img && (img->width > 64 || img->height > 64 || hot_x >= img->width))
		abort();
}

static const struct vgpu_presenter_ops fp_ops = {
    .scanout = fp_scanout,
    .flush = fp_flush,
    .image_gone = fp_image_gone,
    .cursor = fp_cursor,
};

static void release_all(void)
{
	for (unsigned i = 0; i < MAX_HELD; i++)
		if (fp.held[i]) {
			vgpu_image_release(fp.held[i]);
			fp.held[i] = NULL;
		}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	loop = evloop_create();
	if (guest_mem_init(&mem, RAM_SIZE) || !loop)
		abort();
	dev = virtio_gpu_create(&mem, loop, 320, 240);
	if (!dev)
		abort();
	vgpu_set_presenter(vgpu_from_dev(dev), &fp_ops, NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t body[256 + sizeof(struct virtio_gpu_ctrl_hdr)];
	size_t pos = 0;
	uint32_t id, len;

	dev->ops->reset(dev);
	release_all();
	vring_driver_init(&ctrl, &mem, &dev->vq[0], 16, CTRL_RING);
	vring_driver_init(&cursor, &mem, &dev->vq[1], 16, CURSOR_RING);
	dev->status = VIRTIO_CONFIG_S_DRIVER_OK;
	for (unsigned n = 0; n < MAX_COMMANDS && pos + 3 <= size; n++) {
		uint8_t op = data[pos], blen = data[pos + 1], rlen = data[pos + 2];

		pos += 3;
		if (op & 0x80 && pos + 2 <= size) {
			vgpu_set_display_size(vgpu_from_dev(dev), data[pos] * 16u,
					      data[pos + 1] * 16u);
			pos += 2;
		}
		fp.hold = op & 0x20;
		if (op & 0x40)
			release_all();
		if (blen > size - pos)
			blen = (uint8_t)(size - pos);
		struct virtio_gpu_ctrl_hdr hdr = {.type = htole32(commands[op & 15])};
		if (op & 0x10) {
			hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
			hdr.fence_id = htole64(n);
		}
		memcpy(body, &hdr, sizeof(hdr));
		memcpy(body + sizeof(hdr), data + pos, blen);
		pos += blen;
		/* 255 stands for a request cut inside the header. */
		uint32_t req_len = blen == 0xff ? sizeof(hdr) / 2 : (uint32_t)(sizeof(hdr) + blen);
		memcpy(vring_driver_ptr(&ctrl, REQ, req_len), body, req_len);
		bool to_cursor = (op & 15) == 12 || (op & 15) == 13;
		struct vring_driver *drv = to_cursor ? &cursor : &ctrl;
		const struct vring_buf bufs[] = {{REQ, req_len, false}, {RESP, rlen * 8u, true}};
		vring_driver_add(drv, bufs, rlen ? 2 : 1);
		dev->ops->queue_notify(dev, to_cursor ? 1 : 0);
		while (vring_driver_get_used(drv, &id, &len))
			if (len > rlen * 8u)
				abort();
	}
	return 0;
}
