// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/virtio_ring.h>

#include "vring_driver.h"
#include "virtio/virtq.h"

#define RAM_SIZE (32ULL << 20)
#define QSIZE	 16
#define RINGS	 0x1000ULL
#define TABLE	 0x8000ULL
#define TABLE2	 0x9000ULL
#define BUF	 0x10000ULL

struct fx {
	struct guest_mem mem;
	struct virtq q;
	struct vring_driver drv;
	struct virtq_chain c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || guest_mem_init(&f->mem, RAM_SIZE))
		return -1;
	vring_driver_init(&f->drv, &f->mem, &f->q, QSIZE, RINGS);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	guest_mem_finish(&f->mem);
	free(f);
	return 0;
}

static uint8_t *host(struct fx *f, uint64_t gpa)
{
	return f->mem.host + gpa;
}

/* Pop expecting a malformed chain; returns the head it reported. */
static uint16_t pop_bad(struct fx *f)
{
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), -EINVAL);
	return f->c.head;
}

static void test_direct_chain(void **state)
{
	struct fx *f = *state;
	const struct vring_buf bufs[] = {{BUF, 16, false},
					 {BUF + 0x100, 100, false},
					 {BUF + 0x1000, 512, true},
					 {BUF + 0x2000, 1, true}};

	uint16_t head = vring_driver_add(&f->drv, bufs, 4);
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 1);
	assert_int_equal(f->c.head, head);
	assert_int_equal(f->c.n_out, 2);
	assert_int_equal(f->c.n_in, 2);
	assert_ptr_equal(f->c.out[0].iov_base, host(f, BUF));
	assert_int_equal(f->c.out[0].iov_len, 16);
	assert_ptr_equal(f->c.out[1].iov_base, host(f, BUF + 0x100));
	assert_int_equal(f->c.out[1].iov_len, 100);
	assert_ptr_equal(f->c.in[0].iov_base, host(f, BUF + 0x1000));
	assert_int_equal(f->c.in[0].iov_len, 512);
	assert_ptr_equal(f->c.in[1].iov_base, host(f, BUF + 0x2000));
	assert_int_equal(f->c.out_len, 116);
	assert_int_equal(f->c.in_len, 513);
	/* drained */
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 0);
}

static void test_indirect_chain(void **state)
{
	struct fx *f = *state;
	const struct vring_buf bufs[] = {
	    {BUF, 16, false}, {BUF + 0x1000, 4096, true}, {BUF + 0x3000, 1, true}};

	uint16_t head = vring_driver_add_indirect(&f->drv, TABLE, bufs, 3);
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 1);
	assert_int_equal(f->c.head, head);
	assert_int_equal(f->c.n_out, 1);
	assert_int_equal(f->c.n_in, 2);
	assert_ptr_equal(f->c.out[0].iov_base, host(f, BUF));
	assert_ptr_equal(f->c.in[0].iov_base, host(f, BUF + 0x1000));
	assert_int_equal(f->c.in[0].iov_len, 4096);
	assert_int_equal(f->c.in_len, 4097);
}

/* Direct descriptors followed by an indirect one (no NEXT) form one chain. */
static void test_direct_then_indirect(void **state)
{
	struct fx *f = *state;

	vring_driver_set_desc(&f->drv, TABLE, 0, BUF + 0x1000, 64, VRING_DESC_F_WRITE, 0);
	vring_driver_set_desc(&f->drv, f->drv.desc_gpa, 3, BUF, 16, VRING_DESC_F_NEXT, 4);
	vring_driver_set_desc(&f->drv, f->drv.desc_gpa, 4, TABLE, 16, VRING_DESC_F_INDIRECT, 0);
	vring_driver_publish(&f->drv, 3);
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 1);
	assert_int_equal(f->c.n_out, 1);
	assert_int_equal(f->c.n_in, 1);
	assert_int_equal(f->c.in_len, 64);
}

static void test_zero_length_allowed(void **state)
{
	struct fx *f = *state;
	/* A zero-length buffer is skipped whatever its address. */
	const struct vring_buf bufs[] = {{BUF, 8, false}, {~0ULL, 0, false}, {BUF + 8, 8, true}};

	vring_driver_add(&f->drv, bufs, 3);
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 1);
	assert_int_equal(f->c.n_out, 1);
	assert_int_equal(f->c.n_in, 1);
}

