// SPDX-License-Identifier: MIT
/*
 * KVM's structures go into the state file as the UAPI lays them out: on the
 * x86-64 hosts inlay-vmm runs on they are little-endian with fixed-width
 * fields, and KVM validates them again when they are set.
 */
#include "snap_kvm.h"
#include "vmm/vcpu.h"
#include "vmm/vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/* More MSRs than any KVM lists today; caps what a state file may carry. */
#define SNAP_MAX_MSRS	1024
#define SNAP_FPU_LEGACY 0
#define SNAP_FPU_XSAVE	1
/* IA32_TSC_DEADLINE (no UAPI header names MSRs). */
#define SNAP_MSR_TSC_DEADLINE 0x6e0

/* What kind of FPU state this host's KVM saves, and how big it is. */
static size_t snap_xsave_size(int kvm_fd)
{
	int n = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	if (n > (int)sizeof(struct kvm_xsave))
		return (size_t)n;
	return ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0 ? sizeof(struct kvm_xsave) : 0;
}

static struct kvm_msr_list *snap_msr_list(int kvm_fd)
{
	struct kvm_msr_list probe = {.nmsrs = 0};
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return NULL;
	if (probe.nmsrs == 0 || probe.nmsrs > SNAP_MAX_MSRS)
		return NULL;
	struct kvm_msr_list *list = calloc(1, sizeof(*list) + probe.nmsrs * sizeof(uint32_t));
	if (!list)
		return NULL;
	list->nmsrs = probe.nmsrs;
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0) {
		free(list);
		return NULL;
	}
	return list;
}

static struct kvm_msrs *snap_msrs_alloc(uint32_t n)
{
	return calloc(1, sizeof(struct kvm_msrs) + n * sizeof(struct kvm_msr_entry));
}

/*
 * KVM_GET_MSRS/KVM_SET_MSRS stop at the first entry KVM refuses and return
 * how many went through. Skip that one and carry on with the rest, so one
 * MSR this host does not emulate does not lose the others. Returns the
 * number of entries that went through (moved to the front of @m).
 */
/* Returns 0, or -ENOMEM with @m untouched; MSRs KVM refuses are dropped from @m. */
static int snap_msrs_xfer(int fd, unsigned long req, struct kvm_msrs *m)
{
	uint32_t n = m->nmsrs, done = 0, i = 0;
	struct kvm_msrs *one = snap_msrs_alloc(n);
	if (!one)
		return -ENOMEM;
	while (i < n) {
		one->nmsrs = n - i;
		memcpy(one->entries, &m->entries[i], (n - i) * sizeof(m->entries[0]));
		int r = ioctl(fd, req, one);
		if (r < 0)
			break;
		memcpy(&m->entries[done], one->entries, (size_t)r * sizeof(m->entries[0]));
		done += (uint32_t)r;
		i += (uint32_t)r + 1; /* entry i + r was refused */
	}
	free(one);
	m->nmsrs = done;
	return 0;
}

static void put_blob(struct snap_writer *w, const void *p, size_t len)
{
	snap_put_u32(w, (uint32_t)len);
	snap_put_bytes(w, p, len);
}

/* A blob of exactly @len bytes. */
static bool get_blob(struct snap_section *s, void *p, size_t len)
{
	uint32_t n;
	if (!snap_get_u32(s, &n))
		return false;
	if (n != len)
		return snap_fail(s);
	return snap_get_bytes(s, p, len);
}

/* One vCPU ioctl; on failure the message names the vCPU, @what and the cause. */
#define VCPU_IOCTL(req, obj, what)                                                                 \
	do {                                                                                       \
		if (ioctl(vcpu->fd, req, obj) < 0) {                                               \
			ret = -errno;                                                              \
			snprintf(err, errlen, "vCPU %u: %s: %s", vcpu->id, what, strerror(errno)); \
			goto out;                                                                  \
		}                                                                                  \
	} while (0)

/* The fixed-size part of a vCPU's KVM state, saved and restored alike. */
struct vcpu_kvm_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_lapic_state lapic;
	struct kvm_vcpu_events events;
	struct kvm_debugregs dregs;
	struct kvm_mp_state mp;
	struct kvm_xcrs xcrs;
};

