// SPDX-License-Identifier: MIT
/*
 * A VM's screen inside another client's window: inlay-vmm with the gpu test
 * guest (tests/guest/guest_gpu.c) accepts a screen grant on a headless
 * inlay-compositor. The guest's pattern pixel-exact in the granted rectangle
 * and clipped to it, a click reaching the guest in guest-local coordinates,
 * hide and show, the VMM's answers to the grant ending, a killed VMM, and the
 * tabbed demo (inlay-demo) switching tabs and restarting a killed VM. Needs
 * /dev/kvm: without it every case fails.
 */
#include "guest_screen.h"
#include "harness.h"

#include <errno.h>
#include <linux/input-event-codes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "virtual-keyboard-unstable-v1-client-protocol.h"

#define GRANTER	  0xff804020
#define WIN_W	  480
#define WIN_H	  360
#define RECT_X	  40
#define RECT_Y	  50
#define GUEST_W	  320
#define GUEST_H	  240
#define EXIT_STOP 6 /* inlay-vmm's status when its window or grant is closed */

/* inlay-demo's layout (apps/inlay-demo.c). */
#define DEMO_MARGIN	  8
#define DEMO_TAB_BAR	  32
#define DEMO_TAB_W	  120
#define DEMO_TAB_GAP	  4
#define DEMO_TAB_ACTIVE	  0xd8d8d8
#define DEMO_TAB_INACTIVE 0x506080
#define DEMO_TAB_ERROR	  0xc02020

/* A granter window with one grant, a VMM in it, and a client driving input. */
struct scene {
	struct harness *h;
	struct client *granter, *input;
	struct surface *win;
	struct grant *grant;
	int32_t wx, wy; /* the window on the output */
	pid_t vmm;
};

static void need_kvm(void)
{
	if (access("/dev/kvm", R_OK | W_OK))
		fail_msg("/dev/kvm is not usable (%s): these tests need KVM", strerror(errno));
}

/* The VMM takes the token from INLAY_GRANT_TOKEN, or from --grant when @on_cmdline. */
static void scene_init(struct scene *sc, struct harness *h, bool on_cmdline)
{
	const char *vmm = harness_program("INLAY_VMM"), *guest = harness_program("INLAY_GUEST_GPU");

	need_kvm();
	*sc = (struct scene){.h = h};
	sc->granter = client_create(h);
	sc->input = client_create(h);
	sc->win = toplevel_create(sc->granter, WIN_W, WIN_H, GRANTER);
	surface_locate(sc->input, sc->win, &sc->wx, &sc->wy);
	sc->grant = grant_create_wait(sc->win, RECT_X, RECT_Y, GUEST_W, GUEST_H);
	surface_commit_wait(sc->win);
	char *argv[] = {(char *)vmm,
			"boot",
			"--kernel",
			(char *)guest,
			"--gpu",
			"320x240",
			"--mem",
			"64",
			"--cmdline",
			"timeout=120000",
			on_cmdline ? "--grant" : NULL,
			sc->grant->token,
			NULL};
	guest_log_clear(h);
	sc->vmm = harness_spawn(h, argv, on_cmdline ? NULL : sc->grant->token);
	assert_true(wait_until(h, sc->grant->accepted == 1));
	guest_log_wait(h, "gpu: ready", 1, true);
}

static struct region at(struct scene *sc, int32_t x, int32_t y, int32_t w, int32_t hh,
			uint32_t color)
{
	return (struct region){sc->wx + x, sc->wy + y, w, hh, color};
}

/* Screenshots until the w x h pattern is at (x, y) pixel for pixel; fails after the timeout. */
static void expect_pattern(struct harness *h, struct client *input, int32_t x, int32_t y, int32_t w,
			   int32_t hh)
{
	int64_t end = harness_now_ms() + HARNESS_TIMEOUT_MS;

	input_move(input, h->output_width - 1, h->output_height - 1);
	for (;;) {
		struct image *img = screenshot(input);
		bool quiet = harness_now_ms() < end;
		unsigned bad = 0;

		for (int32_t row = 0; row < hh && (!bad || !quiet); row++)
			for (int32_t col = 0; col < w; col++)
				bad += image_pixel(img, x + col, y + row) !=
				       guest_tile_color(col, row);
		if (bad && !quiet)
			bad = guest_pattern_mismatches(img, x, y, w, hh);
		image_destroy(img);
		if (!bad)
			return;
		if (!quiet)
			fail_msg("the guest's %dx%d pattern is not at %d,%d", w, hh, x, y);
		harness_dispatch(h, 50);
	}
}