static void test_empty_and_not_ready(void **state)
{
	struct fx *f = *state;
	const struct vring_buf b = {BUF, 8, false};

	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 0);
	vring_driver_add(&f->drv, &b, 1);
	f->q.ready = false;
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 0);
	assert_int_equal(virtq_push(&f->q, &f->mem, 0, 0), -EINVAL);
	f->q.ready = true;
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 1);
}

static void test_direct_loop(void **state)
{
	struct fx *f = *state;

	vring_driver_set_desc(&f->drv, f->drv.desc_gpa, 2, BUF, 8, VRING_DESC_F_NEXT, 5);
	vring_driver_set_desc(&f->drv, f->drv.desc_gpa, 5, BUF, 8, VRING_DESC_F_NEXT, 2);
	vring_driver_publish(&f->drv, 2);
	assert_int_equal(pop_bad(f), 2);
	/* a self loop */
	vring_driver_set_desc(&f->drv, f->drv.desc_gpa, 7, BUF, 0, VRING_DESC_F_NEXT, 7);
	vring_driver_publish(&f->drv, 7);
	assert_int_equal(pop_bad(f), 7);
}

static void test_indirect_loop(void **state)
{
	struct fx *f = *state;

	vring_driver_set_desc(&f->drv, TABLE, 0, BUF, 8, VRING_DESC_F_NEXT, 1);
	vring_driver_set_desc(&f->drv, TABLE, 1, BUF, 8, VRING_DESC_F_NEXT, 0);
	vring_driver_set_desc(&f->drv, f->drv.desc_gpa, 0, TABLE, 32, VRING_DESC_F_INDIRECT, 0);
	vring_driver_publish(&f->drv, 0);
	assert_int_equal(pop_bad(f), 0);
}

static void test_index_out_of_range(void **state)
{
	struct fx *f = *state;

	/* next beyond the ring */
	vring_driver_set_desc(&f->drv, f->drv.desc_gpa, 1, BUF, 8, VRING_DESC_F_NEXT, QSIZE);
	vring_driver_publish(&f->drv, 1);
	assert_int_equal(pop_bad(f), 1);
	/* next beyond an indirect table */
	vring_driver_set_desc(&f->drv, TABLE, 0, BUF, 8, VRING_DESC_F_NEXT, 1);
	vring_driver_set_desc(&f->drv, f->drv.desc_gpa, 2, TABLE, 16, VRING_DESC_F_INDIRECT, 0);
	vring_driver_publish(&f->drv, 2);
	assert_int_equal(pop_bad(f), 2);
	/* a head beyond the ring is consumed but cannot be given back */
	vring_driver_publish(&f->drv, QSIZE);
	assert_int_equal(pop_bad(f), VIRTQ_NO_HEAD);
	vring_driver_publish(&f->drv, 0xffff);
	assert_int_equal(pop_bad(f), VIRTQ_NO_HEAD);
	assert_int_equal(f->q.last_avail, 4);
}

static void test_bad_addresses(void **state)
{
	struct fx *f = *state;
	const struct vring_buf cases[] = {
	    {RAM_SIZE, 1, false},	 /* beyond RAM */
	    {RAM_SIZE - 8, 16, true},	 /* straddles its end */
	    {UINT64_MAX - 4, 16, false}, /* gpa + len wraps */
	    {0, UINT32_MAX, true},	 /* huge */
	    {0xc0000000ULL, 16, false},	 /* in the PCI hole */
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t head = vring_driver_add(&f->drv, &cases[i], 1);
		assert_int_equal(pop_bad(f), head);
	}
	/* an indirect table outside RAM */
	vring_driver_set_desc(&f->drv, f->drv.desc_gpa, 9, RAM_SIZE - 16, 32, VRING_DESC_F_INDIRECT,
			      0);
	vring_driver_publish(&f->drv, 9);
	assert_int_equal(pop_bad(f), 9);
}

