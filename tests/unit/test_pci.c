// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/layout.h"
#include "vmm/pci.h"

struct fake_dev {
	struct pci_dev pci;
	int mapped_calls;
	int mapped_bar;
	uint64_t mapped_addr;
	int access_bar;
	uint64_t access_off;
};

struct env {
	struct bus pio, mmio;
	struct pci_bus pb;
	struct fake_dev fd;
};

static void fake_bar_mapped(struct pci_dev *dev, int bar, uint64_t addr)
{
	struct fake_dev *f = (struct fake_dev *)dev;
	f->mapped_calls++;
	f->mapped_bar = bar;
	f->mapped_addr = addr;
}

static void fake_bar_access(struct pci_dev *dev, int bar, uint64_t off, uint8_t *data, uint32_t len,
			    bool is_write)
{
	struct fake_dev *f = (struct fake_dev *)dev;
	f->access_bar = bar;
	f->access_off = off;
	if (!is_write)
		memset(data, 0x42, len);
}

static const struct pci_dev_ops fake_ops = {
    .bar_mapped = fake_bar_mapped,
    .bar_access = fake_bar_access,
};

static uint32_t bdf(unsigned bus, unsigned slot, unsigned fn)
{
	return bus << 16 | slot << 11 | fn << 8;
}

static void outl(struct env *e, uint16_t port, uint32_t val)
{
	bus_access(&e->pio, port, (uint8_t *)&val, 4, true);
}

static uint32_t in(struct env *e, uint16_t port, uint32_t len)
{
	uint32_t val = 0;
	bus_access(&e->pio, port, (uint8_t *)&val, len, false);
	return val;
}

static uint32_t cfg_read(struct env *e, uint32_t dev, uint32_t reg, uint32_t len)
{
	outl(e, LAYOUT_PORT_PCI_ADDR, 0x80000000u | dev | (reg & 0xfc));
	return in(e, (uint16_t)(LAYOUT_PORT_PCI_DATA + (reg & 3)), len);
}

static void cfg_write(struct env *e, uint32_t dev, uint32_t reg, uint32_t val, uint32_t len)
{
	outl(e, LAYOUT_PORT_PCI_ADDR, 0x80000000u | dev | (reg & 0xfc));
	bus_access(&e->pio, LAYOUT_PORT_PCI_DATA + (reg & 3), (uint8_t *)&val, len, true);
}

static bool mmio_claimed(struct env *e, uint64_t addr)
{
	uint32_t v;
	return bus_access(&e->mmio, addr, (uint8_t *)&v, 4, false);
}

static int setup(void **state)
{
	struct env *e = test_calloc(1, sizeof(*e));
	bus_init(&e->pio);
	bus_init(&e->mmio);
	assert_int_equal(pci_bus_init(&e->pb, &e->pio, &e->mmio), 0);
	e->fd.pci.ops = &fake_ops;
	pci_cfg_set(&e->fd.pci, PCI_VENDOR_ID, 0x1234, 2);
	pci_cfg_set(&e->fd.pci, PCI_DEVICE_ID, 0x5678, 2);
	e->fd.pci.bar_size[0] = 0x4000;
	e->fd.pci.bar_size[2] = 0x1000;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	pci_bus_finish(&e->pb, &e->pio);
	bus_finish(&e->pio);
	bus_finish(&e->mmio);
	test_free(e);
	return 0;
}

static void test_host_bridge(void **state)
{
	struct env *e = *state;
	uint32_t hb = bdf(0, 0, 0);
	assert_int_equal(cfg_read(e, hb, PCI_VENDOR_ID, 4), 0x12378086);
	assert_int_equal(cfg_read(e, hb, PCI_VENDOR_ID, 2), 0x8086);
	assert_int_equal(cfg_read(e, hb, PCI_DEVICE_ID, 2), 0x1237);
	assert_int_equal(cfg_read(e, hb, 1, 1), 0x80);
	assert_int_equal(cfg_read(e, hb, 1, 2), 0x3780);
	assert_int_equal(cfg_read(e, hb, PCI_CLASS_DEVICE, 2), 0x0600);
	assert_int_equal(cfg_read(e, hb, PCI_CLASS_REVISION, 4) >> 8, 0x060000);
	assert_int_equal(cfg_read(e, hb, PCI_HEADER_TYPE, 1), 0);
	/* a word at 0xcff would cross the data register: not claimed */
	assert_int_equal(cfg_read(e, hb, 3, 2), 0xffff);
	/* no BARs, no interrupt pin */
	assert_int_equal(cfg_read(e, hb, PCI_BASE_ADDRESS_0, 4), 0);
	assert_int_equal(cfg_read(e, hb, PCI_INTERRUPT_PIN, 1), 0);
	/* header bits outside wmask stay */
	cfg_write(e, hb, PCI_VENDOR_ID, 0, 4);
	assert_int_equal(cfg_read(e, hb, PCI_VENDOR_ID, 4), 0x12378086);
	cfg_write(e, hb, PCI_INTERRUPT_LINE, 0x0b, 1);
	assert_int_equal(cfg_read(e, hb, PCI_INTERRUPT_LINE, 1), 0x0b);
}

