// SPDX-License-Identifier: MIT
/*
 * Lean guest kernel boot: inlay-vmm against QEMU (q35 + qboot), same kernel
 * (the PVH vmlinux), initramfs (base), memory and effective command line,
 * alternating runs. Measures process start → "INLAY-READY" on the serial
 * console and prints median, min and max per VMM and the ratio QEMU/Inlay.
 * A third row boots inlay-vmm with the root on a read-only erofs disk
 * instead (inlay.root=/dev/vda). Also prints kernel and image sizes and
 * their build times (first, cached).
 *
 * Guest kernel time is emulated on software-virtualized hosts: quote the
 * ratio, not the seconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"
#include "tests/linux/harness.h"
#include "vmm/cpuid.h"

#define MAX_RUNS      50
#define READY_TIMEOUT 600
#define MEM_MIB	      "256"
#define BASE_CMDLINE  "console=ttyS0 panic=-1"

/* The last is inlay-vmm again, with the root on a read-only erofs disk. */
enum peer { PEER_INLAY, PEER_QEMU, PEER_INLAY_EROFS, NR_PEERS };
static const char *const peer_name[NR_PEERS] = {"inlay-vmm", "qemu", "inlay-vmm+erofs"};

struct opts {
	const char *inlay, *qemu, *qemu_bios, *kernel_sh, *mkimage_sh, *init;
	int runs;
};

/* Runs a build script; returns the path it printed and how long it took. */
static char *timed_script(char *const *argv, double *secs)
{
	double t0 = bench_now_ms();
	char *path = harness_script_path(argv);

	*secs = (bench_now_ms() - t0) / 1e3;
	return path;
}

static double file_mib(const char *dir, const char *name)
{
	char path[1024];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) ? -1 : (double)st.st_size / (1 << 20);
}

static double first_build_seconds(const char *kdir)
{
	char path[1024];
	double s = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/build-seconds", kdir);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lf", &s) != 1)
			s = -1;
		fclose(f);
	}
	return s;
}

/* Assembles the base image in a scratch cache that shares only the .deb files. */
static double image_first_build(const struct opts *o, const char *debs)
{
	char tmp[] = "/tmp/inlay-bench-XXXXXX", link[64], cmd[128];
	char *argv[] = {(char *)o->mkimage_sh, "--init", (char *)o->init, "--disk", "base", NULL};
	const char *old = getenv("INLAY_CACHE");
	char *saved = old ? strdup(old) : NULL;
	double secs;

	if (!mkdtemp(tmp))
		return -1;
	snprintf(link, sizeof(link), "%s/debs", tmp);
	if (symlink(debs, link))
		return -1;
	setenv("INLAY_CACHE", tmp, 1);
	free(timed_script(argv, &secs));
	if (saved)
		setenv("INLAY_CACHE", saved, 1);
	else
		unsetenv("INLAY_CACHE");
	free(saved);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd))
		fprintf(stderr, "bench: could not remove %s\n", tmp);
	return secs;
}

struct boot_files {
	char kernel[1024], initrd[1024], boot_cpio[1024], root_disk[1024];
	char cmdline[256]; /* with the words inlay-vmm's CPU template adds */
};

static double boot_to_ready(const struct opts *o, enum peer p, const struct boot_files *f)
{
	/* clang-format off */
	char *inlay[] = {(char *)o->inlay, "boot", "--kernel", (char *)f->kernel,
			 "--initrd", (char *)f->initrd, "--cmdline", BASE_CMDLINE,
			 "--mem", MEM_MIB, NULL};
	char *inlay_erofs[] = {(char *)o->inlay, "boot", "--kernel", (char *)f->kernel,
			       "--initrd", (char *)f->boot_cpio,
			       "--cmdline", BASE_CMDLINE " inlay.root=/dev/vda",
			       "--disk", (char *)f->root_disk, "--mem", MEM_MIB, NULL};
	char *qemu[] = {(char *)o->qemu, "-M", "q35", "-enable-kvm",
			"-cpu", "host,arch-capabilities=off,-cx16,-xsave",
			"-bios", (char *)o->qemu_bios, "-m", MEM_MIB,
			"-kernel", (char *)f->kernel, "-initrd", (char *)f->initrd,
			"-append", (char *)f->cmdline, "-display", "none",
			"-serial", "stdio", "-monitor", "none", "-nodefaults", "-no-reboot",
			"-device", "virtio-rng-pci", NULL};
	/* clang-format on */
	char **const argvs[NR_PEERS] = {inlay, qemu, inlay_erofs};
	struct vm *vm = vm_start(argvs[p]);
	double t = -1;

	if (!vm)
		return -1;
	if (vm_expect(vm, "INLAY-READY", READY_TIMEOUT))
		t = vm_elapsed(vm);
	vm_destroy(vm);
	return t;
}

