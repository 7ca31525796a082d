// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gpu_commands.h"
#include "virtio/gpu.h"
#include "vring_driver.h"

#include <linux/virtio_gpu.h>

#define RAM_SIZE    (16ULL << 20)
#define CTRL_RING   0x1000ULL
#define CURSOR_RING 0x8000ULL
#define REQ	    0x10000ULL
#define RESP	    0x80000ULL
#define PIX	    0x100000ULL
#define W	    64
#define H	    32

/* A presenter that records what the device tells it. */
struct fake_presenter {
	struct vgpu_image *scanout;
	struct vgpu_rect scanout_rect;
	unsigned scanouts;
	struct vgpu_image *flushed;
	struct vgpu_rect damage;
	unsigned flushes;
	unsigned gone;
	const struct vgpu_image *cursor;
	uint32_t hot_x, hot_y;
	bool hold; /* act as a compositor that keeps each flushed image */
};

struct fx {
	struct vring_device dev; /* first: see vring_device_teardown() */
	struct vgpu *g;
	struct vring_driver ctrl, cursor;
	struct fake_presenter p;
};

static void fp_scanout(void *opaque, struct vgpu_image *img, const struct vgpu_rect *rect)
{
	struct fake_presenter *p = opaque;

	p->scanout = img;
	p->scanout_rect = rect ? *rect : (struct vgpu_rect){0};
	p->scanouts++;
}

static void fp_flush(void *opaque, struct vgpu_image *img, const struct vgpu_rect *damage)
{
	struct fake_presenter *p = opaque;

	p->flushed = img;
	p->damage = *damage;
	p->flushes++;
	if (p->hold)
		img->busy = true;
}

static void fp_image_gone(void *opaque, struct vgpu_image *img)
{
	struct fake_presenter *p = opaque;

	if (p->scanout == img)
		p->scanout = NULL;
	if (p->flushed == img)
		p->flushed = NULL;
	p->gone++;
}

static void fp_cursor(void *opaque, const struct vgpu_image *img, uint32_t hot_x, uint32_t hot_y)
{
	struct fake_presenter *p = opaque;

	p->cursor = img;
	p->hot_x = hot_x;
	p->hot_y = hot_y;
}

static const struct vgpu_presenter_ops fp_ops = {
    .scanout = fp_scanout,
    .flush = fp_flush,
    .image_gone = fp_image_gone,
    .cursor = fp_cursor,
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*state = f;
	if (vring_device_init(&f->dev, RAM_SIZE) ||
	    vring_device_set(&f->dev, virtio_gpu_create(&f->dev.mem, f->dev.loop, 640, 480)))
		return -1;
	f->g = vgpu_from_dev(f->dev.d);
	vring_driver_init(&f->ctrl, &f->dev.mem, &f->dev.d->vq[0], 16, CTRL_RING);
	vring_driver_init(&f->cursor, &f->dev.mem, &f->dev.d->vq[1], 16, CURSOR_RING);
	f->dev.d->status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			   VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;
	vgpu_set_presenter(f->g, &fp_ops, &f->p);
	return f->dev.d->ops->activate(f->dev.d) ? 0 : -1;
}

static void *gp(struct fx *f, uint64_t gpa)
{
	return f->dev.mem.host + gpa;
}

/*
 * Send @len bytes of @req on the control queue with a @resp_len response
 * buffer. Returns the response type (0 when nothing was written); *@written
 * gets the used length.
 */
static uint32_t send_len(struct fx *f, const void *req, size_t len, uint32_t resp_len,
			 uint32_t *written)
{
	const struct vring_buf bufs[] = {{REQ, (uint32_t)len, false}, {RESP, resp_len, true}};
	struct virtio_gpu_ctrl_hdr *resp = gp(f, RESP);
	uint32_t id, used;

	memcpy(gp(f, REQ), req, len);
	memset(resp, 0xee, resp_len);
	vring_driver_add(&f->ctrl, bufs, resp_len ? 2 : 1);
	f->dev.d->ops->queue_notify(f->dev.d, 0);
	assert_true(vring_driver_get_used(&f->ctrl, &id, &used));
	if (written)
		*written = used;
	return used >= sizeof(*resp) ? le32toh(resp->type) : 0;
}

