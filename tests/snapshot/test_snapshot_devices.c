// SPDX-License-Identifier: MIT
/*
 * Device save/restore: drive each device into a non-trivial state the way a
 * guest would, save it, restore into a freshly built device, save again and
 * compare the bytes; then damage single values and expect the restore to
 * refuse them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/input.h>
#include <linux/serial_reg.h>
#include <linux/virtio_gpu.h>
#include <linux/virtio_pci.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "snapshot/snap_format.h"
#include "virtio/gpu.h"
#include "virtio/input.h"
#include "virtio/virtio_pci.h"
#include "vmm/layout.h"
#include "vmm/legacy.h"
#include "vmm/uart.h"
#include "vring_driver.h"

#define MEM_SIZE   (2ULL << 20)
#define RING_BASE  0x10000
#define BUF_GPA	   0x40000
#define QSIZE	   16
#define MSI_VECTOR 1
#define MOVED_BAR  (LAYOUT_PCI_MMIO + 0x100000)

enum kind { RNG, BLK, CONSOLE, KEYBOARD, TABLET, GPU };

struct env {
	struct vm vm;
	struct pci_bus pb;
	struct virtio_dev *dev;
	struct virtio_pci *vp;
	struct vring_driver drv;
	struct virtq ring; /* what vring_driver lays out; the transport gets its addresses */
	char disk[64];
	int fds[16];
	unsigned nr_fds;
};

/* ---- fake VM services ---- */

static struct env *cur;

static int fake_msi_alloc(struct vm *vm, int *efd)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	cur->fds[cur->nr_fds++] = fd;
	*efd = fd;
	return 100 + (int)cur->nr_fds;
}

static int fake_msi_route(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data)
{
	return 0;
}

static int fake_ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, int fd, bool pio, bool assign)
{
	return 0;
}

static const struct virtio_pci_vm_ops fake_ops = {
    .msi_alloc = fake_msi_alloc,
    .msi_route = fake_msi_route,
    .ioeventfd = fake_ioeventfd,
};

static struct env *env_create(enum kind kind)
{
	struct env *e = calloc(1, sizeof(*e));
	assert_non_null(e);
	cur = e;
	assert_int_equal(guest_mem_init(&e->vm.mem, MEM_SIZE), 0);
	e->vm.loop = evloop_create();
	assert_non_null(e->vm.loop);
	bus_init(&e->vm.pio);
	bus_init(&e->vm.mmio);
	assert_int_equal(pci_bus_init(&e->pb, &e->vm.pio, &e->vm.mmio), 0);
	struct guest_mem *mem = &e->vm.mem;
	switch (kind) {
	case RNG:
		e->dev = virtio_rng_create(mem, e->vm.loop);
		break;
	case BLK: {
		snprintf(e->disk, sizeof(e->disk), "/tmp/inlay-snapdisk-XXXXXX");
		int fd = mkstemp(e->disk);
		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, 64 * 512), 0);
		close(fd);
		e->dev = virtio_blk_create(mem, e->vm.loop, e->disk, false);
		break;
	}
	case CONSOLE:
		e->dev = virtio_console_create(mem, e->vm.loop, -1, -1);
		break;
	case KEYBOARD:
		e->dev = virtio_input_create_keyboard(mem, e->vm.loop);
		break;
	case TABLET:
		e->dev = virtio_input_create_tablet(mem, e->vm.loop, 640, 480);
		break;
	case GPU:
		e->dev = virtio_gpu_create(mem, e->vm.loop, 640, 480);
		break;
	}
	assert_non_null(e->dev);
	e->vp = virtio_pci_create_ops(&e->vm, &fake_ops, &e->pb, e->dev);
	assert_non_null(e->vp);
	return e;
}

static void env_destroy(struct env *e)
{
	virtio_pci_destroy(e->vp);
	e->dev->ops->destroy(e->dev);
	pci_bus_finish(&e->pb, &e->vm.pio);
	bus_finish(&e->vm.pio);
	bus_finish(&e->vm.mmio);
	evloop_destroy(e->vm.loop);
	guest_mem_finish(&e->vm.mem);
	if (e->disk[0])
		unlink(e->disk);
	free(e);
}

