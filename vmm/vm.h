/* SPDX-License-Identifier: MIT */
#ifndef INLAY_VM_H
#define INLAY_VM_H

#include "bus.h"
#include "evloop.h"
#include "guest_mem.h"

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/**
 * Exit status of inlay-vmm (documented in docs/VMM.md and --help).
 */
enum vm_exit_status {
	VM_EXIT_POWEROFF = 0,	  /* guest powered off or wrote 0 to the exit port */
	VM_EXIT_VMM_ERROR = 1,	  /* the VMM failed; stderr names the cause */
	VM_EXIT_USAGE = 2,	  /* bad command line */
	VM_EXIT_RESET = 3,	  /* guest asked for a reset (i8042) */
	VM_EXIT_GUEST_CRASH = 4,  /* triple fault, emulation failure, bad state */
	VM_EXIT_GUEST_FAILED = 5, /* guest wrote a non-zero status to the exit port */
	VM_EXIT_INTERRUPTED = 6,  /* SIGINT/SIGTERM or Ctrl-A x on the console */
};

struct vcpu;

struct vm {
	int kvm_fd;
	int vm_fd;
	struct guest_mem mem;
	struct bus pio;
	struct bus mmio;
	struct evloop *loop;
	unsigned nr_vcpus;
	struct vcpu **vcpus;

	pthread_mutex_t routes_lock;
	struct kvm_irq_routing *routes; /* IOAPIC/PIC pins plus MSI routes */
	uint32_t next_gsi;

	atomic_bool exiting;

	/* vm_pause()/vm_resume(): vCPU threads park at a clean point. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	atomic_bool pause_requested;
	unsigned parked;
};

/**
 * Open /dev/kvm, create the VM with @mem_size bytes of RAM, the in-kernel
 * IOAPIC/PIC/LAPIC and PIT, and an event loop. Returns 0 or -errno, with a
 * message on stderr naming the cause.
 */
int vm_init(struct vm *vm, uint64_t mem_size);
/**
 * vm_init() with RAM taken from @mem_fd (a snapshot's memory file, mapped
 * privately; see guest_mem_init_file()). Takes @mem_fd.
 */
int vm_init_from_file(struct vm *vm, uint64_t mem_size, int mem_fd);
/** Tear everything down; vCPU threads must already be stopped. */
void vm_finish(struct vm *vm);

/** Drive an IOAPIC/PIC input (an ISA IRQ line) to @level. */
int vm_irq_line(struct vm *vm, uint32_t gsi, int level);

/**
 * Allocate a GSI for an MSI vector with an irqfd bound to it. *@efd is the
 * eventfd to write to raise the interrupt. The route starts masked (no
 * entry) until vm_msi_route() gives it an address. Returns GSI or -errno.
 */
int vm_msi_alloc(struct vm *vm, int *efd);
/** Point @gsi at MSI @addr/@data. Returns 0 or -errno. */
int vm_msi_route(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data);

/**
 * (Un)register an ioeventfd: guest writes of @len bytes to @addr (port I/O
 * when @pio) signal @fd instead of exiting to userspace.
 */
int vm_ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, int fd, bool pio, bool assign);

/**
 * Stop every started vCPU at a clean point: each leaves KVM_RUN, finishes
 * the exit it was handling (a pending port or MMIO read is completed inside
 * KVM) and parks. Returns 0 once all are parked, or -ECANCELED when the VM
 * is exiting. Not from a vCPU thread.
 */
int vm_pause(struct vm *vm);
/** Let parked vCPUs run again. */
void vm_resume(struct vm *vm);

/** Ask the whole VMM to stop with @status; the first call wins. Any thread. */
void vm_request_exit(struct vm *vm, enum vm_exit_status status);

#endif
