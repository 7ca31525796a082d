// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <cmocka.h>

#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include "virtio/virtio_pci.h"
#include "vmm/layout.h"

#define NQ	     2
#define QMAX	     256
#define CFG_SIZE     8
#define FEATURE_DEV  3 /* the one device-specific bit the fake offers */
#define MAX_FDS	     16
#define MAX_IOEVENTS 16

struct env {
	struct vm vm;
	struct bus pio;
	struct pci_bus pb;
	struct virtio_dev dev;
	struct virtio_pci *vp;
	uint64_t bar0;
	uint8_t cap_off[8]; /* by cfg_type */
	uint8_t msix_cap;
	/* fake VM */
	int msi_fds[MAX_FDS];
	unsigned nr_msi;
	unsigned routes;
	uint32_t route_gsi;
	uint64_t route_addr;
	uint32_t route_data;
	uint64_t ioevents[MAX_IOEVENTS]; /* assigned notify addresses */
	unsigned nr_ioevents;
	/* fake device */
	uint8_t config[CFG_SIZE];
	unsigned config_reads, config_writes;
	uint32_t written_off;
	unsigned activates, resets;
	int notified;
};

static struct env *the_env;

/* ---- fake VM ---- */

static int fake_msi_alloc(struct vm *vm, int *efd)
{
	struct env *e = the_env;
	if (e->nr_msi == MAX_FDS)
		return -ENOSPC;
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	e->msi_fds[e->nr_msi] = fd;
	*efd = fd;
	return 100 + (int)e->nr_msi++;
}

static int fake_msi_route(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data)
{
	struct env *e = the_env;
	e->routes++;
	e->route_gsi = gsi;
	e->route_addr = addr;
	e->route_data = data;
	return 0;
}

static int fake_ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, int fd, bool pio, bool assign)
{
	struct env *e = the_env;
	assert_false(pio);
	assert_int_equal(len, 0);
	if (assign) {
		assert_true(e->nr_ioevents < MAX_IOEVENTS);
		e->ioevents[e->nr_ioevents++] = addr;
		return 0;
	}
	for (unsigned i = 0; i < e->nr_ioevents; i++) {
		if (e->ioevents[i] == addr) {
			e->ioevents[i] = e->ioevents[--e->nr_ioevents];
			return 0;
		}
	}
	fail_msg("deassigning unknown ioeventfd at %#llx", (unsigned long long)addr);
	return -ENOENT;
}

static const struct virtio_pci_vm_ops fake_vm_ops = {
    .msi_alloc = fake_msi_alloc,
    .msi_route = fake_msi_route,
    .ioeventfd = fake_ioeventfd,
};

/* ---- fake device ---- */

static void fake_config_read(struct virtio_dev *d, uint32_t off, void *data, uint32_t len)
{
	the_env->config_reads++;
	assert_true(off + len <= CFG_SIZE);
	memcpy(data, the_env->config + off, len);
}

static void fake_config_write(struct virtio_dev *d, uint32_t off, const void *data, uint32_t len)
{
	the_env->config_writes++;
	assert_true(off + len <= CFG_SIZE);
	the_env->written_off = off;
	memcpy(the_env->config + off, data, len);
}

static bool fake_activate(struct virtio_dev *d)
{
	the_env->activates++;
	return true;
}

static void fake_queue_notify(struct virtio_dev *d, unsigned q)
{
	the_env->notified = (int)q;
	evloop_stop(the_env->vm.loop, 0);
}

static void fake_reset(struct virtio_dev *d)
{
	the_env->resets++;
}

static const struct virtio_dev_ops fake_ops = {
    .name = "fake",
    .device_id = VIRTIO_ID_CONSOLE,
    .num_queues = NQ,
    .queue_max_size = QMAX,
    .config_size = CFG_SIZE,
    .config_read = fake_config_read,
    .config_write = fake_config_write,
    .activate = fake_activate,
    .queue_notify = fake_queue_notify,
    .reset = fake_reset,
};

