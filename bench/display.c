// SPDX-License-Identifier: MIT
/*
 * What the VMM pays to show a guest's frames: a virtio-gpu device driven by
 * a driver in this process (guest RAM as in a VM, no vCPU) and presented by
 * the VMM's own Wayland display on a headless inlay-compositor. For each
 * size and damage pattern the "guest" changes the damaged pixels, then sends
 * TRANSFER_TO_HOST_2D + RESOURCE_FLUSH at a fixed rate (faster than the
 * output's 60 Hz, so flushes must coalesce). Reported per flush: host CPU
 * time of the device and presenter work, bytes copied; per commit: the
 * flush-to-commit latency; and commits per second.
 *
 * With --qemu, inlay-vmm (--vmm) and QEMU first boot the freestanding gpu
 * test guest (--guest) in its bench mode, alternating, with no display: the
 * guest flushes the whole frame or a 64x64 tile once per APIC tick, and each
 * VMM process's CPU time over that loop is divided by the flushes the guest
 * reports. Under software virtualization the guest's own (emulated) kernel
 * code is charged to its VMM process as well, the same for both, so the
 * ratio understates the difference between the VMMs.
 *
 *   bench_display --compositor PATH [--seconds S] [--rate HZ] [--runs N]
 *                 [--vmm PATH --qemu PATH --qemu-bios FILE --guest ELF]
 */
#include "bench_util.h"
#include "display/display.h"
#include "virtio/gpu.h"
#include "vring_driver.h"

#include <dirent.h>
#include <linux/virtio_gpu.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define RAM_SIZE   (64ULL << 20)
#define RINGS	   0x1000ULL
#define REQ	   0x10000ULL
#define RESP	   0x20000ULL
#define FB	   0x1000000ULL
#define SMALL	   64 /* side of the small damaged square */
#define VM_WAIT_MS 60000

struct run {
	const char *name;
	uint32_t width, height;
	bool small;
};

struct bench {
	struct guest_mem mem;
	struct evloop *loop;
	struct virtio_dev *dev;
	struct display *display;
	struct vring_driver drv;
	uint32_t width, height;
	struct virtio_gpu_rect damage;
	int timer;
	unsigned flushes, target;
	uint8_t shade;
	uint64_t cpu_ns, cpu_ns_max;
	uint64_t start_ns, end_ns;
	unsigned warmup; /* flushes before measuring: images get allocated then */
	struct vgpu_stats stats0;
	struct presenter_stats pstats0;
};

static void *gp(struct bench *b, uint64_t gpa)
{
	return b->mem.host + gpa;
}

/* Queue one command with a header-sized response (slot @i of the request area). */
static void queue_cmd(struct bench *b, unsigned i, const void *cmd, uint32_t len)
{
	const struct vring_buf bufs[] = {{REQ + 0x1000ULL * i, len, false},
					 {RESP + 0x1000ULL * i, 64, true}};

	memcpy(gp(b, bufs[0].gpa), cmd, len);
	vring_driver_add(&b->drv, bufs, 2);
}

/* Run the @n commands queued in slots 0..n-1; true when all were answered OK. */
static bool kick(struct bench *b, unsigned n, uint64_t *cpu)
{
	uint64_t t0 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
	uint32_t id, len;
	bool ok = true;

	b->dev->ops->queue_notify(b->dev, 0);
	if (cpu)
		*cpu = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
	for (unsigned i = 0; i < n; i++) {
		struct virtio_gpu_ctrl_hdr *r = gp(b, RESP + 0x1000ULL * i);

		ok &= vring_driver_get_used(&b->drv, &id, &len) &&
		      r->type == VIRTIO_GPU_RESP_OK_NODATA;
		r->type = 0;
	}
	return ok;
}

static struct virtio_gpu_ctrl_hdr hdr(uint32_t type)
{
	return (struct virtio_gpu_ctrl_hdr){.type = type};
}

/* Transfer and flush of the damaged rectangle, in slots @slot and @slot + 1. */
static void queue_frame(struct bench *b, unsigned slot)
{
	struct virtio_gpu_transfer_to_host_2d t = {
	    hdr(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D), b->damage,
	    (uint64_t)b->damage.y * b->width * 4 + b->damage.x * 4, 1, 0};
	struct virtio_gpu_resource_flush f = {hdr(VIRTIO_GPU_CMD_RESOURCE_FLUSH), b->damage, 1, 0};

	queue_cmd(b, slot, &t, sizeof(t));
	queue_cmd(b, slot + 1, &f, sizeof(f));
}

