// SPDX-License-Identifier: MIT
/*
 * virtio-gpu 2D (virtio 1.2, section 5.7): one scanout, resources in host
 * memory, backing in guest RAM. A transfer copies the damaged rectangle from
 * guest pages into the resource's host image once; a resource on the scanout
 * keeps its images in memfds the presenter hands to the compositor as they
 * are, so presenting costs no further copy (docs/DISPLAY.md).
 */
#include "gpu.h"
#include "snapshot/snap_format.h"

#include <endian.h>
#include <fcntl.h>
#include <linux/virtio_gpu.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define GPU_QUEUE_SIZE 256
#define GPU_CTRLQ      0
#define GPU_CURSORQ    1
#define GPU_BPP	       4
#define GPU_CURSOR_MAX 64

struct vgpu_resource {
	uint32_t id;
	uint32_t format, width, height;
	struct vgpu_image *img[VGPU_MAX_SLOTS];
	unsigned nr_img;
	unsigned newest; /* index in img[] of the image with every transfer so far */
	struct iovec *backing;
	unsigned nr_backing;
	uint64_t backing_len;
};

struct vgpu {
	struct virtio_dev dev; /* first: ops get &dev */
	struct virtio_gpu_config cfg;
	uint32_t width, height; /* what GET_DISPLAY_INFO reports */
	struct vgpu_resource *res[VGPU_MAX_RESOURCES];
	struct vgpu_resource *scanout; /* NULL: disabled */
	struct vgpu_rect scanout_rect;
	struct vgpu_resource *cursor;
	const struct vgpu_presenter_ops *presenter;
	void *presenter_opaque;
	struct vgpu_stats stats;
};

static struct vgpu *to_gpu(struct virtio_dev *d)
{
	return (struct vgpu *)d;
}

struct vgpu *vgpu_from_dev(struct virtio_dev *d)
{
	return to_gpu(d);
}

static bool format_supported(uint32_t f)
{
	switch (f) {
	case VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM:
	case VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM:
	case VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM:
	case VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM:
	case VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM:
		return true;
	default:
		return false;
	}
}

/* ---- rectangles ---- */

static struct vgpu_rect rect_from_le(const struct virtio_gpu_rect *r)
{
	return (struct vgpu_rect){le32toh(r->x), le32toh(r->y), le32toh(r->width),
				  le32toh(r->height)};
}

static bool rect_inside(const struct vgpu_rect *r, uint32_t w, uint32_t h)
{
	return (uint64_t)r->x + r->width <= w && (uint64_t)r->y + r->height <= h;
}

static bool rect_empty(const struct vgpu_rect *r)
{
	return !r->width || !r->height;
}

void vgpu_rect_union(struct vgpu_rect *a, const struct vgpu_rect *b)
{
	if (rect_empty(b))
		return;
	if (rect_empty(a)) {
		*a = *b;
		return;
	}
	uint32_t x0 = a->x < b->x ? a->x : b->x, y0 = a->y < b->y ? a->y : b->y;
	uint32_t x1 = a->x + a->width > b->x + b->width ? a->x + a->width : b->x + b->width;
	uint32_t y1 = a->y + a->height > b->y + b->height ? a->y + a->height : b->y + b->height;
	*a = (struct vgpu_rect){x0, y0, x1 - x0, y1 - y0};
}

static struct vgpu_rect rect_intersect(const struct vgpu_rect *a, const struct vgpu_rect *b)
{
	uint32_t x0 = a->x > b->x ? a->x : b->x, y0 = a->y > b->y ? a->y : b->y;
	uint32_t x1 = a->x + a->width < b->x + b->width ? a->x + a->width : b->x + b->width;
	uint32_t y1 = a->y + a->height < b->y + b->height ? a->y + a->height : b->y + b->height;

	if (x1 <= x0 || y1 <= y0)
		return (struct vgpu_rect){0};
	return (struct vgpu_rect){x0, y0, x1 - x0, y1 - y0};
}

/* ---- host images ---- */

static void image_free(struct vgpu *g, struct vgpu_image *img)
{
	if (!img)
		return;
	if (g->presenter && g->presenter->image_gone)
		g->presenter->image_gone(g->presenter_opaque, img);
	munmap(img->data, img->size);
	if (img->fd >= 0)
		close(img->fd);
	g->stats.host_bytes -= img->size;
	free(img);
}