/* ---- access helpers ---- */

static uint32_t cfg_read(struct env *e, uint32_t reg, uint32_t len)
{
	uint32_t addr = 0x80000000u | 1u << 11 | (reg & 0xfc), val = 0;
	bus_access(&e->pio, LAYOUT_PORT_PCI_ADDR, (uint8_t *)&addr, 4, true);
	bus_access(&e->pio, LAYOUT_PORT_PCI_DATA + (reg & 3), (uint8_t *)&val, len, false);
	return val;
}

static void cfg_write(struct env *e, uint32_t reg, uint32_t val, uint32_t len)
{
	uint32_t addr = 0x80000000u | 1u << 11 | (reg & 0xfc);
	bus_access(&e->pio, LAYOUT_PORT_PCI_ADDR, (uint8_t *)&addr, 4, true);
	bus_access(&e->pio, LAYOUT_PORT_PCI_DATA + (reg & 3), (uint8_t *)&val, len, true);
}

static uint64_t rd(struct env *e, uint64_t off, uint32_t len)
{
	uint64_t val = 0;
	bus_access(&e->vm.mmio, e->bar0 + off, (uint8_t *)&val, len, false);
	return val;
}

static void wr(struct env *e, uint64_t off, uint64_t val, uint32_t len)
{
	bus_access(&e->vm.mmio, e->bar0 + off, (uint8_t *)&val, len, true);
}

static uint8_t status(struct env *e)
{
	return (uint8_t)rd(e, VIRTIO_PCI_COMMON_STATUS, 1);
}

static void set_status(struct env *e, uint8_t s)
{
	wr(e, VIRTIO_PCI_COMMON_STATUS, s, 1);
}