/* The guest's modeset: one resource of the display's size on the scanout. */
static bool modeset(struct bench *b)
{
	struct virtio_gpu_resource_create_2d c = {hdr(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D), 1,
						  VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, b->width,
						  b->height};
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry e;
	} ab = {{hdr(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING), 1, 1},
		{FB, b->width * b->height * 4, 0}};
	struct virtio_gpu_set_scanout s = {
	    hdr(VIRTIO_GPU_CMD_SET_SCANOUT), {0, 0, b->width, b->height}, 0, 1};

	memset(gp(b, FB), 0x40, (size_t)b->width * b->height * 4);
	queue_cmd(b, 0, &c, sizeof(c));
	queue_cmd(b, 1, &ab, sizeof(ab));
	queue_cmd(b, 2, &s, sizeof(s));
	b->damage = (struct virtio_gpu_rect){0, 0, b->width, b->height};
	queue_frame(b, 3);
	return kick(b, 5, NULL);
}

static void handle_tick(void *opaque, uint32_t events)
{
	struct bench *b = opaque;
	uint64_t expirations, cpu;

	if (read(b->timer, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;
	if (b->flushes == b->warmup) {
		b->start_ns = bench_clock_ns(CLOCK_MONOTONIC);
		vgpu_get_stats(vgpu_from_dev(b->dev), &b->stats0);
		display_get_stats(b->display, &b->pstats0);
		b->cpu_ns = b->cpu_ns_max = 0;
	}
	/* The guest draws: new pixels in the damaged rectangle (not timed). */
	b->shade++;
	for (uint32_t y = b->damage.y; y < b->damage.y + b->damage.height; y++)
		memset(gp(b, FB + ((uint64_t)y * b->width + b->damage.x) * 4), b->shade,
		       (size_t)b->damage.width * 4);
	queue_frame(b, 0);
	if (!kick(b, 2, &cpu)) {
		fprintf(stderr, "bench_display: the device refused a command\n");
		evloop_stop(b->loop, 1);
		return;
	}
	b->cpu_ns += cpu;
	if (cpu > b->cpu_ns_max)
		b->cpu_ns_max = cpu;
	if (++b->flushes == b->warmup + b->target) {
		b->end_ns = bench_clock_ns(CLOCK_MONOTONIC);
		evloop_stop(b->loop, 0);
	}
}

static int run_one(const struct run *r, double seconds, unsigned rate)
{
	struct bench b = {.width = r->width, .height = r->height, .timer = -1};
	struct presenter_stats ps;
	struct vgpu_stats vs;
	int ret = 1;

	if (guest_mem_init(&b.mem, RAM_SIZE) || !(b.loop = evloop_create()))
		return 1;
	b.dev = virtio_gpu_create(&b.mem, b.loop, r->width, r->height);
	if (!b.dev)
		goto out;
	vring_driver_init(&b.drv, &b.mem, &b.dev->vq[0], 16, RINGS);
	b.dev->status = VIRTIO_CONFIG_S_DRIVER_OK;
	b.display =
	    display_create(b.loop, "bench_display", vgpu_from_dev(b.dev), NULL, NULL, NULL, NULL);
	if (!b.display)
		goto out;
	if (!modeset(&b)) {
		fprintf(stderr, "bench_display: the device refused the modeset\n");
		goto out;
	}
	b.damage = r->small ? (struct virtio_gpu_rect){r->width / 2, r->height / 2, SMALL, SMALL}
			    : (struct virtio_gpu_rect){0, 0, r->width, r->height};
	b.target = (unsigned)(seconds * rate);
	b.warmup = rate / 2;
	b.timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	long ns = 1000000000L / rate;
	struct itimerspec its = {{ns / 1000000000L, ns % 1000000000L},
				 {ns / 1000000000L, ns % 1000000000L}};
	if (b.timer < 0 || timerfd_settime(b.timer, 0, &its, NULL) ||
	    evloop_add(b.loop, b.timer, EPOLLIN, handle_tick, &b))
		goto out;
	if (evloop_run(b.loop) != 0)
		goto out;
	display_get_stats(b.display, &ps);
	vgpu_get_stats(vgpu_from_dev(b.dev), &vs);
	double secs = (double)(b.end_ns - b.start_ns) / 1e9;
	uint64_t commits = ps.commits - b.pstats0.commits;
	uint64_t latency = ps.latency_ns_total - b.pstats0.latency_ns_total;
	uint64_t copied = vs.bytes_transferred - b.stats0.bytes_transferred;
	uint64_t caught = vs.bytes_caught_up - b.stats0.bytes_caught_up;
	uint64_t area = (uint64_t)b.damage.width * b.damage.height * 4;
	printf("| %s | %ux%u | %.1f | %.1f | %llu | %s | %llu | %.2f | %.2f | %.1f |\n", r->name,
	       b.damage.width, b.damage.height, (double)b.cpu_ns / b.target / 1000.0,
	       (double)b.cpu_ns_max / 1000.0, (unsigned long long)(copied / b.target),
	       copied == area * b.target ? "yes" : "NO", (unsigned long long)(caught / b.target),
	       commits ? (double)latency / commits / 1e6 : 0.0, (double)ps.latency_ns_max / 1e6,
	       (double)commits / secs);
	ret = 0;
out:
	if (b.timer >= 0) {
		evloop_del(b.loop, b.timer);
		close(b.timer);
	}
	display_destroy(b.display);
	if (b.dev)
		b.dev->ops->destroy(b.dev);
	evloop_destroy(b.loop);
	guest_mem_finish(&b.mem);
	return ret;
}

/* CPU time so far of all threads of @pid in ns (their schedstat run time), -1 on error. */
static int64_t proc_cpu_ns(pid_t pid)
{
	char path[64];
	int64_t sum = 0;
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		unsigned long long ns;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/schedstat", (int)pid, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue; /* a thread that just ended */
		if (fscanf(f, "%llu", &ns) == 1)
			sum += (int64_t)ns;
		fclose(f);
	}
	closedir(dir);
	return sum;
}

/* Read @fd into @buf until a whole line holding @needle has arrived; false on EOF or timeout. */
static bool read_line_with(int fd, char *buf, size_t size, const char *needle)
{
	double end = bench_now_ms() + VM_WAIT_MS;
	size_t have = 0;

	buf[0] = '\0';
	while (have < size - 1 && bench_now_ms() < end) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		const char *hit;
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(fd, buf + have, size - 1 - have);
		if (n <= 0)
			return false;
		have += (size_t)n;
		buf[have] = '\0';
		hit = strstr(buf, needle);
		if (hit && strchr(hit, '\n'))
			return true;
	}
	return false;
}

