// SPDX-License-Identifier: MIT
#include "vcpu.h"
#include "layout.h"
#include "vm.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define VCPU_KICK_SIGNAL SIGUSR1

#define MSR_IA32_MISC_ENABLE	0x000001a0
#define MISC_ENABLE_FAST_STRING (1ULL << 0)

#define APIC_LVT0	 0x350
#define APIC_LVT1	 0x360
#define APIC_MODE_NMI	 0x4
#define APIC_MODE_EXTINT 0x7

static void vcpu_kick_handler(int sig)
{
	(void)sig;
}

int vcpu_signals_init(void)
{
	struct sigaction sa = {.sa_handler = vcpu_kick_handler};
	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return -errno;
	/* Only vCPU threads take the kick: they unblock it in vcpu_thread(). */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void apic_set_lvt(struct kvm_lapic_state *lapic, unsigned reg, uint32_t mode)
{
	uint32_t v;
	memcpy(&v, &lapic->regs[reg], 4);
	v = (v & ~0x700u) | (mode << 8);
	memcpy(&lapic->regs[reg], &v, 4);
}

/* Wire LINT0 to the PIC (ExtINT) and LINT1 to NMI, as PC firmware does. */
static int vcpu_setup_lapic(struct vcpu *vcpu)
{
	struct kvm_lapic_state lapic;
	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		return -errno;
	apic_set_lvt(&lapic, APIC_LVT0, APIC_MODE_EXTINT);
	apic_set_lvt(&lapic, APIC_LVT1, APIC_MODE_NMI);
	return ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) < 0 ? -errno : 0;
}

static int vcpu_setup_msrs(struct vcpu *vcpu)
{
	/* struct kvm_msrs ends in a flexible array: give it room for one entry. */
	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
	} buf = {0};
	buf.hdr.nmsrs = 1;
	buf.hdr.entries[0] = (struct kvm_msr_entry){
	    .index = MSR_IA32_MISC_ENABLE,
	    .data = MISC_ENABLE_FAST_STRING,
	};
	return ioctl(vcpu->fd, KVM_SET_MSRS, &buf) == 1 ? 0 : -EIO;
}

static int vcpu_setup_fpu(struct vcpu *vcpu)
{
	struct kvm_fpu fpu = {.fcw = 0x37f, .mxcsr = 0x1f80};
	return ioctl(vcpu->fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

struct vcpu *vcpu_create(struct vm *vm, unsigned id, enum cpu_template tmpl)
{
	struct vcpu *vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu)
		return NULL;
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (vcpu->fd < 0) {
		fprintf(stderr, "inlay-vmm: KVM_CREATE_VCPU %u: %s\n", id, strerror(errno));
		goto err_free;
	}
	int sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run)) {
		fprintf(stderr, "inlay-vmm: KVM_GET_VCPU_MMAP_SIZE: %s\n", strerror(errno));
		goto err_close;
	}
	vcpu->run_size = (size_t)sz;
	vcpu->run = mmap(NULL, vcpu->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		fprintf(stderr, "inlay-vmm: mmap of vCPU %u: %s\n", id, strerror(errno));
		goto err_close;
	}
	int ret = cpuid_setup_vcpu(vm->kvm_fd, vcpu->fd, id, vm->nr_vcpus, tmpl);
	const char *what = "CPUID";
	if (ret == 0) {
		what = "MSRs";
		ret = vcpu_setup_msrs(vcpu);
	}
	if (ret == 0) {
		what = "FPU";
		ret = vcpu_setup_fpu(vcpu);
	}
	if (ret == 0) {
		what = "LAPIC";
		ret = vcpu_setup_lapic(vcpu);
	}
	if (ret < 0) {
		fprintf(stderr, "inlay-vmm: vCPU %u %s setup: %s\n", id, what, strerror(-ret));
		goto err_unmap;
	}
	return vcpu;
err_unmap:
	munmap(vcpu->run, vcpu->run_size);
err_close:
	close(vcpu->fd);
err_free:
	free(vcpu);
	return NULL;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (!vcpu)
		return;
	munmap(vcpu->run, vcpu->run_size);
	close(vcpu->fd);
	free(vcpu);
}

static void seg_flat(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code64)
{
	*s = (struct kvm_segment){
	    .base = 0,
	    .limit = 0xffffffff,
	    .selector = sel,
	    .type = type,
	    .present = 1,
	    .dpl = 0,
	    .db = code64 ? 0 : 1,
	    .s = 1,
	    .l = code64 ? 1 : 0,
	    .g = 1,
	};
}