/*
 * A zeroed image for @r: in a memfd when @shared (to be handed to the
 * compositor), else anonymous memory. NULL when the cap or the host says no.
 */
static struct vgpu_image *image_alloc(struct vgpu *g, const struct vgpu_resource *r, bool shared)
{
	uint64_t size = (uint64_t)r->width * GPU_BPP * r->height;
	struct vgpu_image *img;

	if (size > VGPU_MAX_TOTAL_BYTES - g->stats.host_bytes)
		return NULL;
	img = calloc(1, sizeof(*img));
	if (!img)
		return NULL;
	img->fd = -1;
	if (shared) {
		img->fd = memfd_create("inlay-gpu-image", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (img->fd < 0 || ftruncate(img->fd, (off_t)size) < 0)
			goto err_free;
		/* The compositor maps it too: it must never shrink under anyone. */
		fcntl(img->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
		img->data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, img->fd, 0);
	} else {
		img->data =
		    mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (img->data == MAP_FAILED)
		goto err_free;
	img->size = size;
	img->width = r->width;
	img->height = r->height;
	img->stride = r->width * GPU_BPP;
	img->format = r->format;
	g->stats.host_bytes += size;
	return img;
err_free:
	if (img->fd >= 0)
		close(img->fd);
	free(img);
	return NULL;
}

static void image_copy_rect(struct vgpu_image *dst, const struct vgpu_image *src,
			    const struct vgpu_rect *rc)
{
	for (uint32_t y = rc->y; y < rc->y + rc->height; y++) {
		uint64_t off = (uint64_t)y * src->stride + (uint64_t)rc->x * GPU_BPP;
		memcpy(dst->data + off, src->data + off, (size_t)rc->width * GPU_BPP);
	}
}

/*
 * Make sure the newest image of @r can go to the compositor (a memfd). Costs
 * one full copy when a private resource first goes on the scanout.
 */
static bool resource_share(struct vgpu *g, struct vgpu_resource *r)
{
	struct vgpu_image *old = r->img[r->newest];

	if (old->fd >= 0)
		return true;
	struct vgpu_image *img = image_alloc(g, r, true);
	if (!img)
		return false;
	memcpy(img->data, old->data, img->size);
	r->img[r->newest] = img;
	image_free(g, old);
	return true;
}

static bool rect_contains(const struct vgpu_rect *outer, const struct vgpu_rect *inner)
{
	return inner->x >= outer->x && inner->y >= outer->y &&
	       inner->x + inner->width <= outer->x + outer->width &&
	       inner->y + inner->height <= outer->y + outer->height;
}

/*
 * The image a transfer of @rc into @r writes: the newest unless the
 * compositor still holds it; then another one it released (or a new one),
 * first given the damage it missed unless @rc covers that anyway.
 */
static struct vgpu_image *resource_target(struct vgpu *g, struct vgpu_resource *r,
					  const struct vgpu_rect *rc)
{
	struct vgpu_image *cur = r->img[r->newest];
	unsigned pick = r->nr_img;

	if (!cur->busy)
		return cur;
	for (unsigned i = 0; i < r->nr_img; i++)
		if (i != r->newest && !r->img[i]->busy)
			pick = i;
	if (pick == r->nr_img) {
		struct vgpu_image *img = NULL;

		if (r->nr_img < VGPU_MAX_SLOTS)
			img = image_alloc(g, r, true);
		if (!img)
			return cur; /* out of images: write in place, a torn frame at worst */
		img->missing = (struct vgpu_rect){0, 0, r->width, r->height};
		r->img[r->nr_img++] = img;
	}
	struct vgpu_image *next = r->img[pick];
	if (!rect_empty(&next->missing) && !rect_contains(rc, &next->missing)) {
		image_copy_rect(next, cur, &next->missing);
		g->stats.bytes_caught_up +=
		    (uint64_t)next->missing.width * GPU_BPP * next->missing.height;
	}
	next->missing = (struct vgpu_rect){0};
	r->newest = pick;
	return next;
}

/* ---- resources ---- */

static struct vgpu_resource **resource_slot(struct vgpu *g, uint32_t id)
{
	for (unsigned i = 0; i < VGPU_MAX_RESOURCES; i++)
		if (g->res[i] && g->res[i]->id == id)
			return &g->res[i];
	return NULL;
}

static struct vgpu_resource *resource_find(struct vgpu *g, uint32_t id)
{
	struct vgpu_resource **slot = id ? resource_slot(g, id) : NULL;
	return slot ? *slot : NULL;
}

static void backing_free(struct vgpu *g, struct vgpu_resource *r)
{
	g->stats.host_bytes -= (uint64_t)r->nr_backing * sizeof(*r->backing);
	free(r->backing);
	r->backing = NULL;
	r->nr_backing = 0;
	r->backing_len = 0;
}

static void scanout_disable(struct vgpu *g)
{
	g->scanout = NULL;
	if (g->presenter && g->presenter->scanout)
		g->presenter->scanout(g->presenter_opaque, NULL, NULL);
}

static void cursor_hide(struct vgpu *g)
{
	g->cursor = NULL;
	if (g->presenter && g->presenter->cursor)
		g->presenter->cursor(g->presenter_opaque, NULL, 0, 0);
}

static void resource_destroy(struct vgpu *g, struct vgpu_resource **slot)
{
	struct vgpu_resource *r = *slot;

	if (g->scanout == r)
		scanout_disable(g);
	if (g->cursor == r)
		cursor_hide(g);
	for (unsigned i = 0; i < r->nr_img; i++)
		image_free(g, r->img[i]);
	backing_free(g, r);
	free(r);
	*slot = NULL;
}

static void resources_clear(struct vgpu *g)
{
	for (unsigned i = 0; i < VGPU_MAX_RESOURCES; i++)
		if (g->res[i])
			resource_destroy(g, &g->res[i]);
}

/* ---- control commands: each returns a VIRTIO_GPU_RESP_* type ---- */

/* Read the fixed part of a command; false when the driver's buffer is short. */
static bool cmd_read(const struct virtq_chain *c, void *cmd, size_t len)
{
	return virtq_copy_from_out(c, 0, cmd, len) == len;
}

static uint32_t cmd_create_2d(struct vgpu *g, const struct virtq_chain *c, const void *body,
			      struct vgpu_resource *r)
{
	const struct virtio_gpu_resource_create_2d *cmd = body;
	struct vgpu_resource **free_slot;

	uint32_t id = le32toh(cmd->resource_id), w = le32toh(cmd->width), h = le32toh(cmd->height);
	if (!id || resource_find(g, id))
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	if (!format_supported(le32toh(cmd->format)) || !w || !h ||
	    (uint64_t)w * h * GPU_BPP > VGPU_MAX_RESOURCE_BYTES)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	free_slot = NULL;
	for (unsigned i = 0; i < VGPU_MAX_RESOURCES && !free_slot; i++)
		if (!g->res[i])
			free_slot = &g->res[i];
	if (!free_slot)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	r = calloc(1, sizeof(*r));
	if (!r)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	*r = (struct vgpu_resource){
	    .id = id, .format = le32toh(cmd->format), .width = w, .height = h};
	r->img[0] = image_alloc(g, r, false);
	if (!r->img[0]) {
		free(r);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	r->nr_img = 1;
	*free_slot = r;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_unref(struct vgpu *g, const struct virtq_chain *c, const void *body,
			  struct vgpu_resource *r)
{
	resource_destroy(g, resource_slot(g, r->id));
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_attach_backing(struct vgpu *g, const struct virtq_chain *c, const void *body,
				   struct vgpu_resource *r)
{
	const struct virtio_gpu_resource_attach_backing *cmd = body;
	uint32_t n = le32toh(cmd->nr_entries);

	if (r->backing || !n || n > VGPU_MAX_BACKING_ENTRIES ||
	    c->out_len < sizeof(*cmd) + (uint64_t)n * sizeof(struct virtio_gpu_mem_entry))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	uint64_t bytes = (uint64_t)n * sizeof(*r->backing);
	if (bytes > VGPU_MAX_TOTAL_BYTES - g->stats.host_bytes)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	struct iovec *iov = calloc(n, sizeof(*iov));
	if (!iov)
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	uint64_t total = 0;
	for (uint32_t i = 0; i < n; i++) {
		struct virtio_gpu_mem_entry e;

		virtq_copy_from_out(c, sizeof(*cmd) + (size_t)i * sizeof(e), &e, sizeof(e));
		uint64_t gpa = le64toh(e.addr);
		uint32_t len = le32toh(e.length);
		void *p = len ? guest_mem_ptr(g->dev.mem, gpa, len) : NULL;
		if (!p) {
			free(iov);
			return VIRTIO_GPU_RESP_ERR_UNSPEC;
		}
		iov[i] = (struct iovec){p, len};
		total += len;
	}
	r->backing = iov;
	r->nr_backing = n;
	r->backing_len = total;
	g->stats.host_bytes += bytes;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_detach_backing(struct vgpu *g, const struct virtq_chain *c, const void *body,
				   struct vgpu_resource *r)
{
	if (!r->backing)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	backing_free(g, r);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_set_scanout(struct vgpu *g, const struct virtq_chain *c, const void *body,
				struct vgpu_resource *r)
{
	const struct virtio_gpu_set_scanout *cmd = body;

	if (le32toh(cmd->scanout_id) != 0)
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	if (!cmd->resource_id) {
		scanout_disable(g);
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	r = resource_find(g, le32toh(cmd->resource_id));
	if (!r)
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	struct vgpu_rect rc = rect_from_le(&cmd->r);
	if (rect_empty(&rc) || !rect_inside(&rc, r->width, r->height))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (g->presenter && !resource_share(g, r))
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	g->scanout = r;
	g->scanout_rect = rc;
	if (g->presenter && g->presenter->scanout)
		g->presenter->scanout(g->presenter_opaque, r->img[r->newest], &rc);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/*
 * Copy @len bytes from byte @off of @r's backing to @dst. *@i and *@base
 * remember the entry where the last copy ended so that row after row does not
 * walk the list from the start. The caller checked off + len <= backing_len.
 */
static void backing_read(const struct vgpu_resource *r, unsigned *i, uint64_t *base, uint64_t off,
			 uint8_t *dst, uint64_t len)
{
	if (off < *base) {
		*i = 0;
		*base = 0;
	}
	while (*i < r->nr_backing && off >= *base + r->backing[*i].iov_len)
		*base += r->backing[(*i)++].iov_len;
	while (len && *i < r->nr_backing) {
		const struct iovec *e = &r->backing[*i];
		uint64_t in = off - *base, n = e->iov_len - in;

		if (n > len)
			n = len;
		memcpy(dst, (const uint8_t *)e->iov_base + in, n);
		dst += n;
		off += n;
		len -= n;
		if (off == *base + e->iov_len)
			*base += r->backing[(*i)++].iov_len;
	}
}

static uint32_t cmd_transfer_2d(struct vgpu *g, const struct virtq_chain *c, const void *body,
				struct vgpu_resource *r)
{
	const struct virtio_gpu_transfer_to_host_2d *cmd = body;

	if (!r->backing)
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	struct vgpu_rect rc = rect_from_le(&cmd->r);
	if (!rect_inside(&rc, r->width, r->height))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	if (rect_empty(&rc))
		return VIRTIO_GPU_RESP_OK_NODATA;
	/* Row h of the rectangle starts at offset + h * stride in the backing. */
	uint64_t stride = (uint64_t)r->width * GPU_BPP, row = (uint64_t)rc.width * GPU_BPP;
	uint64_t off = le64toh(cmd->offset);
	if (off > r->backing_len || stride * (rc.height - 1) + row > r->backing_len - off)
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;

	struct vgpu_image *img = resource_target(g, r, &rc);
	unsigned i = 0;
	uint64_t base = 0;
	for (uint32_t h = 0; h < rc.height; h++) {
		uint8_t *dst =
		    img->data + (uint64_t)(rc.y + h) * img->stride + (uint64_t)rc.x * GPU_BPP;
		backing_read(r, &i, &base, off + h * stride, dst, row);
	}
	for (unsigned k = 0; k < r->nr_img; k++)
		if (r->img[k] != img)
			vgpu_rect_union(&r->img[k]->missing, &rc);
	g->stats.transfers++;
	g->stats.bytes_transferred += row * rc.height;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_flush(struct vgpu *g, const struct virtq_chain *c, const void *body,
			  struct vgpu_resource *r)
{
	const struct virtio_gpu_resource_flush *cmd = body;
	struct vgpu_rect rc = rect_from_le(&cmd->r);
	if (!rect_inside(&rc, r->width, r->height))
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	g->stats.flushes++;
	if (r != g->scanout)
		return VIRTIO_GPU_RESP_OK_NODATA;
	struct vgpu_rect damage = rect_intersect(&rc, &g->scanout_rect);
	if (!rect_empty(&damage) && g->presenter && g->presenter->flush)
		g->presenter->flush(g->presenter_opaque, r->img[r->newest], &damage);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t cmd_display_info(struct vgpu *g, struct virtio_gpu_resp_display_info *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->pmodes[0].r.width = htole32(g->width);
	resp->pmodes[0].r.height = htole32(g->height);
	resp->pmodes[0].enabled = htole32(1);
	return VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
}

static uint32_t cmd_get_edid(struct vgpu *g, const struct virtq_chain *c,
			     struct virtio_gpu_resp_edid *resp)
{
	struct virtio_gpu_cmd_get_edid cmd;

	if (!cmd_read(c, &cmd, sizeof(cmd)))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (le32toh(cmd.scanout) != 0)
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	memset(resp, 0, sizeof(*resp));
	resp->size = htole32(128);
	vgpu_edid_build(resp->edid, g->width, g->height);
	return VIRTIO_GPU_RESP_OK_EDID;
}

/*
 * The 2D commands, answered with a bare header. cmd_2d_run() reads the fixed
 * part first and, where the command acts on an existing resource, looks it up.
 */
union cmd_2d_body {
	struct virtio_gpu_resource_create_2d create_2d;
	struct virtio_gpu_resource_unref unref;
	struct virtio_gpu_set_scanout set_scanout;
	struct virtio_gpu_resource_flush flush;
	struct virtio_gpu_transfer_to_host_2d transfer_2d;
	struct virtio_gpu_resource_attach_backing attach_backing;
	struct virtio_gpu_resource_detach_backing detach_backing;
};

struct cmd_2d {
	uint32_t (*run)(struct vgpu *g, const struct virtq_chain *c, const void *body,
			struct vgpu_resource *r);
	size_t len;
	size_t id_off; /* of a resource_id that must name a resource; 0 if none does */
};

#define CMD_2D(type, fn, lookup)                                                                   \
	[VIRTIO_GPU_CMD_##type - VIRTIO_GPU_CMD_GET_DISPLAY_INFO] = {                              \
	    cmd_##fn, sizeof(((union cmd_2d_body *)0)->fn),                                        \
	    (lookup) ? offsetof(union cmd_2d_body, fn.resource_id) : 0}

static const struct cmd_2d cmd_2d[] = {
    CMD_2D(RESOURCE_CREATE_2D, create_2d, false),
    CMD_2D(RESOURCE_UNREF, unref, true),
    CMD_2D(SET_SCANOUT, set_scanout, false),
    CMD_2D(RESOURCE_FLUSH, flush, true),
    CMD_2D(TRANSFER_TO_HOST_2D, transfer_2d, true),
    CMD_2D(RESOURCE_ATTACH_BACKING, attach_backing, true),
    CMD_2D(RESOURCE_DETACH_BACKING, detach_backing, true),
};

static uint32_t cmd_2d_run(struct vgpu *g, const struct virtq_chain *c, uint32_t type)
{
	uint32_t i = type - VIRTIO_GPU_CMD_GET_DISPLAY_INFO;
	const struct cmd_2d *cmd = i < sizeof(cmd_2d) / sizeof(cmd_2d[0]) ? &cmd_2d[i] : NULL;
	struct vgpu_resource *r = NULL;
	union cmd_2d_body body;
	uint32_t id;

	if (!cmd || !cmd->run || !cmd_read(c, &body, cmd->len))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (cmd->id_off) {
		memcpy(&id, (const uint8_t *)&body + cmd->id_off, sizeof(id));
		r = resource_find(g, le32toh(id));
		if (!r)
			return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	return cmd->run(g, c, &body, r);
}

static uint32_t gpu_ctrl(struct virtio_dev *d, unsigned q, struct virtq_chain *c)
{
	struct vgpu *g = to_gpu(d);
	union {
		struct virtio_gpu_ctrl_hdr hdr;
		struct virtio_gpu_resp_display_info info;
		struct virtio_gpu_resp_edid edid;
	} resp;
	struct virtio_gpu_ctrl_hdr hdr;
	size_t len = sizeof(resp.hdr);
	uint32_t type;

	if (!cmd_read(c, &hdr, sizeof(hdr))) {
		type = VIRTIO_GPU_RESP_ERR_UNSPEC;
		memset(&hdr, 0, sizeof(hdr));
	} else if (le32toh(hdr.type) == VIRTIO_GPU_CMD_GET_DISPLAY_INFO) {
		type = cmd_display_info(g, &resp.info);
	} else if (le32toh(hdr.type) == VIRTIO_GPU_CMD_GET_EDID) {
		type = cmd_get_edid(g, c, &resp.edid);
	} else {
		type = cmd_2d_run(g, c, le32toh(hdr.type));
	}
	if (type == VIRTIO_GPU_RESP_OK_DISPLAY_INFO)
		len = sizeof(resp.info);
	else if (type == VIRTIO_GPU_RESP_OK_EDID)
		len = sizeof(resp.edid);
	else
		memset(&resp.hdr, 0, sizeof(resp.hdr));
	resp.hdr.type = htole32(type);
	/* 2D work is done by now, so a fence completes with its command. */
	if (le32toh(hdr.flags) & VIRTIO_GPU_FLAG_FENCE) {
		resp.hdr.flags = htole32(VIRTIO_GPU_FLAG_FENCE);
		resp.hdr.fence_id = hdr.fence_id;
		resp.hdr.ctx_id = hdr.ctx_id;
	}
	return (uint32_t)virtq_copy_to_in(c, 0, &resp, len);
}

static uint32_t gpu_cursor(struct virtio_dev *d, unsigned q, struct virtq_chain *c)
{
	struct vgpu *g = to_gpu(d);
	struct virtio_gpu_update_cursor cmd;

	if (!cmd_read(c, &cmd, sizeof(cmd)) ||
	    le32toh(cmd.hdr.type) != VIRTIO_GPU_CMD_UPDATE_CURSOR || le32toh(cmd.pos.scanout_id))
		return 0; /* MOVE_CURSOR: the compositor draws the pointer where it is */
	struct vgpu_resource *r = resource_find(g, le32toh(cmd.resource_id));
	if (!r || r->width > GPU_CURSOR_MAX || r->height > GPU_CURSOR_MAX) {
		cursor_hide(g);
		return 0;
	}
	uint32_t hx = le32toh(cmd.hot_x), hy = le32toh(cmd.hot_y);
	g->cursor = r;
	if (g->presenter && g->presenter->cursor)
		g->presenter->cursor(g->presenter_opaque, r->img[r->newest], hx < r->width ? hx : 0,
				     hy < r->height ? hy : 0);
	return 0;
}

static void gpu_queue_notify(struct virtio_dev *d, unsigned q)
{
	virtio_queue_drain(d, q, q == GPU_CTRLQ ? gpu_ctrl : gpu_cursor);
}

static void gpu_config_read(struct virtio_dev *d, uint32_t off, void *data, uint32_t len)
{
	struct vgpu *g = to_gpu(d);

	virtio_config_copy(&g->cfg, sizeof(g->cfg), off, data, len);
}

static void gpu_config_write(struct virtio_dev *d, uint32_t off, const void *data, uint32_t len)
{
	struct vgpu *g = to_gpu(d);
	uint32_t v;

	if (off != offsetof(struct virtio_gpu_config, events_clear) || len != sizeof(v))
		return;
	memcpy(&v, data, sizeof(v));
	g->cfg.events_read &= ~v;
}

static void gpu_reset(struct virtio_dev *d)
{
	struct vgpu *g = to_gpu(d);

	resources_clear(g);
	g->cfg.events_read = 0;
	virtio_dev_reset(d);
}

static void gpu_destroy(struct virtio_dev *d)
{
	if (!d)
		return;
	struct vgpu *g = to_gpu(d);
	g->presenter = NULL;
	resources_clear(g);
	virtio_dev_finish(d);
	free(g);
}

/* ---- snapshots ---- */

static uint32_t clamp_dim(uint32_t v)
{
	return v < VGPU_MIN_DIM ? VGPU_MIN_DIM : v > VGPU_MAX_DIM ? VGPU_MAX_DIM : v;
}

static void gpu_save(struct virtio_dev *d, struct snap_writer *w)
{
	struct vgpu *g = to_gpu(d);
	uint32_t n = 0;

	snap_put_u32(w, g->width);
	snap_put_u32(w, g->height);
	snap_put_u32(w, le32toh(g->cfg.events_read));
	for (unsigned i = 0; i < VGPU_MAX_RESOURCES; i++)
		n += g->res[i] != NULL;
	snap_put_u32(w, n);
	for (unsigned i = 0; i < VGPU_MAX_RESOURCES; i++) {
		const struct vgpu_resource *r = g->res[i];

		if (!r)
			continue;
		snap_put_u32(w, r->id);
		snap_put_u32(w, r->format);
		snap_put_u32(w, r->width);
		snap_put_u32(w, r->height);
		snap_put_u32(w, r->nr_backing);
		for (unsigned k = 0; k < r->nr_backing; k++) {
			snap_put_u64(w, guest_mem_gpa(d->mem, r->backing[k].iov_base));
			snap_put_u32(w, (uint32_t)r->backing[k].iov_len);
		}
	}
	struct vgpu_rect rc = g->scanout ? g->scanout_rect : (struct vgpu_rect){0};
	snap_put_u32(w, g->scanout ? g->scanout->id : 0);
	snap_put_u32(w, rc.x);
	snap_put_u32(w, rc.y);
	snap_put_u32(w, rc.width);
	snap_put_u32(w, rc.height);
	snap_put_u32(w, g->cursor ? g->cursor->id : 0);
}

/*
 * Rebuild one resource as RESOURCE_CREATE_2D and ATTACH_BACKING would, then
 * fill its image from the backing pages as a full TRANSFER_TO_HOST_2D does.
 */
static bool gpu_restore_resource(struct vgpu *g, struct snap_section *s, unsigned slot)
{
	uint32_t id, format, w, h, n;

	if (!snap_get_u32(s, &id) || !snap_get_u32(s, &format) || !snap_get_u32(s, &w) ||
	    !snap_get_u32(s, &h) || !snap_get_u32(s, &n))
		return false;
	if (!id || resource_find(g, id) || !format_supported(format) || !w || !h ||
	    (uint64_t)w * h * GPU_BPP > VGPU_MAX_RESOURCE_BYTES || n > VGPU_MAX_BACKING_ENTRIES ||
	    (uint64_t)n * sizeof(struct iovec) > VGPU_MAX_TOTAL_BYTES - g->stats.host_bytes)
		return snap_fail(s);
	struct vgpu_resource *r = calloc(1, sizeof(*r));
	struct iovec *iov = n ? calloc(n, sizeof(*iov)) : NULL;
	if (!r || (n && !iov))
		goto err;
	*r = (struct vgpu_resource){.id = id, .format = format, .width = w, .height = h};
	for (uint32_t k = 0; k < n; k++) {
		uint64_t gpa = 0;
		uint32_t len = 0;

		snap_get_u64(s, &gpa);
		snap_get_u32(s, &len);
		iov[k].iov_base = len ? guest_mem_ptr(g->dev.mem, gpa, len) : NULL;
		iov[k].iov_len = len;
		if (!iov[k].iov_base)
			goto err;
		r->backing_len += len;
	}
	r->img[0] = image_alloc(g, r, false);
	if (!r->img[0])
		goto err;
	r->nr_img = 1;
	r->backing = iov;
	r->nr_backing = n;
	g->stats.host_bytes += (uint64_t)n * sizeof(*iov);
	g->res[slot] = r;
	uint64_t stride = (uint64_t)w * GPU_BPP;
	unsigned i = 0;
	uint64_t base = 0;
	for (uint64_t y = 0; y < h && (y + 1) * stride <= r->backing_len; y++)
		backing_read(r, &i, &base, y * stride, r->img[0]->data + y * stride, stride);
	return true;
err:
	free(iov);
	free(r);
	return snap_fail(s);
}

static bool gpu_restore(struct virtio_dev *d, struct snap_section *s)
{
	struct vgpu *g = to_gpu(d);
	uint32_t width, height, events, n, scanout, cursor;
	struct vgpu_rect rc;

	resources_clear(g);
	if (!snap_get_u32(s, &width) || !snap_get_u32(s, &height) || !snap_get_u32(s, &events) ||
	    !snap_get_u32(s, &n))
		return false;
	if (width != clamp_dim(width) || height != clamp_dim(height) ||
	    (events & ~VIRTIO_GPU_EVENT_DISPLAY) || n > VGPU_MAX_RESOURCES)
		return snap_fail(s);
	for (unsigned i = 0; i < n; i++) {
		if (!gpu_restore_resource(g, s, i)) {
			resources_clear(g);
			return false;
		}
	}
	if (!snap_get_u32(s, &scanout) || !snap_get_u32(s, &rc.x) || !snap_get_u32(s, &rc.y) ||
	    !snap_get_u32(s, &rc.width) || !snap_get_u32(s, &rc.height) ||
	    !snap_get_u32(s, &cursor))
		goto err;
	struct vgpu_resource *r = resource_find(g, scanout), *c = resource_find(g, cursor);
	if ((scanout && (!r || rect_empty(&rc) || !rect_inside(&rc, r->width, r->height))) ||
	    (cursor && (!c || c->width > GPU_CURSOR_MAX || c->height > GPU_CURSOR_MAX)))
		goto err;
	g->width = width;
	g->height = height;
	g->cfg.events_read = htole32(events);
	g->scanout_rect = scanout ? rc : (struct vgpu_rect){0};
	/* The cursor image comes back with the guest's next cursor update. */
	g->cursor = c;
	if (r && (!g->presenter || resource_share(g, r))) {
		g->scanout = r;
		/* On screen at once, before the guest runs again. */
		if (g->presenter && g->presenter->scanout)
			g->presenter->scanout(g->presenter_opaque, r->img[r->newest], &rc);
	}
	return true;
err:
	resources_clear(g);
	return snap_fail(s);
}

static const struct virtio_dev_ops gpu_ops = {
    .name = "virtio-gpu",
    .device_id = VIRTIO_ID_GPU,
    .num_queues = 2,
    .queue_max_size = GPU_QUEUE_SIZE,
    .config_size = sizeof(struct virtio_gpu_config),
    .config_read = gpu_config_read,
    .config_write = gpu_config_write,
    .activate = virtio_dev_activate,
    .queue_notify = gpu_queue_notify,
    .reset = gpu_reset,
    .destroy = gpu_destroy,
    .save = gpu_save,
    .restore = gpu_restore,
};

struct virtio_dev *virtio_gpu_create(struct guest_mem *mem, struct evloop *loop, uint32_t width,
				     uint32_t height)
{
	struct vgpu *g = calloc(1, sizeof(*g));

	if (!g) {
		fprintf(stderr, "virtio-gpu: out of memory\n");
		return NULL;
	}
	virtio_dev_init(&g->dev, &gpu_ops, mem, loop);
	g->dev.host_features |= 1ULL << VIRTIO_GPU_F_EDID;
	g->width = clamp_dim(width);
	g->height = clamp_dim(height);
	g->cfg.num_scanouts = htole32(1);
	return &g->dev;
}

void vgpu_set_presenter(struct vgpu *g, const struct vgpu_presenter_ops *ops, void *opaque)
{
	pthread_mutex_lock(&g->dev.lock);
	g->presenter = ops;
	g->presenter_opaque = opaque;
	if (ops && g->scanout && resource_share(g, g->scanout) && ops->scanout)
		ops->scanout(opaque, g->scanout->img[g->scanout->newest], &g->scanout_rect);
	pthread_mutex_unlock(&g->dev.lock);
}

void vgpu_set_display_size(struct vgpu *g, uint32_t width, uint32_t height)
{
	width = clamp_dim(width);
	height = clamp_dim(height);
	pthread_mutex_lock(&g->dev.lock);
	if (width != g->width || height != g->height) {
		g->width = width;
		g->height = height;
		g->cfg.events_read |= htole32(VIRTIO_GPU_EVENT_DISPLAY);
		g->dev.config_generation++;
		if ((g->dev.status & VIRTIO_CONFIG_S_DRIVER_OK) && g->dev.transport_ops &&
		    g->dev.transport_ops->signal_config)
			g->dev.transport_ops->signal_config(&g->dev);
	}
	pthread_mutex_unlock(&g->dev.lock);
}

void vgpu_display_size(struct vgpu *g, uint32_t *width, uint32_t *height)
{
	pthread_mutex_lock(&g->dev.lock);
	*width = g->width;
	*height = g->height;
	pthread_mutex_unlock(&g->dev.lock);
}

void vgpu_image_release(struct vgpu_image *img)
{
	img->busy = false;
}

void vgpu_get_stats(struct vgpu *g, struct vgpu_stats *s)
{
	pthread_mutex_lock(&g->dev.lock);
	*s = g->stats;
	pthread_mutex_unlock(&g->dev.lock);
}