static void negotiate(struct env *e, uint64_t features)
{
	set_status(e, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	for (uint32_t sel = 0; sel < 2; sel++) {
		wr(e, VIRTIO_PCI_COMMON_GFSELECT, sel, 4);
		wr(e, VIRTIO_PCI_COMMON_GF, (uint32_t)(features >> (32 * sel)), 4);
	}
	set_status(e, status(e) | VIRTIO_CONFIG_S_FEATURES_OK);
}

static void setup_queue(struct env *e, uint16_t q, uint64_t desc, uint64_t avail, uint64_t used)
{
	wr(e, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	wr(e, VIRTIO_PCI_COMMON_Q_SIZE, 16, 2);
	wr(e, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)desc, 4);
	wr(e, VIRTIO_PCI_COMMON_Q_DESCHI, (uint32_t)(desc >> 32), 4);
	wr(e, VIRTIO_PCI_COMMON_Q_AVAILLO, avail, 8);
	wr(e, VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)used, 4);
	wr(e, VIRTIO_PCI_COMMON_Q_USEDHI, (uint32_t)(used >> 32), 4);
	wr(e, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
}

static int setup(void **state)
{
	struct env *e = test_calloc(1, sizeof(*e));
	the_env = e;
	assert_int_equal(guest_mem_init(&e->vm.mem, 4 << 20), 0);
	e->vm.loop = evloop_create();
	assert_non_null(e->vm.loop);
	bus_init(&e->vm.mmio);
	bus_init(&e->pio);
	assert_int_equal(pci_bus_init(&e->pb, &e->pio, &e->vm.mmio), 0);
	virtio_dev_init(&e->dev, &fake_ops, &e->vm.mem, e->vm.loop);
	e->dev.host_features |= 1ULL << FEATURE_DEV;
	e->notified = -1;
	e->vp = virtio_pci_create_ops(&e->vm, &fake_vm_ops, &e->pb, &e->dev);
	assert_non_null(e->vp);
	e->bar0 = cfg_read(e, PCI_BASE_ADDRESS_0, 4) & ~0xfULL;
	for (uint32_t pos = cfg_read(e, PCI_CAPABILITY_LIST, 1), n = 0; pos && n < 48;
	     pos = cfg_read(e, pos + 1, 1), n++) {
		uint32_t id = cfg_read(e, pos, 1);
		if (id == PCI_CAP_ID_MSIX)
			e->msix_cap = (uint8_t)pos;
		else if (id == PCI_CAP_ID_VNDR && cfg_read(e, pos + 3, 1) < 8)
			e->cap_off[cfg_read(e, pos + 3, 1)] = (uint8_t)pos;
	}
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	virtio_pci_destroy(e->vp);
	assert_int_equal(e->nr_ioevents, 0);
	assert_null(e->dev.transport);
	virtio_pci_destroy(NULL);
	pci_bus_finish(&e->pb, &e->pio);
	virtio_dev_finish(&e->dev);
	bus_finish(&e->pio);
	bus_finish(&e->vm.mmio);
	evloop_destroy(e->vm.loop);
	guest_mem_finish(&e->vm.mem);
	test_free(e);
	return 0;
}

/* ---- tests ---- */

static void test_ids_and_caps(void **state)
{
	struct env *e = *state;
	assert_int_equal(cfg_read(e, PCI_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cfg_read(e, PCI_DEVICE_ID, 2), 0x1040 + VIRTIO_ID_CONSOLE);
	assert_int_equal(cfg_read(e, PCI_REVISION_ID, 1), 1);
	assert_int_equal(cfg_read(e, PCI_CLASS_REVISION, 4) >> 8, 0x078000);
	assert_int_equal(cfg_read(e, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cfg_read(e, PCI_SUBSYSTEM_ID, 2), 0x1040 + VIRTIO_ID_CONSOLE);
	assert_int_equal(cfg_read(e, PCI_INTERRUPT_PIN, 1), 0);
	assert_int_not_equal(e->bar0, 0);
	assert_int_equal(e->bar0 % 0x8000, 0);

	static const uint32_t where[][2] = {
	    [VIRTIO_PCI_CAP_COMMON_CFG] = {0x0000, sizeof(struct virtio_pci_common_cfg)},
	    [VIRTIO_PCI_CAP_NOTIFY_CFG] = {0x3000, 4 * NQ},
	    [VIRTIO_PCI_CAP_ISR_CFG] = {0x1000, 1},
	    [VIRTIO_PCI_CAP_DEVICE_CFG] = {0x2000, CFG_SIZE},
	};
	for (unsigned t = VIRTIO_PCI_CAP_COMMON_CFG; t <= VIRTIO_PCI_CAP_DEVICE_CFG; t++) {
		uint32_t c = e->cap_off[t];
		assert_int_not_equal(c, 0);
		assert_int_equal(cfg_read(e, c + VIRTIO_PCI_CAP_BAR, 1), 0);
		assert_int_equal(cfg_read(e, c + VIRTIO_PCI_CAP_OFFSET, 4), where[t][0]);
		assert_int_equal(cfg_read(e, c + VIRTIO_PCI_CAP_LENGTH, 4), where[t][1]);
	}
	assert_int_equal(cfg_read(e, e->cap_off[VIRTIO_PCI_CAP_NOTIFY_CFG] + 16, 4), 4);
	assert_int_not_equal(e->cap_off[VIRTIO_PCI_CAP_PCI_CFG], 0);
	assert_int_not_equal(e->msix_cap, 0);
	assert_int_equal(cfg_read(e, e->msix_cap + PCI_MSIX_FLAGS, 2), NQ); /* NQ + 1 vectors */
	assert_int_equal(cfg_read(e, e->msix_cap + PCI_MSIX_TABLE, 4), 0x4000);
	assert_int_equal(cfg_read(e, e->msix_cap + PCI_MSIX_PBA, 4), 0x5000);
	assert_int_equal(e->nr_msi, NQ + 1);
	/* one notify ioeventfd per queue at 4 * N */
	assert_int_equal(e->nr_ioevents, NQ);
	for (unsigned i = 0; i < NQ; i++)
		assert_true(e->ioevents[i] == e->bar0 + 0x3000 ||
			    e->ioevents[i] == e->bar0 + 0x3004);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_NUMQ, 2), NQ);
}

static void test_feature_negotiation(void **state)
{
	struct env *e = *state;
	uint64_t offered = e->dev.host_features | 1ULL << VIRTIO_F_VERSION_1;
	wr(e, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_DF, 4), (uint32_t)offered);
	wr(e, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_DF, 4), offered >> 32);
	assert_true(rd(e, VIRTIO_PCI_COMMON_DF, 4) & 1); /* VERSION_1 is bit 32 */
	wr(e, VIRTIO_PCI_COMMON_DFSELECT, 2, 4);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_DF, 4), 0);

	/* a bit that was not offered: FEATURES_OK does not stick */
	negotiate(e, 1ULL << VIRTIO_F_VERSION_1 | 1ULL << 5);
	assert_false(status(e) & VIRTIO_CONFIG_S_FEATURES_OK);
	set_status(e, 0);
	assert_int_equal(e->dev.driver_features, 0);

	/* VERSION_1 missing: refused */
	negotiate(e, 1ULL << FEATURE_DEV);
	assert_false(status(e) & VIRTIO_CONFIG_S_FEATURES_OK);
	set_status(e, 0);

	uint64_t want =
	    1ULL << VIRTIO_F_VERSION_1 | 1ULL << FEATURE_DEV | 1ULL << VIRTIO_RING_F_EVENT_IDX;
	negotiate(e, want);
	assert_true(status(e) & VIRTIO_CONFIG_S_FEATURES_OK);
	assert_int_equal(e->dev.driver_features, want);
	wr(e, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_GF, 4), (uint32_t)want);
	/* accepted features are frozen */
	wr(e, VIRTIO_PCI_COMMON_GF, 0, 4);
	assert_int_equal(e->dev.driver_features, want);

	/* event idx reaches the queues at DRIVER_OK */
	set_status(e, status(e) | VIRTIO_CONFIG_S_DRIVER_OK);
	assert_int_equal(e->activates, 1);
	assert_true(e->dev.vq[0].event_idx);
	assert_true(e->dev.vq[1].event_idx);
}

