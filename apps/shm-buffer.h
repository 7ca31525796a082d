/* SPDX-License-Identifier: MIT */
#ifndef INLAY_APP_SHM_BUFFER_H
#define INLAY_APP_SHM_BUFFER_H

#include <stdbool.h>
#include <stdint.h>

struct wl_shm;

/** A wl_shm XRGB8888 buffer in a memfd, with the compositor's release tracked. */
struct shm_buffer {
	struct wl_buffer *buffer;
	uint32_t *pixels;
	int32_t width, height; /* stride is width * 4 */
	bool busy;	       /* attached and not yet released */
};

/** Returns NULL on failure or for a size outside 1..8192. */
struct shm_buffer *shm_buffer_create(struct wl_shm *shm, int32_t width, int32_t height);
void shm_buffer_destroy(struct shm_buffer *buf);

/**
 * A buffer of @width x @height from a double-buffered pair: the first of @pair
 * not held by the compositor, (re)created at that size if needed. NULL when
 * both are busy or creation fails.
 */
struct shm_buffer *shm_buffer_next(struct wl_shm *shm, struct shm_buffer *pair[2], int32_t width,
				   int32_t height);

/** Fill the rectangle (clipped to the buffer) with one colour. */
void shm_buffer_fill(struct shm_buffer *buf, int32_t x, int32_t y, int32_t width, int32_t height,
		     uint32_t color);

#endif
