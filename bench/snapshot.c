// SPDX-License-Identifier: MIT
/*
 * Snapshot restore against QEMU's incoming migration, same guest, same run.
 *   restore   process start → the restored guest's first serial byte
 *             (inlay-vmm restore DIR; qemu -incoming "exec:cat FILE" with
 *             qboot and a memfd RAM backend), median, p90 and max
 *   frame     with --compositor: process start → the restored screen is
 *             committed to a headless inlay-compositor (inlay-vmm reports
 *             "restored" on stderr only after that commit was sent)
 *   density   N clones of one snapshot running at once: time to start them
 *             all, and memory per clone from /proc/PID/smaps_rollup
 *             (private = Private_Clean + Private_Dirty, and Pss), against
 *             the RSS of QEMU instances restored from the migration file
 * The guest is tests/guest/guest_snap.c: it counts on serial; the density
 * snapshot is taken with "idle", so each clone reports once and then halts.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

#define MAX_RUNS       1000
#define MAX_CLONES     200
#define MEM_MIB	       "32"
#define WAIT_MS	       60000
#define COUNT_ARGS     "step=0 ready=50 end=4000000000"
#define IDLE_ARGS      "step=0 ready=50 end=4000000000 idle"
#define QEMU_INSTANCES 10
#define GPU_ARGS       "gpu step=0 ready=50 end=4000000000 hold=100000"

struct bench {
	const char *inlay, *qemu, *qemu_bios, *guest, *compositor;
	int runs, clones;
	char dir[64];
};

static void path(const struct bench *b, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", b->dir, name);
}

/* ---- preparing the snapshots ---- */

static void bake(const struct bench *b, const char *name, const char *args)
{
	char out[128];
	path(b, name, out, sizeof(out));
	char *argv[] = {(char *)b->inlay,
			"bake",
			"--kernel",
			(char *)b->guest,
			"--display",
			"none",
			"--mem",
			MEM_MIB,
			"--cmdline",
			(char *)args,
			"--out",
			out,
			NULL,
			NULL,
			NULL};
	if (strstr(args, "gpu")) {
		argv[12] = "--gpu";
		argv[13] = "320x240";
	}
	int fd;
	pid_t pid = bench_spawn(argv, &fd, false);
	int st = bench_reap(pid);

	close(fd);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		bench_die("bake failed: %s", name);
}

static void qemu_argv(const struct bench *b, const char *incoming, char **argv)
{
	char *a[] = {(char *)b->qemu,
		     "-M",
		     "q35,memory-backend=ram",
		     "-object",
		     "memory-backend-memfd,id=ram,size=" MEM_MIB "M",
		     "-enable-kvm",
		     "-cpu",
		     "host,arch-capabilities=off,-cx16,-xsave",
		     "-m",
		     MEM_MIB,
		     "-nodefaults",
		     "-no-user-config",
		     "-display",
		     "none",
		     "-serial",
		     "stdio",
		     "-device",
		     "virtio-rng-pci,disable-legacy=on",
		     "-kernel",
		     (char *)b->guest,
		     "-append",
		     COUNT_ARGS,
		     "-bios",
		     (char *)b->qemu_bios,
		     NULL,
		     NULL,
		     NULL,
		     NULL,
		     NULL};
	size_t n = sizeof(a) / sizeof(a[0]) - 5;
	/* qemu_save() points the monitor at a socket. */
	a[n++] = "-monitor";
	a[n++] = "none";
	if (incoming) {
		a[n++] = "-incoming";
		a[n++] = (char *)incoming;
	}
	memcpy(argv, a, sizeof(a));
}

/* One HMP command on the monitor socket; the reply (until the next prompt) in @reply. */
static void hmp(int s, const char *cmd, char *reply, size_t len)
{
	if (write(s, cmd, strlen(cmd)) < 0)
		bench_die("monitor: %s", strerror(errno));
	size_t have = 0;
	double end = bench_now_ms() + WAIT_MS;
	reply[0] = '\0';
	while (bench_now_ms() < end && have < len - 1) {
		struct pollfd pfd = {.fd = s, .events = POLLIN};
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		ssize_t n = read(s, reply + have, len - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		reply[have] = '\0';
		if (strstr(reply, "(qemu) "))
			break;
	}
}

/* Run the guest under QEMU to the same point and save a migration stream. */
static void qemu_save(const struct bench *b, const char *file)
{
	char sock[128], mon[160], *argv[40], cmd[300], reply[8192];
	path(b, "qemu.sock", sock, sizeof(sock));
	snprintf(mon, sizeof(mon), "unix:%s,server=on,wait=off", sock);
	qemu_argv(b, NULL, argv);
	for (int i = 0; argv[i]; i++)
		if (!strcmp(argv[i], "-monitor"))
			argv[i + 1] = mon;
	int fd;
	pid_t pid = bench_spawn(argv, &fd, false);
	if (!bench_wait_for(fd, "snap: count 50\n", WAIT_MS))
		bench_die("qemu did not run the guest");
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(sock) >= sizeof(sa.sun_path))
		bench_die("socket path too long: %s", sock);
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		bench_die("qemu monitor: %s", strerror(errno));
	hmp(s, "", reply, sizeof(reply));
	snprintf(cmd, sizeof(cmd), "migrate \"exec:cat > %s\"\n", file);
	hmp(s, cmd, reply, sizeof(reply));
	for (double end = bench_now_ms() + WAIT_MS; bench_now_ms() < end;) {
		hmp(s, "info migrate\n", reply, sizeof(reply));
		if (strstr(reply, "status: completed"))
			break;
		if (strstr(reply, "status: failed"))
			bench_die("qemu migration failed");
		usleep(20000);
	}
	close(s);
	bench_stop(pid, fd);
	unlink(sock);
}

