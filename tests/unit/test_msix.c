// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "virtio/msix.h"

#define NVEC	     3
#define CTRL_ENABLE  PCI_MSIX_FLAGS_ENABLE
#define CTRL_MASKALL PCI_MSIX_FLAGS_MASKALL

struct owner {
	struct pci_dev pci;
	struct msix msix;
	unsigned delivered[NVEC];
	unsigned routes;
	unsigned route_v;
	uint64_t route_addr;
	uint32_t route_data;
	int cap;
};

static void owner_deliver(void *opaque, unsigned v)
{
	struct owner *o = opaque;
	assert_true(v < NVEC);
	o->delivered[v]++;
}

static void owner_route(void *opaque, unsigned v, uint64_t addr, uint32_t data)
{
	struct owner *o = opaque;
	o->routes++;
	o->route_v = v;
	o->route_addr = addr;
	o->route_data = data;
}

static const struct msix_ops owner_msix_ops = {
    .deliver = owner_deliver,
    .route = owner_route,
};

static void owner_cfg_write(struct pci_dev *dev, uint32_t off, uint32_t val, uint32_t len)
{
	struct owner *o = (struct owner *)dev;
	msix_cfg_write(&o->msix, off, len);
}

static const struct pci_dev_ops owner_pci_ops = {
    .cfg_write = owner_cfg_write,
};

static int setup(void **state)
{
	struct owner *o = test_calloc(1, sizeof(*o));
	o->pci.ops = &owner_pci_ops;
	assert_int_equal(msix_init(&o->msix, NVEC, &owner_msix_ops, o), 0);
	assert_int_equal(msix_add_cap(&o->msix, &o->pci, 2, 0x1000, 0x1800), 0);
	o->cap = o->pci.cfg[PCI_CAPABILITY_LIST];
	*state = o;
	return 0;
}

static int teardown(void **state)
{
	struct owner *o = *state;
	msix_finish(&o->msix);
	test_free(o);
	return 0;
}

static void set_ctrl(struct owner *o, uint16_t ctrl)
{
	pci_config_write(&o->pci, (uint32_t)o->cap + PCI_MSIX_FLAGS, ctrl, 2);
}

static void table_write(struct owner *o, uint64_t off, uint64_t val, uint32_t len)
{
	msix_table_access(&o->msix, off, (uint8_t *)&val, len, true);
}

static uint64_t table_read(struct owner *o, uint64_t off, uint32_t len)
{
	uint64_t val = ~0ULL;
	msix_table_access(&o->msix, off, (uint8_t *)&val, len, false);
	return val;
}

static uint64_t pba_read(struct owner *o)
{
	uint64_t val = ~0ULL;
	msix_pba_access(&o->msix, 0, (uint8_t *)&val, 8, false);
	return val;
}

static void unmask(struct owner *o, unsigned v)
{
	table_write(o, v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4);
}

static void test_capability(void **state)
{
	struct owner *o = *state;
	struct pci_dev *p = &o->pci;
	assert_int_equal(p->cfg[o->cap], PCI_CAP_ID_MSIX);
	assert_int_equal(pci_cfg_get(p, o->cap + PCI_MSIX_FLAGS, 2), NVEC - 1);
	assert_int_equal(pci_cfg_get(p, o->cap + PCI_MSIX_TABLE, 4), 0x1000 | 2);
	assert_int_equal(pci_cfg_get(p, o->cap + PCI_MSIX_PBA, 4), 0x1800 | 2);
	assert_int_equal(msix_table_bytes(&o->msix), NVEC * 16);
	assert_int_equal(msix_pba_bytes(&o->msix), 8);
	/* only enable and function mask are writable */
	set_ctrl(o, 0xffff);
	assert_int_equal(pci_cfg_get(p, o->cap + PCI_MSIX_FLAGS, 2),
			 CTRL_ENABLE | CTRL_MASKALL | (NVEC - 1));
	assert_true(o->msix.enabled);
	assert_true(o->msix.masked);
	set_ctrl(o, 0);
	assert_false(o->msix.enabled);

	struct msix m;
	assert_int_equal(msix_init(&m, 0, &owner_msix_ops, o), -EINVAL);
	assert_int_equal(msix_init(&m, MSIX_MAX_VECTORS + 1, &owner_msix_ops, o), -EINVAL);
	msix_finish(&m);
}

static void test_disabled_does_nothing(void **state)
{
	struct owner *o = *state;
	unmask(o, 0);
	msix_notify(&o->msix, 0);
	assert_int_equal(o->delivered[0], 0);
	assert_int_equal(pba_read(o), 0);
	/* enabling later does not replay it */
	set_ctrl(o, CTRL_ENABLE);
	assert_int_equal(o->delivered[0], 0);
}

