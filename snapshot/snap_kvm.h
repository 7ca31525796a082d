/* SPDX-License-Identifier: MIT */
/* What KVM holds for a VM: vCPU registers, irqchip, PIT and the KVM clock. */
#ifndef INLAY_SNAP_KVM_H
#define INLAY_SNAP_KVM_H

#include "snap_format.h"

#include <stddef.h>

struct vcpu;
struct vm;

/**
 * Append vCPU @vcpu's state (regs, sregs, FPU or XSAVE, XCRs, every MSR KVM
 * lists, LAPIC, events, debug registers, mp_state) to the open section of
 * @w. The vCPU must be parked. Returns 0 or -errno with @err set.
 */
int snap_vcpu_save(struct vcpu *vcpu, struct snap_writer *w, char *err, size_t errlen);
/** Load it into a freshly created vCPU; KVM re-checks each value too. */
int snap_vcpu_restore(struct vcpu *vcpu, struct snap_section *s, char *err, size_t errlen);

/** PIC master, PIC slave, IOAPIC, PIT and clock, each in its own section. */
int snap_vm_save(struct vm *vm, struct snap_writer *w, char *err, size_t errlen);
/**
 * Load them back. The KVM clock is advanced by @advance_ns (the wall time
 * that passed since the save), so the guest's clock reads the current time.
 */
int snap_vm_restore(struct vm *vm, const struct snap_reader *r, uint64_t advance_ns, char *err,
		    size_t errlen);

#endif
