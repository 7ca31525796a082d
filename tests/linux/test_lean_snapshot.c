// SPDX-License-Identifier: MIT
/*
 * The real-driver lane for snapshots: the lean guest copies a pattern into
 * /dev/fb0 under `inlay-vmm bake --display wayland`; once the pattern is on
 * the headless inlay-compositor's output, `inlay-ready` (inlay-init's
 * snapshot-port mode) has the VMM bake it. `inlay-vmm restore` then shows
 * the pattern pixel for pixel at once, before the guest could draw again,
 * and the guest's shell answers on the serial console.
 *
 *   test_lean_snapshot VMM KERNEL_SH MKIMAGE_SH INIT   (env as compositor tests)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "lean_screen.h"

/* The restored frame is committed before any vCPU runs: allow only start-up time. */
#define RESTORE_SCREEN_TIMEOUT_MS 5000

static char *vmm;
static struct lean_guest guest;
static char snap_dir[96];
static struct vm *vm;

static int teardown(void **state)
{
	vm_destroy(vm);
	vm = NULL;
	return harness_teardown(state);
}

static void bake(struct client *c)
{
	char state_path[128];
	int32_t x, y;
	char *argv[] = {vmm,	     "bake",	   "--kernel",	guest.kernel,
			"--initrd",  guest.initrd, "--cmdline", "console=ttyS0 panic=-1",
			"--mem",     "256",	   "--gpu",	LEAN_SCREEN_SIZE,
			"--display", "wayland",	   "--disk",	guest.disk_arg,
			"--out",     snap_dir,	   NULL};

	vm = vm_start(argv);
	assert_non_null(vm);
	if (!vm_expect(vm, "INLAY-READY", LEAN_BOOT_TIMEOUT))
		fail_msg("the guest did not reach its shell");
	vm_send(vm, LEAN_DRAW_CMD);
	assert_non_null(vm_expect(vm, LEAN_DRAW_DONE, LEAN_CMD_TIMEOUT));
	/* On screen means flushed: the frame is in the guest's backing pages too. */
	if (!lean_screen_find(c, "lean-bake", LEAN_SCREEN_TIMEOUT_MS, &x, &y))
		fail_msg("the guest's /dev/fb0 pattern is not on the output pixel for pixel");
	fprintf(stderr, "# pattern on screen after %.1f s; baking\n", vm_elapsed(vm));
	vm_send(vm, "inlay-ready");
	assert_int_equal(vm_wait(vm, LEAN_CMD_TIMEOUT), 0);
	vm_destroy(vm);
	vm = NULL;
	snprintf(state_path, sizeof(state_path), "%s/state", snap_dir);
	assert_int_equal(access(state_path, R_OK), 0);
}

static void test_lean_snapshot(void **state)
{
	struct harness *h = *state;
	struct client *c = client_create(h);
	char *argv[] = {vmm, "restore", snap_dir, "--display", "wayland", NULL};
	int32_t x, y;

	bake(c);
	/* The baking VMM's window is gone before the restored one may appear. */
	assert_true(client_roundtrip(c));
	harness_dispatch(h, 100);
	assert_true(client_roundtrip(c));

	vm = vm_start(argv);
	assert_non_null(vm);
	if (!lean_screen_find(c, "lean-restore", RESTORE_SCREEN_TIMEOUT_MS, &x, &y))
		fail_msg("the restored screen is not the baked pattern");
	fprintf(stderr, "# restored pattern on screen after %.3f s\n", vm_elapsed(vm));

	vm_send(vm, "echo ALIVE-$((6*7))");
	assert_non_null(vm_expect(vm, "ALIVE-42", LEAN_CMD_TIMEOUT));
	vm_send(vm, "poweroff");
	assert_int_equal(vm_wait(vm, LEAN_CMD_TIMEOUT), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_prestate_setup_teardown(test_lean_snapshot, harness_setup, teardown,
						     (void *)"test_lean_snapshot"),
	};
	int ret;

	if (argc != 5) {
		fprintf(stderr, "usage: %s VMM KERNEL_SH MKIMAGE_SH INIT\n", argv[0]);
		return 2;
	}
	vmm = argv[1];
	lean_guest_prepare(&guest, argv[2], argv[3], argv[4]);
	snprintf(snap_dir, sizeof(snap_dir), "%s/snap", guest.dir);
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	lean_guest_cleanup(&guest, snap_dir);
	return ret;
}