int snap_vcpu_save(struct vcpu *vcpu, struct snap_writer *w, char *err, size_t errlen)
{
	int kvm_fd = vcpu->vm->kvm_fd, ret = 0;
	struct vcpu_kvm_state st;
	size_t xsize = snap_xsave_size(kvm_fd);
	void *fpu = calloc(1, xsize ? xsize : sizeof(struct kvm_fpu));
	struct kvm_msr_list *list = snap_msr_list(kvm_fd);
	struct kvm_msrs *msrs = list ? snap_msrs_alloc(list->nmsrs) : NULL;
	if (!fpu || !msrs) {
		ret = -ENOMEM;
		snprintf(err, errlen, "vCPU %u: cannot read KVM's MSR list", vcpu->id);
		goto out;
	}
	VCPU_IOCTL(KVM_GET_REGS, &st.regs, "KVM_GET_REGS");
	VCPU_IOCTL(KVM_GET_SREGS, &st.sregs, "KVM_GET_SREGS");
	if (xsize)
		VCPU_IOCTL(xsize > sizeof(struct kvm_xsave) ? KVM_GET_XSAVE2 : KVM_GET_XSAVE, fpu,
			   "KVM_GET_XSAVE");
	else
		VCPU_IOCTL(KVM_GET_FPU, fpu, "KVM_GET_FPU");
	bool has_xcrs = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
	if (has_xcrs)
		VCPU_IOCTL(KVM_GET_XCRS, &st.xcrs, "KVM_GET_XCRS");
	VCPU_IOCTL(KVM_GET_LAPIC, &st.lapic, "KVM_GET_LAPIC");
	VCPU_IOCTL(KVM_GET_VCPU_EVENTS, &st.events, "KVM_GET_VCPU_EVENTS");
	VCPU_IOCTL(KVM_GET_DEBUGREGS, &st.dregs, "KVM_GET_DEBUGREGS");
	VCPU_IOCTL(KVM_GET_MP_STATE, &st.mp, "KVM_GET_MP_STATE");
	msrs->nmsrs = list->nmsrs;
	for (uint32_t i = 0; i < list->nmsrs; i++)
		msrs->entries[i].index = list->indices[i];
	if (snap_msrs_xfer(vcpu->fd, KVM_GET_MSRS, msrs) < 0) {
		ret = -ENOMEM;
		snprintf(err, errlen, "vCPU %u: out of memory reading MSRs", vcpu->id);
		goto out;
	}

	put_blob(w, &st.regs, sizeof(st.regs));
	put_blob(w, &st.sregs, sizeof(st.sregs));
	snap_put_u8(w, xsize ? SNAP_FPU_XSAVE : SNAP_FPU_LEGACY);
	put_blob(w, fpu, xsize ? xsize : sizeof(struct kvm_fpu));
	snap_put_u8(w, has_xcrs);
	if (has_xcrs)
		put_blob(w, &st.xcrs, sizeof(st.xcrs));
	put_blob(w, &st.lapic, sizeof(st.lapic));
	put_blob(w, &st.events, sizeof(st.events));
	put_blob(w, &st.dregs, sizeof(st.dregs));
	snap_put_u32(w, st.mp.mp_state);
	snap_put_u32(w, msrs->nmsrs);
	for (uint32_t i = 0; i < msrs->nmsrs; i++) {
		snap_put_u32(w, msrs->entries[i].index);
		snap_put_u64(w, msrs->entries[i].data);
	}
out:
	free(fpu);
	free(list);
	free(msrs);
	return ret;
}

/*
 * KVM_SET_LAPIC clears the TSC deadline when it changes the timer mode, so
 * the one set with the other MSRs is lost; set it again after the LAPIC, as
 * QEMU does. Otherwise a guest on the TSC-deadline timer (Linux) never gets
 * another timer interrupt after a restore.
 */
static void snap_tsc_deadline_restore(int fd, const struct kvm_msrs *m)
{
	for (uint32_t i = 0; i < m->nmsrs; i++) {
		struct kvm_msrs *one;

		if (m->entries[i].index != SNAP_MSR_TSC_DEADLINE)
			continue;
		one = snap_msrs_alloc(1);
		if (!one)
			return;
		one->nmsrs = 1;
		one->entries[0] = m->entries[i];
		ioctl(fd, KVM_SET_MSRS, one);
		free(one);
		return;
	}
}