/*
 * Boot the bench-mode guest with @argv and return the VMM's CPU time per
 * flush in us, measured from the guest's "gpu: bench" line to its
 * "flushes N" line (the guest stays up a moment after it); -1 on failure.
 */
static double vm_cpu_per_flush(char *const *argv)
{
	char buf[4096];
	int64_t c0 = -1, c1 = -1;
	unsigned flushes = 0;
	int fd;
	pid_t pid = bench_spawn(argv, &fd, false);

	if (bench_wait_for(fd, "gpu: bench", VM_WAIT_MS))
		c0 = proc_cpu_ns(pid);
	if (c0 >= 0 && read_line_with(fd, buf, sizeof(buf), "flushes ")) {
		c1 = proc_cpu_ns(pid);
		sscanf(strstr(buf, "flushes "), "flushes %u", &flushes);
	}
	bench_stop(pid, fd);
	if (c1 < c0 || !flushes) {
		fprintf(stderr, "bench_display: %s: the guest did not finish its flushes\n",
			argv[0]);
		return -1;
	}
	return (double)(c1 - c0) / flushes / 1000.0;
}

struct vm_cmd {
	const char *vmm, *qemu, *bios, *guest;
	double seconds;
	int rate;
};

/* One row: @runs alternating boots of each VMM at @r's size and damage. */
static int compare_one(const struct vm_cmd *c, const struct run *r, int runs)
{
	char size[32], dev[96], append[64];
	double inlay[runs], qemu[runs];
	struct bench_stats si, sq;

	snprintf(size, sizeof(size), "%ux%u", r->width, r->height);
	snprintf(dev, sizeof(dev), "virtio-gpu-pci,xres=%u,yres=%u,disable-legacy=on", r->width,
		 r->height);
	snprintf(append, sizeof(append), "bench=%s hz=%d secs=%.0f", r->small ? "small" : "full",
		 c->rate, c->seconds < 1 ? 1 : c->seconds);
	char *const inlay_argv[] = {(char *)c->vmm, "boot", "--kernel",	 (char *)c->guest,
				    "--gpu",	    size,   "--display", "none",
				    "--cmdline",    append, NULL};
	char *const qemu_argv[] = {(char *)c->qemu,
				   "-M",
				   "q35",
				   "-enable-kvm",
				   "-cpu",
				   "host,arch-capabilities=off,-cx16,-xsave",
				   "-bios",
				   (char *)c->bios,
				   "-m",
				   "64",
				   "-nodefaults",
				   "-display",
				   "none",
				   "-device",
				   dev,
				   "-device",
				   "isa-debug-exit,iobase=0x501,iosize=1",
				   "-serial",
				   "stdio",
				   "-kernel",
				   (char *)c->guest,
				   "-append",
				   append,
				   NULL};

	for (int i = 0; i < runs; i++) {
		inlay[i] = vm_cpu_per_flush(inlay_argv);
		qemu[i] = vm_cpu_per_flush(qemu_argv);
		if (inlay[i] < 0 || qemu[i] < 0)
			return 1;
	}
	bench_summarize(inlay, runs, &si);
	bench_summarize(qemu, runs, &sq);
	printf("| %s | %.0f (%.0f–%.0f) | %.0f (%.0f–%.0f) | %.2f |\n", r->name, si.median, si.min,
	       si.max, sq.median, sq.min, sq.max, sq.median / si.median);
	fflush(stdout);
	return 0;
}

