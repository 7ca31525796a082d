// SPDX-License-Identifier: MIT
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <linux/kvm.h>

#include "vmm/cpuid.h"

#define BIT(n) (1U << (n))
#define ALL    0xffffffffU

/* A KVM_GET_SUPPORTED_CPUID answer as a host with every feature would give it. */
static const struct kvm_cpuid_entry2 supported[] = {
    {.function = 0x0, .eax = 0x1f, .ebx = 0x756e6547},
    /* APIC id 0xab, 16 logical CPUs, CLFLUSH line 8 qwords, brand 0x12 */
    {.function = 0x1, .eax = 0x806c1, .ebx = 0xab100812, .ecx = 0x7ffafbff, .edx = ALL},
    /* leaf 4: L1d, L1i, L2, L3, end */
    {.function = 0x4, .index = 0, .flags = 1, .eax = 0x1c004121},
    {.function = 0x4, .index = 1, .flags = 1, .eax = 0x1c004122},
    {.function = 0x4, .index = 2, .flags = 1, .eax = 0x1c004143},
    {.function = 0x4, .index = 3, .flags = 1, .eax = 0x1c03c163},
    {.function = 0x4, .index = 4, .flags = 1},
    {.function = 0x7, .index = 0, .flags = 1, .ebx = ALL, .ecx = ALL, .edx = ALL},
    {.function = 0x7, .index = 1, .flags = 1, .eax = ALL, .edx = ALL},
    {.function = 0xb, .index = 0, .flags = 1, .eax = 1, .ebx = 2, .ecx = 0x100, .edx = 0x33},
    {.function = 0xb, .index = 1, .flags = 1, .eax = 5, .ebx = 16, .ecx = 0x201, .edx = 0x33},
    {.function = 0xb, .index = 2, .flags = 1, .ecx = 2, .edx = 0x33},
    {.function = 0xd, .index = 0, .flags = 1, .eax = 0x2e7, .ebx = 0xa88, .ecx = 0xa88},
    {.function = 0xd, .index = 1, .flags = 1, .eax = 0xf},
    {.function = 0x1f, .index = 0, .flags = 1, .eax = 1, .ebx = 2, .ecx = 0x100, .edx = 0x33},
    {.function = 0x1f, .index = 1, .flags = 1, .eax = 5, .ebx = 16, .ecx = 0x201, .edx = 0x33},
    {.function = 0x40000000, .eax = 0x40000001, .ebx = 0x4b4d564b},
    {.function = 0x80000001, .ecx = ALL, .edx = ALL},
    {.function = 0x80000008, .eax = 0x3027, .ecx = 0x700f},
};

#define NENT (sizeof(supported) / sizeof(supported[0]))

static struct kvm_cpuid2 *apply(unsigned vcpu, unsigned nr, enum cpu_template t)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + sizeof(supported));
	assert_non_null(c);
	c->nent = NENT;
	memcpy(c->entries, supported, sizeof(supported));
	cpuid_apply_template(c, vcpu, nr, t);
	return c;
}

static const struct kvm_cpuid_entry2 *leaf(const struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	fail_msg("leaf 0x%x.%u missing", fn, idx);
	return NULL;
}

static void test_host_keeps_features(void **state)
{
	struct kvm_cpuid2 *c = apply(0, 1, CPU_TEMPLATE_HOST);
	const struct kvm_cpuid_entry2 *l1 = leaf(c, 1, 0);
	assert_int_equal(l1->ecx, supported[1].ecx | BIT(31)); /* plus the hypervisor bit */
	assert_int_equal(leaf(c, 7, 0)->ebx, ALL);
	assert_int_equal(leaf(c, 7, 0)->edx, ALL);
	assert_int_equal(leaf(c, 0xd, 0)->eax, 0x2e7);
	assert_int_equal(leaf(c, 0x80000001, 0)->ecx, ALL);
	free(c);
}

