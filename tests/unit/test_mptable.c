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
#include "vmm/mptable.h"

/* Offsets from the Intel MP specification 1.4, chapter 4. */
#define MPF_PHYSPTR	4
#define MPF_LENGTH	8
#define MPF_SPEC	9
#define MPF_FEATURE1	11
#define MPC_LENGTH	4
#define MPC_SPEC	6
#define MPC_COUNT	34
#define MPC_LAPIC	36
#define MPC_HEADER_SIZE 44
#define MP_CPU_SIZE	20
#define MP_ENTRY_SIZE	8

struct mp_counts {
	unsigned cpus, bsps, buses, ioapics, intsrcs, lintsrcs;
	uint8_t ioapic_id;
	uint32_t ioapic_addr;
	uint8_t isa_bus;
};

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;
	for (size_t i = 0; i < len; i++)
		s += p[i];
	return s;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* Parse the table the way a guest would; fails the test on a bad checksum. */
static void parse(struct guest_mem *m, unsigned nr_cpus, struct mp_counts *c)
{
	const uint8_t *mpf = guest_mem_ptr(m, LAYOUT_MPTABLE, 16);
	assert_non_null(mpf);
	assert_memory_equal(mpf, "_MP_", 4);
	assert_int_equal(mpf[MPF_LENGTH], 1);
	assert_int_equal(mpf[MPF_SPEC], 4);
	assert_int_equal(mpf[MPF_FEATURE1], 0); /* a configuration table follows */
	assert_int_equal(sum(mpf, 16), 0);

	uint32_t phys = rd32(mpf + MPF_PHYSPTR);
	const uint8_t *t = guest_mem_ptr(m, phys, MPC_HEADER_SIZE);
	assert_non_null(t);
	assert_memory_equal(t, "PCMP", 4);
	assert_int_equal(t[MPC_SPEC], 4);
	uint16_t len = rd16(t + MPC_LENGTH);
	assert_true(phys + len <= LAYOUT_BIOS_END);
	assert_int_equal(sum(t, len), 0);
	assert_int_equal(rd32(t + MPC_LAPIC), LAYOUT_LAPIC);

	memset(c, 0, sizeof(*c));
	const uint8_t *p = t + MPC_HEADER_SIZE, *end = t + len;
	unsigned count = rd16(t + MPC_COUNT);
	for (unsigned i = 0; i < count; i++) {
		assert_true(p < end);
		switch (p[0]) {
		case 0: /* processor: id, version, flags */
			assert_int_equal(p[1], c->cpus);
			assert_true(p[3] & 1); /* enabled */
			if (p[3] & 2) {
				assert_int_equal(p[1], 0);
				c->bsps++;
			}
			c->cpus++;
			p += MP_CPU_SIZE;
			continue;
		case 1:
			if (!memcmp(p + 2, "ISA   ", 6))
				c->isa_bus = p[1];
			else
				assert_memory_equal(p + 2, "PCI   ", 6);
			c->buses++;
			break;
		case 2:
			c->ioapic_id = p[1];
			assert_int_equal(p[3] & 1, 1);
			c->ioapic_addr = rd32(p + 4);
			c->ioapics++;
			break;
		case 3: /* ISA IRQ n to pin n of the IOAPIC */
			assert_int_equal(p[1], 0);
			assert_int_equal(p[4], c->isa_bus);
			assert_int_equal(p[5], c->intsrcs);
			assert_int_equal(p[6], nr_cpus);
			assert_int_equal(p[7], c->intsrcs);
			c->intsrcs++;
			break;
		case 4: /* ExtINT on LINT0, NMI on LINT1, all local APICs */
			assert_int_equal(p[1], c->lintsrcs == 0 ? 3 : 1);
			assert_int_equal(p[6], 0xff);
			assert_int_equal(p[7], c->lintsrcs);
			c->lintsrcs++;
			break;
		default:
			fail_msg("unknown MP entry type %u", p[0]);
		}
		p += MP_ENTRY_SIZE;
	}
	assert_ptr_equal(p, end);
}

static void check_cpus(unsigned n)
{
	struct guest_mem m;
	struct mp_counts c;
	char err[128];
	assert_int_equal(guest_mem_init(&m, 2ULL << 20), 0);
	memset(m.host + LAYOUT_MPTABLE, 0xee, 0x1000);
	assert_int_equal(mptable_write(&m, n, err, sizeof(err)), 0);
	parse(&m, n, &c);
	assert_int_equal(c.cpus, n);
	assert_int_equal(c.bsps, 1);
	assert_int_equal(c.buses, 2);
	assert_int_equal(c.ioapics, 1);
	assert_int_equal(c.ioapic_id, n);
	assert_int_equal(c.ioapic_addr, LAYOUT_IOAPIC);
	assert_int_equal(c.intsrcs, 16);
	assert_int_equal(c.lintsrcs, 2);
	guest_mem_finish(&m);
}

static void test_one_cpu(void **state)
{
	check_cpus(1);
}

static void test_four_cpus(void **state)
{
	check_cpus(4);
}

static void test_max_cpus(void **state)
{
	check_cpus(LAYOUT_MAX_CPUS);
}

static void test_bad_counts(void **state)
{
	struct guest_mem m;
	char err[128];
	assert_int_equal(guest_mem_init(&m, 2ULL << 20), 0);
	assert_int_equal(mptable_write(&m, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "0 vCPUs"));
	assert_int_equal(mptable_write(&m, LAYOUT_MAX_CPUS + 1, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "vCPUs"));
	guest_mem_finish(&m);

	/* no RAM behind the table */
	struct guest_mem none = {.fd = -1};
	assert_int_equal(mptable_write(&none, 1, err, sizeof(err)), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_cpu),
	    cmocka_unit_test(test_four_cpus),
	    cmocka_unit_test(test_max_cpus),
	    cmocka_unit_test(test_bad_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