/* ---- guest-side accesses ---- */

static void mmio(struct env *e, uint64_t off, uint64_t val, uint32_t len)
{
	uint8_t data[8];
	memcpy(data, &val, sizeof(data));
	assert_true(bus_access(&e->vm.mmio, LAYOUT_PCI_MMIO + off, data, len, true));
}

static uint32_t cfg_rw(struct env *e, uint32_t off, uint32_t val, uint32_t len, bool write)
{
	uint32_t addr = 0x80000000u | (1u << 11) | (off & 0xfc);
	uint8_t data[4];
	memcpy(data, &addr, 4);
	bus_access(&e->vm.pio, LAYOUT_PORT_PCI_ADDR, data, 4, true);
	memcpy(data, &val, 4);
	bus_access(&e->vm.pio, LAYOUT_PORT_PCI_DATA + (off & 3), data, len, write);
	memcpy(&val, data, 4);
	return val;
}

static uint8_t find_msix_cap(struct env *e)
{
	uint8_t off = (uint8_t)cfg_rw(e, PCI_CAPABILITY_LIST, 0, 1, false);
	while (off && (cfg_rw(e, off, 0, 1, false) & 0xff) != PCI_CAP_ID_MSIX)
		off = (uint8_t)cfg_rw(e, off + 1u, 0, 1, false);
	assert_int_not_equal(off, 0);
	return off;
}

#define GPU_W	 64
#define GPU_H	 32
#define GPU_FB	 0x80000 /* backing pages of resource 1 */
#define GPU_CMD	 0x60000
#define GPU_RESP 0x70000

/* One control command: header type @type, body after the header. */
static void gpu_cmd(struct env *e, void *cmd, size_t len)
{
	assert_true(guest_mem_write(&e->vm.mem, GPU_CMD, cmd, len));
	struct vring_buf b[2] = {{GPU_CMD, (uint32_t)len, false},
				 {GPU_RESP, sizeof(struct virtio_gpu_ctrl_hdr), true}};
	vring_driver_add(&e->drv, b, 2);
	e->dev->ops->queue_notify(e->dev, 0);
	struct virtio_gpu_ctrl_hdr resp;
	assert_true(guest_mem_read(&e->vm.mem, GPU_RESP, &resp, sizeof(resp)));
	assert_int_equal(resp.type, VIRTIO_GPU_RESP_OK_NODATA);
}

/* A 64x32 resource with a pattern, attached, on the scanout, transferred and flushed. */
static void gpu_draw(struct env *e)
{
	uint32_t *fb = guest_mem_ptr(&e->vm.mem, GPU_FB, GPU_W * GPU_H * 4);
	for (uint32_t i = 0; i < GPU_W * GPU_H; i++)
		fb[i] = 0xff000000u | i * 2654435761u;
	struct virtio_gpu_resource_create_2d c = {.hdr.type = VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
						  .resource_id = 1,
						  .format = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
						  .width = GPU_W,
						  .height = GPU_H};
	gpu_cmd(e, &c, sizeof(c));
	struct {
		struct virtio_gpu_resource_attach_backing a;
		struct virtio_gpu_mem_entry m[2];
	} ab = {.a = {.hdr.type = VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
		      .resource_id = 1,
		      .nr_entries = 2},
		.m = {{.addr = GPU_FB, .length = 4096},
		      {.addr = GPU_FB + 4096, .length = GPU_W * GPU_H * 4 - 4096}}};
	gpu_cmd(e, &ab, sizeof(ab));
	struct virtio_gpu_set_scanout sc = {
	    .hdr.type = VIRTIO_GPU_CMD_SET_SCANOUT, .r = {0, 0, GPU_W, GPU_H}, .resource_id = 1};
	gpu_cmd(e, &sc, sizeof(sc));
	struct virtio_gpu_transfer_to_host_2d t = {.hdr.type = VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
						   .r = {0, 0, GPU_W, GPU_H},
						   .resource_id = 1};
	gpu_cmd(e, &t, sizeof(t));
}