static void test_address_register(void **state)
{
	struct env *e = *state;
	outl(e, LAYOUT_PORT_PCI_ADDR, 0x80000000);
	assert_int_equal(in(e, LAYOUT_PORT_PCI_ADDR, 4), 0x80000000);
	/* only dword accesses reach 0xcf8 */
	uint8_t b = 0x01;
	bus_access(&e->pio, LAYOUT_PORT_PCI_ADDR + 3, &b, 1, true);
	assert_int_equal(in(e, LAYOUT_PORT_PCI_ADDR, 4), 0x80000000);
	assert_int_equal(in(e, LAYOUT_PORT_PCI_ADDR, 1), 0xff);
	assert_int_equal(in(e, LAYOUT_PORT_PCI_ADDR, 2), 0xffff);
	/* reserved low bits read as zero */
	outl(e, LAYOUT_PORT_PCI_ADDR, 0x80000003);
	assert_int_equal(in(e, LAYOUT_PORT_PCI_ADDR, 4), 0x80000000);
}

static void test_disabled_and_absent(void **state)
{
	struct env *e = *state;
	/* enable bit clear */
	outl(e, LAYOUT_PORT_PCI_ADDR, 0);
	assert_int_equal(in(e, LAYOUT_PORT_PCI_DATA, 4), 0xffffffff);
	assert_int_equal(cfg_read(e, bdf(1, 0, 0), 0, 4), 0xffffffff);
	assert_int_equal(cfg_read(e, bdf(0, 0, 1), 0, 4), 0xffffffff);
	assert_int_equal(cfg_read(e, bdf(0, 5, 0), 0, 2), 0xffff);
	assert_int_equal(cfg_read(e, bdf(0, 31, 7), 0, 1), 0xff);
	/* writes to absent functions change nothing */
	cfg_write(e, bdf(0, 0, 1), PCI_INTERRUPT_LINE, 0x0c, 1);
	cfg_write(e, bdf(1, 0, 0), PCI_INTERRUPT_LINE, 0x0c, 1);
	assert_int_equal(cfg_read(e, bdf(0, 0, 0), PCI_INTERRUPT_LINE, 1), 0);
}

static void test_add_and_bars(void **state)
{
	struct env *e = *state;
	struct fake_dev *f = &e->fd;
	assert_int_equal(pci_bus_add(&e->pb, &f->pci), 1);
	uint32_t d = bdf(0, 1, 0);
	assert_int_equal(cfg_read(e, d, PCI_VENDOR_ID, 4), 0x56781234);
	assert_true(cfg_read(e, d, PCI_COMMAND, 2) & PCI_COMMAND_MEMORY);
	uint32_t bar0 = cfg_read(e, d, PCI_BASE_ADDRESS_0, 4);
	uint32_t bar2 = cfg_read(e, d, PCI_BASE_ADDRESS_2, 4);
	assert_true(bar0 >= LAYOUT_PCI_MMIO && bar0 < LAYOUT_PCI_MMIO + LAYOUT_PCI_MMIO_SIZE);
	assert_int_equal(bar0 % 0x4000, 0);
	assert_int_equal(bar2 % 0x1000, 0);
	assert_true(bar2 >= bar0 + 0x4000 || bar2 + 0x1000 <= bar0);
	assert_int_equal(cfg_read(e, d, PCI_BASE_ADDRESS_1, 4), 0);
	assert_int_equal(f->pci.bar_addr[0], bar0);
	assert_int_equal(f->mapped_calls, 2);

	/* accesses reach the device with BAR-relative offsets */
	assert_true(mmio_claimed(e, bar0 + 0x10));
	assert_int_equal(f->access_bar, 0);
	assert_int_equal(f->access_off, 0x10);
	assert_true(mmio_claimed(e, bar2 + 0xffc));
	assert_int_equal(f->access_bar, 2);
	assert_int_equal(f->access_off, 0xffc);
	assert_false(mmio_claimed(e, bar0 + 0x4000 - 2));

	/* a second device lands in slot 2 without overlapping */
	struct fake_dev g = {.pci = {.ops = &fake_ops, .bar_size = {0x8000}}};
	assert_int_equal(pci_bus_add(&e->pb, &g.pci), 2);
	uint32_t gbar = cfg_read(e, bdf(0, 2, 0), PCI_BASE_ADDRESS_0, 4);
	assert_int_equal(gbar % 0x8000, 0);
	assert_true(gbar >= bar0 + 0x4000 && gbar >= bar2 + 0x1000);
	pci_bus_remove(&e->pb, &g.pci);
	assert_int_equal(g.mapped_addr, 0);
	assert_false(mmio_claimed(e, gbar));
	assert_int_equal(cfg_read(e, bdf(0, 2, 0), 0, 4), 0xffffffff);

	/* BAR sizes must be powers of two */
	struct fake_dev bad = {.pci = {.ops = &fake_ops, .bar_size = {0x3000}}};
	assert_int_equal(pci_bus_add(&e->pb, &bad.pci), -EINVAL);
}

