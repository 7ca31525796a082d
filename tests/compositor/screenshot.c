// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "wlr-screencopy-unstable-v1-client-protocol.h"

#define DRM_FORMAT_XRGB8888 0x34325258
#define DRM_FORMAT_ARGB8888 0x34325241
#define DRM_FORMAT_XBGR8888 0x34324258
#define DRM_FORMAT_ABGR8888 0x34324241

struct capture {
	struct client *client;
	uint32_t width, height, format, stride;
	uint32_t flags;
	bool have_buffer, done, failed;
};

static void frame_buffer(void *data, struct zwlr_screencopy_frame_v1 *frame, uint32_t format,
			 uint32_t width, uint32_t height, uint32_t stride)
{
	struct capture *cap = data;

	cap->format = format;
	cap->width = width;
	cap->height = height;
	cap->stride = stride;
	cap->have_buffer = true;
}

static void frame_flags(void *data, struct zwlr_screencopy_frame_v1 *frame, uint32_t flags)
{
	struct capture *cap = data;

	cap->flags = flags;
}

static void frame_ready(void *data, struct zwlr_screencopy_frame_v1 *frame, uint32_t sec_hi,
			uint32_t sec_lo, uint32_t nsec)
{
	struct capture *cap = data;

	cap->done = true;
}

static void frame_failed(void *data, struct zwlr_screencopy_frame_v1 *frame)
{
	struct capture *cap = data;

	cap->failed = true;
}

static const struct zwlr_screencopy_frame_v1_listener frame_listener = {
    .buffer = frame_buffer,
    .flags = frame_flags,
    .ready = frame_ready,
    .failed = frame_failed,
};

static bool is_bgr(uint32_t format)
{
	return format == DRM_FORMAT_XBGR8888 || format == DRM_FORMAT_ABGR8888;
}

static bool format_known(uint32_t format)
{
	return format == WL_SHM_FORMAT_XRGB8888 || format == WL_SHM_FORMAT_ARGB8888 ||
	       format == DRM_FORMAT_XRGB8888 || format == DRM_FORMAT_ARGB8888 || is_bgr(format);
}

struct image *screenshot(struct client *c)
{
	struct capture cap = {.client = c};
	struct zwlr_screencopy_frame_v1 *frame;
	struct wl_shm_pool *pool;
	struct wl_buffer *buffer;
	struct image *img;
	uint32_t *pixels;
	size_t size;
	int fd;

	if (!c->screencopy || !c->output)
		fail_msg("the compositor offers no zwlr_screencopy_manager_v1 or wl_output");
	frame = zwlr_screencopy_manager_v1_capture_output(c->screencopy, 0, c->output);
	zwlr_screencopy_frame_v1_add_listener(frame, &frame_listener, &cap);
	if (!wait_until(c->harness, cap.have_buffer || cap.failed) || cap.failed)
		fail_msg("screencopy offered no buffer");
	if (!format_known(cap.format) || cap.stride != cap.width * 4)
		fail_msg("screencopy format 0x%x stride %u not handled", cap.format, cap.stride);
	size = (size_t)cap.stride * cap.height;
	fd = memfd_create("screenshot", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, size), 0);
	pixels = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(pixels != MAP_FAILED);
	pool = wl_shm_create_pool(c->shm, fd, size);
	buffer = wl_shm_pool_create_buffer(pool, 0, cap.width, cap.height, cap.stride, cap.format);
	wl_shm_pool_destroy(pool);
	close(fd);
	zwlr_screencopy_frame_v1_copy(frame, buffer);
	if (!wait_until(c->harness, cap.done || cap.failed) || cap.failed)
		fail_msg("screencopy failed");
	zwlr_screencopy_frame_v1_destroy(frame);

	img = calloc(1, sizeof(*img));
	assert_non_null(img);
	img->width = cap.width;
	img->height = cap.height;
	img->pixels = calloc((size_t)cap.width * cap.height, 4);
	assert_non_null(img->pixels);
	for (uint32_t y = 0; y < cap.height; y++) {
		uint32_t src_y =
		    (cap.flags & ZWLR_SCREENCOPY_FRAME_V1_FLAGS_Y_INVERT) ? cap.height - 1 - y : y;

		for (uint32_t x = 0; x < cap.width; x++) {
			uint32_t p = pixels[(size_t)src_y * cap.width + x];

			if (is_bgr(cap.format))
				p = (p & 0xff00) | ((p >> 16) & 0xff) | ((p & 0xff) << 16);
			img->pixels[(size_t)y * cap.width + x] = p & 0xffffff;
		}
	}
	wl_buffer_destroy(buffer);
	munmap(pixels, size);
	return img;
}