int snap_vcpu_restore(struct vcpu *vcpu, struct snap_section *s, char *err, size_t errlen)
{
	int kvm_fd = vcpu->vm->kvm_fd, ret = 0;
	struct vcpu_kvm_state st;
	uint8_t fpu_kind = 0, has_xcrs = 0;
	uint32_t nmsrs = 0;
	size_t xsize = snap_xsave_size(kvm_fd);
	size_t fsize = xsize ? xsize : sizeof(struct kvm_fpu);
	void *fpu = calloc(1, fsize);
	struct kvm_msrs *msrs = NULL;
	if (!fpu) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	get_blob(s, &st.regs, sizeof(st.regs));
	get_blob(s, &st.sregs, sizeof(st.sregs));
	snap_get_u8(s, &fpu_kind);
	if (fpu_kind != (xsize ? SNAP_FPU_XSAVE : SNAP_FPU_LEGACY)) {
		ret = -EINVAL;
		snprintf(err, errlen, "vCPU %u: FPU state saved as %s, this host's KVM uses %s",
			 vcpu->id, fpu_kind ? "XSAVE" : "legacy FPU",
			 xsize ? "XSAVE" : "legacy FPU");
		goto out;
	}
	get_blob(s, fpu, fsize);
	snap_get_u8(s, &has_xcrs);
	if (has_xcrs > 1)
		snap_fail(s);
	if (has_xcrs)
		get_blob(s, &st.xcrs, sizeof(st.xcrs));
	get_blob(s, &st.lapic, sizeof(st.lapic));
	get_blob(s, &st.events, sizeof(st.events));
	get_blob(s, &st.dregs, sizeof(st.dregs));
	memset(&st.mp, 0, sizeof(st.mp));
	snap_get_u32(s, &st.mp.mp_state);
	snap_get_u32(s, &nmsrs);
	if (s->failed || nmsrs > SNAP_MAX_MSRS || st.mp.mp_state > KVM_MP_STATE_AP_RESET_HOLD ||
	    (has_xcrs && st.xcrs.nr_xcrs > KVM_MAX_XCRS)) {
		ret = -EINVAL;
		snprintf(err, errlen, "vCPU %u: values out of range", vcpu->id);
		goto out;
	}
	msrs = snap_msrs_alloc(nmsrs);
	if (!msrs) {
		ret = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	msrs->nmsrs = nmsrs;
	for (uint32_t i = 0; i < nmsrs; i++) {
		uint64_t data = 0;
		snap_get_u32(s, &msrs->entries[i].index);
		snap_get_u64(s, &data);
		msrs->entries[i].data = data;
	}
	if (!snap_section_done(s)) {
		ret = -EINVAL;
		snprintf(err, errlen, "vCPU %u: section does not hold a vCPU's state", vcpu->id);
		goto out;
	}
	/* The order QEMU uses: sregs (APIC base) before MSRs and the LAPIC. */
	VCPU_IOCTL(KVM_SET_REGS, &st.regs, "KVM refused the saved registers");
	if (xsize)
		VCPU_IOCTL(KVM_SET_XSAVE, fpu, "KVM refused the saved XSAVE state");
	else
		VCPU_IOCTL(KVM_SET_FPU, fpu, "KVM refused the saved FPU state");
	if (has_xcrs && ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0)
		VCPU_IOCTL(KVM_SET_XCRS, &st.xcrs, "KVM refused the saved XCRs");
	VCPU_IOCTL(KVM_SET_SREGS, &st.sregs, "KVM refused the saved segment and control registers");
	if (snap_msrs_xfer(vcpu->fd, KVM_SET_MSRS, msrs) < 0) {
		ret = -ENOMEM;
		snprintf(err, errlen, "vCPU %u: out of memory writing MSRs", vcpu->id);
		goto out;
	}
	VCPU_IOCTL(KVM_SET_MP_STATE, &st.mp, "KVM refused the saved mp_state");
	VCPU_IOCTL(KVM_SET_LAPIC, &st.lapic, "KVM refused the saved LAPIC");
	snap_tsc_deadline_restore(vcpu->fd, msrs);
	st.events.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	VCPU_IOCTL(KVM_SET_VCPU_EVENTS, &st.events, "KVM refused the saved pending events");
	VCPU_IOCTL(KVM_SET_DEBUGREGS, &st.dregs, "KVM refused the saved debug registers");
out:
	free(fpu);
	free(msrs);
	return ret;
}

static const struct {
	uint32_t id;
	const char *name;
} snap_chips[] = {
    {KVM_IRQCHIP_PIC_MASTER, "PIC master"},
    {KVM_IRQCHIP_PIC_SLAVE, "PIC slave"},
    {KVM_IRQCHIP_IOAPIC, "IOAPIC"},
};

int snap_vm_save(struct vm *vm, struct snap_writer *w, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(snap_chips) / sizeof(snap_chips[0]); i++) {
		struct kvm_irqchip chip = {.chip_id = snap_chips[i].id};
		if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &chip) < 0) {
			snprintf(err, errlen, "KVM_GET_IRQCHIP %s: %s", snap_chips[i].name,
				 strerror(errno));
			return -errno;
		}
		snap_writer_begin_section(w, SNAP_SEC_IRQCHIP, chip.chip_id);
		put_blob(w, &chip.chip, sizeof(chip.chip));
		snap_writer_end_section(w);
	}
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock = {0};
	if (ioctl(vm->vm_fd, KVM_GET_PIT2, &pit) < 0 ||
	    ioctl(vm->vm_fd, KVM_GET_CLOCK, &clock) < 0) {
		snprintf(err, errlen, "KVM_GET_PIT2/KVM_GET_CLOCK: %s", strerror(errno));
		return -errno;
	}
	snap_writer_begin_section(w, SNAP_SEC_PIT, 0);
	put_blob(w, &pit, sizeof(pit));
	snap_writer_end_section(w);
	snap_writer_begin_section(w, SNAP_SEC_CLOCK, 0);
	snap_put_u64(w, clock.clock);
	snap_writer_end_section(w);
	return 0;
}

