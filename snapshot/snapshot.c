// SPDX-License-Identifier: MIT
#include "snapshot.h"
#include "snap_format.h"
#include "snap_kvm.h"
#include "snap_mem.h"
#include "vmm/layout.h"
#include "vmm/legacy.h"
#include "vmm/pci.h"
#include "vmm/uart.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"
#include "virtio/virtio_pci.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define SNAP_PATH_MAX 4096
/* virtio-console, the disks, rng, gpu, keyboard and tablet */
#define SNAP_MAX_VIRTIO (VMM_MAX_DISKS + 5)

/* The machine description, with the strings it points to. */
struct snap_image {
	char dir[SNAP_PATH_MAX];
	uint8_t *state;
	size_t state_len;
	struct snap_reader reader;
	int mem_fd;
	uint64_t mem_size, mem_data;
	uint64_t saved_ns, generation;
	char host[256], version[64];
	struct vmm_config cfg;
	char kernel[SNAP_MAX_STRING], initrd[SNAP_MAX_STRING], cmdline[SNAP_MAX_STRING];
	char console_path[SNAP_MAX_STRING];
	char disks[VMM_MAX_DISKS][SNAP_MAX_STRING];
	uint32_t gpu_width, gpu_height;
	bool input;
	uint32_t nr_virtio;
	uint16_t virtio_ids[SNAP_MAX_VIRTIO];
};

static uint64_t snap_realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- writing ---- */

static void snap_put_meta(struct snap_writer *w, const struct snap_machine *m)
{
	struct utsname u;
	char host[256] = "";
	if (uname(&u) == 0)
		snprintf(host, sizeof(host), "%s %s %s", u.sysname, u.release, u.machine);
	snap_writer_begin_section(w, SNAP_SEC_META, 0);
	snap_put_u64(w, snap_realtime_ns());
	snap_put_u64(w, m->generation);
	snap_put_str(w, host);
	snap_put_str(w, INLAY_VERSION);
	snap_writer_end_section(w);
}

/* Absolute, so that a restore from another directory finds the file. */
static void snap_put_path(struct snap_writer *w, const char *path)
{
	char *abs = path ? realpath(path, NULL) : NULL;
	snap_put_str(w, abs ? abs : path);
	free(abs);
}

static void snap_put_config(struct snap_writer *w, const struct snap_machine *m)
{
	const struct vmm_config *c = m->cfg;
	snap_writer_begin_section(w, SNAP_SEC_CONFIG, 0);
	snap_put_u64(w, c->mem_mib);
	snap_put_u32(w, c->cpus);
	snap_put_u8(w, (uint8_t)c->tmpl);
	snap_put_path(w, c->kernel);
	snap_put_path(w, c->initrd);
	snap_put_str(w, c->cmdline);
	snap_put_u32(w, c->nr_disks);
	for (unsigned i = 0; i < c->nr_disks; i++) {
		snap_put_path(w, c->disks[i].path);
		snap_put_u8(w, c->disks[i].read_only);
	}
	snap_put_u8(w, (uint8_t)c->console);
	snap_put_str(w, c->console_path);
	snap_put_u8(w, c->serial);
	snap_put_u8(w, c->rng);
	snap_put_u32(w, m->gpu_width);
	snap_put_u32(w, m->gpu_height);
	snap_put_u8(w, m->input);
	snap_put_u32(w, m->nr_virtio);
	for (unsigned i = 0; i < m->nr_virtio; i++)
		snap_put_u16(w, m->vdev[i]->ops->device_id);
	snap_writer_end_section(w);
}

static int snap_put_machine(struct snap_writer *w, const struct snap_machine *m, char *err,
			    size_t errlen)
{
	struct vm *vm = m->vm;
	snap_put_meta(w, m);
	snap_put_config(w, m);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		snap_writer_begin_section(w, SNAP_SEC_VCPU, i);
		int ret = snap_vcpu_save(vm->vcpus[i], w, err, errlen);
		snap_writer_end_section(w);
		if (ret < 0)
			return ret;
	}
	int ret = snap_vm_save(vm, w, err, errlen);
	if (ret < 0)
		return ret;
	if (m->uart) {
		snap_writer_begin_section(w, SNAP_SEC_UART, 0);
		uart_save(m->uart, w);
		snap_writer_end_section(w);
	}
	snap_writer_begin_section(w, SNAP_SEC_I8042, 0);
	i8042_save(m->i8042, w);
	snap_writer_end_section(w);
	snap_writer_begin_section(w, SNAP_SEC_PCI_BUS, 0);
	pci_bus_save(m->pci, w);
	snap_writer_end_section(w);
	for (unsigned i = 0; i < m->nr_virtio; i++) {
		snap_writer_begin_section(w, SNAP_SEC_VIRTIO_PCI, i);
		virtio_pci_save(m->vpci[i], w);
		snap_writer_end_section(w);
		snap_writer_begin_section(w, SNAP_SEC_VIRTIO_DEV, i);
		virtio_dev_save(m->vdev[i], w);
		snap_writer_end_section(w);
	}
	return 0;
}

