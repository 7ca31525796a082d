// SPDX-License-Identifier: MIT
/*
 * Restored screens on a headless inlay-compositor, pixel for pixel:
 *   - the snapshot test guest (tests/guest/guest_snap.c, "gpu") baked without
 *     a window and restored into one: the frame it drew for the baked count
 *     is on screen before the guest draws anything again;
 *   - the gpu test guest (tests/guest/guest_gpu.c) snapshotted with SIGUSR2
 *     while shown and restored into a new window; input still reaches it.
 * Needs /dev/kvm.
 */
#include "guest_screen.h"
#include "harness.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define GUEST_W 320
#define GUEST_H 240

static char snap_dir[600];

static pid_t spawn_vmm(struct harness *h, char **args)
{
	char *argv[16] = {(char *)harness_program("INLAY_VMM")};
	unsigned n = 1;
	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	return harness_spawn(h, argv, NULL);
}

/* Wait for the pattern on the output, require it pixel-exact, return where it is. */
static void locate(struct harness *h, struct client *c, int32_t *x, int32_t *y)
{
	int64_t end = harness_now_ms() + HARNESS_TIMEOUT_MS;
	struct image *img;

	input_move(c, h->output_width - 1, h->output_height - 1);
	for (;;) {
		img = screenshot(c);
		if (guest_find_pattern(img, x, y))
			break;
		image_destroy(img);
		if (harness_now_ms() > end)
			fail_msg("the guest's pattern never appeared on the output");
		harness_dispatch(h, 20);
	}
	unsigned bad = guest_pattern_mismatches(img, *x, *y, GUEST_W, GUEST_H);
	image_destroy(img);
	assert_int_equal(bad, 0);
}

static void remove_snapshot(void)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/state", snap_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/memory", snap_dir);
	unlink(path);
	rmdir(snap_dir);
}

/* What guest_snap draws with "gpu" (keep in step with it). */
#define SNAP_W	  320
#define SNAP_H	  240
#define SNAP_BITS 16
#define SNAP_CELL 8
#define READY	  7

static uint32_t snap_pixel(int32_t x, int32_t y, uint32_t count)
{
	if (y < SNAP_CELL && x < SNAP_BITS * SNAP_CELL)
		return count >> (SNAP_BITS - 1 - x / SNAP_CELL) & 1 ? 0xffffff : 0;
	return (uint32_t)(x & 0xff) << 16 | (uint32_t)(y & 0xff) << 8 | 0x80;
}

/* The screen's top-left corner: the first pixel where the gradient starts below the cells. */
static bool find_snap_screen(const struct image *img, int32_t *x0, int32_t *y0)
{
	for (int32_t y = SNAP_CELL; y + 1 < img->height; y++)
		for (int32_t x = 0; x + 1 < img->width; x++)
			if (image_pixel(img, x, y) == snap_pixel(0, SNAP_CELL, 0) &&
			    image_pixel(img, x + 1, y) == snap_pixel(1, SNAP_CELL, 0) &&
			    image_pixel(img, x, y + 1) == snap_pixel(0, SNAP_CELL + 1, 0)) {
				*x0 = x;
				*y0 = y - SNAP_CELL;
				return true;
			}
	return false;
}

static void test_baked_frame(void **state)
{
	struct harness *h = *state;
	char ready_arg[64];

	if (access("/dev/kvm", R_OK | W_OK))
		fail_msg("/dev/kvm is not usable (%s): this test needs KVM", strerror(errno));
	snprintf(snap_dir, sizeof(snap_dir), "%s/snap", h->log_dir);
	remove_snapshot();
	snprintf(ready_arg, sizeof(ready_arg), "gpu ready=%d step=10 hold=5000 end=20", READY);
	char *guest = (char *)harness_program("INLAY_GUEST_SNAP");
	char *bake[] = {
	    "bake", "--kernel",	 guest,	    "--gpu", "320x240", "--display",
	    "none", "--cmdline", ready_arg, "--out", snap_dir,	NULL,
	};
	guest_log_clear(h);
	pid_t pid = spawn_vmm(h, bake);
	assert_true(WIFEXITED(harness_wait_child(h, pid, HARNESS_TIMEOUT_MS)));
	assert_int_equal(guest_log_count(h, "snapshot saved"), 1);

	struct client *c = client_create(h);
	char *restore[] = {"restore", snap_dir, "--display", "wayland", NULL};
	guest_log_clear(h);
	spawn_vmm(h, restore);
	int64_t end = harness_now_ms() + HARNESS_TIMEOUT_MS;
	struct image *img;
	int32_t x0, y0;
	input_move(c, h->output_width - 1, h->output_height - 1);
	for (;;) {
		img = screenshot(c);
		if (find_snap_screen(img, &x0, &y0))
			break;
		image_destroy(img);
		if (harness_now_ms() > end)
			fail_msg("the restored screen never appeared");
		harness_dispatch(h, 10);
	}
	unsigned bad = 0;
	for (int32_t y = 0; y < SNAP_H; y++)
		for (int32_t x = 0; x < SNAP_W; x++)
			if (image_pixel(img, x0 + x, y0 + y) != snap_pixel(x, y, READY) &&
			    bad++ < 5)
				print_message("pixel %d,%d: %06x, expected %06x\n", x, y,
					      image_pixel(img, x0 + x, y0 + y),
					      snap_pixel(x, y, READY));
	image_destroy(img);
	/* Taken while the restored guest holds its screen: the baked frame, exactly. */
	assert_int_equal(guest_log_count(h, "snap: count"), 0);
	assert_int_equal(bad, 0);
	guest_log_wait(h, "snap: done", 1, true);
	remove_snapshot();
}

static void test_restored_screen(void **state)
{
	struct harness *h = *state;
	int32_t x, y;

	if (access("/dev/kvm", R_OK | W_OK))
		fail_msg("/dev/kvm is not usable (%s): this test needs KVM", strerror(errno));
	snprintf(snap_dir, sizeof(snap_dir), "%s/snap", h->log_dir);
	remove_snapshot();
	char *guest = (char *)harness_program("INLAY_GUEST_GPU");
	char *boot[] = {
	    "boot",	      "--kernel",	guest,	   "--gpu",
	    "320x240",	      "--display",	"wayland", "--cmdline",
	    "timeout=120000", "--snapshot-dir", snap_dir,  NULL,
	};
	guest_log_clear(h);
	pid_t pid = spawn_vmm(h, boot);
	guest_log_wait(h, "gpu: ready", 1, true);
	struct client *c = client_create(h);
	locate(h, c, &x, &y);

	kill(pid, SIGUSR2);
	guest_log_wait(h, "snapshot saved to", 1, true);
	kill(pid, SIGTERM);
	harness_wait_child(h, pid, HARNESS_TIMEOUT_MS);
	/* The original window is gone: only the restored one can show the pattern. */
	harness_dispatch(h, 100);

	char *restore[] = {"restore", snap_dir, "--display", "wayland", NULL};
	guest_log_clear(h);
	spawn_vmm(h, restore);
	guest_log_wait(h, "restored (clone generation 1)", 1, true);
	locate(h, c, &x, &y);

	/* The restored guest still takes input. */
	input_move(c, x + 100, y + 50);
	guest_log_wait(h, "abs 100 50", 1, true);
	input_key(c, 30);
	guest_log_wait(h, "key 30 1", 1, true);
	guest_log_wait(h, "key 30 0", 1, true);
	remove_snapshot();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    HARNESS_TEST(test_baked_frame),
	    HARNESS_TEST(test_restored_screen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
