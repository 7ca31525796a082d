/* SPDX-License-Identifier: MIT */
#ifndef INLAY_CPUID_H
#define INLAY_CPUID_H

#include <stdbool.h>
#include <stddef.h>

enum cpu_template {
	CPU_TEMPLATE_HOST,     /* everything KVM supports */
	CPU_TEMPLATE_BASELINE, /* hides what software-virtualized hosts cannot emulate */
};

/** Parse "host" or "baseline". Returns false on an unknown name. */
bool cpu_template_parse(const char *name, enum cpu_template *out);
const char *cpu_template_name(enum cpu_template t);

/** True when the host CPU has VMX or SVM (hardware virtualization). */
bool cpuid_host_has_hw_virt(void);

/**
 * Kernel command-line words a Linux guest needs on top of CPUID for @t
 * (features CPUID alone does not hide from it under software virtualization),
 * or "" when none.
 */
const char *cpu_template_cmdline(enum cpu_template t);

struct kvm_cpuid2;

/**
 * Filter @c (as KVM_GET_SUPPORTED_CPUID returns it) in place for @t and fill
 * in vCPU @vcpu_id's APIC ids and a topology of @nr_cpus single-thread cores
 * in one package. Touches only the entries @c already has.
 */
void cpuid_apply_template(struct kvm_cpuid2 *c, unsigned vcpu_id, unsigned nr_cpus,
			  enum cpu_template t);

/**
 * Program CPUID on @vcpu_fd from KVM_GET_SUPPORTED_CPUID on @kvm_fd, filtered
 * by @t, with per-vCPU APIC ids and topology for @nr_cpus. Returns 0 or -errno.
 */
int cpuid_setup_vcpu(int kvm_fd, int vcpu_fd, unsigned vcpu_id, unsigned nr_cpus,
		     enum cpu_template t);

#endif