/* Fill @dir/@name through @fill on a temporary file and a rename, so it is whole or absent. */
static int snap_write_atomic(int dirfd, const char *name, int (*fill)(int fd, const void *arg),
			     const void *arg)
{
	char tmp[64];
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	int ret = fill(fd, arg);
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && renameat(dirfd, tmp, dirfd, name) < 0)
		ret = -errno;
	if (ret)
		unlinkat(dirfd, tmp, 0);
	return ret;
}

struct snap_blob {
	const uint8_t *data;
	size_t len;
};

static int snap_fill_blob(int fd, const void *arg)
{
	const struct snap_blob *b = arg;
	for (size_t done = 0; done < b->len;) {
		ssize_t n = write(fd, b->data + done, b->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

struct snap_mem_fill {
	const struct guest_mem *mem;
	uint64_t *data;
};

static int snap_fill_memory(int fd, const void *arg)
{
	const struct snap_mem_fill *f = arg;
	return snap_mem_write(f->mem, fd, f->data);
}

int snap_save(const struct snap_machine *m, const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	struct snap_writer w;
	snap_writer_init(&w);
	uint64_t data = 0;
	/* Memory first: a state file only ever describes a complete memory file. */
	int ret = snap_write_atomic(dirfd, SNAP_MEMORY_FILE, snap_fill_memory,
				    &(struct snap_mem_fill){&m->vm->mem, &data});
	if (ret < 0) {
		snprintf(err, errlen, "%s/%s: %s", dir, SNAP_MEMORY_FILE, strerror(-ret));
		goto out;
	}
	ret = snap_put_machine(&w, m, err, errlen);
	if (ret < 0)
		goto out;
	snap_writer_begin_section(&w, SNAP_SEC_MEMORY, 0);
	snap_put_u64(&w, m->vm->mem.size);
	snap_put_u64(&w, data);
	snap_writer_end_section(&w);
	struct snap_blob state;
	ret = snap_writer_seal(&w, &state.data, &state.len);
	if (ret == 0)
		ret = snap_write_atomic(dirfd, SNAP_STATE_FILE, snap_fill_blob, &state);
	if (ret < 0)
		snprintf(err, errlen, "%s/%s: %s", dir, SNAP_STATE_FILE, strerror(-ret));
out:
	snap_writer_finish(&w);
	close(dirfd);
	return ret;
}

/* ---- reading ---- */

static int snap_read_state(struct snap_image *img, int dirfd, char *err, size_t errlen)
{
	int fd = openat(dirfd, SNAP_STATE_FILE, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s", strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > SNAP_MAX_STATE) {
		close(fd);
		snprintf(err, errlen, "not a regular file of at most %llu MiB",
			 SNAP_MAX_STATE >> 20);
		return -EINVAL;
	}
	img->state_len = (size_t)st.st_size;
	img->state = malloc(img->state_len ? img->state_len : 1);
	size_t done = 0;
	while (img->state && done < img->state_len) {
		ssize_t n = read(fd, img->state + done, img->state_len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	if (!img->state || done != img->state_len) {
		snprintf(err, errlen, "cannot read it");
		return -EIO;
	}
	return snap_reader_parse(&img->reader, img->state, img->state_len, err, errlen);
}

static bool snap_get_meta(struct snap_image *img)
{
	struct snap_section s;
	bool present;
	if (!snap_reader_find(&img->reader, SNAP_SEC_META, 0, &s))
		return false;
	snap_get_u64(&s, &img->saved_ns);
	snap_get_u64(&s, &img->generation);
	snap_get_str(&s, img->host, sizeof(img->host), &present);
	snap_get_str(&s, img->version, sizeof(img->version), &present);
	return snap_section_done(&s);
}

/* A string field into @buf; *@out points to it or is NULL when it was absent. */
static bool snap_get_opt_str(struct snap_section *s, char *buf, const char **out)
{
	bool present = false;
	if (!snap_get_str(s, buf, SNAP_MAX_STRING, &present))
		return false;
	*out = present ? buf : NULL;
	return true;
}

/* The machine description, checked the way the command line is. */
static bool snap_get_config(struct snap_image *img)
{
	struct vmm_config *c = &img->cfg;
	struct snap_section s;
	uint8_t tmpl = 0, console = 0, serial = 0, rng = 0, input = 0;
	uint32_t cpus = 0, nr_disks = 0;
	if (!snap_reader_find(&img->reader, SNAP_SEC_CONFIG, 0, &s))
		return false;
	*c = (struct vmm_config){0};
	snap_get_u64(&s, &c->mem_mib);
	snap_get_u32(&s, &cpus);
	snap_get_u8(&s, &tmpl);
	snap_get_opt_str(&s, img->kernel, &c->kernel);
	snap_get_opt_str(&s, img->initrd, &c->initrd);
	snap_get_opt_str(&s, img->cmdline, &c->cmdline);
	snap_get_u32(&s, &nr_disks);
	if (nr_disks > VMM_MAX_DISKS)
		return snap_fail(&s);
	for (unsigned i = 0; i < nr_disks; i++) {
		uint8_t ro = 0;
		snap_get_opt_str(&s, img->disks[i], &c->disks[i].path);
		snap_get_u8(&s, &ro);
		if (ro > 1 || !c->disks[i].path)
			return snap_fail(&s);
		c->disks[i].read_only = ro;
	}
	snap_get_u8(&s, &console);
	snap_get_opt_str(&s, img->console_path, &c->console_path);
	snap_get_u8(&s, &serial);
	snap_get_u8(&s, &rng);
	snap_get_u32(&s, &img->gpu_width);
	snap_get_u32(&s, &img->gpu_height);
	snap_get_u8(&s, &input);
	snap_get_u32(&s, &img->nr_virtio);
	if (s.failed || img->nr_virtio > SNAP_MAX_VIRTIO)
		return snap_fail(&s);
	for (unsigned i = 0; i < img->nr_virtio; i++)
		snap_get_u16(&s, &img->virtio_ids[i]);
	if (!snap_section_done(&s) || c->mem_mib < 2 || c->mem_mib > VMM_MAX_MEM_MIB ||
	    c->mem_mib % 2 || cpus < 1 || cpus > LAYOUT_MAX_CPUS || tmpl > CPU_TEMPLATE_BASELINE ||
	    console > VMM_CONSOLE_SOCKET || (console == VMM_CONSOLE_SOCKET) != !!c->console_path ||
	    serial > 1 || rng > 1 || input > 1 || !c->kernel)
		return false;
	bool gpu = img->gpu_width || img->gpu_height;
	if (gpu && (img->gpu_width < 16 || img->gpu_width > 4095 || img->gpu_height < 16 ||
		    img->gpu_height > 4095))
		return false;
	c->cpus = cpus;
	c->tmpl = (enum cpu_template)tmpl;
	c->template_set = true;
	c->nr_disks = nr_disks;
	c->console = (enum vmm_console)console;
	c->serial = serial;
	c->rng = rng;
	img->input = input;
	c->no_input = !input;
	return true;
}

static int snap_check_memory(struct snap_image *img, int dirfd, char *err, size_t errlen)
{
	struct snap_section s;
	if (!snap_reader_find(&img->reader, SNAP_SEC_MEMORY, 0, &s) ||
	    !snap_get_u64(&s, &img->mem_size) || !snap_get_u64(&s, &img->mem_data) ||
	    !snap_section_done(&s) || img->mem_size != img->cfg.mem_mib << 20 ||
	    img->mem_data > img->mem_size) {
		snprintf(err, errlen, "%s: memory section missing or inconsistent",
			 SNAP_STATE_FILE);
		return -EINVAL;
	}
	img->mem_fd = openat(dirfd, SNAP_MEMORY_FILE, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (img->mem_fd < 0 || fstat(img->mem_fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", SNAP_MEMORY_FILE, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != img->mem_size) {
		snprintf(err, errlen, "%s: %llu bytes, the state file says %llu (truncated?)",
			 SNAP_MEMORY_FILE, (unsigned long long)st.st_size,
			 (unsigned long long)img->mem_size);
		return -EINVAL;
	}
	return 0;
}

int snap_open(const char *dir, struct snap_image **out, char *err, size_t errlen)
{
	char why[512];
	struct snap_image *img = calloc(1, sizeof(*img));
	*out = NULL;
	if (!img) {
		snprintf(err, errlen, "%s: out of memory", dir);
		return -ENOMEM;
	}
	img->mem_fd = -1;
	snprintf(img->dir, sizeof(img->dir), "%s", dir);
	int ret = -EINVAL;
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto err;
	}
	ret = snap_read_state(img, dirfd, why, sizeof(why));
	if (ret < 0) {
		snprintf(err, errlen, "%s/%s: %s", dir, SNAP_STATE_FILE, why);
		goto err;
	}
	ret = -EINVAL;
	if (!snap_get_meta(img)) {
		snprintf(err, errlen, "%s/%s: meta section missing or malformed", dir,
			 SNAP_STATE_FILE);
		goto err;
	}
	if (!snap_get_config(img)) {
		snprintf(err, errlen, "%s/%s: machine description missing or malformed", dir,
			 SNAP_STATE_FILE);
		goto err;
	}
	ret = snap_check_memory(img, dirfd, why, sizeof(why));
	if (ret < 0) {
		snprintf(err, errlen, "%s/%s", dir, why);
		goto err;
	}
	close(dirfd);
	*out = img;
	return 0;
err:
	if (dirfd >= 0)
		close(dirfd);
	snap_close(img);
	return ret;
}

void snap_close(struct snap_image *img)
{
	if (!img)
		return;
	snap_reader_finish(&img->reader);
	free(img->state);
	if (img->mem_fd >= 0)
		close(img->mem_fd);
	free(img);
}

const struct vmm_config *snap_image_config(const struct snap_image *img)
{
	return &img->cfg;
}

void snap_image_display(const struct snap_image *img, uint32_t *width, uint32_t *height,
			bool *input)
{
	*width = img->gpu_width;
	*height = img->gpu_height;
	*input = img->input;
}

int snap_image_memory_fd(const struct snap_image *img)
{
	return img->mem_fd;
}

uint64_t snap_image_memory_size(const struct snap_image *img)
{
	return img->mem_size;
}

uint64_t snap_image_generation(const struct snap_image *img)
{
	return img->generation;
}

/* ---- restoring ---- */

/* Find section (@type, @instance) or say it is missing. */
static bool snap_need(const struct snap_image *img, uint32_t type, uint32_t instance,
		      struct snap_section *s, char *err, size_t errlen)
{
	if (snap_reader_find(&img->reader, type, instance, s))
		return true;
	snprintf(err, errlen, "%s/%s: no %s %u section", img->dir, SNAP_STATE_FILE,
		 snap_type_name(type), instance);
	return false;
}

static int snap_bad(const struct snap_image *img, const struct snap_section *s, char *err,
		    size_t errlen)
{
	snprintf(err, errlen, "%s/%s: %s %u section: values out of range or wrong size", img->dir,
		 SNAP_STATE_FILE, snap_type_name(s->type), s->instance);
	return -EINVAL;
}

static int snap_restore_devices(const struct snap_image *img, const struct snap_machine *m,
				char *err, size_t errlen)
{
	struct snap_section s;
	if (m->uart) {
		if (!snap_need(img, SNAP_SEC_UART, 0, &s, err, errlen))
			return -EINVAL;
		if (!uart_restore(m->uart, &s) || !snap_section_done(&s))
			return snap_bad(img, &s, err, errlen);
	}
	if (!snap_need(img, SNAP_SEC_I8042, 0, &s, err, errlen))
		return -EINVAL;
	if (!i8042_restore(m->i8042, &s) || !snap_section_done(&s))
		return snap_bad(img, &s, err, errlen);
	if (!snap_need(img, SNAP_SEC_PCI_BUS, 0, &s, err, errlen))
		return -EINVAL;
	if (!pci_bus_restore(m->pci, &s) || !snap_section_done(&s))
		return snap_bad(img, &s, err, errlen);
	if (m->nr_virtio != img->nr_virtio) {
		snprintf(err, errlen, "%s/%s: %u virtio devices saved, %u rebuilt", img->dir,
			 SNAP_STATE_FILE, img->nr_virtio, m->nr_virtio);
		return -EINVAL;
	}
	for (unsigned i = 0; i < m->nr_virtio; i++) {
		if (!snap_need(img, SNAP_SEC_VIRTIO_DEV, i, &s, err, errlen))
			return -EINVAL;
		if (!virtio_dev_restore(m->vdev[i], &s))
			return snap_bad(img, &s, err, errlen);
		if (!snap_need(img, SNAP_SEC_VIRTIO_PCI, i, &s, err, errlen))
			return -EINVAL;
		if (!virtio_pci_restore(m->vpci[i], &s) || !snap_section_done(&s))
			return snap_bad(img, &s, err, errlen);
	}
	return 0;
}

int snap_restore(const struct snap_image *img, const struct snap_machine *m, char *err,
		 size_t errlen)
{
	char why[256];
	struct vm *vm = m->vm;
	struct snap_section s;
	if (snap_reader_count(&img->reader, SNAP_SEC_VCPU) != vm->nr_vcpus) {
		snprintf(err, errlen, "%s/%s: %u vCPU sections for %u vCPUs", img->dir,
			 SNAP_STATE_FILE, snap_reader_count(&img->reader, SNAP_SEC_VCPU),
			 vm->nr_vcpus);
		return -EINVAL;
	}
	/* The interrupt controllers and clock first, then the vCPUs that use them. */
	uint64_t now = snap_realtime_ns();
	uint64_t advance = now > img->saved_ns ? now - img->saved_ns : 0;
	int ret = snap_vm_restore(vm, &img->reader, advance, why, sizeof(why));
	if (ret < 0) {
		snprintf(err, errlen, "%s/%s: %s", img->dir, SNAP_STATE_FILE, why);
		return ret;
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		if (!snap_need(img, SNAP_SEC_VCPU, i, &s, err, errlen))
			return -EINVAL;
		ret = snap_vcpu_restore(vm->vcpus[i], &s, why, sizeof(why));
		if (ret < 0) {
			snprintf(err, errlen, "%s/%s: %s", img->dir, SNAP_STATE_FILE, why);
			return ret;
		}
	}
	return snap_restore_devices(img, m, err, errlen);
}

/* ---- snapshot-info ---- */

static const char *snap_device_name(uint16_t id)
{
	switch (id) {
	case VIRTIO_ID_CONSOLE:
		return "virtio-console";
	case VIRTIO_ID_BLOCK:
		return "virtio-blk";
	case VIRTIO_ID_RNG:
		return "virtio-rng";
	case VIRTIO_ID_GPU:
		return "virtio-gpu";
	case VIRTIO_ID_INPUT:
		return "virtio-input";
	default:
		return "virtio-?";
	}
}

int snap_info(const char *dir, FILE *out, char *err, size_t errlen)
{
	struct snap_image *img;
	int ret = snap_open(dir, &img, err, errlen);
	if (ret < 0)
		return ret;
	const struct vmm_config *c = &img->cfg;
	struct stat st = {0};
	fstat(img->mem_fd, &st);
	time_t when = (time_t)(img->saved_ns / 1000000000ULL);
	char stamp[64] = "?";
	struct tm tm;
	if (gmtime_r(&when, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S UTC", &tm);
	fprintf(out, "snapshot:     %s\n", dir);
	fprintf(out, "format:       %u.%u (inlay-vmm %s)\n", img->reader.major, img->reader.minor,
		img->version);
	fprintf(out, "baked:        %s on %s\n", stamp, img->host);
	fprintf(out, "kernel:       %s\n", c->kernel);
	if (c->initrd)
		fprintf(out, "initrd:       %s\n", c->initrd);
	fprintf(out, "cmdline:      %s\n", c->cmdline ? c->cmdline : "");
	fprintf(out, "generation:   %llu\n", (unsigned long long)img->generation);
	fprintf(out, "vcpus:        %u (%s template)\n", c->cpus, cpu_template_name(c->tmpl));
	fprintf(out, "memory:       %llu MiB, %llu KiB with data, %llu KiB on disk\n",
		(unsigned long long)c->mem_mib, (unsigned long long)(img->mem_data >> 10),
		(unsigned long long)st.st_blocks / 2);
	fprintf(out, "state:        %zu bytes, %u sections\n", img->state_len,
		img->reader.nr_sections);
	fprintf(out, "serial:       %s\n", c->serial ? "COM1" : "none");
	for (unsigned i = 0; i < img->nr_virtio; i++)
		fprintf(out, "device %u:     %s\n", i, snap_device_name(img->virtio_ids[i]));
	for (unsigned i = 0; i < c->nr_disks; i++)
		fprintf(out, "disk %u:       %s%s\n", i, c->disks[i].path,
			c->disks[i].read_only ? " (read-only)" : "");
	if (img->gpu_width)
		fprintf(out, "display:      %ux%u%s\n", img->gpu_width, img->gpu_height,
			img->input ? " with keyboard and tablet" : "");
	snap_close(img);
	return 0;
}