static void test_baseline_filters(void **state)
{
	struct kvm_cpuid2 *c = apply(0, 1, CPU_TEMPLATE_BASELINE);
	uint32_t ecx = leaf(c, 1, 0)->ecx;
	/* FMA, CX16, POPCNT, XSAVE, OSXSAVE, AVX, F16C gone */
	const unsigned gone1[] = {12, 13, 23, 26, 27, 28, 29};
	for (size_t i = 0; i < sizeof(gone1) / sizeof(gone1[0]); i++)
		assert_false(ecx & BIT(gone1[i]));
	assert_true(ecx & BIT(0));			      /* SSE3 */
	assert_true(ecx & BIT(19));			      /* SSE4.1 */
	assert_true(ecx & BIT(31));			      /* hypervisor */
	assert_int_equal(leaf(c, 1, 0)->edx, ALL & ~BIT(28)); /* one CPU: no HTT */

	const struct kvm_cpuid_entry2 *l7 = leaf(c, 7, 0);
	/* AVX2, ERMS, AVX512F/DQ/IFMA/PF/ER/CD/BW/VL, SMAP */
	const unsigned gone7b[] = {5, 9, 16, 17, 20, 21, 26, 27, 28, 30, 31};
	for (size_t i = 0; i < sizeof(gone7b) / sizeof(gone7b[0]); i++)
		assert_false(l7->ebx & BIT(gone7b[i]));
	assert_true(l7->ebx & BIT(0));		   /* FSGSBASE */
	assert_true(l7->ebx & BIT(3));		   /* BMI1 */
	assert_true(l7->ebx & BIT(7));		   /* SMEP */
	assert_false(l7->edx & BIT(29));	   /* ARCH_CAPABILITIES */
	assert_false(l7->edx & BIT(4));		   /* FSRM */
	assert_false(l7->edx & BIT(24));	   /* AMX-TILE */
	assert_true(l7->edx & BIT(10));		   /* MD_CLEAR */
	assert_false(l7->ecx & BIT(1));		   /* AVX512_VBMI */
	assert_true(l7->ecx & BIT(2));		   /* UMIP */
	assert_false(leaf(c, 7, 1)->eax & BIT(4)); /* AVX-VNNI */

	const struct kvm_cpuid_entry2 *xs = leaf(c, 0xd, 0);
	assert_int_equal(xs->eax | xs->ebx | xs->ecx | xs->edx, 0);
	assert_int_equal(leaf(c, 0xd, 1)->eax, 0);

	uint32_t ext = leaf(c, 0x80000001, 0)->ecx;
	assert_false(ext & BIT(5));  /* ABM */
	assert_false(ext & BIT(16)); /* FMA4 */
	assert_true(ext & BIT(0));   /* LAHF */
	assert_int_equal(leaf(c, 0x40000000, 0)->ebx, 0x4b4d564b);
	free(c);
}

static void test_apic_ids(void **state)
{
	for (unsigned vcpu = 0; vcpu < 4; vcpu++) {
		struct kvm_cpuid2 *c = apply(vcpu, 4, CPU_TEMPLATE_HOST);
		const struct kvm_cpuid_entry2 *l1 = leaf(c, 1, 0);
		assert_int_equal(l1->ebx >> 24, vcpu);
		assert_int_equal((l1->ebx >> 16) & 0xff, 4);
		assert_int_equal(l1->ebx & 0xffff, 0x0812); /* CLFLUSH size, brand kept */
		assert_true(l1->edx & BIT(28));		    /* HTT */
		for (uint32_t fn = 0xb; fn <= 0x1f; fn += 0x14) {
			const struct kvm_cpuid_entry2 *smt = leaf(c, fn, 0), *core = leaf(c, fn, 1);
			assert_int_equal(smt->edx, vcpu);
			assert_int_equal(core->edx, vcpu);
			assert_int_equal(smt->eax, 0);
			assert_int_equal(smt->ebx, 1);
			assert_int_equal(smt->ecx, 0x100);
			assert_int_equal(core->eax, 2);
			assert_int_equal(core->ebx, 4);
			assert_int_equal(core->ecx, 0x201);
		}
		assert_int_equal(leaf(c, 0xb, 2)->ecx, 2); /* invalid level ends the list */
		assert_int_equal(leaf(c, 0xb, 2)->edx, vcpu);
		free(c);
	}
}