static void test_bad_indirect(void **state)
{
	struct fx *f = *state;
	uint64_t desc = f->drv.desc_gpa;

	vring_driver_set_desc(&f->drv, TABLE, 0, BUF, 8, 0, 0);
	/* zero length, not a multiple of 16, too many entries */
	vring_driver_set_desc(&f->drv, desc, 0, TABLE, 0, VRING_DESC_F_INDIRECT, 0);
	vring_driver_set_desc(&f->drv, desc, 1, TABLE, 24, VRING_DESC_F_INDIRECT, 0);
	vring_driver_set_desc(&f->drv, desc, 2, TABLE, 16 * (VIRTQ_MAX_SIZE + 1),
			      VRING_DESC_F_INDIRECT, 0);
	/* INDIRECT together with NEXT */
	vring_driver_set_desc(&f->drv, desc, 3, TABLE, 16,
			      VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 4);
	vring_driver_set_desc(&f->drv, desc, 4, BUF, 8, 0, 0);
	/* nested: the table points at another table */
	vring_driver_set_desc(&f->drv, TABLE2, 0, TABLE, 16, VRING_DESC_F_INDIRECT, 0);
	vring_driver_set_desc(&f->drv, desc, 5, TABLE2, 16, VRING_DESC_F_INDIRECT, 0);
	for (uint16_t h = 0; h < 6; h++) {
		if (h == 4)
			continue;
		vring_driver_publish(&f->drv, h);
		assert_int_equal(pop_bad(f), h);
	}
}

static void test_readable_after_writable(void **state)
{
	struct fx *f = *state;
	const struct vring_buf bufs[] = {{BUF, 8, false}, {BUF + 8, 8, true}, {BUF + 16, 8, false}};

	uint16_t head = vring_driver_add(&f->drv, bufs, 3);
	assert_int_equal(pop_bad(f), head);
	/* also inside an indirect table */
	head = vring_driver_add_indirect(&f->drv, TABLE, bufs, 3);
	assert_int_equal(pop_bad(f), head);
}

static void test_too_many_segments(void **state)
{
	struct fx *f = *state;
	struct vring_buf bufs[VIRTQ_MAX_SEGS + 1];

	for (unsigned i = 0; i < VIRTQ_MAX_SEGS + 1; i++)
		bufs[i] = (struct vring_buf){BUF + i, 1, false};
	uint16_t head = vring_driver_add_indirect(&f->drv, TABLE, bufs, VIRTQ_MAX_SEGS + 1);
	assert_int_equal(pop_bad(f), head);
	/* exactly the maximum is fine */
	head = vring_driver_add_indirect(&f->drv, TABLE, bufs, VIRTQ_MAX_SEGS);
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 1);
	assert_int_equal(f->c.head, head);
	assert_int_equal(f->c.n_out, VIRTQ_MAX_SEGS);
}

/* Each buffer is valid, but together they exceed what a used length can say. */
static void test_chain_total_capped(void **state)
{
	struct fx *f = *state;
	struct vring_buf bufs[VIRTQ_MAX_SEGS];

	for (unsigned i = 0; i < VIRTQ_MAX_SEGS; i++)
		bufs[i] = (struct vring_buf){0, (16U << 20) + 1, true};
	uint16_t head = vring_driver_add_indirect(&f->drv, TABLE, bufs, VIRTQ_MAX_SEGS);
	assert_int_equal(pop_bad(f), head);
}

static void test_avail_idx_jump(void **state)
{
	struct fx *f = *state;
	const struct vring_buf b = {BUF, 8, false};

	vring_driver_set_avail_idx(&f->drv, QSIZE + 1);
	assert_int_equal(pop_bad(f), VIRTQ_NO_HEAD);
	assert_int_equal(f->q.last_avail, 0);
	/* exactly a ring's worth is fine */
	vring_driver_set_avail_idx(&f->drv, 0);
	for (int i = 0; i < QSIZE; i++)
		vring_driver_add(&f->drv, &b, 1);
	for (int i = 0; i < QSIZE; i++)
		assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 1);
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 0);
}

static void test_keeps_going_after_bad_chain(void **state)
{
	struct fx *f = *state;
	const struct vring_buf bad = {RAM_SIZE, 8, false}, good = {BUF, 8, true};

	uint16_t h1 = vring_driver_add(&f->drv, &bad, 1);
	uint16_t h2 = vring_driver_add(&f->drv, &good, 1);
	assert_int_equal(pop_bad(f), h1);
	assert_int_equal(virtq_push(&f->q, &f->mem, h1, 0), 0);
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 1);
	assert_int_equal(f->c.head, h2);
}

