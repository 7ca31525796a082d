// SPDX-License-Identifier: MIT
/*
 * The real-driver lane: one boot of the lean guest kernel with the base
 * image under inlay-vmm, exercising Linux's own drivers for every device:
 * 8250 console, virtio-pci with MSI-X, virtio-blk (read and write),
 * virtio-rng, virtio-console (the ready line), and the exit port.
 *
 *   test_lean_boot VMM KERNEL_SH MKIMAGE_SH INIT
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

#define DISK_SECTORS 4096 /* 2 MiB */
#define DATA_SECTORS 1024 /* the random part the guest checksums */
#define WRITE_SECTOR 2048 /* where the guest writes */
#define WRITE_TEXT   "written-by-the-guest"
#define BOOT_TIMEOUT 600 /* about 25 s here; the CI machine may be slower */
#define CMD_TIMEOUT  120

static void make_disk(const char *path, char sum[65])
{
	char buf[512], cmd[512];
	int rnd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *p;

	if (rnd < 0 || fd < 0)
		tap_bail("creating %s: %s", path, strerror(errno));
	for (int i = 0; i < DATA_SECTORS; i++) {
		if (read(rnd, buf, sizeof(buf)) != sizeof(buf) ||
		    write(fd, buf, sizeof(buf)) != sizeof(buf))
			tap_bail("writing %s", path);
	}
	if (ftruncate(fd, (off_t)DISK_SECTORS * 512) < 0)
		tap_bail("sizing %s", path);
	close(fd);
	close(rnd);
	snprintf(cmd, sizeof(cmd), "head -c %d '%s' | sha256sum", DATA_SECTORS * 512, path);
	p = popen(cmd, "r");
	if (!p || fscanf(p, "%64s", sum) != 1)
		tap_bail("checksumming %s", path);
	pclose(p);
}

static bool disk_has_guest_write(const char *path)
{
	char buf[sizeof(WRITE_TEXT)] = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = pread(fd, buf, sizeof(buf) - 1, (off_t)WRITE_SECTOR * 512) ==
		 (ssize_t)sizeof(buf) - 1 &&
	     !strcmp(buf, WRITE_TEXT);
	close(fd);
	return ok;
}

/* Connects to the virtio-console socket, retrying while the VMM creates it. */
static int console_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	for (int i = 0; i < 100; i++) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		if (fd >= 0)
			close(fd);
		usleep(50000);
	}
	return -1;
}

static bool console_has_ready(int fd)
{
	char buf[256];
	size_t len = 0;
	struct pollfd p = {fd, POLLIN, 0};

	while (len < sizeof(buf) - 1 && poll(&p, 1, 5000) > 0) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "INLAY-READY"))
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	char dir[] = "/tmp/inlay-lean-XXXXXX", disk[64], sock[64], diskarg[96], sum[65];
	char kernel[512], initrd[512], cmd[256];
	const char *m;
	struct vm *vm;
	int con, st;

	if (argc != 5) {
		fprintf(stderr, "usage: %s VMM KERNEL_SH MKIMAGE_SH INIT\n", argv[0]);
		return 2;
	}
	harness_require_kvm();
	{
		char *kargv[] = {argv[2], NULL};
		char *iargv[] = {argv[3], "--init", argv[4], "base", NULL};
		char *kdir = harness_script_path(kargv), *idir = harness_script_path(iargv);

		snprintf(kernel, sizeof(kernel), "%s/vmlinux", kdir);
		snprintf(initrd, sizeof(initrd), "%s/initramfs.cpio", idir);
		free(kdir);
		free(idir);
	}
	if (!mkdtemp(dir))
		tap_bail("mkdtemp: %s", strerror(errno));
	snprintf(disk, sizeof(disk), "%s/disk.img", dir);
	snprintf(sock, sizeof(sock), "%s/console.sock", dir);
	snprintf(diskarg, sizeof(diskarg), "%s", disk);
	snprintf(cmd, sizeof(cmd), "socket:%s", sock);
	make_disk(disk, sum);

	char *vargv[] = {argv[1],     "boot", "--kernel",  kernel,
			 "--initrd",  initrd, "--cmdline", "console=ttyS0 panic=-1",
			 "--mem",     "256",  "--disk",	   diskarg,
			 "--console", cmd,    NULL};
	vm = vm_start(vargv);
	if (!vm)
		tap_bail("cannot start %s", argv[1]);
	con = console_connect(sock);
	tap_ok(con >= 0, "virtio-console socket accepts a client");

	m = vm_expect(vm, "INLAY-READY", BOOT_TIMEOUT);
	tap_ok(m, "inlay-init is ready on the serial console (%.1f s)", vm_elapsed(vm));
	if (!m)
		goto out;
	tap_ok(con >= 0 && console_has_ready(con), "the ready line also came over virtio-console");

	vm_send(vm, "echo CMD-$((6*7))");
	tap_ok(vm_expect(vm, "CMD-42", CMD_TIMEOUT),
	       "a shell command runs and prints on the console");

	vm_send(vm, "echo SUM-$(head -c 524288 /dev/vda | sha256sum)");
	m = vm_expect(vm, "SUM-[0-9a-f]{64}", CMD_TIMEOUT);
	tap_ok(m && !strncmp(m + 4, sum, 64), "virtio-blk: the guest reads the disk's checksum");

	vm_send(vm, "printf " WRITE_TEXT " | dd of=/dev/vda bs=512 seek=2048 conv=fsync "
		    "2>/dev/null && echo WROTE-OK");
	tap_ok(vm_expect(vm, "WROTE-OK", CMD_TIMEOUT), "virtio-blk: the guest writes the disk");

	vm_send(vm, "echo RNG-$(cat /sys/class/misc/hw_random/rng_current)-"
		    "$(head -c 32 /dev/hwrng | od -An -tx1 | tr -d ' \\n')-END");
	m = vm_expect(vm, "RNG-[a-z_.0-9]*-[0-9a-f]{64}-END", CMD_TIMEOUT);
	tap_ok(m && strstr(m, "virtio") && !strstr(m, "0000000000000000000000000000"),
	       "virtio-rng: /dev/hwrng gives bytes from %s", m ? m : "nothing");

	vm_send(vm, "poweroff");
	st = vm_wait(vm, CMD_TIMEOUT);
	tap_ok(st == 0, "poweroff ends inlay-vmm with status 0 (got %d)", st);
	tap_ok(disk_has_guest_write(disk), "the guest's write is in the disk image after exit");
out:
	vm_destroy(vm);
	if (con >= 0)
		close(con);
	unlink(disk);
	unlink(sock);
	rmdir(dir);
	return tap_done();
}
