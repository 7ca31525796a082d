// SPDX-License-Identifier: MIT
#include "guest_screen.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const uint32_t palette[4] = {0xff0000, 0x00ff00, 0x0000ff, 0xffffff};

uint32_t guest_tile_color(int32_t x, int32_t y)
{
	return palette[((x / GUEST_TILE) + (y / GUEST_TILE)) & 3];
}

static bool is_red(const struct image *img, int32_t x, int32_t y)
{
	return x >= 0 && y >= 0 && image_pixel(img, x, y) == palette[0];
}

bool guest_find_pattern(const struct image *img, int32_t *wx, int32_t *wy)
{
	for (int32_t y = 0; y + GUEST_TILE < img->height; y++)
		for (int32_t x = 0; x + GUEST_TILE < img->width; x++)
			if (is_red(img, x, y) && !is_red(img, x - 1, y) && !is_red(img, x, y - 1) &&
			    image_pixel(img, x + GUEST_TILE, y) == palette[1] &&
			    image_pixel(img, x, y + GUEST_TILE) == palette[1]) {
				*wx = x;
				*wy = y;
				return true;
			}
	return false;
}

unsigned guest_pattern_mismatches(const struct image *img, int32_t x0, int32_t y0, int32_t width,
				  int32_t height)
{
	unsigned bad = 0;

	for (int32_t y = 0; y < height; y++)
		for (int32_t x = 0; x < width; x++)
			if (image_pixel(img, x0 + x, y0 + y) != guest_tile_color(x, y) && bad++ < 5)
				fprintf(stderr, "# pixel %d,%d is %06x, want %06x\n", x, y,
					image_pixel(img, x0 + x, y0 + y), guest_tile_color(x, y));
	return bad;
}

static void log_path(struct harness *h, char *path, size_t len)
{
	snprintf(path, len, "%s/children.log", h->log_dir);
}

const char *guest_log_read(struct harness *h)
{
	static char buf[1 << 17];
	char path[600];

	log_path(h, path, sizeof(path));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

void guest_log_clear(struct harness *h)
{
	char path[600];

	log_path(h, path, sizeof(path));
	truncate(path, 0); /* fails only when there is no log yet */
}

unsigned guest_log_count(struct harness *h, const char *needle)
{
	const char *p = guest_log_read(h);
	unsigned n = 0;

	while ((p = strstr(p, needle))) {
		n++;
		p++;
	}
	return n;
}

void guest_log_wait(struct harness *h, const char *needle, unsigned times, bool dispatch)
{
	int64_t end = harness_now_ms() + GUEST_LOG_TIMEOUT_MS;

	while (guest_log_count(h, needle) < times) {
		if (harness_now_ms() > end)
			fail_msg("never saw \"%s\" %u times in the log:\n%s", needle, times,
				 guest_log_read(h));
		if (dispatch)
			harness_dispatch(h, 20);
		else
			usleep(20 * 1000);
	}
}