int vcpu_set_boot_state(struct vcpu *vcpu, const struct boot_entry *e)
{
	struct kvm_sregs sregs;
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	bool long_mode = e->mode == BOOT_MODE_LINUX64;
	seg_flat(&sregs.cs, e->cs, 0xb, long_mode);
	seg_flat(&sregs.ds, e->ds, 0x3, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = e->gdt;
	sregs.gdt.limit = BOOT_GDT_ENTRIES * 8 - 1;
	if (long_mode) {
		/* PE | MP | ET | NE | WP | PG */
		sregs.cr0 = 0x80050033;
		sregs.cr3 = e->cr3;
		sregs.cr4 = 1u << 5;		     /* PAE */
		sregs.efer = (1u << 8) | (1u << 10); /* LME | LMA */
	} else {
		/* PVH: protected mode, paging off */
		sregs.cr0 = 0x11; /* PE | ET */
		sregs.cr3 = 0;
		sregs.cr4 = 0;
		sregs.efer = 0;
	}
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	struct kvm_regs regs = {
	    .rip = e->rip,
	    .rsi = e->rsi,
	    .rbx = e->rbx,
	    .rsp = e->rsp,
	    .rflags = 0x2,
	};
	return ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0 ? -errno : 0;
}

/* Report why the guest cannot go on and ask the VM to stop; returns false for the run loop. */
__attribute__((format(printf, 2, 3))) static bool vcpu_crash(struct vcpu *vcpu, const char *fmt,
							     ...)
{
	struct kvm_regs regs = {0};
	struct kvm_sregs sregs = {0};
	char why[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	ioctl(vcpu->fd, KVM_GET_REGS, &regs);
	ioctl(vcpu->fd, KVM_GET_SREGS, &sregs);
	fprintf(stderr,
		"inlay-vmm: vCPU %u: %s at rip 0x%llx (cs 0x%x, cr0 0x%llx, cr3 0x%llx, "
		"cr4 0x%llx, efer 0x%llx, rsp 0x%llx)\n",
		vcpu->id, why, (unsigned long long)regs.rip, sregs.cs.selector,
		(unsigned long long)sregs.cr0, (unsigned long long)sregs.cr3,
		(unsigned long long)sregs.cr4, (unsigned long long)sregs.efer,
		(unsigned long long)regs.rsp);
	vm_request_exit(vcpu->vm, VM_EXIT_GUEST_CRASH);
	return false;
}

static void vcpu_handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t size = run->io.size;
	/* KVM placed data_offset/size/count in the shared page itself. */
	if (size == 0 || size > 4 || run->io.data_offset > vcpu->run_size ||
	    (uint64_t)size * run->io.count > vcpu->run_size - run->io.data_offset)
		return;
	for (uint32_t i = 0; i < run->io.count; i++, data += size)
		bus_access(&vcpu->vm->pio, run->io.port, data, size, is_write);
}

static void vcpu_handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint32_t len = run->mmio.len;
	if (len == 0 || len > sizeof(run->mmio.data))
		return;
	bus_access(&vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data, len, run->mmio.is_write);
}

/* Returns false when the VM must stop; the status is already requested. */
static bool vcpu_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		vcpu_handle_mmio(vcpu);
		return true;
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		return true;
	case KVM_EXIT_HLT:
		/* Only reached without an in-kernel LAPIC; treat as power off. */
		vm_request_exit(vm, VM_EXIT_POWEROFF);
		return false;
	case KVM_EXIT_SHUTDOWN:
		return vcpu_crash(vcpu, "triple fault");
	case KVM_EXIT_SYSTEM_EVENT:
		if (run->system_event.type == KVM_SYSTEM_EVENT_RESET) {
			vm_request_exit(vm, VM_EXIT_RESET);
			return false;
		}
		if (run->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN) {
			vm_request_exit(vm, VM_EXIT_POWEROFF);
			return false;
		}
		return vcpu_crash(vcpu, "system event");
	case KVM_EXIT_INTERNAL_ERROR:
		return vcpu_crash(vcpu, "KVM internal error %u", run->internal.suberror);
	case KVM_EXIT_FAIL_ENTRY:
		return vcpu_crash(
		    vcpu, "entry failure 0x%llx",
		    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	default:
		return vcpu_crash(vcpu, "unexpected exit reason %u", run->exit_reason);
	}
}

/*
 * Park until vm_resume(). The exit just handled may have been a port or
 * MMIO read whose data KVM has not yet put into the guest's registers:
 * re-entering KVM_RUN with immediate_exit set completes it without running
 * guest code, so the state a snapshot reads is at an instruction boundary.
 */
static void vcpu_park(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	vcpu->run->immediate_exit = 1;
	/* Completing a string I/O instruction may need another exit handled. */
	while (ioctl(vcpu->fd, KVM_RUN, 0) == 0 && vcpu_handle_exit(vcpu))
		;
	vcpu->run->immediate_exit = 0;
	pthread_mutex_lock(&vm->pause_lock);
	vm->parked++;
	pthread_cond_broadcast(&vm->pause_cond);
	while (atomic_load(&vm->pause_requested) && !atomic_load(&vm->exiting))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->parked--;
	pthread_mutex_unlock(&vm->pause_lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	char name[16];
	snprintf(name, sizeof(name), "vcpu%u", vcpu->id);
	pthread_setname_np(pthread_self(), name);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	while (!atomic_load(&vm->exiting)) {
		if (atomic_load(&vm->pause_requested)) {
			vcpu_park(vcpu);
			continue;
		}
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				vcpu->run->immediate_exit = 0;
				continue;
			}
			fprintf(stderr, "inlay-vmm: vCPU %u: KVM_RUN: %s\n", vcpu->id,
				strerror(errno));
			vm_request_exit(vm, VM_EXIT_VMM_ERROR);
			break;
		}
		if (!vcpu_handle_exit(vcpu))
			break;
	}
	/* A vm_pause() waiting for this thread gives up once the VM exits. */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	int ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	if (ret)
		return -ret;
	vcpu->started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu || !vcpu->started)
		return;
	/* immediate_exit covers a kick that lands just before KVM_RUN. */
	vcpu->run->immediate_exit = 1;
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *vcpu)
{
	if (!vcpu || !vcpu->started)
		return;
	pthread_join(vcpu->thread, NULL);
	vcpu->started = false;
}
