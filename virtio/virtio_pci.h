/* SPDX-License-Identifier: MIT */
#ifndef INLAY_VIRTIO_PCI_H
#define INLAY_VIRTIO_PCI_H

#include "virtio.h"
#include "../vmm/pci.h"
#include "../vmm/vm.h"

struct virtio_pci;

/**
 * The VM services the transport needs (vm.h's functions in the VMM; unit
 * tests pass fakes). vm->loop is where queue notifications are watched.
 */
struct virtio_pci_vm_ops {
	int (*msi_alloc)(struct vm *vm, int *efd);
	int (*msi_route)(struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data);
	int (*ioeventfd)(struct vm *vm, uint64_t addr, uint32_t len, int fd, bool pio, bool assign);
};

/**
 * Expose @dev as a modern (virtio 1.x) PCI function with MSI-X on @pb:
 * common/notify/ISR/device/pci-cfg capabilities in BAR 0, MSI-X table and
 * PBA in BAR 0, irqfd per vector, ioeventfd per queue notify address.
 * Returns NULL on failure, with a message.
 */
struct virtio_pci *virtio_pci_create(struct vm *vm, struct pci_bus *pb, struct virtio_dev *dev);
/** virtio_pci_create() with the VM reached through @ops. */
struct virtio_pci *virtio_pci_create_ops(struct vm *vm, const struct virtio_pci_vm_ops *ops,
					 struct pci_bus *pb, struct virtio_dev *dev);
/**
 * Safe on NULL. Does not destroy the device. Closes the irqfd eventfds that
 * vm_msi_alloc() returned.
 */
void virtio_pci_destroy(struct virtio_pci *vp);

/**
 * Snapshots: the function's config space, MSI-X table and PBA, transport
 * registers (status, features, selectors, ISR) and every queue, appended
 * to the open section of @w. vCPUs paused, event-loop thread.
 */
void virtio_pci_save(struct virtio_pci *vp, struct snap_writer *w);
/**
 * Take it back into a transport created for the same kind of device,
 * validating each value as if the guest had written it (vectors, queue
 * sizes, features, ring placement). Re-arms BAR mappings, ioeventfds and MSI
 * routes and then signals every live queue once, so a kick that was in
 * flight at save time is not lost. Returns false on bad state.
 */
bool virtio_pci_restore(struct virtio_pci *vp, struct snap_section *s);

#endif
