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

#endif
