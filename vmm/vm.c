// SPDX-License-Identifier: MIT
#include "vm.h"
#include "layout.h"
#include "vcpu.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define VM_MAX_ROUTES 1024

static const struct {
	int cap;
	const char *name;
} vm_required_caps[] = {
    {KVM_CAP_IRQCHIP, "in-kernel irqchip"},
    {KVM_CAP_PIT2, "in-kernel PIT"},
    {KVM_CAP_IRQFD, "irqfd"},
    {KVM_CAP_IOEVENTFD, "ioeventfd"},
    {KVM_CAP_IRQ_ROUTING, "GSI routing"},
    {KVM_CAP_USER_MEMORY, "user memory"},
    {KVM_CAP_SET_TSS_ADDR, "TSS address"},
    {KVM_CAP_EXT_CPUID, "CPUID"},
    {KVM_CAP_IMMEDIATE_EXIT, "immediate exit"},
};

static int vm_set_region(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region r = {
	    .slot = slot,
	    .guest_phys_addr = gpa,
	    .memory_size = size,
	    .userspace_addr = (uint64_t)(uintptr_t)host,
	};
	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0 ? -errno : 0;
}

/* One set-up ioctl on the VM, saying which one failed. */
static int vm_setup_ioctl(struct vm *vm, unsigned long req, unsigned long arg, const char *name)
{
	if (ioctl(vm->vm_fd, req, arg) >= 0)
		return 0;
	int ret = -errno;
	fprintf(stderr, "inlay-vmm: %s: %s\n", name, strerror(-ret));
	return ret;
}

static int vm_commit_routes(struct vm *vm)
{
	return ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, vm->routes) < 0 ? -errno : 0;
}

/*
 * KVM_SET_GSI_ROUTING replaces the whole table, so the default IOAPIC and
 * PIC pin routes KVM installs with the irqchip are rebuilt here and kept.
 */
static int vm_init_routes(struct vm *vm)
{
	vm->routes =
	    calloc(1, sizeof(*vm->routes) + VM_MAX_ROUTES * sizeof(vm->routes->entries[0]));
	if (!vm->routes)
		return -ENOMEM;
	struct kvm_irq_routing_entry *e = vm->routes->entries;
	uint32_t n = 0;
	for (uint32_t gsi = 0; gsi < LAYOUT_IOAPIC_PINS; gsi++) {
		e[n++] = (struct kvm_irq_routing_entry){
		    .gsi = gsi,
		    .type = KVM_IRQ_ROUTING_IRQCHIP,
		    .u.irqchip = {.irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi},
		};
		if (gsi < 16)
			e[n++] = (struct kvm_irq_routing_entry){
			    .gsi = gsi,
			    .type = KVM_IRQ_ROUTING_IRQCHIP,
			    .u.irqchip = {.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
							     : KVM_IRQCHIP_PIC_SLAVE,
					  .pin = gsi % 8},
			};
	}
	vm->routes->nr = n;
	vm->next_gsi = LAYOUT_IOAPIC_PINS;
	return vm_commit_routes(vm);
}

static int vm_init_mem(struct vm *vm, uint64_t mem_size, int mem_fd)
{
	int ret;
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = -1;
	vm->mem.fd = -1;
	pthread_mutex_init(&vm->routes_lock, NULL);
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	bus_init(&vm->pio);
	bus_init(&vm->mmio);

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0) {
		ret = -errno;
		fprintf(stderr, "inlay-vmm: cannot open /dev/kvm: %s\n", strerror(errno));
		goto err;
	}
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		ret = -ENOTSUP;
		fprintf(stderr, "inlay-vmm: /dev/kvm speaks an unsupported API version\n");
		goto err;
	}
	for (size_t i = 0; i < sizeof(vm_required_caps) / sizeof(vm_required_caps[0]); i++) {
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, vm_required_caps[i].cap) <= 0) {
			ret = -ENOTSUP;
			fprintf(stderr, "inlay-vmm: KVM lacks %s\n", vm_required_caps[i].name);
			goto err;
		}
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = -errno;
		fprintf(stderr, "inlay-vmm: KVM_CREATE_VM: %s\n", strerror(errno));
		goto err;
	}
	fcntl(vm->vm_fd, F_SETFD, FD_CLOEXEC);
	uint64_t idmap = LAYOUT_IDENTITY_MAP;
	ret = vm_setup_ioctl(vm, KVM_SET_TSS_ADDR, LAYOUT_TSS, "KVM_SET_TSS_ADDR");
	if (ret == 0)
		ret = vm_setup_ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, (unsigned long)&idmap,
				     "KVM_SET_IDENTITY_MAP_ADDR");
	if (ret < 0)
		goto err;
	/*
	 * RAM goes in before the irqchip: once the irqchip exists, a memslot
	 * change waits for an SRCU grace period (milliseconds of start time).
	 */
	ret = mem_fd >= 0 ? guest_mem_init_file(&vm->mem, mem_size, mem_fd)
			  : guest_mem_init(&vm->mem, mem_size);
	mem_fd = -1;
	if (ret < 0) {
		fprintf(stderr, "inlay-vmm: guest RAM of %llu MiB: %s\n",
			(unsigned long long)(mem_size >> 20), strerror(-ret));
		goto err;
	}
	ret = vm_set_region(vm, 0, 0, vm->mem.low_size, vm->mem.host);
	if (ret == 0 && guest_mem_high_size(&vm->mem))
		ret = vm_set_region(vm, 1, LAYOUT_HIGH_RAM, guest_mem_high_size(&vm->mem),
				    vm->mem.host + vm->mem.low_size);
	if (ret < 0) {
		fprintf(stderr, "inlay-vmm: KVM_SET_USER_MEMORY_REGION: %s\n", strerror(-ret));
		goto err;
	}
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	ret = vm_setup_ioctl(vm, KVM_CREATE_IRQCHIP, 0, "KVM_CREATE_IRQCHIP");
	if (ret == 0)
		ret = vm_setup_ioctl(vm, KVM_CREATE_PIT2, (unsigned long)&pit, "KVM_CREATE_PIT2");
	if (ret < 0)
		goto err;
	ret = vm_init_routes(vm);
	if (ret < 0) {
		fprintf(stderr, "inlay-vmm: GSI routing: %s\n", strerror(-ret));
		goto err;
	}
	vm->loop = evloop_create();
	if (!vm->loop) {
		ret = -ENOMEM;
		fprintf(stderr, "inlay-vmm: cannot create the event loop\n");
		goto err;
	}
	return 0;