/* The pattern fills the rectangle exactly, the granter's window stays around it. */
static void test_pattern_in_grant(void **state)
{
	struct scene sc;

	scene_init(&sc, *state, false);
	expect_pattern(sc.h, sc.input, sc.wx + RECT_X, sc.wy + RECT_Y, GUEST_W, GUEST_H);
	const struct region around[] = {
	    at(&sc, 0, 0, WIN_W, RECT_Y, GRANTER),
	    at(&sc, 0, RECT_Y, RECT_X, GUEST_H, GRANTER),
	    at(&sc, RECT_X + GUEST_W, RECT_Y, WIN_W - RECT_X - GUEST_W, GUEST_H, GRANTER),
	    at(&sc, 0, RECT_Y + GUEST_H, WIN_W, WIN_H - RECT_Y - GUEST_H, GRANTER),
	};
	verify_screen(sc.input, "around", around, 4);
}

/* Pointer input in the rectangle arrives in guest pixels. */
static void test_click_reaches_guest(void **state)
{
	struct scene sc;

	scene_init(&sc, *state, false);
	expect_pattern(sc.h, sc.input, sc.wx + RECT_X, sc.wy + RECT_Y, GUEST_W, GUEST_H);
	input_click(sc.input, sc.wx + RECT_X + 100, sc.wy + RECT_Y + 50);
	guest_log_wait(sc.h, "abs 100 50", 1, true);
	guest_log_wait(sc.h, "btn 272 1", 1, true);
	guest_log_wait(sc.h, "btn 272 0", 1, true);
	input_key(sc.input, KEY_A); /* the click gave the grantee the keyboard */
	guest_log_wait(sc.h, "key 30 1", 1, true);
}

/*
 * A smaller rectangle: the guest hears of the new size (this guest does not
 * re-modeset) and its larger frame is cropped to the rectangle. The token
 * came on the command line this time.
 */
static void test_clipped(void **state)
{
	struct scene sc;

	scene_init(&sc, *state, true);
	expect_pattern(sc.h, sc.input, sc.wx + RECT_X, sc.wy + RECT_Y, GUEST_W, GUEST_H);
	screen_grant_v1_set_rectangle(sc.grant->proxy, RECT_X, RECT_Y, 200, 100);
	surface_commit_wait(sc.win);
	guest_log_wait(sc.h, "gpu: display-change 200x100", 1, true);
	expect_pattern(sc.h, sc.input, sc.wx + RECT_X, sc.wy + RECT_Y, 200, 100);
	const struct region cropped[] = {
	    at(&sc, RECT_X + 200, RECT_Y, GUEST_W - 200, GUEST_H, GRANTER),
	    at(&sc, RECT_X, RECT_Y + 100, 200, GUEST_H - 100, GRANTER),
	};
	verify_screen(sc.input, "cropped", cropped, 2);
}

/* Hidden: the window shows through and the VM runs on; shown: the pattern is back. */
static void test_hide_show(void **state)
{
	struct scene sc;

	scene_init(&sc, *state, false);
	expect_pattern(sc.h, sc.input, sc.wx + RECT_X, sc.wy + RECT_Y, GUEST_W, GUEST_H);
	screen_grant_v1_hide(sc.grant->proxy);
	surface_commit_wait(sc.win);
	const struct region hidden[] = {at(&sc, RECT_X, RECT_Y, GUEST_W, GUEST_H, GRANTER)};
	verify_screen(sc.input, "hidden", hidden, 1);
	assert_int_equal(waitpid(sc.vmm, NULL, WNOHANG), 0);
	screen_grant_v1_show(sc.grant->proxy);
	surface_commit_wait(sc.win);
	expect_pattern(sc.h, sc.input, sc.wx + RECT_X, sc.wy + RECT_Y, GUEST_W, GUEST_H);
}