/* ---- measurements ---- */

/*
 * Process start to @needle (NULL: any byte) on @argv's stdout, or with
 * @err_stream its stderr; dies with @fail otherwise.
 */
static double time_to(char *const *argv, bool err_stream, const char *needle, const char *fail)
{
	int fd;
	double t0 = bench_now_ms();
	pid_t pid = bench_spawn(argv, &fd, err_stream);

	if (!bench_wait_for(fd, needle, WAIT_MS))
		bench_die("%s %s", fail, argv[0]);
	double t = bench_now_ms() - t0;
	bench_stop(pid, fd);
	return t;
}

/* Process start to the first byte the restored guest prints. */
static double first_byte(char *const *argv)
{
	return time_to(argv, false, NULL, "no output from");
}

struct mem_kb {
	long rss, pss, private_kb;
};

static struct mem_kb smaps(pid_t pid)
{
	char file[64], line[256];
	struct mem_kb m = {0};
	snprintf(file, sizeof(file), "/proc/%d/smaps_rollup", pid);
	FILE *f = fopen(file, "r");
	if (!f)
		bench_die("cannot read %s", file);
	while (fgets(line, sizeof(line), f)) {
		long v;
		if (sscanf(line, "Rss: %ld", &v) == 1)
			m.rss = v;
		else if (sscanf(line, "Pss: %ld", &v) == 1)
			m.pss = v;
		else if (sscanf(line, "Private_Clean: %ld", &v) == 1 ||
			 sscanf(line, "Private_Dirty: %ld", &v) == 1)
			m.private_kb += v;
	}
	fclose(f);
	return m;
}

/* Start @n copies of @argv, wait until each printed @ready, sum their memory. */
static double density(char *const *argv, int n, const char *ready, struct mem_kb *sum)
{
	pid_t pid[MAX_CLONES];
	int fd[MAX_CLONES];
	double t0 = bench_now_ms();
	for (int i = 0; i < n; i++)
		pid[i] = bench_spawn(argv, &fd[i], false);
	for (int i = 0; i < n; i++)
		if (!bench_wait_for(fd[i], ready, WAIT_MS))
			bench_die("a clone did not come up: %s", argv[0]);
	double t = bench_now_ms() - t0;
	*sum = (struct mem_kb){0};
	for (int i = 0; i < n; i++) {
		struct mem_kb m = smaps(pid[i]);
		sum->rss += m.rss;
		sum->pss += m.pss;
		sum->private_kb += m.private_kb;
	}
	for (int i = 0; i < n; i++)
		bench_stop(pid[i], fd[i]);
	return t;
}

/* Process start to inlay-vmm's "restored" report, sent after the first frame's commit. */
static double first_frame(char *const *argv)
{
	return time_to(argv, true, "restored (clone", "no restore report from");
}

/* One row of a restore table; the summary of @v in *@st. */
static void print_stats(const char *who, double *v, int n, struct bench_stats *st)
{
	bench_summarize(v, n, st);
	printf("  %-10s median %7.2f  p90 %7.2f  max %7.2f\n", who, st->median, st->p90, st->max);
}

static void cleanup(const struct bench *b)
{
	const char *names[] = {"count/state", "count/memory", "count",	   "idle/state",
			       "idle/memory", "idle",	      "gpu/state", "gpu/memory",
			       "gpu",	      "qemu.mig",     NULL};
	char p[128];
	for (int i = 0; names[i]; i++) {
		path(b, names[i], p, sizeof(p));
		if (unlink(p) < 0)
			rmdir(p);
	}
	rmdir(b->dir);
}

