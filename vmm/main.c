// SPDX-License-Identifier: MIT
#include "boot.h"
#include "cmdline.h"
#include "cpuid.h"
#include "layout.h"
#include "legacy.h"
#include "pci.h"
#include "term.h"
#include "uart.h"
#include "vcpu.h"
#include "vm.h"
#include "virtio/virtio.h"
#include "virtio/virtio_pci.h"
#include "display/display.h"
#include "virtio/gpu.h"
#include "virtio/input.h"
#include "snapshot/snap_port.h"
#include "snapshot/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define VMM_MAX_CMDLINE 4096
/* virtio-console + disks + rng + gpu, keyboard, tablet */
#define VMM_MAX_VIRTIO (VMM_MAX_DISKS + 5)

struct mapped_file {
	const uint8_t *data;
	size_t len;
};

/* Everything one running VM owns, torn down in reverse by vmm_teardown(). */
struct vmm {
	struct vm vm;
	bool vm_up;
	struct uart uart;
	bool uart_up;
	struct term_input term;
	struct i8042 *i8042;
	struct debug_exit *debug_exit;
	struct pci_bus pci;
	bool pci_up;
	struct virtio_dev *vdev[VMM_MAX_VIRTIO];
	struct virtio_pci *vpci[VMM_MAX_VIRTIO];
	unsigned nr_virtio;
	int sigfd;
	struct mapped_file kernel, initrd;
	struct display_config display_cfg;
	struct virtio_dev *gpu, *keyboard, *tablet;
	struct display *display;
	struct vmm_config cfg; /* as built: the CPU template resolved */
	struct snap_port *snap_port;
	uint64_t generation; /* clone generation: 0 booted, one more per restore */
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void vmm_machine(struct vmm *v, struct snap_machine *m)
{
	bool gpu = display_config_has_gpu(&v->display_cfg);
	*m = (struct snap_machine){
	    .vm = &v->vm,
	    .uart = v->uart_up ? &v->uart : NULL,
	    .i8042 = v->i8042,
	    .pci = &v->pci,
	    .nr_virtio = v->nr_virtio,
	    .vpci = v->vpci,
	    .vdev = v->vdev,
	    .cfg = &v->cfg,
	    .gpu_width = gpu ? v->display_cfg.width : 0,
	    .gpu_height = gpu ? v->display_cfg.height : 0,
	    .input = gpu && v->display_cfg.input,
	    .generation = v->generation,
	};
}

/* Event-loop thread: pause every vCPU, save, leave them paused. */
static int vmm_snapshot(struct vmm *v, const char *dir)
{
	struct snap_machine m;
	char err[512];
	double t0 = now_ms();
	if (vm_pause(&v->vm) < 0)
		return -1;
	vmm_machine(v, &m);
	if (snap_save(&m, dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "inlay-vmm: snapshot: %s\n", err);
		return -1;
	}
	fprintf(stderr, "inlay-vmm: snapshot saved to %s in %.1f ms\n", dir, now_ms() - t0);
	return 0;
}

/* The guest wrote 1 to the snapshot port: under `bake`, its app is up. */
static void snapshot_ready(void *opaque)
{
	struct vmm *v = opaque;
	if (v->cfg.command != VMM_CMD_BAKE || atomic_load(&v->vm.exiting))
		return;
	fprintf(stderr, "inlay-vmm: guest is ready; saving the snapshot\n");
	int ret = vmm_snapshot(v, v->cfg.snap_dir);
	vm_request_exit(&v->vm, ret < 0 ? VM_EXIT_VMM_ERROR : VM_EXIT_POWEROFF);
}

static void snapshot_on_signal(struct vmm *v)
{
	if (!v->cfg.snapshot_dir) {
		fprintf(stderr, "inlay-vmm: SIGUSR2 ignored: no --snapshot-dir\n");
		return;
	}
	vmm_snapshot(v, v->cfg.snapshot_dir);
	vm_resume(&v->vm);
}

static int map_file(const char *what, const char *path, struct mapped_file *f)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "inlay-vmm: %s %s: %s\n", what, path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		fprintf(stderr, "inlay-vmm: %s %s: not a non-empty regular file\n", what, path);
		close(fd);
		return -1;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "inlay-vmm: %s %s: %s\n", what, path, strerror(errno));
		return -1;
	}
	f->data = p;
	f->len = (size_t)st.st_size;
	return 0;
}

