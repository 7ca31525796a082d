// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/bus.h"

struct probe {
	uint64_t last_off;
	uint32_t writes;
};

static void probe_fn(void *opaque, uint64_t off, uint8_t *data, uint32_t len, bool is_write)
{
	struct probe *p = opaque;
	p->last_off = off;
	if (is_write)
		p->writes++;
	else
		memset(data, 0x5a, len);
}

static void test_register_overlap(void **state)
{
	struct bus b;
	struct probe p = {0};
	bus_init(&b);
	assert_int_equal(bus_register(&b, 0x100, 0x10, probe_fn, &p), 0);
	assert_int_equal(bus_register(&b, 0x108, 0x10, probe_fn, &p), -EEXIST);
	assert_int_equal(bus_register(&b, 0xf8, 0x10, probe_fn, &p), -EEXIST);
	assert_int_equal(bus_register(&b, 0x110, 0x10, probe_fn, &p), 0);
	assert_int_equal(bus_register(&b, UINT64_MAX, 2, probe_fn, &p), -EINVAL);
	assert_int_equal(bus_register(&b, 0x200, 0, probe_fn, &p), -EINVAL);
	bus_finish(&b);
}

static void test_dispatch(void **state)
{
	struct bus b;
	struct probe p = {0};
	uint8_t data[8];
	bus_init(&b);
	for (int i = 0; i < 40; i++)
		assert_int_equal(bus_register(&b, 0x1000 * (uint64_t)(40 - i), 0x100, probe_fn, &p),
				 0);
	assert_true(bus_access(&b, 0x5004, data, 4, false));
	assert_int_equal(p.last_off, 4);
	assert_int_equal(data[0], 0x5a);
	assert_true(bus_access(&b, 0x50fc, data, 4, true));
	assert_int_equal(p.writes, 1);
	/* straddling the end of a range is not claimed */
	assert_false(bus_access(&b, 0x50fe, data, 4, false));
	assert_int_equal(data[0], 0xff);
	assert_false(bus_access(&b, 0x0, data, 1, false));
	assert_int_equal(bus_unregister(&b, 0x5000, &p), 0);
	assert_false(bus_access(&b, 0x5004, data, 4, false));
	assert_int_equal(bus_unregister(&b, 0x5000, &p), -ENOENT);
	bus_finish(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_register_overlap),
	    cmocka_unit_test(test_dispatch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