/* What a driver does up to DRIVER_OK, then one request on queue 0 for the rng. */
static void drive(struct env *e, enum kind kind)
{
	uint8_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	mmio(e, VIRTIO_PCI_COMMON_STATUS, st, 1);
	mmio(e, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	mmio(e, VIRTIO_PCI_COMMON_GF, 1, 4); /* VERSION_1 */
	mmio(e, VIRTIO_PCI_COMMON_STATUS, st |= VIRTIO_CONFIG_S_FEATURES_OK, 1);
	vring_driver_init(&e->drv, &e->vm.mem, &e->ring, QSIZE, RING_BASE);
	mmio(e, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	mmio(e, VIRTIO_PCI_COMMON_Q_SIZE, QSIZE, 2);
	mmio(e, VIRTIO_PCI_COMMON_Q_MSIX, MSI_VECTOR, 2);
	mmio(e, VIRTIO_PCI_COMMON_Q_DESCLO, e->drv.desc_gpa, 8);
	mmio(e, VIRTIO_PCI_COMMON_Q_AVAILLO, e->drv.avail_gpa, 8);
	mmio(e, VIRTIO_PCI_COMMON_Q_USEDLO, e->drv.used_gpa, 8);
	mmio(e, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	mmio(e, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	mmio(e, 0x4000 + 16 * MSI_VECTOR, 0xfee00000, 4);
	mmio(e, 0x4000 + 16 * MSI_VECTOR + 8, 0x41, 4);
	mmio(e, 0x4000 + 16 * MSI_VECTOR + 12, 0, 4);
	uint8_t cap = find_msix_cap(e);
	cfg_rw(e, cap + 3u, PCI_MSIX_FLAGS_ENABLE >> 8, 1, true);
	mmio(e, VIRTIO_PCI_COMMON_STATUS, st |= VIRTIO_CONFIG_S_DRIVER_OK, 1);
	cfg_rw(e, PCI_LATENCY_TIMER, 0x40, 1, true);
	if (kind == RNG) {
		struct vring_buf b = {BUF_GPA, 32, true};
		vring_driver_add(&e->drv, &b, 1);
		e->dev->ops->queue_notify(e->dev, 0);
		assert_int_equal(e->dev->vq[0].last_avail, 1);
		assert_int_equal(e->dev->vq[0].used_idx, 1);
	}
	if (kind == GPU)
		gpu_draw(e);
	if (kind == KEYBOARD) {
		input_push_key(e->dev, KEY_A, true);
		input_sync(e->dev);
	}
	/* The guest moves BAR 0: a restore must map it there again. */
	cfg_rw(e, PCI_BASE_ADDRESS_0, (uint32_t)MOVED_BAR, 4, true);
}

/* Save transport and device; return the sealed file. */
static uint8_t *save(struct env *e, size_t *len)
{
	struct snap_writer w;
	const uint8_t *data;
	snap_writer_init(&w);
	snap_writer_begin_section(&w, SNAP_SEC_VIRTIO_PCI, 0);
	virtio_pci_save(e->vp, &w);
	snap_writer_end_section(&w);
	snap_writer_begin_section(&w, SNAP_SEC_VIRTIO_DEV, 0);
	virtio_dev_save(e->dev, &w);
	snap_writer_end_section(&w);
	assert_int_equal(snap_writer_seal(&w, &data, len), 0);
	uint8_t *copy = malloc(*len);
	assert_non_null(copy);
	memcpy(copy, data, *len);
	snap_writer_finish(&w);
	return copy;
}

static bool restore(struct env *e, const uint8_t *data, size_t len)
{
	struct snap_reader r;
	struct snap_section s;
	char err[256];
	assert_int_equal(snap_reader_parse(&r, data, len, err, sizeof(err)), 0);
	bool ok =
	    snap_reader_find(&r, SNAP_SEC_VIRTIO_DEV, 0, &s) && virtio_dev_restore(e->dev, &s);
	ok = ok && snap_reader_find(&r, SNAP_SEC_VIRTIO_PCI, 0, &s) &&
	     virtio_pci_restore(e->vp, &s) && snap_section_done(&s);
	snap_reader_finish(&r);
	return ok;
}

/* A presenter that records what the device shows. */
static struct vgpu_image *shown;
static struct vgpu_rect shown_rect;

static void fake_scanout(void *opaque, struct vgpu_image *img, const struct vgpu_rect *rect)
{
	shown = img;
	if (rect)
		shown_rect = *rect;
}

static void fake_image_gone(void *opaque, struct vgpu_image *img)
{
	if (img == shown)
		shown = NULL;
}

static const struct vgpu_presenter_ops fake_presenter = {
    .scanout = fake_scanout,
    .image_gone = fake_image_gone,
};

static void round_trip(enum kind kind)
{
	struct env *a = env_create(kind);
	drive(a, kind);
	size_t len1, len2;
	uint8_t *one = save(a, &len1);
	struct env *b = env_create(kind);
	/* The same RAM, as a restore maps the memory file. */
	memcpy(b->vm.mem.host, a->vm.mem.host, MEM_SIZE);
	shown = NULL;
	if (kind == GPU)
		vgpu_set_presenter(vgpu_from_dev(b->dev), &fake_presenter, NULL);
	assert_true(restore(b, one, len1));
	if (kind == GPU) {
		/* The scanout is presented during the restore, pixels from the guest's pages. */
		assert_non_null(shown);
		assert_int_equal(shown_rect.width, GPU_W);
		assert_int_equal(shown->width, GPU_W);
		assert_memory_equal(shown->data,
				    guest_mem_ptr(&a->vm.mem, GPU_FB, GPU_W * GPU_H * 4),
				    GPU_W * GPU_H * 4);
		vgpu_set_presenter(vgpu_from_dev(b->dev), NULL, NULL);
	}
	uint8_t *two = save(b, &len2);
	assert_int_equal(len1, len2);
	assert_memory_equal(one, two, len1);
	/* The restored device is live: status and queue as the guest left them. */
	assert_true(b->dev->status & VIRTIO_CONFIG_S_DRIVER_OK);
	assert_true(b->dev->vq[0].ready);
	assert_true(b->dev->vq[0].desc_gpa == a->drv.desc_gpa);
	uint8_t status = 0;
	assert_true(
	    bus_access(&b->vm.mmio, MOVED_BAR + VIRTIO_PCI_COMMON_STATUS, &status, 1, false));
	assert_true(status & VIRTIO_CONFIG_S_DRIVER_OK);
	assert_false(bus_access(&b->vm.mmio, LAYOUT_PCI_MMIO, &status, 1, false));
	free(one);
	free(two);
	env_destroy(a);
	env_destroy(b);
}

static void test_rng(void **state)
{
	round_trip(RNG);
}

static void test_blk(void **state)
{
	round_trip(BLK);
}

static void test_console(void **state)
{
	round_trip(CONSOLE);
}

static void test_keyboard(void **state)
{
	round_trip(KEYBOARD);
}

static void test_tablet(void **state)
{
	round_trip(TABLET);
}

static void test_gpu(void **state)
{
	round_trip(GPU);
}

/* Another kind of device, or the same kind with the rings moved out of RAM. */
static void test_wrong_device(void **state)
{
	struct env *a = env_create(RNG);
	drive(a, RNG);
	size_t len;
	uint8_t *one = save(a, &len);
	struct env *b = env_create(BLK);
	assert_false(restore(b, one, len));
	free(one);
	env_destroy(a);
	env_destroy(b);
}

/* Mutate one field of a driven device, save, and expect a fresh one to refuse it. */
static void expect_refused(void (*mutate)(struct env *e))
{
	struct env *a = env_create(RNG);
	drive(a, RNG);
	mutate(a);
	size_t len;
	uint8_t *one = save(a, &len);
	struct env *b = env_create(RNG);
	assert_false(restore(b, one, len));
	free(one);
	env_destroy(a);
	env_destroy(b);
}

static void bad_queue_size(struct env *e)
{
	e->dev->vq[0].size = 3;
}

static void big_queue_size(struct env *e)
{
	e->dev->vq[0].size = 2048;
}

static void bad_vector(struct env *e)
{
	e->dev->vq[0].msix_vector = 40;
}

static void ring_outside_ram(struct env *e)
{
	e->dev->vq[0].used_gpa = MEM_SIZE - 8;
}

static void unoffered_feature(struct env *e)
{
	e->dev->driver_features |= 1ULL << 40;
}

static void bad_status(struct env *e)
{
	e->dev->status |= 0x10;
}

static void test_bad_values(void **state)
{
	expect_refused(bad_queue_size);
	expect_refused(big_queue_size);
	expect_refused(bad_vector);
	expect_refused(ring_outside_ram);
	expect_refused(unoffered_feature);
	expect_refused(bad_status);
}

/* Config space bits the guest cannot write (here: the vendor id) must match. */
static void test_pci_readonly_bits(void **state)
{
	struct env *a = env_create(RNG);
	drive(a, RNG);
	size_t len;
	uint8_t *one = save(a, &len);
	/* device_id:16 queues:32, then config space: vendor id first. */
	size_t vendor = SNAP_HEADER_SIZE + SNAP_SECTION_HDR + 6;
	one[vendor] ^= 0xff;
	/* Re-seal: rebuild the section CRC so only the value is wrong. */
	const uint8_t *h = one + SNAP_HEADER_SIZE;
	uint32_t crc = snap_crc32c(snap_crc32c(0, h, 16), h + SNAP_SECTION_HDR,
				   (size_t)h[8] | (size_t)h[9] << 8);
	memcpy(one + SNAP_HEADER_SIZE + 16, &crc, 4);
	struct env *b = env_create(RNG);
	assert_false(restore(b, one, len));
	free(one);
	env_destroy(a);
	env_destroy(b);
}

/* Truncated device sections: every shorter length is refused, none crashes. */
static void test_short_sections(void **state)
{
	struct env *a = env_create(KEYBOARD);
	drive(a, KEYBOARD);
	size_t len;
	uint8_t *one = save(a, &len);
	struct snap_reader r;
	char err[256];
	assert_int_equal(snap_reader_parse(&r, one, len, err, sizeof(err)), 0);
	struct snap_section full, s;
	assert_true(snap_reader_find(&r, SNAP_SEC_VIRTIO_PCI, 0, &full));
	for (size_t cut = 0; cut < full.len; cut += 7) {
		struct env *b = env_create(KEYBOARD);
		s = full;
		s.len = cut;
		assert_false(virtio_pci_restore(b->vp, &s) && snap_section_done(&s));
		env_destroy(b);
	}
	assert_true(snap_reader_find(&r, SNAP_SEC_VIRTIO_DEV, 0, &full));
	struct env *b = env_create(KEYBOARD);
	for (size_t cut = 0; cut < full.len; cut++) {
		s = full;
		s.len = cut;
		assert_false(virtio_dev_restore(b->dev, &s));
	}
	env_destroy(b);
	snap_reader_finish(&r);
	free(one);
	env_destroy(a);
}

/* ---- UART, i8042, PCI bus ---- */

static unsigned irq_raised;

static void count_irq(void *opaque, int level)
{
	irq_raised += level;
}

static void uart_write(struct uart *u, unsigned reg, uint8_t v)
{
	uart_io(u, reg, &v, 1, true);
}

static void uart_bytes(struct uart *u, uint8_t *buf, size_t *len)
{
	struct snap_writer w;
	snap_writer_init(&w);
	uart_save(u, &w);
	assert_true(snap_writer_ok(&w));
	*len = w.len - SNAP_HEADER_SIZE;
	memcpy(buf, w.buf + SNAP_HEADER_SIZE, *len);
	snap_writer_finish(&w);
}

static void test_uart(void **state)
{
	struct uart a, b;
	uint8_t one[2048], two[2048];
	size_t len1, len2;
	uart_init(&a, -1, count_irq, NULL, NULL);
	uart_write(&a, UART_LCR, UART_LCR_WLEN8);
	uart_write(&a, UART_IER, UART_IER_RDI);
	uart_write(&a, UART_SCR, 0x5a);
	assert_int_equal(uart_receive(&a, (const uint8_t *)"abc", 3), 3);
	uart_bytes(&a, one, &len1);

	uart_init(&b, -1, count_irq, NULL, NULL);
	irq_raised = 0;
	struct snap_section s = {.data = one, .len = len1};
	assert_true(uart_restore(&b, &s));
	assert_true(snap_section_done(&s));
	assert_int_equal(irq_raised, 1); /* the line is driven where it was */
	uart_bytes(&b, two, &len2);
	assert_int_equal(len1, len2);
	assert_memory_equal(one, two, len1);
	uint8_t c;
	uart_io(&b, UART_RX, &c, 1, false);
	assert_int_equal(c, 'a');

	/* IER bits the chip does not have; a receive count beyond the buffer. */
	one[0] = 0xf0;
	s = (struct snap_section){.data = one, .len = len1};
	assert_false(uart_restore(&b, &s));
	one[0] = 0;
	uint32_t big = UART_RX_SIZE + 1;
	memcpy(one + 11, &big, 4);
	s = (struct snap_section){.data = one, .len = len1};
	assert_false(uart_restore(&b, &s));
	uart_finish(&a);
	uart_finish(&b);
}

static void test_i8042_and_bus(void **state)
{
	struct env *e = env_create(RNG);
	struct i8042 *k = i8042_create(&e->vm);
	assert_non_null(k);
	uint8_t v = 0x60; /* write the command byte: waits for data */
	bus_access(&e->vm.pio, LAYOUT_PORT_I8042_CMD, &v, 1, true);
	struct snap_writer w;
	snap_writer_init(&w);
	i8042_save(k, &w);
	pci_bus_save(&e->pb, &w);
	assert_true(snap_writer_ok(&w));
	size_t len = w.len - SNAP_HEADER_SIZE;
	uint8_t *p = w.buf + SNAP_HEADER_SIZE;
	assert_int_equal(p[3], 0x60);

	struct env *f = env_create(RNG);
	struct i8042 *k2 = i8042_create(&f->vm);
	struct snap_section s = {.data = p, .len = len};
	assert_true(i8042_restore(k2, &s));
	assert_true(pci_bus_restore(&f->pb, &s));
	assert_true(snap_section_done(&s));
	/* The pending command now takes its data byte. */
	v = 0x45;
	bus_access(&f->vm.pio, LAYOUT_PORT_I8042_DATA, &v, 1, true);
	v = 0x20;
	bus_access(&f->vm.pio, LAYOUT_PORT_I8042_CMD, &v, 1, true);
	bus_access(&f->vm.pio, LAYOUT_PORT_I8042_DATA, &v, 1, false);
	assert_int_equal(v, 0x45);

	p[3] = 0x99; /* not a command that waits for data */
	s = (struct snap_section){.data = p, .len = len};
	assert_false(i8042_restore(k2, &s));
	snap_writer_finish(&w);
	i8042_destroy(k);
	i8042_destroy(k2);
	env_destroy(e);
	env_destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rng),
	    cmocka_unit_test(test_blk),
	    cmocka_unit_test(test_console),
	    cmocka_unit_test(test_keyboard),
	    cmocka_unit_test(test_tablet),
	    cmocka_unit_test(test_gpu),
	    cmocka_unit_test(test_wrong_device),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_pci_readonly_bits),
	    cmocka_unit_test(test_short_sections),
	    cmocka_unit_test(test_uart),
	    cmocka_unit_test(test_i8042_and_bus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