static uint32_t send(struct fx *f, const void *req, size_t len)
{
	return send_len(f, req, len, sizeof(struct virtio_gpu_resp_edid), NULL);
}

static struct virtio_gpu_ctrl_hdr hdr(uint32_t type)
{
	return (struct virtio_gpu_ctrl_hdr){.type = htole32(type)};
}

static uint32_t create(struct fx *f, uint32_t id, uint32_t format, uint32_t w, uint32_t h)
{
	struct virtio_gpu_resource_create_2d c = {hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D),
						  htole32(id), htole32(format), htole32(w),
						  htole32(h)};
	return send(f, &c, sizeof(c));
}

/* Attach @n entries given as (gpa, len) pairs. */
static uint32_t attach(struct fx *f, uint32_t id, const uint64_t (*e)[2], uint32_t n)
{
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e[8];
	} c = {{hdr(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING), htole32(id), htole32(n)}, {{0}}};

	for (uint32_t i = 0; i < n && i < 8; i++)
		c.e[i] =
		    (struct virtio_gpu_mem_entry){htole64(e[i][0]), htole32((uint32_t)e[i][1]), 0};
	return send(f, &c, sizeof(c.a) + (n < 8 ? n : 8) * sizeof(c.e[0]));
}

static uint32_t scanout(struct fx *f, uint32_t sid, uint32_t id, struct virtio_gpu_rect r)
{
	struct virtio_gpu_set_scanout c = {hdr(VIRTIO_GPU_CMD_SET_SCANOUT), r, htole32(sid),
					   htole32(id)};
	return send(f, &c, sizeof(c));
}

static uint32_t transfer(struct fx *f, uint32_t id, struct virtio_gpu_rect r, uint64_t off)
{
	struct virtio_gpu_transfer_to_host_2d c = {hdr(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D), r,
						   htole64(off), htole32(id), 0};
	return send(f, &c, sizeof(c));
}

static uint32_t flush(struct fx *f, uint32_t id, struct virtio_gpu_rect r)
{
	struct virtio_gpu_resource_flush c = {hdr(VIRTIO_GPU_CMD_RESOURCE_FLUSH), r, htole32(id),
					      0};
	return send(f, &c, sizeof(c));
}

static struct virtio_gpu_rect rect(uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	return (struct virtio_gpu_rect){htole32(x), htole32(y), htole32(w), htole32(h)};
}

static uint32_t pixel_at(uint32_t x, uint32_t y, uint32_t gen)
{
	return gen * 0x01000000u + y * 0x100u + x;
}

/* Fill the guest backing (W x H at PIX) with generation @gen of a pattern. */
static void draw(struct fx *f, uint32_t gen)
{
	uint32_t *px = gp(f, PIX);

	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++)
			px[y * W + x] = pixel_at(x, y, gen);
}

/* Does @img show generation @gen inside @r (and @other_gen outside)? */
static bool image_matches(const struct vgpu_image *img, struct vgpu_rect r, uint32_t gen,
			  uint32_t other_gen)
{
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++) {
			bool in = x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
			uint32_t v;

			memcpy(&v, img->data + y * img->stride + x * 4, 4);
			if (v != pixel_at(x, y, in ? gen : other_gen))
				return false;
		}
	return true;
}