static const char usage[] = "usage: linux_boot --inlay P --qemu P [--qemu-bios F] --kernel-sh P "
			    "--mkimage-sh P --init P [--runs N]\n";

int main(int argc, char **argv)
{
	struct opts o = {.qemu_bios = "qboot.rom", .runs = 5};
	double t[NR_PEERS][MAX_RUNS], k_cached, i_cached, i_first;
	struct bench_stats st[NR_PEERS];
	static struct boot_files f;
	char debs[1024];
	char *kdir, *idir;
	int n[NR_PEERS] = {0};
	const struct bench_opt opts[] = {
	    {"inlay", .str = &o.inlay},
	    {"qemu", .str = &o.qemu},
	    {"qemu-bios", .str = &o.qemu_bios},
	    {"kernel-sh", .str = &o.kernel_sh},
	    {"mkimage-sh", .str = &o.mkimage_sh},
	    {"init", .str = &o.init},
	    {"runs", .num = &o.runs},
	    {0},
	};

	bench_parse_opts(argc, argv, opts, usage);
	if (!o.inlay || !o.qemu || !o.kernel_sh || !o.mkimage_sh || !o.init || o.runs < 1 ||
	    o.runs > MAX_RUNS) {
		fputs(usage, stderr);
		return 2;
	}
	harness_require_kvm();
	harness_set_echo(false);

	{
		char *kargv[] = {(char *)o.kernel_sh, NULL};
		char *iargv[] = {
		    (char *)o.mkimage_sh, "--init", (char *)o.init, "--disk", "base", NULL};

		kdir = timed_script(kargv, &k_cached);
		idir = timed_script(iargv, &i_cached);
	}
	snprintf(debs, sizeof(debs), "%s/../../debs", idir);
	i_first = image_first_build(&o, debs);
	snprintf(f.kernel, sizeof(f.kernel), "%s/vmlinux", kdir);
	snprintf(f.initrd, sizeof(f.initrd), "%s/initramfs.cpio", idir);
	snprintf(f.boot_cpio, sizeof(f.boot_cpio), "%s/boot.cpio", idir);
	snprintf(f.root_disk, sizeof(f.root_disk), "%s/root.erofs,ro", idir);
	snprintf(f.cmdline, sizeof(f.cmdline), "%s %s", BASE_CMDLINE,
		 cpu_template_cmdline(cpuid_host_has_hw_virt() ? CPU_TEMPLATE_HOST
							       : CPU_TEMPLATE_BASELINE));

	printf("kernel   %s\n", kdir);
	printf("         vmlinux %.1f MiB, bzImage %.2f MiB; build: first %.0f s, cached %.2f s\n",
	       file_mib(kdir, "vmlinux"), file_mib(kdir, "bzImage"), first_build_seconds(kdir),
	       k_cached);
	printf("image    %s\n", idir);
	printf("         initramfs %.2f MiB, erofs root %.2f MiB + boot initramfs %.2f MiB\n",
	       file_mib(idir, "initramfs.cpio"), file_mib(idir, "root.erofs"),
	       file_mib(idir, "boot.cpio"));
	printf("         build: first %.1f s (packages already downloaded), cached %.2f s\n",
	       i_first, i_cached);
	printf("cmdline  %s\n", f.cmdline);
	fflush(stdout);

	for (int r = 0; r < o.runs; r++) {
		for (int p = 0; p < NR_PEERS; p++) {
			double s = boot_to_ready(&o, (enum peer)p, &f);

			if (s < 0) {
				printf("run %d %-15s  no ready line\n", r + 1, peer_name[p]);
			} else {
				printf("run %d %-15s  %.2f s to INLAY-READY\n", r + 1, peer_name[p],
				       s);
				t[p][n[p]++] = s;
			}
			fflush(stdout);
		}
	}
	printf("\nboot to INLAY-READY (%d runs each, alternating)\n", o.runs);
	for (int p = 0; p < NR_PEERS; p++) {
		if (!n[p]) {
			printf("%-15s  no successful run\n", peer_name[p]);
			return 1;
		}
		bench_summarize(t[p], n[p], &st[p]);
		printf("%-15s  median %.2f s  min %.2f s  max %.2f s\n", peer_name[p], st[p].median,
		       st[p].min, st[p].max);
	}
	printf("ratio qemu/inlay-vmm (median): %.2f\n",
	       st[PEER_QEMU].median / st[PEER_INLAY].median);
	free(kdir);
	free(idir);
	return 0;
}
