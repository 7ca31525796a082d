/* SPDX-License-Identifier: MIT */
#ifndef INLAY_VIRTIO_GPU_H
#define INLAY_VIRTIO_GPU_H

#include "virtio.h"

#include <stdbool.h>
#include <stdint.h>

/* Sizes of the one scanout; an EDID detailed timing holds at most 4095. */
#define VGPU_MIN_DIM 16
#define VGPU_MAX_DIM 4095

struct vgpu;

/** A rectangle in resource pixels. */
struct vgpu_rect {
	uint32_t x, y, width, height;
};

/** Grow @a to also cover @b; an empty rectangle adds nothing. */
void vgpu_rect_union(struct vgpu_rect *a, const struct vgpu_rect *b);

/**
 * One host image of a resource, in its own memfd so that the presenter can
 * share it with the compositor (a wl_shm pool) without copying. A resource
 * on the scanout may own up to VGPU_MAX_SLOTS of them: a new one is used
 * only while the compositor still holds the others.
 */
struct vgpu_image {
	int fd;
	uint8_t *data;
	uint64_t size; /* bytes of the mapping: stride * height */
	uint32_t width, height, stride;
	uint32_t format; /* VIRTIO_GPU_FORMAT_* */
	/* Set by the presenter from its commit until the compositor releases it. */
	bool busy;
	/* The presenter's own state for this image (its wl_buffer). */
	void *presenter_data;
	/* Device-private: damage written to the newest image but not to this one. */
	struct vgpu_rect missing;
};

/**
 * Where the device shows its scanout. Every call comes from the event-loop
 * thread with the device lock held, so the presenter must not call back into
 * the device except vgpu_image_release() from the same thread.
 */
struct vgpu_presenter_ops {
	/**
	 * The scanout now shows the part @rect of @img (NULL: scanout
	 * disabled). Later flushes may name another image of the same resource.
	 */
	void (*scanout)(void *opaque, struct vgpu_image *img, const struct vgpu_rect *rect);
	/**
	 * @damage (image pixels, inside the scanout rectangle) of @img changed:
	 * present @img when the compositor is ready.
	 */
	void (*flush)(void *opaque, struct vgpu_image *img, const struct vgpu_rect *damage);
	/** @img is about to be freed: drop anything that refers to it. */
	void (*image_gone)(void *opaque, struct vgpu_image *img);
	/**
	 * The guest's cursor: @img (64x64 or smaller, read it now) with its
	 * hot spot, or NULL to hide the cursor.
	 */
	void (*cursor)(void *opaque, const struct vgpu_image *img, uint32_t hot_x, uint32_t hot_y);
};

/** Counters for tests and benchmarks. */
struct vgpu_stats {
	uint64_t transfers;
	uint64_t bytes_transferred; /* guest pages -> host image, damaged rectangles only */
	uint64_t bytes_caught_up;   /* host image -> a newer image the compositor did not hold */
	uint64_t flushes;
	uint64_t host_bytes; /* host image memory now allocated */
};

/**
 * A virtio-gpu 2D device with one scanout of @width x @height. NULL on
 * failure, with a message.
 */
struct virtio_dev *virtio_gpu_create(struct guest_mem *mem, struct evloop *loop, uint32_t width,
				     uint32_t height);

/** The vgpu behind a device made by virtio_gpu_create(). */
struct vgpu *vgpu_from_dev(struct virtio_dev *d);

/** Attach (or with NULL ops detach) the presenter. Any thread. */
void vgpu_set_presenter(struct vgpu *g, const struct vgpu_presenter_ops *ops, void *opaque);

/**
 * The host display changed size: update the display info and raise the
 * display-change event. Sizes outside VGPU_MIN_DIM..VGPU_MAX_DIM are clamped.
 * Any thread.
 */
void vgpu_set_display_size(struct vgpu *g, uint32_t width, uint32_t height);

/** The size the display info reports now. */
void vgpu_display_size(struct vgpu *g, uint32_t *width, uint32_t *height);

/** The compositor let go of @img (wl_buffer.release). Event-loop thread. */
void vgpu_image_release(struct vgpu_image *img);

void vgpu_get_stats(struct vgpu *g, struct vgpu_stats *s);

/** Fill @edid with an EDID 1.4 block whose preferred mode is @width x @height at 60 Hz. */
void vgpu_edid_build(uint8_t edid[128], uint32_t width, uint32_t height);

/**
 * Caps on host memory: per resource, and for all resources of one device
 * together (images the presenter asks for included).
 */
#define VGPU_MAX_RESOURCE_BYTES (64ULL << 20)
#define VGPU_MAX_TOTAL_BYTES	(256ULL << 20)
#define VGPU_MAX_RESOURCES	512
/* Backing entries per resource: enough for the largest resource in 4 KiB pages. */
#define VGPU_MAX_BACKING_ENTRIES (VGPU_MAX_RESOURCE_BYTES / 4096)
#define VGPU_MAX_SLOTS		 3

#endif