int snap_vm_restore(struct vm *vm, const struct snap_reader *r, uint64_t advance_ns, char *err,
		    size_t errlen)
{
	struct snap_section s;
	for (size_t i = 0; i < sizeof(snap_chips) / sizeof(snap_chips[0]); i++) {
		struct kvm_irqchip chip = {.chip_id = snap_chips[i].id};
		if (!snap_reader_find(r, SNAP_SEC_IRQCHIP, chip.chip_id, &s) ||
		    !get_blob(&s, &chip.chip, sizeof(chip.chip)) || !snap_section_done(&s)) {
			snprintf(err, errlen, "%s section missing or malformed",
				 snap_chips[i].name);
			return -EINVAL;
		}
		if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &chip) < 0) {
			snprintf(err, errlen, "KVM refused the saved %s: %s", snap_chips[i].name,
				 strerror(errno));
			return -errno;
		}
	}
	struct kvm_pit_state2 pit;
	if (!snap_reader_find(r, SNAP_SEC_PIT, 0, &s) || !get_blob(&s, &pit, sizeof(pit)) ||
	    !snap_section_done(&s)) {
		snprintf(err, errlen, "PIT section missing or malformed");
		return -EINVAL;
	}
	if (ioctl(vm->vm_fd, KVM_SET_PIT2, &pit) < 0) {
		snprintf(err, errlen, "KVM refused the saved PIT: %s", strerror(errno));
		return -errno;
	}
	struct kvm_clock_data clock = {0};
	uint64_t ns = 0;
	if (!snap_reader_find(r, SNAP_SEC_CLOCK, 0, &s) || !snap_get_u64(&s, &ns) ||
	    !snap_section_done(&s)) {
		snprintf(err, errlen, "clock section missing or malformed");
		return -EINVAL;
	}
	clock.clock = ns + advance_ns;
	if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0) {
		snprintf(err, errlen, "KVM_SET_CLOCK: %s", strerror(errno));
		return -errno;
	}
	return 0;
}
