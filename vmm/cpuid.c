// SPDX-License-Identifier: MIT
#include "cpuid.h"

#include <cpuid.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define BIT(n) (1U << (n))

/* Leaf 1 */
#define L1_ECX_FMA	  BIT(12)
#define L1_ECX_CX16	  BIT(13)
#define L1_ECX_POPCNT	  BIT(23)
#define L1_ECX_XSAVE	  BIT(26)
#define L1_ECX_OSXSAVE	  BIT(27)
#define L1_ECX_AVX	  BIT(28)
#define L1_ECX_F16C	  BIT(29)
#define L1_ECX_HYPERVISOR BIT(31)
#define L1_ECX_VMX	  BIT(5)
#define L1_EDX_HTT	  BIT(28)

/* Leaf 7 subleaf 0 */
#define L7_EBX_AVX2 BIT(5)
#define L7_EBX_ERMS BIT(9)
#define L7_EBX_SMAP BIT(20)
#define L7_EBX_AVX512                                                                              \
	(BIT(16) | BIT(17) | BIT(21) | BIT(26) | BIT(27) | BIT(28) | BIT(30) | BIT(31))
#define L7_ECX_AVX512	    (BIT(1) | BIT(6) | BIT(11) | BIT(12) | BIT(14))
#define L7_ECX_VAES_VPCLMUL (BIT(9) | BIT(10)) /* VEX/EVEX encoded only */
#define L7_EDX_AVX512	    (BIT(2) | BIT(3) | BIT(8) | BIT(23))
#define L7_EDX_FSRM	    BIT(4)
#define L7_EDX_AMX	    (BIT(22) | BIT(24) | BIT(25))
#define L7_EDX_ARCH_CAPS    BIT(29) /* MSR 0x10a */
/* Leaf 7 subleaf 1 */
#define L7_1_EAX_AVX	     (BIT(4) | BIT(5) | BIT(23))   /* AVX-VNNI, AVX512-BF16, AVX-IFMA */
#define L7_1_EAX_FAST_STRING (BIT(10) | BIT(11) | BIT(12)) /* fast short rep movs/stos/cmps */
#define L7_1_EAX_AMX	     BIT(21)
#define L7_1_EDX_AVX	     (BIT(4) | BIT(5) | BIT(10) | BIT(19)) /* VNNI-INT8/16, NE-CONVERT, AVX10 */
#define L7_1_EDX_AMX	     BIT(8)
/* Leaf 0x80000001 */
#define LX1_ECX_SVM  BIT(2)
#define LX1_ECX_ABM  BIT(5) /* LZCNT and POPCNT on AMD */
#define LX1_ECX_XOP  BIT(11)
#define LX1_ECX_FMA4 BIT(16)

enum cpuid_reg { REG_EAX, REG_EBX, REG_ECX, REG_EDX };

struct cpuid_clear {
	uint32_t function, index;
	enum cpuid_reg reg;
	uint32_t bits;
};

/*
 * What a software-virtualized host cannot run at guest CPL0 or save across
 * context switches, as measured on such hosts: the XSAVE family and all
 * AVX, SMAP's CLAC/STAC, POPCNT, CMPXCHG16B, the fast string hints whose rep
 * instructions it emulates slowly, and ARCH_CAPABILITIES.
 */
static const struct cpuid_clear baseline_clear[] = {
    {0x1, 0, REG_ECX,
     L1_ECX_FMA | L1_ECX_CX16 | L1_ECX_POPCNT | L1_ECX_XSAVE | L1_ECX_OSXSAVE | L1_ECX_AVX |
	 L1_ECX_F16C},
    {0x7, 0, REG_EBX, L7_EBX_AVX2 | L7_EBX_ERMS | L7_EBX_SMAP | L7_EBX_AVX512},
    {0x7, 0, REG_ECX, L7_ECX_AVX512 | L7_ECX_VAES_VPCLMUL},
    {0x7, 0, REG_EDX, L7_EDX_AVX512 | L7_EDX_FSRM | L7_EDX_AMX | L7_EDX_ARCH_CAPS},
    {0x7, 1, REG_EAX, L7_1_EAX_AVX | L7_1_EAX_FAST_STRING | L7_1_EAX_AMX},
    {0x7, 1, REG_EDX, L7_1_EDX_AVX | L7_1_EDX_AMX},
    {0x80000001, 0, REG_ECX, LX1_ECX_ABM | LX1_ECX_XOP | LX1_ECX_FMA4},
};

/* Leaves describing hidden features: XSAVE state components, AMX tiles, AVX10. */
static const uint32_t baseline_zero_leaves[] = {0xd, 0x1d, 0x1e, 0x24};

#define CPUID_MAX_ENTRIES 4096

bool cpu_template_parse(const char *name, enum cpu_template *out)
{
	if (!strcmp(name, "host"))
		*out = CPU_TEMPLATE_HOST;
	else if (!strcmp(name, "baseline"))
		*out = CPU_TEMPLATE_BASELINE;
	else
		return false;
	return true;
}

const char *cpu_template_name(enum cpu_template t)
{
	return t == CPU_TEMPLATE_BASELINE ? "baseline" : "host";
}

bool cpuid_host_has_hw_virt(void)
{
	unsigned a, b, c, d;
	if (__get_cpuid(1, &a, &b, &c, &d) && (c & L1_ECX_VMX))
		return true;
	return __get_cpuid(0x80000001, &a, &b, &c, &d) && (c & LX1_ECX_SVM);
}