err:
	if (mem_fd >= 0)
		close(mem_fd);
	vm_finish(vm);
	return ret;
}

int vm_init(struct vm *vm, uint64_t mem_size)
{
	return vm_init_mem(vm, mem_size, -1);
}

int vm_init_from_file(struct vm *vm, uint64_t mem_size, int mem_fd)
{
	return vm_init_mem(vm, mem_size, mem_fd);
}

void vm_finish(struct vm *vm)
{
	evloop_destroy(vm->loop);
	vm->loop = NULL;
	guest_mem_finish(&vm->mem);
	free(vm->routes);
	vm->routes = NULL;
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->vm_fd = vm->kvm_fd = -1;
	bus_finish(&vm->pio);
	bus_finish(&vm->mmio);
	pthread_mutex_destroy(&vm->routes_lock);
	pthread_mutex_destroy(&vm->pause_lock);
	pthread_cond_destroy(&vm->pause_cond);
}

int vm_irq_line(struct vm *vm, uint32_t gsi, int level)
{
	struct kvm_irq_level irq = {.irq = gsi, .level = level};
	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0 ? -errno : 0;
}

int vm_msi_alloc(struct vm *vm, int *efd)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	int ret = -ENOSPC;
	pthread_mutex_lock(&vm->routes_lock);
	if (vm->next_gsi < VM_MAX_ROUTES) {
		/* An irqfd on a GSI without a route is inert until vm_msi_route(). */
		struct kvm_irqfd irqfd = {.fd = (uint32_t)fd, .gsi = vm->next_gsi};
		ret = ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0 ? -errno : (int)vm->next_gsi++;
	}
	pthread_mutex_unlock(&vm->routes_lock);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	*efd = fd;
	return ret;
}

int vm_msi_route(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data)
{
	struct kvm_irq_routing_entry entry = {
	    .gsi = gsi,
	    .type = KVM_IRQ_ROUTING_MSI,
	    .u.msi = {.address_lo = (uint32_t)addr,
		      .address_hi = (uint32_t)(addr >> 32),
		      .data = data},
	};
	int ret;
	pthread_mutex_lock(&vm->routes_lock);
	uint32_t i;
	for (i = 0; i < vm->routes->nr; i++)
		if (vm->routes->entries[i].gsi == gsi)
			break;
	if (i == vm->routes->nr) {
		if (vm->routes->nr == VM_MAX_ROUTES) {
			ret = -ENOSPC;
			goto out;
		}
		vm->routes->nr++;
	}
	vm->routes->entries[i] = entry;
	ret = vm_commit_routes(vm);
out:
	pthread_mutex_unlock(&vm->routes_lock);
	return ret;
}

int vm_ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, int fd, bool pio, bool assign)
{
	/*
	 * Each deassign waits for an SRCU grace period; when the whole VM is
	 * going away its destruction drops every ioeventfd at once instead.
	 */
	if (!assign && atomic_load(&vm->exiting))
		return 0;
	struct kvm_ioeventfd io = {
	    .addr = addr,
	    .len = len,
	    .fd = fd,
	    .flags =
		(pio ? KVM_IOEVENTFD_FLAG_PIO : 0) | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};
	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

int vm_pause(struct vm *vm)
{
	unsigned started = 0;
	atomic_store(&vm->pause_requested, true);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		started += vm->vcpus[i]->started;
		vcpu_kick(vm->vcpus[i]);
	}
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->parked < started && !atomic_load(&vm->exiting))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	int ret = vm->parked < started ? -ECANCELED : 0;
	pthread_mutex_unlock(&vm->pause_lock);
	return ret;
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	atomic_store(&vm->pause_requested, false);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

void vm_request_exit(struct vm *vm, enum vm_exit_status status)
{
	atomic_store(&vm->exiting, true);
	/* Wake vm_pause() and parked vCPUs: both give up on an exiting VM. */
	pthread_mutex_lock(&vm->pause_lock);
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	evloop_stop(vm->loop, (int)status);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(vm->vcpus[i]);
}
