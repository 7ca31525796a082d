// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vring_driver.h"

#define RAM_SIZE (4ULL << 20)
#define RINGS	 0x1000ULL
#define BUF	 0x10000ULL

struct fx {
	struct vring_device dev; /* first: see vring_device_teardown() */
	struct vring_driver drv;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*state = f;
	if (vring_device_init(&f->dev, RAM_SIZE) ||
	    vring_device_set(&f->dev, virtio_rng_create(&f->dev.mem, f->dev.loop)))
		return -1;
	vring_driver_init(&f->drv, &f->dev.mem, &f->dev.d->vq[0], 16, RINGS);
	return f->dev.d->ops->activate(f->dev.d) ? 0 : -1;
}

static uint8_t *host(struct fx *f, uint64_t gpa)
{
	return f->dev.mem.host + gpa;
}

/* Whether @len bytes at @p still all hold @byte. */
static bool untouched(const uint8_t *p, size_t len, uint8_t byte)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != byte)
			return false;
	return true;
}

static void test_fill(void **state)
{
	struct fx *f = *state;
	const struct vring_buf bufs[] = {
	    {BUF, 64, false}, {BUF + 0x1000, 64, true}, {BUF + 0x2000, 100, true}};
	uint32_t id, len;

	memset(host(f, BUF), 0xaa, 0x3000);
	uint16_t head = vring_driver_add(&f->drv, bufs, 3);
	f->dev.d->ops->queue_notify(f->dev.d, 0);
	assert_true(vring_driver_get_used(&f->drv, &id, &len));
	assert_int_equal(id, head);
	assert_int_equal(len, 164);
	assert_true(untouched(host(f, BUF), 64, 0xaa));
	assert_false(untouched(host(f, BUF + 0x1000), 64, 0xaa));
	assert_false(untouched(host(f, BUF + 0x2000), 100, 0xaa));
	/* nothing written past the buffers */
	assert_true(untouched(host(f, BUF + 0x2000 + 100), 0x100, 0xaa));
	assert_int_equal(f->dev.sig.queue[0], 1);
}

static void test_several_and_malformed(void **state)
{
	struct fx *f = *state;
	const struct vring_buf good = {BUF, 32, true}, bad = {RAM_SIZE - 4, 32, true};
	uint32_t id, len;

	vring_driver_add(&f->drv, &good, 1);
	vring_driver_add(&f->drv, &bad, 1);
	vring_driver_add(&f->drv, &good, 1);
	f->dev.d->ops->queue_notify(f->dev.d, 0);
	uint32_t want[] = {32, 0, 32};
	for (int i = 0; i < 3; i++) {
		assert_true(vring_driver_get_used(&f->drv, &id, &len));
		assert_int_equal(len, want[i]);
	}
	assert_false(vring_driver_get_used(&f->drv, &id, &len));
	/* one interrupt for the whole batch */
	assert_int_equal(f->dev.sig.queue[0], 1);
}

/* Huge requests are served in part, as the spec allows. */
static void test_large_request_capped(void **state)
{
	struct fx *f = *state;
	const struct vring_buf big = {BUF, 1U << 20, true};
	uint32_t id, len;

	vring_driver_add(&f->drv, &big, 1);
	f->dev.d->ops->queue_notify(f->dev.d, 0);
	assert_true(vring_driver_get_used(&f->drv, &id, &len));
	assert_true(len > 0);
	assert_true(len < (1U << 20));
}

static void test_readable_only(void **state)
{
	struct fx *f = *state;
	const struct vring_buf b = {BUF, 32, false};
	uint32_t id, len;

	memset(host(f, BUF), 0xaa, 32);
	vring_driver_add(&f->drv, &b, 1);
	f->dev.d->ops->queue_notify(f->dev.d, 0);
	assert_true(vring_driver_get_used(&f->drv, &id, &len));
	assert_int_equal(len, 0);
	assert_true(untouched(host(f, BUF), 32, 0xaa));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_fill, setup, vring_device_teardown),
	    cmocka_unit_test_setup_teardown(test_several_and_malformed, setup,
					    vring_device_teardown),
	    cmocka_unit_test_setup_teardown(test_large_request_capped, setup,
					    vring_device_teardown),
	    cmocka_unit_test_setup_teardown(test_readable_only, setup, vring_device_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