static int compare(const struct vm_cmd *c, const struct run *runs, size_t n, int reps)
{
	printf("Same guest (guest_gpu.elf bench mode) on inlay-vmm --display none and on QEMU "
	       "-display none, %d alternating runs each; a transfer + flush every %d ms for %.0f "
	       "s.\nVMM process CPU us per flush, median (min–max). The guest's emulated kernel "
	       "code is charged to both processes alike, so the ratio understates the VMM "
	       "difference.\n\n",
	       reps, 1000 / c->rate, c->seconds);
	printf("| run | inlay-vmm | QEMU | QEMU/Inlay |\n| --- | --- | --- | --- |\n");
	for (size_t i = 0; i < n; i++)
		if (compare_one(c, &runs[i], reps))
			return 1;
	printf("\n");
	return 0;
}

static const char usage[] =
    "usage: bench_display --compositor PATH [--seconds S] [--rate HZ] [--runs N]\n"
    "                     [--vmm PATH --qemu PATH --qemu-bios FILE --guest ELF]\n";

int main(int argc, char **argv)
{
	static const struct run runs[] = {
	    {"1280x720 full", 1280, 720, false},
	    {"1280x720 small", 1280, 720, true},
	    {"1920x1080 full", 1920, 1080, false},
	    {"1920x1080 small", 1920, 1080, true},
	};
	const char *compositor = NULL;
	struct vm_cmd vm = {0};
	double seconds = 3;
	int rate = 120, reps = 5, ret = 0;
	char dir[64];
	const struct bench_opt opts[] = {
	    {"compositor", .str = &compositor},
	    {"seconds", .real = &seconds},
	    {"rate", .num = &rate},
	    {"runs", .num = &reps},
	    {"vmm", .str = &vm.vmm},
	    {"qemu", .str = &vm.qemu},
	    {"qemu-bios", .str = &vm.bios},
	    {"guest", .str = &vm.guest},
	    {0},
	};

	bench_parse_opts(argc, argv, opts, usage);
	if (!compositor || seconds <= 0 || rate < 1 || rate > 1000 || reps < 1 || reps > 100 ||
	    (vm.qemu && (!vm.bios || !vm.guest || !vm.vmm))) {
		fputs(usage, stderr);
		return 2;
	}
	char sock[64];
	pid_t pid = -1;

	vm.seconds = seconds;
	vm.rate = rate;
	if (vm.qemu && compare(&vm, runs, sizeof(runs) / sizeof(runs[0]), reps))
		return 1;

	snprintf(dir, sizeof(dir), "/tmp/inlay-bench-XXXXXX");
	snprintf(sock, sizeof(sock), "bench-display-%d", getpid());
	if (mkdtemp(dir))
		pid = bench_start_compositor(compositor, dir, sock);
	if (pid < 0) {
		fprintf(stderr, "bench_display: %s did not start\n", compositor);
		return 1;
	}
	printf(
	    "guest flushes at %d Hz for %.0f s each; headless inlay-compositor, pixman, 60 Hz\n\n",
	    rate, seconds);
	printf("| run | damage | CPU us/flush | max us | bytes copied/flush | = damage once | "
	       "catch-up bytes/flush | flush->commit ms | max ms | commits/s |\n");
	printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]) && !ret; i++)
		ret = run_one(&runs[i], seconds, rate);
	bench_stop_compositor(pid);
	rmdir(dir);
	return ret;
}