static void test_push(void **state)
{
	struct fx *f = *state;
	uint32_t id, len;

	assert_int_equal(virtq_push(&f->q, &f->mem, 3, 77), 0);
	assert_int_equal(virtq_push(&f->q, &f->mem, 9, 0), 0);
	assert_int_equal(virtq_push(&f->q, &f->mem, QSIZE, 1), -EINVAL);
	assert_true(vring_driver_get_used(&f->drv, &id, &len));
	assert_int_equal(id, 3);
	assert_int_equal(len, 77);
	assert_true(vring_driver_get_used(&f->drv, &id, &len));
	assert_int_equal(id, 9);
	assert_int_equal(len, 0);
	assert_false(vring_driver_get_used(&f->drv, &id, &len));
	/* the used ring wraps */
	for (int i = 0; i < 3 * QSIZE; i++) {
		assert_int_equal(virtq_push(&f->q, &f->mem, (uint16_t)(i % QSIZE), (uint32_t)i), 0);
		assert_true(vring_driver_get_used(&f->drv, &id, &len));
		assert_int_equal(len, i);
	}
}

static void test_interrupt_flags(void **state)
{
	struct fx *f = *state;

	/* nothing pushed: nothing to signal */
	assert_false(virtq_needs_interrupt(&f->q, &f->mem));
	virtq_push(&f->q, &f->mem, 0, 1);
	assert_true(virtq_needs_interrupt(&f->q, &f->mem));
	assert_false(virtq_needs_interrupt(&f->q, &f->mem));
	vring_driver_set_avail_flags(&f->drv, VRING_AVAIL_F_NO_INTERRUPT);
	virtq_push(&f->q, &f->mem, 0, 1);
	assert_false(virtq_needs_interrupt(&f->q, &f->mem));
	vring_driver_set_avail_flags(&f->drv, 0);
	virtq_push(&f->q, &f->mem, 0, 1);
	assert_true(virtq_needs_interrupt(&f->q, &f->mem));
}

static void test_interrupt_event_idx(void **state)
{
	struct fx *f = *state;

	f->q.event_idx = true;
	/* the flags are ignored with event idx */
	vring_driver_set_avail_flags(&f->drv, VRING_AVAIL_F_NO_INTERRUPT);
	vring_driver_set_used_event(&f->drv, 0);
	virtq_push(&f->q, &f->mem, 0, 1); /* used idx 1 */
	assert_true(virtq_needs_interrupt(&f->q, &f->mem));
	/* the driver wants to hear when entry 3 is used (used idx passes 3) */
	vring_driver_set_used_event(&f->drv, 3);
	virtq_push(&f->q, &f->mem, 0, 1); /* 2 */
	assert_false(virtq_needs_interrupt(&f->q, &f->mem));
	virtq_push(&f->q, &f->mem, 0, 1); /* 3 */
	assert_false(virtq_needs_interrupt(&f->q, &f->mem));
	virtq_push(&f->q, &f->mem, 0, 1); /* 4 */
	assert_true(virtq_needs_interrupt(&f->q, &f->mem));
	/* several pushes at once crossing the event */
	vring_driver_set_used_event(&f->drv, 5);
	for (int i = 0; i < 4; i++)
		virtq_push(&f->q, &f->mem, 0, 1); /* 8 */
	assert_true(virtq_needs_interrupt(&f->q, &f->mem));
	/* an event already behind does not fire again */
	virtq_push(&f->q, &f->mem, 0, 1);
	assert_false(virtq_needs_interrupt(&f->q, &f->mem));
}

static void test_avail_event(void **state)
{
	struct fx *f = *state;
	const struct vring_buf b = {BUF, 8, false};

	f->q.event_idx = true;
	vring_driver_add(&f->drv, &b, 1);
	vring_driver_add(&f->drv, &b, 1);
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 1);
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 1);
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 0);
	/* the driver is asked to notify when it makes entry 2 available */
	assert_int_equal(vring_driver_avail_event(&f->drv), 2);
}