static void test_vector_mask_pending(void **state)
{
	struct owner *o = *state;
	set_ctrl(o, CTRL_ENABLE);
	/* entries start masked */
	assert_int_equal(table_read(o, 1 * 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 4) & 0xffffffff, 1);
	msix_notify(&o->msix, 1);
	assert_int_equal(o->delivered[1], 0);
	assert_int_equal(pba_read(o), 1 << 1);
	/* the PBA is read-only */
	uint64_t zero = 0;
	msix_pba_access(&o->msix, 0, (uint8_t *)&zero, 8, true);
	assert_int_equal(pba_read(o), 1 << 1);
	unmask(o, 1);
	assert_int_equal(o->delivered[1], 1);
	assert_int_equal(pba_read(o), 0);
	/* unmasked: straight through */
	msix_notify(&o->msix, 1);
	assert_int_equal(o->delivered[1], 2);
	assert_int_equal(pba_read(o), 0);
	/* masking again holds the next one */
	table_write(o, 1 * 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 1, 4);
	msix_notify(&o->msix, 1);
	assert_int_equal(o->delivered[1], 2);
	assert_int_equal(pba_read(o), 1 << 1);
}

static void test_function_mask(void **state)
{
	struct owner *o = *state;
	set_ctrl(o, CTRL_ENABLE | CTRL_MASKALL);
	unmask(o, 0);
	unmask(o, 2);
	msix_notify(&o->msix, 0);
	msix_notify(&o->msix, 2);
	assert_int_equal(o->delivered[0] + o->delivered[2], 0);
	assert_int_equal(pba_read(o), 0x5);
	set_ctrl(o, CTRL_ENABLE);
	assert_int_equal(o->delivered[0], 1);
	assert_int_equal(o->delivered[2], 1);
	assert_int_equal(pba_read(o), 0);
}

static void test_entries_and_routes(void **state)
{
	struct owner *o = *state;
	table_write(o, 2 * 16 + PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee01000, 4);
	assert_int_equal(o->routes, 1);
	assert_int_equal(o->route_v, 2);
	assert_int_equal(o->route_addr, 0xfee01000);
	table_write(o, 2 * 16 + PCI_MSIX_ENTRY_DATA, 0x4041, 4);
	assert_int_equal(o->routes, 2);
	assert_int_equal(o->route_data, 0x4041);
	/* unchanged values do not re-route */
	table_write(o, 2 * 16 + PCI_MSIX_ENTRY_DATA, 0x4041, 4);
	assert_int_equal(o->routes, 2);
	/* one 8-byte write covers address low and high */
	table_write(o, 1 * 16, 0x00000001fee00000ULL, 8);
	assert_int_equal(o->route_v, 1);
	assert_int_equal(o->route_addr, 0x1fee00000ULL);
	assert_int_equal(table_read(o, 1 * 16, 8), 0x00000001fee00000ULL);
	assert_int_equal(table_read(o, 1 * 16 + 4, 4) & 0xffffffff, 1);
	/* reserved vector control bits read as zero */
	table_write(o, 0 * 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 0xfffffffe, 4);
	assert_int_equal(table_read(o, 0 * 16 + PCI_MSIX_ENTRY_VECTOR_CTRL, 4) & 0xffffffff, 0);
}

static void test_bad_accesses_ignored(void **state)
{
	struct owner *o = *state;
	unsigned routes = o->routes;
	table_write(o, 0, 0x1234, 2);	      /* narrow */
	table_write(o, 2, 0x1234, 4);	      /* unaligned */
	table_write(o, 4, 0x1234, 8);	      /* 8 bytes not 8-aligned */
	table_write(o, NVEC * 16, 0x1234, 4); /* past the table */
	table_write(o, UINT64_MAX - 3, 0x1234, 4);
	assert_int_equal(o->routes, routes);
	assert_int_equal(table_read(o, 0, 4) & 0xffffffff, 0);
	assert_int_equal(table_read(o, 0, 2), ~0ULL);
	assert_int_equal(table_read(o, NVEC * 16, 4), ~0ULL);
	uint64_t val = ~0ULL;
	msix_pba_access(&o->msix, 8, (uint8_t *)&val, 8, false);
	assert_int_equal(val, ~0ULL);
	msix_pba_access(&o->msix, 2, (uint8_t *)&val, 4, false);
	assert_int_equal(val, ~0ULL);
}

static void test_out_of_range_vector(void **state)
{
	struct owner *o = *state;
	set_ctrl(o, CTRL_ENABLE);
	for (unsigned v = 0; v < NVEC; v++)
		unmask(o, v);
	msix_notify(&o->msix, NVEC);
	msix_notify(&o->msix, 0xffff);
	msix_notify(&o->msix, UINT32_MAX);
	for (unsigned v = 0; v < NVEC; v++)
		assert_int_equal(o->delivered[v], 0);
	assert_int_equal(pba_read(o), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_capability, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_disabled_does_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vector_mask_pending, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_function_mask, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_entries_and_routes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_accesses_ignored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_of_range_vector, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
