// SPDX-License-Identifier: MIT
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vmm/guest_mem.h"
#include "vmm/layout.h"

static void test_low_only(void **state)
{
	struct guest_mem m;
	assert_int_equal(guest_mem_init(&m, 64 << 20), 0);
	assert_int_equal(m.low_size, 64 << 20);
	assert_ptr_equal(guest_mem_ptr(&m, 0, 64 << 20), m.host);
	assert_non_null(guest_mem_ptr(&m, (64 << 20) - 1, 1));
	assert_non_null(guest_mem_ptr(&m, 100, 0));
	assert_null(guest_mem_ptr(&m, 64 << 20, 0));
	assert_null(guest_mem_ptr(&m, (64 << 20) - 1, 2));
	assert_null(guest_mem_ptr(&m, 64 << 20, 1));
	assert_null(guest_mem_ptr(&m, UINT64_MAX, 2));
	assert_null(guest_mem_ptr(&m, 16, UINT64_MAX));
	assert_null(guest_mem_ptr(&m, LAYOUT_HIGH_RAM, 1));
	uint32_t v = 0xdeadbeef, r = 0;
	assert_true(guest_mem_write(&m, 0x1000, &v, 4));
	assert_true(guest_mem_read(&m, 0x1000, &r, 4));
	assert_int_equal(r, v);
	assert_false(guest_mem_write(&m, (64 << 20) - 2, &v, 4));
	guest_mem_finish(&m);
}

static void test_split_at_hole(void **state)
{
	struct guest_mem m;
	uint64_t size = LAYOUT_PCI_HOLE + (64ULL << 20);
	assert_int_equal(guest_mem_init(&m, size), 0);
	assert_int_equal(m.low_size, LAYOUT_PCI_HOLE);
	assert_int_equal(guest_mem_high_size(&m), 64ULL << 20);
	/* the hole is not RAM, and no range crosses it */
	assert_null(guest_mem_ptr(&m, LAYOUT_PCI_HOLE, 1));
	assert_null(guest_mem_ptr(&m, LAYOUT_PCI_HOLE - 4, 8));
	assert_ptr_equal(guest_mem_ptr(&m, LAYOUT_HIGH_RAM, 16), m.host + LAYOUT_PCI_HOLE);
	assert_non_null(guest_mem_ptr(&m, LAYOUT_HIGH_RAM + (64ULL << 20) - 8, 8));
	assert_null(guest_mem_ptr(&m, LAYOUT_HIGH_RAM + (64ULL << 20) - 8, 9));
	guest_mem_finish(&m);
}

static void test_bad_size(void **state)
{
	struct guest_mem m;
	assert_int_equal(guest_mem_init(&m, 0), -EINVAL);
	assert_int_equal(guest_mem_init(&m, (2 << 20) + 4096), -EINVAL);
	guest_mem_finish(&m);
	assert_null(guest_mem_ptr(&m, 0, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_low_only),
	    cmocka_unit_test(test_split_at_hole),
	    cmocka_unit_test(test_bad_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
