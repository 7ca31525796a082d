/* SPDX-License-Identifier: MIT */
#ifndef INLAY_VCPU_H
#define INLAY_VCPU_H

#include "boot.h"
#include "cpuid.h"

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool started;
};

/** Create vCPU @id with CPUID from @tmpl and reset-state LAPIC/MSRs. NULL on error. */
struct vcpu *vcpu_create(struct vm *vm, unsigned id, enum cpu_template tmpl);
/** Safe on NULL; the thread must be joined. */
void vcpu_destroy(struct vcpu *vcpu);
/** Put the boot vCPU in the state @entry asks for. Returns 0 or -errno. */
int vcpu_set_boot_state(struct vcpu *vcpu, const struct boot_entry *entry);
/** Start the vCPU thread. Non-boot vCPUs wait in KVM for INIT/SIPI. */
int vcpu_start(struct vcpu *vcpu);
/** Make a running KVM_RUN return promptly; any thread. */
void vcpu_kick(struct vcpu *vcpu);
/** Wait for the thread to end (after vm_request_exit). */
void vcpu_join(struct vcpu *vcpu);
/** Install the process-wide kick signal handler; once, before any vcpu_start. */
int vcpu_signals_init(void);

#endif
