/* SPDX-License-Identifier: MIT */
#ifndef INLAY_VIRTIO_PCI_H
#define INLAY_VIRTIO_PCI_H

#include "virtio.h"
#include "../vmm/pci.h"
#include "../vmm/vm.h"

struct virtio_pci;

/**
 * Expose @dev as a modern (virtio 1.x) PCI function with MSI-X on @pb:
 * common/notify/ISR/device/pci-cfg capabilities in BAR 0, MSI-X table and
 * PBA in BAR 0, irqfd per vector, ioeventfd per queue notify address.
 * Returns NULL on failure, with a message.
 */
struct virtio_pci *virtio_pci_create(struct vm *vm, struct pci_bus *pb, struct virtio_dev *dev);
/** Safe on NULL. Does not destroy the device. */
void virtio_pci_destroy(struct virtio_pci *vp);

#endif