static void test_check(void **state)
{
	struct fx *f = *state;
	struct virtq q = f->q;

	assert_true(virtq_check(&q, &f->mem));
	q.desc_gpa += 8;
	assert_false(virtq_check(&q, &f->mem));
	q = f->q;
	q.avail_gpa += 1;
	assert_false(virtq_check(&q, &f->mem));
	q = f->q;
	q.used_gpa += 2;
	assert_false(virtq_check(&q, &f->mem));
	q = f->q;
	q.size = 12;
	assert_false(virtq_check(&q, &f->mem));
	q.size = 0;
	assert_false(virtq_check(&q, &f->mem));
	q.size = 2 * VIRTQ_MAX_SIZE;
	assert_false(virtq_check(&q, &f->mem));
	/* each ring must fit in RAM, event words included */
	q = f->q;
	q.desc_gpa = RAM_SIZE - 16 * QSIZE + 16;
	assert_false(virtq_check(&q, &f->mem));
	q = f->q;
	q.avail_gpa = RAM_SIZE - (4 + 2 * QSIZE);
	assert_false(virtq_check(&q, &f->mem));
	q.avail_gpa = RAM_SIZE - (6 + 2 * QSIZE);
	assert_true(virtq_check(&q, &f->mem));
	q = f->q;
	q.used_gpa = RAM_SIZE - (4 + 8 * QSIZE);
	assert_false(virtq_check(&q, &f->mem));
	q.used_gpa = UINT64_MAX - 3;
	assert_false(virtq_check(&q, &f->mem));
	/* a broken ring is refused by pop too */
	f->q.desc_gpa += 8;
	assert_int_equal(pop_bad(f), VIRTQ_NO_HEAD);
}

static void test_reset(void **state)
{
	struct fx *f = *state;
	const struct vring_buf b = {BUF, 8, false};

	vring_driver_add(&f->drv, &b, 1);
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 1);
	virtq_push(&f->q, &f->mem, 0, 0);
	f->q.msix_vector = 3;
	virtq_reset(&f->q);
	assert_false(f->q.ready);
	assert_int_equal(f->q.last_avail, 0);
	assert_int_equal(f->q.used_idx, 0);
	assert_int_equal(f->q.size, QSIZE);
	assert_int_equal(f->q.msix_vector, 3);
}

static void test_copy_and_slice(void **state)
{
	struct fx *f = *state;
	const struct vring_buf bufs[] = {
	    {BUF, 3, false}, {BUF + 0x10, 5, false}, {BUF + 0x20, 4, true}, {BUF + 0x30, 4, true}};
	uint8_t out[16] = {0};

	memcpy(host(f, BUF), "abc", 3);
	memcpy(host(f, BUF + 0x10), "defgh", 5);
	vring_driver_add(&f->drv, bufs, 4);
	assert_int_equal(virtq_pop(&f->q, &f->mem, &f->c), 1);
	assert_int_equal(virtq_copy_from_out(&f->c, 2, out, 16), 6);
	assert_memory_equal(out, "cdefgh", 6);
	assert_int_equal(virtq_copy_to_in(&f->c, 3, "XYZW", 4), 4);
	assert_memory_equal(host(f, BUF + 0x23), "X", 1);
	assert_memory_equal(host(f, BUF + 0x30), "YZW", 3);
	assert_int_equal(virtq_copy_to_in(&f->c, 8, "!", 1), 0);

	struct iovec iov[4];
	assert_int_equal(virtq_iov_slice(f->c.out, f->c.n_out, 1, 3, iov), 2);
	assert_ptr_equal(iov[0].iov_base, host(f, BUF + 1));
	assert_int_equal(iov[0].iov_len, 2);
	assert_ptr_equal(iov[1].iov_base, host(f, BUF + 0x10));
	assert_int_equal(iov[1].iov_len, 1);
	assert_int_equal(virtq_iov_slice(f->c.out, f->c.n_out, 8, 4, iov), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_direct_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_indirect_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_direct_then_indirect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_zero_length_allowed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_empty_and_not_ready, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_direct_loop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_indirect_loop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_out_of_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_addresses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_indirect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readable_after_writable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_many_segments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain_total_capped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_avail_idx_jump, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keeps_going_after_bad_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_push, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_interrupt_flags, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_interrupt_event_idx, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_avail_event, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_copy_and_slice, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