const char *cpu_template_cmdline(enum cpu_template t)
{
	/*
	 * CPUID set from userspace did not hide XSAVE and SMAP from Linux on a
	 * software-virtualized host; these words do.
	 */
	return t == CPU_TEMPLATE_BASELINE ? "noxsave clearcpuid=smap,popcnt,erms,fsrm" : "";
}

static uint32_t *cpuid_reg(struct kvm_cpuid_entry2 *e, enum cpuid_reg r)
{
	switch (r) {
	case REG_EAX:
		return &e->eax;
	case REG_EBX:
		return &e->ebx;
	case REG_ECX:
		return &e->ecx;
	default:
		return &e->edx;
	}
}

static void cpuid_apply_baseline(struct kvm_cpuid_entry2 *e)
{
	for (size_t i = 0; i < sizeof(baseline_zero_leaves) / sizeof(baseline_zero_leaves[0]);
	     i++) {
		if (e->function == baseline_zero_leaves[i]) {
			e->eax = e->ebx = e->ecx = e->edx = 0;
			return;
		}
	}
	for (size_t i = 0; i < sizeof(baseline_clear) / sizeof(baseline_clear[0]); i++) {
		const struct cpuid_clear *m = &baseline_clear[i];
		if (e->function == m->function && e->index == m->index)
			*cpuid_reg(e, m->reg) &= ~m->bits;
	}
}

/* Bits of the APIC id that number the cores: ceil(log2(nr_cpus)). */
static unsigned cpuid_core_bits(unsigned nr_cpus)
{
	unsigned bits = 0;
	while ((1U << bits) < nr_cpus)
		bits++;
	return bits;
}

/* Leaf 0xb/0x1f level types */
#define TOPO_LEVEL_SMT	1
#define TOPO_LEVEL_CORE 2

static void cpuid_apply_topology(struct kvm_cpuid_entry2 *e, unsigned vcpu_id, unsigned nr_cpus)
{
	unsigned bits = cpuid_core_bits(nr_cpus);
	uint32_t cache_level;

	switch (e->function) {
	case 0x1:
		/* initial APIC id and addressable logical processor ids per package */
		e->ebx = (e->ebx & 0xffff) | (vcpu_id & 0xff) << 24 | (1U << bits) << 16;
		e->ecx |= L1_ECX_HYPERVISOR;
		if (nr_cpus > 1)
			e->edx |= L1_EDX_HTT;
		else
			e->edx &= ~L1_EDX_HTT;
		break;
	case 0x4:
		if (!(e->eax & 0x1f)) /* no more caches */
			break;
		cache_level = (e->eax >> 5) & 0x7;
		e->eax &= ~(0x3fU << 26 | 0xfffU << 14);
		e->eax |= ((1U << bits) - 1) << 26;
		if (cache_level >= 3) /* the last level is shared by the package */
			e->eax |= ((1U << bits) - 1) << 14;
		break;
	case 0xb:
	case 0x1f:
		if (e->index == 0) {
			e->eax = 0;
			e->ebx = 1;
			e->ecx = TOPO_LEVEL_SMT << 8;
		} else if (e->index == 1) {
			e->eax = bits;
			e->ebx = nr_cpus;
			e->ecx = TOPO_LEVEL_CORE << 8 | 1;
		} else {
			e->eax = e->ebx = 0;
			e->ecx = e->index & 0xff;
		}
		e->edx = vcpu_id;
		break;
	case 0x80000008:
		e->ecx = (e->ecx & ~0xf0ffU) | bits << 12 | (nr_cpus - 1);
		break;
	case 0x8000001e:
		e->eax = vcpu_id;
		e->ebx = (e->ebx & ~0xffffU) | (vcpu_id & 0xff);
		e->ecx &= ~0x7ffU;
		break;
	}
}

void cpuid_apply_template(struct kvm_cpuid2 *c, unsigned vcpu_id, unsigned nr_cpus,
			  enum cpu_template t)
{
	if (nr_cpus == 0)
		nr_cpus = 1;
	for (uint32_t i = 0; i < c->nent; i++) {
		if (t == CPU_TEMPLATE_BASELINE)
			cpuid_apply_baseline(&c->entries[i]);
		cpuid_apply_topology(&c->entries[i], vcpu_id, nr_cpus);
	}
}

/* KVM_GET_SUPPORTED_CPUID into a buffer grown until it fits. */
static int cpuid_get_supported(int kvm_fd, struct kvm_cpuid2 **out)
{
	for (uint32_t n = 64; n <= CPUID_MAX_ENTRIES; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (!c)
			return -ENOMEM;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			*out = c;
			return 0;
		}
		int err = errno;
		free(c);
		if (err != E2BIG)
			return -err;
	}
	return -E2BIG;
}

int cpuid_setup_vcpu(int kvm_fd, int vcpu_fd, unsigned vcpu_id, unsigned nr_cpus,
		     enum cpu_template t)
{
	struct kvm_cpuid2 *c = NULL;
	int ret = cpuid_get_supported(kvm_fd, &c);
	if (ret)
		return ret;
	cpuid_apply_template(c, vcpu_id, nr_cpus, t);
	ret = ioctl(vcpu_fd, KVM_SET_CPUID2, c) ? -errno : 0;
	free(c);
	return ret;
}
