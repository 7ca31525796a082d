// SPDX-License-Identifier: MIT
/*
 * The lean kernel with its root file system on a read-only virtio-blk disk:
 * the base image as erofs (mkimage.sh --disk), a small initramfs with only
 * inlay-init, and inlay.root=/dev/vda on the command line. inlay-init must
 * move to that root before it says INLAY-READY, and the disk must refuse
 * writes. The shell is the app: its non-zero exit reaches the exit port.
 *
 *   test_disk_root VMM KERNEL_SH MKIMAGE_SH INIT
 */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

#define BOOT_TIMEOUT 600
#define CMD_TIMEOUT  120

int main(int argc, char **argv)
{
	char kernel[512], initrd[512], root[512];
	const char *ready;
	struct vm *vm;
	int st;

	if (argc != 5) {
		fprintf(stderr, "usage: %s VMM KERNEL_SH MKIMAGE_SH INIT\n", argv[0]);
		return 2;
	}
	harness_require_kvm();
	{
		char *kargv[] = {argv[2], NULL};
		char *iargv[] = {argv[3], "--init", argv[4], "--disk", "base", NULL};
		char *kdir = harness_script_path(kargv), *idir = harness_script_path(iargv);

		snprintf(kernel, sizeof(kernel), "%s/vmlinux", kdir);
		snprintf(initrd, sizeof(initrd), "%s/boot.cpio", idir);
		snprintf(root, sizeof(root), "%s/root.erofs,ro", idir);
		free(kdir);
		free(idir);
	}

	char *vargv[] = {
	    argv[1],	"boot", "--kernel",  kernel,
	    "--initrd", initrd, "--cmdline", "console=ttyS0 panic=-1 inlay.root=/dev/vda",
	    "--mem",	"256",	"--disk",    root,
	    NULL};
	vm = vm_start(vargv);
	if (!vm)
		tap_bail("cannot start %s", argv[1]);
	ready = vm_expect(vm, "INLAY-READY", BOOT_TIMEOUT);
	if (!tap_ok(ready, "inlay-init is ready on the erofs root (%.1f s)", vm_elapsed(vm)))
		goto out;

	vm_send(vm, "echo ROOT-$(grep ' / ' /proc/mounts | cut -d' ' -f1,3,4 | tr ' ,' '--')");
	tap_ok(vm_expect(vm, "ROOT-/dev/vda-erofs-ro", CMD_TIMEOUT),
	       "/ is /dev/vda, erofs, read-only");

	vm_send(vm,
		"echo x | dd of=/dev/vda conv=fsync 2>/dev/null || echo WRITE-$((40+2))-REFUSED");
	tap_ok(vm_expect(vm, "WRITE-42-REFUSED", CMD_TIMEOUT), "the read-only disk refuses writes");

	/* The shell is the app here: its exit status goes to the exit port. */
	vm_send(vm, "exit 3");
	st = vm_wait(vm, CMD_TIMEOUT);
	tap_ok(st == 5, "the app's exit status 3 ends inlay-vmm with status 5 (got %d)", st);
out:
	vm_destroy(vm);
	return tap_done();
}