static const char usage[] =
    "usage: snapshot --inlay PATH --guest GUEST_SNAP_ELF [--qemu PATH --qemu-bios ROM]\n"
    "                [--compositor PATH] [--runs N] [--clones N]\n";

int main(int argc, char **argv)
{
	struct bench b = {.runs = 20, .clones = 40};
	const struct bench_opt opts[] = {
	    {"inlay", .str = &b.inlay},
	    {"qemu", .str = &b.qemu},
	    {"qemu-bios", .str = &b.qemu_bios},
	    {"guest", .str = &b.guest},
	    {"runs", .num = &b.runs},
	    {"clones", .num = &b.clones},
	    {"compositor", .str = &b.compositor},
	    {0},
	};

	bench_parse_opts(argc, argv, opts, usage);
	if (!b.inlay || !b.guest || b.runs < 1 || b.runs > MAX_RUNS || b.clones < 1 ||
	    b.clones > MAX_CLONES || (b.qemu && !b.qemu_bios)) {
		fputs(usage, stderr);
		return 2;
	}
	snprintf(b.dir, sizeof(b.dir), "/tmp/inlay-bench-snap-XXXXXX");
	if (!mkdtemp(b.dir))
		bench_die("mkdtemp: %s", strerror(errno));
	char count[128], idle[128], mig[128], incoming[160];
	path(&b, "count", count, sizeof(count));
	path(&b, "idle", idle, sizeof(idle));
	path(&b, "qemu.mig", mig, sizeof(mig));
	bake(&b, "count", COUNT_ARGS);
	bake(&b, "idle", IDLE_ARGS);
	if (b.qemu)
		qemu_save(&b, mig);
	snprintf(incoming, sizeof(incoming), "exec:cat %s", mig);

	static double inlay_ms[MAX_RUNS], qemu_ms[MAX_RUNS];
	char *inlay_restore[] = {(char *)b.inlay, "restore", count, "--display", "none", NULL};
	char *qemu_restore[40];
	qemu_argv(&b, incoming, qemu_restore);
	/* Alternate, so that both see the same machine state over the run. */
	for (int i = 0; i < b.runs; i++) {
		inlay_ms[i] = first_byte(inlay_restore);
		if (b.qemu)
			qemu_ms[i] = first_byte(qemu_restore);
	}
	struct bench_stats st, qst;
	printf("restore to first guest output, %d runs (ms):\n", b.runs);
	print_stats("inlay-vmm", inlay_ms, b.runs, &st);
	if (b.qemu) {
		print_stats("qemu", qemu_ms, b.runs, &qst);
		printf("  qemu / inlay-vmm (median): %.1fx\n", qst.median / st.median);
	}

	struct mem_kb sum, qsum;
	char *clone[] = {(char *)b.inlay, "restore", idle, "--display", "none", NULL};
	double t = density(clone, b.clones, "snap: entropy", &sum);
	printf("%d clones of one snapshot (%s MiB guest): all up in %.0f ms\n", b.clones, MEM_MIB,
	       t);
	printf("  per clone: private %.2f MiB, Pss %.2f MiB, Rss %.2f MiB\n",
	       sum.private_kb / 1024.0 / b.clones, sum.pss / 1024.0 / b.clones,
	       sum.rss / 1024.0 / b.clones);
	if (b.qemu) {
		int n = b.clones < QEMU_INSTANCES ? b.clones : QEMU_INSTANCES;
		t = density(qemu_restore, n, "snap: count", &qsum);
		printf("%d qemu instances from the migration file: all up in %.0f ms\n", n, t);
		printf("  per instance: private %.2f MiB, Pss %.2f MiB, Rss %.2f MiB\n",
		       qsum.private_kb / 1024.0 / n, qsum.pss / 1024.0 / n, qsum.rss / 1024.0 / n);
	}
	if (b.compositor) {
		char gpu[128];
		path(&b, "gpu", gpu, sizeof(gpu));
		bake(&b, "gpu", GPU_ARGS);
		char sock[64];
		snprintf(sock, sizeof(sock), "bench-snapshot-%d", getpid());
		pid_t comp = bench_start_compositor(b.compositor, b.dir, sock);
		if (comp < 0)
			bench_die("the compositor did not start: %s", b.compositor);
		char *shown[] = {(char *)b.inlay, "restore", gpu, "--display", "wayland", NULL};
		for (int i = 0; i < b.runs; i++)
			inlay_ms[i] = first_frame(shown);
		printf("restore to first frame committed (320x240, headless inlay-compositor), "
		       "%d runs (ms):\n",
		       b.runs);
		print_stats("inlay-vmm", inlay_ms, b.runs, &st);
		bench_stop_compositor(comp);
	}
	cleanup(&b);
	return 0;
}