static void test_queue_setup(void **state)
{
	struct env *e = *state;
	wr(e, VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_SELECT, 2), 1);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_SIZE, 2), QMAX);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_NOFF, 2), 1);
	wr(e, VIRTIO_PCI_COMMON_Q_SIZE, 100, 2); /* not a power of two */
	wr(e, VIRTIO_PCI_COMMON_Q_SIZE, 2 * QMAX, 2);
	wr(e, VIRTIO_PCI_COMMON_Q_SIZE, 0, 2);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_SIZE, 2), QMAX);
	wr(e, VIRTIO_PCI_COMMON_Q_SIZE, 64, 4); /* wrong width */
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_SIZE, 2), QMAX);
	wr(e, VIRTIO_PCI_COMMON_Q_SIZE, 64, 2);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_SIZE, 2), 64);

	wr(e, VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_MSIX, 2), 2);
	wr(e, VIRTIO_PCI_COMMON_Q_MSIX, NQ + 1, 2);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	wr(e, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_MSIX, 2), 0);
	wr(e, VIRTIO_PCI_COMMON_MSIX, 7, 2);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);

	wr(e, VIRTIO_PCI_COMMON_Q_DESCLO, 0x11223344, 4);
	wr(e, VIRTIO_PCI_COMMON_Q_DESCHI, 0x1, 4);
	wr(e, VIRTIO_PCI_COMMON_Q_AVAILLO, 0x0000000255667788ULL, 8);
	wr(e, VIRTIO_PCI_COMMON_Q_USEDLO, 0x9000, 4);
	wr(e, VIRTIO_PCI_COMMON_Q_USEDLO + 2, 0xffff, 2); /* not natural: ignored */
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0x111223344ULL);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_AVAILHI, 4), 2);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_USEDLO, 4), 0x9000);
	assert_int_equal(e->dev.vq[1].desc_gpa, 0x111223344ULL);
	assert_int_equal(e->dev.vq[1].avail_gpa, 0x255667788ULL);
	assert_int_equal(e->dev.vq[1].used_gpa, 0x9000);

	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	wr(e, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
	assert_true(e->dev.vq[1].ready);
	/* enabled queues keep their layout */
	wr(e, VIRTIO_PCI_COMMON_Q_SIZE, 32, 2);
	wr(e, VIRTIO_PCI_COMMON_Q_DESCLO, 0, 4);
	wr(e, VIRTIO_PCI_COMMON_Q_ENABLE, 0, 2);
	assert_int_equal(e->dev.vq[1].size, 64);
	assert_int_equal(e->dev.vq[1].desc_gpa, 0x111223344ULL);
	assert_true(e->dev.vq[1].ready);
	/* queue 0 untouched */
	assert_int_equal(e->dev.vq[0].size, QMAX);
	assert_false(e->dev.vq[0].ready);
}