/* kill -9 of the VMM: the granter hears gone(disconnected) and a fresh token; compositor alive. */
static void test_vmm_killed(void **state)
{
	struct scene sc;

	scene_init(&sc, *state, false);
	kill(sc.vmm, SIGKILL);
	assert_true(wait_until(sc.h, sc.grant->gone == 1));
	assert_int_equal(sc.grant->gone_reason, SCREEN_GRANT_V1_GONE_REASON_DISCONNECTED);
	assert_true(wait_until(sc.h, sc.grant->tokens == 2));
	assert_true(harness_compositor_alive(sc.h));
	const struct region empty[] = {at(&sc, RECT_X, RECT_Y, GUEST_W, GUEST_H, GRANTER)};
	verify_screen(sc.input, "vmm-killed", empty, 1);
}

/* The granter destroys the grant: the VMM stops with the window-closed status. */
static void test_grant_destroyed(void **state)
{
	struct scene sc;

	scene_init(&sc, *state, false);
	grant_destroy(sc.grant);
	wl_display_flush(sc.granter->display);
	int status = harness_wait_child(sc.h, sc.vmm, HARNESS_TIMEOUT_MS);
	assert_true(status != -1 && WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), EXIT_STOP);
	assert_non_null(strstr(guest_log_read(sc.h), "ended by its owner"));
}

/* The granter goes away: the VMM says so once and runs on headless. */
static void test_granter_gone(void **state)
{
	struct scene sc;

	scene_init(&sc, *state, false);
	client_destroy(sc.granter);
	guest_log_wait(sc.h, "display lost (the granter went away)", 1, true);
	harness_dispatch(sc.h, 500);
	assert_int_equal(waitpid(sc.vmm, NULL, WNOHANG), 0);
	assert_int_equal(guest_log_count(sc.h, "display lost"), 1);
}

/* A token nobody granted: the VMM says so once and runs on headless. */
static void test_stale_token(void **state)
{
	struct harness *h = *state;
	char *argv[] = {(char *)harness_program("INLAY_VMM"),
			"boot",
			"--kernel",
			(char *)harness_program("INLAY_GUEST_GPU"),
			"--gpu",
			"320x240",
			"--mem",
			"64",
			"--grant",
			"00000000000000000000000000000000",
			NULL};

	need_kvm();
	guest_log_clear(h);
	pid_t vmm = harness_spawn(h, argv, NULL);
	guest_log_wait(h, "display lost (screen-grant token refused)", 1, true);
	guest_log_wait(h, "gpu: ready", 1, true);
	harness_dispatch(h, 300);
	assert_int_equal(waitpid(vmm, NULL, WNOHANG), 0);
	assert_int_equal(guest_log_count(h, "display lost"), 1);
	assert_true(harness_compositor_alive(h));
}

/* ---- the demo ---- */

struct demo {
	struct harness *h;
	struct client *input;
	pid_t pid;
	int32_t cx, cy; /* the content rectangle on the output */
};

/* Where tab @tab's header is on the output, @dx, @dy inside it. */
static void demo_header_at(struct demo *d, int tab, int32_t dx, int32_t dy, int32_t *x, int32_t *y)
{
	/* The content starts at (MARGIN, TAB_BAR + MARGIN) in the window, a header at x MARGIN. */
	*x = d->cx + tab * (DEMO_TAB_W + DEMO_TAB_GAP) + dx;
	*y = d->cy - DEMO_MARGIN - DEMO_TAB_BAR + DEMO_TAB_GAP + dy;
}

static uint32_t demo_header(struct demo *d, struct image *img, int tab)
{
	int32_t x, y;

	demo_header_at(d, tab, 1, 1, &x, &y);
	return image_pixel(img, x, y);
}

/* Wait until tab @tab's header has @color. */
static void demo_expect_header(struct demo *d, int tab, uint32_t color)
{
	int64_t end = harness_now_ms() + HARNESS_TIMEOUT_MS;
	uint32_t got;

	input_move(d->input, d->h->output_width - 1, d->h->output_height - 1);
	for (;;) {
		struct image *img = screenshot(d->input);

		got = demo_header(d, img, tab);
		image_destroy(img);
		if (got == color)
			return;
		if (harness_now_ms() > end)
			fail_msg("tab %d's header is %06x, want %06x", tab + 1, got, color);
		harness_dispatch(d->h, 20);
	}
}

