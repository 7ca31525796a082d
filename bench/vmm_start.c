// SPDX-License-Identifier: MIT
/*
 * VMM start and memory: inlay-vmm against QEMU, same guests, same run,
 * alternating. Measures, per VMM:
 *   first-io   process start → the guest's first instruction, an OUT of one
 *              byte to COM1, seen as that byte arriving on a pipe
 *   lifecycle  process start → the guest's first instruction, a write to
 *              the exit port → process gone (includes KVM's VM teardown)
 *   overhead   RSS of an idle VM minus the resident part of its guest RAM
 * and prints median, min and max of each, and the ratio QEMU/Inlay.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

#define MAX_ARGS      48
#define MAX_RUNS      1000
#define GUEST_MEM_MIB "64"
#define WAIT_MS	      30000

enum peer { PEER_INLAY, PEER_QEMU, NR_PEERS };
enum guest { GUEST_EXIT, GUEST_SERIAL, GUEST_IDLE, NR_GUESTS };

struct bench {
	const char *inlay;
	const char *qemu;
	const char *qemu_bios;
	const char *guests[NR_GUESTS];
	int runs;
};

static const char *peer_name[NR_PEERS] = {"inlay-vmm", "qemu"};

/* The argv each peer needs to boot @guest with guest RAM in a memfd. */
static void build_argv(const struct bench *b, enum peer p, enum guest g, const char **argv)
{
	int n = 0;
	/* clang-format off */
	if (p == PEER_INLAY) {
		const char *a[] = {b->inlay, "boot", "--kernel", b->guests[g], "--mem",
				   GUEST_MEM_MIB, "--no-rng", NULL};
		memcpy(argv, a, sizeof(a));
		return;
	}
	/* Fastest QEMU here: q35 with qboot instead of SeaBIOS, no default devices. */
	const char *a[] = {b->qemu, "-M", "q35,memory-backend=ram", "-object",
			   "memory-backend-memfd,id=ram,size=" GUEST_MEM_MIB "M", "-enable-kvm", "-cpu",
			   "host,arch-capabilities=off,-cx16,-xsave", "-m", GUEST_MEM_MIB, "-nodefaults",
			   "-no-user-config", "-display", "none", "-monitor", "none", "-serial", "stdio",
			   "-no-reboot", "-device", "isa-debug-exit,iobase=0x501,iosize=1", "-kernel",
			   b->guests[g], NULL, NULL, NULL};
	/* clang-format on */
	n = sizeof(a) / sizeof(a[0]) - 3;
	if (b->qemu_bios) {
		a[n++] = "-bios";
		a[n++] = b->qemu_bios;
	}
	memcpy(argv, a, sizeof(a));
}

/* Start @p on @g with its serial output on *@fd; *@t0 is the time just before. */
static pid_t start(const struct bench *b, enum peer p, enum guest g, int *fd, double *t0)
{
	const char *argv[MAX_ARGS];

	build_argv(b, p, g, argv);
	*t0 = bench_now_ms();
	return bench_spawn((char *const *)argv, fd, false);
}

static double run_exit(const struct bench *b, enum peer p)
{
	int fd;
	double t0;
	pid_t pid = start(b, p, GUEST_EXIT, &fd, &t0);
	int st = bench_reap(pid);
	double t = bench_now_ms() - t0;

	close(fd);
	/* QEMU's isa-debug-exit turns 0 into status 1. */
	int want = p == PEER_QEMU ? 1 : 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != want)
		bench_die("%s: exit guest did not exit cleanly", peer_name[p]);
	return t;
}

static double run_serial(const struct bench *b, enum peer p)
{
	int fd;
	double t0;
	pid_t pid = start(b, p, GUEST_SERIAL, &fd, &t0);
	bool ok = bench_wait_for(fd, "!", WAIT_MS);
	double t = bench_now_ms() - t0;

	if (!ok)
		kill(pid, SIGKILL);
	bench_reap(pid);
	close(fd);
	if (!ok)
		bench_die("%s: no serial byte from the guest", peer_name[p]);
	return t;
}

