// SPDX-License-Identifier: MIT
/*
 * The real-driver lane for the display: the lean guest kernel with
 * `--gpu 640x480 --display wayland` on a headless inlay-compositor. Linux's
 * virtio-gpu DRM driver with its fbdev emulation shows a pattern the guest
 * copies from a disk into /dev/fb0, pixel for pixel in inlay-vmm's window;
 * pointer and keyboard input from the compositor arrive on the guest's
 * evdev devices (virtio-input) with the right codes and coordinates.
 *
 *   test_lean_display VMM KERNEL_SH MKIMAGE_SH INIT   (env as compositor tests)
 */
#include <linux/input-event-codes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "lean_screen.h"

/*
 * One line per evdev event from the device named NAME on the console:
 * "TAG sec sec usec usec type code value" (struct input_event on x86-64).
 */
#define EVDEV_WATCH(tag, name)                                                                     \
	"for e in /sys/class/input/event*; do grep -q '" name "' $e/device/name && "               \
	"hexdump -v -e '\"" tag "\" 4/4 \" %x\" 2/2 \" %u\" 1/4 \" %d\" \"\\n\"' "                 \
	"/dev/input/${e##*/} & done; echo WATCH-$((1+1))"
/* An event line's regular expression, from type, code and value. */
#define EVDEV_LINE(tag, type, code, value) tag "( [0-9a-f]+){4} " type " " code " " value "\r?\n"
/* The pointer's move to (321, 123) of the screen: ABS_X, ABS_Y, SYN_REPORT. */
#define MOVED                                                                                      \
	EVDEV_LINE("TAB", "3", "0", "321")                                                         \
	EVDEV_LINE("TAB", "3", "1", "123") EVDEV_LINE("TAB", "0", "0", "0")

static char *vmm;
static struct lean_guest guest;
static struct vm *vm;

static int teardown(void **state)
{
	vm_destroy(vm);
	vm = NULL;
	return harness_teardown(state);
}

/* Input reaches the guest within milliseconds; its console is slow. */
static bool expect_event(const char *re)
{
	return vm_expect(vm, re, 30) != NULL;
}

static void test_lean_display(void **state)
{
	struct harness *h = *state;
	struct client *c;
	int32_t x, y;
	char *argv[] = {vmm,	     "boot",	   "--kernel",	guest.kernel,
			"--initrd",  guest.initrd, "--cmdline", "console=ttyS0 panic=-1",
			"--mem",     "256",	   "--gpu",	LEAN_SCREEN_SIZE,
			"--display", "wayland",	   "--disk",	guest.disk_arg,
			NULL};

	vm = vm_start(argv);
	assert_non_null(vm);
	if (!vm_expect(vm, "INLAY-READY", LEAN_BOOT_TIMEOUT))
		fail_msg("the guest did not reach its shell");
	vm_send(vm, EVDEV_WATCH("TAB", "Tablet"));
	vm_send(vm, EVDEV_WATCH("KBD", "Keyboard"));
	assert_non_null(vm_expect(vm, "WATCH-2", LEAN_CMD_TIMEOUT));
	assert_non_null(vm_expect(vm, "WATCH-2", LEAN_CMD_TIMEOUT));

	vm_send(vm, LEAN_DRAW_CMD);
	assert_non_null(vm_expect(vm, LEAN_DRAW_DONE, LEAN_CMD_TIMEOUT));
	fprintf(stderr, "# pattern written to /dev/fb0 after %.1f s\n", vm_elapsed(vm));

	c = client_create(h);
	if (!lean_screen_find(c, "lean-display", LEAN_SCREEN_TIMEOUT_MS, &x, &y))
		fail_msg("the guest's /dev/fb0 pattern is not on the output pixel for pixel");
	fprintf(stderr, "# pattern on screen at %d,%d after %.1f s\n", x, y, vm_elapsed(vm));

	/*
	 * Surface coordinates are the scanout's pixels and the tablet's ABS
	 * units. evdev drops values that did not change: the pointer entered
	 * the new window somewhere, so go where it cannot have been.
	 */
	input_move(c, x + 321, y + 123);
	assert_true(expect_event(MOVED));
	input_button(c, BTN_LEFT, true);
	assert_true(expect_event(EVDEV_LINE("TAB", "1", "272", "1")));
	input_button(c, BTN_LEFT, false);
	assert_true(expect_event(EVDEV_LINE("TAB", "1", "272", "0")));
	input_key(c, KEY_A);
	assert_true(
	    expect_event(EVDEV_LINE("KBD", "1", "30", "1") EVDEV_LINE("KBD", "0", "0", "0")));
	assert_true(expect_event(EVDEV_LINE("KBD", "1", "30", "0")));

	vm_send(vm, "poweroff");
	assert_int_equal(vm_wait(vm, LEAN_CMD_TIMEOUT), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_prestate_setup_teardown(test_lean_display, harness_setup, teardown,
						     (void *)"test_lean_display"),
	};
	int ret;

	if (argc != 5) {
		fprintf(stderr, "usage: %s VMM KERNEL_SH MKIMAGE_SH INIT\n", argv[0]);
		return 2;
	}
	vmm = argv[1];
	lean_guest_prepare(&guest, argv[2], argv[3], argv[4]);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	lean_guest_cleanup(&guest, NULL);
	return ret;
}