static void test_bar_sizing_and_move(void **state)
{
	struct env *e = *state;
	struct fake_dev *f = &e->fd;
	assert_int_equal(pci_bus_add(&e->pb, &f->pci), 1);
	uint32_t d = bdf(0, 1, 0);
	uint32_t bar0 = cfg_read(e, d, PCI_BASE_ADDRESS_0, 4);

	/* the way Linux sizes a BAR: decode off, all ones, read, restore */
	cfg_write(e, d, PCI_COMMAND, 0, 2);
	assert_int_equal(f->mapped_addr, 0);
	assert_false(mmio_claimed(e, bar0));
	assert_int_equal(f->pci.bar_addr[0], 0);
	cfg_write(e, d, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	assert_int_equal(cfg_read(e, d, PCI_BASE_ADDRESS_0, 4), 0xffffc000);
	cfg_write(e, d, PCI_BASE_ADDRESS_1, 0xffffffff, 4);
	assert_int_equal(cfg_read(e, d, PCI_BASE_ADDRESS_1, 4), 0);
	cfg_write(e, d, PCI_BASE_ADDRESS_0, bar0, 4);
	assert_false(mmio_claimed(e, bar0));

	/* decode back on maps it again */
	int calls = f->mapped_calls;
	cfg_write(e, d, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	assert_true(mmio_claimed(e, bar0));
	assert_int_equal(f->mapped_calls, calls + 2);

	/* moving the BAR with decode on re-registers the range */
	uint32_t moved = 0xd0000000;
	cfg_write(e, d, PCI_BASE_ADDRESS_0, moved | 0xfff, 4);
	assert_int_equal(cfg_read(e, d, PCI_BASE_ADDRESS_0, 4), moved);
	assert_int_equal(f->mapped_bar, 0);
	assert_int_equal(f->mapped_addr, moved);
	assert_false(mmio_claimed(e, bar0));
	assert_true(mmio_claimed(e, moved + 0x3ffc));
	assert_int_equal(f->access_off, 0x3ffc);
	/* a byte write to the BAR's top byte moves it too */
	cfg_write(e, d, PCI_BASE_ADDRESS_0 + 3, 0xe0, 1);
	assert_int_equal(f->mapped_addr, 0xe0000000);
	assert_false(mmio_claimed(e, moved));
	assert_true(mmio_claimed(e, 0xe0000000));
}

static void test_capabilities(void **state)
{
	struct env *e = *state;
	struct fake_dev *f = &e->fd;
	uint8_t body_a[6] = {0, 0, 0xaa, 0xbb, 0xcc, 0xdd};
	uint8_t body_b[3] = {0, 0, 0x77};
	assert_int_equal(pci_add_cap(&f->pci, PCI_CAP_ID_VNDR, body_a, sizeof(body_a)), 0x40);
	assert_int_equal(pci_add_cap(&f->pci, PCI_CAP_ID_MSIX, body_b, sizeof(body_b)), 0x48);
	assert_int_equal(pci_add_cap(&f->pci, PCI_CAP_ID_VNDR, NULL, 4), 0x4c);
	assert_int_equal(pci_add_cap(&f->pci, PCI_CAP_ID_VNDR, NULL, 1), -EINVAL);
	assert_int_equal(pci_add_cap(&f->pci, PCI_CAP_ID_VNDR, NULL, 200), -ENOSPC);
	assert_int_equal(pci_bus_add(&e->pb, &f->pci), 1);

	uint32_t d = bdf(0, 1, 0);
	assert_true(cfg_read(e, d, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	const uint8_t ids[] = {PCI_CAP_ID_VNDR, PCI_CAP_ID_MSIX, PCI_CAP_ID_VNDR};
	uint32_t pos = cfg_read(e, d, PCI_CAPABILITY_LIST, 1);
	unsigned n = 0;
	while (pos && n < 48) {
		assert_int_equal(pos % 4, 0);
		assert_true(n < sizeof(ids));
		assert_int_equal(cfg_read(e, d, pos, 1), ids[n]);
		n++;
		pos = cfg_read(e, d, pos + 1, 1);
	}
	assert_int_equal(n, 3);
	assert_int_equal(cfg_read(e, d, 0x40, 4), 0xbbaa0000u | 0x48 << 8 | PCI_CAP_ID_VNDR);
	assert_int_equal(cfg_read(e, d, 0x44, 2), 0xddcc);
	assert_int_equal(cfg_read(e, d, 0x4a, 1), 0x77);
	/* capabilities are read-only unless the owner opens them */
	cfg_write(e, d, 0x41, 0, 1);
	assert_int_equal(cfg_read(e, d, 0x41, 1), 0x48);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_host_bridge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_address_register, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_disabled_and_absent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_add_and_bars, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bar_sizing_and_move, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_capabilities, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