/* Resource 1: W x H, backing in two pieces at PIX, on the scanout. */
static void make_scanout(struct fx *f)
{
	const uint64_t half = W * 4 * H / 2;
	const uint64_t e[2][2] = {{PIX, half}, {PIX + half, half}};

	assert_int_equal(create(f, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, W, H),
			 VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(attach(f, 1, e, 2), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(scanout(f, 0, 1, rect(0, 0, W, H)), VIRTIO_GPU_RESP_OK_NODATA);
}

static void test_display_info(void **state)
{
	struct fx *f = *state;
	struct virtio_gpu_ctrl_hdr h = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	uint32_t written;

	assert_int_equal(send_len(f, &h, sizeof(h), 4096, &written),
			 VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	assert_int_equal(written, sizeof(struct virtio_gpu_resp_display_info));
	struct virtio_gpu_resp_display_info *r = gp(f, RESP);
	assert_int_equal(le32toh(r->pmodes[0].r.width), 640);
	assert_int_equal(le32toh(r->pmodes[0].r.height), 480);
	assert_int_equal(le32toh(r->pmodes[0].enabled), 1);
	assert_int_equal(le32toh(r->pmodes[1].enabled), 0);
	assert_true(f->dev.d->host_features & (1ULL << VIRTIO_GPU_F_EDID));
}

static void test_edid(void **state)
{
	struct fx *f = *state;
	struct virtio_gpu_cmd_get_edid c = {hdr(VIRTIO_GPU_CMD_GET_EDID), 0, 0};
	static const uint8_t magic[8] = {0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0};

	assert_int_equal(send(f, &c, sizeof(c)), VIRTIO_GPU_RESP_OK_EDID);
	struct virtio_gpu_resp_edid *r = gp(f, RESP);
	assert_int_equal(le32toh(r->size), 128);
	assert_memory_equal(r->edid, magic, 8);
	uint8_t sum = 0;
	for (int i = 0; i < 128; i++)
		sum += r->edid[i];
	assert_int_equal(sum, 0);
	/* preferred detailed timing: 640 x 480 */
	const uint8_t *dtd = r->edid + 54;
	assert_int_equal(dtd[2] | (dtd[4] >> 4) << 8, 640);
	assert_int_equal(dtd[5] | (dtd[7] >> 4) << 8, 480);
	assert_true(dtd[0] | dtd[1]); /* pixel clock set */

	c.scanout = htole32(1);
	assert_int_equal(send(f, &c, sizeof(c)), VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);

	/* the checksum holds for every size, including the largest */
	uint8_t e[128];
	vgpu_edid_build(e, VGPU_MAX_DIM, VGPU_MAX_DIM);
	sum = 0;
	for (int i = 0; i < 128; i++)
		sum += e[i];
	assert_int_equal(sum, 0);
	assert_int_equal(e[54 + 2] | (e[54 + 4] >> 4) << 8, VGPU_MAX_DIM);
}

static void test_create_formats_and_limits(void **state)
{
	struct fx *f = *state;
	static const uint32_t formats[] = {
	    VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
	    VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM,
	    VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM,
	    VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM};

	for (uint32_t i = 0; i < 8; i++)
		assert_int_equal(create(f, 10 + i, formats[i], 16, 16), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(create(f, 30, 5, 16, 16), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(create(f, 30, 0, 16, 16), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(create(f, 0, formats[0], 16, 16), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	assert_int_equal(create(f, 10, formats[0], 16, 16),
			 VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	assert_int_equal(create(f, 30, formats[0], 0, 16), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(create(f, 30, formats[0], 16, 0), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(create(f, 30, formats[0], 0xffffffff, 0xffffffff),
			 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(create(f, 30, formats[0], 4097, 4096),
			 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* The per-VM cap: 64 MiB resources until the total is spent. */
	unsigned made = 0;
	uint32_t t;
	while ((t = create(f, 100 + made, formats[0], 4096, 4096)) == VIRTIO_GPU_RESP_OK_NODATA)
		made++;
	assert_int_equal(t, VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
	assert_int_equal(made, VGPU_MAX_TOTAL_BYTES / VGPU_MAX_RESOURCE_BYTES - 1);
	struct vgpu_stats s;
	vgpu_get_stats(f->g, &s);
	assert_true(s.host_bytes <= VGPU_MAX_TOTAL_BYTES);
	/* Freeing one makes room again. */
	struct virtio_gpu_resource_unref u = {hdr(VIRTIO_GPU_CMD_RESOURCE_UNREF), htole32(100), 0};
	assert_int_equal(send(f, &u, sizeof(u)), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(send(f, &u, sizeof(u)), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	assert_int_equal(create(f, 100, formats[0], 4096, 4096), VIRTIO_GPU_RESP_OK_NODATA);
}

static void test_resource_count_cap(void **state)
{
	struct fx *f = *state;
	uint32_t i;

	for (i = 1; i <= VGPU_MAX_RESOURCES; i++)
		assert_int_equal(create(f, i, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 1, 1),
				 VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(create(f, i, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 1, 1),
			 VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);
}

static void test_short_and_unknown(void **state)
{
	struct fx *f = *state;
	static const uint32_t types[] = {GPU_BODY_COMMANDS};
	struct virtio_gpu_ctrl_hdr h;

	for (unsigned i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		h = hdr(types[i]);
		assert_int_equal(send(f, &h, sizeof(h)), VIRTIO_GPU_RESP_ERR_UNSPEC);
	}
	h = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	assert_int_equal(send(f, &h, sizeof(h) - 1), VIRTIO_GPU_RESP_ERR_UNSPEC);
	h = hdr(0x9999);
	assert_int_equal(send(f, &h, sizeof(h)), VIRTIO_GPU_RESP_ERR_UNSPEC);
	h = hdr(VIRTIO_GPU_CMD_CTX_CREATE);
	assert_int_equal(send(f, &h, sizeof(h)), VIRTIO_GPU_RESP_ERR_UNSPEC);
	/* A response buffer too small for the header gets nothing. */
	uint32_t written;
	h = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	send_len(f, &h, sizeof(h), 8, &written);
	assert_int_equal(written, 8);
	send_len(f, &h, sizeof(h), 0, &written);
	assert_int_equal(written, 0);
}

static void test_fence(void **state)
{
	struct fx *f = *state;
	struct virtio_gpu_ctrl_hdr h = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);

	h.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
	h.fence_id = htole64(0x123456789abcULL);
	assert_int_equal(send(f, &h, sizeof(h)), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	struct virtio_gpu_ctrl_hdr *r = gp(f, RESP);
	assert_int_equal(le32toh(r->flags) & VIRTIO_GPU_FLAG_FENCE, VIRTIO_GPU_FLAG_FENCE);
	assert_int_equal(le64toh(r->fence_id), 0x123456789abcULL);
	/* errors carry the fence too */
	struct virtio_gpu_resource_unref u = {hdr(VIRTIO_GPU_CMD_RESOURCE_UNREF), htole32(77), 0};
	u.hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
	u.hdr.fence_id = htole64(9);
	assert_int_equal(send(f, &u, sizeof(u)), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	assert_int_equal(le64toh(r->fence_id), 9);
	/* without the flag, no fence */
	h.flags = 0;
	send(f, &h, sizeof(h));
	assert_int_equal(le32toh(r->flags), 0);
	assert_int_equal(le64toh(r->fence_id), 0);
}

static void test_backing(void **state)
{
	struct fx *f = *state;
	const uint64_t good[1][2] = {{PIX, 4096}};
	const uint64_t outside[1][2] = {{RAM_SIZE, 4096}};
	const uint64_t straddle[1][2] = {{RAM_SIZE - 100, 4096}};
	const uint64_t wrap[1][2] = {{~0ULL - 10, 4096}};
	const uint64_t empty[1][2] = {{PIX, 0}};
	const uint64_t mixed[2][2] = {{PIX, 4096}, {RAM_SIZE, 4096}};

	assert_int_equal(attach(f, 1, good, 1), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	assert_int_equal(create(f, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, W, H),
			 VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(attach(f, 1, good, 0), VIRTIO_GPU_RESP_ERR_UNSPEC);
	assert_int_equal(attach(f, 1, outside, 1), VIRTIO_GPU_RESP_ERR_UNSPEC);
	assert_int_equal(attach(f, 1, straddle, 1), VIRTIO_GPU_RESP_ERR_UNSPEC);
	assert_int_equal(attach(f, 1, wrap, 1), VIRTIO_GPU_RESP_ERR_UNSPEC);
	assert_int_equal(attach(f, 1, empty, 1), VIRTIO_GPU_RESP_ERR_UNSPEC);
	assert_int_equal(attach(f, 1, mixed, 2), VIRTIO_GPU_RESP_ERR_UNSPEC);

	/* more entries than the cap, or than the buffer holds */
	struct virtio_gpu_resource_attach_backing a = {hdr(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING),
						       htole32(1),
						       htole32(VGPU_MAX_BACKING_ENTRIES + 1)};
	assert_int_equal(send(f, &a, sizeof(a)), VIRTIO_GPU_RESP_ERR_UNSPEC);
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e;
	} one = {a, {htole64(PIX), htole32(4096), 0}};
	one.a.nr_entries = htole32(2);
	assert_int_equal(send(f, &one, sizeof(one)), VIRTIO_GPU_RESP_ERR_UNSPEC);
	a.nr_entries = htole32(0xffffffff);
	assert_int_equal(send(f, &a, sizeof(a)), VIRTIO_GPU_RESP_ERR_UNSPEC);

	struct virtio_gpu_resource_detach_backing d = {hdr(VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING),
						       htole32(1), 0};
	assert_int_equal(send(f, &d, sizeof(d)), VIRTIO_GPU_RESP_ERR_UNSPEC);
	assert_int_equal(attach(f, 1, good, 1), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(attach(f, 1, good, 1), VIRTIO_GPU_RESP_ERR_UNSPEC);
	assert_int_equal(send(f, &d, sizeof(d)), VIRTIO_GPU_RESP_OK_NODATA);
	d.resource_id = htole32(2);
	assert_int_equal(send(f, &d, sizeof(d)), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	/* no backing: transfers fail */
	assert_int_equal(transfer(f, 1, rect(0, 0, 1, 1), 0), VIRTIO_GPU_RESP_ERR_UNSPEC);
}

static void test_scanout_errors(void **state)
{
	struct fx *f = *state;

	assert_int_equal(create(f, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, W, H),
			 VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(scanout(f, 1, 1, rect(0, 0, W, H)),
			 VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
	assert_int_equal(scanout(f, 0xffffffff, 1, rect(0, 0, W, H)),
			 VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
	assert_int_equal(scanout(f, 0, 2, rect(0, 0, W, H)),
			 VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	assert_int_equal(scanout(f, 0, 1, rect(1, 0, W, H)), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(scanout(f, 0, 1, rect(0, 0, W, H + 1)),
			 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(scanout(f, 0, 1, rect(0xffffffff, 0, 2, H)),
			 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(scanout(f, 0, 1, rect(0, 0, 0, 0)), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(f->p.scanouts, 0);
	assert_int_equal(scanout(f, 0, 1, rect(8, 4, 16, 16)), VIRTIO_GPU_RESP_OK_NODATA);
	assert_non_null(f->p.scanout);
	assert_int_equal(f->p.scanout_rect.x, 8);
	assert_true(f->p.scanout->fd >= 0); /* shareable with the compositor */
	assert_int_equal(scanout(f, 0, 0, rect(0, 0, 0, 0)), VIRTIO_GPU_RESP_OK_NODATA);
	assert_null(f->p.scanout);
}

static void test_transfer_and_flush(void **state)
{
	struct fx *f = *state;
	struct vgpu_stats s;

	make_scanout(f);
	draw(f, 1);
	assert_int_equal(transfer(f, 1, rect(0, 0, W, H), 0), VIRTIO_GPU_RESP_OK_NODATA);
	assert_true(image_matches(f->p.scanout, (struct vgpu_rect){0, 0, W, H}, 1, 0));
	vgpu_get_stats(f->g, &s);
	assert_int_equal(s.bytes_transferred, W * H * 4);

	/* A sub-rectangle: Linux passes offset = y * stride + x * bpp. */
	draw(f, 2);
	struct vgpu_rect r = {5, 3, 20, 7};
	assert_int_equal(transfer(f, 1, rect(r.x, r.y, r.width, r.height), r.y * W * 4 + r.x * 4),
			 VIRTIO_GPU_RESP_OK_NODATA);
	assert_true(image_matches(f->p.scanout, r, 2, 1));
	vgpu_get_stats(f->g, &s);
	assert_int_equal(s.bytes_transferred, W * H * 4 + 20 * 7 * 4);

	assert_int_equal(flush(f, 1, rect(5, 3, 20, 7)), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(f->p.flushes, 1);
	assert_ptr_equal(f->p.flushed, f->p.scanout);
	assert_int_equal(f->p.damage.x, 5);
	assert_int_equal(f->p.damage.width, 20);
	assert_int_equal(f->p.damage.height, 7);

	/* Off the resource, or past the backing: refused, image unchanged. */
	draw(f, 3);
	assert_int_equal(transfer(f, 1, rect(0, 0, W + 1, H), 0),
			 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(transfer(f, 1, rect(W, 0, 1, 1), 0),
			 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(transfer(f, 1, rect(0, 0xfffffff0, 1, 0x20), 0),
			 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(transfer(f, 1, rect(0, 0, W, H), 4),
			 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(transfer(f, 1, rect(0, 0, 1, 1), ~0ULL),
			 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(transfer(f, 9, rect(0, 0, 1, 1), 0),
			 VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	assert_true(image_matches(f->p.scanout, r, 2, 1));
	assert_int_equal(flush(f, 1, rect(0, 0, W + 1, 1)), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	assert_int_equal(flush(f, 9, rect(0, 0, 1, 1)), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	assert_int_equal(f->p.flushes, 1);
}

/* Damage outside the scanout rectangle, or of another resource, is not presented. */
static void test_flush_clipped(void **state)
{
	struct fx *f = *state;

	assert_int_equal(create(f, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, W, H),
			 VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(create(f, 2, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, W, H),
			 VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(scanout(f, 0, 1, rect(0, 0, 32, 16)), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(flush(f, 2, rect(0, 0, W, H)), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(flush(f, 1, rect(40, 20, 8, 8)), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(f->p.flushes, 0);
	assert_int_equal(flush(f, 1, rect(30, 10, 8, 8)), VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(f->p.flushes, 1);
	assert_int_equal(f->p.damage.x, 30);
	assert_int_equal(f->p.damage.width, 2);
	assert_int_equal(f->p.damage.height, 6);
}

/*
 * While the compositor holds the image it was given, the next transfer lands
 * in another image, which first gets the damage it missed; once released,
 * images are reused.
 */
static void test_held_image(void **state)
{
	struct fx *f = *state;
	struct vgpu_stats s;

	make_scanout(f);
	f->p.hold = true;
	draw(f, 1);
	transfer(f, 1, rect(0, 0, W, H), 0);
	flush(f, 1, rect(0, 0, W, H));
	struct vgpu_image *a = f->p.flushed;
	assert_true(a->busy);

	draw(f, 2);
	transfer(f, 1, rect(0, 0, 8, 8), 0);
	flush(f, 1, rect(0, 0, 8, 8));
	struct vgpu_image *b = f->p.flushed;
	assert_ptr_not_equal(a, b);
	assert_true(image_matches(a, (struct vgpu_rect){0, 0, W, H}, 1, 1));
	assert_true(image_matches(b, (struct vgpu_rect){0, 0, 8, 8}, 2, 1));
	vgpu_get_stats(f->g, &s);
	/* b was new: it got the whole first frame from a once */
	assert_int_equal(s.bytes_caught_up, W * H * 4);
	assert_int_equal(s.bytes_transferred, W * H * 4 + 8 * 8 * 4);

	vgpu_image_release(a);
	draw(f, 3);
	transfer(f, 1, rect(16, 16, 4, 4), 16 * W * 4 + 16 * 4);
	flush(f, 1, rect(16, 16, 4, 4));
	assert_ptr_equal(f->p.flushed, a);
	/* a caught up with b's 8x8 before taking the new 4x4 */
	vgpu_get_stats(f->g, &s);
	assert_int_equal(s.bytes_caught_up, W * H * 4 + 8 * 8 * 4);
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++) {
			uint32_t v, gen = x < 8 && y < 8			   ? 2
					  : x >= 16 && x < 20 && y >= 16 && y < 20 ? 3
										   : 1;
			memcpy(&v, a->data + y * a->stride + x * 4, 4);
			assert_int_equal(v, pixel_at(x, y, gen));
		}

	/* With every image held, the device stops adding images and writes in place. */
	transfer(f, 1, rect(0, 0, 1, 1), 0);
	flush(f, 1, rect(0, 0, 1, 1));
	transfer(f, 1, rect(0, 0, 1, 1), 0);
	flush(f, 1, rect(0, 0, 1, 1));
	transfer(f, 1, rect(0, 0, 1, 1), 0);
	flush(f, 1, rect(0, 0, 1, 1));
	vgpu_get_stats(f->g, &s);
	assert_true(s.host_bytes <= VGPU_MAX_SLOTS * W * H * 4 + 2 * sizeof(struct iovec));
}

/* A transfer that covers what the other image missed needs no catch-up copy. */
static void test_held_image_covered(void **state)
{
	struct fx *f = *state;
	struct vgpu_stats s;

	struct vgpu_image *prev = NULL;

	make_scanout(f);
	f->p.hold = true;
	for (uint32_t gen = 1; gen <= 4; gen++) {
		draw(f, gen);
		transfer(f, 1, rect(0, 0, W, H), 0);
		flush(f, 1, rect(0, 0, W, H));
		assert_true(image_matches(f->p.flushed, (struct vgpu_rect){0, 0, W, H}, gen, gen));
		/* like a compositor that holds only its latest buffer */
		if (prev && prev != f->p.flushed)
			vgpu_image_release(prev);
		prev = f->p.flushed;
	}
	vgpu_get_stats(f->g, &s);
	assert_int_equal(s.bytes_caught_up, 0);
	assert_int_equal(s.bytes_transferred, 4 * W * H * 4);
}

/* A compositor that releases at once: one image, one copy per transfer. */
static void test_one_copy_when_released(void **state)
{
	struct fx *f = *state;
	struct vgpu_stats s;

	make_scanout(f);
	for (uint32_t i = 0; i < 10; i++) {
		transfer(f, 1, rect(i, i, 10, 10), (uint64_t)i * W * 4 + i * 4);
		flush(f, 1, rect(i, i, 10, 10));
	}
	vgpu_get_stats(f->g, &s);
	assert_int_equal(s.bytes_transferred, 10 * 10 * 10 * 4);
	assert_int_equal(s.bytes_caught_up, 0);
	assert_int_equal(s.flushes, 10);
	assert_int_equal(s.host_bytes, W * H * 4 + 2 * sizeof(struct iovec));
}

static void test_display_change(void **state)
{
	struct fx *f = *state;
	uint32_t v, w, h;

	vgpu_set_display_size(f->g, 640, 480);
	assert_int_equal(f->dev.sig.config, 0);
	vgpu_set_display_size(f->g, 800, 600);
	assert_int_equal(f->dev.sig.config, 1);
	f->dev.d->ops->config_read(f->dev.d, offsetof(struct virtio_gpu_config, events_read), &v,
				   4);
	assert_int_equal(v, VIRTIO_GPU_EVENT_DISPLAY);
	f->dev.d->ops->config_read(f->dev.d, offsetof(struct virtio_gpu_config, num_scanouts), &v,
				   4);
	assert_int_equal(v, 1);
	v = VIRTIO_GPU_EVENT_DISPLAY;
	f->dev.d->ops->config_write(f->dev.d, offsetof(struct virtio_gpu_config, events_clear), &v,
				    4);
	f->dev.d->ops->config_read(f->dev.d, offsetof(struct virtio_gpu_config, events_read), &v,
				   4);
	assert_int_equal(v, 0);

	struct virtio_gpu_ctrl_hdr q = hdr(VIRTIO_GPU_CMD_GET_DISPLAY_INFO);
	send(f, &q, sizeof(q));
	struct virtio_gpu_resp_display_info *r = gp(f, RESP);
	assert_int_equal(le32toh(r->pmodes[0].r.width), 800);
	assert_int_equal(le32toh(r->pmodes[0].r.height), 600);

	/* clamped, never zero */
	vgpu_set_display_size(f->g, 0, 100000);
	vgpu_display_size(f->g, &w, &h);
	assert_int_equal(w, VGPU_MIN_DIM);
	assert_int_equal(h, VGPU_MAX_DIM);
}

static void send_cursor(struct fx *f, uint32_t type, uint32_t id, uint32_t hx, uint32_t hy)
{
	struct virtio_gpu_update_cursor c = {.hdr = hdr(type),
					     .resource_id = htole32(id),
					     .hot_x = htole32(hx),
					     .hot_y = htole32(hy)};
	const struct vring_buf b = {REQ, sizeof(c), false};
	uint32_t used_id, len;

	memcpy(gp(f, REQ), &c, sizeof(c));
	vring_driver_add(&f->cursor, &b, 1);
	f->dev.d->ops->queue_notify(f->dev.d, 1);
	assert_true(vring_driver_get_used(&f->cursor, &used_id, &len));
	assert_int_equal(len, 0);
}

static void test_cursor(void **state)
{
	struct fx *f = *state;

	assert_int_equal(create(f, 5, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 64, 64),
			 VIRTIO_GPU_RESP_OK_NODATA);
	assert_int_equal(create(f, 6, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 65, 64),
			 VIRTIO_GPU_RESP_OK_NODATA);
	send_cursor(f, VIRTIO_GPU_CMD_UPDATE_CURSOR, 5, 3, 4);
	assert_non_null(f->p.cursor);
	assert_int_equal(f->p.cursor->width, 64);
	assert_int_equal(f->p.hot_x, 3);
	assert_int_equal(f->p.hot_y, 4);
	send_cursor(f, VIRTIO_GPU_CMD_MOVE_CURSOR, 0, 0, 0);
	assert_non_null(f->p.cursor);
	send_cursor(f, VIRTIO_GPU_CMD_UPDATE_CURSOR, 6, 0, 0);
	assert_null(f->p.cursor);
	send_cursor(f, VIRTIO_GPU_CMD_UPDATE_CURSOR, 5, 100, 100);
	assert_int_equal(f->p.hot_x, 0);
	send_cursor(f, VIRTIO_GPU_CMD_UPDATE_CURSOR, 0, 0, 0);
	assert_null(f->p.cursor);
	send_cursor(f, VIRTIO_GPU_CMD_UPDATE_CURSOR, 5, 1, 1);
	/* freeing the cursor resource hides it */
	struct virtio_gpu_resource_unref u = {hdr(VIRTIO_GPU_CMD_RESOURCE_UNREF), htole32(5), 0};
	assert_int_equal(send(f, &u, sizeof(u)), VIRTIO_GPU_RESP_OK_NODATA);
	assert_null(f->p.cursor);
}

static void test_unref_and_reset(void **state)
{
	struct fx *f = *state;
	struct vgpu_stats s;

	make_scanout(f);
	struct virtio_gpu_resource_unref u = {hdr(VIRTIO_GPU_CMD_RESOURCE_UNREF), htole32(1), 0};
	assert_int_equal(send(f, &u, sizeof(u)), VIRTIO_GPU_RESP_OK_NODATA);
	assert_null(f->p.scanout);
	assert_true(f->p.gone >= 1);
	vgpu_get_stats(f->g, &s);
	assert_int_equal(s.host_bytes, 0);

	make_scanout(f);
	f->dev.d->ops->reset(f->dev.d);
	assert_null(f->p.scanout);
	vgpu_get_stats(f->g, &s);
	assert_int_equal(s.host_bytes, 0);
}

#define FX_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, vring_device_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    FX_TEST(test_display_info),
	    FX_TEST(test_edid),
	    FX_TEST(test_create_formats_and_limits),
	    FX_TEST(test_resource_count_cap),
	    FX_TEST(test_short_and_unknown),
	    FX_TEST(test_fence),
	    FX_TEST(test_backing),
	    FX_TEST(test_scanout_errors),
	    FX_TEST(test_transfer_and_flush),
	    FX_TEST(test_flush_clipped),
	    FX_TEST(test_held_image),
	    FX_TEST(test_held_image_covered),
	    FX_TEST(test_one_copy_when_released),
	    FX_TEST(test_display_change),
	    FX_TEST(test_cursor),
	    FX_TEST(test_unref_and_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
