/* SPDX-License-Identifier: MIT */
/*
 * What the lean guest's display and snapshot tests share: the pattern the
 * guest copies from a disk into /dev/fb0, finding it on a headless
 * inlay-compositor's output, and the VMM command line for such a guest.
 */
#ifndef INLAY_TESTS_LINUX_LEAN_SCREEN_H
#define INLAY_TESTS_LINUX_LEAN_SCREEN_H

#include <stdbool.h>
#include <stdint.h>

#include "../compositor/harness.h"

#define LEAN_SCREEN_W	 640
#define LEAN_SCREEN_H	 480
#define LEAN_SCREEN_SIZE "640x480"
/* Boot to the shell takes ~15-25 s here; a slower machine gets ample room. */
#define LEAN_BOOT_TIMEOUT 600
#define LEAN_CMD_TIMEOUT  120
/* From the guest's write to /dev/fb0 until the frame is on the output. */
#define LEAN_SCREEN_TIMEOUT_MS 60000
/* The shell command that copies the pattern disk onto the screen. */
#define LEAN_DRAW_CMD                                                                              \
	"echo 0 >/sys/class/graphics/fb0/blank && dd if=/dev/vda of=/dev/fb0 bs=64k 2>/dev/null "  \
	"&& echo FB-$((40+2))"
#define LEAN_DRAW_DONE "FB-42"

/** Paths the tests take from their arguments and the cached build scripts. */
struct lean_guest {
	char kernel[512], initrd[512];
	char dir[64];  /* private temporary directory */
	char disk[96]; /* the pattern, as a raw read-only disk */
	char disk_arg[112];
};

/**
 * lean_guest_prepare() - bail out without /dev/kvm, build or find the lean
 * kernel and the base image (@kernel_sh, @mkimage_sh, @init), and write the
 * pattern disk into a new temporary directory
 */
void lean_guest_prepare(struct lean_guest *g, char *kernel_sh, char *mkimage_sh, char *init);
/** lean_guest_cleanup() - remove the disk, @extra_dir's files (if set) and the directory. */
void lean_guest_cleanup(struct lean_guest *g, const char *extra_dir);

/** lean_pattern_color() - the pattern's colour (0xRRGGBB) at pixel (@x, @y). */
uint32_t lean_pattern_color(int32_t x, int32_t y);

/**
 * lean_screen_find() - take screenshots until the whole pattern is on the
 * output pixel for pixel or @timeout_ms passes; the pointer is parked in the
 * output's far corner first
 * Return: whether it was; its top-left corner in @x, @y. On failure the last
 * screenshot is written to the test's log directory as @name.ppm.
 */
bool lean_screen_find(struct client *c, const char *name, int timeout_ms, int32_t *x, int32_t *y);

#endif
