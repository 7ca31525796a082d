// SPDX-License-Identifier: MIT
/*
 * inlay-vmm's window on a headless inlay-compositor, with the gpu test guest
 * (tests/guest/guest_gpu.c) under KVM: the guest's pattern on screen pixel
 * for pixel, virtual pointer and keyboard input arriving in the guest, a
 * resize reaching the guest as a display-change event, and the VMM living
 * on when the compositor dies. Needs /dev/kvm: without it every case fails.
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

#define GUEST_W 320
#define GUEST_H 240
#define MOD_ALT 0x8 /* Mod1 in the default XKB keymap */

/* Set once a test stopped the compositor: its clients can no longer be dispatched. */
static bool compositor_gone;

struct vmm {
	struct harness *h;
	pid_t pid;
	struct client *input;
	int32_t x, y; /* where the window's content is on the output */
};

static const char *read_log(struct harness *h)
{
	return guest_log_read(h);
}

static void wait_log(struct harness *h, const char *needle)
{
	guest_log_wait(h, needle, 1, !compositor_gone);
}

static void vmm_start(struct vmm *v, struct harness *h, const char *cmdline)
{
	const char *vmm = harness_program("INLAY_VMM"), *guest = harness_program("INLAY_GUEST_GPU");
	char *argv[] = {(char *)vmm, "boot",	"--kernel",  (char *)guest,   "--gpu", "320x240",
			"--display", "wayland", "--cmdline", (char *)cmdline, NULL};

	if (access("/dev/kvm", R_OK | W_OK))
		fail_msg("/dev/kvm is not usable (%s): the display tests need KVM",
			 strerror(errno));
	*v = (struct vmm){.h = h};
	guest_log_clear(h);
	v->pid = harness_spawn(h, argv, NULL);
	wait_log(h, "gpu: ready");
	v->input = client_create(h);
}

/* Wait for the guest's screen to show up, pixel-exact, and note where it is. */
static void locate(struct vmm *v)
{
	int64_t end = harness_now_ms() + HARNESS_TIMEOUT_MS;
	struct image *img = NULL;

	/* Keep the cursor off the window. */
	input_move(v->input, v->h->output_width - 1, v->h->output_height - 1);
	for (;;) {
		img = screenshot(v->input);
		if (guest_find_pattern(img, &v->x, &v->y))
			break;
		image_destroy(img);
		if (harness_now_ms() > end)
			fail_msg("the guest's pattern never appeared on the output");
		harness_dispatch(v->h, 50);
	}
	unsigned bad = guest_pattern_mismatches(img, v->x, v->y, GUEST_W, GUEST_H);
	image_destroy(img);
	assert_int_equal(bad, 0);
}

static void test_pattern_on_screen(void **state)
{
	struct vmm v;

	vmm_start(&v, *state, "timeout=120000");
	locate(&v);
}

/* The pointer's position in guest pixels, the button and keys as evdev codes. */
static void test_input_reaches_guest(void **state)
{
	struct vmm v;

	vmm_start(&v, *state, "timeout=120000");
	locate(&v);
	input_move(v.input, v.x + 100, v.y + 50);
	wait_log(v.h, "abs 100 50");
	input_click(v.input, v.x + 200, v.y + 150);
	wait_log(v.h, "abs 200 150");
	wait_log(v.h, "btn 272 1");
	wait_log(v.h, "btn 272 0");
	input_key(v.input, KEY_A);
	wait_log(v.h, "key 30 1");
	wait_log(v.h, "key 30 0");
	input_key(v.input, KEY_ENTER);
	wait_log(v.h, "key 28 0");
	/* Off the window before counting frames: verify_screen() moves the cursor there too. */
	input_move(v.input, v.h->output_width - 1, v.h->output_height - 1);
	harness_dispatch(v.h, 200);

	/* Each input frame recoloured the top-left tile: the last one must be on screen. */
	const char *last = NULL, *p = read_log(v.h);
	while ((p = strstr(p, "frame ")))
		last = p++;
	assert_non_null(last);
	unsigned frame = (unsigned)strtoul(last + 6, NULL, 10);
	const struct region tile = {v.x, v.y, GUEST_TILE, GUEST_TILE,
				    guest_tile_color(GUEST_TILE * (int32_t)(frame & 3), 0)};
	verify_screen(v.input, "input-tile", &tile, 1);
}

/* Alt + right drag resizes the window: the guest hears of the new size and re-modesets. */
static void test_resize(void **state)
{
	struct vmm v;

	vmm_start(&v, *state, "timeout=120000 remodeset");
	locate(&v);
	input_key(v.input, KEY_LEFTSHIFT); /* sets up the virtual keyboard */
	input_move(v.input, v.x + GUEST_W - 10, v.y + GUEST_H - 10);
	/* A virtual keyboard's keys do not change the modifiers: say so explicitly. */
	zwp_virtual_keyboard_v1_key(v.input->vkeyboard, 0, KEY_LEFTALT,
				    WL_KEYBOARD_KEY_STATE_PRESSED);
	zwp_virtual_keyboard_v1_modifiers(v.input->vkeyboard, MOD_ALT, 0, 0, 0);
	input_button(v.input, BTN_RIGHT, true);
	input_move(v.input, v.x + GUEST_W + 90, v.y + GUEST_H + 50);
	input_button(v.input, BTN_RIGHT, false);
	zwp_virtual_keyboard_v1_key(v.input->vkeyboard, 0, KEY_LEFTALT,
				    WL_KEYBOARD_KEY_STATE_RELEASED);
	zwp_virtual_keyboard_v1_modifiers(v.input->vkeyboard, 0, 0, 0, 0);
	wl_display_flush(v.input->display);
	wait_log(v.h, "gpu: display-change");
	const char *p = strstr(read_log(v.h), "gpu: display-change ");
	unsigned w = 0, h = 0;
	assert_int_equal(sscanf(p, "gpu: display-change %ux%u", &w, &h), 2);
	assert_true(w > GUEST_W && h > GUEST_H);
	char want[64];
	snprintf(want, sizeof(want), "gpu: modeset %ux%u", w, h);
	wait_log(v.h, want);
}

/* The compositor goes away: the VMM says so once and the guest runs on. */
static void test_compositor_dies(void **state)
{
	struct harness *h = *state;
	struct vmm v;
	int status;

	vmm_start(&v, h, "timeout=120000");
	locate(&v);
	/* SIGTERM, so the harness still finds a clean exit at teardown. */
	kill(h->compositor_pid, SIGTERM);
	compositor_gone = true;
	wait_log(h, "display lost");
	usleep(500 * 1000);
	assert_int_equal(waitpid(v.pid, &status, WNOHANG), 0);
	const char *log = read_log(h), *first = strstr(log, "display lost");
	assert_null(strstr(first + 1, "display lost"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    HARNESS_TEST(test_pattern_on_screen),
	    HARNESS_TEST(test_input_reaches_guest),
	    HARNESS_TEST(test_resize),
	    HARNESS_TEST(test_compositor_dies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
