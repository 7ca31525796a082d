// SPDX-License-Identifier: MIT
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include <wayland-client.h>

#include "shm-buffer.h"

#define SHM_BUFFER_SIZE_MAX 8192

static void handle_release(void *data, struct wl_buffer *wl_buffer)
{
	struct shm_buffer *buf = data;

	buf->busy = false;
}

static const struct wl_buffer_listener buffer_listener = {
    .release = handle_release,
};

struct shm_buffer *shm_buffer_create(struct wl_shm *shm, int32_t width, int32_t height)
{
	struct wl_shm_pool *pool;
	struct shm_buffer *buf;
	size_t size;
	int fd;

	if (width < 1 || height < 1 || width > SHM_BUFFER_SIZE_MAX || height > SHM_BUFFER_SIZE_MAX)
		return NULL;
	size = (size_t)width * height * 4;
	buf = calloc(1, sizeof(*buf));
	if (!buf)
		return NULL;
	fd = memfd_create("inlay-shm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		goto err_buf;
	if (ftruncate(fd, size) < 0)
		goto err_fd;
	buf->pixels = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (buf->pixels == MAP_FAILED)
		goto err_fd;
	pool = wl_shm_create_pool(shm, fd, size);
	buf->buffer =
	    wl_shm_pool_create_buffer(pool, 0, width, height, width * 4, WL_SHM_FORMAT_XRGB8888);
	wl_shm_pool_destroy(pool);
	close(fd);
	buf->width = width;
	buf->height = height;
	wl_buffer_add_listener(buf->buffer, &buffer_listener, buf);
	return buf;

err_fd:
	close(fd);
err_buf:
	free(buf);
	return NULL;
}

void shm_buffer_destroy(struct shm_buffer *buf)
{
	if (!buf)
		return;
	wl_buffer_destroy(buf->buffer);
	munmap(buf->pixels, (size_t)buf->width * buf->height * 4);
	free(buf);
}

struct shm_buffer *shm_buffer_next(struct wl_shm *shm, struct shm_buffer *pair[2], int32_t width,
				   int32_t height)
{
	for (size_t i = 0; i < 2; i++) {
		struct shm_buffer **buf = &pair[i];

		if (*buf && (*buf)->busy)
			continue;
		if (*buf && ((*buf)->width != width || (*buf)->height != height)) {
			shm_buffer_destroy(*buf);
			*buf = NULL;
		}
		if (!*buf)
			*buf = shm_buffer_create(shm, width, height);
		return *buf;
	}
	return NULL;
}

void shm_buffer_fill(struct shm_buffer *buf, int32_t x, int32_t y, int32_t width, int32_t height,
		     uint32_t color)
{
	int32_t x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
	int64_t x1 = (int64_t)x + width, y1 = (int64_t)y + height;

	if (x1 > buf->width)
		x1 = buf->width;
	if (y1 > buf->height)
		y1 = buf->height;
	for (int32_t row = y0; row < y1; row++) {
		for (int32_t col = x0; col < x1; col++)
			buf->pixels[(size_t)row * buf->width + col] = color;
	}
}