static void test_cache_topology(void **state)
{
	struct kvm_cpuid2 *c = apply(1, 3, CPU_TEMPLATE_HOST);
	/* 3 vCPUs need 2 APIC id bits: 4 addressable cores */
	for (uint32_t i = 0; i < 4; i++) {
		uint32_t eax = leaf(c, 4, i)->eax;
		unsigned level = (eax >> 5) & 7;
		assert_int_equal(eax >> 26, 3);
		assert_int_equal((eax >> 14) & 0xfff, level == 3 ? 3 : 0);
		assert_int_equal(eax & 0x3fff, supported[2 + i].eax & 0x3fff);
	}
	assert_int_equal(leaf(c, 4, 4)->eax, 0);
	assert_int_equal(leaf(c, 0xb, 1)->ebx, 3);
	assert_int_equal(leaf(c, 0xb, 1)->eax, 2);
	assert_int_equal((leaf(c, 1, 0)->ebx >> 16) & 0xff, 4);
	assert_int_equal(leaf(c, 0x80000008, 0)->ecx & 0xff, 2);
	assert_int_equal((leaf(c, 0x80000008, 0)->ecx >> 12) & 0xf, 2);
	free(c);

	c = apply(0, 1, CPU_TEMPLATE_HOST);
	assert_int_equal(leaf(c, 4, 3)->eax >> 26, 0);
	assert_int_equal(leaf(c, 0xb, 1)->eax, 0);
	assert_int_equal(leaf(c, 0xb, 1)->ebx, 1);
	assert_int_equal((leaf(c, 1, 0)->ebx >> 16) & 0xff, 1);
	free(c);
}

static void test_names_and_cmdline(void **state)
{
	enum cpu_template t;
	assert_true(cpu_template_parse("baseline", &t));
	assert_int_equal(t, CPU_TEMPLATE_BASELINE);
	assert_string_equal(cpu_template_name(t), "baseline");
	assert_true(cpu_template_parse("host", &t));
	assert_int_equal(t, CPU_TEMPLATE_HOST);
	assert_string_equal(cpu_template_name(t), "host");
	assert_false(cpu_template_parse("Host", &t));
	assert_false(cpu_template_parse("", &t));

	assert_string_equal(cpu_template_cmdline(CPU_TEMPLATE_HOST), "");
	const char *words = cpu_template_cmdline(CPU_TEMPLATE_BASELINE);
	assert_non_null(strstr(words, "noxsave"));
	const char *clear = strstr(words, "clearcpuid=");
	assert_non_null(clear);
	const char *names[] = {"smap", "popcnt", "erms", "fsrm"};
	for (size_t i = 0; i < 4; i++)
		assert_non_null(strstr(clear, names[i]));
}

/* /proc/cpuinfo lists vmx or svm exactly when the CPU has them. */
static void test_host_hw_virt(void **state)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	assert_non_null(f);
	char line[8192];
	bool hw = false, seen = false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "flags", 5)) {
			hw = strstr(line, " vmx") || strstr(line, " svm");
			seen = true;
			break;
		}
	}
	fclose(f);
	assert_true(seen);
	assert_int_equal(cpuid_host_has_hw_virt(), hw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host_keeps_features),
	    cmocka_unit_test(test_baseline_filters),
	    cmocka_unit_test(test_apic_ids),
	    cmocka_unit_test(test_cache_topology),
	    cmocka_unit_test(test_names_and_cmdline),
	    cmocka_unit_test(test_host_hw_virt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
