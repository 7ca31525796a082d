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
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_ARGS 48
#define MAX_RUNS 1000
#define GUEST_MEM_MIB "64"
#define WAIT_MS 30000

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

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "bench: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

/* The argv each peer needs to boot @guest with guest RAM in a memfd. */
static void build_argv(const struct bench *b, enum peer p, enum guest g, const char **argv)
{
	int n = 0;
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
	n = sizeof(a) / sizeof(a[0]) - 3;
	if (b->qemu_bios) {
		a[n++] = "-bios";
		a[n++] = b->qemu_bios;
	}
	memcpy(argv, a, sizeof(a));
}

static pid_t spawn(const char **argv, int *out_fd)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		die("pipe: %s", strerror(errno));
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	int err = posix_spawn(&pid, argv[0], &fa, NULL, (char **)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (err)
		die("cannot start %s", argv[0]);
	*out_fd = pipefd[0];
	return pid;
}

static int reap(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	return st;
}

/* Read until @needle shows up on @fd; false on timeout or EOF. */
static bool wait_for(int fd, const char *needle)
{
	char buf[256];
	size_t have = 0;
	double deadline = now_ms() + WAIT_MS;
	while (now_ms() < deadline) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			return false;
		have += (size_t)n;
		buf[have] = '\0';
		if (strstr(buf, needle))
			return true;
		if (have == sizeof(buf) - 1)
			have = 0;
	}
	return false;
}

static double run_exit(const struct bench *b, enum peer p)
{
	const char *argv[MAX_ARGS];
	build_argv(b, p, GUEST_EXIT, argv);
	int fd;
	double t0 = now_ms();
	pid_t pid = spawn(argv, &fd);
	int st = reap(pid);
	double t = now_ms() - t0;
	close(fd);
	/* QEMU's isa-debug-exit turns 0 into status 1. */
	int want = p == PEER_QEMU ? 1 : 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != want)
		die("%s: exit guest did not exit cleanly", peer_name[p]);
	return t;
}

static double run_serial(const struct bench *b, enum peer p)
{
	const char *argv[MAX_ARGS];
	build_argv(b, p, GUEST_SERIAL, argv);
	int fd;
	double t0 = now_ms();
	pid_t pid = spawn(argv, &fd);
	bool ok = wait_for(fd, "!");
	double t = now_ms() - t0;
	if (!ok)
		kill(pid, SIGKILL);
	reap(pid);
	close(fd);
	if (!ok)
		die("%s: no serial byte from the guest", peer_name[p]);
	return t;
}

/* kB of "Rss:" summed over /proc/PID/smaps, and over mappings named like @ram. */
static void read_rss(pid_t pid, const char *ram, long *total_kb, long *ram_kb)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		die("cannot read %s", path);
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
	const char *argv[MAX_ARGS];
	build_argv(b, p, GUEST_IDLE, argv);
	int fd;
	pid_t pid = spawn(argv, &fd);
	if (!wait_for(fd, "ready")) {
		kill(pid, SIGKILL);
		reap(pid);
		die("%s: idle guest never said ready", peer_name[p]);
	}
	usleep(200 * 1000); /* let the VMM settle after the guest halted */
	long total, ram;
	read_rss(pid, p == PEER_INLAY ? "memfd:inlay-guest-ram" : "memfd:memory-backend-memfd", &total, &ram);
	kill(pid, SIGTERM);
	reap(pid);
	close(fd);
	if (ram == 0)
		die("%s: guest RAM mapping not found in smaps", peer_name[p]);
	return (double)(total - ram) / 1024.0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void report(const char *what, const char *unit, double s[NR_PEERS][MAX_RUNS], int n)
{
	double med[NR_PEERS];
	for (int p = 0; p < NR_PEERS; p++) {
		med[p] = median(s[p], n);
		printf("%-9s %-10s median %9.3f %s  min %9.3f  max %9.3f  (n=%d)\n", what,
		       peer_name[p], med[p], unit, s[p][0], s[p][n - 1], n);
	}
	printf("%-9s ratio qemu/inlay-vmm %.1fx\n\n", what, med[PEER_QEMU] / med[PEER_INLAY]);
}

static const char bench_usage[] =
	"Usage: vmm_start --inlay PATH --qemu PATH --exit-guest ELF --serial-guest ELF\n"
	"                 --idle-guest ELF [--qemu-bios FILE] [--runs N]\n";

int main(int argc, char **argv)
{
	struct bench b = {.runs = 10};
	static const struct option opts[] = {
		{"inlay", required_argument, NULL, 'i'},
		{"qemu", required_argument, NULL, 'q'},
		{"qemu-bios", required_argument, NULL, 'b'},
		{"exit-guest", required_argument, NULL, 'e'},
		{"serial-guest", required_argument, NULL, 's'},
		{"idle-guest", required_argument, NULL, 'd'},
		{"runs", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'i': b.inlay = optarg; break;
		case 'q': b.qemu = optarg; break;
		case 'b': b.qemu_bios = optarg; break;
		case 'e': b.guests[GUEST_EXIT] = optarg; break;
		case 's': b.guests[GUEST_SERIAL] = optarg; break;
		case 'd': b.guests[GUEST_IDLE] = optarg; break;
		case 'n': b.runs = atoi(optarg); break;
		case 'h': fputs(bench_usage, stdout); return 0;
		default: fputs(bench_usage, stderr); return 2;
		}
	}
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