/* The lowest-numbered child of @parent, the first VM it started; 0 if none. */
static pid_t first_child(pid_t parent)
{
	char path[64];
	long pid, min = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", parent, parent);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	while (fscanf(f, "%ld", &pid) == 1)
		if (!min || pid < min)
			min = pid;
	fclose(f);
	return (pid_t)min;
}

static void demo_ctrl_key(struct client *c, uint32_t key)
{
	zwp_virtual_keyboard_v1_key(c->vkeyboard, 0, KEY_LEFTCTRL, WL_KEYBOARD_KEY_STATE_PRESSED);
	zwp_virtual_keyboard_v1_key(c->vkeyboard, 0, key, WL_KEYBOARD_KEY_STATE_PRESSED);
	zwp_virtual_keyboard_v1_key(c->vkeyboard, 0, key, WL_KEYBOARD_KEY_STATE_RELEASED);
	zwp_virtual_keyboard_v1_key(c->vkeyboard, 0, KEY_LEFTCTRL, WL_KEYBOARD_KEY_STATE_RELEASED);
	wl_display_flush(c->display);
}

/*
 * inlay-demo with two tabs: the first tab's VM in the content, a click on the
 * second header starts the second VM and makes it the shown one, Ctrl+1 goes
 * back; a VM killed with -9 turns its tab red and is started again.
 */
static void test_demo_tabs(void **state)
{
	struct harness *h = *state;
	char *argv[] = {(char *)harness_program("INLAY_DEMO"),
			"--vmm",
			(char *)harness_program("INLAY_VMM"),
			"--guest",
			(char *)harness_program("INLAY_GUEST_GPU"),
			"--cmdline",
			"timeout=120000",
			"--tabs",
			"2",
			NULL};
	struct demo d = {.h = h};
	int64_t end = harness_now_ms() + HARNESS_TIMEOUT_MS;
	struct image *img;

	need_kvm();
	guest_log_clear(h);
	d.input = client_create(h);
	d.pid = harness_spawn(h, argv, NULL);
	guest_log_wait(h, "gpu: ready", 1, true);
	input_move(d.input, h->output_width - 1, h->output_height - 1);
	for (;;) {
		img = screenshot(d.input);
		bool found = guest_find_pattern(img, &d.cx, &d.cy);
		image_destroy(img);
		if (found)
			break;
		if (harness_now_ms() > end)
			fail_msg("the first tab's pattern never appeared");
		harness_dispatch(h, 50);
	}
	demo_expect_header(&d, 0, DEMO_TAB_ACTIVE);
	demo_expect_header(&d, 1, DEMO_TAB_INACTIVE);
	assert_int_equal(guest_log_count(h, "gpu: ready"), 1); /* tab 2 starts when shown */

	int32_t x, y;
	demo_header_at(&d, 1, 10, 10, &x, &y);
	input_click(d.input, x, y);
	guest_log_wait(h, "gpu: ready", 2, true);
	demo_expect_header(&d, 1, DEMO_TAB_ACTIVE);
	demo_expect_header(&d, 0, DEMO_TAB_INACTIVE);
	/* The second VM's frame is shown now (its top-left part checked). */
	expect_pattern(h, d.input, d.cx, d.cy, 200, 150);

	input_key(d.input, KEY_LEFTSHIFT); /* sets up the virtual keyboard's keymap */
	demo_ctrl_key(d.input, KEY_1);
	demo_expect_header(&d, 0, DEMO_TAB_ACTIVE);

	pid_t first = first_child(d.pid);
	assert_true(first > 0);
	kill(first, SIGKILL);
	demo_expect_header(&d, 0, DEMO_TAB_ERROR);
	guest_log_wait(h, "gpu: ready", 3, true);
	demo_expect_header(&d, 0, DEMO_TAB_ACTIVE);
	expect_pattern(h, d.input, d.cx, d.cy, 200, 150);
	assert_true(harness_compositor_alive(h));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    HARNESS_TEST(test_pattern_in_grant), HARNESS_TEST(test_click_reaches_guest),
	    HARNESS_TEST(test_clipped),		 HARNESS_TEST(test_hide_show),
	    HARNESS_TEST(test_vmm_killed),	 HARNESS_TEST(test_grant_destroyed),
	    HARNESS_TEST(test_granter_gone),	 HARNESS_TEST(test_stale_token),
	    HARNESS_TEST(test_demo_tabs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