/* kB of "Rss:" summed over /proc/PID/smaps, and over mappings named like @ram. */
static void read_rss(pid_t pid, const char *ram, long *total_kb, long *ram_kb)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		bench_die("cannot read %s", path);
	bool in_ram = false;
	*total_kb = *ram_kb = 0;
	while (fgets(line, sizeof(line), f)) {
		long kb;
		unsigned long start, end;
		/* A mapping's header line starts with its address range. */
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			in_ram = strstr(line, ram) != NULL;
			continue;
		}
		if (sscanf(line, "Rss: %ld kB", &kb) == 1) {
			*total_kb += kb;
			if (in_ram)
				*ram_kb += kb;
		}
	}
	fclose(f);
}

static double run_memory(const struct bench *b, enum peer p)
{
	int fd;
	double t0;
	pid_t pid = start(b, p, GUEST_IDLE, &fd, &t0);

	if (!bench_wait_for(fd, "ready", WAIT_MS)) {
		bench_stop(pid, fd);
		bench_die("%s: idle guest never said ready", peer_name[p]);
	}
	usleep(200 * 1000); /* let the VMM settle after the guest halted */
	long total, ram;
	read_rss(pid, p == PEER_INLAY ? "memfd:inlay-guest-ram" : "memfd:memory-backend-memfd",
		 &total, &ram);
	kill(pid, SIGTERM);
	bench_reap(pid);
	close(fd);
	if (ram == 0)
		bench_die("%s: guest RAM mapping not found in smaps", peer_name[p]);
	return (double)(total - ram) / 1024.0;
}

static void report(const char *what, const char *unit, double s[NR_PEERS][MAX_RUNS], int n)
{
	struct bench_stats st[NR_PEERS];

	for (int p = 0; p < NR_PEERS; p++) {
		bench_summarize(s[p], n, &st[p]);
		printf("%-9s %-10s median %9.3f %s  min %9.3f  max %9.3f  (n=%d)\n", what,
		       peer_name[p], st[p].median, unit, st[p].min, st[p].max, n);
	}
	printf("%-9s ratio qemu/inlay-vmm %.1fx\n\n", what,
	       st[PEER_QEMU].median / st[PEER_INLAY].median);
}

static const char bench_usage[] =
    "Usage: vmm_start --inlay PATH --qemu PATH --exit-guest ELF --serial-guest ELF\n"
    "                 --idle-guest ELF [--qemu-bios FILE] [--runs N]\n";

int main(int argc, char **argv)
{
	struct bench b = {.runs = 10};
	const struct bench_opt opts[] = {
	    {"inlay", .str = &b.inlay},
	    {"qemu", .str = &b.qemu},
	    {"qemu-bios", .str = &b.qemu_bios},
	    {"exit-guest", .str = &b.guests[GUEST_EXIT]},
	    {"serial-guest", .str = &b.guests[GUEST_SERIAL]},
	    {"idle-guest", .str = &b.guests[GUEST_IDLE]},
	    {"runs", .num = &b.runs},
	    {0},
	};

	bench_parse_opts(argc, argv, opts, bench_usage);
	if (!b.inlay || !b.qemu || !b.guests[0] || !b.guests[1] || !b.guests[2] || b.runs < 1 ||
	    b.runs > MAX_RUNS) {
		fputs(bench_usage, stderr);
		return 2;
	}
	static double t_exit[NR_PEERS][MAX_RUNS], t_serial[NR_PEERS][MAX_RUNS],
	    mem[NR_PEERS][MAX_RUNS];
	printf("vmm_start: %d alternating runs, guest RAM %s MiB, qemu firmware %s\n", b.runs,
	       GUEST_MEM_MIB, b.qemu_bios ? b.qemu_bios : "default (SeaBIOS)");
	fflush(stdout);
	for (int r = 0; r < b.runs; r++) {
		for (int p = 0; p < NR_PEERS; p++) {
			/* Alternate who goes first so neither always meets a warm cache. */
			enum peer q = (enum peer)((p + r) % NR_PEERS);
			t_exit[q][r] = run_exit(&b, q);
			t_serial[q][r] = run_serial(&b, q);
			mem[q][r] = run_memory(&b, q);
		}
	}
	report("first-io", "ms", t_serial, b.runs);
	report("lifecycle", "ms", t_exit, b.runs);
	report("overhead", "MiB", mem, b.runs);
	return 0;
}