void image_destroy(struct image *img)
{
	if (!img)
		return;
	free(img->pixels);
	free(img);
}

uint32_t image_pixel(const struct image *img, int32_t x, int32_t y)
{
	if (x < 0 || y < 0 || x >= img->width || y >= img->height)
		return 0;
	return img->pixels[(size_t)y * img->width + x];
}

static void write_ppm(const char *path, const struct image *img)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		return;
	fprintf(f, "P6\n%d %d\n255\n", img->width, img->height);
	for (size_t i = 0; i < (size_t)img->width * img->height; i++) {
		uint32_t p = img->pixels[i];
		unsigned char rgb[3] = {p >> 16, p >> 8, p};

		fwrite(rgb, 1, 3, f);
	}
	fclose(f);
}

/* Count mismatching pixels; if @diff, mark them red there and dim the rest. */
static size_t compare(const struct image *img, const struct region *regions, size_t n,
		      struct image *diff)
{
	size_t bad = 0;

	if (diff) {
		for (size_t i = 0; i < (size_t)img->width * img->height; i++)
			diff->pixels[i] = (img->pixels[i] >> 2) & 0x3f3f3f;
	}
	for (size_t r = 0; r < n; r++) {
		const struct region *reg = &regions[r];

		for (int32_t y = reg->y; y < reg->y + reg->height; y++) {
			for (int32_t x = reg->x; x < reg->x + reg->width; x++) {
				bool ok = x >= 0 && y >= 0 && x < img->width && y < img->height &&
					  image_pixel(img, x, y) == (reg->color & 0xffffff);

				if (ok)
					continue;
				bad++;
				if (diff && x >= 0 && y >= 0 && x < img->width && y < img->height)
					diff->pixels[(size_t)y * img->width + x] = 0xff0000;
			}
		}
	}
	return bad;
}

void verify_screen(struct client *c, const char *name, const struct region *regions, size_t n)
{
	int64_t end = harness_now_ms() + HARNESS_TIMEOUT_MS;
	char path[700];
	struct image *img, diff;
	size_t bad;

	/* The cursor is part of the picture: park it in the far corner. */
	if (c->vpointer)
		input_move(c, c->harness->output_width - 1, c->harness->output_height - 1);
	for (;;) {
		img = screenshot(c);
		bad = compare(img, regions, n, NULL);
		if (bad == 0) {
			image_destroy(img);
			return;
		}
		if (harness_now_ms() > end)
			break;
		image_destroy(img);
		harness_dispatch(c->harness, 20);
	}
	diff = (struct image){img->width, img->height, calloc((size_t)img->width * img->height, 4)};
	compare(img, regions, n, diff.pixels ? &diff : NULL);
	snprintf(path, sizeof(path), "%s/%s.ppm", c->harness->log_dir, name);
	write_ppm(path, img);
	if (diff.pixels) {
		snprintf(path, sizeof(path), "%s/%s-diff.ppm", c->harness->log_dir, name);
		write_ppm(path, &diff);
		free(diff.pixels);
	}
	image_destroy(img);
	fail_msg("%s: %zu pixels differ (see %s)", name, bad, path);
}