static void unmap_file(struct mapped_file *f)
{
	if (f->data)
		munmap((void *)f->data, f->len);
	f->data = NULL;
}

static void uart_set_irq(void *opaque, int level)
{
	struct vmm *v = opaque;
	vm_irq_line(&v->vm, LAYOUT_IRQ_COM1, level);
}

static void uart_rx_ready(void *opaque)
{
	struct vmm *v = opaque;
	term_input_resume(&v->term);
}

static void handle_signal(void *opaque, uint32_t events)
{
	struct vmm *v = opaque;
	struct signalfd_siginfo si;
	if (read(v->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGUSR2)
		snapshot_on_signal(v);
	else
		vm_request_exit(&v->vm, VM_EXIT_INTERRUPTED);
}

static int setup_signals(struct vmm *v)
{
	signal(SIGPIPE, SIG_IGN);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -1;
	v->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (v->sigfd < 0)
		return -1;
	return evloop_add(v->vm.loop, v->sigfd, EPOLLIN, handle_signal, v);
}

static int add_virtio(struct vmm *v, struct virtio_dev *d)
{
	if (!d)
		return -1;
	struct virtio_pci *vp = virtio_pci_create(&v->vm, &v->pci, d);
	if (!vp) {
		d->ops->destroy(d);
		return -1;
	}
	v->vdev[v->nr_virtio] = d;
	v->vpci[v->nr_virtio] = vp;
	v->nr_virtio++;
	return 0;
}

static void display_closed(void *opaque)
{
	struct vmm *v = opaque;
	vm_request_exit(&v->vm, VM_EXIT_INTERRUPTED);
}

/* virtio-gpu with keyboard and tablet, and the window (titled after the kernel) showing them. */
static int setup_display_devices(struct vmm *v, const struct vmm_config *cfg)
{
	struct vm *vm = &v->vm;
	const struct display_config *dc = &v->display_cfg;
	if (!display_config_has_gpu(dc))
		return 0;
	v->gpu = virtio_gpu_create(&vm->mem, vm->loop, dc->width, dc->height);
	if (add_virtio(v, v->gpu))
		return -1;
	if (dc->input) {
		v->keyboard = virtio_input_create_keyboard(&vm->mem, vm->loop);
		if (add_virtio(v, v->keyboard))
			return -1;
		v->tablet = virtio_input_create_tablet(&vm->mem, vm->loop, dc->width, dc->height);
		if (add_virtio(v, v->tablet))
			return -1;
	}
	if (dc->kind == DISPLAY_WAYLAND) {
		const char *name = strrchr(cfg->kernel, '/');
		char title[256];
		snprintf(title, sizeof(title), "inlay-vmm: %s", name ? name + 1 : cfg->kernel);
		v->display =
		    dc->grant_token[0]
			? display_create_granted(vm->loop, dc->grant_token, vgpu_from_dev(v->gpu),
						 v->keyboard, v->tablet, display_closed, v)
			: display_create(vm->loop, title, vgpu_from_dev(v->gpu), v->keyboard,
					 v->tablet, display_closed, v);
	}
	return 0;
}

static int setup_devices(struct vmm *v, const struct vmm_config *cfg)
{
	struct vm *vm = &v->vm;
	if (cfg->serial) {
		uart_init(&v->uart, STDOUT_FILENO, uart_set_irq, uart_rx_ready, v);
		v->uart_up = true;
		if (bus_register(&vm->pio, LAYOUT_PORT_COM1, 8, uart_io, &v->uart) < 0 ||
		    term_input_init(&v->term, vm, &v->uart, STDIN_FILENO) < 0) {
			fprintf(stderr, "inlay-vmm: cannot set up the serial port\n");
			return -1;
		}
	}
	v->i8042 = i8042_create(vm);
	v->debug_exit = debug_exit_create(vm);
	if (!v->i8042 || !v->debug_exit) {
		fprintf(stderr, "inlay-vmm: cannot set up legacy devices\n");
		return -1;
	}
	if (pci_bus_init(&v->pci, &vm->pio, &vm->mmio) < 0) {
		fprintf(stderr, "inlay-vmm: cannot set up the PCI bus\n");
		return -1;
	}
	v->pci_up = true;
	if (cfg->console == VMM_CONSOLE_STDIO &&
	    add_virtio(v, virtio_console_create(&vm->mem, vm->loop, STDIN_FILENO, STDOUT_FILENO)))
		return -1;
	if (cfg->console == VMM_CONSOLE_SOCKET &&
	    add_virtio(v, virtio_console_create_listener(&vm->mem, vm->loop, cfg->console_path)))
		return -1;
	for (unsigned i = 0; i < cfg->nr_disks; i++)
		if (add_virtio(v, virtio_blk_create(&vm->mem, vm->loop, cfg->disks[i].path,
						    cfg->disks[i].read_only)))
			return -1;
	if (cfg->rng && add_virtio(v, virtio_rng_create(&vm->mem, vm->loop)))
		return -1;
	return setup_display_devices(v, cfg);
}

static int load_kernel(struct vmm *v, const struct vmm_config *cfg, enum cpu_template tmpl,
		       struct boot_entry *entry)
{
	if (map_file("kernel", cfg->kernel, &v->kernel) < 0)
		return -1;
	if (cfg->initrd && map_file("initrd", cfg->initrd, &v->initrd) < 0)
		return -1;
	char cmdline[VMM_MAX_CMDLINE];
	const char *extra = cpu_template_cmdline(tmpl);
	int n = snprintf(cmdline, sizeof(cmdline), "%s%s%s", cfg->cmdline ? cfg->cmdline : "",
			 cfg->cmdline && *extra ? " " : "", extra);
	if (n < 0 || (size_t)n >= sizeof(cmdline)) {
		fprintf(stderr, "inlay-vmm: kernel command line longer than %d bytes\n",
			VMM_MAX_CMDLINE - 1);
		return -1;
	}
	struct boot_images img = {
	    .kernel = v->kernel.data,
	    .kernel_len = v->kernel.len,
	    .initrd = v->initrd.data,
	    .initrd_len = v->initrd.len,
	    .cmdline = cmdline,
	    .nr_cpus = cfg->cpus,
	};
	char err[256];
	if (boot_load(&v->vm.mem, &img, entry, err, sizeof(err)) < 0) {
		fprintf(stderr, "inlay-vmm: %s: %s\n", cfg->kernel, err);
		return -1;
	}
	return 0;
}

/* @entry NULL: the vCPUs get their state from a snapshot instead. */
static int create_vcpus(struct vmm *v, unsigned n, enum cpu_template tmpl,
			const struct boot_entry *entry)
{
	struct vm *vm = &v->vm;
	vm->vcpus = calloc(n, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return -1;
	vm->nr_vcpus = n;
	for (unsigned i = 0; i < n; i++) {
		vm->vcpus[i] = vcpu_create(vm, i, tmpl);
		if (!vm->vcpus[i])
			return -1;
	}
	int ret = entry ? vcpu_set_boot_state(vm->vcpus[0], entry) : 0;
	if (ret < 0) {
		fprintf(stderr, "inlay-vmm: boot vCPU state: %s\n", strerror(-ret));
		return -1;
	}
	return 0;
}

static void vmm_teardown(struct vmm *v)
{
	struct vm *vm = &v->vm;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_join(vm->vcpus[i]);
	term_input_finish(&v->term);
	snap_port_destroy(v->snap_port);
	display_destroy(v->display);
	for (unsigned i = v->nr_virtio; i-- > 0;) {
		virtio_pci_destroy(v->vpci[i]);
		v->vdev[i]->ops->destroy(v->vdev[i]);
	}
	if (v->pci_up)
		pci_bus_finish(&v->pci, &vm->pio);
	debug_exit_destroy(v->debug_exit);
	i8042_destroy(v->i8042);
	if (v->uart_up)
		uart_finish(&v->uart);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_destroy(vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->nr_vcpus = 0;
	if (v->sigfd >= 0)
		close(v->sigfd);
	if (v->vm_up)
		vm_finish(vm);
	unmap_file(&v->kernel);
	unmap_file(&v->initrd);
}

/* Put the restored machine state in place of a boot. */
static int vmm_restore_state(struct vmm *v, const struct snap_image *img)
{
	struct snap_machine m;
	char err[512];
	vmm_machine(v, &m);
	if (snap_restore(img, &m, err, sizeof(err)) < 0) {
		fprintf(stderr, "inlay-vmm: restore: %s\n", err);
		return -1;
	}
	return 0;
}

/* Boot @cfg, or with @img rebuild @cfg's machine and resume the snapshot. */
static int vmm_run(const struct vmm_config *cfg, const struct display_config *dcfg,
		   const struct snap_image *img)
{
	double t0 = now_ms();
	enum cpu_template tmpl = cfg->tmpl;
	if (!cfg->template_set) {
		tmpl = cpuid_host_has_hw_virt() ? CPU_TEMPLATE_HOST : CPU_TEMPLATE_BASELINE;
		if (tmpl == CPU_TEMPLATE_BASELINE)
			fprintf(stderr, "inlay-vmm: no hardware virtualization on this host; "
					"using the baseline CPU template\n");
	}
	struct vmm *v = calloc(1, sizeof(*v));
	if (!v) {
		fprintf(stderr, "inlay-vmm: out of memory\n");
		return VM_EXIT_VMM_ERROR;
	}
	v->sigfd = -1;
	v->display_cfg = *dcfg;
	v->cfg = *cfg;
	v->cfg.tmpl = tmpl;
	v->cfg.template_set = true;
	v->generation = img ? snap_image_generation(img) + 1 : 0;
	int status = VM_EXIT_VMM_ERROR;
	if (vcpu_signals_init() < 0)
		goto out;
	if (img) {
		int fd = dup(snap_image_memory_fd(img));
		if (fd < 0 || vm_init_from_file(&v->vm, snap_image_memory_size(img), fd) < 0)
			goto out;
	} else if (vm_init(&v->vm, cfg->mem_mib << 20) < 0) {
		goto out;
	}
	v->vm_up = true;
	struct boot_entry entry;
	if (setup_signals(v) < 0) {
		fprintf(stderr, "inlay-vmm: signal setup: %s\n", strerror(errno));
		goto out;
	}
	v->snap_port = snap_port_create(&v->vm, (uint32_t)v->generation, snapshot_ready, v);
	if (!v->snap_port) {
		fprintf(stderr, "inlay-vmm: cannot set up the snapshot port\n");
		goto out;
	}
	if (setup_devices(v, cfg) < 0)
		goto out;
	if (img ? create_vcpus(v, cfg->cpus, tmpl, NULL) < 0 || vmm_restore_state(v, img) < 0
		: load_kernel(v, cfg, tmpl, &entry) < 0 ||
		      create_vcpus(v, cfg->cpus, tmpl, &entry) < 0)
		goto out;
	if (img)
		fprintf(stderr, "inlay-vmm: restored (clone generation %llu) in %.1f ms\n",
			(unsigned long long)v->generation, now_ms() - t0);
	for (unsigned i = 0; i < v->vm.nr_vcpus; i++) {
		int ret = vcpu_start(v->vm.vcpus[i]);
		if (ret < 0) {
			fprintf(stderr, "inlay-vmm: vCPU thread: %s\n", strerror(-ret));
			vm_request_exit(&v->vm, VM_EXIT_VMM_ERROR);
			break;
		}
	}
	status = evloop_run(v->vm.loop);
	if (status < 0) {
		fprintf(stderr, "inlay-vmm: event loop: %s\n", strerror(-status));
		status = VM_EXIT_VMM_ERROR;
	}
	vm_request_exit(&v->vm, (enum vm_exit_status)status);
out:
	vmm_teardown(v);
	free(v);
	return status;
}

/* `restore DIR`: the machine comes from the snapshot, the display from the command line. */
static int vmm_restore(const struct vmm_config *cli)
{
	struct snap_image *img;
	char err[512];
	if (snap_open(cli->snap_dir, &img, err, sizeof(err)) < 0) {
		fprintf(stderr, "inlay-vmm: restore: %s\n", err);
		return VM_EXIT_VMM_ERROR;
	}
	struct vmm_config cfg = *snap_image_config(img);
	uint32_t width, height;
	bool input;
	char gpu[32];
	snap_image_display(img, &width, &height, &input);
	cfg.command = VMM_CMD_RESTORE;
	cfg.snap_dir = cli->snap_dir;
	cfg.snapshot_dir = cli->snapshot_dir;
	cfg.display = cli->display;
	cfg.grant = cli->grant;
	cfg.gpu = NULL;
	int status = VM_EXIT_USAGE;
	if (width) {
		snprintf(gpu, sizeof(gpu), "%ux%u", width, height);
		cfg.gpu = gpu;
	} else if ((cli->display && strcmp(cli->display, "none")) || cli->grant) {
		fprintf(stderr, "inlay-vmm: %s was baked without a display\n", cli->snap_dir);
		goto out;
	} else {
		cfg.display = "none";
	}
	struct display_config dcfg;
	if (display_config_parse(&dcfg, cfg.display, cfg.gpu, !input, cfg.grant, err, sizeof(err)) <
	    0) {
		fprintf(stderr, "inlay-vmm: %s\nTry 'inlay-vmm --help'.\n", err);
		goto out;
	}
	status = vmm_run(&cfg, &dcfg, img);
out:
	snap_close(img);
	return status;
}

int main(int argc, char **argv)
{
	struct vmm_config cfg;
	char err[256];
	switch (vmm_config_parse(&cfg, argc, argv, err, sizeof(err))) {
	case VMM_PARSE_HELP:
		fputs(vmm_usage, stdout);
		return 0;
	case VMM_PARSE_VERSION:
		puts("inlay-vmm " INLAY_VERSION);
		return 0;
	case VMM_PARSE_ERROR:
		fprintf(stderr, "inlay-vmm: %s\nTry 'inlay-vmm --help'.\n", err);
		return VM_EXIT_USAGE;
	case VMM_PARSE_OK:
		break;
	}
	if (cfg.command == VMM_CMD_RESTORE)
		return vmm_restore(&cfg);
	if (cfg.command == VMM_CMD_SNAPSHOT_INFO) {
		char why[512];
		if (snap_info(cfg.snap_dir, stdout, why, sizeof(why)) < 0) {
			fprintf(stderr, "inlay-vmm: snapshot-info: %s\n", why);
			return VM_EXIT_VMM_ERROR;
		}
		return 0;
	}
	struct display_config dcfg;
	if (display_config_parse(&dcfg, cfg.display, cfg.gpu, cfg.no_input, cfg.grant, err,
				 sizeof(err)) < 0) {
		fprintf(stderr, "inlay-vmm: %s\nTry 'inlay-vmm --help'.\n", err);
		return VM_EXIT_USAGE;
	}
	return vmm_run(&cfg, &dcfg, NULL);
}