static void test_queue_select_out_of_range(void **state)
{
	struct env *e = *state;
	wr(e, VIRTIO_PCI_COMMON_Q_SELECT, NQ, 2);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	wr(e, VIRTIO_PCI_COMMON_Q_SIZE, 16, 2);
	wr(e, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	wr(e, VIRTIO_PCI_COMMON_Q_DESCLO, 0x1000, 8);
	wr(e, VIRTIO_PCI_COMMON_Q_MSIX, 0, 2);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0);
	wr(e, VIRTIO_PCI_COMMON_Q_SELECT, 0xffff, 2);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
	for (unsigned i = NQ; i < VIRTIO_MAX_QUEUES; i++)
		assert_false(e->dev.vq[i].ready);
	/* reads past the structure are not claimed by it */
	assert_int_equal(rd(e, sizeof(struct virtio_pci_common_cfg), 4), 0xffffffff);
}

static void test_reset(void **state)
{
	struct env *e = *state;
	negotiate(e, 1ULL << VIRTIO_F_VERSION_1);
	wr(e, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	setup_queue(e, 1, 0x10000, 0x11000, 0x12000);
	wr(e, VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	set_status(e, status(e) | VIRTIO_CONFIG_S_DRIVER_OK);
	assert_int_equal(e->activates, 1);

	set_status(e, 0);
	assert_int_equal(e->resets, 1);
	assert_int_equal(status(e), 0);
	assert_int_equal(e->dev.driver_features, 0);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
	for (unsigned i = 0; i < NQ; i++) {
		wr(e, VIRTIO_PCI_COMMON_Q_SELECT, i, 2);
		assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_SIZE, 2), QMAX);
		assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
		assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
		assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_DESCLO, 8), 0);
		assert_int_equal(rd(e, VIRTIO_PCI_COMMON_Q_USEDLO, 8), 0);
	}
	/* the device can be brought up again */
	negotiate(e, 1ULL << VIRTIO_F_VERSION_1);
	assert_true(status(e) & VIRTIO_CONFIG_S_FEATURES_OK);
}

