// SPDX-License-Identifier: MIT
#include "lean_screen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

uint32_t lean_pattern_color(int32_t x, int32_t y)
{
	/* A hash, so that no shifted or mirrored copy of the screen matches. */
	uint32_t v = (uint32_t)x * 0x9e3779b1u ^ (uint32_t)y * 0x85ebca77u;

	v ^= v >> 15;
	v *= 0x2c1b3c6du;
	v ^= v >> 12;
	return v & 0xffffff;
}

/* XRGB8888 rows as the fbdev emulation lays them out: 4 bytes a pixel, no padding. */
static void write_pattern(const char *path)
{
	static uint8_t row[LEAN_SCREEN_W * 4];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		tap_bail("creating %s: %s", path, strerror(errno));
	for (int32_t y = 0; y < LEAN_SCREEN_H; y++) {
		for (int32_t x = 0; x < LEAN_SCREEN_W; x++) {
			uint32_t c = lean_pattern_color(x, y);

			row[x * 4] = (uint8_t)c;
			row[x * 4 + 1] = (uint8_t)(c >> 8);
			row[x * 4 + 2] = (uint8_t)(c >> 16);
			row[x * 4 + 3] = 0;
		}
		if (write(fd, row, sizeof(row)) != (ssize_t)sizeof(row))
			tap_bail("writing %s", path);
	}
	close(fd);
}

void lean_guest_prepare(struct lean_guest *g, char *kernel_sh, char *mkimage_sh, char *init)
{
	char *kargv[] = {kernel_sh, NULL};
	char *iargv[] = {mkimage_sh, "--init", init, "base", NULL};
	char *kdir, *idir;

	memset(g, 0, sizeof(*g));
	harness_require_kvm();
	kdir = harness_script_path(kargv);
	idir = harness_script_path(iargv);
	snprintf(g->kernel, sizeof(g->kernel), "%s/vmlinux", kdir);
	snprintf(g->initrd, sizeof(g->initrd), "%s/initramfs.cpio", idir);
	free(kdir);
	free(idir);
	snprintf(g->dir, sizeof(g->dir), "/tmp/inlay-lean-XXXXXX");
	if (!mkdtemp(g->dir))
		tap_bail("mkdtemp: %s", strerror(errno));
	snprintf(g->disk, sizeof(g->disk), "%s/pattern.raw", g->dir);
	snprintf(g->disk_arg, sizeof(g->disk_arg), "%s,ro", g->disk);
	write_pattern(g->disk);
}

void lean_guest_cleanup(struct lean_guest *g, const char *extra_dir)
{
	static const char *const files[] = {"state", "memory"};
	char path[160];

	if (extra_dir) {
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", extra_dir, files[i]);
			unlink(path);
		}
		rmdir(extra_dir);
	}
	unlink(g->disk);
	rmdir(g->dir);
}

static unsigned mismatches(const struct image *img, int32_t x0, int32_t y0)
{
	unsigned bad = 0;

	for (int32_t y = 0; y < LEAN_SCREEN_H; y++)
		for (int32_t x = 0; x < LEAN_SCREEN_W; x++)
			bad += image_pixel(img, x0 + x, y0 + y) != lean_pattern_color(x, y);
	return bad;
}

/* The first place whose top-left 2x2 pixels are the pattern's. */
static bool locate(const struct image *img, int32_t *x0, int32_t *y0)
{
	for (int32_t y = 0; y + LEAN_SCREEN_H <= img->height; y++)
		for (int32_t x = 0; x + LEAN_SCREEN_W <= img->width; x++)
			if (image_pixel(img, x, y) == lean_pattern_color(0, 0) &&
			    image_pixel(img, x + 1, y) == lean_pattern_color(1, 0) &&
			    image_pixel(img, x, y + 1) == lean_pattern_color(0, 1) &&
			    image_pixel(img, x + 1, y + 1) == lean_pattern_color(1, 1)) {
				*x0 = x;
				*y0 = y;
				return true;
			}
	return false;
}

static void save_ppm(struct client *c, const char *name, const struct image *img)
{
	char path[700];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.ppm", c->harness->log_dir, name);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "P6\n%d %d\n255\n", img->width, img->height);
	for (int32_t i = 0; i < img->width * img->height; i++) {
		uint32_t p = img->pixels[i];

		fputc((int)(p >> 16 & 0xff), f);
		fputc((int)(p >> 8 & 0xff), f);
		fputc((int)(p & 0xff), f);
	}
	fclose(f);
	fprintf(stderr, "# last screenshot: %s\n", path);
}

bool lean_screen_find(struct client *c, const char *name, int timeout_ms, int32_t *x, int32_t *y)
{
	int64_t end = harness_now_ms() + timeout_ms;
	unsigned bad = 0;
	struct image *img;

	input_move(c, c->harness->output_width - 1, c->harness->output_height - 1);
	for (;;) {
		img = screenshot(c);
		if (locate(img, x, y) && !(bad = mismatches(img, *x, *y)))
			break;
		if (harness_now_ms() > end) {
			fprintf(stderr, "# pattern %s (%u pixels differ)\n",
				bad ? "misdrawn" : "not found", bad);
			save_ppm(c, name, img);
			image_destroy(img);
			return false;
		}
		image_destroy(img);
		harness_dispatch(c->harness, 200);
	}
	image_destroy(img);
	return true;
}
