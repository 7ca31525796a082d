// SPDX-License-Identifier: MIT
/*
 * The stock Debian kernel (linux-image-amd64): its image builds, and
 * inlay-vmm starts it through its PVH entry far enough for the kernel's
 * first console line. Without the Inlay patches it stops at the first
 * instruction a software-virtualized host cannot emulate, so the VM is
 * stopped there.
 *
 *   test_stock_boot VMM STOCK_KERNEL_SH MKIMAGE_SH INIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* About 15 s here: memory setup before the early console is emulated. */
#define FIRST_LINE_TIMEOUT 300

int main(int argc, char **argv)
{
	char initrd[512];
	const char *m;
	struct vm *vm;
	char *kernel;

	if (argc != 5) {
		fprintf(stderr, "usage: %s VMM STOCK_KERNEL_SH MKIMAGE_SH INIT\n", argv[0]);
		return 2;
	}
	harness_require_kvm();
	{
		char *kargv[] = {argv[2], NULL};
		char *iargv[] = {argv[3], "--init", argv[4], "stock", NULL};
		char *idir;

		kernel = harness_script_path(kargv);
		idir = harness_script_path(iargv);
		tap_ok(idir[0] == '/', "the stock image builds: %s", idir);
		snprintf(initrd, sizeof(initrd), "%s/initramfs.cpio", idir);
		free(idir);
	}

	char *vargv[] = {argv[1],     "boot",
			 "--kernel",  kernel,
			 "--initrd",  initrd,
			 "--cmdline", "console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1",
			 "--mem",     "256",
			 NULL};
	vm = vm_start(vargv);
	if (!vm)
		tap_bail("cannot start %s", argv[1]);
	m = vm_expect(vm, "Linux version [0-9]", FIRST_LINE_TIMEOUT);
	tap_ok(m, "%s prints its first console line (%.1f s)", kernel, vm_elapsed(vm));
	vm_destroy(vm);
	free(kernel);
	return tap_done();
}