static void test_driver_ok_bad_rings(void **state)
{
	struct env *e = *state;
	negotiate(e, 1ULL << VIRTIO_F_VERSION_1);
	setup_queue(e, 0, 0x10000, 0x11000, 0x12000);
	/* the used ring lies past the end of RAM */
	setup_queue(e, 1, 0x20000, 0x21000, LAYOUT_HIGH_RAM + 0x1000);
	set_status(e, status(e) | VIRTIO_CONFIG_S_DRIVER_OK);
	assert_true(status(e) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(e->activates, 0);
	set_status(e, 0);
	assert_int_equal(status(e), 0);

	/* DRIVER_OK without FEATURES_OK is refused too */
	set_status(e, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	set_status(e, status(e) | VIRTIO_CONFIG_S_DRIVER_OK);
	assert_true(status(e) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(e->activates, 0);
}

static void test_isr_read_clears(void **state)
{
	struct env *e = *state;
	assert_int_equal(rd(e, 0x1000, 1), 0);
	pthread_mutex_lock(&e->dev.lock);
	e->dev.transport_ops->signal_queue(&e->dev, 0);
	pthread_mutex_unlock(&e->dev.lock);
	assert_int_equal(rd(e, 0x1000, 1), 1);
	assert_int_equal(rd(e, 0x1000, 1), 0);
	pthread_mutex_lock(&e->dev.lock);
	e->dev.transport_ops->signal_config(&e->dev);
	e->dev.transport_ops->signal_queue(&e->dev, 1);
	e->dev.transport_ops->signal_queue(&e->dev, NQ); /* out of range: ignored */
	pthread_mutex_unlock(&e->dev.lock);
	wr(e, 0x1000, 0, 1); /* writes do nothing */
	assert_int_equal(rd(e, 0x1000, 1), 3);
	assert_int_equal(rd(e, 0x1000, 1), 0);
}

static void test_device_config_bounds(void **state)
{
	struct env *e = *state;
	memcpy(e->config, "\x01\x02\x03\x04\x05\x06\x07\x08", CFG_SIZE);
	assert_int_equal(rd(e, 0x2000, 4), 0x04030201);
	assert_int_equal(rd(e, 0x2004, 4), 0x08070605);
	assert_int_equal(rd(e, 0x2007, 1), 0x08);
	assert_int_equal(e->config_reads, 3);
	assert_int_equal(rd(e, 0x2006, 4), 0xffffffff);
	assert_int_equal(rd(e, 0x2008, 1), 0xff);
	assert_int_equal(rd(e, 0x2000 + 0xffc, 8), ~0ULL);
	assert_int_equal(e->config_reads, 3);
	wr(e, 0x2002, 0xaabb, 2);
	assert_int_equal(e->config_writes, 1);
	assert_int_equal(e->written_off, 2);
	assert_int_equal(e->config[2], 0xbb);
	wr(e, 0x2007, 0xaabb, 2);
	wr(e, 0x2010, 1, 1);
	assert_int_equal(e->config_writes, 1);
}

static void test_msix_delivery(void **state)
{
	struct env *e = *state;
	uint64_t entry = 0x4000 + 1 * PCI_MSIX_ENTRY_SIZE;
	wr(e, entry, 0xfee00000, 4);
	wr(e, entry + PCI_MSIX_ENTRY_DATA, 0x31, 4);
	assert_int_equal(e->route_gsi, 101);
	assert_int_equal(e->route_addr, 0xfee00000);
	assert_int_equal(e->route_data, 0x31);
	wr(e, entry + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);
	cfg_write(e, e->msix_cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);

	wr(e, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	wr(e, VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	pthread_mutex_lock(&e->dev.lock);
	e->dev.transport_ops->signal_queue(&e->dev, 0);
	pthread_mutex_unlock(&e->dev.lock);
	eventfd_t n = 0;
	assert_int_equal(eventfd_read(e->msi_fds[1], &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(eventfd_read(e->msi_fds[0], &n), -1);

	/* the config vector (0) is still masked: the interrupt waits in the PBA */
	wr(e, VIRTIO_PCI_COMMON_MSIX, 0, 2);
	pthread_mutex_lock(&e->dev.lock);
	e->dev.transport_ops->signal_config(&e->dev);
	pthread_mutex_unlock(&e->dev.lock);
	assert_int_equal(rd(e, 0x5000, 8), 1);
	wr(e, 0x4000 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);
	assert_int_equal(eventfd_read(e->msi_fds[0], &n), 0);
	assert_int_equal(rd(e, 0x5000, 8), 0);
}

static void test_notify_and_bar_move(void **state)
{
	struct env *e = *state;
	negotiate(e, 1ULL << VIRTIO_F_VERSION_1);
	setup_queue(e, 1, 0x10000, 0x11000, 0x12000);
	set_status(e, status(e) | VIRTIO_CONFIG_S_DRIVER_OK);
	assert_false(status(e) & VIRTIO_CONFIG_S_NEEDS_RESET);

	/* a kick that exits to userspace reaches the device on the loop thread */
	wr(e, 0x3000 + 4 * 1, 1, 2);
	assert_int_equal(evloop_run(e->vm.loop), 0);
	assert_int_equal(e->notified, 1);

	/* moving BAR 0 moves the ioeventfds */
	uint64_t moved = 0xd0000000;
	cfg_write(e, PCI_BASE_ADDRESS_0, (uint32_t)moved, 4);
	assert_int_equal(e->nr_ioevents, NQ);
	for (unsigned i = 0; i < NQ; i++)
		assert_true(e->ioevents[i] == moved + 0x3000 || e->ioevents[i] == moved + 0x3004);
	e->bar0 = moved;
	assert_int_equal(rd(e, VIRTIO_PCI_COMMON_NUMQ, 2), NQ);
	/* decode off drops them */
	cfg_write(e, PCI_COMMAND, 0, 2);
	assert_int_equal(e->nr_ioevents, 0);
	cfg_write(e, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_int_equal(e->nr_ioevents, NQ);
}

static void test_pci_cfg_window(void **state)
{
	struct env *e = *state;
	uint32_t c = e->cap_off[VIRTIO_PCI_CAP_PCI_CFG];
	uint32_t data = c + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data);
	/* read num_queues through config space */
	cfg_write(e, c + VIRTIO_PCI_CAP_BAR, 0, 1);
	cfg_write(e, c + VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_COMMON_NUMQ, 4);
	cfg_write(e, c + VIRTIO_PCI_CAP_LENGTH, 2, 4);
	assert_int_equal(cfg_read(e, data, 2), NQ);
	/* write device_status through it */
	cfg_write(e, c + VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_COMMON_STATUS, 4);
	cfg_write(e, c + VIRTIO_PCI_CAP_LENGTH, 1, 4);
	cfg_write(e, data, VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
	assert_int_equal(status(e), VIRTIO_CONFIG_S_ACKNOWLEDGE);
	/* misaligned, bad length or another BAR: inert */
	cfg_write(e, c + VIRTIO_PCI_CAP_OFFSET, VIRTIO_PCI_COMMON_STATUS, 4);
	cfg_write(e, c + VIRTIO_PCI_CAP_LENGTH, 2, 4);
	cfg_write(e, data, 0, 2);
	cfg_write(e, c + VIRTIO_PCI_CAP_LENGTH, 3, 4);
	cfg_write(e, data, 0, 1);
	cfg_write(e, c + VIRTIO_PCI_CAP_LENGTH, 1, 4);
	cfg_write(e, c + VIRTIO_PCI_CAP_BAR, 1, 1);
	cfg_write(e, data, 0, 1);
	cfg_write(e, c + VIRTIO_PCI_CAP_BAR, 0, 1);
	cfg_write(e, c + VIRTIO_PCI_CAP_OFFSET, 0xfffffff0, 4);
	cfg_write(e, data, 0, 1);
	assert_int_equal(status(e), VIRTIO_CONFIG_S_ACKNOWLEDGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ids_and_caps, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_feature_negotiation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_setup, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_select_out_of_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_driver_ok_bad_rings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_isr_read_clears, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_device_config_bounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_msix_delivery, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_notify_and_bar_move, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pci_cfg_window, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
